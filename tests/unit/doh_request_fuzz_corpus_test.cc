// A deterministic stand-in for the libFuzzer target doh_request_fuzz, run with every
// unit test build: the seed corpus (tests/fuzz/corpus/doh_request_fuzz/), then
// seeded mutations of it and random inputs, each checked against the properties in
// tests/fuzz/doh_request_check.h. The same seed gives the same inputs everywhere.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/fuzz/doh_request_check.h"
#include "tests/unit/split_mix.h"

namespace rsv {
namespace {

using testing::SplitMix64;

std::vector<std::pair<std::string, std::vector<uint8_t>>> corpus() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files;
  const std::filesystem::path dir =
      std::filesystem::path(RESOLVER_SOURCE_DIR) / "tests/fuzz/corpus/doh_request_fuzz";
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    files.emplace_back(entry.path().filename().string(),
                       std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {}));
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string check(const std::vector<uint8_t> &input) { return fuzz::check_doh_request(input.data(), input.size()); }

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
    case 3: input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng.next())); break;
    default: input.erase(input.begin() + static_cast<std::ptrdiff_t>(at)); break;
  }
}

TEST(DohRequestFuzzCorpus, SeedsSatisfyTheProperties) {
  const auto files = corpus();
  EXPECT_GE(files.size(), 10u);
  for (const auto &[name, input] : files) EXPECT_EQ(check(input), "") << name;
}

TEST(DohRequestFuzzCorpus, MutatedSeedsAndRandomInputsSatisfyTheProperties) {
  SplitMix64 rng(20261201);
  for (const auto &[name, seed] : corpus()) {
    for (int i = 0; i < 200; ++i) {
      auto input = seed;
      for (size_t r = 1 + rng.below(4); r > 0; --r) mutate(input, rng);
      EXPECT_EQ(check(input), "") << name << " mutant " << i;
    }
  }
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> input(rng.below(200));
    for (auto &octet : input) octet = static_cast<uint8_t>(rng.next());
    EXPECT_EQ(check(input), "") << "random input " << i;
  }
}

}  // namespace
}  // namespace rsv
