// Unpredictable numbers for the resolver: query IDs, source ports, 0x20 case bits,
// server exploration. Injected like the clock so tests can pin them.
#pragma once

#include <cstdint>

namespace rsv {

// A source of unpredictable numbers (query IDs, source ports, 0x20 bits, server
// exploration). The real one reads the OS CSPRNG; tests make it deterministic.
class RandomSource {
public:
  virtual ~RandomSource() = default;
  virtual uint32_t next_u32() = 0;
  uint16_t next_u16() { return static_cast<uint16_t>(next_u32() & 0xFFFF); }
  // Uniform in [0, bound).
  uint32_t uniform(uint32_t bound) {
    if (bound <= 1) return 0;
    uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
    uint32_t v;
    do v = next_u32(); while (v >= limit);
    return v % bound;
  }
};

// Reads the operating system's CSPRNG (getrandom), buffered.
class SystemRandom final : public RandomSource {
public:
  uint32_t next_u32() override;

private:
  uint32_t buffer_[64] = {};
  unsigned available_ = 0;
};

// Deterministic (xorshift) for tests.
class SeededRandom final : public RandomSource {
public:
  explicit SeededRandom(uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ULL) {}
  uint32_t next_u32() override {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return static_cast<uint32_t>(state_ >> 16);
  }

private:
  uint64_t state_;
};

}  // namespace rsv
