// Keys and signed zones made at test time by ldns, a signer that is not our code.
//
// Tests that check the validator need zones signed by something other than the
// code under test, or a shared mistake (say, in canonical ordering) would pass
// unnoticed. Everything cryptographic here is ldns: key generation, DNSKEY and DS
// records, RRSIGs, the NSEC and NSEC3 chains (ldns_dnssec_zone_sign*), NSEC3
// hashes and the canonical order used to pick covering records. This file only
// converts between ldns records and rsv::ResourceRecord (resolver/wire/ldns_convert.h)
// and owns every ldns handle.
//
// Typical use:
//   auto ksk = SigningKey::generate(n("example."), KeyRole::ksk);
//   auto zsk = SigningKey::generate(n("example."), KeyRole::zsk);
//   SignedZone zone = sign_zone_text(text, n("example."), {&ksk, &zsk});
//   auto answer = zone.rrset_with_sigs(n("www.example."), rrtype::A);
//   ResourceRecord forged = sign_rrset(rrset, stranger_key, SignatureSpec().with_window(expired));
//
// Signatures are valid from kPinnedNow - 1 day to kPinnedNow + 30 days unless a
// test says otherwise; tests set their ManualClock to kPinnedNow.
#pragma once

// ldns's common.h defines bool/true/false as macros unless stdbool.h came first.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "resolver/wire/ldns_convert.h"
#include "resolver/wire/ldns_handle.h"
#include "resolver/wire/name.h"
#include "resolver/wire/rr.h"

namespace rsv::testing {

// 2025-01-01T00:00:00Z: the "now" of signed test zones.
inline constexpr int64_t kPinnedNow = 1735689600;
inline constexpr int64_t kSecondsPerDay = 86400;

using LdnsKey = std::unique_ptr<ldns_key, LdnsDeleter<ldns_key, ldns_key_deep_free>>;

// RRSIG inception and expiration (RFC 4034 3.1.5), seconds since the epoch.
struct SignatureWindow {
  uint32_t inception = 0;
  uint32_t expiration = 0;

  // From one day before `now` to 30 days after it.
  static SignatureWindow around(int64_t now);
  // A window that ended `days_ago` days before `now` (lasting one day).
  static SignatureWindow expired_before(int64_t now, int days_ago = 1);
  // A window that starts `days_ahead` days after `now` (lasting 30 days).
  static SignatureWindow starting_after(int64_t now, int days_ahead = 1);
};

// DNSKEY flags (RFC 4034 2.1.1): 256 = zone key, 257 = zone key + SEP.
enum class KeyRole : uint16_t { zsk = 256, ksk = 257 };

// A DNSSEC key pair, made by ldns_key_new_frm_algorithm.
class SigningKey {
public:
  // `algorithm`: 13 (ECDSA P-256, default and fast), 8 (RSA/SHA-256, 1024-bit
  // to keep tests quick), 15 (Ed25519), 14 (ECDSA P-384). `flags` overrides the
  // role's DNSKEY flags, e.g. to make a key without the zone bit or a revoked one.
  static SigningKey generate(const Name &owner, KeyRole role, uint8_t algorithm = 13,
                             std::optional<uint16_t> flags = std::nullopt, uint32_t dnskey_ttl = 3600);

  const Name &owner() const { return owner_; }
  uint8_t algorithm() const { return algorithm_; }
  uint16_t flags() const { return flags_; }
  uint16_t key_tag() const { return key_tag_; }
  // The DNSKEY record that publishes this key (owner = the zone).
  const ResourceRecord &dnskey() const { return dnskey_; }
  // The DS record a parent publishes for this key (RFC 4034 5; ldns_key_rr2ds).
  // digest_type: 1 (SHA-1), 2 (SHA-256, default), 4 (SHA-384).
  ResourceRecord ds(uint8_t digest_type = 2, uint32_t ttl = 3600) const;

  // The ldns key, for signing. Signing sets its validity window and "use" flag,
  // which is why a const SigningKey hands out a mutable handle.
  ldns_key *ldns() const { return key_.get(); }

private:
  SigningKey() = default;
  LdnsKey key_;
  Name owner_;
  uint8_t algorithm_ = 0;
  uint16_t flags_ = 0;
  uint16_t key_tag_ = 0;
  ResourceRecord dnskey_;
};

// NSEC3 parameters (RFC 5155 3.1). Hash algorithm 1 (SHA-1) is the only one.
struct Nsec3Params {
  uint16_t iterations = 0;
  std::string salt;  // raw octets; RFC 9276 3.1 recommends none
  bool opt_out = false;
};

enum class Denial { none, nsec, nsec3 };

struct ZoneSigningOptions {
  // nullopt: an NSEC chain; otherwise NSEC3 with these parameters.
  std::optional<Nsec3Params> nsec3;
  SignatureWindow window = SignatureWindow::around(kPinnedNow);
  // Add every key's DNSKEY record to the zone before signing (as ldns-signzone does).
  bool publish_keys = true;
};

// A zone's records as a server holds them: data, DNSKEY, RRSIG, NSEC or NSEC3,
// NSEC3PARAM, plus unsigned delegation NS and glue.
struct SignedZone {
  Name origin;
  std::vector<ResourceRecord> records;
  Denial denial = Denial::none;
  Nsec3Params nsec3;  // when denial == Denial::nsec3

  // A zone served as it is, without DNSSEC (the child of an insecure delegation).
  static SignedZone unsigned_zone(const Name &origin, std::vector<ResourceRecord> records);

  // Records at `owner` of `type` (RRSIGs excluded; for type RRSIG, all RRSIGs there).
  std::vector<ResourceRecord> rrset(const Name &owner, uint16_t type) const;
  // The RRSIGs at `owner` that cover `type_covered`.
  std::vector<ResourceRecord> rrsigs(const Name &owner, uint16_t type_covered) const;
  // rrset() followed by rrsigs().
  std::vector<ResourceRecord> rrset_with_sigs(const Name &owner, uint16_t type) const;

  // NSEC (with RRSIGs) whose owner is `name`; empty when there is none.
  std::vector<ResourceRecord> nsec_matching(const Name &name) const;
  // NSEC (with RRSIGs) whose owner < name < next name in canonical order
  // (RFC 4034 6.1), the last NSEC covering everything after its owner.
  std::vector<ResourceRecord> nsec_covering(const Name &name) const;

  // "<base32hex of the RFC 5155 5 hash of name>.<origin>", hashed by ldns with
  // this zone's parameters.
  Name nsec3_hashed_owner(const Name &name) const;
  // NSEC3 (with RRSIGs) at the hash of `name`; empty when there is none.
  std::vector<ResourceRecord> nsec3_matching(const Name &name) const;
  // NSEC3 (with RRSIGs) whose owner hash < hash(name) < next hashed owner,
  // wrapping at the end of the chain; empty when the hash matches or nothing covers it.
  std::vector<ResourceRecord> nsec3_covering(const Name &name) const;

  // True when some record (NSEC3 chain excluded) is at `name` or below it: the name
  // exists, possibly as an empty non-terminal (RFC 4592 2.2.2).
  bool name_exists(const Name &name) const;
};

// Signs a zone given as records (RRSIG, NSEC, NSEC3 and NSEC3PARAM in the input
// are dropped; duplicates are removed). With NSEC3 Opt-Out, every delegation
// without DS and everything below it is kept out of the chain and served unsigned
// (RFC 5155 6, 7.1): ldns only sets the flag and would otherwise still give each
// insecure delegation its own NSEC3. Throws std::runtime_error on any failure.
SignedZone sign_zone(const Name &origin, const std::vector<ResourceRecord> &records,
                     const std::vector<const SigningKey *> &keys, const ZoneSigningOptions &options = {});
// Same for zone-file text; relative names are completed with `origin`, $TTL 300.
SignedZone sign_zone_text(const std::string &text, const Name &origin,
                          const std::vector<const SigningKey *> &keys,
                          const ZoneSigningOptions &options = {});

// What one signature over an RRset should say; unset fields take the honest value.
// Built by chaining: SignatureSpec().with_window(w).with_labels(2).
struct SignatureSpec {
  SignatureWindow window = SignatureWindow::around(kPinnedNow);
  std::optional<Name> signer;            // default: the key's owner
  std::optional<uint8_t> labels;         // default: owner labels, less a leading "*"
  std::optional<uint32_t> original_ttl;  // default: the first record's TTL
  std::optional<uint16_t> key_tag;       // default: the key's tag

  SignatureSpec &with_window(const SignatureWindow &value) {
    window = value;
    return *this;
  }
  SignatureSpec &with_signer(const Name &value) {
    signer = value;
    return *this;
  }
  SignatureSpec &with_labels(uint8_t value) {
    labels = value;
    return *this;
  }
  SignatureSpec &with_original_ttl(uint32_t value) {
    original_ttl = value;
    return *this;
  }
  SignatureSpec &with_key_tag(uint16_t value) {
    key_tag = value;
    return *this;
  }
};

// One RRSIG over `rrset` (records sharing owner, type and class) by `key`, with
// the fields in `spec`. The signed data is RFC 4034 3.1.8.1's: the RRSIG RDATA and
// the canonical RRset (ldns_rr2canonical, ldns_rr_list_sort) with TTLs set to the
// original TTL and, when `labels` is less than the owner's label count, the owner
// replaced by the wildcard "*.<rightmost labels>" that a validator reconstructs
// (RFC 4035 5.3.2). The signature itself is ldns_sign_public_buffer's.
ResourceRecord sign_rrset(const std::vector<ResourceRecord> &rrset, const SigningKey &key,
                          const SignatureSpec &spec = {});

// RFC 4035 5.3 as ldns sees it: ldns_verify_rrsig_keylist_time of `rrsig` over
// `rrset` with `dnskeys` at time `now`. Returns ldns's status text ("All OK" on success).
std::string ldns_verify(const std::vector<ResourceRecord> &rrset, const ResourceRecord &rrsig,
                        const std::vector<ResourceRecord> &dnskeys, int64_t now = kPinnedNow);

// ldns's canonical name order (RFC 4034 6.1): negative, zero or positive.
int ldns_canonical_compare(const Name &a, const Name &b);

}  // namespace rsv::testing
