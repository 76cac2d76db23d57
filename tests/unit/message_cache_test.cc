#include "cache/message_cache.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "resolver/wire/message.h"

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
  void store_example(uint8_t flags = 0, uint32_t ttl_seconds = 300) {
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
  EXPECT_EQ(hit->expires_at, stored_at + 300);
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

}  // namespace
}  // namespace rsv
