#include "dnssec/aggressive_nsec.h"

#include <gtest/gtest.h>

#include "tests/support/signed_authority.h"
#include "tests/unit/test_records.h"

namespace rsv {
namespace {

using testing::n;
using testing::records;

struct AggressiveNsecTest : ::testing::Test {
  ManualClock clock;
  AggressiveNsecCache cache{clock};

  void SetUp() override {
    auto nsecs = records(
        "example. 300 NSEC a.example. SOA NS RRSIG NSEC\n"
        "a.example. 300 NSEC c.example. A RRSIG NSEC\n"
        "c.example. 300 NSEC example. A RRSIG NSEC\n");
    auto soa = records("example. 600 SOA ns.example. h.example. 1 3600 600 86400 120\n");
    cache.store(n("example."), nsecs, soa);
  }

  std::optional<Resolution> ask(const char *name, uint16_t type) {
    return cache.synthesize(Question{n(name), type, rrclass::IN});
  }
};

TEST_F(AggressiveNsecTest, SynthesizesNxdomainForCoveredNames) {
  auto r = ask("b.example.", rrtype::A);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rcode, rcode::NXDOMAIN);
  EXPECT_EQ(r->security, Security::secure);
  ASSERT_FALSE(r->authority.empty());
  EXPECT_EQ(r->authority[0].type, rrtype::SOA);
  EXPECT_EQ(r->cache_ttl, 120u) << "RFC 2308: min(SOA TTL, MINIMUM)";
  EXPECT_TRUE(ask("zzz.c.example.", rrtype::A)) << "covered by the last NSEC, which wraps to the apex";
}

TEST_F(AggressiveNsecTest, SynthesizesNodataFromTheNsecAtTheName) {
  auto r = ask("a.example.", rrtype::TXT);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rcode, rcode::NOERROR);
  EXPECT_TRUE(r->answer.empty());
}

TEST_F(AggressiveNsecTest, NeverDeniesWhatExists) {
  EXPECT_FALSE(ask("a.example.", rrtype::A));
  EXPECT_FALSE(ask("a.example.", rrtype::DS)) << "DS is the parent's business";
  EXPECT_FALSE(ask("www.other.", rrtype::A));
}

TEST_F(AggressiveNsecTest, ForgetsExpiredRecords) {
  clock.advance_seconds(301);
  EXPECT_FALSE(ask("b.example.", rrtype::A));
}

TEST_F(AggressiveNsecTest, RemainingTtlCountsDown) {
  clock.advance_seconds(100);
  auto r = ask("b.example.", rrtype::A);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cache_ttl, 20u);
}

TEST_F(AggressiveNsecTest, NeverAnswersBelowAZoneCutItKnows) {
  // sub.example. became a zone of its own (its keys are known): the parent's NSEC
  // chain says nothing about names inside it.
  KeyCache keys{clock};
  ZoneKeys child;
  child.status = ZoneKeys::Status::secure;
  keys.store(n("b.example."), child, 300);
  EXPECT_FALSE(cache.synthesize(Question{n("x.b.example."), rrtype::A, rrclass::IN}, &keys));
  EXPECT_TRUE(cache.synthesize(Question{n("bb.example."), rrtype::A, rrclass::IN}, &keys));
}

TEST_F(AggressiveNsecTest, MemoryIsBoundedInBytes) {
  AggressiveNsecCache small{clock, 4096};
  auto soa = records("example. 600 SOA ns.example. h.example. 1 3600 600 86400 120\n");
  for (int i = 0; i < 200; ++i) {
    std::string owner = "n" + std::to_string(i) + ".example.";
    small.store(n("example."), records(owner + " 300 NSEC x" + owner + " A RRSIG NSEC\n"), soa);
    EXPECT_LE(small.memory_bytes(), 4096u);
  }
  EXPECT_GT(small.record_count(), 0u);
  EXPECT_LT(small.record_count(), 200u);
}

// NSEC3: the records of a real, ldns-signed chain as a signed authority sends them.
struct AggressiveNsec3Test : ::testing::Test {
  ManualClock clock;
  AggressiveNsecCache cache{clock};
  testing::SigningKey ksk = testing::SigningKey::generate(n("example."), testing::KeyRole::ksk);
  testing::SigningKey zsk = testing::SigningKey::generate(n("example."), testing::KeyRole::zsk);

  testing::SignedZone sign(bool opt_out) {
    testing::ZoneSigningOptions options;
    options.nsec3 = testing::Nsec3Params{0, "", opt_out};
    std::string text =
        "@ SOA ns.example. h.example. 1 3600 600 86400 120\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\n"
        "mail A 192.0.2.3\n";
    if (opt_out) text += "unsigned NS ns.unsigned\nns.unsigned A 192.0.2.9\n";
    return testing::sign_zone_text(text, n("example."), {&ksk, &zsk}, options);
  }

  // Caches the proof of the authority's negative answer to name/type.
  void learn(const testing::SignedZone &zone, const char *name, uint16_t type) {
    Message query;
    query.questions.push_back(Question{n(name), type, rrclass::IN});
    query.edns = Edns{};
    query.edns->dnssec_ok = true;
    Message reply = testing::SignedAuthority({zone}).answer(query);
    std::vector<ResourceRecord> proof, soa;
    for (const auto &rr : reply.authority) {
      uint16_t t = rr.type == rrtype::RRSIG ? rr.rrsig_type_covered() : rr.type;
      (t == rrtype::SOA ? soa : proof).push_back(rr);
    }
    ASSERT_FALSE(proof.empty());
    cache.store(n("example."), proof, soa);
  }

  // A name below the apex whose hash the same NSEC3 covers as `like`'s.
  Name covered_like(const testing::SignedZone &zone, const char *like) {
    auto target = zone.nsec3_covering(n(like));
    for (int i = 0; i < 1000; ++i) {
      Name candidate = n(("n" + std::to_string(i) + ".example.").c_str());
      auto cover = zone.nsec3_covering(candidate);
      if (!cover.empty() && cover.front().owner == target.front().owner && candidate != n(like)) return candidate;
    }
    ADD_FAILURE() << "no name shares the span";
    return n(like);
  }
};

TEST_F(AggressiveNsec3Test, SynthesizesNxdomainFromACachedClosestEncloserProof) {
  clock.set_seconds(testing::kPinnedNow);
  auto zone = sign(false);
  learn(zone, "missing.example.", rrtype::A);
  Name other = covered_like(zone, "missing.example.");
  auto r = cache.synthesize(Question{other, rrtype::AAAA, rrclass::IN});
  ASSERT_TRUE(r) << other.to_text();
  EXPECT_EQ(r->rcode, rcode::NXDOMAIN);
  EXPECT_EQ(r->security, Security::secure);
  size_t nsec3s = 0;
  for (const auto &rr : r->authority) nsec3s += rr.type == rrtype::NSEC3;
  EXPECT_GE(nsec3s, 2u);
  EXPECT_FALSE(cache.synthesize(Question{n("www.example."), rrtype::A, rrclass::IN})) << "it exists";
}

TEST_F(AggressiveNsec3Test, SynthesizesNodataFromTheMatchingNsec3) {
  clock.set_seconds(testing::kPinnedNow);
  auto zone = sign(false);
  learn(zone, "www.example.", rrtype::TXT);
  auto r = cache.synthesize(Question{n("www.example."), rrtype::MX, rrclass::IN});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rcode, rcode::NOERROR);
  EXPECT_TRUE(r->answer.empty());
  EXPECT_FALSE(cache.synthesize(Question{n("www.example."), rrtype::A, rrclass::IN})) << "the bitmap lists A";
}

TEST_F(AggressiveNsec3Test, AnOptOutSpanNeverAnswers) {
  // RFC 5155 9.2: the span may hide an unsigned delegation; such a denial is insecure.
  clock.set_seconds(testing::kPinnedNow);
  auto zone = sign(true);
  learn(zone, "missing.example.", rrtype::A);
  Name other = covered_like(zone, "missing.example.");
  EXPECT_FALSE(cache.synthesize(Question{other, rrtype::A, rrclass::IN}));
}

}  // namespace
}  // namespace rsv
