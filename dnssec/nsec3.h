// Authenticated denial of existence with hashed names: NSEC3 (RFC 5155 7.2 and 8,
// RFC 9276).
//
// How one negative answer passes through here: the validator has verified the RRSIGs
// over the NSEC3 records of a response and knows the zone (signer) they belong to.
// It calls one prove_*_nsec3 function with those records, the query's
// ValidationBudget and the hash function (dnssec/crypto.h's nsec3_hash in the
// daemon). The function hashes the names it needs, each hash paid for from the
// budget, and compares the hashes with the records' owner and next hashed names.
//
// Which records take part (RFC 5155 8.1, 8.2):
//  - only NSEC3 records whose owner is exactly one label below `zone` and whose first
//    label is base32hex of a 20-octet hash;
//  - hash algorithm 1 (SHA-1) only; other algorithms are ignored;
//  - flags other than Opt-Out (0x01) set: the record is ignored;
//  - the records must share one set of parameters (iterations, salt); the first
//    usable record's parameters are taken, records with others are ignored;
//  - at most limits.max_nsec3_per_response records are looked at per response, and
//    every hash asks budget.take_nsec3_hash() first. When the budget refuses, the
//    result is bogus with a reason containing "budget" (the caller answers SERVFAIL);
//  - a usable record with more than limits.max_nsec3_iterations iterations makes the
//    answer insecure with EDE 27 (RFC 9276 3.2), before anything is hashed.
//
// Opt-Out (RFC 5155 6, 9.2), decided here: an Opt-Out NSEC3 covering the next closer
// name may hide unsigned delegations in its span, so it cannot prove that no name
// exists there. Every proof that relies on such a record is therefore at best
// insecure, never secure: NXDOMAIN (8.4), wildcard answers (8.8), wildcard NODATA
// (8.7), DS NODATA without a matching NSEC3 (8.6), and NODATA for an empty
// non-terminal created by an opted-out delegation (8.5 as corrected by erratum
// 3441). The insecure delegation proof accepts it by design (8.6 / 7.2.4). No proof
// ever becomes secure through Opt-Out; a missing proof is still bogus.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec/outcome.h"
#include "dnssec/validation_budget.h"
#include "resolver/wire/name.h"
#include "resolver/wire/rr.h"

namespace rsv {

// Computes the RFC 5155 5 hash of a name in canonical (lower-case) wire form and
// returns the raw digest (20 octets for SHA-1). In the daemon this is
// dnssec/verification_cache.h's nsec3_hash_cached (crypto.h's nsec3_hash through a
// per-thread table); tests supply their own.
using Nsec3HashFunction = std::function<std::string(std::string_view name_canonical_wire,
                                                    std::string_view salt, uint16_t iterations)>;

namespace nsec3 {
inline constexpr uint8_t kHashSha1 = 1;       // RFC 5155 11, the only algorithm defined
inline constexpr uint8_t kFlagOptOut = 0x01;  // RFC 5155 3.1.2.1
inline constexpr size_t kSha1Length = 20;
}  // namespace nsec3

struct Nsec3Rdata {
  uint8_t hash_algorithm = 0;
  uint8_t flags = 0;
  uint16_t iterations = 0;
  std::string salt;               // raw octets, possibly empty
  std::string next_hashed_owner;  // raw hash octets
  std::string bitmap;             // Type Bit Maps (RFC 4034 4.1.2), still encoded

  bool opt_out() const { return (flags & nsec3::kFlagOptOut) != 0; }
};

// Parses NSEC3 rdata (RFC 5155 3.2); nullopt when malformed (including a malformed
// type bitmap or an empty next hashed owner name).
std::optional<Nsec3Rdata> parse_nsec3_rdata(std::string_view rdata);

// Base32 with the "extended hex" alphabet, without padding (RFC 4648 7, RFC 5155 3.3).
std::string base32hex_encode(std::string_view bytes);
// Case-insensitive; nullopt for characters outside the alphabet, padding, or
// leftover bits that are not zero.
std::optional<std::string> base32hex_decode(std::string_view text);

// NXDOMAIN (RFC 5155 8.4): a closest encloser proof for qname (8.3) and an NSEC3
// covering the wildcard at the closest encloser. Insecure when the next closer name
// is covered by an Opt-Out NSEC3.
ValidationOutcome prove_nxdomain_nsec3(const Name &qname, const std::vector<ResourceRecord> &nsec3s,
                                       const Name &zone, ValidationBudget &budget,
                                       const Nsec3HashFunction &hash);

// NODATA (RFC 5155 8.5, 8.6, 8.7): an NSEC3 matching qname without qtype and CNAME
// (for DS: also without SOA, the NSEC3 must be the parent's); else a closest encloser
// proof with either the matching wildcard NSEC3 without qtype and CNAME (8.7), or,
// for DS and for empty non-terminals of opted-out delegations, an Opt-Out NSEC3
// covering the next closer name (insecure).
ValidationOutcome prove_nodata_nsec3(const Name &qname, uint16_t qtype,
                                     const std::vector<ResourceRecord> &nsec3s, const Name &zone,
                                     ValidationBudget &budget, const Nsec3HashFunction &hash);

// A positive answer expanded from "*.<wildcard_closest_encloser>" (RFC 5155 8.8): an
// NSEC3 covers the next closer name (qname cut to one label below the encloser).
ValidationOutcome prove_wildcard_answer_nsec3(const Name &qname, const Name &wildcard_closest_encloser,
                                              const std::vector<ResourceRecord> &nsec3s, const Name &zone,
                                              ValidationBudget &budget, const Nsec3HashFunction &hash);

// An unsigned delegation (RFC 5155 8.9 with 8.6): an NSEC3 matching `child` with NS
// and without DS and SOA, or a closest encloser proof whose next closer name is
// covered by an Opt-Out NSEC3. Proven -> insecure; otherwise bogus.
ValidationOutcome prove_insecure_delegation_nsec3(const Name &child,
                                                  const std::vector<ResourceRecord> &nsec3s, const Name &zone,
                                                  ValidationBudget &budget, const Nsec3HashFunction &hash);

}  // namespace rsv
