// The cryptographic boundary of the validator: signature verification, DS digests
// and NSEC3 hashing over plain octet strings.
//
// When the validator checks an RRSIG (dnssec/rrsig.h) it builds the canonical signed
// data itself and hands this file the algorithm number, the DNSKEY's public key
// field and the signature; DS matching and NSEC3 proofs likewise ask for a digest
// or a hash. Nothing here knows about names, RRsets or time. This is the only file
// in the project that includes OpenSSL, so a second crypto backend is a one-file
// change. All functions are pure and thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace rsv {

// DNSSEC algorithm numbers (IANA "DNS Security Algorithm Numbers").
namespace dnssec_algorithm {
inline constexpr uint8_t RSAMD5 = 1, DSA = 3, RSASHA1 = 5, DSA_NSEC3_SHA1 = 6, RSASHA1_NSEC3_SHA1 = 7,
                         RSASHA256 = 8, RSASHA512 = 10, ECC_GOST = 12, ECDSAP256SHA256 = 13,
                         ECDSAP384SHA384 = 14, ED25519 = 15, ED448 = 16;
}

// DS digest type numbers (IANA "Digest Algorithms").
namespace ds_digest_type {
inline constexpr uint8_t SHA1 = 1, SHA256 = 2, GOST = 3, SHA384 = 4;
}

// True when signatures of this algorithm can be verified here: 8, 10, 13, 14, 15 and
// 16 when the linked OpenSSL provides them, 5 and 7 only when the system's crypto
// policy still accepts SHA-1 signatures (probed once, by verifying a known-good
// RSA/SHA-1 signature). RSAMD5, DSA and GOST are never supported (RFC 8624 3.1).
bool algorithm_supported(uint8_t algorithm);

// True for the DS digest types 1 (SHA-1), 2 (SHA-256) and 4 (SHA-384) (RFC 8624 3.3).
bool digest_supported(uint8_t digest_type);

// Verifies `signature` over `signed_data` (the RFC 4034 3.1.8.1 canonical form) with
// the DNSKEY public key field `public_key` (RDATA after flags, protocol and
// algorithm). Key and signature encodings per algorithm: RFC 3110 (RSA), RFC 5702
// (RSA/SHA-2), RFC 6605 (ECDSA), RFC 8080 (EdDSA). False for any malformed input or
// unsupported algorithm.
bool verify_signature(uint8_t algorithm, std::string_view public_key, std::string_view signed_data,
                      std::string_view signature);

// The DS digest of a DNSKEY: hash(owner name in canonical wire form | DNSKEY RDATA)
// (RFC 4034 5.1.4, RFC 4509 2.1, RFC 6605 6). Empty for an unsupported digest type.
std::string ds_digest(uint8_t digest_type, std::string_view owner_canonical_wire,
                      std::string_view dnskey_rdata);

// The NSEC3 hash of a name (RFC 5155 5, hash algorithm 1 = SHA-1):
// IH(salt, x, 0) = H(x | salt), IH(salt, x, k) = H(IH(salt, x, k-1) | salt),
// returning the raw 20-octet IH(salt, name, iterations). The caller passes the name
// in canonical (lower-cased) wire form and bounds `iterations` (RFC 9276).
std::string nsec3_hash(std::string_view name_canonical_wire, std::string_view salt, uint16_t iterations);

// Exposed for the tests, which compare it with OpenSSL's own encoder.
namespace crypto_detail {
inline constexpr size_t kMaxEcdsaCoordinateOctets = 48;  // P-384
// SEQUENCE, two INTEGERs, each with a tag, a length and a possible leading zero.
using EcdsaDer = std::array<unsigned char, 2 + 2 * (3 + kMaxEcdsaCoordinateOctets)>;

// An RFC 6605 4 ECDSA signature (r | s, each `coordinate_octets` long) in the DER
// form OpenSSL verifies, ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
// (RFC 5480 2.2 for the curves' signatures), written into `out`. Returns its length,
// or 0 when the signature's length does not fit the curve.
size_t ecdsa_signature_der(std::string_view signature, size_t coordinate_octets, EcdsaDer &out);

// ECDSA P-256 verification (signed data, r | s) through a fixed-base table built for
// `public_key` now (what verify_signature switches to for a hot key; the build takes
// about 25 ms), so the tests can compare it with OpenSSL's verifier on any input. Null
// when the key is not a point of the curve.
std::function<bool(std::string_view, std::string_view)> p256_fixed_base_verifier(std::string_view public_key);
// Verifications that went through a hot key's fixed-base table, in the process.
uint64_t fixed_base_verifications();
}  // namespace crypto_detail

}  // namespace rsv
