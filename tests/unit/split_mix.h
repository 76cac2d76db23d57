// SplitMix64 for the fuzz replay tests: tiny, and unlike
// std::uniform_int_distribution its output is specified, so a seeded corpus of
// mutations is the same with every standard library.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rsv::testing {

class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t bound) { return bound == 0 ? 0 : static_cast<size_t>(next() % bound); }

private:
  uint64_t state_;
};

}  // namespace rsv::testing
