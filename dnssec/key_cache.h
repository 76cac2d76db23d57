// What the validator has learned about zones: the validated DNSKEY set of a secure
// zone, a proven insecure delegation, a bogus zone (kept briefly), or a name proven
// not to be a zone cut. Shared by every worker; entries expire with the TTL of the
// records that proved them (RFC 4035 5.3.3), bogus ones after dnssec.bogus-ttl.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cache/cache_key.h"
#include "cache/clock.h"
#include "cache/sharded_lru.h"
#include "dnssec/outcome.h"
#include "resolver/wire/rr.h"

namespace rsv {

struct ZoneKeys {
  enum class Status : uint8_t { secure, insecure, bogus, not_a_cut };
  Status status = Status::bogus;
  RRset dnskeys;              // secure: the validated DNSKEY set
  // secure: what proved `dnskeys` (RFC 4035 5.2): the zone's validated DS records, or,
  // for a trust anchor given as keys, the anchor's DNSKEY records
  // (`proven_by_anchor_keys`). A DNSKEY set at the apex in an answer is judged with
  // these, never with the zone's own keys, or a ZSK alone could vouch for new keys.
  std::vector<ResourceRecord> dnskey_proof;
  bool proven_by_anchor_keys = false;
  ValidationOutcome outcome;  // insecure / bogus: why
  int64_t expires_at = 0;
};

class KeyCache {
public:
  KeyCache(const Clock &clock, uint64_t max_bytes = 4u << 20) : clock_(clock), entries_(max_bytes) {}

  std::optional<ZoneKeys> lookup(const Name &zone) const {
    std::optional<ZoneKeys> found;
    int64_t now = clock_.now_seconds();
    entries_.find(zone.lowered().wire(), [&](const ZoneKeys &entry) {
      if (entry.expires_at > now) found = entry;
    });
    return found;
  }

  void store(const Name &zone, ZoneKeys keys, uint32_t ttl_seconds) {
    if (ttl_seconds == 0) return;
    keys.expires_at = clock_.now_seconds() + ttl_seconds;
    size_t heap = keys.dnskeys.wire_size_estimate() + keys.outcome.reason.size();
    for (const ResourceRecord &rr : keys.dnskey_proof)
      heap += sizeof rr + rr.owner.wire().size() + rr.rdata.size();
    entries_.insert(zone.lowered().wire(), std::move(keys), heap);
  }

  // What is known of `zone` (with `subtree`, of every zone at or below it) is forgotten.
  size_t flush(const Name &zone, bool subtree) {
    const std::string wire = zone.lowered().wire();
    return entries_.erase_if([&](std::string_view key) { return key_starts_with_name(key, wire, subtree); });
  }

  size_t entry_count() const { return entries_.size(); }
  uint64_t memory_bytes() const { return entries_.memory_bytes(); }

private:
  const Clock &clock_;
  mutable ShardedLru<ZoneKeys> entries_;
};

}  // namespace rsv
