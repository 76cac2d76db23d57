// What a DNSSEC check concluded, and why, precisely enough for an Extended DNS
// Error (RFC 8914) and one log line.
//
// Every check in dnssec/ returns a ValidationOutcome: the Security it proved and,
// unless secure, the EDE info code and a human reason naming the zone and what
// failed ("example.com: RRSIG 12345/13 expired 2026-01-01T00:00:00Z").
#pragma once

#include <cstdint>
#include <string>

#include "cache/trust.h"
#include "resolver/wire/message.h"

namespace rsv {

struct ValidationOutcome {
  Security security = Security::indeterminate;
  uint16_t ede = ede::OTHER;  // meaningful unless security == secure
  std::string reason;

  static ValidationOutcome secure() { return {Security::secure, ede::OTHER, {}}; }
  static ValidationOutcome insecure(uint16_t code, std::string why) { return {Security::insecure, code, std::move(why)}; }
  static ValidationOutcome bogus(uint16_t code, std::string why) { return {Security::bogus, code, std::move(why)}; }
  bool is_secure() const { return security == Security::secure; }
  bool is_bogus() const { return security == Security::bogus; }
};

}  // namespace rsv
