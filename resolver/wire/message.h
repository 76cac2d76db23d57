// DNS messages: parsing hostile wire data and encoding replies.
//
// Every packet from a client or an authority passes through parse_message, which
// checks every length and pointer, follows compression pointers only backwards
// and a bounded number of times, expands names inside rdata of the types that may
// be compressed (RFC 3597 4), and takes the OPT record out into Message::edns
// (RFC 6891 6.1.1: at most one). encode_message writes a reply, compressing owner
// names, and truncates to the requested size (RFC 2181 9: TC only when required data
// is left out; additional data is simply dropped).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "resolver/wire/rr.h"

namespace rsv {

struct Question {
  Name name;
  uint16_t qtype = 0;
  uint16_t qclass = rrclass::IN;
};

namespace edns_option {
inline constexpr uint16_t COOKIE = 10, PADDING = 12, EXTENDED_ERROR = 15;
}

struct EdnsOption {
  uint16_t code = 0;
  std::string data;
};

struct Edns {
  uint16_t udp_size = 1232;
  uint8_t extended_rcode = 0;  // upper 8 bits of the 12-bit rcode
  uint8_t version = 0;
  bool dnssec_ok = false;
  std::vector<EdnsOption> options;
};

// RFC 8914 Extended DNS Error info codes used by the resolver.
namespace ede {
inline constexpr uint16_t OTHER = 0, UNSUPPORTED_DNSKEY_ALGORITHM = 1, UNSUPPORTED_DS_DIGEST = 2,
                          STALE_ANSWER = 3, FORGED_ANSWER = 4, DNSSEC_INDETERMINATE = 5,
                          DNSSEC_BOGUS = 6, SIGNATURE_EXPIRED = 7, SIGNATURE_NOT_YET_VALID = 8,
                          DNSKEY_MISSING = 9, RRSIGS_MISSING = 10, NO_ZONE_KEY_BIT = 11,
                          NSEC_MISSING = 12, CACHED_ERROR = 13, NOT_READY = 14, BLOCKED = 15,
                          CENSORED = 16, FILTERED = 17, PROHIBITED = 18, STALE_NXDOMAIN = 19,
                          NOT_AUTHORITATIVE = 20, NOT_SUPPORTED = 21, NO_REACHABLE_AUTHORITY = 22,
                          NETWORK_ERROR = 23, INVALID_DATA = 24, TOO_EARLY = 26,
                          UNSUPPORTED_NSEC3_ITERATIONS = 27;
}

// The name RFC 8914 5.2 (and the IANA registry) gives an info code, e.g. "DNSKEY
// Missing"; "Unassigned" for codes not in the registry.
const char *ede_name(uint16_t info_code);

struct ExtendedError {
  uint16_t info_code = ede::OTHER;
  std::string extra_text;
};

struct Message {
  uint16_t id = 0;
  bool qr = false, aa = false, tc = false, rd = false, ra = false, ad = false, cd = false;
  uint8_t opcode = opcode::QUERY;
  uint16_t rcode = rcode::NOERROR;  // 12 bits once EDNS is taken into account
  std::vector<Question> questions;
  std::vector<ResourceRecord> answer, authority, additional;  // OPT is in `edns`
  std::optional<Edns> edns;

  const Question *question() const { return questions.size() == 1 ? &questions[0] : nullptr; }
  void add_extended_error(const ExtendedError &error);
  std::vector<ExtendedError> extended_errors() const;
};

enum class ParseError {
  none,
  truncated,        // a length runs past the end of the packet
  bad_name,         // label too long, name too long, bad compression pointer
  bad_rdata,        // rdata of a known type does not match its format
  multiple_opt,     // RFC 6891 6.1.1
  opt_not_root,     // OPT owner must be the root
  trailing_garbage, // bytes after the last record
};
const char *to_string(ParseError error);

struct ParseLimits {
  size_t max_records = 1000;  // across all sections; more is hostile, not useful
};

// Parses one message. On failure returns nullopt and sets *error.
std::optional<Message> parse_message(const uint8_t *data, size_t size, ParseError *error,
                                     const ParseLimits &limits = {});

struct EncodeResult {
  std::string wire;
  bool truncated = false;  // answer and authority left out (TC set)
  // Offsets of the 32-bit TTL field of every record written (OPT excluded), in the
  // order written: the cache-hit path rewrites them to the remaining TTL.
  std::vector<uint16_t> ttl_offsets;
};

// Encodes `message` in at most `max_size` octets (at least 512, at most 65535), the
// header and question permitting. If the answer and authority sections do not fit
// next to an OPT record without Extended DNS Errors, they are dropped and TC is set
// (`truncated`). Then, in what room is left: the Extended DNS Errors' extra text is
// shortened, and errors that still do not fit are dropped, which sets TC too (RFC
// 8914 3; `truncated` stays false, no record was left out); additional records that
// do not fit are dropped silently. The OPT record itself is always written when
// `message.edns` is set (RFC 6891 7).
EncodeResult encode_message(const Message &message, size_t max_size = 65535);

// Encodes just a header and question: the query the iterator sends upstream.
std::string encode_query(uint16_t id, const Question &question, bool recursion_desired,
                         const std::optional<Edns> &edns, bool checking_disabled);

}  // namespace rsv
