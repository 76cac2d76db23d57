// A Resolution (dnssec/resolution.h) written as a DNS message, for validator_fuzz:
// the fuzzer mutates ordinary packets, and the parts of a Resolution that are the
// iterator's knowledge rather than packet data (the zone of the reply, the source of
// each RRset, the referrals followed with their DS or denial) ride in the additional
// section as records of private-use types (RFC 6895 3.1):
//
//   TYPE65280  owner = the zone of the reply; RDATA = cache TTL (32 bits), cacheable (8)
//   TYPE65281  owner = an answer RRset's owner; RDATA = its type (16), Trust (8),
//              Security (8), then the zone it came from (uncompressed name)
//   TYPE65282  owner = a delegation's child; RDATA = its parent (uncompressed name);
//              the DS, NSEC, NSEC3 and RRSIG records after it, up to the next
//              TYPE65282, are that referral's DS RRset or denial
//
// Everything else maps directly: rcode, answer and authority sections, the question.
// Decoding keeps the invariants the iterator guarantees (iterator_driver.h checks
// them on real iterator output), so that the validator never sees a Resolution the
// iterator could not produce: a source's zone is at or above its owner, a
// delegation's child is below its parent. Anything else in the packet is a claim
// the validator must check, and passes through untouched.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "dnssec/resolution.h"
#include "resolver/wire/message.h"

namespace rsv::fuzz {

inline constexpr uint16_t kZoneMetaType = 65280, kSourceMetaType = 65281, kDelegationMetaType = 65282;

inline std::string encode_resolution(const Question &question, const Resolution &r) {
  Message m;
  m.qr = true;
  m.aa = true;
  m.rcode = r.rcode;
  m.questions.push_back(question);
  m.answer = r.answer;
  m.authority = r.authority;
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  m.additional.push_back(
      {r.zone, kZoneMetaType, rrclass::IN, 0, be32(r.cache_ttl) + std::string(1, r.cacheable ? '\1' : '\0')});
  for (const auto &s : r.sources) {
    std::string rdata{static_cast<char>(s.type >> 8), static_cast<char>(s.type & 0xFF),
                      static_cast<char>(s.trust), static_cast<char>(s.security)};
    m.additional.push_back({s.owner, kSourceMetaType, rrclass::IN, 0, rdata + s.zone.wire()});
  }
  for (const auto &d : r.delegations) {
    m.additional.push_back({d.child, kDelegationMetaType, rrclass::IN, 0, d.parent.wire()});
    m.additional.insert(m.additional.end(), d.ds.begin(), d.ds.end());
    m.additional.insert(m.additional.end(), d.denial.begin(), d.denial.end());
  }
  return encode_message(m).wire;
}

// The Resolution in `m`, with `default_zone` as its zone when the message names none.
inline Resolution decode_resolution(const Message &m, const Name &default_zone) {
  Resolution r;
  r.rcode = m.rcode;
  r.answer = m.answer;
  r.authority = m.authority;
  r.zone = default_zone;
  if (r.rcode == rcode::SERVFAIL) r.error = ExtendedError{ede::OTHER, "upstream failure"};
  Delegation *open = nullptr;  // the referral the following records belong to
  for (const auto &rr : m.additional) {
    switch (rr.type) {
      case kZoneMetaType:
        r.zone = rr.owner;
        if (rr.rdata.size() >= 5) {
          r.cache_ttl = (static_cast<uint32_t>(static_cast<uint8_t>(rr.rdata[0])) << 24) |
                        (static_cast<uint32_t>(static_cast<uint8_t>(rr.rdata[1])) << 16) |
                        (static_cast<uint32_t>(static_cast<uint8_t>(rr.rdata[2])) << 8) |
                        static_cast<uint8_t>(rr.rdata[3]);
          r.cacheable = rr.rdata[4] != 0;
        }
        continue;
      case kSourceMetaType: {
        if (rr.rdata.size() < 5) continue;
        auto zone = Name::from_wire(std::string_view(rr.rdata).substr(4));
        if (!zone || !rr.owner.is_subdomain_of(*zone)) continue;
        AnswerSource source;
        source.owner = rr.owner;
        source.type = static_cast<uint16_t>((static_cast<uint8_t>(rr.rdata[0]) << 8) | static_cast<uint8_t>(rr.rdata[1]));
        source.trust = static_cast<Trust>(std::min<uint8_t>(static_cast<uint8_t>(rr.rdata[2]), 4));
        source.security = static_cast<Security>(std::min<uint8_t>(static_cast<uint8_t>(rr.rdata[3]), 4));
        source.zone = std::move(*zone);
        r.sources.push_back(std::move(source));
        continue;
      }
      case kDelegationMetaType: {
        open = nullptr;
        auto parent = Name::from_wire(rr.rdata);
        if (!parent || *parent == rr.owner || !rr.owner.is_subdomain_of(*parent)) continue;
        r.delegations.push_back(Delegation{*parent, rr.owner, {}, {}});
        open = &r.delegations.back();
        continue;
      }
      default: break;
    }
    if (!open) continue;
    const uint16_t type = rr.type == rrtype::RRSIG ? rr.rrsig_type_covered() : rr.type;
    if (type == rrtype::DS) open->ds.push_back(rr);
    else if (type == rrtype::NSEC || type == rrtype::NSEC3) open->denial.push_back(rr);
  }
  return r;
}

}  // namespace rsv::fuzz
