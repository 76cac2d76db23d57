// The outcome of resolving one question: what the iterator produces, the validator
// judges, and the server turns into a reply. It lives with the validator, the lowest
// layer that needs it.
#pragma once

#include <optional>
#include <vector>

#include "cache/trust.h"
#include "resolver/wire/message.h"

namespace rsv {

struct Resolution {
  uint16_t rcode = rcode::SERVFAIL;
  std::vector<ResourceRecord> answer;     // CNAME/DNAME chain, then the data
  std::vector<ResourceRecord> authority;  // SOA (and later NSEC/NSEC3) of a negative answer
  std::optional<ExtendedError> error;     // why it failed (RFC 8914)
  Security security = Security::unchecked;
  // How long the whole answer may be cached: the smallest TTL, or for a negative
  // answer min(SOA TTL, SOA MINIMUM) (RFC 2308 5).
  uint32_t cache_ttl = 0;
  bool cacheable = false;

  static Resolution failure(uint16_t info_code, std::string text) {
    Resolution r;
    r.rcode = rcode::SERVFAIL;
    r.error = ExtendedError{info_code, std::move(text)};
    return r;
  }
};

}  // namespace rsv
