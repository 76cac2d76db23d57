// RFC 8145 key tag signalling: telling an anchored zone's operators which of its keys
// this resolver trusts, so that they can see whether a key rollover is safe.
//
// Two forms, both switched by dnssec.trust-anchor-signaling:
//  - 5.1, the key tag query: "_ta-<tag>[-<tag>...]" (each tag 4 lowercase hex digits,
//    ascending) prepended to the anchored zone's name, QTYPE NULL, resolved like any
//    question so that it reaches the zone's authoritative servers. The daemon sends it
//    at start and after each trust anchor refresh (resolver/server/trust_anchor_maintainer.h).
//  - 4, the edns-key-tag option (code 14): the same tags as 16-bit values in every
//    DNSKEY query for an anchored zone (resolver/engine/engine.cc dispatch()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dnssec/trust_anchor.h"
#include "resolver/wire/message.h"
#include "resolver/wire/name.h"

namespace rsv {

namespace rrtype_extra {
inline constexpr uint16_t NULL_TYPE = 10;  // RFC 1035 3.3.10, the _ta query's QTYPE
}
namespace edns_option_extra {
inline constexpr uint16_t EDNS_KEY_TAG = 14;  // RFC 8145 4.1
}

// The key tags an anchor stands for: each DS record's key tag and each DNSKEY's
// (computed, RFC 4034 Appendix B), ascending, without duplicates.
std::vector<uint16_t> anchor_key_tags(const TrustAnchor &anchor);

// RFC 8145 5.1: "_ta-4f66-9728." + zone. nullopt when there are no tags or the name
// would be too long (63 octets per label: at most 12 tags; 255 for the name).
std::optional<Name> key_tag_query_name(const Name &zone, const std::vector<uint16_t> &ascending_tags);

// RFC 8145 4.1: the edns-key-tag option, the tags as 16-bit big-endian values.
EdnsOption edns_key_tag_option(const std::vector<uint16_t> &ascending_tags);

// The anchor whose zone is exactly `zone`, if any.
const TrustAnchor *anchor_for_zone(const std::vector<TrustAnchor> &anchors, const Name &zone);

}  // namespace rsv
