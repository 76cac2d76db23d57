// A deterministic stand-in for the libFuzzer target cache_snapshot_fuzz, run with every
// unit test build: a valid snapshot made here (and the seed corpus in
// tests/fuzz/corpus/cache_snapshot_fuzz/), then a few thousand seeded mutations of it,
// most with the checksum made right again so that they reach the header and the
// records, each checked against the properties of tests/fuzz/snapshot_check.h. The
// same seed gives the same inputs on every machine, so a failure here reproduces.
//
// RSV_WRITE_SNAPSHOT_SEED=FILE writes the seed (mode octet and snapshot) to FILE, and
// RSV_WRITE_SNAPSHOT_NTA_SEED=FILE the same written under the context with a run-time
// negative trust anchor (mode 2): how the seed corpus was made (small-valid-snapshot
// is the seed of before its negative answer had an SOA).
#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "resolver/wire/message.h"
#include "tests/fuzz/snapshot_check.h"
#include "tests/unit/rrsig_rdata.h"
#include "tests/unit/split_mix.h"

namespace rsv {
namespace {

using testing::SplitMix64;

Name name(const char *text) { return *Name::from_text(text); }

// A small snapshot with one entry of each kind, written at ManualClock's start under
// `context`: an insecure, a secure (DO) and a negative answer (whose SOA has a longer
// TTL than the entry lives, as max-negative-ttl makes it), a secure NS set and glue.
std::string seed_snapshot(const char *context = fuzz::kSnapshotFuzzContext) {
  ManualClock clock;
  const int64_t now = clock.now_seconds();
  MessageCache messages(clock, 1 << 20);
  RRsetCache rrsets(clock, 1 << 20, TtlPolicy{});
  auto reply = [&](const char *qname, uint16_t rcode_value, bool signed_answer) {
    Message m;
    m.qr = m.rd = m.ra = true;
    m.ad = signed_answer;
    m.rcode = rcode_value;
    m.questions.push_back(Question{name(qname), rrtype::A, rrclass::IN});
    if (rcode_value == rcode::NOERROR)
      m.answer.push_back(ResourceRecord{name(qname), rrtype::A, rrclass::IN, 300, std::string("\xC0\x00\x02\x01", 4)});
    else
      m.authority.push_back(
          ResourceRecord{name("example."), rrtype::SOA, rrclass::IN, 3600,
                         name("ns.example.").wire() + name("h.example.").wire() +
                             std::string("\0\0\0\1\0\0\0\1\0\0\0\1\0\0\0\1\0\0\0\x3c", 20)});
    if (signed_answer)
      m.answer.push_back(testing::rrsig(name(qname), rrtype::A, now - 60, now + 3600, name("example.")));
    return encode_message(m);
  };
  EncodeResult plain = reply("www.example.", rcode::NOERROR, false);
  messages.store(name("www.example."), rrtype::A, rrclass::IN, 0, plain.wire, plain.ttl_offsets, 300,
                 Security::insecure, rcode::NOERROR);
  EncodeResult secure = reply("secure.example.", rcode::NOERROR, true);
  messages.store(name("secure.example."), rrtype::A, rrclass::IN, message_flags::DO, secure.wire, secure.ttl_offsets,
                 300, Security::secure, rcode::NOERROR, now + 3600);
  EncodeResult negative = reply("none.example.", rcode::NXDOMAIN, false);
  messages.store(name("none.example."), rrtype::A, rrclass::IN, message_flags::CD, negative.wire,
                 negative.ttl_offsets, 60, Security::unchecked, rcode::NXDOMAIN);
  RRset ns;
  ns.owner = name("example.");
  ns.type = rrtype::NS;
  ns.add(name("ns.example.").wire(), 3600);
  ns.signatures.push_back(testing::rrsig(ns.owner, rrtype::NS, now - 60, now + 3600, name("example.")));
  rrsets.store(ns, Trust::authoritative, Security::secure);
  RRset glue;
  glue.owner = name("ns.example.");
  glue.type = rrtype::A;
  glue.add(std::string("\xC0\x00\x02\x35", 4), 600);
  rrsets.store(glue, Trust::glue, Security::unchecked);
  SnapshotWriteOptions options;
  options.context = context;
  options.now = now;
  options.max_stale = 86400;
  return encode_snapshot(messages, rrsets, options);
}

std::string check(uint8_t mode, const std::string &file) {
  std::string input(1, static_cast<char>(mode));
  input += file;
  return fuzz::check_snapshot_input(reinterpret_cast<const uint8_t *>(input.data()), input.size());
}

void mutate(std::string &file, SplitMix64 &rng) {
  if (file.empty()) {
    file.push_back(static_cast<char>(rng.next()));
    return;
  }
  const size_t at = rng.below(file.size());
  switch (rng.below(8)) {
    case 0: file[at] = static_cast<char>(file[at] ^ (1 << rng.below(8))); break;
    case 1: file[at] = static_cast<char>(rng.next()); break;
    case 2: file.resize(at); break;
    case 3: file.erase(at, 1 + rng.below(16)); break;
    case 4: file.insert(at, std::string(1 + rng.below(8), static_cast<char>(rng.next()))); break;
    case 5: {  // a run of octets repeated: records twice, lengths that overlap
      const size_t length = std::min(file.size() - at, 1 + rng.below(64));
      file.insert(rng.below(file.size()), file.substr(at, length));
      break;
    }
    case 6: {  // a length-sized field set to an extreme
      const uint8_t values[] = {0x00, 0x7F, 0x80, 0xFF};
      for (size_t i = at; i < std::min(file.size(), at + 4); ++i) file[i] = static_cast<char>(values[rng.below(4)]);
      break;
    }
    default: std::swap(file[at], file[rng.below(file.size())]); break;
  }
}

TEST(SnapshotFuzzCorpus, TheSeedLoadsWhole) {
  const std::string seed = seed_snapshot();
  if (const char *path = std::getenv("RSV_WRITE_SNAPSHOT_SEED"))
    std::ofstream(path, std::ios::binary) << std::string(1, '\0') << seed;
  if (const char *path = std::getenv("RSV_WRITE_SNAPSHOT_NTA_SEED"))  // mode 2: loaded under the NTA context
    std::ofstream(path, std::ios::binary)
        << std::string(1, '\2') << seed_snapshot(fuzz::kSnapshotFuzzNtaContext);
  ManualClock clock;
  MessageCache messages(clock, 1 << 20);
  RRsetCache rrsets(clock, 1 << 20, TtlPolicy{});
  const SnapshotLoadResult result = load_snapshot(seed, messages, rrsets, fuzz::snapshot_fuzz_options(clock));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.messages, 3u);
  EXPECT_EQ(result.rrsets, 2u);
  EXPECT_EQ(check(0, seed), "");
  EXPECT_EQ(check(1, seed), "");
}

TEST(SnapshotFuzzCorpus, TheSeedKeepsThePropertiesAsTimePasses) {
  // Every step of the clock the mode can take: entries age, go stale, are dropped past
  // max-stale, and the secure ones go when their RRSIGs (valid for an hour) expire.
  const std::string seed = seed_snapshot();
  for (unsigned step = 0; step < 64; ++step)
    EXPECT_EQ(check(static_cast<uint8_t>(step << 2), seed), "") << "clock step " << step;
}

TEST(SnapshotFuzzCorpus, AFileOfAnotherContextRestoresNothing) {
  const std::string plain = seed_snapshot(), under_nta = seed_snapshot(fuzz::kSnapshotFuzzNtaContext);
  EXPECT_EQ(check(2, plain), "") << "written without the anchor, loaded with it";
  EXPECT_EQ(check(0, under_nta), "") << "written under the anchor, loaded once it is gone";
  EXPECT_EQ(check(2, under_nta), "") << "the same context both ways";
  ManualClock clock;
  MessageCache messages(clock, 1 << 20);
  RRsetCache rrsets(clock, 1 << 20, TtlPolicy{});
  const SnapshotLoadResult result =
      load_snapshot(under_nta, messages, rrsets, fuzz::snapshot_fuzz_options(clock));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(messages.entry_count() + rrsets.entry_count(), 0u);
  EXPECT_TRUE(load_snapshot(under_nta, messages, rrsets, fuzz::snapshot_fuzz_options(clock, true)).ok);
}

TEST(SnapshotFuzzCorpus, TheSeedCorpusKeepsTheProperties) {
  const std::filesystem::path dir =
      std::filesystem::path(RESOLVER_SOURCE_DIR) / "tests/fuzz/corpus/cache_snapshot_fuzz";
  size_t files = 0;
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string input((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(fuzz::check_snapshot_input(reinterpret_cast<const uint8_t *>(input.data()), input.size()), "")
        << entry.path();
    ++files;
  }
  EXPECT_GE(files, 1u);
}

TEST(SnapshotFuzzCorpus, MutationsKeepTheProperties) {
  const std::string seed = seed_snapshot();
  SplitMix64 rng(0x5EED5A9u);
  size_t accepted = 0, rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string file = seed;
    const size_t mutations = 1 + rng.below(3);
    for (size_t i = 0; i < mutations; ++i) mutate(file, rng);
    // Nine in ten with the checksum made right: those reach the records. The other
    // mode bits (the context, the clock) at random.
    const uint8_t mode = static_cast<uint8_t>((rng.below(10) == 0 ? 0 : 1) | (rng.below(256) & ~1u));
    ASSERT_EQ(check(mode, file), "") << "round " << round;
    ManualClock clock;
    MessageCache messages(clock, 1 << 20);
    RRsetCache rrsets(clock, 1 << 20, TtlPolicy{});
    if (mode && file.size() >= 4) {
      const uLong crc = ::crc32(::crc32(0, nullptr, 0), reinterpret_cast<const Bytef *>(file.data()),
                                static_cast<uInt>(file.size() - 4));
      for (int i = 0; i < 4; ++i) file[file.size() - 4 + i] = static_cast<char>(crc >> (24 - 8 * i));
    }
    clock.advance_seconds(int64_t{mode >> 2} * fuzz::kSnapshotFuzzClockStep);
    (load_snapshot(file, messages, rrsets, fuzz::snapshot_fuzz_options(clock, mode & 2)).ok ? accepted
                                                                                            : rejected)++;
  }
  std::printf("snapshot fuzz corpus: %zu accepted, %zu rejected\n", accepted, rejected);
  EXPECT_GT(accepted, 0u) << "some mutations (of TTL octets, record order...) still make a valid file";
  EXPECT_GT(rejected, 0u);
}

}  // namespace
}  // namespace rsv
