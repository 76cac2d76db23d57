// Conversions between ldns records and the resolver's own ResourceRecord, and a
// zone-file reader for the small files the daemon loads at start-up (root hints,
// trust anchors).
//
// ldns does the presentation-format parsing (comments, $TTL, $ORIGIN, multi-line
// parentheses, RFC 1035 5.1); everything past this boundary sees only
// ResourceRecord, whose rdata is uncompressed wire form.
#pragma once

// ldns's common.h defines the macros bool, true and false unless stdbool.h came
// first; those macros break later standard headers (e.g. <optional>'s operator<=>).
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <string>
#include <vector>

#include "resolver/wire/ldns_handle.h"
#include "resolver/wire/rr.h"

namespace rsv {

// Throws std::runtime_error if the record's owner is not an absolute name (ldns
// leaves names relative when no origin applies) or its rdata cannot be encoded.
ResourceRecord from_ldns_rr(const ldns_rr *rr);
// Throws std::runtime_error if the record's wire form is malformed.
LdnsRr to_ldns_rr(const ResourceRecord &record);

struct RecordAtLine {
  ResourceRecord record;
  int line = 0;  // 1-based; for a record spanning lines, the line it ends on
};

// Parses zone-file text. Relative names are completed with `origin` until a
// $ORIGIN line changes it; records without a TTL take the last $TTL (else 3600).
// $INCLUDE is refused: start-up files should be self-contained. Errors throw
// std::runtime_error("SOURCE:LINE: reason"), SOURCE being `source_name`.
std::vector<RecordAtLine> parse_zone_text(const std::string &text, const std::string &source_name,
                                          const Name &origin = Name::root());
// Reads and parses a zone file; a file that cannot be read throws
// std::runtime_error("PATH: cannot read: reason").
std::vector<RecordAtLine> read_zone_file(const std::string &path, const Name &origin = Name::root());

}  // namespace rsv
