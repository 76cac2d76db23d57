// The property the cache snapshot loader (cache/snapshot.h) must keep, shared by the
// libFuzzer target cache_snapshot_fuzz and its deterministic replay in
// tests/unit/snapshot_fuzz_corpus_test.cc.
//
// Input: octet 0 is a mode; when its low bit is set, the last four octets of the rest
// are replaced by the right CRC-32 of what precedes them, so that mutations reach the
// header fields and records behind the checksum instead of all dying there. The rest
// is the file.
//
// Properties:
//  - never a crash, a hang or a sanitizer report, whatever the octets;
//  - a file that is refused says why and leaves both caches empty: nothing of a bad
//    file is ever trusted;
//  - a file that is accepted restores at most as many entries as it holds, and what
//    it restored goes out again (encode_snapshot) and comes back in with the same
//    counts: the loader accepts only what the writer could have written.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "cache/clock.h"
#include "cache/snapshot.h"

namespace rsv::fuzz {

inline constexpr const char *kSnapshotFuzzContext = "fuzz: validation context\n";

inline SnapshotLoadOptions snapshot_fuzz_options(const Clock &clock) {
  SnapshotLoadOptions options;
  options.context = kSnapshotFuzzContext;
  options.now = clock.now_seconds();
  options.max_stale = 86400;
  options.max_ttl = 86400;
  return options;
}

// Empty when the property holds, else what broke.
inline std::string check_snapshot_input(const uint8_t *data, size_t size) {
  if (size == 0) return {};
  std::string file(reinterpret_cast<const char *>(data + 1), size - 1);
  if ((data[0] & 1) && file.size() >= 4) {
    const uLong crc = ::crc32(::crc32(0, nullptr, 0), reinterpret_cast<const Bytef *>(file.data()),
                              static_cast<uInt>(file.size() - 4));
    for (int i = 0; i < 4; ++i) file[file.size() - 4 + i] = static_cast<char>(crc >> (24 - 8 * i));
  }
  ManualClock clock;
  MessageCache messages(clock, 1 << 20);
  RRsetCache rrsets(clock, 1 << 20, TtlPolicy{});
  const SnapshotLoadOptions options = snapshot_fuzz_options(clock);
  const SnapshotLoadResult result = load_snapshot(file, messages, rrsets, options);
  if (!result.ok) {
    if (result.error.empty()) return "refused without a reason";
    if (messages.entry_count() != 0 || rrsets.entry_count() != 0) return "refused, but entries were restored";
    return {};
  }
  if (messages.entry_count() > result.messages || rrsets.entry_count() > result.rrsets)
    return "more entries in the caches than were restored";
  const std::string again = encode_snapshot(messages, rrsets, SnapshotWriteOptions{options.context, options.now,
                                                                                    options.max_stale});
  MessageCache messages_again(clock, 1 << 20);
  RRsetCache rrsets_again(clock, 1 << 20, TtlPolicy{});
  const SnapshotLoadResult reloaded = load_snapshot(again, messages_again, rrsets_again, options);
  if (!reloaded.ok) return "what was restored does not load again: " + reloaded.error;
  if (reloaded.messages != messages.entry_count() || reloaded.rrsets != rrsets.entry_count())
    return "what was restored comes back with other counts";
  return {};
}

}  // namespace rsv::fuzz
