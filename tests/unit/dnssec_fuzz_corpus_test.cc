// A deterministic stand-in for the libFuzzer target tests/fuzz/dnssec_records_fuzz.cc,
// run with every unit test build: a few hundred seeded mutations of valid RRSIG,
// DNSKEY, DS, NSEC and NSEC3 RDATA and base32hex text go through every DNSSEC record
// parser and are checked against the same properties as in the fuzz target (each
// parser accepts exactly the well-formed inputs and reads them without losing or
// inventing octets). The same seed gives the same inputs on every machine.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/fuzz_corpus_files.h"
#include "tests/unit/split_mix.h"

// The property lives in the fuzz target's source; take it without the entry point.
#define RSV_FUZZ_PROPERTY_ONLY
#include "tests/fuzz/dnssec_records_fuzz.cc"

namespace rsv {
namespace {

using testing::SplitMix64;

std::string wire(std::string_view text) {
  return Name::from_text(text)->wire();
}
std::string be16(uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string be32(uint32_t v) {
  return be16(static_cast<uint16_t>(v >> 16)) + be16(static_cast<uint16_t>(v));
}
std::string octets(size_t count, uint8_t first) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out.push_back(static_cast<char>(first + i * 7));
  return out;
}

using Flag = bool fuzz::DnssecRecordsAccepted::*;

struct Seed {
  const char *what;
  std::string data;
  Flag parser;  // the parser this seed is valid input for
};

std::vector<Seed> seeds() {
  using A = fuzz::DnssecRecordsAccepted;
  // Type bitmaps: A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY (window 0), and one with
  // windows 0, 1 (CAA-ish high types) and 255.
  const std::string common_bitmap = std::string("\x00\x07\x62\x01\x80\x08\x00\x03\x80", 9);
  const std::string three_windows = std::string("\x00\x01\x40\x01\x02\x00\x01\xFF\x20", 9) + octets(32, 1);
  std::vector<Seed> out = {
      {"RRSIG A", be16(rrtype::A) + "\x0D\x02" + be32(3600) + be32(2000000000) + be32(1700000000) +
                      be16(12345) + wire("Example.COM") + octets(64, 0x30), &A::rrsig},
      {"RRSIG DNSKEY at the root", be16(rrtype::DNSKEY) + std::string("\x08\x00", 2) + be32(172800) +
                                       be32(2000000000) + be32(1700000000) + be16(20326) + wire(".") +
                                       octets(256, 0x11), &A::rrsig},
      {"DNSKEY KSK", be16(0x0101) + "\x03\x0D" + octets(64, 0x42), &A::dnskey},
      {"DNSKEY RSA/MD5", be16(0x0100) + "\x03\x01" + std::string("\x01\x00\x01", 3) + octets(64, 0x99), &A::dnskey},
      {"DS SHA-256", be16(20326) + "\x08\x02" + octets(32, 0xE0), &A::ds},
      {"NSEC", wire("b.Example.com") + common_bitmap, &A::nsec},
      {"NSEC to the apex", wire("example.com") + three_windows, &A::nsec},
      {"NSEC3 opt-out, salted", std::string("\x01\x01\x00\x0A\x04", 5) + "\xAB\xCD\xEF\x01" + "\x14" +
                                    octets(20, 0x5A) + common_bitmap, &A::nsec3},
      {"NSEC3 ENT, unsalted", std::string("\x01\x00\x00\x00\x00\x14", 6) + octets(20, 0x01), &A::nsec3},
      {"base32hex hash", "CK0POJMG874LJREF7EFN8430QVIT8BSM", &A::base32hex},
      {"base32hex short", "vvvvvvvu00", &A::base32hex},
      {"bitmap", three_windows, &A::bitmap},
  };
  return out;
}

// One mutation of the kinds that break RDATA parsers: bit flips, boundary values
// (label and window lengths, salt and hash lengths), cuts, insertions, erasures,
// copied spans and length octets off by one.
void mutate(std::string &data, SplitMix64 &rng) {
  static const uint8_t kInteresting[] = {0x00, 0x01, 0x02, 0x14, 0x1F, 0x20, 0x21, 0x3F,
                                         0x40, 0x56, 0x7F, 0x80, 0xC0, 0xFE, 0xFF};
  if (data.empty()) {
    data.push_back(static_cast<char>(rng.next()));
    return;
  }
  const size_t at = rng.below(data.size());
  switch (rng.below(8)) {
    case 0: data[at] = static_cast<char>(data[at] ^ (1 << rng.below(8))); break;
    case 1: data[at] = static_cast<char>(kInteresting[rng.below(std::size(kInteresting))]); break;
    case 2: data.resize(at); break;
    case 3: {
      std::string junk(1 + rng.below(8), '\0');
      for (auto &c : junk) c = static_cast<char>(rng.next());
      data.insert(at, junk);
      break;
    }
    case 4: data.erase(at, 1 + rng.below(8)); break;
    case 5: {
      const size_t from = rng.below(data.size());
      const size_t length = std::min<size_t>(1 + rng.below(16), data.size() - std::max(from, at));
      data.replace(at, length, data.substr(from, length));
      break;
    }
    case 6: data[at] = static_cast<char>(data[at] + 1 - static_cast<int>(rng.below(3))); break;
    default: data.push_back(static_cast<char>(kInteresting[rng.below(std::size(kInteresting))])); break;
  }
}

TEST(DnssecFuzzCorpus, SeedsAreAcceptedAndSatisfyTheProperties) {
  for (const Seed &seed : seeds()) {
    fuzz::DnssecRecordsAccepted accepted;
    const auto *bytes = reinterpret_cast<const uint8_t *>(seed.data.data());
    EXPECT_EQ(fuzz::check_dnssec_records(bytes, seed.data.size(), &accepted), "") << seed.what;
    EXPECT_TRUE(accepted.*seed.parser) << seed.what;
  }
}

TEST(DnssecFuzzCorpus, MutatedRecordsKeepEveryParserExact) {
  constexpr int kMutantsPerSeed = 60;
  SplitMix64 rng(20240301);
  // For each parser, its seeds' mutants accepted and rejected.
  struct Count {
    Flag parser;
    size_t accepted = 0, rejected = 0;
  };
  std::vector<Count> counts;
  auto count_of = [&](Flag parser) -> Count & {
    for (Count &c : counts)
      if (c.parser == parser) return c;
    return counts.emplace_back(Count{parser});
  };
  size_t total = 0;
  for (const Seed &seed : seeds()) {
    for (int i = 0; i < kMutantsPerSeed; ++i) {
      std::string mutant = seed.data;
      const size_t rounds = 1 + rng.below(4);
      for (size_t r = 0; r < rounds; ++r) mutate(mutant, rng);
      // An exact-size heap copy, so AddressSanitizer builds catch a read past the end.
      const std::vector<uint8_t> bytes(mutant.begin(), mutant.end());
      fuzz::DnssecRecordsAccepted accepted;
      EXPECT_EQ(fuzz::check_dnssec_records(bytes.data(), bytes.size(), &accepted), "")
          << seed.what << " mutant " << i << " of " << bytes.size() << " octets";
      ++total;
      Count &count = count_of(seed.parser);
      ++(accepted.*seed.parser ? count.accepted : count.rejected);
    }
  }
  // Each parser must have taken both paths, or the mutations say nothing about it.
  using A = fuzz::DnssecRecordsAccepted;
  const std::pair<const char *, Flag> parsers[] = {{"rrsig", &A::rrsig}, {"dnskey", &A::dnskey}, {"ds", &A::ds},
                                                   {"nsec", &A::nsec},   {"nsec3", &A::nsec3},   {"base32hex", &A::base32hex},
                                                   {"bitmap", &A::bitmap}};
  std::printf("dnssec fuzz corpus: %zu inputs; accepted/rejected", total);
  for (const auto &[name, flag] : parsers) {
    const Count count = count_of(flag);
    std::printf(" %s %zu/%zu", name, count.accepted, count.rejected);
    EXPECT_GT(count.accepted, 10u) << name;
    // DNSKEY and DS accept anything of 5 octets or more; mutants rarely get shorter.
    if (flag != &A::dnskey && flag != &A::ds) {
      EXPECT_GT(count.rejected, 10u) << name;
    }
  }
  std::printf("\n");
}

// The seeds and the reproducers in tests/fuzz/corpus/dnssec_records_fuzz/, as the fuzz target reads them.
TEST(DnssecFuzzCorpus, CommittedCorpusKeepsEveryParserExact) {
  const auto files = testing::fuzz_corpus("dnssec_records_fuzz");
  EXPECT_FALSE(files.empty());
  for (const auto &file : files) {
    // An exact-size heap copy, so AddressSanitizer builds catch a read past the end.
    const std::vector<uint8_t> bytes(file.bytes.begin(), file.bytes.end());
    EXPECT_EQ(fuzz::check_dnssec_records(bytes.data(), bytes.size()), "") << file.name;
  }
}

TEST(DnssecFuzzCorpus, ShortAndBoundaryInputs) {
  // Every input of up to one octet, and two-octet inputs with every first octet.
  std::vector<std::vector<uint8_t>> tiny = {{}};
  for (unsigned first = 0; first < 256; ++first) {
    tiny.push_back({static_cast<uint8_t>(first)});
    for (uint8_t second : {0x00, 0x01, 0x20, 0x21, 0x40, 0x80, 0xFF})
      tiny.push_back({static_cast<uint8_t>(first), second});
  }
  for (const auto &bytes : tiny)
    ASSERT_EQ(fuzz::check_dnssec_records(bytes.data(), bytes.size()), "") << bytes.size();
  // Names at the 255-octet limit in RRSIG and NSEC RDATA: three 63-octet labels, a
  // 62-octet one and the root make 256 octets (too long); with a 61-octet one, 255.
  for (size_t last_label : {size_t{61}, size_t{62}}) {
    std::string name;
    for (size_t label : {size_t{63}, size_t{63}, size_t{63}, last_label}) name += static_cast<char>(label) + std::string(label, 'a');
    name.push_back('\0');
    const std::string rrsig = std::string(18, '\x01') + name + "sig";
    const std::string nsec = name + std::string("\x00\x01\x40", 3);
    for (const std::string *input : {&rrsig, &nsec}) {
      const std::vector<uint8_t> bytes(input->begin(), input->end());
      fuzz::DnssecRecordsAccepted accepted;
      EXPECT_EQ(fuzz::check_dnssec_records(bytes.data(), bytes.size(), &accepted), "") << last_label;
      EXPECT_EQ(input == &rrsig ? accepted.rrsig : accepted.nsec, last_label == 61) << last_label;
    }
  }
  // A bitmap with every window, each 32 octets of ones: valid, and every type listed.
  std::string full;
  for (int window = 0; window < 256; ++window) full += static_cast<char>(window) + std::string("\x20") + std::string(32, '\xFF');
  EXPECT_TRUE(nsec_bitmap_valid(full));
  for (uint32_t type = 0; type < 65536; type += 257) EXPECT_TRUE(nsec_bitmap_has(full, static_cast<uint16_t>(type)));
  const std::vector<uint8_t> bytes(full.begin(), full.end());
  EXPECT_EQ(fuzz::check_dnssec_records(bytes.data(), bytes.size()), "");
}

}  // namespace
}  // namespace rsv
