// A deterministic stand-in for the libFuzzer target, run with every unit test build:
// a few hundred seeded mutations of valid replies go through parse_message and, when
// accepted, through encode_message and parse_message again (tests/fuzz/round_trip.h).
// The same seed gives the same inputs on every machine, so a failure here reproduces.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/fuzz_corpus_files.h"
#include "tests/unit/split_mix.h"

#include "resolver/wire/message.h"
#include "tests/fuzz/round_trip.h"

namespace rsv {
namespace {

using testing::SplitMix64;

Name name(std::string_view text) {
  return *Name::from_text(text);
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// Seeds: replies of the shapes the resolver meets, encoded (so compressed) by our encoder.
std::vector<std::string> seed_packets() {
  std::vector<std::string> seeds;

  Message referral;
  referral.id = 1;
  referral.qr = true;
  referral.questions.push_back({name("www.example.com"), rrtype::A, rrclass::IN});
  for (const char *ns : {"a.gtld-servers.net", "b.gtld-servers.net"}) {
    referral.authority.push_back({name("com"), rrtype::NS, rrclass::IN, 172800, name(ns).wire()});
    referral.additional.push_back(
        {name(ns), rrtype::A, rrclass::IN, 172800, std::string("\xC0\x05\x06\x1E", 4)});
  }
  referral.edns = Edns{};
  seeds.push_back(encode_message(referral).wire);

  Message answer;
  answer.id = 2;
  answer.qr = answer.aa = answer.rd = answer.ra = true;
  answer.questions.push_back({name("www.example.com"), rrtype::MX, rrclass::IN});
  answer.answer.push_back(
      {name("www.example.com"), rrtype::CNAME, rrclass::IN, 300, name("mail.example.com").wire()});
  answer.answer.push_back({name("mail.example.com"), rrtype::MX, rrclass::IN, 300,
                           std::string("\x00\x0A", 2) + name("mx.example.com").wire()});
  answer.answer.push_back({name("mail.example.com"), rrtype::RRSIG, rrclass::IN, 300,
                           std::string("\x00\x0F\x08\x03", 4) + be32(300) + be32(2000000000) +
                               be32(1000000000) + "\x12\x34" + name("example.com").wire() +
                               std::string(64, 's')});
  answer.edns = Edns{};
  answer.edns->dnssec_ok = true;
  answer.add_extended_error({ede::STALE_ANSWER, "served stale"});
  seeds.push_back(encode_message(answer).wire);

  Message negative;
  negative.id = 3;
  negative.qr = negative.aa = true;
  negative.rcode = rcode::NXDOMAIN;
  negative.questions.push_back({name("nope.example.org"), rrtype::AAAA, rrclass::IN});
  negative.authority.push_back({name("example.org"), rrtype::SOA, rrclass::IN, 900,
                                name("ns.example.org").wire() + name("admin.example.org").wire() + be32(1) +
                                    be32(2) + be32(3) + be32(4) + be32(300)});
  negative.authority.push_back(
      {name("a.example.org"), rrtype::NSEC, rrclass::IN, 300,
       name("z.example.org").wire() + std::string("\x00\x06\x40\x00\x00\x00\x00\x03", 8)});
  seeds.push_back(encode_message(negative).wire);

  // A query, as clients send it.
  Edns edns;
  edns.udp_size = 4096;
  seeds.push_back(encode_query(4, {name("example.net"), rrtype::DNSKEY, rrclass::IN}, true, edns, true));
  return seeds;
}

// One mutation of the kinds that find parser bugs: bit flips, boundary bytes (label
// lengths, pointer markers), cuts, insertions, copied spans and retargeted pointers.
void mutate(std::string &packet, SplitMix64 &rng) {
  static const uint8_t kInteresting[] = {0x00, 0x01, 0x3F, 0x40, 0x7F, 0x80, 0xC0, 0xC1, 0xFF};
  if (packet.empty()) {
    packet.push_back(static_cast<char>(rng.next()));
    return;
  }
  const size_t at = rng.below(packet.size());
  switch (rng.below(8)) {
    case 0: packet[at] = static_cast<char>(packet[at] ^ (1 << rng.below(8))); break;
    case 1: packet[at] = static_cast<char>(kInteresting[rng.below(std::size(kInteresting))]); break;
    case 2: packet.resize(at); break;
    case 3: {
      std::string junk(1 + rng.below(8), '\0');
      for (auto &c : junk) c = static_cast<char>(rng.next());
      packet.insert(at, junk);
      break;
    }
    case 4: packet.erase(at, 1 + rng.below(8)); break;
    case 5: {  // copy a span over another place, as a sloppy encoder might
      size_t from = rng.below(packet.size());
      size_t length = std::min<size_t>(1 + rng.below(16), packet.size() - std::max(from, at));
      packet.replace(at, length, packet.substr(from, length));
      break;
    }
    case 6: {  // a compression pointer to anywhere, forward and backward alike
      uint16_t target = static_cast<uint16_t>(rng.below(packet.size() + 8));
      packet[at] = static_cast<char>(0xC0 | (target >> 8));
      if (at + 1 < packet.size()) packet[at + 1] = static_cast<char>(target & 0xFF);
      break;
    }
    default: {  // a header count off by a little
      size_t count_at = 4 + 2 * rng.below(4);
      if (count_at + 1 < packet.size())
        packet[count_at + 1] = static_cast<char>(packet[count_at + 1] + 1 - rng.below(3));
      break;
    }
  }
}

TEST(FuzzCorpus, SeedsSatisfyTheRoundTripProperty) {
  for (const auto &seed : seed_packets()) {
    EXPECT_EQ(fuzz::check_round_trip(reinterpret_cast<const uint8_t *>(seed.data()), seed.size()), "");
    EXPECT_TRUE(parse_message(reinterpret_cast<const uint8_t *>(seed.data()), seed.size(), nullptr));
  }
}

TEST(FuzzCorpus, MutatedPacketsNeverBreakTheParserOrTheRoundTrip) {
  constexpr int kMutantsPerSeed = 150;
  SplitMix64 rng(20240229);
  size_t accepted = 0, rejected = 0;
  for (const auto &seed : seed_packets()) {
    for (int i = 0; i < kMutantsPerSeed; ++i) {
      std::string mutant = seed;
      const size_t rounds = 1 + rng.below(4);
      for (size_t r = 0; r < rounds; ++r) mutate(mutant, rng);
      // An exact-size heap copy, so AddressSanitizer builds catch a read past the end.
      const std::vector<uint8_t> bytes(mutant.begin(), mutant.end());
      const std::string broken = fuzz::check_round_trip(bytes.data(), bytes.size());
      EXPECT_EQ(broken, "") << "seed mutant " << i << " of " << bytes.size() << " octets";
      if (parse_message(bytes.data(), bytes.size(), nullptr))
        ++accepted;
      else
        ++rejected;
    }
  }
  // Both paths must have been exercised, or the mutations are too weak to mean anything.
  EXPECT_GT(accepted, 50u);
  EXPECT_GT(rejected, 50u);
  std::printf("fuzz corpus: %zu accepted, %zu rejected\n", accepted, rejected);
}

// The seeds and the reproducers in tests/fuzz/corpus/parse_message_fuzz/, as the fuzz target reads them.
TEST(FuzzCorpus, CommittedCorpusKeepsTheRoundTripProperty) {
  const auto files = testing::fuzz_corpus("parse_message_fuzz");
  EXPECT_FALSE(files.empty());
  for (const auto &file : files) {
    // An exact-size heap copy, so AddressSanitizer builds catch a read past the end.
    const std::vector<uint8_t> bytes(file.bytes.begin(), file.bytes.end());
    EXPECT_EQ(fuzz::check_round_trip(bytes.data(), bytes.size()), "") << file.name;
  }
}

TEST(FuzzCorpus, TinyInputsAreRejectedQuietly) {
  // Every input of up to two octets, and every 12-octet header with one varying octet.
  for (size_t size = 0; size <= 2; ++size) {
    for (unsigned value = 0; value < (size == 0 ? 1u : 256u); ++value) {
      std::vector<uint8_t> bytes(size, static_cast<uint8_t>(value));
      EXPECT_FALSE(parse_message(bytes.data(), bytes.size(), nullptr));
    }
  }
  for (size_t position = 0; position < 12; ++position) {
    for (unsigned value = 0; value < 256; ++value) {
      std::vector<uint8_t> header(12, 0);
      header[position] = static_cast<uint8_t>(value);
      EXPECT_EQ(fuzz::check_round_trip(header.data(), header.size()), "") << position << "=" << value;
    }
  }
}

}  // namespace
}  // namespace rsv
