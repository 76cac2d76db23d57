// Small helpers for tests that build records from zone-file text.
#pragma once

#include <string>
#include <vector>

#include "resolver/wire/ldns_convert.h"

namespace rsv::testing {

inline std::vector<ResourceRecord> records(const std::string &text, const std::string &origin = ".") {
  std::vector<ResourceRecord> out;
  for (auto &r : parse_zone_text("$TTL 300\n" + text, "test", *Name::from_text(origin))) out.push_back(r.record);
  return out;
}

inline Name n(const char *text) { return *Name::from_text(text); }

}  // namespace rsv::testing
