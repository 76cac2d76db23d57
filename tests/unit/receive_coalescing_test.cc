// ReceiveCoalescing: when a loop pauses before its next poll. Pure logic: the turns'
// datagram counts and the clock are made up here.
#include "resolver/net/receive_coalescing.h"

#include <gtest/gtest.h>

namespace rsv {
namespace {

constexpr uint32_t kWindowUs = 100;

// Feeds turns of `per_turn` datagrams, `turns_per_ms` of them a millisecond, from
// `start_ms` for `ms` milliseconds; returns the clock after the last.
uint64_t feed(ReceiveCoalescing &coalescing, size_t per_turn, int turns_per_ms, uint64_t start_ms,
              uint64_t ms) {
  for (uint64_t t = start_ms; t < start_ms + ms; ++t)
    for (int i = 0; i < turns_per_ms; ++i) coalescing.after_turn(per_turn, t);
  return start_ms + ms;
}

// A loop that has seen `per_ms` datagrams a millisecond for a while.
ReceiveCoalescing busy_at(uint64_t per_ms, uint32_t window_us = kWindowUs) {
  ReceiveCoalescing coalescing;
  coalescing.set_window(window_us);
  feed(coalescing, static_cast<size_t>(per_ms / 10), 10, 1000, 3 * ReceiveCoalescing::kRateIntervalMs);
  EXPECT_EQ(coalescing.recent_rate_per_ms(), per_ms);
  return coalescing;
}

TEST(ReceiveCoalescing, PausesAfterAFewWhileTheyArriveFast) {
  auto coalescing = busy_at(80);  // 80,000 a second: 8 expected in a 100 us window
  EXPECT_EQ(coalescing.after_turn(ReceiveCoalescing::kMinimumRead, 1030), kWindowUs);
  EXPECT_EQ(coalescing.after_turn(ReceiveCoalescing::kEnoughRead - 1, 1030), kWindowUs);
}

TEST(ReceiveCoalescing, NeverPausesAfterALoneDatagram) {
  // Its reply has left within the turn; a pause would only hold up the next one.
  auto coalescing = busy_at(200);
  EXPECT_EQ(coalescing.after_turn(1, 1030), 0u);
  EXPECT_EQ(coalescing.after_turn(0, 1030), 0u);  // a turn of timers or upstream replies only
}

TEST(ReceiveCoalescing, NeverPausesAfterATurnThatFoundEnough) {
  // That wake is already shared by many answers: pausing would keep clients waiting
  // while the loop idles.
  auto coalescing = busy_at(200);
  EXPECT_EQ(coalescing.after_turn(ReceiveCoalescing::kEnoughRead, 1030), 0u);
  EXPECT_EQ(coalescing.after_turn(256, 1030), 0u);
}

TEST(ReceiveCoalescing, NeverPausesWhenAWindowWouldGatherTooFew) {
  // 30 a millisecond: 3 in a 100 us window, below kExpectedInWindow. A pause would
  // save no wake and add its own (measured: more CPU per query at 20,000 a second).
  auto slow = busy_at(30);
  EXPECT_EQ(slow.after_turn(3, 1030), 0u);
  // 40 a millisecond gathers 4: the threshold.
  auto at_threshold = busy_at(40);
  EXPECT_EQ(at_threshold.after_turn(3, 1030), kWindowUs);
  // A longer window gathers more at the same rate.
  auto long_window = busy_at(30, 200);
  EXPECT_EQ(long_window.after_turn(3, 1030), 200u);
}

TEST(ReceiveCoalescing, OffNeverPauses) {
  auto coalescing = busy_at(200, 0);
  EXPECT_EQ(coalescing.after_turn(3, 1030), 0u);
}

TEST(ReceiveCoalescing, ABurstAfterSilenceIsNotHeldUp) {
  // The rate is of the last complete interval: the first interval of a burst after an
  // idle minute knows nothing of the burst yet, so nothing is paused.
  ReceiveCoalescing coalescing;
  coalescing.set_window(kWindowUs);
  coalescing.after_turn(1, 0);
  coalescing.after_turn(1, 60000);  // one query a minute: the rate is 0
  EXPECT_EQ(coalescing.recent_rate_per_ms(), 0u);
  EXPECT_EQ(coalescing.after_turn(5, 60001), 0u);
}

TEST(ReceiveCoalescing, StopsPausingWhenTheRateFalls) {
  auto coalescing = busy_at(100);
  ASSERT_EQ(coalescing.after_turn(3, 1030), kWindowUs);
  // Then 2 a millisecond for a while (turns of 2): the next intervals measure it.
  const uint64_t after = feed(coalescing, 2, 1, 1031, 3 * ReceiveCoalescing::kRateIntervalMs);
  EXPECT_LE(coalescing.recent_rate_per_ms(), 3u);
  EXPECT_EQ(coalescing.after_turn(2, after), 0u);
}

TEST(ReceiveCoalescing, AClockThatGoesBackStartsTheIntervalAgain) {
  auto coalescing = busy_at(100);
  // No division by a negative span, no wrapped-around elapsed time.
  coalescing.after_turn(3, 10);
  feed(coalescing, 10, 10, 11, ReceiveCoalescing::kRateIntervalMs + 1);
  EXPECT_GE(coalescing.recent_rate_per_ms(), 90u);
  EXPECT_LE(coalescing.recent_rate_per_ms(), 100u);
}

}  // namespace
}  // namespace rsv
