// The cache snapshot (cache/snapshot.h): a round trip through the format, time and
// signatures judged again on loading, and every way a file can be wrong: truncated,
// bit-flipped, foreign, of another version or context, or with absurd lengths. A file
// that is wrong is ignored whole, with a reason; nothing of it reaches the caches.
#include "cache/snapshot.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "resolver/wire/message.h"
#include "tests/unit/rrsig_rdata.h"

namespace rsv {
namespace {

Name name(const char *text) { return *Name::from_text(text); }

constexpr const char *kContext = "dnssec: {validation: true}\n. DS 20326 8 2 ABCD\n";

uint32_t read_u32(const std::string &bytes, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3]));
}
void write_u32(std::string &bytes, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(v >> (24 - 8 * i));
}
// Makes the checksum right again, so that what lies behind it is what gets tested.
void fix_crc(std::string &bytes) {
  const uLong crc = ::crc32(::crc32(0, nullptr, 0), reinterpret_cast<const Bytef *>(bytes.data()),
                            static_cast<uInt>(bytes.size() - 4));
  write_u32(bytes, bytes.size() - 4, static_cast<uint32_t>(crc));
}

struct Caches {
  explicit Caches(const Clock &clock) : messages(clock, 4 << 20), rrsets(clock, 4 << 20, TtlPolicy{}) {}
  MessageCache messages;
  RRsetCache rrsets;
  bool empty() const { return messages.entry_count() == 0 && rrsets.entry_count() == 0; }
};

// A reply as the query handler stores it, for `qname` A.
EncodeResult reply_for(const char *qname, uint32_t ttl, bool ad = false,
                       std::vector<ResourceRecord> signatures = {}) {
  Message m;
  m.qr = m.rd = m.ra = true;
  m.ad = ad;
  m.questions.push_back(Question{name(qname), rrtype::A, rrclass::IN});
  m.answer.push_back(ResourceRecord{name(qname), rrtype::A, rrclass::IN, ttl, std::string("\xC0\x00\x02\x07", 4)});
  for (auto &sig : signatures) m.answer.push_back(std::move(sig));
  return encode_message(m);
}

EncodeResult nxdomain_for(const char *qname, uint32_t ttl) {
  Message m;
  m.qr = m.rd = m.ra = true;
  m.rcode = rcode::NXDOMAIN;
  m.questions.push_back(Question{name(qname), rrtype::A, rrclass::IN});
  m.authority.push_back(ResourceRecord{name("example."), rrtype::SOA, rrclass::IN, ttl,
                                       name("ns.example.").wire() + name("h.example.").wire() +
                                           std::string("\0\0\0\1\0\0\0\1\0\0\0\1\0\0\0\1\0\0\0\x3c", 20)});
  return encode_message(m);
}

class SnapshotTest : public ::testing::Test {
protected:
  SnapshotTest() : source(clock) {}

  // A small cache with every kind of entry: answers insecure, secure (with and
  // without DO), negative; RRsets secure, unchecked glue, expired.
  void fill() {
    const int64_t now = clock.now_seconds();
    auto store = [&](const char *qname, uint8_t flags, EncodeResult reply, uint32_t ttl, Security security,
                     uint16_t rcode_value, int64_t signatures_expire_at = 0) {
      source.messages.store(name(qname), rrtype::A, rrclass::IN, flags, std::move(reply.wire),
                            std::move(reply.ttl_offsets), ttl, security, rcode_value, signatures_expire_at);
    };
    store("www.example.", 0, reply_for("www.example.", 300), 300, Security::insecure, rcode::NOERROR);
    store("short.example.", 0, reply_for("short.example.", 60), 60, Security::insecure, rcode::NOERROR);
    store("gone.example.", 0, nxdomain_for("gone.example.", 60), 60, Security::insecure, rcode::NXDOMAIN);
    const ResourceRecord sig = testing::rrsig(name("secure.example."), rrtype::A, now - 100, now + 7200,
                                              name("example."));
    store("secure.example.", message_flags::DO, reply_for("secure.example.", 300, true, {sig}), 300,
          Security::secure, rcode::NOERROR, now + 7200);
    store("secure.example.", 0, reply_for("secure.example.", 300, true), 300, Security::secure, rcode::NOERROR,
          now + 7200);

    RRset ns;
    ns.owner = name("example.");
    ns.type = rrtype::NS;
    ns.add(name("ns.example.").wire(), 3600);
    ns.signatures.push_back(testing::rrsig(name("example."), rrtype::NS, now - 100, now + 7200, name("example.")));
    ASSERT_TRUE(source.rrsets.store(ns, Trust::authoritative, Security::secure));
    RRset glue;
    glue.owner = name("ns.example.");
    glue.type = rrtype::A;
    glue.add(std::string("\xC0\x00\x02\x35", 4), 600);
    ASSERT_TRUE(source.rrsets.store(glue, Trust::glue, Security::unchecked));
  }

  SnapshotWriteOptions write_options() const {
    SnapshotWriteOptions options;
    options.context = kContext;
    options.now = clock.now_seconds();
    options.max_stale = 86400;
    return options;
  }
  SnapshotLoadOptions load_options() const {
    SnapshotLoadOptions options;
    options.context = kContext;
    options.now = clock.now_seconds();
    options.max_stale = 86400;
    options.max_ttl = 86400;
    return options;
  }
  std::string encode() { return encode_snapshot(source.messages, source.rrsets, write_options()); }
  SnapshotLoadResult load(const std::string &bytes, Caches &into) {
    return load_snapshot(bytes, into.messages, into.rrsets, load_options());
  }
  size_t answer(Caches &c, const char *qname, uint8_t flags = 0) {
    return c.messages.answer_into(name(qname).lowered().wire(), rrtype::A, rrclass::IN, flags, buffer,
                                  sizeof buffer);
  }
  Message answer_message(Caches &c, const char *qname, uint8_t flags = 0) {
    const size_t size = answer(c, qname, flags);
    ParseError error;
    auto m = parse_message(buffer, size, &error);
    EXPECT_TRUE(m) << qname;
    return m.value_or(Message{});
  }

  ManualClock clock;
  Caches source;
  uint8_t buffer[4096];
};

TEST_F(SnapshotTest, RoundTripRestoresEverythingWithAgedTtls) {
  fill();
  size_t messages = 0, rrsets = 0;
  const std::string bytes = encode_snapshot(source.messages, source.rrsets, write_options(), &messages, &rrsets);
  EXPECT_EQ(messages, 5u);
  EXPECT_EQ(rrsets, 2u);
  clock.advance_seconds(100);  // the daemon was down for 100 s
  Caches restored(clock);
  const SnapshotLoadResult result = load(bytes, restored);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.written_at, clock.now_seconds() - 100);
  EXPECT_EQ(result.messages, 5u);
  EXPECT_EQ(result.rrsets, 2u);
  EXPECT_EQ(result.stale, 2u) << "short and gone (TTL 60) are past their TTL";
  EXPECT_EQ(result.dropped_expired + result.dropped_signatures + result.not_stored, 0u);

  Message www = answer_message(restored, "www.example.");
  ASSERT_EQ(www.answer.size(), 1u);
  EXPECT_EQ(www.answer[0].ttl, 200u) << "aged by the time elapsed";
  EXPECT_FALSE(www.ad);
  EXPECT_EQ(answer(restored, "short.example."), 0u) << "expired: never from the fast path";
  auto stale = restored.messages.lookup_stale(name("short.example."), rrtype::A, rrclass::IN, 0, 86400, 30);
  ASSERT_TRUE(stale) << "kept for serve-stale";
  auto gone = restored.messages.lookup_stale(name("gone.example."), rrtype::A, rrclass::IN, 0, 86400, 30);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->rcode, rcode::NXDOMAIN);

  Message secure = answer_message(restored, "secure.example.", message_flags::DO);
  EXPECT_TRUE(secure.ad) << "security status travels with the answer";
  ASSERT_EQ(secure.answer.size(), 2u);
  EXPECT_EQ(secure.answer[1].type, rrtype::RRSIG);
  EXPECT_TRUE(answer_message(restored, "secure.example.").ad);
  auto ns = restored.rrsets.lookup(name("example."), rrtype::NS);
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->security, Security::secure);
  EXPECT_EQ(ns->trust, Trust::authoritative);
  EXPECT_EQ(ns->rrset.ttl, 3500u);
  EXPECT_EQ(ns->rrset.signatures.size(), 1u);
  auto glue = restored.rrsets.lookup(name("ns.example."), rrtype::A);
  ASSERT_TRUE(glue);
  EXPECT_EQ(glue->trust, Trust::glue);
  EXPECT_EQ(glue->security, Security::unchecked);
}

TEST_F(SnapshotTest, EntriesPastMaxStaleAreDroppedAndBogusIsNeverWritten) {
  fill();
  EncodeResult bogus = reply_for("bogus.example.", 300);
  source.messages.store(name("bogus.example."), rrtype::A, rrclass::IN, 0, bogus.wire, bogus.ttl_offsets, 300,
                        Security::bogus, rcode::NOERROR);
  RRset bogus_set;
  bogus_set.owner = name("bogus.example.");
  bogus_set.type = rrtype::TXT;
  bogus_set.add("\x03" "bad", 60);
  ASSERT_TRUE(source.rrsets.store(bogus_set, Trust::authoritative, Security::bogus));
  size_t messages = 0, rrsets = 0;
  const std::string bytes = encode_snapshot(source.messages, source.rrsets, write_options(), &messages, &rrsets);
  EXPECT_EQ(messages, 5u) << "bogus answers are not written";
  EXPECT_EQ(rrsets, 2u) << "nor bogus RRsets";

  clock.advance_seconds(60 + 86400);  // short and gone are now max-stale past their TTL
  Caches restored(clock);
  SnapshotLoadOptions options = load_options();
  const SnapshotLoadResult result = load_snapshot(bytes, restored.messages, restored.rrsets, options);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.dropped_expired, 2u);
  EXPECT_FALSE(restored.messages.lookup_stale(name("short.example."), rrtype::A, rrclass::IN, 0, 86400, 30));
  EXPECT_FALSE(restored.messages.lookup_stale(name("bogus.example."), rrtype::A, rrclass::IN, 0, 86400, 30));
}

TEST_F(SnapshotTest, SecureEntriesWhoseSignaturesExpiredAreDropped) {
  fill();
  const std::string bytes = encode();
  // Two hours later the RRSIGs (valid for 7200 s) have expired; everything else is
  // still within max-stale.
  clock.advance_seconds(7201);
  Caches restored(clock);
  const SnapshotLoadResult result = load(bytes, restored);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.dropped_signatures, 3u) << "both secure answers and the secure NS set";
  EXPECT_FALSE(restored.messages.lookup_stale(name("secure.example."), rrtype::A, rrclass::IN, message_flags::DO,
                                              86400, 30));
  EXPECT_FALSE(restored.messages.lookup_stale(name("secure.example."), rrtype::A, rrclass::IN, 0, 86400, 30));
  EXPECT_FALSE(restored.rrsets.lookup_stale(name("example."), rrtype::NS, 86400));
  EXPECT_TRUE(restored.messages.lookup_stale(name("www.example."), rrtype::A, rrclass::IN, 0, 86400, 30))
      << "insecure data has no signatures to outlive";
}

TEST_F(SnapshotTest, SignaturesNotYetValidAreDroppedToo) {
  const int64_t now = clock.now_seconds();
  const ResourceRecord sig = testing::rrsig(name("future.example."), rrtype::A, now + 500, now + 7200,
                                            name("example."));
  EncodeResult reply = reply_for("future.example.", 300, true, {sig});
  source.messages.store(name("future.example."), rrtype::A, rrclass::IN, message_flags::DO, reply.wire,
                        reply.ttl_offsets, 300, Security::secure, rcode::NOERROR, now + 7200);
  Caches restored(clock);
  const SnapshotLoadResult result = load(encode(), restored);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.dropped_signatures, 1u);
  EXPECT_TRUE(restored.empty());
}

TEST_F(SnapshotTest, OnlySecureAnswersComeBackWithAd) {
  // An insecure entry whose stored reply has AD set (no writer of ours makes one; a
  // file may): the restored reply says nothing it cannot back.
  EncodeResult reply = reply_for("claims.example.", 300, true);
  source.messages.store(name("claims.example."), rrtype::A, rrclass::IN, 0, reply.wire, reply.ttl_offsets, 300,
                        Security::insecure, rcode::NOERROR);
  Caches restored(clock);
  ASSERT_TRUE(load(encode(), restored).ok);
  EXPECT_FALSE(answer_message(restored, "claims.example.").ad);
}

TEST_F(SnapshotTest, TtlsLongerThanMaxTtlAreDropped) {
  fill();
  const std::string bytes = encode();
  Caches restored(clock);
  SnapshotLoadOptions options = load_options();
  options.max_ttl = 500;  // the NS set (3600) and glue (600) live longer than max-ttl allows now
  const SnapshotLoadResult result = load_snapshot(bytes, restored.messages, restored.rrsets, options);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.dropped_expired, 2u);
  EXPECT_EQ(restored.rrsets.entry_count(), 0u);
}

TEST_F(SnapshotTest, RestoredTtlsNeverSayMoreThanWasWrittenLessTheTimeSince) {
  // Both stored 100 s after the file's time (while it was being written, say): their
  // TTLs count from the file's time, not from later.
  const SnapshotWriteOptions written_before = write_options();
  clock.advance_seconds(100);
  // A negative answer whose SOA has a longer TTL (3600) than the entry lives (60, as
  // max-negative-ttl makes it): restored, no TTL in it outlives the entry.
  EncodeResult negative = nxdomain_for("neg.example.", 3600);
  source.messages.store(name("neg.example."), rrtype::A, rrclass::IN, 0, negative.wire, negative.ttl_offsets,
                        60, Security::insecure, rcode::NXDOMAIN);
  EncodeResult late = reply_for("late.example.", 300);
  source.messages.store(name("late.example."), rrtype::A, rrclass::IN, 0, late.wire, late.ttl_offsets, 300,
                        Security::insecure, rcode::NOERROR);
  const std::string bytes = encode_snapshot(source.messages, source.rrsets, written_before);
  clock.advance_seconds(30);  // 130 s after the file's time
  Caches restored(clock);
  ASSERT_TRUE(load(bytes, restored).ok);
  Message neg = answer_message(restored, "neg.example.");
  ASSERT_EQ(neg.authority.size(), 1u);
  EXPECT_LE(neg.authority[0].ttl, 60u + 100u - 130u) << "the SOA may not live longer than the entry";
  Message fresh = answer_message(restored, "late.example.");
  ASSERT_EQ(fresh.answer.size(), 1u);
  EXPECT_LE(fresh.answer[0].ttl, 300u - 130u) << "aged from the time the file says it was written";
}

// --- files that are wrong ---------------------------------------------------------

TEST_F(SnapshotTest, EveryTruncationIsRejectedWhole) {
  fill();
  const std::string bytes = encode();
  for (size_t length = 0; length < bytes.size(); ++length) {
    Caches restored(clock);
    const SnapshotLoadResult result = load(bytes.substr(0, length), restored);
    EXPECT_FALSE(result.ok) << "length " << length;
    EXPECT_FALSE(result.error.empty()) << "length " << length;
    EXPECT_TRUE(restored.empty()) << "length " << length;
  }
}

TEST_F(SnapshotTest, EveryBitFlipIsRejectedWhole) {
  fill();
  const std::string bytes = encode();
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (int bit : {0, 3, 7}) {
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ (1 << bit));
      Caches restored(clock);
      const SnapshotLoadResult result = load(damaged, restored);
      ASSERT_FALSE(result.ok) << "octet " << at << " bit " << bit;
      EXPECT_TRUE(restored.empty()) << "octet " << at << " bit " << bit;
    }
  }
}

TEST_F(SnapshotTest, ForeignFilesAreRecognised) {
  fill();
  const std::string bytes = encode();
  Caches restored(clock);
  EXPECT_EQ(load("", restored).error, "not a resolverd cache snapshot (no RSVDSNAP magic)");
  EXPECT_EQ(load("# a YAML file\nlisten: []\n", restored).error, "not a resolverd cache snapshot (no RSVDSNAP magic)");
  // The same layout from another program: magic and checksum right, writer not.
  std::string other = bytes;
  other.replace(11, 9, "unboundxx");
  fix_crc(other);
  EXPECT_EQ(load(other, restored).error, "written by 'unboundxx', not by resolverd");
  std::string version = bytes;
  version[9] = 2;
  fix_crc(version);
  EXPECT_EQ(load(version, restored).error, "format version 2; this resolverd reads version 1");
  EXPECT_EQ(load(bytes.substr(0, bytes.size() - 1) + "x", restored).error,
            "checksum mismatch (the file is corrupt or truncated)");
  EXPECT_TRUE(restored.empty());
}

TEST_F(SnapshotTest, AnotherValidationContextOrAFutureDateIsRefused) {
  fill();
  const std::string bytes = encode();
  Caches restored(clock);
  SnapshotLoadOptions options = load_options();
  const std::string other_anchors = std::string(kContext) + "example. DS 1 8 2 EF\n";
  options.context = other_anchors;
  SnapshotLoadResult result = load_snapshot(bytes, restored.messages, restored.rrsets, options);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("other DNSSEC settings, trust anchors or forwarding"), std::string::npos) << result.error;
  options = load_options();
  options.now -= 3600;  // the clock went back an hour since writing
  result = load_snapshot(bytes, restored.messages, restored.rrsets, options);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "written 3600 s in the future: the clock stepped back, or the file is not this host's");
  EXPECT_TRUE(restored.empty());
}

// Layout offsets of the file encode() makes (see cache/snapshot.h).
size_t first_record(const std::string &bytes) {
  const size_t writer = 8 + 2;
  const size_t after_writer = writer + 1 + static_cast<uint8_t>(bytes[writer]);
  return after_writer + 8 + 4 + read_u32(bytes, after_writer + 8);
}

TEST_F(SnapshotTest, AbsurdLengthsAndCountsAreRejectedWithAValidChecksum) {
  fill();
  const std::string bytes = encode();
  const size_t record = first_record(bytes);
  ASSERT_EQ(bytes[record], 1) << "a message record comes first";
  Caches restored(clock);

  std::string huge = bytes;
  write_u32(huge, record + 1, 0xFFFFFFFF);
  fix_crc(huge);
  EXPECT_EQ(load(huge, restored).error, "record 0 with an impossible length");

  std::string longer = bytes;  // a length that runs into the next record
  write_u32(longer, record + 1, read_u32(bytes, record + 1) + 3);
  fix_crc(longer);
  EXPECT_FALSE(load(longer, restored).ok);

  std::string kind = bytes;
  kind[record] = 9;
  fix_crc(kind);
  EXPECT_EQ(load(kind, restored).error, "record 0: unknown record kind 9");

  std::string count = bytes;
  write_u32(count, count.size() - 8, 99);
  fix_crc(count);
  EXPECT_EQ(load(count, restored).error, "the end marker counts 99 records, the file holds 7");

  std::string context = bytes;  // a context length beyond the file
  write_u32(context, 8 + 2 + 1 + 9 + 8, 0x7FFFFFFF);
  fix_crc(context);
  EXPECT_EQ(load(context, restored).error, "header with an impossible length");

  std::string trailing = bytes.substr(0, bytes.size() - 4) + "junk" + bytes.substr(bytes.size() - 4);
  fix_crc(trailing);
  EXPECT_EQ(load(trailing, restored).error, "octets after the end marker");
  EXPECT_TRUE(restored.empty());
}

TEST_F(SnapshotTest, ARecordWrongPartWayLeavesNothingOfTheFileInTheCaches) {
  // The file is read in one pass: the records before the wrong one are restored by the
  // time it is found, and then flushed again.
  fill();
  const std::string bytes = encode();
  size_t record = first_record(bytes);
  for (int skipped = 0; skipped < 6; ++skipped) record += 5 + read_u32(bytes, record + 1);
  ASSERT_EQ(bytes[record], 2) << "the last of the 7 records, an RRset";
  std::string damaged = bytes;
  damaged[record] = 9;
  fix_crc(damaged);
  Caches restored(clock);
  const SnapshotLoadResult result = load(damaged, restored);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "record 6: unknown record kind 9");
  EXPECT_TRUE(restored.empty()) << "the six good records before it are gone again";
  EXPECT_EQ(result.messages + result.rrsets + result.stale, 0u) << "and not counted as restored";
  EXPECT_EQ(answer(restored, "www.example."), 0u);
  EXPECT_TRUE(load(bytes, restored).ok) << "the file as written";
  EXPECT_EQ(restored.messages.entry_count(), 5u);
}

TEST_F(SnapshotTest, RecordsNoWriterMakesAreRejected) {
  EncodeResult reply = reply_for("www.example.", 300);
  source.messages.store(name("www.example."), rrtype::A, rrclass::IN, 0, reply.wire, reply.ttl_offsets, 300,
                        Security::insecure, rcode::NOERROR);
  const std::string bytes = encode();
  const size_t payload = first_record(bytes) + 5;
  Caches restored(clock);
  auto with = [&](size_t offset, char value) {
    std::string changed = bytes;
    changed[payload + offset] = value;
    fix_crc(changed);
    return load(changed, restored).error;
  };
  EXPECT_EQ(with(0, 4), "record 0: message record with unknown flags");
  EXPECT_EQ(with(1, static_cast<char>(Security::bogus)), "record 0: message record with an impossible security status");
  EXPECT_EQ(with(1, 9), "record 0: message record with an impossible security status");
  EXPECT_EQ(with(3, 2), "record 0: message record with rcode 2");
  // stored_at after expires_at (by 2^32 s)
  std::string times = bytes;
  times[payload + 4 + 3] = 0x01;
  fix_crc(times);
  EXPECT_EQ(load(times, restored).error, "record 0: message record with a lifetime that no TTL gives");
  // Times so far apart that subtracting them overflows (found by cache_snapshot_fuzz).
  std::string extreme = bytes;
  for (int i = 0; i < 8; ++i) {
    extreme[payload + 4 + i] = static_cast<char>(i == 0 ? 0xBF : 0x00);   // stored_at < 0
    extreme[payload + 12 + i] = static_cast<char>(i == 0 ? 0x65 : 0x55);  // expires_at ~ 7.3e18
  }
  fix_crc(extreme);
  EXPECT_EQ(load(extreme, restored).error, "record 0: message record with a time no clock shows");
  // The reply itself damaged behind a valid checksum.
  std::string reply_damage = bytes;
  reply_damage[payload + 28 + 5] = 7;  // QDCOUNT 7
  fix_crc(reply_damage);
  EXPECT_NE(load(reply_damage, restored).error.find("record 0: message record whose reply does not parse"),
            std::string::npos);
  EXPECT_TRUE(restored.empty());
}

// --- the file ---------------------------------------------------------------------

class SnapshotFileTest : public SnapshotTest {
protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "snapshot_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string dir;
};

TEST_F(SnapshotFileTest, WritesAtomicallyAndReadsBack) {
  fill();
  const std::string path = dir + "/cache.db";
  const SnapshotWriteResult written = write_snapshot_file(path, source.messages, source.rrsets, write_options());
  ASSERT_TRUE(written.ok) << written.error;
  EXPECT_EQ(written.messages, 5u);
  EXPECT_EQ(written.rrsets, 2u);
  EXPECT_EQ(written.bytes, std::filesystem::file_size(path));
  // The temporary file (cache.db.tmp. and six random characters) became cache.db:
  // nothing else is in the directory.
  std::vector<std::string> files;
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    files.push_back(entry.path().filename().string());
  EXPECT_EQ(files, std::vector<std::string>{"cache.db"}) << "renamed into place, no temporary file left";
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u) << "what clients asked is private";

  Caches restored(clock);
  const SnapshotLoadResult result = load_snapshot_file(path, restored.messages, restored.rrsets, load_options());
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.messages, 5u);
  EXPECT_EQ(result.rrsets, 2u);
}

TEST_F(SnapshotFileTest, MissingUnreadableOrHugeFilesAreReported) {
  Caches restored(clock);
  SnapshotLoadResult missing = load_snapshot_file(dir + "/none.db", restored.messages, restored.rrsets, load_options());
  EXPECT_FALSE(missing.ok);
  EXPECT_TRUE(missing.missing);
  SnapshotLoadResult directory = load_snapshot_file(dir, restored.messages, restored.rrsets, load_options());
  EXPECT_FALSE(directory.ok);
  EXPECT_FALSE(directory.missing);
  EXPECT_EQ(directory.error, "not a regular file");
  fill();
  const std::string path = dir + "/cache.db";
  ASSERT_TRUE(write_snapshot_file(path, source.messages, source.rrsets, write_options()).ok);
  SnapshotLoadOptions options = load_options();
  options.max_file_bytes = 100;
  SnapshotLoadResult huge = load_snapshot_file(path, restored.messages, restored.rrsets, options);
  EXPECT_FALSE(huge.ok);
  EXPECT_NE(huge.error.find("more than a cache of this size can fill"), std::string::npos) << huge.error;
  EXPECT_TRUE(restored.empty());
}

TEST_F(SnapshotFileTest, AFailedWriteLeavesTheOldSnapshot) {
  fill();
  const std::string path = dir + "/cache.db";
  ASSERT_TRUE(write_snapshot_file(path, source.messages, source.rrsets, write_options()).ok);
  const auto before = std::filesystem::file_size(path);
  // The writer is told, once it has written everything, that its context no longer
  // holds (a negative trust anchor came or went meanwhile): it gives the file up.
  EncodeResult more = reply_for("more.example.", 300);
  source.messages.store(name("more.example."), rrtype::A, rrclass::IN, 0, more.wire, more.ttl_offsets, 300,
                        Security::insecure, rcode::NOERROR);
  SnapshotWriteOptions options = write_options();
  size_t asked = 0;
  options.still_valid = [&] {
    ++asked;
    return false;
  };
  const SnapshotWriteResult given_up = write_snapshot_file(path, source.messages, source.rrsets, options);
  EXPECT_FALSE(given_up.ok);
  EXPECT_EQ(given_up.error, "given up: the validation context changed while it was written");
  EXPECT_EQ(asked, 1u);
  EXPECT_EQ(std::filesystem::file_size(path), before) << "the old snapshot stays";
  size_t files = 0;
  for (const auto &entry : std::filesystem::directory_iterator(dir)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u) << "and no temporary file is left";
  options.still_valid = [] { return true; };
  EXPECT_TRUE(write_snapshot_file(path, source.messages, source.rrsets, options).ok);
  EXPECT_GT(std::filesystem::file_size(path), before);
  // (A write that fails on the way, and the temporary file it leaves behind: in
  // private_file_test.cc, for the writer the snapshot and the state files share.)
  const SnapshotWriteResult nowhere =
      write_snapshot_file(dir + "/missing/cache.db", source.messages, source.rrsets, write_options());
  EXPECT_FALSE(nowhere.ok);
  EXPECT_EQ(nowhere.error.rfind("cannot create a temporary file beside " + dir + "/missing/cache.db", 0), 0u)
      << nowhere.error;
}

TEST_F(SnapshotFileTest, OnlyTheOwnersGivenAreTrusted) {
  fill();
  const std::string path = dir + "/cache.db";
  ASSERT_TRUE(write_snapshot_file(path, source.messages, source.rrsets, write_options()).ok);
  SnapshotLoadOptions options = load_options();
  options.owners = {::geteuid() + 1};  // the daemon's user is someone else
  Caches restored(clock);
  const SnapshotLoadResult refused = load_snapshot_file(path, restored.messages, restored.rrsets, options);
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("owned by uid " + std::to_string(::geteuid())), std::string::npos)
      << refused.error;
  EXPECT_TRUE(restored.empty());
  options.owners = {::geteuid() + 1, ::geteuid()};
  EXPECT_TRUE(load_snapshot_file(path, restored.messages, restored.rrsets, options).ok);
}

TEST_F(SnapshotFileTest, AFileOverTheLimitIsRefusedInMemoryToo) {
  fill();
  const std::string bytes = encode();
  SnapshotLoadOptions options = load_options();
  options.max_file_bytes = bytes.size() - 1;
  Caches restored(clock);
  const SnapshotLoadResult result = load_snapshot(bytes, restored.messages, restored.rrsets, options);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("more than a cache of this size can fill"), std::string::npos) << result.error;
  EXPECT_TRUE(restored.empty());
  options.max_file_bytes = bytes.size();
  EXPECT_TRUE(load_snapshot(bytes, restored.messages, restored.rrsets, options).ok);
}

std::string file_text(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(SnapshotFileTest, SymlinksPlantedBesideOrAtTheTargetAreNotFollowed) {
  fill();
  const std::string path = dir + "/cache.db";
  const std::string victim = dir + "/victim";
  std::ofstream(victim) << "precious";
  // Where a writer with a fixed temporary name would write (run as root, a link to
  // /etc/shadow there would have it overwritten).
  std::filesystem::create_symlink(victim, path + ".tmp");
  SnapshotWriteResult written = write_snapshot_file(path, source.messages, source.rrsets, write_options());
  ASSERT_TRUE(written.ok) << written.error;
  EXPECT_EQ(file_text(victim), "precious");
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::symlink_status(path)));
  // A link in place of the snapshot itself is replaced, not written through.
  std::filesystem::remove(path);
  std::filesystem::create_symlink(victim, path);
  written = write_snapshot_file(path, source.messages, source.rrsets, write_options());
  ASSERT_TRUE(written.ok) << written.error;
  EXPECT_EQ(file_text(victim), "precious");
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::symlink_status(path)));
  Caches restored(clock);
  EXPECT_TRUE(load_snapshot_file(path, restored.messages, restored.rrsets, load_options()).ok);
}

TEST_F(SnapshotFileTest, AFileSomeoneElseCouldHaveWrittenIsRefused) {
  fill();
  const std::string path = dir + "/cache.db";
  ASSERT_TRUE(write_snapshot_file(path, source.messages, source.rrsets, write_options()).ok);
  auto refused = [&](const std::string &file, const std::string &why) {
    Caches restored(clock);
    const SnapshotLoadResult result =
        load_snapshot_file(file, restored.messages, restored.rrsets, load_options());
    EXPECT_FALSE(result.ok) << why;
    EXPECT_FALSE(result.missing) << why;
    EXPECT_NE(result.error.find(why), std::string::npos) << result.error;
    EXPECT_TRUE(restored.empty()) << why;
  };
  ASSERT_EQ(::chmod(path.c_str(), 0620), 0);
  refused(path, "writable by its group or others");
  ASSERT_EQ(::chmod(path.c_str(), 0602), 0);
  refused(path, "writable by its group or others");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  // The default owners (the effective user and root) refuse a file of another user;
  // only root can give a file to one. (Whoever runs the tests, OnlyTheOwnersGivenAreTrusted
  // above checks the refusal of an owner not given, through SnapshotLoadOptions::owners.)
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(path.c_str(), 4242, 4242), 0);
    refused(path, "owned by uid 4242");
    ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
  }
  const std::string link = dir + "/link.db";
  std::filesystem::create_symlink(path, link);
  refused(link, "a symbolic link");
  Caches restored(clock);
  EXPECT_TRUE(load_snapshot_file(path, restored.messages, restored.rrsets, load_options()).ok)
      << "as written";
}

TEST_F(SnapshotFileTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  // Opening a FIFO for reading blocks until someone opens it for writing: the
  // daemon's start would hang on one planted in place of the snapshot.
  const std::string fifo = dir + "/fifo.db";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Caches restored(clock);
  const SnapshotLoadResult result =
      load_snapshot_file(fifo, restored.messages, restored.rrsets, load_options());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "not a regular file");
  EXPECT_TRUE(restored.empty());
}

}  // namespace
}  // namespace rsv
