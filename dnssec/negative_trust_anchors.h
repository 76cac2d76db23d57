// Negative trust anchors (RFC 7646): names below which validation is switched off,
// so a zone whose operator broke its DNSSEC can be reached (insecure) until it is
// fixed.
//
// Two kinds live here: those of the configuration (dnssec.negative-trust-anchors,
// never expiring, replaced on reload) and those an operator adds at run time
// (`resolverctl nta add NAME --for SECONDS`), which RFC 7646 2 wants to expire on
// their own. The chain of trust asks covers() for every zone it establishes; the
// control channel adds, removes and lists. Thread-safe: workers read while the
// control thread writes.
//
// A run-time anchor stops covering at its time, by itself; what was judged under it
// (insecure answers in the caches) is the daemon's to flush, as for `nta remove`.
// So a lapsed anchor stays here, listed by runtime_names() but by nothing else, until
// the daemon takes it with take_lapsed() and flushes its names: until then the caches
// may still hold answers judged under it, and a cache snapshot written meanwhile must
// say so. changes() counts every add, remove and take, so that a writer that ran
// across one of them can tell (resolver/server/cache_snapshots.h).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <vector>

#include "resolver/wire/name.h"

namespace rsv {

class NegativeTrustAnchors {
public:
  struct Entry {
    Name name;
    std::optional<int64_t> expires_at;  // wall-clock seconds; none: from the configuration
  };

  void set_configured(const std::vector<Name> &names) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [](const Entry &e) { return !e.expires_at; });
    for (const auto &name : names) entries_.push_back(Entry{name, std::nullopt});
  }

  // Adds (or renews) a run-time anchor that lapses at `expires_at`.
  void add(const Name &name, int64_t expires_at) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const Entry &e) { return e.expires_at && e.name == name; });
    entries_.push_back(Entry{name, expires_at});
    ++changes_;
  }

  // Removes a run-time anchor, lapsed or not; false when there is none for `name`.
  bool remove(const Name &name) {
    std::lock_guard lock(mutex_);
    const bool removed =
        std::erase_if(entries_, [&](const Entry &e) { return e.expires_at && e.name == name; }) > 0;
    changes_ += removed;
    return removed;
  }

  // True when `name` lies at or below an anchor still in force at `now`.
  bool covers(const Name &name, int64_t now) const {
    std::lock_guard lock(mutex_);
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const Entry &e) { return in_force(e, now) && name.is_subdomain_of(e.name); });
  }

  // The anchors in force at `now`.
  std::vector<Entry> list(int64_t now) const {
    std::lock_guard lock(mutex_);
    std::vector<Entry> out;
    std::copy_if(entries_.begin(), entries_.end(), std::back_inserter(out),
                 [&](const Entry &e) { return in_force(e, now); });
    return out;
  }

  // Removes the run-time anchors that have lapsed by `now` and returns their names:
  // the caller flushes what was judged under them.
  std::vector<Name> take_lapsed(int64_t now) {
    std::lock_guard lock(mutex_);
    std::vector<Name> lapsed;
    for (const Entry &e : entries_)
      if (!in_force(e, now)) lapsed.push_back(e.name);
    std::erase_if(entries_, [&](const Entry &e) { return !in_force(e, now); });
    changes_ += !lapsed.empty();
    return lapsed;
  }

  // When the next run-time anchor lapses (it may have already); none without one.
  std::optional<int64_t> next_lapse() const {
    std::lock_guard lock(mutex_);
    std::optional<int64_t> next;
    for (const Entry &e : entries_)
      if (e.expires_at && (!next || *e.expires_at < *next)) next = e.expires_at;
    return next;
  }

  // Every run-time anchor not taken yet, lapsed or not, by name (lower case, sorted):
  // the caches may hold answers judged under any of them.
  std::vector<Name> runtime_names() const {
    std::lock_guard lock(mutex_);
    std::vector<Name> out;
    for (const Entry &e : entries_)
      if (e.expires_at) out.push_back(e.name.lowered());
    std::sort(out.begin(), out.end(), [](const Name &a, const Name &b) { return a.to_text() < b.to_text(); });
    return out;
  }

  // How many times the run-time anchors have changed (added, removed, taken lapsed).
  // Read on every validation and every stored reply, so without the mutex: a change
  // is counted (under it) before its caller flushes, and a sequentially consistent load
  // after a store sees the count of any flush that could have missed that store.
  uint64_t changes() const { return changes_.load(); }

private:
  static bool in_force(const Entry &e, int64_t now) { return !e.expires_at || *e.expires_at > now; }

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  std::atomic<uint64_t> changes_{0};
};

}  // namespace rsv
