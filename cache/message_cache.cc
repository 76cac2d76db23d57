#include "cache/message_cache.h"

#include <algorithm>
#include <cstring>

#include "cache/cache_key.h"

namespace rsv {

namespace {

// Only the bits that change a reply's content take part in the key.
constexpr uint8_t kKeyFlagMask = message_flags::DO | message_flags::CD;

inline uint32_t read_u32_be(const char *p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}

inline void write_u32_be(uint8_t *p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

uint16_t MessageCache::Entry::ttl_offset(std::string_view tail, size_t i) const {
  uint16_t offset;
  std::memcpy(&offset, tail.data() + wire_size + i * sizeof(uint16_t), sizeof offset);
  return offset;
}

void MessageCache::copy_counted_down(const Entry &entry, std::string_view tail, int64_t now, uint8_t *out) {
  std::memcpy(out, tail.data(), entry.wire_size);
  // A wall clock that stepped back must not make TTLs grow.
  const int64_t elapsed = now > entry.stored_at() ? now - entry.stored_at() : 0;
  // Nor may a record outlive its entry: a client keeps what it is told for as long as
  // the TTL says, and the entry may be shorter-lived than a record in it (a negative
  // answer's SOA under max-negative-ttl, RFC 2308 5; an entry restored from a snapshot
  // that counts from the file's time).
  const int64_t left = entry.expires_at() > now ? entry.expires_at() - now : 0;
  const size_t count = entry.ttl_count(tail);
  for (size_t i = 0; i < count; ++i) {
    const uint16_t offset = entry.ttl_offset(tail, i);
    const int64_t original = read_u32_be(tail.data() + offset);
    const int64_t remaining = std::clamp<int64_t>(original - elapsed, 0, left);
    write_u32_be(out + offset, static_cast<uint32_t>(remaining));
  }
}

MessageCache::MessageCache(const Clock &clock, uint64_t max_bytes, size_t shards)
    : clock_(clock), entries_(max_bytes, shards) {}

void MessageCache::store(const Name &qname, uint16_t qtype, uint16_t qclass, uint8_t flags, std::string wire,
                         std::vector<uint16_t> ttl_offsets, uint32_t ttl_seconds, Security security,
                         uint16_t rcode, int64_t signatures_expire_at) {
  CacheKey key(qname, qtype, qclass);
  key.append_u8(flags & kKeyFlagMask);
  bool well_formed = ttl_seconds > 0 && wire.size() <= 0xFFFF;
  for (uint16_t offset : ttl_offsets)
    if (size_t{offset} + 4 > wire.size()) well_formed = false;
  if (!well_formed) {
    entries_.erase(key.view());
    return;
  }

  const int64_t now = clock_.now_seconds();
  Entry entry;
  entry.wire_size = static_cast<uint16_t>(wire.size());
  entry.set_times(now, now + ttl_seconds);
  entry.signatures_expire_at_s = Entry::seconds(signatures_expire_at);
  entry.security = security;
  entry.rcode = rcode;
  insert(key.view(), entry, wire, ttl_offsets);
}

bool MessageCache::insert(std::string_view key, const Entry &entry, std::string_view wire,
                          const std::vector<uint16_t> &ttl_offsets) {
  std::string tail;
  tail.reserve(wire.size() + ttl_offsets.size() * sizeof(uint16_t));
  tail.append(wire);
  tail.append(reinterpret_cast<const char *>(ttl_offsets.data()), ttl_offsets.size() * sizeof(uint16_t));
  return entries_.store(key, entry, tail, [](const Entry &) { return false; });
}

size_t MessageCache::answer_into(std::string_view lowered_qname_wire, uint16_t qtype, uint16_t qclass,
                                 uint8_t flags, uint8_t *out, size_t capacity, Security *security,
                                 bool *prefetch_due) const {
  CacheKey key(lowered_qname_wire, qtype, qclass);
  if (!key.valid()) return 0;
  key.append_u8(flags & kKeyFlagMask);
  const int64_t now = clock_.now_seconds();
  size_t written = 0;
  entries_.find(key.view(), [&](const Entry &entry, std::string_view tail) {
    if (entry.expires_at() <= now || entry.wire_size > capacity) return;
    copy_counted_down(entry, tail, now, out);
    written = entry.wire_size;
    if (security) *security = entry.security;
    if (prefetch_due && !entry.prefetching) {
      // Unbound's rule: in the last 10 % of the TTL the entry was stored with.
      const int64_t lifetime = entry.expires_at() - entry.stored_at();
      *prefetch_due = lifetime >= kPrefetchMinTtl && (entry.expires_at() - now) * 10 <= lifetime;
    }
  });
  return written;
}

CachedMessage MessageCache::copy_out(const Entry &entry, std::string_view tail) {
  CachedMessage message{std::string(entry.wire_size, '\0'),
                        std::vector<uint16_t>(entry.ttl_count(tail)),
                        entry.stored_at(),
                        entry.expires_at(),
                        entry.security,
                        entry.rcode};
  for (size_t i = 0; i < message.ttl_offsets.size(); ++i) message.ttl_offsets[i] = entry.ttl_offset(tail, i);
  message.refresh_failed_until = entry.refresh_failed_until();
  return message;
}

std::optional<CachedMessage> MessageCache::lookup(const Name &qname, uint16_t qtype, uint16_t qclass,
                                                  uint8_t flags) const {
  CacheKey key(qname, qtype, qclass);
  key.append_u8(flags & kKeyFlagMask);
  const int64_t now = clock_.now_seconds();
  std::optional<CachedMessage> result;
  entries_.find(key.view(), [&](const Entry &entry, std::string_view tail) {
    if (entry.expires_at() <= now) return;
    CachedMessage message = copy_out(entry, tail);
    copy_counted_down(entry, tail, now, reinterpret_cast<uint8_t *>(message.wire.data()));
    result.emplace(std::move(message));
  });
  return result;
}

std::optional<CachedMessage> MessageCache::lookup_stale(const Name &qname, uint16_t qtype, uint16_t qclass,
                                                        uint8_t flags, uint32_t max_stale,
                                                        uint32_t stale_ttl) const {
  CacheKey key(qname, qtype, qclass);
  key.append_u8(flags & kKeyFlagMask);
  const int64_t now = clock_.now_seconds();
  std::optional<CachedMessage> result;
  entries_.find(key.view(), [&](const Entry &entry, std::string_view tail) {
    if (entry.expires_at() > now || now - entry.expires_at() >= int64_t{max_stale}) return;
    // RFC 4035 4.7: what failed validation is never served, stale or not; and what
    // was secure is secure only while its signatures are (RFC 4034 3.1.5).
    if (entry.security == Security::bogus) return;
    if (entry.security == Security::secure && entry.signatures_expire_at() <= now) return;
    CachedMessage message = copy_out(entry, tail);
    std::memcpy(message.wire.data(), tail.data(), entry.wire_size);
    for (uint16_t offset : message.ttl_offsets)
      write_u32_be(reinterpret_cast<uint8_t *>(message.wire.data()) + offset, stale_ttl);
    message.stale = true;
    result.emplace(std::move(message));
  });
  return result;
}

void MessageCache::note_refresh_failure(const Name &qname, uint16_t qtype, uint16_t qclass, int64_t until) {
  for (uint8_t flags = 0; flags <= kKeyFlagMask; ++flags) {
    CacheKey key(qname, qtype, qclass);
    key.append_u8(flags);
    entries_.find(key.view(), [&](Entry &entry) { entry.refresh_failed_until_s = Entry::seconds(until); });
  }
}

bool MessageCache::claim_prefetch(std::string_view lowered_qname_wire, uint16_t qtype, uint16_t qclass,
                                  uint8_t flags) {
  CacheKey key(lowered_qname_wire, qtype, qclass);
  if (!key.valid()) return false;
  key.append_u8(flags & kKeyFlagMask);
  const int64_t now = clock_.now_seconds();
  bool claimed = false;
  entries_.find(key.view(), [&](Entry &entry) {
    if (entry.expires_at() <= now || entry.prefetching) return;
    entry.prefetching = true;
    claimed = true;
  });
  return claimed;
}

void MessageCache::release_prefetch(std::string_view lowered_qname_wire, uint16_t qtype, uint16_t qclass,
                                    uint8_t flags) {
  CacheKey key(lowered_qname_wire, qtype, qclass);
  if (!key.valid()) return;
  key.append_u8(flags & kKeyFlagMask);
  entries_.find(key.view(), [&](Entry &entry) { entry.prefetching = false; });
}

void MessageCache::export_shard(size_t shard, const std::function<void(const MessageRecord &)> &visit) const {
  std::vector<MessageRecord> copies;
  entries_.for_each_in_shard(shard, [&](std::string_view key, const Entry &entry, std::string_view tail) {
    MessageRecord record;
    record.flags = key.empty() ? 0 : static_cast<uint8_t>(key.back());
    record.wire.assign(entry.wire(tail));
    record.stored_at = entry.stored_at();
    record.expires_at = entry.expires_at();
    record.signatures_expire_at = entry.signatures_expire_at();
    record.security = entry.security;
    record.rcode = entry.rcode;
    copies.push_back(std::move(record));
  });
  for (const auto &record : copies) visit(record);
}

bool MessageCache::restore(const Name &qname, uint16_t qtype, uint16_t qclass, MessageRecord record,
                           std::vector<uint16_t> ttl_offsets) {
  if (record.wire.size() > 0xFFFF || record.expires_at <= record.stored_at) return false;
  for (uint16_t offset : ttl_offsets)
    if (size_t{offset} + 4 > record.wire.size()) return false;
  CacheKey key(qname, qtype, qclass);
  key.append_u8(record.flags & kKeyFlagMask);
  Entry entry;
  entry.wire_size = static_cast<uint16_t>(record.wire.size());
  entry.set_times(record.stored_at, record.expires_at);
  entry.signatures_expire_at_s = Entry::seconds(record.signatures_expire_at);
  entry.security = record.security;
  entry.rcode = record.rcode;
  return insert(key.view(), entry, record.wire, ttl_offsets);
}

void MessageCache::erase(const Name &qname, uint16_t qtype, uint16_t qclass, uint8_t flags) {
  CacheKey key(qname, qtype, qclass);
  key.append_u8(flags & kKeyFlagMask);
  entries_.erase(key.view());
}

size_t MessageCache::flush(const Name &name, bool subtree) {
  const std::string wire = name.lowered().wire();
  return entries_.erase_if([&](std::string_view key) { return key_starts_with_name(key, wire, subtree); });
}

size_t MessageCache::entry_count() const {
  return entries_.size();
}

uint64_t MessageCache::memory_bytes() const {
  return entries_.memory_bytes();
}

}  // namespace rsv
