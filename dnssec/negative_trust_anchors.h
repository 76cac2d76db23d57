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
#pragma once

#include <algorithm>
#include <cstdint>
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
  }

  // Removes a run-time anchor; false when there is none for `name`.
  bool remove(const Name &name) {
    std::lock_guard lock(mutex_);
    return std::erase_if(entries_, [&](const Entry &e) { return e.expires_at && e.name == name; }) > 0;
  }

  // True when `name` lies at or below an anchor still in force at `now`.
  bool covers(const Name &name, int64_t now) const {
    std::lock_guard lock(mutex_);
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry &e) {
      return (!e.expires_at || *e.expires_at > now) && name.is_subdomain_of(e.name);
    });
  }

  // The anchors in force at `now` (lapsed ones are dropped on the way).
  std::vector<Entry> list(int64_t now) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const Entry &e) { return e.expires_at && *e.expires_at <= now; });
    return entries_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace rsv
