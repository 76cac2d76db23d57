// A statistics counter written by one thread and read by any.
//
// Each worker's event loop owns its counters (queries, cache hits, upstream
// queries...) and is the only one to change them; the control channel and /metrics
// read them from their own threads while the workers run. A relaxed atomic load and
// store, without a read-modify-write, is as cheap as a plain integer on the hot path
// and makes those reads race-free (a reader may see a value a moment old).
#pragma once

#include <atomic>
#include <cstdint>

namespace rsv {

class Counter {
public:
  Counter() = default;
  Counter(const Counter &other) : value_(other.get()) {}
  Counter &operator=(const Counter &other) {
    value_.store(other.get(), std::memory_order_relaxed);
    return *this;
  }

  // Only the owning thread adds.
  void add(uint64_t n) { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  Counter &operator++() {
    add(1);
    return *this;
  }
  Counter &operator+=(uint64_t n) {
    add(n);
    return *this;
  }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }
  operator uint64_t() const { return get(); }  // NOLINT(google-explicit-constructor): reads like the integer it counts

private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (clients waiting now, questions in flight), with the
// same rule as Counter: one thread sets it, any thread reads it.
class Gauge {
public:
  void set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void add(int64_t delta) { set(get() + delta); }
  int64_t get() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<int64_t> value_{0};
};

}  // namespace rsv
