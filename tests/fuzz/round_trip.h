// The property every fuzz input is checked against, shared by the libFuzzer target
// (parse_message_fuzz.cc) and the deterministic replay in tests/unit/fuzz_corpus_test.cc:
//
//   whatever parse_message accepts, encode_message can write and parse_message can read
//   back, with the same header, question, records and EDNS data; the TTL offsets the
//   encoder reports point at the TTLs it wrote.
//
// Returns an empty string when the property holds, otherwise what broke.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "resolver/wire/message.h"

namespace rsv::fuzz {

inline bool same_records(const std::vector<ResourceRecord> &a, const std::vector<ResourceRecord> &b,
                         size_t count) {
  if (a.size() < count || b.size() < count) return false;
  for (size_t i = 0; i < count; ++i) {
    if (a[i].owner != b[i].owner || a[i].type != b[i].type || a[i].rclass != b[i].rclass ||
        a[i].ttl != b[i].ttl || a[i].rdata != b[i].rdata)
      return false;
  }
  return true;
}

inline std::string check_round_trip(const uint8_t *data, size_t size) {
  ParseError error = ParseError::none;
  auto first = parse_message(data, size, &error);
  if (!first) return error == ParseError::none ? "rejected without saying why" : "";
  if (error != ParseError::none) return "accepted but reported an error";

  const EncodeResult encoded = encode_message(*first);
  ParseError second_error = ParseError::none;
  auto second = parse_message(reinterpret_cast<const uint8_t *>(encoded.wire.data()), encoded.wire.size(),
                              &second_error);
  if (!second) return std::string("re-parse failed: ") + to_string(second_error);

  if (second->id != first->id || second->opcode != first->opcode || second->rcode != first->rcode ||
      second->qr != first->qr || second->aa != first->aa || second->rd != first->rd ||
      second->ra != first->ra || second->ad != first->ad || second->cd != first->cd)
    return "header changed";
  if (second->tc != (first->tc || encoded.truncated)) return "TC not as expected";
  if (second->questions.size() != first->questions.size()) return "question count changed";
  for (size_t i = 0; i < first->questions.size(); ++i) {
    const auto &q1 = first->questions[i];
    const auto &q2 = second->questions[i];
    if (q1.name != q2.name || q1.qtype != q2.qtype || q1.qclass != q2.qclass) return "question changed";
  }
  if (encoded.truncated) {
    if (!second->answer.empty() || !second->authority.empty() || !second->additional.empty())
      return "truncated reply kept records";
  } else {
    if (second->answer.size() != first->answer.size() ||
        !same_records(first->answer, second->answer, first->answer.size()))
      return "answer changed";
    if (second->authority.size() != first->authority.size() ||
        !same_records(first->authority, second->authority, first->authority.size()))
      return "authority changed";
    // Additional records may be dropped for size, but only from the end.
    if (second->additional.size() > first->additional.size() ||
        !same_records(first->additional, second->additional, second->additional.size()))
      return "additional changed";
  }
  if (first->edns.has_value() != second->edns.has_value()) return "EDNS presence changed";
  if (first->edns) {
    const Edns &e1 = *first->edns;
    const Edns &e2 = *second->edns;
    if (e1.udp_size != e2.udp_size || e1.version != e2.version || e1.dnssec_ok != e2.dnssec_ok ||
        e1.extended_rcode != e2.extended_rcode || e1.options.size() != e2.options.size())
      return "EDNS changed";
    for (size_t i = 0; i < e1.options.size(); ++i)
      if (e1.options[i].code != e2.options[i].code || e1.options[i].data != e2.options[i].data)
        return "EDNS option changed";
  }

  // The cache rewrites TTLs through these offsets, so each must land on its record's TTL.
  std::vector<uint32_t> ttls;
  for (const auto *section : {&second->answer, &second->authority, &second->additional})
    for (const auto &rr : *section) ttls.push_back(rr.ttl);
  if (encoded.ttl_offsets.size() != ttls.size()) return "wrong number of TTL offsets";
  for (size_t i = 0; i < ttls.size(); ++i) {
    size_t at = encoded.ttl_offsets[i];
    if (at + 4 > encoded.wire.size()) return "TTL offset out of range";
    const auto *p = reinterpret_cast<const uint8_t *>(encoded.wire.data()) + at;
    uint32_t ttl = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
    if (ttl != ttls[i]) return "TTL offset points elsewhere";
  }
  return "";
}

}  // namespace rsv::fuzz
