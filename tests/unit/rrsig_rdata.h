// RRSIG records with chosen validity periods, for tests of what the caches do with
// signed data over time (nothing here signs anything: the signature is filler).
#pragma once

#include <cstdint>
#include <string>

#include "resolver/wire/rr.h"

namespace rsv::testing {

// RFC 4034 3.1 RDATA: type covered, algorithm 13, labels, original TTL, expiration,
// inception, key tag, signer, signature.
inline std::string rrsig_rdata(uint16_t covered, int64_t inception, int64_t expiration, const Name &signer,
                               uint8_t labels = 2, uint32_t original_ttl = 300) {
  std::string out;
  auto u16 = [&](uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xFF));
  };
  auto u32 = [&](uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v & 0xFFFF));
  };
  u16(covered);
  out.push_back(13);
  out.push_back(static_cast<char>(labels));
  u32(original_ttl);
  u32(static_cast<uint32_t>(expiration));
  u32(static_cast<uint32_t>(inception));
  u16(4242);
  out += signer.wire();
  out += std::string(64, '\x5A');
  return out;
}

inline ResourceRecord rrsig(const Name &owner, uint16_t covered, int64_t inception, int64_t expiration,
                            const Name &signer, uint32_t ttl = 300) {
  return ResourceRecord{owner, rrtype::RRSIG, rrclass::IN, ttl,
                        rrsig_rdata(covered, inception, expiration, signer,
                                    static_cast<uint8_t>(owner.label_count()), ttl)};
}

}  // namespace rsv::testing
