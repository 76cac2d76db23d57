// The properties the cache snapshot loader (cache/snapshot.h) must keep, shared by the
// libFuzzer target cache_snapshot_fuzz and its deterministic replay in
// tests/unit/snapshot_fuzz_corpus_test.cc.
//
// Input: octet 0 is a mode, the rest is the file.
//  - bit 0: the last four octets of the file are replaced by the right CRC-32 of what
//    precedes them, so that mutations reach the header fields and records behind the
//    checksum instead of all dying there;
//  - bit 1: the file is loaded under another validation context (one with a run-time
//    negative trust anchor, kSnapshotFuzzNtaContext, instead of kSnapshotFuzzContext);
//  - bits 2-7: the loader's clock runs that many times 4096 s after the seeds' writer's
//    (up to three days: TTLs run out, max-stale passes, signatures expire).
//
// Properties:
//  - never a crash, a hang or a sanitizer report, whatever the octets;
//  - a file that is refused says why and leaves both caches empty: nothing of a bad
//    file is ever trusted;
//  - what is restored, the file holds, and it is safe to serve (checked against the
//    file as read here, independently of the loader's code):
//      nothing restored is bogus;
//      nothing is restored with another status, trust or a later expiry than the
//      file gives it;
//      nothing is restored secure unless its signatures are valid now by the loader's
//      rules (RFC 4034 3.1.5: every RRSIG it carries current; an answer also within
//      the earliest expiration of the RRSIGs it was validated with), and only a secure
//      answer carries AD;
//      no TTL served from a restored entry exceeds what the file wrote less the time
//      since it was written, nor outlives the entry;
//      nothing is restored when the file's context is not the loader's: under a zone
//      the loader does not trust as the writer did (its negative trust anchors, its
//      anchors, its settings), no entry may come back, secure or not;
//  - a file that is accepted restores at most as many entries as it holds, and what
//    it restored goes out again (encode_snapshot) and comes back in with the same
//    counts: the loader accepts only what the writer could have written.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cache/clock.h"
#include "cache/signature_time.h"
#include "cache/snapshot.h"
#include "resolver/wire/message.h"

namespace rsv::fuzz {

inline constexpr const char *kSnapshotFuzzContext = "fuzz: validation context\n";
inline constexpr const char *kSnapshotFuzzNtaContext =
    "fuzz: validation context\nruntime negative trust anchor nta.example.\n";
inline constexpr int64_t kSnapshotFuzzClockStep = 4096;

inline SnapshotLoadOptions snapshot_fuzz_options(const Clock &clock, bool nta_context = false) {
  SnapshotLoadOptions options;
  options.context = nta_context ? kSnapshotFuzzNtaContext : kSnapshotFuzzContext;
  options.now = clock.now_seconds();
  options.max_stale = 86400;
  options.max_ttl = 86400;
  return options;
}

// What the file says about its entries, read with no code of the loader's: the header's
// context and time, and per entry its key, status, trust, times and the TTLs it wrote.
// Lenient: what it cannot read is left out, so that an entry restored from it shows as
// one the file does not hold.
struct SnapshotFileView {
  struct Entry {
    uint8_t security = 0, trust = 0;
    int64_t stored_at = 0, expires_at = 0;  // stored_at: messages only
    uint32_t largest_ttl = 0;               // messages: the largest TTL in the reply
  };
  bool has_header = false;
  std::string context;
  int64_t written_at = 0;
  std::multimap<std::string, Entry> entries;  // by snapshot_view_key
};

inline std::string snapshot_view_key(bool message, const Name &owner, uint16_t type, uint16_t rclass,
                                     uint8_t flags) {
  std::string key(1, message ? 'M' : 'R');
  key += owner.lowered().wire();
  key.push_back(static_cast<char>(type >> 8));
  key.push_back(static_cast<char>(type));
  key.push_back(static_cast<char>(rclass >> 8));
  key.push_back(static_cast<char>(rclass));
  key.push_back(static_cast<char>(message ? flags & (message_flags::DO | message_flags::CD) : 0));
  return key;
}

class SnapshotViewReader {
public:
  explicit SnapshotViewReader(std::string_view in) : in_(in) {}
  bool take(size_t n, std::string_view &out) {
    if (in_.size() - pos_ < n) return false;
    out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool number(size_t octets, uint64_t &out) {
    std::string_view bytes;
    if (!take(octets, bytes)) return false;
    out = 0;
    for (char c : bytes) out = (out << 8) | static_cast<uint8_t>(c);
    return true;
  }
  size_t left() const { return in_.size() - pos_; }

private:
  std::string_view in_;
  size_t pos_ = 0;
};

inline void view_message(std::string_view payload, SnapshotFileView &view) {
  SnapshotViewReader r(payload);
  uint64_t flags, security, rcode_value, stored_at, expires_at, signatures;
  if (!r.number(1, flags) || !r.number(1, security) || !r.number(2, rcode_value) || !r.number(8, stored_at) ||
      !r.number(8, expires_at) || !r.number(8, signatures))
    return;
  std::string_view wire;
  r.take(r.left(), wire);
  ParseError error = ParseError::none;
  auto message = parse_message(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), &error);
  if (!message || !message->question()) return;
  SnapshotFileView::Entry entry;
  entry.security = static_cast<uint8_t>(security);
  entry.stored_at = static_cast<int64_t>(stored_at);
  entry.expires_at = static_cast<int64_t>(expires_at);
  for (const auto *section : {&message->answer, &message->authority, &message->additional})
    for (const auto &rr : *section) entry.largest_ttl = std::max(entry.largest_ttl, rr.ttl);
  const Question &q = *message->question();
  view.entries.emplace(snapshot_view_key(true, q.name, q.qtype, q.qclass, static_cast<uint8_t>(flags)),
                       entry);
}

inline void view_rrset(std::string_view payload, SnapshotFileView &view) {
  SnapshotViewReader r(payload);
  uint64_t trust, security, expires_at, type, rclass, owner_length;
  std::string_view owner_wire;
  if (!r.number(1, trust) || !r.number(1, security) || !r.number(8, expires_at) || !r.number(2, type) ||
      !r.number(2, rclass) || !r.number(1, owner_length) || !r.take(owner_length, owner_wire))
    return;
  auto owner = Name::from_wire(owner_wire);
  if (!owner) return;
  SnapshotFileView::Entry entry;
  entry.trust = static_cast<uint8_t>(trust);
  entry.security = static_cast<uint8_t>(security);
  entry.expires_at = static_cast<int64_t>(expires_at);
  view.entries.emplace(
      snapshot_view_key(false, *owner, static_cast<uint16_t>(type), static_cast<uint16_t>(rclass), 0), entry);
}

// The layout of cache/snapshot.h: magic, version, writer, written_at, context, then
// records (u8 kind, u32 length, payload) until kind 0.
inline SnapshotFileView view_snapshot(std::string_view file) {
  SnapshotFileView view;
  SnapshotViewReader r(file);
  std::string_view magic, writer, context;
  uint64_t version, writer_length, written_at, context_length;
  if (!r.take(8, magic) || !r.number(2, version) || !r.number(1, writer_length) ||
      !r.take(writer_length, writer) || !r.number(8, written_at) || !r.number(4, context_length) ||
      !r.take(context_length, context))
    return view;
  view.has_header = true;
  view.context = std::string(context);
  view.written_at = static_cast<int64_t>(written_at);
  for (;;) {
    uint64_t kind, length;
    std::string_view payload;
    if (!r.number(1, kind) || kind == 0 || !r.number(4, length) || !r.take(length, payload)) break;
    if (kind == 1) view_message(payload, view);
    if (kind == 2) view_rrset(payload, view);
  }
  return view;
}

inline std::vector<ResourceRecord> rrsigs_in(const Message &message) {
  std::vector<ResourceRecord> out;
  for (const auto *section : {&message.answer, &message.authority, &message.additional})
    for (const auto &rr : *section)
      if (rr.type == rrtype::RRSIG) out.push_back(rr);
  return out;
}

// Every restored answer against the file; empty when all is well.
inline std::string check_restored_messages(const MessageCache &messages, const SnapshotFileView &view,
                                           const SnapshotLoadOptions &options) {
  const int64_t now = options.now;
  std::string broken;
  for (size_t shard = 0; shard < messages.shard_count() && broken.empty(); ++shard) {
    messages.export_shard(shard, [&](const MessageRecord &record) {
      if (!broken.empty()) return;
      if (record.security == Security::bogus) {
        broken = "a bogus answer was restored";
        return;
      }
      ParseError error = ParseError::none;
      auto message =
          parse_message(reinterpret_cast<const uint8_t *>(record.wire.data()), record.wire.size(), &error);
      if (!message || !message->question()) {
        broken = "a restored answer does not parse";
        return;
      }
      const Question q = *message->question();
      const auto [first, last] =
          view.entries.equal_range(snapshot_view_key(true, q.name, q.qtype, q.qclass, record.flags));
      // Of the records the file holds for this key (a hostile file may repeat one), those
      // it could have come from; the most generous TTL bound of theirs.
      bool from_file = false;
      int64_t written_less_elapsed = 0;
      for (auto it = first; it != last; ++it) {
        const SnapshotFileView::Entry &written = it->second;
        if (written.security != static_cast<uint8_t>(record.security) ||
            record.expires_at > written.expires_at)
          continue;
        from_file = true;
        const int64_t elapsed = std::max<int64_t>(0, now - std::min(written.stored_at, view.written_at));
        written_less_elapsed = std::max(written_less_elapsed, int64_t{written.largest_ttl} - elapsed);
      }
      if (!from_file) {
        broken = "an answer was restored with a status or expiry the file does not give it";
        return;
      }
      if (record.security == Security::secure &&
          (record.signatures_expire_at <= now ||
           ((record.flags & message_flags::DO) && !signatures_current(rrsigs_in(*message), now)))) {
        broken = "an answer was restored secure whose signatures are not valid now";
        return;
      }
      if (record.expires_at <= now) return;  // only serve-stale may use it, with its own TTL
      auto served = messages.lookup(q.name, q.qtype, q.qclass, record.flags);
      if (!served) return;  // replaced by a later entry of the same key
      auto reply =
          parse_message(reinterpret_cast<const uint8_t *>(served->wire.data()), served->wire.size(), &error);
      if (!reply) {
        broken = "a restored answer does not parse when served";
        return;
      }
      if (reply->ad && served->security != Security::secure) {
        broken = "an answer that is not secure was restored with AD";
        return;
      }
      // What a client is told it may keep the records for.
      const int64_t entry_left = served->expires_at - now;
      for (const auto *section : {&reply->answer, &reply->authority, &reply->additional})
        for (const auto &rr : *section) {
          if (rr.ttl > written_less_elapsed) {
            broken = "a restored answer's TTL " + std::to_string(rr.ttl) +
                     " exceeds what was written less the time since (" +
                     std::to_string(written_less_elapsed) + ")";
            return;
          }
          if (rr.ttl > entry_left) {
            broken = "a restored answer's TTL " + std::to_string(rr.ttl) + " outlives the entry (" +
                     std::to_string(entry_left) + " s left)";
            return;
          }
        }
    });
  }
  return broken;
}

// Every restored RRset against the file; empty when all is well.
inline std::string check_restored_rrsets(const RRsetCache &rrsets, const SnapshotFileView &view,
                                         const SnapshotLoadOptions &options) {
  const int64_t now = options.now;
  std::string broken;
  for (size_t shard = 0; shard < rrsets.shard_count() && broken.empty(); ++shard) {
    rrsets.export_shard(shard, [&](const RRsetRecord &record) {
      if (!broken.empty()) return;
      const RRset &set = record.rrset;
      if (record.security == Security::bogus) {
        broken = "a bogus RRset was restored";
        return;
      }
      const auto [first, last] =
          view.entries.equal_range(snapshot_view_key(false, set.owner, set.type, set.rclass, 0));
      const SnapshotFileView::Entry *written = nullptr;
      for (auto it = first; it != last && !written; ++it)
        if (it->second.security == static_cast<uint8_t>(record.security) &&
            it->second.trust == static_cast<uint8_t>(record.trust) &&
            record.expires_at <= it->second.expires_at)
          written = &it->second;
      if (!written) {
        broken = "an RRset was restored with a status, trust or expiry the file does not give it";
        return;
      }
      if (record.security == Security::secure && !signatures_current(set.signatures, now)) {
        broken = "an RRset was restored secure whose signatures are not valid now";
        return;
      }
      if (auto served = rrsets.lookup(set.owner, set.type, set.rclass);
          served &&
          (int64_t{served->rrset.ttl} > written->expires_at - now || served->rrset.ttl > options.max_ttl))
        broken = "a restored RRset's TTL " + std::to_string(served->rrset.ttl) + " outlives what was written";
    });
  }
  return broken;
}

// Empty when the properties hold, else what broke.
inline std::string check_snapshot_input(const uint8_t *data, size_t size) {
  if (size == 0) return {};
  const uint8_t mode = data[0];
  std::string file(reinterpret_cast<const char *>(data + 1), size - 1);
  if ((mode & 1) && file.size() >= 4) {
    const uLong crc = ::crc32(::crc32(0, nullptr, 0), reinterpret_cast<const Bytef *>(file.data()),
                              static_cast<uInt>(file.size() - 4));
    for (int i = 0; i < 4; ++i) file[file.size() - 4 + i] = static_cast<char>(crc >> (24 - 8 * i));
  }
  ManualClock clock;
  clock.advance_seconds(int64_t{mode >> 2} * kSnapshotFuzzClockStep);
  MessageCache messages(clock, 1 << 20);
  RRsetCache rrsets(clock, 1 << 20, TtlPolicy{});
  const SnapshotLoadOptions options = snapshot_fuzz_options(clock, (mode & 2) != 0);
  const SnapshotLoadResult result = load_snapshot(file, messages, rrsets, options);
  if (!result.ok) {
    if (result.error.empty()) return "refused without a reason";
    if (messages.entry_count() != 0 || rrsets.entry_count() != 0) return "refused, but entries were restored";
    return {};
  }
  if (messages.entry_count() > result.messages || rrsets.entry_count() > result.rrsets)
    return "more entries in the caches than were restored";

  const SnapshotFileView view = view_snapshot(file);
  if (!view.has_header) return "accepted a file without a header";
  // Another context: some zone may be trusted otherwise now (a negative trust anchor
  // added or gone, another anchor); nothing judged under the old one may come back.
  if (view.context != options.context && (messages.entry_count() != 0 || rrsets.entry_count() != 0))
    return "entries written under another validation context were restored";
  if (std::string broken = check_restored_messages(messages, view, options); !broken.empty()) return broken;
  if (std::string broken = check_restored_rrsets(rrsets, view, options); !broken.empty()) return broken;

  SnapshotWriteOptions write;
  write.context = options.context;
  write.now = options.now;
  write.max_stale = options.max_stale;
  const std::string again = encode_snapshot(messages, rrsets, write);
  MessageCache messages_again(clock, 1 << 20);
  RRsetCache rrsets_again(clock, 1 << 20, TtlPolicy{});
  const SnapshotLoadResult reloaded = load_snapshot(again, messages_again, rrsets_again, options);
  if (!reloaded.ok) return "what was restored does not load again: " + reloaded.error;
  if (reloaded.messages != messages.entry_count() || reloaded.rrsets != rrsets.entry_count())
    return "what was restored comes back with other counts";
  return {};
}

}  // namespace rsv::fuzz
