// The cache snapshot: the message and RRset caches written to a file and read back
// when the daemon starts, so that a restart costs neither the cache nor, while the
// authorities are unreachable, the answers (serve-stale, RFC 8767, works on restored
// data too).
//
// How a snapshot is written: one shard of each cache at a time is copied out under its
// lock (the workers wait for one shard at most), encoded, and appended to a temporary
// file beside the target; the file is fsynced and renamed over the target, so a
// reader sees the old snapshot or the new one, never half of one. How it is read: the
// whole file is checked first (magic, format version, writer, length, checksum, the
// validation context, every record's structure); a file that fails any of this is
// ignored entirely, with the reason, and nothing of it enters the cache. Then each
// entry is judged by time: one past expiry + max-stale is dropped, one past its
// expiry is kept (serve-stale may use it), TTLs count from the stored times so they
// come back aged by the time the daemon was down. Security status and trust travel
// with every entry, and an entry marked secure comes back only if every RRSIG it
// carries is still within its validity period now (RFC 4034 3.1.5): an expired
// signature means it would not validate today, so it is dropped rather than
// downgraded (a downgrade would serve, as insecure, data that is in fact bogus).
//
// The file format (version 1; every integer big-endian):
//
//   header   "RSVDSNAP"                   8 octets, the magic
//            u16 format version            1
//            u8 length, octets             the writer, "resolverd": a file of the same
//                                          magic written by something else is foreign
//            i64 written_at                seconds since the epoch
//            u32 length, octets            the validation context: the settings the
//                                          security statuses were judged under (DNSSEC
//                                          settings, trust anchors, forwarding; opaque
//                                          here, compared octet for octet)
//   records  u8 kind, u32 length, payload  any number; kind 1 a message, 2 an RRset
//   end      u8 0                          then u32 the number of records and
//                                          u32 the CRC-32 (zlib) of every octet before it
//
//   message  u8 flags (DO 1, CD 2), u8 security, u16 rcode, i64 stored_at,
//            i64 expires_at, i64 signatures_expire_at (0: none), then the reply in
//            wire form (the rest of the payload), TTLs as they were at stored_at
//   RRset    u8 trust, u8 security, i64 expires_at, u16 type, u16 class,
//            u8 length + owner (wire form), u16 count + per rdata u16 length + octets,
//            u16 count + per RRSIG u8 length + owner, u16 length + rdata
//
// Security and Trust are the numbers of cache/trust.h. The reply's TTL offsets are
// not saved: the reply is parsed and encoded again on loading, so nothing in the
// file points into anything else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cache/message_cache.h"
#include "cache/rrset_cache.h"

namespace rsv {

inline constexpr uint16_t kSnapshotFormatVersion = 1;
inline constexpr const char *kSnapshotWriter = "resolverd";

struct SnapshotWriteOptions {
  std::string_view context;  // see the header: the settings statuses were judged under
  int64_t now = 0;
  uint32_t max_stale = 0;    // entries that could not be used any more are left out
};

struct SnapshotWriteResult {
  bool ok = false;
  std::string error;  // "cannot create /var/lib/resolverd/cache.db.tmp: Permission denied"
  size_t messages = 0, rrsets = 0;
  uint64_t bytes = 0;
};

struct SnapshotLoadOptions {
  std::string_view context;  // must equal the context the file was written with
  int64_t now = 0;
  uint32_t max_stale = 0;    // entries more than this past their expiry are dropped
  uint32_t max_ttl = 86400;  // entries with longer to live are dropped (max-ttl was lowered)
  uint64_t max_file_bytes = 1ull << 32;  // a bigger file is refused unread
};

struct SnapshotLoadResult {
  bool ok = false;       // false: the whole file was ignored (or absent); `error` says why
  bool missing = false;  // there was no file (not an error: the first start)
  std::string error;
  int64_t written_at = 0;
  size_t messages = 0, rrsets = 0;  // restored
  size_t stale = 0;                 // of those, already past their TTL (serve-stale only)
  size_t dropped_expired = 0;       // past expiry + max-stale, or living longer than max-ttl
  size_t dropped_signatures = 0;    // secure, with an RRSIG no longer (or not yet) valid
  size_t not_stored = 0;            // the cache had no room, or kept better data
};

// Encodes both caches into the snapshot format, bogus entries and those past
// expiry + max_stale left out.
std::string encode_snapshot(const MessageCache &messages, const RRsetCache &rrsets,
                            const SnapshotWriteOptions &options, size_t *message_count = nullptr,
                            size_t *rrset_count = nullptr);
// Writes the snapshot to `path` atomically: PATH.tmp, fsync, rename, fsync of the
// directory. Shard by shard, so memory beyond the caches stays at one shard's worth.
SnapshotWriteResult write_snapshot_file(const std::string &path, const MessageCache &messages,
                                        const RRsetCache &rrsets, const SnapshotWriteOptions &options);

// Checks `bytes` whole, then restores what is still usable into the caches.
SnapshotLoadResult load_snapshot(std::string_view bytes, MessageCache &messages, RRsetCache &rrsets,
                                 const SnapshotLoadOptions &options);
SnapshotLoadResult load_snapshot_file(const std::string &path, MessageCache &messages, RRsetCache &rrsets,
                                      const SnapshotLoadOptions &options);

}  // namespace rsv
