// Work the validator need not do twice: signatures already verified, and NSEC3 hashes
// already computed.
//
// A wildcard's RRSIG covers the same bytes for every name it expands to (RFC 4035
// 5.3.2: the signed data is rebuilt with the wildcard owner), and the NSEC3 records that
// prove each such answer are the same few records: on a cold stream of names under one
// wildcard, every answer but the first costs no public-key operation. Likewise the
// closest encloser and the wildcard of an NSEC3 proof hash to the same values question
// after question.
//
// Both tables are per thread (no locks on the validation path), fixed in size (their
// memory is allocated once, at first use: about 1 MiB a thread in all) and
// direct-mapped: a newcomer takes its slot's place. Entries never go stale, so they need
// no expiry:
//  - a signature entry is the SHA-256 digest of (algorithm, public key, signed data,
//    signature), stored only after the signature verified. The signed data holds the
//    whole RRSIG but its signature (inception, expiration, signer, key tag: RFC 4034
//    3.1.8.1) and the canonical RRset, so a hit is the same verification, a fact that
//    does not change; the validity period and the key's place in the zone's DNSKEY set
//    are checked by the caller every time, hit or not.
//  - an NSEC3 entry keeps the name, salt and iteration count it was computed from, in
//    full, next to the hash.
#pragma once

#include <array>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>

namespace rsv {

class VerifiedSignatures {
public:
  static constexpr size_t kSlots = 16384;  // 32 bytes each: 512 KiB
  using Digest = std::array<uint8_t, 32>;

  // The table of the calling thread.
  static VerifiedSignatures &of_this_thread();

  static Digest digest(uint8_t algorithm, std::string_view public_key, std::string_view signed_data,
                       std::string_view signature);
  bool contains(const Digest &digest) const;
  void insert(const Digest &digest);
  void clear();

private:
  VerifiedSignatures();
  static size_t slot_of(const Digest &digest);
  std::unique_ptr<Digest[]> slots_;
};

// dnssec/crypto.h's nsec3_hash, through the calling thread's table of recent hashes
// (4096 entries). Usable as an Nsec3HashFunction.
std::string nsec3_hash_cached(std::string_view name_canonical_wire, std::string_view salt, uint16_t iterations);

// Tests: empties both tables of the calling thread.
void clear_verification_caches_of_this_thread();

}  // namespace rsv
