// Resource records and RRsets as the resolver stores and compares them.
//
// Rdata is kept in uncompressed wire form (names inside it expanded), so that two
// copies of a record compare equal byte for byte, RRsets can be cached and sent
// again with any compression, and the validator (next issue) can canonicalise it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "resolver/wire/name.h"

namespace rsv {

namespace rrtype {
inline constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16,
                          AAAA = 28, SRV = 33, DNAME = 39, OPT = 41, DS = 43, RRSIG = 46,
                          NSEC = 47, DNSKEY = 48, NSEC3 = 50, NSEC3PARAM = 51, HTTPS = 65,
                          SVCB = 64, IXFR = 251, AXFR = 252, ANY = 255;
}  // namespace rrtype

namespace rrclass {
inline constexpr uint16_t IN = 1, CH = 3, ANY = 255;
}

namespace rcode {
inline constexpr uint8_t NOERROR = 0, FORMERR = 1, SERVFAIL = 2, NXDOMAIN = 3, NOTIMP = 4, REFUSED = 5,
                         YXDOMAIN = 6, BADVERS = 16;  // BADVERS is extended (needs OPT)
}

namespace opcode {
inline constexpr uint8_t QUERY = 0;
}

std::string type_to_text(uint16_t type);
// Accepts mnemonics ("AAAA") and RFC 3597 "TYPE65534"; 0 when unknown.
uint16_t type_from_text(std::string_view text);
std::string rcode_to_text(uint16_t rcode);

// True for types whose RRsets are DNSSEC metadata rather than data a client asked for.
inline bool is_dnssec_type(uint16_t t) {
  return t == rrtype::RRSIG || t == rrtype::NSEC || t == rrtype::NSEC3 || t == rrtype::DS ||
         t == rrtype::DNSKEY || t == rrtype::NSEC3PARAM;
}

struct ResourceRecord {
  Name owner;
  uint16_t type = 0;
  uint16_t rclass = rrclass::IN;
  uint32_t ttl = 0;
  std::string rdata;  // uncompressed wire form

  // For RRSIG records: the type covered (first two rdata octets), else 0.
  uint16_t rrsig_type_covered() const;
  // For records whose rdata begins with or holds a single name target
  // (NS, CNAME, DNAME, PTR; MX/SRV after the preference fields): that name.
  std::optional<Name> rdata_target() const;
  std::string to_text() const;  // zone-file presentation, for logs and tests
};

// All records sharing owner, type and class, with the signatures covering them.
struct RRset {
  Name owner;
  uint16_t type = 0;
  uint16_t rclass = rrclass::IN;
  uint32_t ttl = 0;  // the smallest TTL of the members (RFC 2181 5.2)
  std::vector<std::string> rdatas;
  std::vector<ResourceRecord> signatures;  // RRSIGs covering this set

  bool empty() const { return rdatas.empty(); }
  // Adds rdata unless an identical copy is present (RFC 2181 5: duplicates are dropped).
  void add(const std::string &rdata, uint32_t record_ttl);
  std::vector<ResourceRecord> records() const;
  size_t wire_size_estimate() const;
};

// Groups records of one section into RRsets, attaching RRSIGs to the set they cover.
std::vector<RRset> group_rrsets(const std::vector<ResourceRecord> &records);

// Helpers for SOA rdata: MINIMUM is the last 32-bit field (RFC 2308 4).
std::optional<uint32_t> soa_minimum(const std::string &rdata);

}  // namespace rsv
