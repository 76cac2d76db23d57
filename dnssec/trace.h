// What one resolution did, step by step: the hooks behind `resolverctl explain`.
//
// The engine, the iterator and the validator report each step to a ResolutionTrace
// when their environment has one (EngineEnv, IteratorEnv and ValidatorEnv::trace);
// normal resolution has none, and every hook is behind a null check, so tracing costs
// nothing when off. The sink that turns these calls into the readable trace and its
// JSON form is resolver/server/explain. It lives here, below the iterator and the
// engine, because the validator reports to it too and may depend on nothing higher.
//
// The calls arrive in the order things happen on the loop thread. `depth` is the
// engine's stack: 0 for the client's question, 1 for a sub-question it needed (a name
// server's address, a DS or DNSKEY for the validator), and so on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec/key_cache.h"
#include "dnssec/outcome.h"
#include "dnssec/resolution.h"
#include "resolver/wire/address.h"
#include "resolver/wire/message.h"
#include "resolver/wire/rr.h"

namespace rsv {

// How a zone's status was reached: what the parent and the zone itself showed.
struct ZoneEvidence {
  std::vector<ResourceRecord> ds;      // the DS RRset used (validated), or the anchor's DS
  std::vector<ResourceRecord> denial;  // NSEC/NSEC3 (with RRSIGs) proving there is no DS
  RRset dnskeys;                       // the zone's DNSKEY RRset, signatures included
  bool trust_anchor = false;           // the zone is a configured trust anchor
  bool from_cache = false;             // known from the key cache, not established now
};

class ResolutionTrace {
public:
  virtual ~ResolutionTrace() = default;

  // --- the engine ---
  // A sub-question is started at `depth` (>= 1), for the reason given.
  virtual void subquery_started(const Question &, size_t /*depth*/, std::string_view /*why*/) {}
  virtual void subquery_finished(const Question &, size_t /*depth*/, const Resolution &) {}
  // A query to an authority: `zone` is the zone cut whose server is asked.
  virtual void query_sent(const Name & /*zone*/, const SocketAddress & /*server*/, const Question &,
                          bool /*tcp*/, size_t /*depth*/) {}
  virtual void reply_received(const SocketAddress & /*server*/, uint32_t /*rtt_ms*/, const Message & /*reply*/,
                              size_t /*wire_size*/) {}
  // Nothing usable came back: a timeout, a network error or a reply that did not parse.
  virtual void no_reply(const SocketAddress & /*server*/, std::string_view /*why*/) {}

  // --- the iterator ---
  // What the last reply was taken to be: an answer, a referral to a child zone, a
  // denial, lame (and why).
  virtual void reply_classified(const SocketAddress & /*server*/, const Name & /*zone*/,
                                std::string_view /*verdict*/) {}
  // A step taken without asking anyone (a cached delegation or CNAME, a forwarder).
  virtual void note(std::string_view /*text*/) {}

  // --- the validator ---
  // A zone's DNSSEC status became known (secure with its keys, insecure, bogus, or not
  // a zone cut), with the records that showed it.
  virtual void zone_settled(const Name & /*zone*/, const ZoneKeys &, const ZoneEvidence &) {}
  // One RRset of the answer was judged in `zone`.
  virtual void rrset_judged(const RRset &, const Name & /*zone*/, const ValidationOutcome &) {}
  // The denial of existence (NXDOMAIN, NODATA) was judged.
  virtual void denial_judged(const Name & /*zone*/, const ValidationOutcome &) {}

  // --- the end ---
  // The client's question is answered; `budgets` says what it cost.
  virtual void finished(const Resolution &, std::string_view /*budgets*/) {}
};

}  // namespace rsv
