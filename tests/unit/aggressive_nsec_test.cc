#include "dnssec/aggressive_nsec.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace rsv
