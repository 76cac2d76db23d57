// What the server counts about the answers it gives, per worker: by transport, query
// type, rcode, DNSSEC outcome and Extended DNS Error, and how long clients waited.
//
// The query handler calls record() once per reply it sends (the cache-hit fast path
// included: an array index per label, no allocation). Each Counter is written only
// by its worker's thread; /metrics and `resolverctl stats` sum the workers' values
// (resolver/server/metrics.h). Label values are fixed, small sets, so the number of
// Prometheus series is bounded: query types outside the list count as "other".
#pragma once

#include <array>
#include <cstdint>

#include "cache/trust.h"
#include "resolver/base/counter.h"
#include "resolver/wire/rr.h"

namespace rsv {

enum class ClientTransport : uint8_t { udp, tcp, tls, https };
inline constexpr std::array<const char *, 4> kTransportNames = {"udp", "tcp", "tls", "https"};

struct QueryMetrics {
  // Query types with a series of their own; the last slot is "other".
  static constexpr std::array<uint16_t, 16> kQtypes = {
      rrtype::A,    rrtype::AAAA, rrtype::CNAME, rrtype::MX,     rrtype::NS,    rrtype::PTR,
      rrtype::SOA,  rrtype::SRV,  rrtype::TXT,   rrtype::HTTPS,  rrtype::SVCB,  rrtype::DS,
      rrtype::DNSKEY, rrtype::RRSIG, rrtype::NSEC, rrtype::ANY};
  static constexpr size_t kRcodes = 16;  // the 4-bit header rcode
  static constexpr size_t kEdeCodes = 32;  // RFC 8914 codes 0-31; higher ones count as 31
  // Latency buckets, upper bounds in milliseconds (Prometheus `le`); +Inf implied.
  static constexpr std::array<uint32_t, 12> kLatencyBucketsMs = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};

  std::array<Counter, kTransportNames.size()> by_transport;
  std::array<Counter, kQtypes.size() + 1> by_qtype;
  std::array<Counter, kRcodes> by_rcode;
  std::array<Counter, 5> by_security;  // indexed by Security (unchecked, bogus, indeterminate, insecure, secure)
  std::array<Counter, kEdeCodes> by_ede;
  std::array<Counter, kLatencyBucketsMs.size() + 1> latency_buckets;  // not cumulative; last is +Inf
  Counter latency_sum_us;
  Counter resolved;  // answers that went through the engine (the DNSSEC outcome is counted)

  static size_t qtype_index(uint16_t qtype) {
    for (size_t i = 0; i < kQtypes.size(); ++i)
      if (kQtypes[i] == qtype) return i;
    return kQtypes.size();
  }

  // One reply sent. `waited_us`: from the query's arrival to the reply.
  void record(ClientTransport transport, uint16_t qtype, uint8_t rcode, uint64_t waited_us) {
    ++by_transport[static_cast<size_t>(transport)];
    ++by_qtype[qtype_index(qtype)];
    ++by_rcode[rcode & 0x0F];
    size_t bucket = 0;
    while (bucket < kLatencyBucketsMs.size() && waited_us > kLatencyBucketsMs[bucket] * 1000ull) ++bucket;
    ++latency_buckets[bucket];
    latency_sum_us += waited_us;
  }

  // The outcome of an answer the engine resolved (and validated, unless CD).
  void record_outcome(Security security, bool has_ede, uint16_t ede_code) {
    ++resolved;
    ++by_security[static_cast<size_t>(security)];
    if (has_ede) record_extended_error(ede_code);
  }
  // An answer carrying an Extended DNS Error that did not come from the engine (a
  // stale answer, RFC 8767).
  void record_extended_error(uint16_t ede_code) { ++by_ede[ede_code < kEdeCodes ? ede_code : kEdeCodes - 1]; }
};

}  // namespace rsv
