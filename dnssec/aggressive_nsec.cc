#include "dnssec/aggressive_nsec.h"

#include <algorithm>

#include "dnssec/crypto.h"
#include "dnssec/nsec.h"
#include "dnssec/nsec3.h"
#include "dnssec/verification_cache.h"

namespace rsv {

namespace {

// What one cached record costs besides its bytes: the map node, the vector and the
// Name's own string.
constexpr uint64_t kEntryOverhead = 128;

uint64_t entry_bytes(const std::vector<ResourceRecord> &records) {
  uint64_t bytes = kEntryOverhead;
  for (const auto &rr : records) bytes += sizeof(ResourceRecord) + rr.owner.wire().size() + rr.rdata.size();
  return bytes;
}

std::vector<ResourceRecord> with_remaining_ttl(const std::vector<ResourceRecord> &records, int64_t expires_at,
                                               int64_t now) {
  std::vector<ResourceRecord> out = records;
  uint32_t remaining = expires_at > now ? static_cast<uint32_t>(expires_at - now) : 0;
  for (auto &rr : out) rr.ttl = std::min(rr.ttl, remaining);
  return out;
}

// The record and the RRSIGs over it, out of a proof.
std::vector<ResourceRecord> with_signatures(const ResourceRecord &record, const std::vector<ResourceRecord> &all) {
  std::vector<ResourceRecord> out{record};
  for (const auto &sig : all)
    if (sig.type == rrtype::RRSIG && sig.owner == record.owner && sig.rrsig_type_covered() == record.type)
      out.push_back(sig);
  return out;
}

}  // namespace

void AggressiveNsecCache::add_entry_bytes(const Entry &entry, int sign) {
  const uint64_t bytes = entry_bytes(entry.records);
  if (sign > 0) {
    bytes_ += bytes;
    ++records_;
  } else {
    bytes_ -= std::min(bytes_, bytes);
    if (records_ > 0) --records_;
  }
}

void AggressiveNsecCache::store(const Name &zone_name, const std::vector<ResourceRecord> &proof_and_signatures,
                                const std::vector<ResourceRecord> &soa_and_signatures) {
  const int64_t now = clock_.now_seconds();
  std::lock_guard lock(mutex_);
  Zone &zone = zones_[zone_name];
  for (const auto &rr : soa_and_signatures) {
    if (rr.type != rrtype::SOA || rr.owner != zone_name) continue;
    uint32_t minimum = soa_minimum(rr.rdata).value_or(rr.ttl);
    zone.soa = soa_and_signatures;
    zone.soa_expires_at = now + rr.ttl;
    zone.negative_expires_at = now + std::min(rr.ttl, minimum);
  }
  auto put = [&](auto &map, auto key, const ResourceRecord &rr) {
    Entry entry{with_signatures(rr, proof_and_signatures), now + rr.ttl};
    if (auto old = map.find(key); old != map.end()) {
      add_entry_bytes(old->second, -1);
      map.erase(old);
    }
    add_entry_bytes(entry, +1);
    map.emplace(std::move(key), std::move(entry));
  };
  for (const auto &rr : proof_and_signatures) {
    if (rr.type == rrtype::NSEC && rr.owner.is_subdomain_of(zone_name)) put(zone.nsecs, rr.owner, rr);
    if (rr.type != rrtype::NSEC3 || rr.owner.label_count() != zone_name.label_count() + 1 ||
        rr.owner.parent() != zone_name)
      continue;
    auto rdata = parse_nsec3_rdata(rr.rdata);
    auto hash = base32hex_decode(rr.owner.first_label());
    if (!rdata || rdata->hash_algorithm != nsec3::kHashSha1 || !hash || hash->size() != nsec3::kSha1Length) continue;
    if (zone.nsec3s.empty()) {
      zone.nsec3_salt = rdata->salt;
      zone.nsec3_iterations = rdata->iterations;
    } else if (rdata->salt != zone.nsec3_salt || rdata->iterations != zone.nsec3_iterations) {
      continue;  // RFC 5155 7.2: one set of parameters per chain
    }
    put(zone.nsec3s, *hash, rr);
  }
  if (bytes_ > max_bytes_) {
    // A simple bound: start over rather than grow (the cache refills from answers).
    zones_.clear();
    records_ = 0;
    bytes_ = 0;
  }
}

const AggressiveNsecCache::Zone *AggressiveNsecCache::zone_for(const Name &name, const KeyCache *known_cuts,
                                                               Name &zone_name) const {
  for (Name cut = name;; cut = cut.parent()) {
    if (auto it = zones_.find(cut); it != zones_.end()) {
      zone_name = cut;
      return &it->second;
    }
    // A zone established at or above the name, below any cached zone: the name is
    // that zone's, and the records of a zone above it say nothing about it.
    if (known_cuts)
      if (auto keys = known_cuts->lookup(cut); keys && keys->status != ZoneKeys::Status::not_a_cut) return nullptr;
    if (cut.is_root()) return nullptr;
  }
}

std::optional<Resolution> AggressiveNsecCache::synthesize(const Question &question, const KeyCache *known_cuts,
                                                          const DnssecConfig &limits) const {
  // RFC 8198 5.1: the synthesized answer carries the zone's SOA; DS lives in the parent.
  if (question.qtype == rrtype::DS) return std::nullopt;
  const int64_t now = clock_.now_seconds();
  std::lock_guard lock(mutex_);
  Name zone_name;
  const Zone *zone = zone_for(question.name, known_cuts, zone_name);
  if (!zone || zone->soa.empty() || std::min(zone->soa_expires_at, zone->negative_expires_at) <= now)
    return std::nullopt;
  if (auto answer = from_nsec(*zone, zone_name, question, now)) return answer;
  return from_nsec3(*zone, zone_name, question, limits, now);
}

std::optional<Resolution> AggressiveNsecCache::from_nsec(const Zone &zone, const Name &zone_name,
                                                         const Question &question, int64_t now) const {
  // The NSEC whose owner is the closest at or before `name`, if live.
  auto predecessor = [&](const Name &name) -> const Entry * {
    if (zone.nsecs.empty()) return nullptr;
    auto it = zone.nsecs.upper_bound(name);  // first owner after `name`
    if (it == zone.nsecs.begin()) it = zone.nsecs.end();  // the chain wraps: the last NSEC covers it
    --it;
    return it->second.expires_at > now ? &it->second : nullptr;
  };
  auto nsecs_of = [](const std::vector<const Entry *> &entries) {
    std::vector<ResourceRecord> out;
    for (const Entry *entry : entries)
      for (const auto &rr : entry->records)
        if (rr.type == rrtype::NSEC) out.push_back(rr);
    return out;
  };
  const Entry *at_name = predecessor(question.name);
  if (!at_name) return std::nullopt;
  const ResourceRecord &nsec = at_name->records.front();
  if (nsec.owner == question.name) {
    if (!prove_nodata_nsec(question.name, question.qtype, nsecs_of({at_name}), zone_name).is_secure())
      return std::nullopt;
    return answer(zone, rcode::NOERROR, {at_name}, now);
  }
  // NXDOMAIN also needs the wildcard at the closest encloser denied.
  auto next = parse_nsec_rdata(nsec.rdata);
  if (!next) return std::nullopt;
  size_t shared = std::max(question.name.common_labels(nsec.owner), question.name.common_labels(next->next));
  auto wildcard = question.name.suffix(shared).prepend("*");
  if (!wildcard) return std::nullopt;
  std::vector<const Entry *> proof{at_name};
  if (const Entry *other = predecessor(*wildcard); other && other != at_name) proof.push_back(other);
  if (!prove_nxdomain_nsec(question.name, nsecs_of(proof), zone_name).is_secure()) return std::nullopt;
  return answer(zone, rcode::NXDOMAIN, proof, now);
}

std::optional<Resolution> AggressiveNsecCache::from_nsec3(const Zone &zone, const Name &zone_name,
                                                          const Question &question, const DnssecConfig &limits,
                                                          int64_t now) const {
  if (zone.nsec3s.empty() || zone.nsec3_iterations > limits.max_nsec3_iterations) return std::nullopt;
  ValidationBudget budget(limits);
  auto hash_of = [&](const Name &name) -> std::optional<std::string> {
    if (!budget.take_nsec3_hash()) return std::nullopt;
    return nsec3_hash_cached(name.lowered().wire(), zone.nsec3_salt, zone.nsec3_iterations);
  };
  auto live = [&](const Entry &entry) { return entry.expires_at > now ? &entry : nullptr; };
  auto matching = [&](const std::string &hash) -> const Entry * {
    auto it = zone.nsec3s.find(hash);
    return it == zone.nsec3s.end() ? nullptr : live(it->second);
  };
  // RFC 5155 8.3: the record whose span (owner hash, next hash) holds `hash`.
  auto covering = [&](const std::string &hash) -> const Entry * {
    auto it = zone.nsec3s.lower_bound(hash);
    if (it == zone.nsec3s.begin()) it = zone.nsec3s.end();  // the chain wraps
    --it;
    auto rdata = parse_nsec3_rdata(it->second.records.front().rdata);
    if (!rdata || it->first == hash) return nullptr;
    const std::string &owner = it->first, &next = rdata->next_hashed_owner;
    bool covers = owner < next ? (owner < hash && hash < next) : (owner < hash || hash < next);
    return covers ? live(it->second) : nullptr;
  };
  auto records_of = [](const std::vector<const Entry *> &entries) {
    std::vector<ResourceRecord> out;
    for (const Entry *entry : entries)
      out.insert(out.end(), entry->records.begin(), entry->records.end());
    return out;
  };
  ValidationBudget proof_budget(limits);
  auto qname_hash = hash_of(question.name);
  if (!qname_hash) return std::nullopt;
  if (const Entry *match = matching(*qname_hash)) {
    // RFC 5155 8.5: NODATA from the NSEC3 matching the name.
    if (!prove_nodata_nsec3(question.name, question.qtype, records_of({match}), zone_name, proof_budget,
                            nsec3_hash_cached)
             .is_secure())
      return std::nullopt;
    return answer(zone, rcode::NOERROR, {match}, now);
  }
  // RFC 5155 8.4: NXDOMAIN needs the closest encloser, the next closer name covered,
  // and the wildcard at the closest encloser covered.
  for (Name encloser = question.name.parent(); encloser.is_subdomain_of(zone_name); encloser = encloser.parent()) {
    auto hash = hash_of(encloser);
    if (!hash) return std::nullopt;
    if (const Entry *match = matching(*hash)) {
      Name next_closer = question.name.suffix(encloser.label_count() + 1);
      auto next_closer_hash = next_closer == question.name ? qname_hash : hash_of(next_closer);
      auto wildcard = encloser.prepend("*");
      if (!next_closer_hash || !wildcard) return std::nullopt;
      auto wildcard_hash = hash_of(*wildcard);
      const Entry *next_closer_cover = covering(*next_closer_hash);
      const Entry *wildcard_cover = wildcard_hash ? covering(*wildcard_hash) : nullptr;
      if (!next_closer_cover || !wildcard_cover) return std::nullopt;
      std::vector<const Entry *> proof{match, next_closer_cover};
      if (wildcard_cover != next_closer_cover && wildcard_cover != match) proof.push_back(wildcard_cover);
      // An Opt-Out span proves nothing secure (RFC 5155 9.2): the proof says insecure then.
      if (!prove_nxdomain_nsec3(question.name, records_of(proof), zone_name, proof_budget, nsec3_hash_cached)
               .is_secure())
        return std::nullopt;
      return answer(zone, rcode::NXDOMAIN, proof, now);
    }
    if (encloser == zone_name) break;
  }
  return std::nullopt;
}

std::optional<Resolution> AggressiveNsecCache::answer(const Zone &zone, uint16_t code,
                                                      const std::vector<const Entry *> &proof, int64_t now) const {
  Resolution result;
  result.rcode = code;
  int64_t soa_expiry = std::min(zone.soa_expires_at, zone.negative_expires_at);
  result.authority = with_remaining_ttl(zone.soa, soa_expiry, now);
  int64_t proof_expiry = soa_expiry;
  for (const Entry *entry : proof) proof_expiry = std::min(proof_expiry, entry->expires_at);
  for (const Entry *entry : proof) {
    auto records = with_remaining_ttl(entry->records, proof_expiry, now);
    result.authority.insert(result.authority.end(), records.begin(), records.end());
  }
  result.security = Security::secure;
  result.cacheable = true;
  uint32_t ttl = UINT32_MAX;
  for (const auto &rr : result.authority) ttl = std::min(ttl, rr.ttl);
  result.cache_ttl = ttl == UINT32_MAX ? 0 : ttl;
  if (result.cache_ttl == 0) return std::nullopt;
  return result;
}

size_t AggressiveNsecCache::flush(const Name &name, bool subtree) {
  std::lock_guard lock(mutex_);
  auto hit = [&](const Name &owner) { return subtree ? owner.is_subdomain_of(name) : owner == name; };
  size_t removed = 0;
  for (auto zone = zones_.begin(); zone != zones_.end();) {
    if (hit(zone->first)) {
      for (const auto &entry : zone->second.nsecs) add_entry_bytes(entry.second, -1);
      for (const auto &entry : zone->second.nsec3s) add_entry_bytes(entry.second, -1);
      removed += zone->second.nsecs.size() + zone->second.nsec3s.size();
      zone = zones_.erase(zone);
      continue;
    }
    for (auto it = zone->second.nsecs.begin(); it != zone->second.nsecs.end();) {
      if (!hit(it->first)) {
        ++it;
        continue;
      }
      add_entry_bytes(it->second, -1);
      it = zone->second.nsecs.erase(it);
      ++removed;
    }
    ++zone;
  }
  return removed;
}

size_t AggressiveNsecCache::record_count() const {
  std::lock_guard lock(mutex_);
  return records_;
}

uint64_t AggressiveNsecCache::memory_bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace rsv
