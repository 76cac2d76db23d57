#include "resolver/server/traffic_series.h"

#include <algorithm>
#include <vector>

namespace rsv {

void TrafficSeries::sample(int64_t time_ms, Totals totals) {
  std::lock_guard lock(mutex_);
  ring_[next_] = Sample{time_ms, totals};
  next_ = (next_ + 1) % ring_.size();
  if (filled_ < ring_.size()) ++filled_;
}

nlohmann::json TrafficSeries::to_json(int64_t now_ms, Totals now) const {
  std::vector<Sample> samples;
  {
    std::lock_guard lock(mutex_);
    samples.reserve(filled_ + 1);
    for (size_t i = 0; i < filled_; ++i) samples.push_back(ring_[(next_ + ring_.size() - filled_ + i) % ring_.size()]);
  }
  if (samples.empty() || now_ms > samples.back().time_ms) samples.push_back(Sample{now_ms, now});
  nlohmann::json points = nlohmann::json::array();
  for (size_t i = 1; i < samples.size(); ++i) {
    const Sample &a = samples[i - 1], &b = samples[i];
    const double seconds = static_cast<double>(b.time_ms - a.time_ms) / 1000.0;
    // Totals only grow; a smaller one (never expected) counts as no traffic.
    const uint64_t answers = b.totals.answers >= a.totals.answers ? b.totals.answers - a.totals.answers : 0;
    const uint64_t hits = b.totals.cache_hits >= a.totals.cache_hits ? b.totals.cache_hits - a.totals.cache_hits : 0;
    if (seconds <= 0) continue;
    points.push_back({{"time", b.time_ms / 1000.0},
                      {"qps", answers / seconds},
                      {"hit_ratio", answers ? nlohmann::json(std::min(1.0, double(hits) / double(answers)))
                                            : nlohmann::json(nullptr)}});
  }
  return {{"interval", kIntervalSeconds}, {"points", points}, {"answers", now.answers}, {"cache_hits", now.cache_hits}};
}

}  // namespace rsv
