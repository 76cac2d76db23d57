#include "cache/rrset_cache.h"

#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/unit/rrsig_rdata.h"

namespace rsv {
namespace {

Name name(const char *text) {
  return *Name::from_text(text);
}

RRset a_set(const char *owner, uint32_t ttl,
            const std::string &address = std::string("\xC0\x00\x02\x01", 4)) {
  RRset set;
  set.owner = name(owner);
  set.type = rrtype::A;
  set.rclass = rrclass::IN;
  set.add(address, ttl);
  return set;
}

class RRsetCacheTest : public ::testing::Test {
protected:
  ManualClock clock;
  RRsetCache cache{clock, 1 << 20, TtlPolicy{}};
};

TEST_F(RRsetCacheTest, TtlCountsDownAndTheSetExpires) {
  ASSERT_TRUE(cache.store(a_set("www.example.com", 300), Trust::authoritative, Security::insecure));
  const int64_t stored_at = clock.now_seconds();
  auto hit = cache.lookup(name("www.example.com"), rrtype::A);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->rrset.ttl, 300u);
  EXPECT_EQ(hit->expires_at, stored_at + 300);
  EXPECT_EQ(hit->trust, Trust::authoritative);
  EXPECT_EQ(hit->security, Security::insecure);
  ASSERT_EQ(hit->rrset.rdatas.size(), 1u);

  clock.advance_seconds(100);
  hit = cache.lookup(name("www.example.com"), rrtype::A);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->rrset.ttl, 200u);

  clock.advance_seconds(199);
  hit = cache.lookup(name("www.example.com"), rrtype::A);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->rrset.ttl, 1u);

  clock.advance_seconds(1);
  EXPECT_FALSE(cache.lookup(name("www.example.com"), rrtype::A));
}

TEST_F(RRsetCacheTest, ZeroTtlIsNotCached) {
  EXPECT_FALSE(cache.store(a_set("zero.example", 0), Trust::authoritative, Security::insecure));
  EXPECT_FALSE(cache.lookup(name("zero.example"), rrtype::A));
  EXPECT_FALSE(cache.store(RRset{}, Trust::authoritative, Security::insecure));
}

TEST(RRsetCacheClamp, MinAndMaxTtlApply) {
  ManualClock clock;
  RRsetCache cache(clock, 1 << 20, TtlPolicy{60, 3600, 900});
  cache.store(a_set("short.example", 5), Trust::answer, Security::unchecked);
  cache.store(a_set("long.example", 604800), Trust::answer, Security::unchecked);
  cache.store(a_set("zero.example", 0), Trust::answer, Security::unchecked);
  // RFC 2181 8: a TTL with the top bit set counts as zero, then the minimum applies.
  cache.store(a_set("negative.example", 0x80000001u), Trust::answer, Security::unchecked);
  EXPECT_EQ(cache.lookup(name("short.example"), rrtype::A)->rrset.ttl, 60u);
  EXPECT_EQ(cache.lookup(name("long.example"), rrtype::A)->rrset.ttl, 3600u);
  EXPECT_EQ(cache.lookup(name("zero.example"), rrtype::A)->rrset.ttl, 60u);
  EXPECT_EQ(cache.lookup(name("negative.example"), rrtype::A)->rrset.ttl, 60u);
}

TEST(TtlPolicy, NegativeTtlFollowsRfc2308) {
  TtlPolicy policy{30, 86400, 900};
  EXPECT_EQ(policy.negative_ttl(3600, 300), 300u);     // SOA MINIMUM smaller
  EXPECT_EQ(policy.negative_ttl(120, 3600), 120u);     // SOA TTL smaller
  EXPECT_EQ(policy.negative_ttl(86400, 86400), 900u);  // capped
  EXPECT_EQ(policy.negative_ttl(5, 3600), 5u);         // min_ttl does not stretch it
}

TEST_F(RRsetCacheTest, GlueNeverReplacesAnswerData) {
  const std::string answer_address("\x01\x01\x01\x01", 4), glue_address("\x02\x02\x02\x02", 4);
  ASSERT_TRUE(
      cache.store(a_set("ns.example", 300, answer_address), Trust::authoritative, Security::insecure));
  EXPECT_FALSE(cache.store(a_set("ns.example", 300, glue_address), Trust::glue, Security::unchecked));
  auto hit = cache.lookup(name("ns.example"), rrtype::A);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->rrset.rdatas[0], answer_address);
  EXPECT_EQ(hit->trust, Trust::authoritative);
}

TEST_F(RRsetCacheTest, AnswerReplacesGlueAndEqualTrustReplaces) {
  const std::string glue_address("\x02\x02\x02\x02", 4), answer_address("\x01\x01\x01\x01", 4),
      newer_address("\x03\x03\x03\x03", 4);
  ASSERT_TRUE(cache.store(a_set("ns.example", 300, glue_address), Trust::glue, Security::unchecked));
  ASSERT_TRUE(cache.store(a_set("ns.example", 100, answer_address), Trust::answer, Security::unchecked));
  EXPECT_EQ(cache.lookup(name("ns.example"), rrtype::A)->rrset.rdatas[0], answer_address);
  EXPECT_EQ(cache.lookup(name("ns.example"), rrtype::A)->rrset.ttl, 100u);
  ASSERT_TRUE(cache.store(a_set("ns.example", 200, newer_address), Trust::answer, Security::secure));
  auto hit = cache.lookup(name("ns.example"), rrtype::A);
  EXPECT_EQ(hit->rrset.rdatas[0], newer_address);
  EXPECT_EQ(hit->security, Security::secure);
  ASSERT_TRUE(cache.store(a_set("ns.example", 200, answer_address), Trust::authoritative, Security::secure));
  EXPECT_EQ(cache.lookup(name("ns.example"), rrtype::A)->trust, Trust::authoritative);
  EXPECT_EQ(cache.entry_count(), 1u);
}

TEST_F(RRsetCacheTest, SecureDataIsNotReplacedByASpoofOfEqualRank) {
  const std::string real("\x01\x01\x01\x01", 4), spoof("\x06\x06\x06\x06", 4);
  ASSERT_TRUE(cache.store(a_set("www.example", 300, real), Trust::authoritative, Security::secure));
  // RFC 4035 4.7: unvalidated data of the same (or lower) rank cannot push it out...
  EXPECT_FALSE(cache.store(a_set("www.example", 300, spoof), Trust::authoritative, Security::unchecked));
  EXPECT_FALSE(cache.store(a_set("www.example", 300, spoof), Trust::authoritative, Security::bogus));
  EXPECT_FALSE(cache.store(a_set("www.example", 300, spoof), Trust::authoritative, Security::insecure));
  EXPECT_FALSE(cache.store(a_set("www.example", 300, spoof), Trust::glue, Security::unchecked));
  auto hit = cache.lookup(name("www.example"), rrtype::A);
  EXPECT_EQ(hit->rrset.rdatas[0], real);
  EXPECT_EQ(hit->security, Security::secure);
  // ...but newer validated data replaces it (the zone changed), and so does anything
  // once it has expired.
  EXPECT_TRUE(cache.store(a_set("www.example", 300, spoof), Trust::authoritative, Security::secure));
  EXPECT_EQ(cache.lookup(name("www.example"), rrtype::A)->rrset.rdatas[0], spoof);
}

TEST_F(RRsetCacheTest, ValidatedDataReplacesUncheckedDataOfAnyRank) {
  ASSERT_TRUE(cache.store(a_set("ns.example", 300), Trust::authoritative, Security::unchecked));
  EXPECT_TRUE(cache.store(a_set("ns.example", 300), Trust::authority, Security::secure));
  EXPECT_EQ(cache.lookup(name("ns.example"), rrtype::A)->security, Security::secure);
}

TEST_F(RRsetCacheTest, BogusReplacesUncheckedButNotInsecureData) {
  ASSERT_TRUE(cache.store(a_set("a.example", 300), Trust::authoritative, Security::unchecked));
  EXPECT_TRUE(cache.store(a_set("a.example", 60), Trust::authoritative, Security::bogus))
      << "the same data, now judged";
  EXPECT_EQ(cache.lookup(name("a.example"), rrtype::A)->security, Security::bogus);
  ASSERT_TRUE(cache.store(a_set("b.example", 300), Trust::authoritative, Security::insecure));
  EXPECT_FALSE(cache.store(a_set("b.example", 60), Trust::authoritative, Security::bogus));
  EXPECT_EQ(cache.lookup(name("b.example"), rrtype::A)->security, Security::insecure);
  // A refetch of bogus data (unchecked again) replaces it, to be judged again.
  EXPECT_TRUE(cache.store(a_set("a.example", 300), Trust::authoritative, Security::unchecked));
}

TEST_F(RRsetCacheTest, ExpiredEntryIsReplacedWhateverItsTrust) {
  const std::string glue_address("\x02\x02\x02\x02", 4);
  ASSERT_TRUE(cache.store(a_set("ns.example", 60, std::string("\x01\x01\x01\x01", 4)), Trust::authoritative,
                          Security::secure));
  clock.advance_seconds(60);
  EXPECT_TRUE(cache.store(a_set("ns.example", 300, glue_address), Trust::glue, Security::unchecked));
  auto hit = cache.lookup(name("ns.example"), rrtype::A);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->trust, Trust::glue);
  EXPECT_EQ(hit->rrset.rdatas[0], glue_address);
}

TEST_F(RRsetCacheTest, KeysIgnoreCaseButTheOwnerKeepsIt) {
  ASSERT_TRUE(cache.store(a_set("WWW.Example.COM", 300), Trust::answer, Security::unchecked));
  auto hit = cache.lookup(name("www.example.com"), rrtype::A);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->rrset.owner.to_text(), "WWW.Example.COM.");
  EXPECT_TRUE(cache.lookup(name("wWw.eXaMpLe.cOm"), rrtype::A));
  cache.erase(name("www.EXAMPLE.com"), rrtype::A);
  EXPECT_FALSE(cache.lookup(name("www.example.com"), rrtype::A));
}

// A lower-case owner is not stored a second time next to the key: asked in any case,
// the set comes back with the owner it was stored with, and so do its RRSIGs.
TEST_F(RRsetCacheTest, ALowerCaseOwnerComesBackAsStoredWhateverTheQuestionsCase) {
  RRset set = a_set("www.example.com", 300);
  ResourceRecord sig;
  sig.owner = set.owner;
  sig.type = rrtype::RRSIG;
  sig.ttl = 300;
  sig.rdata = std::string("\x00\x01", 2) + std::string(40, 's');
  set.signatures.push_back(sig);
  ResourceRecord other_sig = sig;
  other_sig.owner = name("Www.Example.Com");  // one that differs is kept as it came
  set.signatures.push_back(other_sig);
  ASSERT_TRUE(cache.store(set, Trust::answer, Security::secure));
  auto hit = cache.lookup(name("WWW.EXAMPLE.COM"), rrtype::A);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->rrset.owner.to_text(), "www.example.com.");
  ASSERT_EQ(hit->rrset.signatures.size(), 2u);
  EXPECT_EQ(hit->rrset.signatures[0].owner.to_text(), "www.example.com.");
  EXPECT_EQ(hit->rrset.signatures[1].owner.to_text(), "Www.Example.Com.");
  EXPECT_EQ(hit->rrset.rdatas, set.rdatas);
  std::vector<RRsetRecord> saved;
  for (size_t shard = 0; shard < cache.shard_count(); ++shard)
    cache.export_shard(shard, [&](const RRsetRecord &record) { saved.push_back(record); });
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].rrset.owner.to_text(), "www.example.com.");
  EXPECT_EQ(saved[0].rrset.signatures.size(), 2u);
}

TEST_F(RRsetCacheTest, TypeAndClassAreSeparateKeys) {
  cache.store(a_set("example", 300), Trust::answer, Security::unchecked);
  EXPECT_FALSE(cache.lookup(name("example"), rrtype::AAAA));
  EXPECT_FALSE(cache.lookup(name("example"), rrtype::A, rrclass::CH));
  EXPECT_TRUE(cache.lookup(name("example"), rrtype::A, rrclass::IN));
}

TEST_F(RRsetCacheTest, KeepsEveryRdataAndTheSignatures) {
  RRset set = a_set("multi.example", 300);
  set.add(std::string("\x0A\x00\x00\x02", 4), 300);
  set.add(std::string(300, 'x'), 300);  // long rdata
  ResourceRecord sig;
  sig.owner = name("Multi.Example");
  sig.type = rrtype::RRSIG;
  sig.ttl = 300;
  sig.rdata = std::string("\x00\x01", 2) + std::string(100, 's');
  set.signatures.push_back(sig);
  ASSERT_TRUE(cache.store(set, Trust::authoritative, Security::secure));
  clock.advance_seconds(10);
  auto hit = cache.lookup(name("multi.example"), rrtype::A);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->rrset.rdatas, set.rdatas);
  ASSERT_EQ(hit->rrset.signatures.size(), 1u);
  const ResourceRecord &got = hit->rrset.signatures[0];
  EXPECT_EQ(got.owner.to_text(), "Multi.Example.");
  EXPECT_EQ(got.type, rrtype::RRSIG);
  EXPECT_EQ(got.rclass, rrclass::IN);
  EXPECT_EQ(got.rdata, sig.rdata);
  EXPECT_EQ(got.ttl, 290u);  // RFC 4034 3: the RRSIG TTL equals the set's
  EXPECT_EQ(hit->rrset.ttl, 290u);
}

TEST(RRsetCacheMemory, StaysWithinItsByteBoundAndKeepsRecentSets) {
  ManualClock clock;
  const uint64_t one_megabyte = 1 << 20;
  RRsetCache cache(clock, one_megabyte, TtlPolicy{});
  const int total = 100000;
  for (int i = 0; i < total; ++i) {
    RRset set = a_set(("host" + std::to_string(i) + ".example.com").c_str(), 3600);
    cache.store(set, Trust::answer, Security::unchecked);
    if (i % 1000 == 0) {
      ASSERT_LE(cache.memory_bytes(), one_megabyte);
    }
  }
  EXPECT_LE(cache.memory_bytes(), one_megabyte);
  EXPECT_LT(cache.entry_count(), static_cast<size_t>(total));
  EXPECT_GT(cache.entry_count(), 1000u);
  for (int i = total - 100; i < total; ++i) {
    EXPECT_TRUE(cache.lookup(name(("host" + std::to_string(i) + ".example.com").c_str()), rrtype::A)) << i;
  }
  EXPECT_FALSE(cache.lookup(name("host0.example.com"), rrtype::A));
}

TEST(RRsetCacheConcurrency, TwoThreadsStoreAndLookUp) {
  ManualClock clock;
  RRsetCache cache(clock, 256 * 1024, TtlPolicy{}, 4);
  auto work = [&](int seed) {
    for (int i = 0; i < 5000; ++i) {
      const std::string owner = "h" + std::to_string((i * 13 + seed) % 300) + ".example";
      if (i % 3 == 0) {
        cache.store(a_set(owner.c_str(), 300), i % 2 ? Trust::glue : Trust::answer, Security::unchecked);
      } else if (i % 50 == 1) {
        cache.erase(name(owner.c_str()), rrtype::A);
      } else if (auto hit = cache.lookup(name(owner.c_str()), rrtype::A)) {
        ASSERT_EQ(hit->rrset.rdatas.size(), 1u);
      }
    }
  };
  std::thread a(work, 1), b(work, 2);
  a.join();
  b.join();
  EXPECT_LE(cache.memory_bytes(), 256u * 1024);
}


// --- serve-stale (RFC 8767) and the snapshot -----------------------------------------

TEST_F(RRsetCacheTest, StaleLookupGivesExpiredSetsUpToMaxStale) {
  ASSERT_TRUE(cache.store(a_set("www.example.com", 60), Trust::authoritative, Security::insecure));
  EXPECT_FALSE(cache.lookup_stale(name("www.example.com"), rrtype::A, 3600)) << "live: not stale";
  clock.advance_seconds(60);
  EXPECT_FALSE(cache.lookup(name("www.example.com"), rrtype::A));
  auto stale = cache.lookup_stale(name("WWW.example.com"), rrtype::A, 3600);
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->rrset.ttl, 0u);
  EXPECT_EQ(stale->trust, Trust::authoritative);
  EXPECT_EQ(stale->security, Security::insecure);
  clock.advance_seconds(3599);
  EXPECT_TRUE(cache.lookup_stale(name("www.example.com"), rrtype::A, 3600));
  clock.advance_seconds(1);
  EXPECT_FALSE(cache.lookup_stale(name("www.example.com"), rrtype::A, 3600)) << "past max-stale";
}

TEST_F(RRsetCacheTest, BogusIsNeverStale) {
  ASSERT_TRUE(cache.store(a_set("bogus.example", 60), Trust::authoritative, Security::bogus));
  clock.advance_seconds(61);
  EXPECT_FALSE(cache.lookup_stale(name("bogus.example"), rrtype::A, 86400));
}

TEST_F(RRsetCacheTest, SecureIsStaleOnlyWhileEverySignatureIsCurrent) {
  const int64_t now = clock.now_seconds();
  RRset set = a_set("www.example.com", 60);
  set.signatures.push_back(testing::rrsig(set.owner, rrtype::A, now - 10, now + 100, name("example.com")));
  ASSERT_TRUE(cache.store(set, Trust::authoritative, Security::secure));
  RRset unsigned_set = a_set("nosig.example.com", 60);
  ASSERT_TRUE(cache.store(unsigned_set, Trust::authoritative, Security::secure));
  clock.advance_seconds(61);
  auto stale = cache.lookup_stale(name("www.example.com"), rrtype::A, 86400);
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->security, Security::secure);
  ASSERT_EQ(stale->rrset.signatures.size(), 1u);
  EXPECT_FALSE(cache.lookup_stale(name("nosig.example.com"), rrtype::A, 86400)) << "secure, but nothing to show it";
  clock.advance_seconds(40);
  EXPECT_FALSE(cache.lookup_stale(name("www.example.com"), rrtype::A, 86400)) << "its RRSIG has expired";
}

TEST_F(RRsetCacheTest, ExportAndRestoreKeepExpiryTrustAndStatus) {
  RRset set = a_set("www.example.com", 120);
  set.signatures.push_back(
      testing::rrsig(set.owner, rrtype::A, clock.now_seconds() - 10, clock.now_seconds() + 1000, name("example.com")));
  ASSERT_TRUE(cache.store(set, Trust::authoritative, Security::secure));
  ASSERT_TRUE(cache.store(a_set("ns.example.com", 30), Trust::glue, Security::unchecked));
  std::vector<RRsetRecord> records;
  for (size_t shard = 0; shard < cache.shard_count(); ++shard)
    cache.export_shard(shard, [&](const RRsetRecord &r) { records.push_back(r); });
  ASSERT_EQ(records.size(), 2u);
  RRsetCache other(clock, 1 << 20, TtlPolicy{});
  for (const auto &r : records) EXPECT_TRUE(other.restore(r));
  clock.advance_seconds(20);
  auto www = other.lookup(name("www.example.com"), rrtype::A);
  ASSERT_TRUE(www);
  EXPECT_EQ(www->rrset.ttl, 100u);
  EXPECT_EQ(www->trust, Trust::authoritative);
  EXPECT_EQ(www->security, Security::secure);
  EXPECT_EQ(www->rrset.signatures.size(), 1u);
  auto glue = other.lookup(name("ns.example.com"), rrtype::A);
  ASSERT_TRUE(glue);
  EXPECT_EQ(glue->trust, Trust::glue);
  EXPECT_EQ(glue->rrset.ttl, 10u);
  // A restored set obeys may_replace like any other: glue does not push out an answer.
  EXPECT_FALSE(other.restore(RRsetRecord{a_set("www.example.com", 300), clock.now_seconds() + 300, Trust::glue,
                                         Security::unchecked}));
}

}  // namespace
}  // namespace rsv
