// Reading blocklist and allowlist files in the formats people download them in:
//
//   hosts    "0.0.0.0 ads.example.com tracker.example.net   # comment"
//   domains  "ads.example.com" (one per line; "*.example.com" for the names below only)
//   adblock  "||ads.example.com^" (with $important), "@@||good.example.com^" (an
//            exception: goes to the allowlist), "! comment", "[Adblock Plus 2.0]"
//   rpz      a Response Policy Zone (zone-file syntax, relative to its origin):
//            "ads.example.com CNAME ." (NXDOMAIN), "*.ads.example.com CNAME ." (the
//            names below), "CNAME *." (NODATA), "CNAME rpz-passthru." (allow),
//            "CNAME rpz-drop." (refused)
//
// A listed name covers its whole subtree (what hosts, domains and adblock lists mean),
// except in RPZ, where "name" is the name only and "*.name" the names below it.
//
// Lines are parsed without allocating per line: names go to the sink as lower-cased
// wire form in a reused buffer. A line that cannot be used is skipped and counted; the first few
// are reported as "FILE:LINE: reason". Rules of the formats that do not name domains
// (adblock's regular expressions and cosmetic rules, RPZ's IP and NSDNAME triggers,
// local data) are skipped and counted as unsupported, not as errors.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resolver/config/config.h"  // ListFormat, BlockAction

namespace rsv {

struct ListRule {
  std::string_view lowered_wire;      // valid only during the sink call
  uint8_t coverage = 0;               // NameSet::Coverage
  bool allow = false;                 // an exception (adblock @@, rpz-passthru)
  std::optional<BlockAction> action;  // RPZ: the record's own action
};

struct ListReport {
  size_t lines = 0;
  size_t rules = 0;                       // names handed to the sink
  size_t malformed = 0;                   // lines that could not be read
  size_t unsupported = 0;                 // valid rules of a kind that does not name a domain
  std::vector<std::string> first_errors;  // "FILE:LINE: reason", at most kMaxReported
  static constexpr size_t kMaxReported = 5;
};

using ListSink = std::function<void(const ListRule &rule)>;

// Parses `text` (the whole file); `source` names it in errors.
ListReport parse_list(std::string_view text, ListFormat format, const std::string &source,
                      const ListSink &sink);

// "Ads.Example.COM" or "ads.example.com." -> lower-cased wire form in `out` (at most
// 255 octets); false for anything that is not a host name (letters, digits, '-', '_').
bool host_name_to_wire(std::string_view text, std::string &out);

}  // namespace rsv
