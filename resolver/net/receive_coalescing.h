// Receive coalescing: when an event loop should pause before it polls again.
//
// A network card coalesces interrupts (ethtool -C rx-usecs) so that under load one
// interrupt hands the kernel many packets; this does the same for a loop's wakes. A
// wake costs about the same whether it finds one query or fifteen (epoll_wait,
// recvmmsg, sendmmsg, two context switches), and on a loaded server it is most of the
// CPU time of a cached answer. After a turn that read a few client datagrams, the
// loop sleeps for the window, and the next turn finds the window's datagrams together.
//
// The price is latency: a query that arrives during a pause waits for its end, at
// most the window. So a pause is taken only where it buys something:
//  - the turn read at least kMinimumRead datagrams: a lone query is never followed
//    by a pause (and had its answer before any pause: replies leave within the turn);
//  - it read fewer than kEnoughRead: a wake that found that many is already shared,
//    and pausing after it would only keep the next clients waiting while the loop
//    idles (and cost throughput, measured: tests/bench/README.md);
//  - the loop's recent rate would bring at least kExpectedInWindow datagrams in one
//    window: at lower rates a pause gathers one or two, saves no wake, and adds its
//    own (measured at 20,000 queries/s: more CPU per query, not less, and 80 us more
//    latency).
// Logic only, no clock or sleep of its own: the EventLoop feeds it each turn's count
// and its clock, and sleeps for what it returns.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rsv {

class ReceiveCoalescing {
public:
  static constexpr size_t kMinimumRead = 2;
  static constexpr size_t kEnoughRead = 16;
  static constexpr uint64_t kExpectedInWindow = 4;
  // The rate is datagrams over at least this long (the loop's clock counts in ms).
  static constexpr uint64_t kRateIntervalMs = 10;

  // 0: never pause.
  void set_window(uint32_t window_us) { window_us_ = window_us; }
  uint32_t window() const { return window_us_; }

  // After a turn that read `datagrams` client datagrams, at `now_ms` on the loop's
  // clock: the pause to take before the next poll, in microseconds (0: none).
  uint32_t after_turn(size_t datagrams, uint64_t now_ms);

  // Datagrams per millisecond over the last complete interval.
  uint64_t recent_rate_per_ms() const { return rate_per_ms_; }

private:
  uint32_t window_us_ = 0;
  uint64_t interval_start_ms_ = 0;
  uint64_t interval_datagrams_ = 0;
  uint64_t rate_per_ms_ = 0;
};

}  // namespace rsv
