// How much the resolver believes a piece of cached data, and what DNSSEC said of it.
//
// The two are kept apart, as Unbound keeps rrset_trust and sec_status apart: Trust
// says where the data was found (RFC 2181 5.4.1 ranks it by section and AA), Security
// what the validator proved of it (RFC 4035 4.7). Both are ordered, so "at least
// insecure" is a comparison. The RRset cache combines them when deciding what may
// replace what (see may_replace below).
#pragma once

#include <cstdint>

namespace rsv {

enum class Trust : uint8_t {
  additional = 0,     // additional section of a reply that is not a referral
  glue = 1,           // addresses for a delegation's name servers
  authority = 2,      // authority section (NS of a referral, SOA of a negative answer)
  answer = 3,         // answer section of a non-authoritative reply (forwarding)
  authoritative = 4,  // answer section of an authoritative reply
};

enum class Security : uint8_t {
  unchecked = 0,
  bogus = 1,
  indeterminate = 2,
  insecure = 3,
  secure = 4,
};

inline const char *to_string(Trust t) {
  switch (t) {
    case Trust::additional: return "additional";
    case Trust::glue: return "glue";
    case Trust::authority: return "authority";
    case Trust::answer: return "answer";
    case Trust::authoritative: return "authoritative";
  }
  return "?";
}

inline const char *to_string(Security s) {
  switch (s) {
    case Security::unchecked: return "unchecked";
    case Security::bogus: return "bogus";
    case Security::indeterminate: return "indeterminate";
    case Security::insecure: return "insecure";
    case Security::secure: return "secure";
  }
  return "?";
}

// Whether a live cached RRset (old) may be replaced by a newly learned one. RFC 2181
// 5.4.1: data of a lower rank never replaces data of a higher rank. RFC 4035 4.7 and
// Unbound's rrset cache: validated (secure) data is worth more than any unvalidated
// data, so secure data may replace anything, and nothing less than secure replaces
// secure data unless it comes from a strictly better source. Bogus data never
// replaces data that is not bogus at the same rank (a forger must not be able to
// push out good data by sending bad data).
inline bool may_replace(Trust old_trust, Security old_security, Trust new_trust, Security new_security) {
  if (new_security == Security::secure && old_security != Security::secure) return true;
  if (old_security == Security::secure && new_security != Security::secure) return new_trust > old_trust;
  if (new_security == Security::bogus && old_security == Security::insecure) return new_trust > old_trust;
  return new_trust >= old_trust;
}

}  // namespace rsv
