// Aggressive use of the DNSSEC-validated cache (RFC 8198).
//
// When the validator proves a negative answer secure, it hands the NSEC or NSEC3
// records that made the proof (and the zone's SOA) to this cache, under the zone
// that signed them; nothing else ever gets in (RFC 8198 4: only records that passed
// validation, and a child's records never under its parent). Before a new question
// goes upstream, the engine asks here: if the cached records of the zone that holds
// the name prove that it does not exist (NXDOMAIN: the name and the wildcard covered,
// or for NSEC3 a closest encloser proof) or has no data of the type (NODATA: the
// record at the name), the answer is synthesized with no upstream query (RFC 8198
// 5.1). The proofs are the validator's own functions (dnssec/nsec, dnssec/nsec3), so
// an Opt-Out span (insecure) never answers. A name below a zone cut the key cache
// knows is not answered from the parent's records, and DS questions never are.
//
// Memory is bounded in bytes; past the bound the cache starts over (it refills from
// answers), and every record expires with its TTL and the SOA's negative TTL.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cache/clock.h"
#include "dnssec/key_cache.h"
#include "dnssec/resolution.h"
#include "resolver/config/config.h"

namespace rsv {

class AggressiveNsecCache {
public:
  explicit AggressiveNsecCache(const Clock &clock, uint64_t max_bytes = 4u << 20)
      : clock_(clock), max_bytes_(max_bytes) {}

  // Records the validated NSEC or NSEC3 records (each with its RRSIGs) and the zone's
  // SOA (with its RRSIGs) of a secure negative answer from `zone`. NSEC3 records whose
  // parameters differ from the zone's first ones are left out (RFC 5155 7.2).
  void store(const Name &zone, const std::vector<ResourceRecord> &proof_and_signatures,
             const std::vector<ResourceRecord> &soa_and_signatures);

  // A secure NXDOMAIN or NODATA for the question, if cached records prove it.
  // `known_cuts`: zones established below a cached zone take their names out of it.
  // `limits`: NSEC3 iterations and hashes allowed (dnssec.max-nsec3-*).
  std::optional<Resolution> synthesize(const Question &question, const KeyCache *known_cuts = nullptr,
                                       const DnssecConfig &limits = DnssecConfig{}) const;

  size_t record_count() const;
  // Forgets the zones at or below `name` (or at `name` only), and the records of
  // zones above it whose owners lie there.
  size_t flush(const Name &name, bool subtree);
  uint64_t memory_bytes() const;

private:
  struct CanonicalOrder {
    bool operator()(const Name &a, const Name &b) const { return canonical_less(a, b); }
  };
  struct Entry {
    std::vector<ResourceRecord> records;  // the NSEC or NSEC3 and its RRSIGs
    int64_t expires_at = 0;
  };
  struct Zone {
    std::map<Name, Entry, CanonicalOrder> nsecs;  // by owner, canonical order
    std::map<std::string, Entry> nsec3s;          // by raw owner hash, which sorts as RFC 5155 8.3 compares
    std::string nsec3_salt;
    uint16_t nsec3_iterations = 0;
    std::vector<ResourceRecord> soa;  // SOA and its RRSIGs
    int64_t soa_expires_at = 0;
    int64_t negative_expires_at = 0;  // stored + min(SOA TTL, MINIMUM) (RFC 2308 5)
  };

  const Zone *zone_for(const Name &name, const KeyCache *known_cuts, Name &zone_name) const;
  std::optional<Resolution> from_nsec(const Zone &zone, const Name &zone_name, const Question &question,
                                      int64_t now) const;
  std::optional<Resolution> from_nsec3(const Zone &zone, const Name &zone_name, const Question &question,
                                       const DnssecConfig &limits, int64_t now) const;
  std::optional<Resolution> answer(const Zone &zone, uint16_t rcode, const std::vector<const Entry *> &proof,
                                   int64_t now) const;
  void add_entry_bytes(const Entry &entry, int sign);

  const Clock &clock_;
  uint64_t max_bytes_;
  mutable std::mutex mutex_;
  std::map<Name, Zone, CanonicalOrder> zones_;
  size_t records_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace rsv
