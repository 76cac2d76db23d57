#include "cache/message_cache.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "resolver/wire/message.h"
#include "tests/unit/rrsig_rdata.h"

namespace rsv {
namespace {

Name name(const char *text) {
  return *Name::from_text(text);
}

ResourceRecord record(const char *owner, uint16_t type, uint32_t ttl, std::string rdata) {
  return ResourceRecord{name(owner), type, rrclass::IN, ttl, std::move(rdata)};
}

// A reply for www.example.com/A: a CNAME (ttl 50), an A (ttl 300), an SOA-less
// authority NS (ttl 3600).
EncodeResult example_reply(const char *qname = "www.example.com") {
  Message m;
  m.qr = true;
  m.rd = true;
  m.ra = true;
  m.questions.push_back(Question{name(qname), rrtype::A, rrclass::IN});
  m.answer.push_back(record(qname, rrtype::CNAME, 50, name("web.example.com").wire()));
  m.answer.push_back(record("web.example.com", rrtype::A, 300, std::string("\xC0\x00\x02\x01", 4)));
  m.authority.push_back(record("example.com", rrtype::NS, 3600, name("ns.example.com").wire()));
  return encode_message(m);
}

std::vector<uint32_t> ttls_of(const uint8_t *wire, size_t size) {
  ParseError error = ParseError::none;
  auto parsed = parse_message(wire, size, &error);
  EXPECT_TRUE(parsed) << to_string(error);
  std::vector<uint32_t> ttls;
  if (!parsed) return ttls;
  for (const auto *section : {&parsed->answer, &parsed->authority, &parsed->additional})
    for (const auto &rr : *section) ttls.push_back(rr.ttl);
  return ttls;
}

std::string lowered_wire(const char *text) {
  return name(text).lowered().wire();
}

class MessageCacheTest : public ::testing::Test {
protected:
  // The entry lives as long as the reply's longest TTL unless told otherwise.
  void store_example(uint8_t flags = 0, uint32_t ttl_seconds = 3600) {
    EncodeResult reply = example_reply();
    cache.store(name("www.example.com"), rrtype::A, rrclass::IN, flags, reply.wire, reply.ttl_offsets,
                ttl_seconds, Security::insecure, rcode::NOERROR);
  }
  size_t answer(uint8_t flags = 0) {
    return cache.answer_into(lowered_wire("www.example.com"), rrtype::A, rrclass::IN, flags, buffer,
                             sizeof buffer);
  }

  ManualClock clock;
  MessageCache cache{clock, 1 << 20};
  uint8_t buffer[4096];
};

TEST_F(MessageCacheTest, HitReturnsTheStoredReply) {
  EncodeResult reply = example_reply();
  ASSERT_EQ(reply.ttl_offsets.size(), 3u);
  store_example();
  const size_t size = answer();
  ASSERT_EQ(size, reply.wire.size());
  EXPECT_EQ(std::string(reinterpret_cast<char *>(buffer), size), reply.wire);
  EXPECT_EQ(ttls_of(buffer, size), (std::vector<uint32_t>{50, 300, 3600}));
  EXPECT_EQ(cache.entry_count(), 1u);
}

TEST_F(MessageCacheTest, TtlsCountDownWithAFloorOfZeroWithoutCompounding) {
  store_example();
  clock.advance_seconds(30);
  size_t size = answer();
  EXPECT_EQ(ttls_of(buffer, size), (std::vector<uint32_t>{20, 270, 3570}));
  size = answer();  // serving again must not subtract twice
  EXPECT_EQ(ttls_of(buffer, size), (std::vector<uint32_t>{20, 270, 3570}));
  clock.advance_seconds(70);
  size = answer();
  EXPECT_EQ(ttls_of(buffer, size), (std::vector<uint32_t>{0, 200, 3500}));
}

TEST_F(MessageCacheTest, NoTtlOutlivesItsEntry) {
  // An entry that lives 100 s (max-negative-ttl, say) holding records of 300 and 3600:
  // a client must not be told it may keep them longer than the cache itself does.
  store_example(0, 100);
  size_t size = answer();
  EXPECT_EQ(ttls_of(buffer, size), (std::vector<uint32_t>{50, 100, 100}));
  clock.advance_seconds(30);
  size = answer();
  EXPECT_EQ(ttls_of(buffer, size), (std::vector<uint32_t>{20, 70, 70}));
  auto hit = cache.lookup(name("www.example.com"), rrtype::A, rrclass::IN, 0);
  ASSERT_TRUE(hit);
  EXPECT_EQ(ttls_of(reinterpret_cast<const uint8_t *>(hit->wire.data()), hit->wire.size()),
            (std::vector<uint32_t>{20, 70, 70}));
  clock.advance_seconds(69);
  size = answer();
  EXPECT_EQ(ttls_of(buffer, size), (std::vector<uint32_t>{0, 1, 1}));
}

TEST_F(MessageCacheTest, EntryExpiresAfterItsTtl) {
  store_example(0, 60);
  clock.advance_seconds(59);
  EXPECT_GT(answer(), 0u);
  clock.advance_seconds(1);
  EXPECT_EQ(answer(), 0u);
  EXPECT_FALSE(cache.lookup(name("www.example.com"), rrtype::A, rrclass::IN, 0));
}

TEST_F(MessageCacheTest, DoAndCdKeepSeparateEntries) {
  store_example(message_flags::DO);
  EXPECT_EQ(answer(0), 0u);
  EXPECT_EQ(answer(message_flags::CD), 0u);
  EXPECT_GT(answer(message_flags::DO), 0u);
  EXPECT_EQ(answer(message_flags::DO | message_flags::CD), 0u);
  store_example(message_flags::DO | message_flags::CD);
  store_example(0);
  EXPECT_GT(answer(message_flags::DO | message_flags::CD), 0u);
  EXPECT_GT(answer(0), 0u);
  EXPECT_EQ(cache.entry_count(), 3u);
  cache.erase(name("WWW.example.com"), rrtype::A, rrclass::IN, message_flags::DO);
  EXPECT_EQ(answer(message_flags::DO), 0u);
  EXPECT_EQ(cache.entry_count(), 2u);
}

TEST_F(MessageCacheTest, TooSmallABufferIsAMiss) {
  store_example();
  const size_t size = example_reply().wire.size();
  EXPECT_EQ(cache.answer_into(lowered_wire("www.example.com"), rrtype::A, rrclass::IN, 0, buffer, size - 1),
            0u);
  EXPECT_EQ(cache.answer_into(lowered_wire("www.example.com"), rrtype::A, rrclass::IN, 0, buffer, size),
            size);
}

TEST_F(MessageCacheTest, KeysIgnoreCaseAndSeparateTypeAndClass) {
  EncodeResult reply = example_reply("WWW.Example.Com");
  cache.store(name("WWW.Example.Com"), rrtype::A, rrclass::IN, 0, reply.wire, reply.ttl_offsets, 300,
              Security::insecure, rcode::NOERROR);
  EXPECT_GT(answer(), 0u);
  EXPECT_TRUE(cache.lookup(name("www.EXAMPLE.com"), rrtype::A, rrclass::IN, 0));
  EXPECT_EQ(
      cache.answer_into(lowered_wire("www.example.com"), rrtype::AAAA, rrclass::IN, 0, buffer, sizeof buffer),
      0u);
  EXPECT_EQ(
      cache.answer_into(lowered_wire("www.example.com"), rrtype::A, rrclass::CH, 0, buffer, sizeof buffer),
      0u);
}

TEST_F(MessageCacheTest, LookupReturnsACopyWithTtlsCountedDown) {
  EncodeResult reply = example_reply();
  store_example();
  const int64_t stored_at = clock.now_seconds();
  clock.advance_seconds(10);
  auto hit = cache.lookup(name("www.example.com"), rrtype::A, rrclass::IN, 0);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->ttl_offsets, reply.ttl_offsets);
  EXPECT_EQ(hit->stored_at, stored_at);
  EXPECT_EQ(hit->expires_at, stored_at + 3600);
  EXPECT_EQ(hit->security, Security::insecure);
  EXPECT_EQ(hit->rcode, rcode::NOERROR);
  EXPECT_EQ(ttls_of(reinterpret_cast<const uint8_t *>(hit->wire.data()), hit->wire.size()),
            (std::vector<uint32_t>{40, 290, 3590}));
}

TEST_F(MessageCacheTest, MalformedOffsetsOrZeroTtlStoreNothing) {
  store_example();
  EncodeResult reply = example_reply();
  auto offsets = reply.ttl_offsets;
  offsets.push_back(static_cast<uint16_t>(reply.wire.size() - 2));
  cache.store(name("www.example.com"), rrtype::A, rrclass::IN, 0, reply.wire, offsets, 300,
              Security::insecure, rcode::NOERROR);
  EXPECT_EQ(answer(), 0u);  // and the older entry is gone too
  cache.store(name("www.example.com"), rrtype::A, rrclass::IN, 0, reply.wire, reply.ttl_offsets, 0,
              Security::insecure, rcode::NOERROR);
  EXPECT_EQ(answer(), 0u);
  EXPECT_EQ(cache.entry_count(), 0u);
}

TEST_F(MessageCacheTest, NegativeAnswerWithoutRecords) {
  Message m;
  m.qr = true;
  m.rcode = rcode::NXDOMAIN;
  m.questions.push_back(Question{name("nope.example"), rrtype::A, rrclass::IN});
  EncodeResult reply = encode_message(m);
  cache.store(name("nope.example"), rrtype::A, rrclass::IN, 0, reply.wire, reply.ttl_offsets, 30,
              Security::insecure, rcode::NXDOMAIN);
  EXPECT_EQ(cache.answer_into(lowered_wire("nope.example"), rrtype::A, rrclass::IN, 0, buffer, sizeof buffer),
            reply.wire.size());
  EXPECT_EQ(cache.lookup(name("nope.example"), rrtype::A, rrclass::IN, 0)->rcode, rcode::NXDOMAIN);
}

TEST(MessageCacheMemory, StaysWithinItsByteBound) {
  ManualClock clock;
  MessageCache cache(clock, 256 * 1024, 16);
  for (int i = 0; i < 20000; ++i) {
    const std::string qname = "host" + std::to_string(i) + ".example.com";
    EncodeResult reply = example_reply(qname.c_str());
    cache.store(name(qname.c_str()), rrtype::A, rrclass::IN, 0, std::move(reply.wire),
                std::move(reply.ttl_offsets), 300, Security::insecure, rcode::NOERROR);
  }
  EXPECT_LE(cache.memory_bytes(), 256u * 1024);
  EXPECT_GT(cache.entry_count(), 100u);
  EXPECT_TRUE(cache.lookup(name("host19999.example.com"), rrtype::A, rrclass::IN, 0));
}

// The shape of the fast-path benchmark, asserting only correctness: many hits in a row
// from a stack buffer, each one a complete, parseable reply.
TEST_F(MessageCacheTest, ManyHitsInARowStayCorrect) {
  store_example();
  const std::string qname = lowered_wire("www.example.com");
  const size_t expected = example_reply().wire.size();
  size_t total = 0;
  for (int i = 0; i < 100000; ++i) {
    uint8_t out[512];
    total += cache.answer_into(qname, rrtype::A, rrclass::IN, 0, out, sizeof out);
    if (i % 10000 == 0) {
      clock.advance_seconds(1);
      EXPECT_EQ(ttls_of(out, expected).size(), 3u);
    }
  }
  EXPECT_EQ(total, expected * 100000);
}

TEST(MessageCacheConcurrency, TwoThreadsStoreAndAnswer) {
  ManualClock clock;
  MessageCache cache(clock, 128 * 1024, 4);
  auto work = [&](int seed) {
    uint8_t out[1024];
    for (int i = 0; i < 4000; ++i) {
      const std::string qname = "h" + std::to_string((i * 11 + seed) % 200) + ".example";
      if (i % 4 == 0) {
        EncodeResult reply = example_reply(qname.c_str());
        cache.store(name(qname.c_str()), rrtype::A, rrclass::IN, 0, std::move(reply.wire),
                    std::move(reply.ttl_offsets), 300, Security::insecure, rcode::NOERROR);
      } else if (i % 97 == 1) {
        cache.erase(name(qname.c_str()), rrtype::A, rrclass::IN, 0);
      } else {
        cache.answer_into(name(qname.c_str()).lowered().wire(), rrtype::A, rrclass::IN, 0, out, sizeof out);
      }
    }
  };
  std::thread a(work, 1), b(work, 2);
  a.join();
  b.join();
  EXPECT_LE(cache.memory_bytes(), 128u * 1024);
}


// --- serve-stale (RFC 8767) -----------------------------------------------------------

TEST_F(MessageCacheTest, StaleLookupGivesAnExpiredEntryWithTheStaleTtl) {
  store_example(0, 60);
  EXPECT_FALSE(cache.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, 0, 86400, 30))
      << "a live entry is the fast path's, never a stale answer";
  clock.advance_seconds(61);
  EXPECT_EQ(answer(), 0u) << "the fast path never serves an expired entry";
  EXPECT_FALSE(cache.lookup(name("www.example.com"), rrtype::A, rrclass::IN, 0));
  auto stale = cache.lookup_stale(name("WWW.example.com"), rrtype::A, rrclass::IN, 0, 86400, 30);
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(stale->security, Security::insecure);
  EXPECT_EQ(ttls_of(reinterpret_cast<const uint8_t *>(stale->wire.data()), stale->wire.size()),
            (std::vector<uint32_t>{30, 30, 30}));
  EXPECT_FALSE(cache.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, message_flags::DO, 86400, 30))
      << "DO and CD keep their own entries, stale or not";
}

TEST_F(MessageCacheTest, StaleLookupStopsAtMaxStale) {
  store_example(0, 60);
  clock.advance_seconds(60 + 3599);
  EXPECT_TRUE(cache.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, 0, 3600, 30));
  clock.advance_seconds(1);
  EXPECT_FALSE(cache.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, 0, 3600, 30));
  EXPECT_EQ(cache.entry_count(), 1u) << "kept until the LRU needs the room";
}

TEST_F(MessageCacheTest, BogusIsNeverStale) {
  EncodeResult reply = example_reply();
  cache.store(name("www.example.com"), rrtype::A, rrclass::IN, 0, reply.wire, reply.ttl_offsets, 60,
              Security::bogus, rcode::NOERROR);
  clock.advance_seconds(61);
  EXPECT_FALSE(cache.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, 0, 86400, 30));
}

TEST_F(MessageCacheTest, SecureIsStaleOnlyWhileItsSignaturesAreValid) {
  EncodeResult reply = example_reply();
  const int64_t now = clock.now_seconds();
  cache.store(name("www.example.com"), rrtype::A, rrclass::IN, message_flags::DO, reply.wire, reply.ttl_offsets,
              60, Security::secure, rcode::NOERROR, now + 100);
  cache.store(name("www.example.com"), rrtype::A, rrclass::IN, 0, reply.wire, reply.ttl_offsets, 60,
              Security::secure, rcode::NOERROR, 0);
  clock.advance_seconds(90);
  auto stale = cache.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, message_flags::DO, 86400, 30);
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->security, Security::secure) << "stale data keeps its status";
  EXPECT_FALSE(cache.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, 0, 86400, 30))
      << "secure without a known signature expiry: not served stale";
  clock.advance_seconds(10);
  EXPECT_FALSE(cache.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, message_flags::DO, 86400, 30))
      << "its RRSIGs have expired: it would not validate now";
}

TEST_F(MessageCacheTest, RefreshFailureIsRememberedOnEveryVariant) {
  store_example(0, 60);
  store_example(message_flags::DO, 60);
  clock.advance_seconds(61);
  const int64_t until = clock.now_seconds() + 30;
  cache.note_refresh_failure(name("www.example.com"), rrtype::A, rrclass::IN, until);
  for (uint8_t flags : {uint8_t{0}, message_flags::DO}) {
    auto stale = cache.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, flags, 86400, 30);
    ASSERT_TRUE(stale);
    EXPECT_EQ(stale->refresh_failed_until, until);
  }
  store_example(0, 60);
  clock.advance_seconds(61);
  auto renewed = cache.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, 0, 86400, 30);
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->refresh_failed_until, 0) << "a new answer starts afresh";
}

// --- prefetch ---------------------------------------------------------------------------

TEST_F(MessageCacheTest, PrefetchIsDueInTheLastTenthOfTheTtlAndClaimedOnce) {
  store_example(0, 100);
  auto due_at = [&]() {
    bool due = false;
    EXPECT_GT(cache.answer_into(lowered_wire("www.example.com"), rrtype::A, rrclass::IN, 0, buffer, sizeof buffer,
                                nullptr, &due),
              0u);
    return due;
  };
  clock.advance_seconds(89);
  EXPECT_FALSE(due_at()) << "11 s of 100 left";
  clock.advance_seconds(1);
  EXPECT_TRUE(due_at()) << "10 s of 100 left";
  EXPECT_TRUE(due_at()) << "due until claimed";
  EXPECT_TRUE(cache.claim_prefetch(lowered_wire("www.example.com"), rrtype::A, rrclass::IN, 0));
  EXPECT_FALSE(cache.claim_prefetch(lowered_wire("www.example.com"), rrtype::A, rrclass::IN, 0))
      << "one prefetch per entry at a time";
  EXPECT_FALSE(due_at());
  store_example(0, 100);  // the refreshed answer
  clock.advance_seconds(95);
  EXPECT_TRUE(due_at()) << "the new entry may be prefetched in its turn";
  clock.advance_seconds(5);
  EXPECT_FALSE(cache.claim_prefetch(lowered_wire("www.example.com"), rrtype::A, rrclass::IN, 0))
      << "an expired entry is not prefetched";
}

TEST_F(MessageCacheTest, ShortLivedEntriesAreNeverPrefetched) {
  store_example(0, MessageCache::kPrefetchMinTtl - 1);
  clock.advance_seconds(MessageCache::kPrefetchMinTtl - 2);
  bool due = false;
  EXPECT_GT(cache.answer_into(lowered_wire("www.example.com"), rrtype::A, rrclass::IN, 0, buffer, sizeof buffer, nullptr, &due),
            0u);
  EXPECT_FALSE(due);
}

TEST_F(MessageCacheTest, ExportGivesEveryEntryAndRestorePutsItBack) {
  store_example(0, 60);
  store_example(message_flags::DO | message_flags::CD, 3600);
  const int64_t stored_at = clock.now_seconds();
  std::vector<MessageRecord> records;
  for (size_t shard = 0; shard < cache.shard_count(); ++shard)
    cache.export_shard(shard, [&](const MessageRecord &r) { records.push_back(r); });
  ASSERT_EQ(records.size(), 2u);
  MessageCache other(clock, 1 << 20);
  for (auto &r : records) {
    EXPECT_EQ(r.stored_at, stored_at);
    EXPECT_EQ(r.wire, example_reply().wire);
    EXPECT_TRUE(other.restore(name("www.example.com"), rrtype::A, rrclass::IN, r, example_reply().ttl_offsets));
  }
  clock.advance_seconds(10);
  size_t size = other.answer_into(lowered_wire("www.example.com"), rrtype::A, rrclass::IN,
                                  message_flags::DO | message_flags::CD, buffer, sizeof buffer);
  EXPECT_EQ(ttls_of(buffer, size), (std::vector<uint32_t>{40, 290, 3590})) << "aged from its own stored_at";
  clock.advance_seconds(60);
  EXPECT_EQ(other.answer_into(lowered_wire("www.example.com"), rrtype::A, rrclass::IN, 0, buffer, sizeof buffer), 0u);
  EXPECT_TRUE(other.lookup_stale(name("www.example.com"), rrtype::A, rrclass::IN, 0, 86400, 30));
}

}  // namespace
}  // namespace rsv
