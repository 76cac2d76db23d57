// `resolverctl explain` from the inside: the engine, iterator and validator report
// every step of a resolution on the signed fake hierarchy to an ExplainTrace, and the
// report (and its text) shows each zone cut with the DS, DNSKEY and RRSIG records
// that made it secure, insecure or bogus, the servers asked and what they answered.
#include <gtest/gtest.h>

#include "dnssec/rrsig.h"
#include "resolver/server/explain_text.h"
#include "resolver/server/explain_trace.h"
#include "tests/scenario/signed_fake_server.h"

namespace rsv::testing {
namespace {

const SignedHierarchy &standard() {
  static const SignedHierarchy kStandard = SignedHierarchy::standard();
  return kStandard;
}

// The signed network with a trace attached to the engine and the validator.
struct Traced {
  SignedNetwork h{standard()};
  std::unique_ptr<ExplainTrace> trace;

  nlohmann::json explain(const std::string &name, uint16_t type) {
    Question question{*Name::from_text(name), type, rrclass::IN};
    trace = std::make_unique<ExplainTrace>(h.clock, question, false);
    h.validator.trace = trace.get();
    h.engine = std::make_unique<Engine>(EngineEnv{h.rrsets, h.infra, h.clock, h.random, h.config, h.hints,
                                                  &h.validator, &h.non_cuts, nullptr, trace.get()},
                                        h.net);
    h.resolve(name, type);
    EXPECT_TRUE(trace->done());
    return trace->report(nlohmann::json::object());
  }
};

const nlohmann::json *zone_of(const nlohmann::json &report, const std::string &zone) {
  for (const auto &entry : report["chain"])
    if (entry["zone"] == zone) return &entry;
  return nullptr;
}

uint16_t tag_of(const char *zone, bool ksk) {
  const HierarchyZone &z = standard().zone(*Name::from_text(zone));
  return key_tag((ksk ? z.ksk() : z.zsk()).dnskey().rdata);
}

bool has_key_tag(const nlohmann::json &list, uint16_t tag) {
  for (const auto &item : list)
    if (item.value("key_tag", -1) == tag) return true;
  return false;
}

TEST(ExplainTrace, SecureAnswerShowsEveryCutWithItsDsKeysAndSignatures) {
  Traced t;
  nlohmann::json report = t.explain("www.nsec.test.", rrtype::A);
  EXPECT_EQ(report["verdict"]["rcode"], "NOERROR");
  EXPECT_EQ(report["verdict"]["security"], "secure");
  // The chain from the anchor down, shallowest first.
  ASSERT_GE(report["chain"].size(), 3u);
  EXPECT_EQ(report["chain"][0]["zone"], ".");
  EXPECT_EQ(report["chain"][1]["zone"], "test.");
  EXPECT_EQ(report["chain"][2]["zone"], "nsec.test.");
  for (const char *zone : {".", "test.", "nsec.test."}) {
    const nlohmann::json *entry = zone_of(report, zone);
    ASSERT_NE(entry, nullptr) << zone;
    EXPECT_EQ((*entry)["status"], "secure") << zone;
    EXPECT_TRUE((*entry)["on_path"].get<bool>()) << zone;
    // DS (or the anchor's DS) -> KSK, which signs the DNSKEY set; the ZSK is listed.
    EXPECT_TRUE(has_key_tag((*entry)["ds"], tag_of(zone, true))) << zone << (*entry).dump();
    EXPECT_TRUE(has_key_tag((*entry)["dnskeys"], tag_of(zone, true))) << zone;
    EXPECT_TRUE(has_key_tag((*entry)["dnskeys"], tag_of(zone, false))) << zone;
    EXPECT_TRUE(has_key_tag((*entry)["dnskey_signatures"], tag_of(zone, true))) << zone;
    EXPECT_FALSE((*entry)["servers"].empty()) << zone;
    // Why it is secure, in a line: the DS tag that matches a KSK signing the set.
    const std::string ksk = std::to_string(tag_of(zone, true));
    EXPECT_NE((*entry)["reason"].get<std::string>().find(ksk + " -> DNSKEY " + ksk), std::string::npos)
        << (*entry)["reason"];
  }
  EXPECT_TRUE((*zone_of(report, "."))["trust_anchor"].get<bool>());
  // The DS of nsec.test. is signed by test.'s ZSK.
  EXPECT_TRUE(has_key_tag((*zone_of(report, "nsec.test."))["ds_signatures"], tag_of("test.", false)));
  // The answer RRset, judged secure in nsec.test. with the ZSK's signature.
  bool judged = false;
  for (const auto &set : report["rrsets"])
    if (set["owner"] == "www.nsec.test." && set["type"] == "A") {
      judged = true;
      EXPECT_EQ(set["security"], "secure");
      EXPECT_EQ(set["zone"], "nsec.test.");
      EXPECT_TRUE(has_key_tag(set["signatures"], tag_of("nsec.test.", false)));
      EXPECT_EQ(set["signatures"][0]["timing"], "valid");
    }
  EXPECT_TRUE(judged) << report["rrsets"].dump();
  // Each server asked, with what it answered.
  bool referral = false, answer = false;
  for (const auto &step : report["steps"]) {
    if (step["kind"] != "query") continue;
    EXPECT_TRUE(step.contains("rcode")) << step.dump();
    const std::string verdict = step.value("verdict", "");
    referral = referral || (step["server"] == "127.10.1.1@53" && verdict.rfind("referral to nsec.test.", 0) == 0);
    answer = answer || (step["server"] == "127.10.2.1@53" && step["question"] == "www.nsec.test. A" &&
                        verdict.rfind("answer", 0) == 0);
  }
  EXPECT_TRUE(referral && answer) << report["steps"].dump(1);
  EXPECT_GT(report["upstream_queries"].get<int>(), 0);
  EXPECT_NE(report["budgets"].get<std::string>().find("upstream queries"), std::string::npos);

  const std::string text = render_explain_text(report);
  EXPECT_NE(text.find(";; VERDICT: NOERROR, secure"), std::string::npos) << text;
  EXPECT_NE(text.find("DS      " + std::to_string(tag_of("nsec.test.", true)) + " ECDSAP256SHA256 SHA-256"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("www.nsec.test. A"), std::string::npos) << text;
}

TEST(ExplainTrace, InsecureDelegationShowsTheParentsProofOfNoDs) {
  Traced t;
  nlohmann::json report = t.explain("www.insecure.test.", rrtype::A);
  EXPECT_EQ(report["verdict"]["security"], "insecure");
  const nlohmann::json *entry = zone_of(report, "insecure.test.");
  ASSERT_NE(entry, nullptr) << report["chain"].dump(1);
  EXPECT_EQ((*entry)["status"], "insecure");
  EXPECT_TRUE((*entry)["ds"].empty());
  ASSERT_FALSE((*entry)["denial"].empty());  // test.'s NSEC: NS without DS
  EXPECT_NE((*entry)["denial"][0].get<std::string>().find("NSEC"), std::string::npos);
  EXPECT_NE((*entry)["reason"].get<std::string>().find("unsigned"), std::string::npos) << (*entry).dump();
  EXPECT_EQ((*zone_of(report, "test."))["status"], "secure");
}

TEST(ExplainTrace, BogusAnswerNamesTheFailingRRsetAndItsEde) {
  Traced t;
  // The answer's signature is damaged in flight: the RRset fails in nsec.test.
  t.h.net.server("127.10.2.1").forge = [&](const Message &query) -> std::optional<Message> {
    const Question *q = query.question();
    if (!q || q->qtype != rrtype::A || q->name != *Name::from_text("www.nsec.test.")) return std::nullopt;
    Message reply = t.h.honest("127.10.2.1", query);
    for (auto &rr : reply.answer)
      if (rr.type == rrtype::RRSIG) rr.rdata.back() = static_cast<char>(rr.rdata.back() ^ 0x01);
    return reply;
  };
  nlohmann::json report = t.explain("www.nsec.test.", rrtype::A);
  EXPECT_EQ(report["verdict"]["rcode"], "SERVFAIL");
  EXPECT_EQ(report["verdict"]["security"], "bogus");
  ASSERT_TRUE(report["verdict"]["ede"].is_object());
  EXPECT_EQ(report["verdict"]["ede"]["code"], ede::DNSSEC_BOGUS);
  bool failed = false;
  for (const auto &set : report["rrsets"])
    if (set["owner"] == "www.nsec.test." && set["type"] == "A") {
      failed = set["security"] == "bogus" && set["ede"].is_object() && set["zone"] == "nsec.test.";
    }
  EXPECT_TRUE(failed) << report["rrsets"].dump(1);
  // The zone itself is fine: it is the data that failed.
  EXPECT_EQ((*zone_of(report, "nsec.test."))["status"], "secure");
  const std::string text = render_explain_text(report);
  EXPECT_NE(text.find("SERVFAIL, BOGUS"), std::string::npos) << text;
  EXPECT_NE(text.find("EDE 6 (DNSSEC Bogus)"), std::string::npos) << text;
}

TEST(ExplainTrace, BogusZoneIsMarkedAtItsCutWithTheReason) {
  Traced t;
  // nsec.test.'s DNSKEY set loses its signatures: the cut itself is bogus (RFC 4035 5.2).
  t.h.net.server("127.10.2.1").forge = [&](const Message &query) -> std::optional<Message> {
    const Question *q = query.question();
    if (!q || q->qtype != rrtype::DNSKEY) return std::nullopt;
    Message reply = t.h.honest("127.10.2.1", query);
    std::erase_if(reply.answer, [](const ResourceRecord &rr) { return rr.type == rrtype::RRSIG; });
    return reply;
  };
  nlohmann::json report = t.explain("www.nsec.test.", rrtype::A);
  EXPECT_EQ(report["verdict"]["security"], "bogus");
  const nlohmann::json *entry = zone_of(report, "nsec.test.");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ((*entry)["status"], "bogus");
  EXPECT_TRUE((*entry)["ede"].is_object());
  EXPECT_FALSE((*entry)["reason"].get<std::string>().empty());
  EXPECT_TRUE((*entry)["dnskey_signatures"].empty());
  EXPECT_EQ((*zone_of(report, "test."))["status"], "secure");
}

TEST(ExplainTrace, TimeoutsAreStepsWithTheirReason) {
  Traced t;
  t.h.net.server("127.10.2.1").behaviour = ServerBehaviour::silent;
  nlohmann::json report = t.explain("www.nsec.test.", rrtype::A);
  EXPECT_EQ(report["verdict"]["rcode"], "SERVFAIL");
  size_t timeouts = 0;
  for (const auto &step : report["steps"])
    if (step["kind"] == "query" && step["server"] == "127.10.2.1@53")
      timeouts += step.value("failure", "").rfind("timeout after", 0) == 0;
  EXPECT_GE(timeouts, 1u) << report["steps"].dump(1);
  const nlohmann::json *entry = zone_of(report, "nsec.test.");
  ASSERT_NE(entry, nullptr);
  ASSERT_FALSE((*entry)["servers"].empty());
  EXPECT_GE((*entry)["servers"][0]["failures"].get<int>(), 1);
}

}  // namespace
}  // namespace rsv::testing
