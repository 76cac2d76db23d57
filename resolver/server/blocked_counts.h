// Blocked answers per blocklist, for one worker (resolverctl stats, /metrics).
//
// The lists are named by the configuration and may change at every reload, so the
// counters are kept by list name and never removed: a list that comes back after a
// reload goes on counting where it left off, as Prometheus expects of a counter.
// The worker's thread is the only one that adds (through the Counter it got from
// counter_for(), whose address never changes); any thread may read().
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "resolver/base/counter.h"

namespace rsv {

class BlockedCounts {
public:
  BlockedCounts() = default;
  BlockedCounts(const BlockedCounts &) = delete;
  BlockedCounts &operator=(const BlockedCounts &) = delete;

  // The counter of `list`, made at 0 on first use.
  Counter &counter_for(const std::string &list) {
    std::lock_guard lock(mutex_);
    return counters_[list];
  }
  // (list name, blocked answers), by name.
  std::vector<std::pair<std::string, uint64_t>> read() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, uint64_t>> out;
    out.reserve(counters_.size());
    for (const auto &[name, counter] : counters_) out.emplace_back(name, counter.get());
    return out;
  }

private:
  mutable std::mutex mutex_;
  std::map<std::string, Counter> counters_;  // std::map: a node never moves
};

}  // namespace rsv
