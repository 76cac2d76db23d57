#include "dnssec/aggressive_nsec.h"

#include <algorithm>

#include "dnssec/nsec.h"

namespace rsv {

namespace {

std::vector<ResourceRecord> with_remaining_ttl(const std::vector<ResourceRecord> &records, int64_t expires_at,
                                               int64_t now) {
  std::vector<ResourceRecord> out = records;
  uint32_t remaining = expires_at > now ? static_cast<uint32_t>(expires_at - now) : 0;
  for (auto &rr : out) rr.ttl = std::min(rr.ttl, remaining);
  return out;
}

}  // namespace

void AggressiveNsecCache::store(const Name &zone_name, const std::vector<ResourceRecord> &nsec_and_signatures,
                                const std::vector<ResourceRecord> &soa_and_signatures) {
  int64_t now = clock_.now_seconds();
  std::lock_guard lock(mutex_);
  if (records_ >= max_records_) {
    // A simple bound: start over rather than grow (the cache refills from answers).
    zones_.clear();
    records_ = 0;
  }
  Zone &zone = zones_[zone_name];
  for (const auto &rr : soa_and_signatures) {
    if (rr.type != rrtype::SOA) continue;
    uint32_t minimum = soa_minimum(rr.rdata).value_or(rr.ttl);
    zone.soa = soa_and_signatures;
    zone.soa_expires_at = now + rr.ttl;
    zone.negative_expires_at = now + std::min(rr.ttl, minimum);
  }
  for (const auto &rr : nsec_and_signatures) {
    if (rr.type != rrtype::NSEC || !rr.owner.is_subdomain_of(zone_name)) continue;
    NsecEntry entry;
    entry.expires_at = now + rr.ttl;
    entry.records.push_back(rr);
    for (const auto &sig : nsec_and_signatures)
      if (sig.type == rrtype::RRSIG && sig.owner == rr.owner && sig.rrsig_type_covered() == rrtype::NSEC)
        entry.records.push_back(sig);
    auto [it, inserted] = zone.nsecs.insert_or_assign(rr.owner, std::move(entry));
    (void)it;
    if (inserted) ++records_;
  }
}

const AggressiveNsecCache::NsecEntry *AggressiveNsecCache::predecessor(const Zone &zone, const Name &name,
                                                                       int64_t now) const {
  auto it = zone.nsecs.upper_bound(name);  // first owner after `name`
  if (it == zone.nsecs.begin()) {
    // Nothing at or before the name but the chain may wrap: the last NSEC covers it.
    if (zone.nsecs.empty()) return nullptr;
    it = zone.nsecs.end();
  }
  --it;
  return it->second.expires_at > now ? &it->second : nullptr;
}

std::optional<Resolution> AggressiveNsecCache::synthesize(const Question &question) const {
  int64_t now = clock_.now_seconds();
  std::lock_guard lock(mutex_);
  // The deepest zone with cached NSEC records that encloses the name.
  const Zone *zone = nullptr;
  Name zone_name;
  for (Name cut = question.name;; cut = cut.parent()) {
    if (auto it = zones_.find(cut); it != zones_.end()) {
      zone = &it->second;
      zone_name = cut;
      break;
    }
    if (cut.is_root()) break;
  }
  // RFC 8198 5.1: the synthesized answer carries the zone's SOA; DS lives in the parent.
  if (!zone || zone->soa.empty() || std::min(zone->soa_expires_at, zone->negative_expires_at) <= now ||
      question.qtype == rrtype::DS)
    return std::nullopt;

  std::vector<ResourceRecord> candidates;
  auto add = [&](const NsecEntry *entry) {
    if (!entry) return;
    for (const auto &rr : entry->records)
      if (std::find_if(candidates.begin(), candidates.end(), [&](const ResourceRecord &c) {
            return c.owner == rr.owner && c.type == rr.type && c.rdata == rr.rdata;
          }) == candidates.end())
        candidates.push_back(rr);
  };
  const NsecEntry *at_name = predecessor(*zone, question.name, now);
  add(at_name);
  std::vector<ResourceRecord> nsecs;
  for (const auto &rr : candidates)
    if (rr.type == rrtype::NSEC) nsecs.push_back(rr);
  if (nsecs.empty()) return std::nullopt;

  Resolution result;
  if (nsecs[0].owner == question.name) {
    if (!prove_nodata_nsec(question.name, question.qtype, nsecs, zone_name).is_secure()) return std::nullopt;
    result.rcode = rcode::NOERROR;
  } else {
    // NXDOMAIN also needs the wildcard at the closest encloser denied.
    auto next = parse_nsec_rdata(nsecs[0].rdata);
    if (!next) return std::nullopt;
    size_t shared = std::max(question.name.common_labels(nsecs[0].owner), question.name.common_labels(next->next));
    Name encloser = question.name.suffix(shared);
    auto wildcard = encloser.prepend("*");
    if (!wildcard) return std::nullopt;
    add(predecessor(*zone, *wildcard, now));
    nsecs.clear();
    for (const auto &rr : candidates)
      if (rr.type == rrtype::NSEC) nsecs.push_back(rr);
    if (!prove_nxdomain_nsec(question.name, nsecs, zone_name).is_secure()) return std::nullopt;
    result.rcode = rcode::NXDOMAIN;
  }
  int64_t soa_expiry = std::min(zone->soa_expires_at, zone->negative_expires_at);
  result.authority = with_remaining_ttl(zone->soa, soa_expiry, now);
  int64_t nsec_expiry = soa_expiry;
  for (const auto &rr : candidates) nsec_expiry = std::min(nsec_expiry, now + static_cast<int64_t>(rr.ttl));
  auto proof = with_remaining_ttl(candidates, nsec_expiry, now);
  result.authority.insert(result.authority.end(), proof.begin(), proof.end());
  result.security = Security::secure;
  result.cacheable = true;
  uint32_t ttl = UINT32_MAX;
  for (const auto &rr : result.authority) ttl = std::min(ttl, rr.ttl);
  result.cache_ttl = ttl == UINT32_MAX ? 0 : ttl;
  if (result.cache_ttl == 0) return std::nullopt;
  return result;
}

size_t AggressiveNsecCache::record_count() const {
  std::lock_guard lock(mutex_);
  return records_;
}

}  // namespace rsv
