// The RRset cache: every RRset the iterator and validator learn, with how far it is
// trusted and what DNSSEC said of it.
//
// How one query passes through it: the iterator stores each RRset of a reply with a
// Trust rank (glue, authority, answer...) as unchecked; the validator, once it has
// judged the answer, stores the sets again with their Security (secure, insecure, or
// bogus for at most dnssec.bogus-ttl). Before asking an authority the iterator looks
// up the closest delegation's NS and address sets here, and answers are assembled
// from cached sets that carry their status, so they are not verified again. What may
// replace what is decided by may_replace (cache/trust.h): glue cannot overwrite an
// authoritative answer (RFC 2181 5.4.1), and an unvalidated spoof cannot push out
// secure data. TTLs count down from the moment of storing; an expired set is never
// returned.
//
// A set stays after its TTL runs out until the LRU evicts it or newer data replaces it:
// lookup never returns it then, lookup_stale may (serve-stale, RFC 8767, for up to
// cache.max-stale seconds). The cache snapshot reads every set with export_shard and
// puts them back with restore.
//
// Keys are the lower-cased owner name in wire form followed by type and class, so
// lookups are case-insensitive (RFC 4343). Each set is stored packed into one buffer
// (owner, rdatas, signatures) to keep the per-entry cost low and the byte bound true.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

#include "cache/clock.h"
#include "cache/sharded_lru.h"
#include "cache/trust.h"
#include "resolver/wire/rr.h"

namespace rsv {

struct TtlPolicy {
  uint32_t min_ttl = 0, max_ttl = 86400, max_negative_ttl = 3600;

  // The TTL the cache keeps a positive RRset for. RFC 2181 8: a TTL with the top bit
  // set is treated as zero. Then clamped into [min_ttl, max_ttl].
  uint32_t clamp(uint32_t ttl) const;
  // RFC 2308 5: a negative answer lives min(SOA TTL, SOA MINIMUM); we cap that at
  // max_negative_ttl (RFC 2308 5 suggests one to three hours at most). min_ttl is not
  // applied: stretching "does not exist" hides records that appear later.
  uint32_t negative_ttl(uint32_t soa_ttl, uint32_t soa_minimum) const;
};

struct CachedRRset {
  RRset rrset;  // rrset.ttl (and signatures' ttl fields) = remaining seconds at lookup
  Trust trust;
  Security security;
  int64_t expires_at;  // wall-clock seconds
};

// One entry as the cache snapshot saves and restores it.
struct RRsetRecord {
  RRset rrset;  // rrset.ttl and the signatures' ttl fields are not meaningful
  int64_t expires_at = 0;
  Trust trust = Trust::additional;
  Security security = Security::unchecked;
};

class RRsetCache {
public:
  RRsetCache(const Clock &clock, uint64_t max_bytes, TtlPolicy policy, size_t shards = 16);

  // Clamps the TTL into [min_ttl, max_ttl] and stores it, unless a live entry is
  // present that may_replace() says to keep (an expired entry is always replaced).
  // Returns true when stored. RRSIGs inside rrset.signatures are stored with
  // the set. An empty set, or one whose TTL is still 0 after clamping, is not stored
  // (RFC 1035 3.2.1: TTL 0 means use only for the transaction in progress).
  bool store(const RRset &rrset, Trust trust, Security security);
  // nullopt if absent or expired.
  std::optional<CachedRRset> lookup(const Name &owner, uint16_t type, uint16_t rclass = rrclass::IN) const;
  // RFC 8767: a set whose TTL ran out less than `max_stale` seconds ago (rrset.ttl 0:
  // the caller gives a stale answer its own TTL). Never a live set, never a bogus one,
  // and never a secure one whose RRSIGs are no longer all current.
  std::optional<CachedRRset> lookup_stale(const Name &owner, uint16_t type, uint32_t max_stale,
                                          uint16_t rclass = rrclass::IN) const;
  void erase(const Name &owner, uint16_t type, uint16_t rclass = rrclass::IN);
  // Removes every entry for `name` (with `subtree`, for names at or below it); all
  // entries when `name` is the root and `subtree` is set. Returns how many.
  size_t flush(const Name &name, bool subtree);
  size_t entry_count() const;
  // An honest estimate: key + rdata + per-entry overhead; stays within max_bytes.
  uint64_t memory_bytes() const;

  // The snapshot: calls visit(const RRsetRecord &) for every set of one shard (expired
  // ones included); the shard is locked only while its entries are copied.
  size_t shard_count() const { return entries_.shard_count(); }
  void export_shard(size_t shard, const std::function<void(const RRsetRecord &)> &visit) const;
  // Puts a saved set back with its own expiry, under the same rules as store (a live
  // entry that may_replace protects is kept). The caller has checked it.
  bool restore(const RRsetRecord &record);

  TtlPolicy policy() const {
    return TtlPolicy{min_ttl_.load(std::memory_order_relaxed), max_ttl_.load(std::memory_order_relaxed),
                     max_negative_ttl_.load(std::memory_order_relaxed)};
  }
  // A configuration reload: entries stored from now on are clamped by `policy`.
  // Callable from any thread while workers store.
  void set_policy(const TtlPolicy &policy) {
    min_ttl_.store(policy.min_ttl, std::memory_order_relaxed);
    max_ttl_.store(policy.max_ttl, std::memory_order_relaxed);
    max_negative_ttl_.store(policy.max_negative_ttl, std::memory_order_relaxed);
  }

private:
  // Each entry's fixed part; the set itself, packed (owner, rdatas and signatures, see
  // rrset_cache.cc), is the entry's tail, in the same allocation (ShardedLru::store).
  struct Entry {
    // Wall-clock seconds in 32 bits (until 2106; earlier times read as 0), as in the
    // message cache: 12 bytes in all, which makes the node 8 bytes smaller.
    uint32_t expires_at_s = 0;
    Trust trust = Trust::additional;
    Security security = Security::unchecked;
    uint16_t type = 0;
    uint16_t rclass = 0;

    int64_t expires_at() const { return expires_at_s; }
    void set_expires_at(int64_t t) {
      expires_at_s = t <= 0 ? 0 : t >= int64_t{UINT32_MAX} ? UINT32_MAX : static_cast<uint32_t>(t);
    }
  };
  static_assert(sizeof(Entry) == 12);

  bool insert(const RRset &rrset, int64_t expires_at, Trust trust, Security security);

  const Clock &clock_;
  std::atomic<uint32_t> min_ttl_, max_ttl_, max_negative_ttl_;
  // Lookups move entries in the recency list: internal, so lookup() stays const.
  mutable ShardedLru<Entry> entries_;
};

}  // namespace rsv
