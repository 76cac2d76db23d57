#include "resolver/net/receive_coalescing.h"

namespace rsv {

uint32_t ReceiveCoalescing::after_turn(size_t datagrams, uint64_t now_ms) {
  // The first interval runs from 0 on the loop's clock, so the first turn closes it
  // with a rate of about 0: nothing is known of the rate yet.
  if (now_ms < interval_start_ms_) {
    // A clock that went back (it should not): start the interval again.
    interval_start_ms_ = now_ms;
    interval_datagrams_ = 0;
  } else if (const uint64_t elapsed_ms = now_ms - interval_start_ms_; elapsed_ms >= kRateIntervalMs) {
    rate_per_ms_ = interval_datagrams_ / elapsed_ms;
    interval_start_ms_ = now_ms;
    interval_datagrams_ = 0;
  }
  // This turn's datagrams count towards the interval that holds now_ms.
  interval_datagrams_ += datagrams;
  if (window_us_ == 0 || datagrams < kMinimumRead || datagrams >= kEnoughRead) return 0;
  // rate (per ms) x window (us) / 1000 = datagrams expected in one window.
  if (rate_per_ms_ * window_us_ < kExpectedInWindow * 1000) return 0;
  return window_us_;
}

}  // namespace rsv
