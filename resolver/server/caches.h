// Every cache and table the workers share, in one place that outlives configuration
// reloads: `resolverctl reload` replaces the configuration (resolver/server/generation)
// and keeps all of this, so a reload never costs the cache.
//
// The caches are sharded and locked inside (cache/sharded_lru.h), so the workers, the
// control channel and the metrics endpoint use them from their own threads. Sizes are
// fixed at start: cache.size takes effect at the next restart; the TTL policy
// (cache.min-ttl, max-ttl, max-negative-ttl) is replaced by a reload.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cache/clock.h"
#include "cache/infra_cache.h"
#include "cache/message_cache.h"
#include "cache/non_cut_cache.h"
#include "cache/rrset_cache.h"
#include "dnssec/aggressive_nsec.h"
#include "dnssec/key_cache.h"
#include "dnssec/negative_trust_anchors.h"
#include "resolver/config/config.h"

namespace rsv {

struct CacheUsage {
  std::string name;  // "messages", "rrsets", "keys", "aggressive-nsec", "non-cuts", "infra"
  uint64_t bytes = 0;
  uint64_t entries = 0;
};

// What a flush removed, per cache.
struct FlushCounts {
  size_t messages = 0, rrsets = 0, keys = 0, aggressive_nsec = 0, non_cuts = 0, bogus = 0;
  bool infra = false;  // flush --all only: every server's RTT, EDNS and lameness
  size_t total() const { return messages + rrsets + keys + aggressive_nsec + non_cuts + bogus; }
};

class Caches {
public:
  explicit Caches(const CacheConfig &config);
  Caches(const Caches &) = delete;
  Caches &operator=(const Caches &) = delete;

  // Forgets what is cached for `name` (with `subtree`, for every name at or below it)
  // in every data cache: answers, RRsets, zone keys, NSEC records for aggressive
  // use, and the names known not to be cuts. The servers' RTT and EDNS stay.
  FlushCounts flush(const Name &name, bool subtree);
  // Everything, the infrastructure cache included: as fresh as a restart.
  FlushCounts flush_all();
  std::vector<CacheUsage> usage() const;
  // A reload's TTL policy: cache.min-ttl, max-ttl and max-negative-ttl.
  void apply(const CacheConfig &config);

  SystemClock clock;
  RRsetCache rrsets;
  MessageCache messages;
  InfraCache infra;
  KeyCache keys;
  AggressiveNsecCache aggressive_nsec;
  NonCutCache non_cuts;
  NegativeTrustAnchors negative_anchors;
};

}  // namespace rsv
