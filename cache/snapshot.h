// The cache snapshot: the message and RRset caches written to a file and read back
// when the daemon starts, so that a restart costs neither the cache nor, while the
// authorities are unreachable, the answers (serve-stale, RFC 8767, works on restored
// data too).
//
// How a snapshot is written: one shard of each cache at a time is copied out under its
// lock (the workers wait for one shard at most), encoded, and appended to a temporary
// file beside the target, made by mkostemp (resolver/base/private_file.h: nothing
// planted there is followed); the file is fsynced and renamed over the target, so a
// reader sees the old snapshot or the new one, never half of one. A writer may be told
// that what it wrote no longer holds (SnapshotWriteOptions::still_valid): the old
// file then stays.
//
// How it is read: only a regular file, not writable by group or others, owned by the
// daemon's user or root (anything else is refused unread: its statuses would be
// trusted). Its octets are read (at most max_file_bytes, a bound the daemon ties to
// the cache's size) and checked first (magic, format version, writer, length,
// checksum, the validation context), then walked once, each record decoded, checked
// and restored before the next, so that memory beyond the file's own octets stays at
// one entry. A file that fails any of this is ignored entirely, with the reason: one
// found wrong part-way (a record no writer makes, an end marker that miscounts) has
// the caches flushed, so nothing of it stays (the daemon loads into empty caches, at
// start). Each entry is judged by time: one past expiry + max-stale
// is dropped, one past its expiry is kept (serve-stale may use it), TTLs count from
// the stored times (the file's time at the latest) so they come back aged by the time
// the daemon was down, and none says more than the entry has left. Security status
// and trust travel with every entry, and an entry marked secure comes back only if
// every RRSIG it carries is still within its validity period now (RFC 4034 3.1.5): an
// expired signature means it would not validate today, so it is dropped rather than
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

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/message_cache.h"
#include "cache/rrset_cache.h"

namespace rsv {

inline constexpr uint16_t kSnapshotFormatVersion = 1;
inline constexpr const char *kSnapshotWriter = "resolverd";

struct SnapshotWriteOptions {
  std::string_view context;  // see the header: the settings statuses were judged under
  int64_t now = 0;
  uint32_t max_stale = 0;    // entries that could not be used any more are left out
  // Asked once every entry is written, before the file replaces the old one: false
  // gives the write up (the validation context changed while the caches were read, so
  // `context` may not describe every entry). Called on the writing thread.
  std::function<bool()> still_valid;
};

struct SnapshotWriteResult {
  bool ok = false;
  // "cannot create a temporary file beside /var/lib/resolverd/cache.db: Permission denied"
  std::string error;
  size_t messages = 0, rrsets = 0;
  uint64_t bytes = 0;
};

struct SnapshotLoadOptions {
  std::string_view context;  // must equal the context the file was written with
  int64_t now = 0;
  uint32_t max_stale = 0;    // entries more than this past their expiry are dropped
  uint32_t max_ttl = 86400;  // entries with longer to live are dropped (max-ttl was lowered)
  uint64_t max_file_bytes = 1ull << 32;  // a bigger file is refused unread
  // Who may own the file (load_snapshot_file); empty: daemon_file_owners("") (the
  // effective user and root, resolver/base/private_file.h).
  std::vector<uid_t> owners;
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
// Writes the snapshot to `path` atomically: PATH.tmp.XXXXXX (mkostemp), fsync, rename,
// fsync of the directory. Shard by shard, so memory beyond the caches stays at one
// shard's worth.
SnapshotWriteResult write_snapshot_file(const std::string &path, const MessageCache &messages,
                                        const RRsetCache &rrsets, const SnapshotWriteOptions &options);

// Checks the header and checksum of `bytes`, then restores what is still usable into
// the caches, one entry at a time. The caches are meant to hold nothing else: when a
// record turns out wrong part-way, they are flushed whole and `error` says why.
SnapshotLoadResult load_snapshot(std::string_view bytes, MessageCache &messages, RRsetCache &rrsets,
                                 const SnapshotLoadOptions &options);
// The same from a file, refused unread unless it is one the daemon could have written
// (see the header): `error` says why, `missing` when there is none.
SnapshotLoadResult load_snapshot_file(const std::string &path, MessageCache &messages, RRsetCache &rrsets,
                                      const SnapshotLoadOptions &options);

}  // namespace rsv
