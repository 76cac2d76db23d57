// RRSIG checks: does a signature by one of a zone's DNSKEYs cover this RRset, and is
// a DNSKEY RRset vouched for by its parent's DS records or by a trust anchor?
//
// The validator, holding an RRset from a response and the zone's DNSKEY RRset
// (itself proven by verify_dnskey_with_ds or verify_dnskey_with_anchor_keys), calls
// verify_rrset. Each RRSIG goes through the RFC 4035 5.3.1 checks that cost
// nothing (type covered, signer, labels, validity period, key tag, key flags) before
// the canonical form is built (RFC 4034 3.1.8.1, 6.2, 6.3) and dnssec/crypto.h
// verifies it. Every verification is taken from the query's ValidationBudget and
// the number of RRSIGs and same-tag keys tried is capped, so a hostile zone cannot
// make one RRset cost unbounded CPU (KeyTrap, CVE-2023-50387). A failure names the
// most precise Extended DNS Error (RFC 8914) and a reason such as
// "www.example.com. A: RRSIG 12345/13 by example.com. expired at 20260101000000".
// Pure functions: no I/O, time passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec/outcome.h"
#include "dnssec/validation_budget.h"
#include "resolver/wire/name.h"
#include "resolver/wire/rr.h"

namespace rsv {

// DNSKEY flag bits (RFC 4034 2.1.1, RFC 5011 7, RFC 3757).
namespace dnskey_flag {
inline constexpr uint16_t ZONE = 0x0100, REVOKE = 0x0080, SEP = 0x0001;
}
inline constexpr uint8_t kDnskeyProtocol = 3;  // RFC 4034 2.1.2

// RRSIG RDATA (RFC 4034 3.1).
struct RrsigFields {
  uint16_t type_covered = 0;
  uint8_t algorithm = 0;
  uint8_t labels = 0;
  uint32_t original_ttl = 0;
  uint32_t expiration = 0;  // seconds since the epoch, modulo 2^32 (RFC 4034 3.1.5)
  uint32_t inception = 0;
  uint16_t key_tag = 0;
  Name signer;
  std::string signature;
};
// Null unless `rrsig` is an RRSIG whose RDATA is well formed with a non-empty signature.
std::optional<RrsigFields> parse_rrsig(const ResourceRecord &rrsig);
// The RRSIG RDATA up to and without the signature, i.e. the fields that are signed.
std::optional<std::string> rrsig_rdata_without_signature(std::string_view rrsig_rdata);

// DNSKEY RDATA (RFC 4034 2.1), with its key tag.
struct DnskeyFields {
  uint16_t flags = 0;
  uint8_t protocol = 0;
  uint8_t algorithm = 0;
  std::string public_key;
  uint16_t key_tag = 0;
};
std::optional<DnskeyFields> parse_dnskey(std::string_view rdata);
// RFC 4034 Appendix B (B.1 for the obsolete algorithm 1).
uint16_t key_tag(std::string_view dnskey_rdata);

// DS RDATA (RFC 4034 5.1).
struct DsFields {
  uint16_t key_tag = 0;
  uint8_t algorithm = 0;
  uint8_t digest_type = 0;
  std::string digest;
};
std::optional<DsFields> parse_ds(std::string_view rdata);

// RFC 4034 3.1.5: is `now` within [inception, expiration], comparing 32-bit times
// with RFC 1982 serial number arithmetic.
enum class SignatureTime { valid, not_yet_valid, expired };
SignatureTime check_signature_time(const RrsigFields &sig, int64_t now);
// "YYYYMMDDHHmmSS" (RFC 4034 3.2) for a 32-bit RRSIG time, taking the epoch closest to `now`.
std::string signature_time_text(uint32_t time, int64_t now);

// RFC 4034 6.2: the RDATA of a record of `type` in canonical form, i.e. with the
// domain names embedded in it lower-cased for the types RFC 4034 6.2 lists, minus
// NSEC and HINFO (RFC 6840 5.1). Other RDATA is returned unchanged.
std::string canonical_rdata(uint16_t type, std::string_view rdata);

// The data an RRSIG signs (RFC 4034 3.1.8.1): RRSIG RDATA without the signature
// (signer name lower-cased), then every record of the RRset in canonical form
// (RFC 4034 6.2: owner lower-cased, TTL = original TTL, canonical RDATA) sorted by
// RDATA as octet strings with duplicates removed (6.3). When sig.labels is smaller
// than the owner's label count the owner is the wildcard "*." + the rightmost
// sig.labels labels (RFC 4035 5.3.2).
std::string canonical_signed_data(const RrsigFields &sig, std::string_view rrsig_rdata_without_signature,
                                  const RRset &rrset);

// RFC 4035 5.3: the RRset is secure when ANY of `rrsigs` (RRSIG records covering it)
// verifies with one of `dnskeys` (the zone's DNSKEY records, already proven) whose
// tag and algorithm it names. The signer must be `zone`, the key a zone key
// (protocol 3, not revoked), `now` within the validity period.
// At most limits().max_rrsigs_per_rrset RRSIGs and limits().max_keys_per_tag keys
// per RRSIG are tried; each verification takes budget.take_verification() first.
// If that is refused the outcome is bogus (EDE 6) with a reason starting
// "validation budget exhausted:" and budget.exhausted() is true.
// On success *validated_ttl = min(RRset TTL, original TTL, seconds until the
// signature expires) (RFC 4035 5.3.3), and *wildcard_source is the closest encloser
// of the wildcard the RRset was expanded from (the owner's rightmost `labels`
// labels), or nullopt when it was not a wildcard expansion; the caller must then
// prove that no closer name exists (RFC 4035 5.3.4).
// Failures (all bogus): no RRSIG, or none by `zone` with a supported algorithm ->
// EDE 10; every usable RRSIG outside its period -> EDE 7 or 8; no key with that
// tag/algorithm -> EDE 6; key without zone bit -> EDE 11; a signature that does not
// verify -> EDE 6. An RRSIG with an algorithm we cannot verify never makes the RRset
// insecure: only the DS RRset decides that (RFC 4035 5.2, RFC 6840 5.2).
ValidationOutcome verify_rrset(const RRset &rrset, const std::vector<ResourceRecord> &rrsigs,
                               const std::vector<ResourceRecord> &dnskeys, const Name &zone, int64_t now,
                               ValidationBudget &budget, uint32_t *validated_ttl = nullptr,
                               std::optional<Name> *wildcard_source = nullptr);

// RFC 4035 5.2: the DNSKEY RRset of `zone` is secure when a DS record (at most
// limits().max_ds_per_zone are considered) matches a zone key of the set (tag,
// algorithm and digest over owner | RDATA) and that key signs the set. DS records
// with an unsupported algorithm or digest are skipped; when a SHA-256 or SHA-384 DS
// with a supported algorithm is present, SHA-1 DS records are ignored (RFC 4509 3).
// Only unsupported DS -> insecure (RFC 6840 5.2; EDE 1 or 2). No DNSKEY matches any
// DS -> bogus EDE 9. A matching key whose signature fails -> verify_rrset's outcome.
ValidationOutcome verify_dnskey_with_ds(const RRset &dnskey_set,
                                        const std::vector<ResourceRecord> &dnskey_rrsigs,
                                        const std::vector<ResourceRecord> &ds_records, const Name &zone,
                                        int64_t now, ValidationBudget &budget,
                                        uint32_t *validated_ttl = nullptr);

// RFC 4035 5 / RFC 4033 3: a DNSKEY trust anchor is trusted as is, so the DNSKEY
// RRset of `zone` is secure when one of `anchor_keys` (DNSKEY records) signs it.
// Anchors that are not usable zone keys are ignored; anchors whose algorithms are
// all unsupported make the zone insecure (EDE 1).
ValidationOutcome verify_dnskey_with_anchor_keys(const RRset &dnskey_set,
                                                 const std::vector<ResourceRecord> &dnskey_rrsigs,
                                                 const std::vector<ResourceRecord> &anchor_keys,
                                                 const Name &zone, int64_t now, ValidationBudget &budget,
                                                 uint32_t *validated_ttl = nullptr);

}  // namespace rsv
