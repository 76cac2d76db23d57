// Time as the caches and (later) the validator see it.
//
// The wall clock is read through libc at the moment it is needed, never once at
// start-up, so libfaketime can move it in tests; unit tests substitute ManualClock.
#pragma once

#include <cstdint>
#include <ctime>

namespace rsv {

class Clock {
public:
  virtual ~Clock() = default;
  // Seconds since the epoch (wall clock): TTL expiry, signature validity.
  virtual int64_t now_seconds() const = 0;
  // Milliseconds from a monotonic source: RTTs, timeouts, budgets of wall time.
  virtual uint64_t now_monotonic_ms() const = 0;
};

class SystemClock final : public Clock {
public:
  int64_t now_seconds() const override { return static_cast<int64_t>(::time(nullptr)); }
  uint64_t now_monotonic_ms() const override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
  }
};

class ManualClock final : public Clock {
public:
  int64_t now_seconds() const override { return seconds_; }
  uint64_t now_monotonic_ms() const override { return monotonic_ms_; }
  void set_seconds(int64_t s) { seconds_ = s; }
  void advance_ms(uint64_t ms) {
    monotonic_ms_ += ms;
    sub_second_ms_ += ms;
    seconds_ += static_cast<int64_t>(sub_second_ms_ / 1000);
    sub_second_ms_ %= 1000;
  }
  void advance_seconds(int64_t s) { advance_ms(static_cast<uint64_t>(s) * 1000u); }

private:
  int64_t seconds_ = 1'700'000'000;
  uint64_t monotonic_ms_ = 1'000'000;
  uint64_t sub_second_ms_ = 0;
};

}  // namespace rsv
