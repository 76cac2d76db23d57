// Trust anchors: the DS or DNSKEY records the validator trusts without proof, where
// every chain of trust starts (RFC 4033 3, RFC 4035 4.4).
//
// At start-up the daemon reads the configured trust-anchor files (zone-file format,
// DS or DNSKEY lines for any zone) and groups them per zone; the validator then
// treats each zone as a secure entry point. When the configuration names no files
// the compiled-in root anchors below are used instead.
#pragma once

#include <string>
#include <vector>

#include "resolver/wire/name.h"
#include "resolver/wire/rr.h"

namespace rsv {

struct TrustAnchor {
  Name zone;
  std::vector<ResourceRecord> ds;      // type DS, owner == zone
  std::vector<ResourceRecord> dnskey;  // type DNSKEY, owner == zone, zone-key flag set
};

// Reads every file and groups the records per zone, zones in order of first
// appearance, identical records once. Only class IN DS and DNSKEY records are
// accepted; a DNSKEY must be a zone key with protocol 3 (RFC 4034 2.1.1, 2.1.2).
// Revoked DNSKEYs (RFC 5011 2.1) are skipped, but a zone left with no usable
// anchor is an error. Throws std::runtime_error("FILE:LINE: reason").
std::vector<TrustAnchor> load_trust_anchor_files(const std::vector<std::string> &paths);
// Same for text already in memory; `source_name` stands for FILE in errors.
std::vector<TrustAnchor> parse_trust_anchor_text(const std::string &text, const std::string &source_name);

// The root zone's KSK-2017 (tag 20326) and KSK-2024 (tag 38696) as DS records
// (SHA-256), as IANA publishes them in root-anchors.xml.
TrustAnchor builtin_root_trust_anchor();

// The anchors the daemon should use. Explicitly configured files are all read (a
// missing one is an error, an empty list means no anchors at all). The default
// list falls back to the built-in root anchor when one of its files is missing.
std::vector<TrustAnchor> effective_trust_anchors(const std::vector<std::string> &configured_paths,
                                                 bool paths_were_given_explicitly);

}  // namespace rsv
