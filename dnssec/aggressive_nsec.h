// Aggressive use of the DNSSEC-validated cache (RFC 8198).
//
// When the validator proves a negative answer secure with NSEC records, it hands
// the NSEC records (and the zone's SOA) to this cache. Before a new question goes
// upstream, the engine asks here: if cached, validated NSEC records already prove
// that the name does not exist (NXDOMAIN: a covering NSEC plus one denying the
// wildcard) or has no data of the type (NODATA: the NSEC at the name), the answer
// is synthesized from them with no upstream query (RFC 8198 5.1). The proofs are
// the same functions the validator uses (dnssec/nsec). NSEC3 is not used here.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "cache/clock.h"
#include "dnssec/resolution.h"

namespace rsv {

class AggressiveNsecCache {
public:
  AggressiveNsecCache(const Clock &clock, size_t max_records = 100000) : clock_(clock), max_records_(max_records) {}

  // Records the validated NSEC records (each with its RRSIGs) and the zone's SOA
  // (with its RRSIGs) of a secure negative answer from `zone`.
  void store(const Name &zone, const std::vector<ResourceRecord> &nsec_and_signatures,
             const std::vector<ResourceRecord> &soa_and_signatures);

  // A secure NXDOMAIN or NODATA for the question, if the cached NSEC records prove it.
  std::optional<Resolution> synthesize(const Question &question) const;

  size_t record_count() const;

private:
  struct CanonicalOrder {
    bool operator()(const Name &a, const Name &b) const { return canonical_less(a, b); }
  };
  struct NsecEntry {
    std::vector<ResourceRecord> records;  // the NSEC and its RRSIGs
    int64_t expires_at = 0;
  };
  struct Zone {
    std::map<Name, NsecEntry, CanonicalOrder> nsecs;  // by owner, canonical order
    std::vector<ResourceRecord> soa;                  // SOA and its RRSIGs
    int64_t soa_expires_at = 0;
    int64_t negative_expires_at = 0;                  // stored + min(SOA TTL, MINIMUM) (RFC 2308 5)
  };

  // The NSEC whose owner is the closest at or before `name`, if live.
  const NsecEntry *predecessor(const Zone &zone, const Name &name, int64_t now) const;

  const Clock &clock_;
  size_t max_records_;
  mutable std::mutex mutex_;
  std::map<Name, Zone, CanonicalOrder> zones_;
  size_t records_ = 0;
};

}  // namespace rsv
