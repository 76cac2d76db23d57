// The RFC 5011 state file (dnssec.trust-anchor-state): every trust point's keys, their
// states and timers, and the refresh schedule, so that a restart neither forgets a
// key in its hold-down nor trusts one too early.
//
// JSON, one object:
//   {"format": "resolverd-trust-anchors", "version": 1, "written": 1735689600,
//    "zones": [{"zone": ".", "ds": [". 3600 IN DS 20326 8 2 E06D..."],
//               "next_refresh": ..., "last_refresh": ..., "last_success": ...,
//               "original_ttl": 172800, "signatures_expire": ..., "last_problem": "",
//               "keys": [{"dnskey": ". 3600 IN DNSKEY 257 3 8 AwEA...", "tag": 20326,
//                         "algorithm": 8, "state": "Valid", "first_seen": ...,
//                         "changed_at": ..., "hold_down_until": 0, "vouched_by": []}]}]}
// Times are seconds since the epoch. DS and DNSKEY records are zone-file lines (the
// DNSKEY without the REVOKE bit: the key's identity), so an operator can read them.
// The file is written by the daemon only; parse_trust_point_state treats it as
// untrusted input all the same (it may be truncated, edited or from another program).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dnssec/rfc5011.h"

namespace rsv {

inline constexpr size_t kMaxTrustPointStateBytes = 1u << 20;
inline constexpr size_t kMaxTrustPoints = 256;
inline constexpr size_t kMaxKeysPerTrustPoint = 64;

std::string serialize_trust_point_state(const std::vector<TrustPoint> &points, int64_t written_at);

// Throws std::runtime_error naming what is wrong ("zones[0].keys[2].state: 'Bogus' is
// not a key state"). Keys recorded in the Start state are dropped (nothing to keep).
std::vector<TrustPoint> parse_trust_point_state(const std::string &text);

}  // namespace rsv
