#include "resolver/server/caches.h"

namespace rsv {

namespace {
// The byte budget is split between the two data caches; answers (message cache)
// are bigger per entry, RRsets are what iteration reuses.
constexpr uint64_t kMessageCacheShare = 2;  // 1/2 of cache.size
// Names known not to be zone cuts (QNAME minimisation) take a small slice on top.
constexpr uint64_t kNonCutCacheShare = 32;

TtlPolicy ttl_policy(const CacheConfig &config) {
  return TtlPolicy{config.min_ttl, config.max_ttl, config.max_negative_ttl};
}
}  // namespace

Caches::Caches(const CacheConfig &config)
    : rrsets(clock, config.size_bytes - config.size_bytes / kMessageCacheShare, ttl_policy(config)),
      messages(clock, config.size_bytes / kMessageCacheShare),
      infra(clock),
      keys(clock),
      aggressive_nsec(clock),
      non_cuts(clock, config.size_bytes / kNonCutCacheShare) {}

FlushCounts Caches::flush(const Name &name, bool subtree) {
  FlushCounts counts;
  counts.messages = messages.flush(name, subtree);
  counts.rrsets = rrsets.flush(name, subtree);
  counts.keys = keys.flush(name, subtree);
  counts.aggressive_nsec = aggressive_nsec.flush(name, subtree);
  counts.non_cuts = non_cuts.flush(name, subtree);
  return counts;
}

FlushCounts Caches::flush_all() {
  FlushCounts counts = flush(Name::root(), true);
  infra.clear();
  counts.infra = true;
  return counts;
}

std::vector<CacheUsage> Caches::usage() const {
  return {
      {"messages", messages.memory_bytes(), messages.entry_count()},
      {"rrsets", rrsets.memory_bytes(), rrsets.entry_count()},
      {"keys", keys.memory_bytes(), keys.entry_count()},
      {"aggressive-nsec", aggressive_nsec.memory_bytes(), aggressive_nsec.record_count()},
      {"non-cuts", non_cuts.memory_bytes(), non_cuts.entry_count()},
      {"infra", infra.memory_bytes(), infra.server_count()},
  };
}

void Caches::apply(const CacheConfig &config) { rrsets.set_policy(ttl_policy(config)); }

}  // namespace rsv
