#include "cache/rrset_cache.h"

#include <algorithm>
#include <string_view>

#include "cache/cache_key.h"
#include "cache/signature_time.h"

namespace rsv {

uint32_t TtlPolicy::clamp(uint32_t ttl) const {
  // RFC 2181 8: values with the most significant bit set are treated as zero.
  if (ttl & 0x80000000u) ttl = 0;
  return std::min(std::max(ttl, min_ttl), max_ttl);
}

uint32_t TtlPolicy::negative_ttl(uint32_t soa_ttl, uint32_t soa_minimum) const {
  if (soa_ttl & 0x80000000u) soa_ttl = 0;
  if (soa_minimum & 0x80000000u) soa_minimum = 0;
  return std::min({soa_ttl, soa_minimum, max_negative_ttl});
}

namespace {

// The packed form of one RRset, in a single buffer:
//   owner:      u8 length, owner wire (original case)
//   rdatas:     u16 count, then per rdata u16 length and the rdata
//   signatures: u16 count, then per RRSIG u8 owner length, owner wire, u16 type,
//               u16 class, u16 rdata length, rdata
// Signature TTLs are not kept: RFC 4034 3 says an RRSIG's TTL equals that of the set
// it covers, and the two live and expire as one entry.
class Packer {
public:
  explicit Packer(size_t reserve) { out_.reserve(reserve); }
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) {
    out_.push_back(static_cast<char>(v >> 8));
    out_.push_back(static_cast<char>(v & 0xFF));
  }
  void bytes(std::string_view b) { out_.append(b); }
  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

class Unpacker {
public:
  explicit Unpacker(std::string_view in) : in_(in) {}
  uint8_t u8() { return static_cast<uint8_t>(in_[pos_++]); }
  uint16_t u16() {
    uint16_t v =
        static_cast<uint16_t>((static_cast<uint8_t>(in_[pos_]) << 8) | static_cast<uint8_t>(in_[pos_ + 1]));
    pos_ += 2;
    return v;
  }
  std::string_view bytes(size_t n) {
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }

private:
  std::string_view in_;
  size_t pos_ = 0;
};

size_t packed_size(const RRset &rrset) {
  size_t size = 1 + rrset.owner.wire().size() + 2 + 2;
  for (const auto &rdata : rrset.rdatas) size += 2 + rdata.size();
  for (const auto &sig : rrset.signatures) size += 1 + sig.owner.wire().size() + 6 + sig.rdata.size();
  return size;
}

// Rdata is at most 65535 octets (RFC 1035 3.2.1), so every length fits its field;
// sets with more than 65535 members cannot come from one message either.
bool packable(const RRset &rrset) {
  if (rrset.rdatas.size() > 0xFFFF || rrset.signatures.size() > 0xFFFF) return false;
  for (const auto &rdata : rrset.rdatas)
    if (rdata.size() > 0xFFFF) return false;
  for (const auto &sig : rrset.signatures)
    if (sig.rdata.size() > 0xFFFF) return false;
  return true;
}

bool has_upper_case(std::string_view wire) {
  for (char c : wire)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

std::string pack(const RRset &rrset) {
  Packer p(packed_size(rrset));
  // Length 0 (no real name has it): the owner is the cache key's name, in lower case,
  // as almost every owner is; it is not stored twice.
  if (has_upper_case(rrset.owner.wire())) {
    p.u8(static_cast<uint8_t>(rrset.owner.wire().size()));
    p.bytes(rrset.owner.wire());
  } else {
    p.u8(0);
  }
  p.u16(static_cast<uint16_t>(rrset.rdatas.size()));
  for (const auto &rdata : rrset.rdatas) {
    p.u16(static_cast<uint16_t>(rdata.size()));
    p.bytes(rdata);
  }
  p.u16(static_cast<uint16_t>(rrset.signatures.size()));
  for (const auto &sig : rrset.signatures) {
    // Length 0: the set's own owner, as RRSIGs' owners are (RFC 4034 3).
    if (sig.owner.wire() == rrset.owner.wire()) {
      p.u8(0);
    } else {
      p.u8(static_cast<uint8_t>(sig.owner.wire().size()));
      p.bytes(sig.owner.wire());
    }
    p.u16(sig.type);
    p.u16(sig.rclass);
    p.u16(static_cast<uint16_t>(sig.rdata.size()));
    p.bytes(sig.rdata);
  }
  return p.take();
}

// The packed buffer was written by pack() from valid Names, so it is trusted here.
// `key_owner`: the name the entry is stored under (any case).
RRset unpack(std::string_view packed, uint16_t type, uint16_t rclass, uint32_t ttl, const Name &key_owner) {
  Unpacker u(packed);
  RRset rrset;
  const uint8_t owner_size = u.u8();
  rrset.owner = owner_size == 0 ? key_owner.lowered() : *Name::from_wire(u.bytes(owner_size));
  rrset.type = type;
  rrset.rclass = rclass;
  rrset.ttl = ttl;
  size_t rdata_count = u.u16();
  rrset.rdatas.reserve(rdata_count);
  for (size_t i = 0; i < rdata_count; ++i) rrset.rdatas.emplace_back(u.bytes(u.u16()));
  size_t signature_count = u.u16();
  rrset.signatures.reserve(signature_count);
  for (size_t i = 0; i < signature_count; ++i) {
    ResourceRecord sig;
    const uint8_t sig_owner_size = u.u8();
    sig.owner = sig_owner_size == 0 ? rrset.owner : *Name::from_wire(u.bytes(sig_owner_size));
    sig.type = u.u16();
    sig.rclass = u.u16();
    sig.ttl = ttl;
    sig.rdata = std::string(u.bytes(u.u16()));
    rrset.signatures.push_back(std::move(sig));
  }
  return rrset;
}

}  // namespace

RRsetCache::RRsetCache(const Clock &clock, uint64_t max_bytes, TtlPolicy policy, size_t shards)
    : clock_(clock),
      min_ttl_(policy.min_ttl),
      max_ttl_(policy.max_ttl),
      max_negative_ttl_(policy.max_negative_ttl),
      entries_(max_bytes, shards) {}

bool RRsetCache::store(const RRset &rrset, Trust trust, Security security) {
  if (rrset.empty() || !packable(rrset)) return false;
  const uint32_t ttl = policy().clamp(rrset.ttl);
  if (ttl == 0) return false;
  return insert(rrset, clock_.now_seconds() + ttl, trust, security);
}

bool RRsetCache::insert(const RRset &rrset, int64_t expires_at, Trust trust, Security security) {
  const int64_t now = clock_.now_seconds();
  Entry entry;
  entry.set_expires_at(expires_at);
  entry.trust = trust;
  entry.security = security;
  entry.type = rrset.type;
  entry.rclass = rrset.rclass;

  CacheKey key(rrset.owner, rrset.type, rrset.rclass);
  // RFC 2181 5.4.1 and RFC 4035 4.7 (may_replace): rank and validation status decide;
  // an expired entry has no rank left.
  auto keep_existing = [&](const Entry &old) {
    return old.expires_at() > now && !may_replace(old.trust, old.security, trust, security);
  };
  return entries_.store(key.view(), entry, pack(rrset), keep_existing);
}

std::optional<CachedRRset> RRsetCache::lookup(const Name &owner, uint16_t type, uint16_t rclass) const {
  CacheKey key(owner, type, rclass);
  const int64_t now = clock_.now_seconds();
  std::optional<CachedRRset> result;
  entries_.find(key.view(), [&](const Entry &entry, std::string_view packed) {
    if (entry.expires_at() <= now) return;
    // If the wall clock stepped back, never report more than the cache could have kept.
    const auto remaining = static_cast<uint32_t>(
        std::min<int64_t>(entry.expires_at() - now, std::max(min_ttl_.load(std::memory_order_relaxed),
                                                           max_ttl_.load(std::memory_order_relaxed))));
    result.emplace(CachedRRset{unpack(packed, entry.type, entry.rclass, remaining, owner), entry.trust,
                               entry.security, entry.expires_at()});
  });
  return result;
}

std::optional<CachedRRset> RRsetCache::lookup_stale(const Name &owner, uint16_t type, uint32_t max_stale,
                                                    uint16_t rclass) const {
  CacheKey key(owner, type, rclass);
  const int64_t now = clock_.now_seconds();
  std::optional<CachedRRset> result;
  entries_.find(key.view(), [&](const Entry &entry, std::string_view packed) {
    if (entry.expires_at() > now || now - entry.expires_at() >= int64_t{max_stale}) return;
    if (entry.security == Security::bogus) return;  // RFC 4035 4.7
    result.emplace(CachedRRset{unpack(packed, entry.type, entry.rclass, 0, owner), entry.trust, entry.security,
                               entry.expires_at()});
  });
  // Secure only while every signature is current (RFC 4034 3.1.5); checked outside the lock.
  if (result && result->security == Security::secure && !signatures_current(result->rrset.signatures, now))
    result.reset();
  return result;
}

void RRsetCache::erase(const Name &owner, uint16_t type, uint16_t rclass) {
  CacheKey key(owner, type, rclass);
  entries_.erase(key.view());
}

size_t RRsetCache::flush(const Name &name, bool subtree) {
  const std::string wire = name.lowered().wire();
  return entries_.erase_if([&](std::string_view key) { return key_starts_with_name(key, wire, subtree); });
}

size_t RRsetCache::entry_count() const {
  return entries_.size();
}

uint64_t RRsetCache::memory_bytes() const {
  return entries_.memory_bytes();
}

void RRsetCache::export_shard(size_t shard, const std::function<void(const RRsetRecord &)> &visit) const {
  struct Copy {
    Entry entry;
    std::string key, packed;
  };
  std::vector<Copy> copies;
  entries_.for_each_in_shard(shard, [&](std::string_view key, const Entry &entry, std::string_view packed) {
    copies.push_back(Copy{entry, std::string(key), std::string(packed)});
  });
  for (const auto &copy : copies) {
    // The key: the owner's lower-cased wire form, then type and class (cache_key.h).
    auto owner = Name::from_wire(std::string_view(copy.key).substr(0, copy.key.size() - 4));
    if (!owner) continue;
    visit(RRsetRecord{unpack(copy.packed, copy.entry.type, copy.entry.rclass, 0, *owner), copy.entry.expires_at(),
                      copy.entry.trust, copy.entry.security});
  }
}

bool RRsetCache::restore(const RRsetRecord &record) {
  if (record.rrset.empty() || !packable(record.rrset)) return false;
  return insert(record.rrset, record.expires_at, record.trust, record.security);
}

}  // namespace rsv
