// Names known not to be zone cuts, for QNAME minimisation (RFC 9156).
//
// How one query passes through it: a minimised query asks the servers of zone Z about
// one more label of the name, N. When the reply is an answer or NODATA from Z itself
// (no referral), N lies inside Z and is no cut; the iterator remembers that here for
// the reply's TTL. The next question below N, from any client, skips the labels known
// to be inside Z and asks the full name at once, instead of asking about N again (a
// cold run of wildcard names below one empty non-terminal would otherwise cost two
// upstream queries per name; Unbound, which caches the NODATA, sends one).
//
// Bounded in bytes (a sharded LRU) and every entry expires, like every other table.
#pragma once

#include <cstdint>

#include "cache/cache_key.h"
#include "cache/clock.h"
#include "cache/sharded_lru.h"
#include "resolver/wire/name.h"

namespace rsv {

class NonCutCache {
public:
  NonCutCache(const Clock &clock, uint64_t max_bytes) : clock_(clock), entries_(max_bytes) {}

  // `name` lies inside `zone` (no cut at it) for the next `ttl_seconds`.
  void remember(const Name &name, const Name &zone, uint32_t ttl_seconds) {
    if (ttl_seconds == 0 || !name.is_subdomain_of(zone) || name == zone) return;
    entries_.insert(key(name, zone), clock_.now_seconds() + ttl_seconds, 0);
  }

  bool inside(const Name &name, const Name &zone) const {
    const int64_t now = clock_.now_seconds();
    bool live = false;
    entries_.find(key(name, zone), [&](int64_t expires_at) { live = expires_at > now; });
    return live;
  }

  size_t entry_count() const { return entries_.size(); }
  uint64_t memory_bytes() const { return entries_.memory_bytes(); }
  size_t flush(const Name &name, bool subtree) {
    const std::string wire = name.lowered().wire();
    return entries_.erase_if([&](std::string_view key) { return key_starts_with_name(key, wire, subtree); });
  }

private:
  // The lower-cased name, then the lower-cased zone (the same name may be known
  // inside one zone and asked about at another cut).
  static std::string key(const Name &name, const Name &zone) {
    std::string out = name.lowered().wire();
    out += zone.lowered().wire();
    return out;
  }

  const Clock &clock_;
  mutable ShardedLru<int64_t> entries_;
};

}  // namespace rsv
