// When cached signed data stops being provably valid: the validity period of the
// RRSIGs that came with it.
//
// The validator caps a secure RRset's TTL at its signature's expiration (RFC 4035
// 5.3.3), so live secure data is always within it. Data kept past its TTL is not:
// a stale answer (RFC 8767) and an entry restored from the cache snapshot are checked
// against these times again, and what is past its signatures is never served as
// secure. Only the two time fields of the RRSIG RDATA are read here; verifying a
// signature is the validator's business (dnssec/rrsig.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "resolver/wire/rr.h"

namespace rsv {

// RFC 4034 3.1.5: RRSIG times are seconds since the epoch modulo 2^32, compared with
// RFC 1982 serial number arithmetic; the absolute time meant is the one closest to `now`.
inline int64_t serial_time_near(uint32_t time, int64_t now) {
  const auto delta = static_cast<int32_t>(time - static_cast<uint32_t>(now));
  return now + delta;
}

struct SignatureValidity {
  int64_t inception = 0;
  int64_t expiration = 0;
};

// The validity period of an RRSIG from its RDATA (RFC 4034 3.1: type covered 2,
// algorithm 1, labels 1, original TTL 4, expiration 4, inception 4, ...); nullopt when
// the RDATA is too short to hold them.
inline std::optional<SignatureValidity> rrsig_validity(std::string_view rdata, int64_t now) {
  if (rdata.size() < 18) return std::nullopt;
  auto u32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(rdata[at])) << 24) |
           (static_cast<uint32_t>(static_cast<uint8_t>(rdata[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<uint8_t>(rdata[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<uint8_t>(rdata[at + 3]));
  };
  return SignatureValidity{serial_time_near(u32(12), now), serial_time_near(u32(8), now)};
}

// The earliest expiration of the RRSIG records among `records`; 0 when there is none.
inline int64_t earliest_signature_expiration(const std::vector<ResourceRecord> &records, int64_t now) {
  int64_t earliest = 0;
  for (const auto &rr : records) {
    if (rr.type != rrtype::RRSIG) continue;
    auto validity = rrsig_validity(rr.rdata, now);
    if (!validity) continue;
    earliest = earliest == 0 ? validity->expiration : std::min(earliest, validity->expiration);
  }
  return earliest;
}

// True when there is at least one RRSIG among `records` and every one of them is
// within its validity period at `now` (RFC 4034 3.1.5: inception <= now <= expiration).
inline bool signatures_current(const std::vector<ResourceRecord> &records, int64_t now) {
  bool any = false;
  for (const auto &rr : records) {
    if (rr.type != rrtype::RRSIG) continue;
    auto validity = rrsig_validity(rr.rdata, now);
    if (!validity || validity->inception > now || validity->expiration < now) return false;
    any = true;
  }
  return any;
}

}  // namespace rsv
