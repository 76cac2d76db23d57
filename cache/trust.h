// How much the resolver believes a piece of cached data, and what DNSSEC said of it.
//
// Both enums are ordered: a higher value may replace a lower one in the cache, never
// the reverse (RFC 2181 5.4.1 ranks data by where it was found). Security follows
// Unbound's sec_status order so "at least insecure" is a comparison.
#pragma once

#include <cstdint>

namespace rsv {

enum class Trust : uint8_t {
  additional = 0,     // additional section of a reply that is not a referral
  glue = 1,           // addresses for a delegation's name servers
  authority = 2,      // authority section (NS of a referral, SOA of a negative answer)
  answer = 3,         // answer section of a non-authoritative reply (forwarding)
  authoritative = 4,  // answer section of an authoritative reply
  validated = 5,      // proven by DNSSEC
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
    case Trust::validated: return "validated";
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

}  // namespace rsv
