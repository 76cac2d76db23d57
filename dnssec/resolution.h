// The outcome of resolving one question: what the iterator produces, the validator
// judges, and the server turns into a reply. It lives with the validator, the lowest
// layer that needs it.
//
// Besides the records, a Resolution carries what the iterator knows about where they
// came from, because which zone holds a name is the resolver's knowledge, never the
// packet's (RFC 4035 5.3.1: the signer must be the zone that holds the RRset):
//  - for each answer RRset, the zone whose servers sent it (the delegation point the
//    iterator was asking), or for data taken from the cache, the status the
//    validator gave it then;
//  - the zone whose servers sent the final reply, which holds the authority section
//    (the SOA and NSEC/NSEC3 of a denial, or a wildcard answer's proof);
//  - every referral followed on the way, with the DS RRset the parent sent for the
//    child or the NSEC/NSEC3 records proving it has none (RFC 4035 3.1.4), so that
//    the validator builds the chain of trust from the delegation path instead of
//    asking for DS again.
#pragma once

#include <optional>
#include <vector>

#include "cache/trust.h"
#include "resolver/wire/message.h"

namespace rsv {

// Where one answer RRset came from.
struct AnswerSource {
  Name owner;
  uint16_t type = 0;
  // The zone whose servers sent it: the deepest zone cut the iterator had
  // established for the name. The root when it is not known (a forwarder's answer).
  Name zone;
  Trust trust = Trust::authoritative;
  // unchecked: to be validated. Anything else: taken from the cache, where the
  // validator stored that status earlier; it is reused, not verified again.
  Security security = Security::unchecked;
};

// A referral the iterator followed: the servers of `parent` delegated `child`.
struct Delegation {
  Name parent;
  Name child;
  std::vector<ResourceRecord> ds;      // the DS RRset and its RRSIGs, as the referral carried it
  std::vector<ResourceRecord> denial;  // or the NSEC/NSEC3 records (and RRSIGs) denying the DS
};

struct Resolution {
  uint16_t rcode = rcode::SERVFAIL;
  std::vector<ResourceRecord> answer;     // CNAME/DNAME chain, then the data
  std::vector<ResourceRecord> authority;  // SOA and NSEC/NSEC3 of a negative answer, or a wildcard's proof
  std::optional<ExtendedError> error;     // why it failed (RFC 8914)
  Security security = Security::unchecked;
  // How long the whole answer may be cached: the smallest TTL, or for a negative
  // answer min(SOA TTL, SOA MINIMUM) (RFC 2308 5).
  uint32_t cache_ttl = 0;
  bool cacheable = false;
  // The question was given up to make room for others (load shedding): its clients
  // get no reply at all.
  bool dropped = false;
  // Validated results: the negative trust anchors' change count when validation
  // began. A cache that stores the result after the anchors changed (and the daemon
  // flushed what was judged under them) drops it again (resolver/server/query_handler.cc).
  std::optional<uint64_t> negative_anchor_changes;

  std::vector<AnswerSource> sources;     // one per answer RRset (RRSIGs go with their set)
  Name zone;                             // the zone of the final reply (authority section)
  std::vector<Delegation> delegations;   // referrals followed, in order

  static Resolution failure(uint16_t info_code, std::string text) {
    Resolution r;
    r.rcode = rcode::SERVFAIL;
    r.error = ExtendedError{info_code, std::move(text)};
    return r;
  }

  // The source recorded for the answer RRset owner/type, if any.
  const AnswerSource *source_of(const Name &owner, uint16_t type) const {
    for (const auto &s : sources)
      if (s.type == type && s.owner == owner) return &s;
    return nullptr;
  }
};

}  // namespace rsv
