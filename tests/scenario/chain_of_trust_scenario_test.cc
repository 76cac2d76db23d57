// How the validator builds the chain of trust through the engine: from the
// delegation path (no DS question while referrals carry the DS), through the cache,
// through a server that serves a parent and its unsigned child, and for the root
// NS set itself (priming, RFC 8109).
#include <gtest/gtest.h>

#include "tests/scenario/signed_fake_server.h"

namespace rsv::testing {
namespace {

const SignedHierarchy &standard() {
  static const SignedHierarchy kStandard = SignedHierarchy::standard();
  return kStandard;
}

size_t questions_of_type(const SignedNetwork &h, uint16_t type) {
  size_t count = 0;
  for (const auto &q : h.net.sent) count += q.question.qtype == type;
  return count;
}

TEST(ChainOfTrust, CutsAndDsComeFromTheDelegationPath) {
  // The referrals root -> test. -> nsec.test. carry each DS: the validator asks for
  // none, and for each zone's DNSKEY set once.
  SignedNetwork h(standard());
  Resolution r = h.resolve("host.ent.nsec.test.", rrtype::A);
  EXPECT_EQ(r.security, Security::secure);
  EXPECT_EQ(questions_of_type(h, rrtype::DS), 0u);
  EXPECT_EQ(questions_of_type(h, rrtype::DNSKEY), 3u);
  // The next name of the zone costs one upstream query: keys and cuts are known.
  size_t sent = h.net.sent.size();
  EXPECT_EQ(h.resolve("mail.nsec.test.", rrtype::A).security, Security::secure);
  EXPECT_EQ(h.net.sent.size(), sent + 1);
}

TEST(ChainOfTrust, ColdWildcardNamesCostOneUpstreamQueryEach) {
  // Once the zone is known: the wildcard's empty non-terminal is not asked again for
  // each new name (QNAME minimisation memory), nothing needs a DS or DNSKEY again.
  for (const char *zone : {"nsec.test.", "nsec3.test."}) {
    SignedNetwork h(standard());
    ASSERT_EQ(h.resolve(std::string("a.wild.") + zone, rrtype::A).security, Security::secure);
    for (int i = 0; i < 5; ++i) {
      size_t sent = h.net.sent.size();
      Resolution r = h.resolve("n" + std::to_string(i) + ".wild." + zone, rrtype::A);
      EXPECT_EQ(r.security, Security::secure) << zone;
      EXPECT_EQ(h.net.sent.size(), sent + 1) << zone << " name " << i;
    }
  }
}

TEST(ChainOfTrust, AValidatedDsInTheCacheIsReusedWhenTheKeysAreGone) {
  SignedNetwork h(standard());
  ASSERT_EQ(h.resolve("www.nsec.test.", rrtype::A).security, Security::secure);
  auto ds = h.rrsets.lookup(*Name::from_text("nsec.test."), rrtype::DS);
  ASSERT_TRUE(ds);
  EXPECT_EQ(ds->security, Security::secure) << "the validator stores what it proved";
  // The key cache forgets (a restart of that cache, an eviction); the RRset cache
  // still holds the validated DS: no DS question, one DNSKEY question.
  KeyCache fresh{h.clock};
  ValidatorEnv env{fresh, h.anchors, h.config.dnssec, h.clock, &h.aggressive, &h.rrsets};
  Engine engine(EngineEnv{h.rrsets, h.infra, h.clock, h.random, h.config, h.hints, &env}, h.net);
  size_t sent = h.net.sent.size();
  std::optional<Resolution> out;
  engine.resolve(Question{*Name::from_text("ns.nsec.test."), rrtype::A, rrclass::IN}, false,
                 [&](const Resolution &r) { out = r; });
  h.net.run();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->security, Security::secure);
  size_t ds_questions = 0;
  for (size_t i = sent; i < h.net.sent.size(); ++i) ds_questions += h.net.sent[i].question.qtype == rrtype::DS;
  EXPECT_EQ(ds_questions, 0u);
}

TEST(ChainOfTrust, AServerOfAParentAndItsUnsignedChildIsNotBogus) {
  // parent.test. (signed) and child.parent.test. (unsigned, no DS) on one server: the
  // resolver asks parent.test.'s server and gets the child's unsigned data without
  // ever seeing a referral. One DS question (at the owner) finds the child's SOA, whose
  // cut the parent's NSEC proves unsigned.
  std::vector<ZoneSpec> specs = SignedHierarchy::standard_specs();
  specs.push_back({"parent.test.", "127.10.4.1", "www A 192.0.2.60\n", Denial::nsec, {}, true, 13, ""});
  specs.push_back({"child.parent.test.", "127.10.4.1", "www A 192.0.2.61\n", Denial::none, {}, false, 13,
                   "ns.parent.test."});
  SignedHierarchy hierarchy = SignedHierarchy::build(specs);
  SignedNetwork h(hierarchy);
  Resolution r = h.resolve("www.child.parent.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(r.security, Security::insecure) << (r.error ? r.error->extra_text : "");
  ASSERT_FALSE(r.answer.empty());
  EXPECT_EQ(h.resolve("www.parent.test.", rrtype::A).security, Security::secure);
  // A forged unsigned record in the signed parent is still bogus.
  h.net.server("127.10.4.1").forge = [&](const Message &q) -> std::optional<Message> {
    if (!q.question() || q.question()->name != *Name::from_text("forged.parent.test.") ||
        q.question()->qtype != rrtype::A)
      return std::nullopt;
    Message reply = h.honest("127.10.4.1", q);
    reply.rcode = rcode::NOERROR;
    reply.authority.clear();
    reply.answer = testing::records("forged.parent.test. 300 A 192.0.2.66\n");
    return reply;
  };
  Resolution forged = h.resolve("forged.parent.test.", rrtype::A);
  EXPECT_EQ(forged.security, Security::bogus);
  ASSERT_TRUE(forged.error);
  EXPECT_EQ(forged.error->info_code, ede::RRSIGS_MISSING) << forged.error->extra_text;
}

TEST(ChainOfTrust, TheRootNsSetIsValidatedAndASpoofedOneIsNotUsed) {
  SignedNetwork h(standard());
  ASSERT_EQ(h.resolve("www.test.", rrtype::A).security, Security::secure);
  auto root_ns = h.rrsets.lookup(Name::root(), rrtype::NS);
  ASSERT_TRUE(root_ns);
  EXPECT_EQ(root_ns->security, Security::secure) << "RFC 8109: the priming answer is validated";

  // A priming reply whose NS set was changed (its RRSIG kept) is bogus: the resolver
  // falls back to its hints instead of following it.
  SignedNetwork spoofed(standard());
  spoofed.net.server("127.10.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    if (!q.question() || !q.question()->name.is_root() || q.question()->qtype != rrtype::NS) return std::nullopt;
    Message reply = spoofed.honest("127.10.0.1", q);
    for (auto &rr : reply.answer)
      if (rr.type == rrtype::NS) rr.rdata = Name::from_text("evil.example.")->wire();
    reply.additional.clear();
    return reply;
  };
  Resolution r = spoofed.resolve("www.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(r.security, Security::secure);
  auto cached = spoofed.rrsets.lookup(Name::root(), rrtype::NS);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->security, Security::bogus);
  for (const auto &q : spoofed.net.sent)
    EXPECT_NE(q.question.name, *Name::from_text("evil.example.")) << "the spoofed server name was looked up";
  EXPECT_EQ(questions_of_type(spoofed, rrtype::NS), 1u) << "one priming attempt, then the hints";
}

}  // namespace
}  // namespace rsv::testing
