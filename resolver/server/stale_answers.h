// Serve-stale (RFC 8767) for the query handler: finding the expired answer a client
// may still be given, and turning it into a Resolution the handler replies with.
//
// When a client's question misses the fast path (the cached answer expired), the
// handler asks find() before the engine starts; with something found it answers
// from it when the resolution fails (SERVFAIL that is not a validation failure), or
// when the resolution takes longer than cache.stale-client-timeout, and at once when
// a refresh of the question failed less than cache.stale-refresh-time ago (RFC 8767
// 5, the failure recheck timer: note_failure). What is found, in order:
//   1. the message cache's entry for the same question and DO/CD bits, up to
//      cache.max-stale past its expiry (MessageCache::lookup_stale);
//   2. else the RRset cache's set for the name and type, as answer_from_cache_only
//      would take it live: an answer (not glue), and with validation on only data the
//      validator judged secure or insecure.
// Never bogus data, and never secure data whose RRSIGs have expired since (the caches
// check both). A stale answer keeps its DNSSEC status, so AD is set only for data that
// was secure; every TTL is 30 (RFC 8767 4) and it carries EDE 3, Stale Answer, or 19,
// Stale NXDOMAIN Answer (RFC 8914 4.4, 4.20).
#pragma once

#include <optional>

#include "cache/clock.h"
#include "cache/message_cache.h"
#include "cache/rrset_cache.h"
#include "dnssec/resolution.h"
#include "resolver/config/config.h"

namespace rsv {

class StaleAnswers {
public:
  // RFC 8767 4: "the TTL of stale answers ... 30 seconds is RECOMMENDED".
  static constexpr uint32_t kStaleTtl = 30;

  StaleAnswers(const Config &config, MessageCache &messages, RRsetCache &rrsets, const Clock &clock)
      : config_(config), messages_(messages), rrsets_(rrsets), clock_(clock) {}

  struct Found {
    Resolution resolution;  // the stale answer, with its EDE
    // A refresh failed within cache.stale-refresh-time: answer now, do not resolve.
    bool refresh_recently_failed = false;
  };
  // Nothing when serve-stale is off.
  std::optional<Found> find(const Question &question, bool dnssec_ok, bool checking_disabled) const;
  // A resolution of `question` failed: starts its failure recheck timer.
  void note_failure(const Question &question);
  // The resolution found the answer bogus: the stale copies are not served any more.
  void forget(const Question &question);

private:
  std::optional<Found> from_messages(const Question &question, uint8_t flags) const;
  std::optional<Found> from_rrsets(const Question &question, bool dnssec_ok) const;

  const Config &config_;
  MessageCache &messages_;
  RRsetCache &rrsets_;
  const Clock &clock_;
};

}  // namespace rsv
