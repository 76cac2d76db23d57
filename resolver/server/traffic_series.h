// The dashboard's last hour: queries per second and cache hit ratio, from totals
// sampled every kIntervalSeconds into a fixed ring of kPoints + 1 samples (361
// samples give 360 intervals: an hour at 10 s). The daemon's control loop samples
// (a timer); the HTTP server's threads read. Memory is fixed; a mutex guards the ring.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>

#include <nlohmann/json.hpp>

namespace rsv {

class TrafficSeries {
public:
  static constexpr size_t kPoints = 360;
  static constexpr uint32_t kIntervalSeconds = 10;

  // Running totals since start, summed over the workers.
  struct Totals {
    uint64_t answers = 0;     // replies sent
    uint64_t cache_hits = 0;  // of which from the message cache's fast path
  };

  // Any thread. `time_ms`: wall clock.
  void sample(int64_t time_ms, Totals totals);

  // {"interval": 10, "points": [{"time": seconds, "qps": x, "hit_ratio": r | null}],
  //  oldest first, one per interval between samples, and the interval from the last
  // sample to `now` (so that the page shows traffic before the first full interval);
  // "answers": the total now}.
  nlohmann::json to_json(int64_t now_ms, Totals now) const;

private:
  struct Sample {
    int64_t time_ms = 0;
    Totals totals;
  };
  mutable std::mutex mutex_;
  std::array<Sample, kPoints + 1> ring_{};
  size_t next_ = 0;
  size_t filled_ = 0;
};

}  // namespace rsv
