// The RFC 5011 state file: what is written reads back the same, and whatever else is
// found (truncated, edited, another program's file) is refused with a reason.
#include "dnssec/rfc5011_state.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dnssec/rrsig.h"
#include "tests/support/zone_signer.h"

namespace rsv {
namespace {

using testing::KeyRole;
using testing::SignatureWindow;
using testing::SigningKey;

constexpr int64_t kT0 = testing::kPinnedNow;

class Rfc5011StateTest : public ::testing::Test {
protected:
  Rfc5011StateTest()
      : ksk1(SigningKey::generate(Name::root(), KeyRole::ksk)),
        ksk2(SigningKey::generate(Name::root(), KeyRole::ksk)),
        other(SigningKey::generate(*Name::from_text("example."), KeyRole::ksk)) {}

  // A root trust point with ksk1 Valid and ksk2 AddPend, and one for example. still
  // anchored by its DS.
  std::vector<TrustPoint> sample() const {
    TrustPoint root = TrustPoint::from_anchor(TrustAnchor{Name::root(), {}, {ksk1.dnskey()}}, kT0);
    RRset set;
    set.owner = Name::root();
    set.type = rrtype::DNSKEY;
    set.ttl = 3600;
    for (const SigningKey *k : {&ksk1, &ksk2}) set.add(k->dnskey().rdata, 3600);
    set.signatures.push_back(
        testing::sign_rrset({ksk1.dnskey(), ksk2.dnskey()}, ksk1,
                            testing::SignatureSpec().with_window(SignatureWindow::around(kT0))));
    RefreshReport report = root.refresh(set, kT0, Rfc5011Timers{}, DnssecConfig{});
    EXPECT_TRUE(report.validated) << report.problem;
    root.last_problem = "a \"quoted\" problem";
    TrustPoint example = TrustPoint::from_anchor(TrustAnchor{other.owner(), {other.ds()}, {}}, kT0);
    example.refresh_failed("timeout", kT0, Rfc5011Timers{});
    return {root, example};
  }

  static std::string parse_error(const std::string &text) {
    try {
      parse_trust_point_state(text);
    } catch (const std::runtime_error &e) {
      return e.what();
    }
    return "";
  }

  // The sample's JSON with one change made by `edit`.
  std::string edited(const std::function<void(nlohmann::json &)> &edit) const {
    nlohmann::json document = nlohmann::json::parse(serialize_trust_point_state(sample(), kT0));
    edit(document);
    return document.dump();
  }

  SigningKey ksk1, ksk2, other;
};

TEST_F(Rfc5011StateTest, WhatIsWrittenReadsBackTheSame) {
  const std::vector<TrustPoint> points = sample();
  const std::string text = serialize_trust_point_state(points, kT0);
  std::vector<TrustPoint> read = parse_trust_point_state(text);
  ASSERT_EQ(read.size(), 2u);
  for (size_t i = 0; i < points.size(); ++i) {
    const TrustPoint &a = points[i], &b = read[i];
    EXPECT_EQ(a.zone(), b.zone());
    ASSERT_EQ(a.ds().size(), b.ds().size());
    for (size_t j = 0; j < a.ds().size(); ++j) EXPECT_EQ(a.ds()[j].rdata, b.ds()[j].rdata);
    ASSERT_EQ(a.keys().size(), b.keys().size());
    for (size_t j = 0; j < a.keys().size(); ++j) {
      const ManagedKey &x = a.keys()[j], &y = b.keys()[j];
      EXPECT_EQ(x.rdata, y.rdata);
      EXPECT_EQ(x.key_tag, y.key_tag);
      EXPECT_EQ(x.algorithm, y.algorithm);
      EXPECT_EQ(x.state, y.state);
      EXPECT_EQ(x.first_seen, y.first_seen);
      EXPECT_EQ(x.changed_at, y.changed_at);
      EXPECT_EQ(x.hold_down_until, y.hold_down_until);
      EXPECT_EQ(x.vouched_by, y.vouched_by);
    }
    EXPECT_EQ(a.next_refresh, b.next_refresh);
    EXPECT_EQ(a.last_refresh, b.last_refresh);
    EXPECT_EQ(a.last_success, b.last_success);
    EXPECT_EQ(a.original_ttl, b.original_ttl);
    EXPECT_EQ(a.signatures_expire, b.signatures_expire);
    EXPECT_EQ(a.last_problem, b.last_problem);
    EXPECT_EQ(a.trusted_key_tags(), b.trusted_key_tags());
  }
  EXPECT_EQ(read[0].find(ksk2.key_tag(), 13)->state, KeyState::add_pend);
  EXPECT_EQ(serialize_trust_point_state(read, kT0), text);
}

TEST_F(Rfc5011StateTest, TheFileIsReadableJsonWithStateNamesAndZoneFileLines) {
  nlohmann::json document = nlohmann::json::parse(serialize_trust_point_state(sample(), kT0));
  EXPECT_EQ(document["format"], "resolverd-trust-anchors");
  EXPECT_EQ(document["version"], 1);
  const auto &keys = document["zones"][0]["keys"];
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["state"], "Valid");
  EXPECT_EQ(keys[1]["state"], "AddPend");
  EXPECT_EQ(keys[1]["tag"], ksk2.key_tag());
  EXPECT_NE(keys[0]["dnskey"].get<std::string>().find("DNSKEY\t257 3 13"), std::string::npos)
      << keys[0]["dnskey"];
  EXPECT_NE(document["zones"][1]["ds"][0].get<std::string>().find("DS"), std::string::npos);
}

TEST_F(Rfc5011StateTest, RevokedKeysAreStoredUnderTheirIdentity) {
  ResourceRecord revoked = ksk1.dnskey();
  revoked.rdata[1] = static_cast<char>(static_cast<uint8_t>(revoked.rdata[1]) | dnskey_flag::REVOKE);
  std::string text = edited([&](nlohmann::json &d) {
    d["zones"][0]["keys"][0]["dnskey"] = revoked.to_text();
    d["zones"][0]["keys"][0]["state"] = "Revoked";
  });
  std::vector<TrustPoint> read = parse_trust_point_state(text);
  EXPECT_EQ(read[0].keys()[0].rdata, ksk1.dnskey().rdata);
  EXPECT_EQ(read[0].keys()[0].key_tag, ksk1.key_tag());
  EXPECT_EQ(read[0].keys()[0].state, KeyState::revoked);
}

TEST_F(Rfc5011StateTest, KeysInTheStartStateAreDropped) {
  std::string text = edited([](nlohmann::json &d) { d["zones"][0]["keys"][1]["state"] = "Start"; });
  EXPECT_EQ(parse_trust_point_state(text)[0].keys().size(), 1u);
}

TEST_F(Rfc5011StateTest, CorruptFilesAreRefusedWithAReason) {
  const std::string good = serialize_trust_point_state(sample(), kT0);
  EXPECT_NE(parse_error("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error(good.substr(0, good.size() / 2)).find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error("[1, 2]").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(parse_error(std::string(3, '\0')).find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error(std::string(kMaxTrustPointStateBytes + 1, ' ')).find("larger than"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(100000, '[')).find("not valid JSON"), std::string::npos);

  struct Case {
    std::function<void(nlohmann::json &)> edit;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](nlohmann::json &d) { d["format"] = "unbound"; },
       "state.format: not a resolverd trust anchor state"},
      {[](nlohmann::json &d) { d["version"] = 2; }, "state.version: version 2 is not supported"},
      {[](nlohmann::json &d) { d.erase("zones"); }, "state: 'zones' is missing"},
      {[](nlohmann::json &d) { d["zones"] = "all"; }, "state.zones: expected a list"},
      {[](nlohmann::json &d) { d["zones"][0]["zone"] = "a..b"; },
       "zones[0].zone: 'a..b' is not a domain name"},
      {[](nlohmann::json &d) { d["zones"][1] = d["zones"][0]; }, "zones[1]: zone . is listed twice"},
      {[](nlohmann::json &d) { d["zones"][0]["keys"][1]["state"] = "Bogus"; },
       "zones[0].keys[1].state: 'Bogus' is not a key state"},
      {[](nlohmann::json &d) { d["zones"][0]["keys"][1] = d["zones"][0]["keys"][0]; },
       "zones[0].keys[1]: key"},
      {[](nlohmann::json &d) {
         d["zones"][0]["keys"][0]["dnskey"] = "example. 3600 IN DNSKEY 257 3 13 AAAA";
       },
       "zones[0].keys[0].dnskey: expected an IN DNSKEY record of ."},
      {[](nlohmann::json &d) { d["zones"][0]["keys"][0]["dnskey"] = ". 3600 IN A 192.0.2.1"; },
       "expected an IN DNSKEY record of ."},
      {[](nlohmann::json &d) { d["zones"][0]["keys"][0]["dnskey"] = "not a record"; },
       "zones[0].keys[0].dnskey"},
      {[](nlohmann::json &d) { d["zones"][0]["keys"][0]["dnskey"] = 7; }, "expected a zone-file line"},
      {[](nlohmann::json &d) { d["zones"][0]["keys"][0]["first_seen"] = -5; }, "first_seen: not a time"},
      {[](nlohmann::json &d) { d["zones"][0]["keys"][0]["changed_at"] = "yesterday"; },
       "changed_at: expected a whole number of seconds"},
      {[](nlohmann::json &d) { d["zones"][0]["keys"][0]["vouched_by"] = {70000}; },
       "vouched_by: expected key tags"},
      {[](nlohmann::json &d) { d["zones"][0]["original_ttl"] = 4294967295ll; }, "original_ttl"},
      {[](nlohmann::json &d) { d["zones"][0].erase("next_refresh"); }, "zones[0]: 'next_refresh' is missing"},
      {[](nlohmann::json &d) { d["zones"][1]["ds"][0] = ". 3600 IN DS 1 13 2 00"; },
       "zones[1].ds[0]: expected an IN DS record of example."},
      {[](nlohmann::json &d) {
         d["zones"][0]["keys"] = nlohmann::json::array();
         for (int i = 0; i < 65; ++i) d["zones"][0]["keys"].push_back(1);
       },
       "more than 64 entries"},
  };
  for (const Case &c : cases) {
    const std::string error = parse_error(edited(c.edit));
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "expected '" << c.expected << "' in '" << error << "'";
  }
}

}  // namespace
}  // namespace rsv
