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
//
// An entry outlives its TTL (until the LRU evicts it, or a newer answer replaces it):
// the fast path never serves it then, but serve-stale (RFC 8767) may, through
// lookup_stale, for up to cache.max-stale seconds past its expiry; memory stays
// bounded by the LRU's byte budget as before. Prefetch: answer_into says when a hit
// falls in the last tenth of the entry's TTL, and claim_prefetch lets exactly one
// caller (of all the workers) refresh it. The snapshot (cache/snapshot.h) reads every
// entry with export_shard and puts them back with restore.
#pragma once

#include <cstdint>
#include <functional>
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
  std::string wire;  // TTLs already counted down to the time of lookup (stale: the stale TTL)
  std::vector<uint16_t> ttl_offsets;
  int64_t stored_at;   // wall-clock seconds
  int64_t expires_at;  // wall-clock seconds
  Security security;
  uint16_t rcode;
  bool stale = false;
  // RFC 8767 5: until when a failed refresh says not to try again (0: no failure).
  int64_t refresh_failed_until = 0;
};

// One entry as the cache snapshot saves and restores it.
struct MessageRecord {
  uint8_t flags = 0;  // message_flags
  std::string wire;   // as stored: every TTL as it was at stored_at
  int64_t stored_at = 0;
  int64_t expires_at = 0;
  // The earliest expiration of the RRSIGs of the answer it was built from (before
  // RRSIGs were stripped for a client without DO); 0 when there were none.
  int64_t signatures_expire_at = 0;
  Security security = Security::unchecked;
  uint16_t rcode = 0;
};

class MessageCache {
public:
  MessageCache(const Clock &clock, uint64_t max_bytes, size_t shards = 16);

  // `wire` is an encoded reply without any OPT record, as produced by
  // rsv::encode_message (its header ID is irrelevant); ttl_offsets are the offsets of
  // every record's 32-bit TTL in it (EncodeResult::ttl_offsets). The entry lives
  // ttl_seconds (already clamped by the caller). A TTL of 0, or an offset that does not
  // lie inside `wire`, stores nothing (and drops any older entry for the key).
  // `signatures_expire_at`: for a secure answer, the earliest expiration of its RRSIGs
  // (cache/signature_time.h), which bounds how long it may be served as stale.
  void store(const Name &qname, uint16_t qtype, uint16_t qclass, uint8_t flags, std::string wire,
             std::vector<uint16_t> ttl_offsets, uint32_t ttl_seconds, Security security, uint16_t rcode,
             int64_t signatures_expire_at = 0);

  // THE HOT PATH. `lowered_qname_wire` is the question name in wire form already
  // lower-cased. On a live hit, copies the cached reply into `out`, rewrites every TTL
  // at ttl_offsets to max(0, original - (now - stored_at)), and at most the entry's
  // own time left (expires_at - now: no record outlives its entry), and returns its size;
  // returns 0 on a miss, an expired entry, or when it does not fit in `capacity`.
  // No heap allocation, no parsing, one shard lock. On a hit, `security` (when given)
  // gets the DNSSEC status the reply was stored with, and `prefetch_due` (when given)
  // says whether the entry is due for a prefetch: asked for in the last tenth of its
  // TTL (which was at least kPrefetchMinTtl), and not claimed by a prefetch yet.
  size_t answer_into(std::string_view lowered_qname_wire, uint16_t qtype, uint16_t qclass, uint8_t flags,
                     uint8_t *out, size_t capacity, Security *security = nullptr,
                     bool *prefetch_due = nullptr) const;

  // A copy, TTLs rewritten likewise; nullopt on a miss or an expired entry.
  std::optional<CachedMessage> lookup(const Name &qname, uint16_t qtype, uint16_t qclass,
                                      uint8_t flags) const;

  // RFC 8767: an entry whose TTL has run out less than `max_stale` seconds ago, with
  // every TTL set to `stale_ttl` (RFC 8767 4: 30 s). Never a live entry (that is the
  // fast path's), never one the validator found bogus, and never a secure one whose
  // signatures have expired since (it would not validate now). nullopt otherwise.
  std::optional<CachedMessage> lookup_stale(const Name &qname, uint16_t qtype, uint16_t qclass, uint8_t flags,
                                            uint32_t max_stale, uint32_t stale_ttl) const;
  // RFC 8767 5, the failure recheck timer: refreshing the question failed; its stale
  // entries (every DO/CD variant) say so until `until`, so that clients get them at
  // once instead of waiting for another doomed resolution each time.
  void note_refresh_failure(const Name &qname, uint16_t qtype, uint16_t qclass, int64_t until);

  // Prefetch: marks the live entry as being refreshed. True for the first caller
  // only, until a new answer replaces the entry; false when absent or expired.
  bool claim_prefetch(std::string_view lowered_qname_wire, uint16_t qtype, uint16_t qclass, uint8_t flags);
  // The prefetch was given up before it could refresh the entry: it may be claimed again.
  void release_prefetch(std::string_view lowered_qname_wire, uint16_t qtype, uint16_t qclass, uint8_t flags);
  // An entry is prefetched only when its TTL was at least this long (as Unbound):
  // refreshing something that lives a few seconds costs more than it saves.
  static constexpr uint32_t kPrefetchMinTtl = 10;

  // The snapshot: calls visit(const MessageRecord &) for every entry of one shard
  // (expired ones included). The shard is locked only while its entries are copied.
  size_t shard_count() const { return entries_.shard_count(); }
  void export_shard(size_t shard, const std::function<void(const MessageRecord &)> &visit) const;
  // Puts a saved entry back under its question, with its own stored_at and
  // expires_at. The caller has checked it (cache/snapshot.cc); the offsets of its TTLs
  // are those of `wire` as rsv::encode_message wrote it. False when it does not fit.
  bool restore(const Name &qname, uint16_t qtype, uint16_t qclass, MessageRecord record,
               std::vector<uint16_t> ttl_offsets);
  void erase(const Name &qname, uint16_t qtype, uint16_t qclass, uint8_t flags);
  // Removes every entry for `name` (with `subtree`, for names at or below it); all
  // entries when `name` is the root and `subtree` is set. Returns how many.
  size_t flush(const Name &name, bool subtree);
  size_t entry_count() const;
  uint64_t memory_bytes() const;

private:
  // Each entry's fixed part; the reply exactly as stored, followed by its TTL offsets
  // (native-order u16s), is the entry's tail, in the same allocation (ShardedLru::store).
  struct Entry {
    // Wall-clock seconds in 32 bits (until 2106; earlier times read as 0): a million
    // cached names are a million of these, and 16 bytes less each is what makes an
    // entry fit the next smaller allocation.
    uint32_t stored_at_s = 0;
    uint32_t ttl = 0;
    uint32_t signatures_expire_at_s = 0;
    uint32_t refresh_failed_until_s = 0;
    uint16_t wire_size = 0;  // store() refuses a reply over 65535 octets
    uint16_t rcode = 0;
    Security security = Security::unchecked;
    bool prefetching = false;

    static uint32_t seconds(int64_t t) { return t <= 0 ? 0 : t >= int64_t{UINT32_MAX} ? UINT32_MAX : static_cast<uint32_t>(t); }
    int64_t stored_at() const { return stored_at_s; }
    int64_t expires_at() const { return int64_t{stored_at_s} + ttl; }
    int64_t signatures_expire_at() const { return signatures_expire_at_s; }
    int64_t refresh_failed_until() const { return refresh_failed_until_s; }
    void set_times(int64_t stored, int64_t expires) {
      stored_at_s = seconds(stored);
      ttl = seconds(expires - int64_t{stored_at_s});
    }

    std::string_view wire(std::string_view tail) const { return tail.substr(0, wire_size); }
    size_t ttl_count(std::string_view tail) const { return (tail.size() - wire_size) / sizeof(uint16_t); }
    uint16_t ttl_offset(std::string_view tail, size_t i) const;
  };

  // Copies entry's wire into out with the TTLs counted down to `now`.
  static void copy_counted_down(const Entry &entry, std::string_view tail, int64_t now, uint8_t *out);
  static CachedMessage copy_out(const Entry &entry, std::string_view tail);
  bool insert(std::string_view key, const Entry &entry, std::string_view wire, const std::vector<uint16_t> &ttl_offsets);

  const Clock &clock_;
  // Lookups move entries in the recency list: internal, so the readers stay const.
  mutable ShardedLru<Entry> entries_;
};

}  // namespace rsv
