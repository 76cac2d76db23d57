// A deterministic stand-in for the libFuzzer target tests/fuzz/trust_anchor_state_fuzz.cc,
// run with every unit test build: seeded mutations of a state file the daemon would
// write (JSON-level and byte-level damage) go through parse_trust_point_state and are
// checked against the same properties as in the fuzz target. The same seed gives the
// same inputs on every machine.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dnssec/rrsig.h"
#include "tests/unit/fuzz_corpus_files.h"
#include "tests/unit/split_mix.h"

#define RSV_FUZZ_PROPERTY_ONLY
#include "tests/fuzz/trust_anchor_state_fuzz.cc"

namespace rsv {
namespace {

using testing::SplitMix64;

// A state with every field in use: a root trust point with a key in each state, and
// a zone still anchored by a DS record. The key material is arbitrary (never verified).
std::string seed_state() {
  const std::string key = std::string("\x01\x01\x03\x0d", 4) + std::string(64, '\x42');
  std::vector<ManagedKey> keys;
  uint16_t n = 0;
  for (KeyState state :
       {KeyState::add_pend, KeyState::valid, KeyState::missing, KeyState::revoked, KeyState::removed}) {
    ManagedKey k;
    k.rdata = key;
    k.rdata.back() = static_cast<char>(n);
    k.key_tag = key_tag(k.rdata);
    k.algorithm = 13;
    k.state = state;
    k.first_seen = 1735689600 + n;
    k.changed_at = 1735689700 + n;
    k.hold_down_until = state == KeyState::add_pend ? 1738281600 : 0;
    k.vouched_by = {static_cast<uint16_t>(1000 + n)};
    keys.push_back(k);
    ++n;
  }
  TrustPoint root(Name::root(), {}, keys);
  root.next_refresh = 1735693200;
  root.last_refresh = root.last_success = 1735689600;
  root.original_ttl = 172800;
  root.signatures_expire = 1737504000;
  ResourceRecord ds{*Name::from_text("example."), rrtype::DS, rrclass::IN, 3600,
                    std::string("\x30\x39\x0d\x02", 4) + std::string(32, '\x11')};
  TrustPoint example(*Name::from_text("example."), {ds}, {});
  example.last_problem = "timeout";
  return serialize_trust_point_state({root, example}, 1735689600);
}

const char *const kTokens[] = {
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "\\u0000",
    "\\ud800",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e400",
    "18446744073709551616",
    "9223372036854775807",
    "1.5",
    "\"Valid\"",
    "\"AddPend\"",
    "\"\"",
    "\". 3600 IN DNSKEY 257 3 13 AAAA\"",
    "\". IN DS 1 13 2 00\"",
    "\"example.\"",
    "\n",
    " ",
    "\xff",
    "\xc3\xa9",
};

void mutate(std::string &text, SplitMix64 &rng) {
  if (text.empty()) {
    text = kTokens[rng.below(std::size(kTokens))];
    return;
  }
  const size_t at = rng.below(text.size());
  switch (rng.below(6)) {
    case 0: text[at] = static_cast<char>(text[at] ^ (1 << rng.below(8))); break;
    case 1: text.insert(at, kTokens[rng.below(std::size(kTokens))]); break;
    case 2: {  // a token in place of a value
      size_t end = at;
      while (end < text.size() && text[end] != ',' && text[end] != '\n' && text[end] != '}') ++end;
      text.replace(at, end - at, kTokens[rng.below(std::size(kTokens))]);
      break;
    }
    case 3: text.resize(at); break;
    case 4: {  // a line dropped
      const size_t start = text.rfind('\n', at);
      const size_t from = start == std::string::npos ? 0 : start + 1;
      const size_t end = text.find('\n', at);
      text.erase(from, (end == std::string::npos ? text.size() : end + 1) - from);
      break;
    }
    case 5: {  // a line repeated
      const size_t start = text.rfind('\n', at);
      const size_t from = start == std::string::npos ? 0 : start + 1;
      const size_t end = text.find('\n', at);
      const std::string line = text.substr(from, (end == std::string::npos ? text.size() : end + 1) - from);
      text.insert(from, line);
      break;
    }
  }
}

// The committed corpus (tests/fuzz/corpus/trust_anchor_state_fuzz/), replayed as the
// corpus README promises for every target: the seeds are state files the daemon
// wrote, so each is accepted; a regress-* reproducer need only keep the properties.
TEST(TrustAnchorStateFuzzCorpus, CommittedCorpusKeepsTheProperties) {
  const auto files = testing::fuzz_corpus("trust_anchor_state_fuzz");
  size_t seeds = 0;
  for (const auto &file : files) {
    // An exact-size heap copy, so AddressSanitizer builds catch a read past the end.
    const std::vector<uint8_t> bytes(file.bytes.begin(), file.bytes.end());
    bool accepted = false;
    EXPECT_EQ(fuzz::check_trust_anchor_state(bytes.data(), bytes.size(), &accepted), "") << file.name;
    if (file.name.rfind("regress-", 0) != 0) {
      ++seeds;
      EXPECT_TRUE(accepted) << file.name;
    }
  }
  EXPECT_GE(seeds, 1u) << "no seed state file in the corpus";
}

TEST(TrustAnchorStateFuzzCorpus, SeededMutationsKeepTheProperties) {
  const std::string seed = seed_state();
  bool accepted = false;
  const std::vector<uint8_t> seed_bytes(seed.begin(), seed.end());
  ASSERT_EQ(fuzz::check_trust_anchor_state(seed_bytes.data(), seed_bytes.size(), &accepted), "");
  ASSERT_TRUE(accepted) << "the seed must be a valid state";
  SplitMix64 rng(5011);
  size_t accepted_count = 0, rejected_count = 0;
  for (int i = 0; i < 600; ++i) {
    std::string text = seed;
    const size_t rounds = 1 + rng.below(4);
    for (size_t r = 0; r < rounds; ++r) mutate(text, rng);
    const std::vector<uint8_t> bytes(text.begin(), text.end());
    EXPECT_EQ(fuzz::check_trust_anchor_state(bytes.data(), bytes.size(), &accepted), "") << text;
    (accepted ? accepted_count : rejected_count)++;
  }
  // Both sides are exercised: some damage is harmless (whitespace), most is not.
  EXPECT_GT(accepted_count, 10u);
  EXPECT_GT(rejected_count, 100u);
  std::printf("trust anchor state fuzz corpus: %zu accepted, %zu rejected\n", accepted_count, rejected_count);
}

}  // namespace
}  // namespace rsv
