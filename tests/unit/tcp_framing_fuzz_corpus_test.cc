// A deterministic stand-in for the libFuzzer target tcp_framing_fuzz, run with every
// unit test build: the seed corpus (tests/fuzz/corpus/tcp_framing_fuzz/), then a few
// hundred seeded streams and mutations of it, each checked against a plain reading of
// the whole stream (tests/fuzz/tcp_framing_check.h). The same seed gives the same
// inputs on every machine, so a failure here reproduces.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/fuzz/tcp_framing_check.h"
#include "tests/unit/split_mix.h"

namespace rsv {
namespace {

using testing::SplitMix64;

std::vector<std::pair<std::string, std::vector<uint8_t>>> corpus() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files;
  const std::filesystem::path dir =
      std::filesystem::path(RESOLVER_SOURCE_DIR) / "tests/fuzz/corpus/tcp_framing_fuzz";
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    files.emplace_back(entry.path().filename().string(),
                       std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {}));
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string check(const std::vector<uint8_t> &input) {
  return fuzz::check_tcp_framing(input.data(), input.size());
}

// A stream of frames the way clients send them, with now and then a length no DNS
// message has; random control octets split and consume it.
std::vector<uint8_t> random_input(SplitMix64 &rng) {
  std::vector<uint8_t> input;
  const size_t controls = rng.below(32);
  input.push_back(static_cast<uint8_t>((rng.below(4) == 0 ? 0x80 : 0) | controls));
  for (size_t i = 0; i < controls; ++i) input.push_back(static_cast<uint8_t>(rng.next()));
  const size_t frames = 1 + rng.below(12);
  for (size_t i = 0; i < frames; ++i) {
    size_t length;
    switch (rng.below(20)) {
      case 0: length = rng.below(12); break;             // shorter than a header
      case 1: length = 20000 + rng.below(45536); break;  // large, up to the maximum
      default: length = 12 + rng.below(600); break;      // a query
    }
    input.push_back(static_cast<uint8_t>(length >> 8));
    input.push_back(static_cast<uint8_t>(length & 0xFF));
    for (size_t k = 0; k < length; ++k) input.push_back(static_cast<uint8_t>(rng.next()));
  }
  if (rng.below(3) == 0) input.resize(input.size() - rng.below(std::min<size_t>(input.size(), 40)));
  return input;
}

void mutate(std::vector<uint8_t> &input, SplitMix64 &rng) {
  if (input.empty()) {
    input.push_back(static_cast<uint8_t>(rng.next()));
    return;
  }
  const size_t at = rng.below(input.size());
  switch (rng.below(5)) {
    case 0: input[at] ^= static_cast<uint8_t>(1 << rng.below(8)); break;
    case 1: input[at] = static_cast<uint8_t>(rng.below(2) ? 0x00 : 0xFF); break;
    case 2: input.resize(at); break;
    case 3:
      input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng.next()));
      break;
    default: input.erase(input.begin() + static_cast<std::ptrdiff_t>(at)); break;
  }
}

TEST(TcpFramingFuzzCorpus, SeedsSatisfyTheProperty) {
  const auto files = corpus();
  EXPECT_GE(files.size(), 10u);
  for (const auto &[name, input] : files) EXPECT_EQ(check(input), "") << name;
}

TEST(TcpFramingFuzzCorpus, RandomStreamsAndMutatedSeedsSatisfyTheProperty) {
  SplitMix64 rng(20250107);
  for (int i = 0; i < 300; ++i) {
    const auto input = random_input(rng);
    EXPECT_EQ(check(input), "") << "random input " << i << " of " << input.size() << " octets";
  }
  for (const auto &[name, seed] : corpus()) {
    for (int i = 0; i < 40; ++i) {
      auto input = seed;
      for (size_t r = 1 + rng.below(4); r > 0; --r) mutate(input, rng);
      EXPECT_EQ(check(input), "") << name << " mutant " << i;
    }
  }
}

TEST(TcpFramingFuzzCorpus, TinyInputsSatisfyTheProperty) {
  // Every input of up to two octets.
  EXPECT_EQ(check({}), "");
  for (unsigned a = 0; a < 256; ++a) {
    EXPECT_EQ(check({static_cast<uint8_t>(a)}), "");
    for (unsigned b = 0; b < 256; b += 5)
      EXPECT_EQ(check({static_cast<uint8_t>(a), static_cast<uint8_t>(b)}), "");
  }
}

}  // namespace
}  // namespace rsv
