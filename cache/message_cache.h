// The message cache: whole replies, already encoded, for the cache-hit fast path.
//
// How one query passes through it: the listener parses a client's question, lower-
// cases the name into a stack buffer and calls answer_into; on a hit it gets a
// complete reply (minus OPT) in its output buffer with every TTL counted down by the
// time since storing, patches the ID and flags, appends its own OPT record, and sends
// it, without parsing, encoding or allocating. On a miss the engine resolves the
// question, encodes the reply with rsv::encode_message and stores that encoding here
// together with the offsets of its TTL fields.
//
// Entries are keyed by the lower-cased question name (RFC 4343), type, class and the
// DO and CD bits, since those change what a reply contains (RFC 4035 3.2.1 and
// 3.2.2: RRSIGs only with DO; with CD the reply may hold data that failed validation).
// The stored wire is never modified, so serving it again and again cannot make its
// TTLs shrink twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/clock.h"
#include "cache/sharded_lru.h"
#include "cache/trust.h"
#include "resolver/wire/name.h"

namespace rsv {

namespace message_flags {
inline constexpr uint8_t DO = 1, CD = 2;
}

struct CachedMessage {
  std::string wire;  // TTLs already counted down to the time of lookup
  std::vector<uint16_t> ttl_offsets;
  int64_t stored_at;   // wall-clock seconds
  int64_t expires_at;  // wall-clock seconds
  Security security;
  uint16_t rcode;
};

class MessageCache {
public:
  MessageCache(const Clock &clock, uint64_t max_bytes, size_t shards = 16);

  // `wire` is an encoded reply without any OPT record, as produced by
  // rsv::encode_message (its header ID is irrelevant); ttl_offsets are the offsets of
  // every record's 32-bit TTL in it (EncodeResult::ttl_offsets). The entry lives
  // ttl_seconds (already clamped by the caller). A TTL of 0, or an offset that does not
  // lie inside `wire`, stores nothing (and drops any older entry for the key).
  void store(const Name &qname, uint16_t qtype, uint16_t qclass, uint8_t flags, std::string wire,
             std::vector<uint16_t> ttl_offsets, uint32_t ttl_seconds, Security security, uint16_t rcode);

  // THE HOT PATH. `lowered_qname_wire` is the question name in wire form already
  // lower-cased. On a live hit, copies the cached reply into `out`, rewrites every TTL
  // at ttl_offsets to max(0, original - (now - stored_at)) and returns its size;
  // returns 0 on a miss, an expired entry, or when it does not fit in `capacity`.
  // On a hit, `security` (when given) gets the DNSSEC status the reply was stored with.
  // No heap allocation, no parsing, one shard lock.
  size_t answer_into(std::string_view lowered_qname_wire, uint16_t qtype, uint16_t qclass, uint8_t flags,
                     uint8_t *out, size_t capacity, Security *security = nullptr) const;

  // A copy, TTLs rewritten likewise; nullopt on a miss or an expired entry.
  std::optional<CachedMessage> lookup(const Name &qname, uint16_t qtype, uint16_t qclass,
                                      uint8_t flags) const;
  void erase(const Name &qname, uint16_t qtype, uint16_t qclass, uint8_t flags);
  // Removes every entry for `name` (with `subtree`, for names at or below it); all
  // entries when `name` is the root and `subtree` is set. Returns how many.
  size_t flush(const Name &name, bool subtree);
  size_t entry_count() const;
  uint64_t memory_bytes() const;

private:
  struct Entry {
    // The reply exactly as stored, followed by its TTL offsets (native-order u16s):
    // one allocation per entry instead of two.
    std::string blob;
    uint32_t wire_size = 0;
    int64_t stored_at = 0;
    int64_t expires_at = 0;
    Security security = Security::unchecked;
    uint16_t rcode = 0;

    std::string_view wire() const { return std::string_view(blob).substr(0, wire_size); }
    size_t ttl_count() const { return (blob.size() - wire_size) / sizeof(uint16_t); }
    uint16_t ttl_offset(size_t i) const;
  };

  // Copies entry's wire into out with the TTLs counted down to `now`.
  static void copy_counted_down(const Entry &entry, int64_t now, uint8_t *out);

  const Clock &clock_;
  // Lookups move entries in the recency list: internal, so the readers stay const.
  mutable ShardedLru<Entry> entries_;
};

}  // namespace rsv
