// DNS over HTTPS requests and responses (RFC 8484), as pure functions.
//
// The DoH listener collects a request's pseudo-headers, content type and body from
// HTTP/2 frames into a DohRequest and asks evaluate_doh_request() what to do: serve
// the DNS query it carries (status 200) or answer with an HTTP error. Every octet
// of it comes from a client and is treated as hostile: sizes are bounded, base64url
// is decoded strictly, and nothing here does I/O, so it is unit-tested and fuzzed
// directly (tests/unit/doh_message_test.cc, tests/fuzz/doh_request_fuzz.cc).
//
//   GET  /dns-query?dns=BASE64URL   RFC 8484 4.1: the query, base64url without
//                                   padding (RFC 4648 5); other parameters ignored
//   POST /dns-query                 RFC 8484 4.1: the query is the body, with
//                                   content-type application/dns-message
// Errors: 400 malformed (no or bad dns parameter, not a DNS query), 404 another
// path, 405 another method, 413 a body over 65535 octets, 414 a GET whose query
// would be, 415 a POST of another content type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "resolver/wire/message.h"

namespace rsv {

inline constexpr std::string_view kDohPath = "/dns-query";
inline constexpr std::string_view kDnsMessageType = "application/dns-message";
inline constexpr size_t kMaxDohMessage = 65535;  // what a DNS message can be (RFC 8484 6)

struct DohRequest {
  std::string method;
  std::string path;          // :path, with its query string
  std::string content_type;  // POST
  std::string body;          // POST, up to kMaxDohMessage octets
  bool body_too_large = false;
};

struct DohDecision {
  int status = 400;
  std::string query;   // status 200: the DNS query in wire form
  std::string reason;  // otherwise: a short text for the response body and logs
  bool ok() const { return status == 200; }
};

DohDecision evaluate_doh_request(const DohRequest &request, std::string_view endpoint = kDohPath);

// RFC 8484 4.1 / RFC 9110 8.3.1: `content_type` is the media type
// application/dns-message: type and subtype compared without regard to case,
// parameters (after ';') ignored. Another subtype that merely begins the same way
// ("application/dns-messagex", "application/dns-message-evil") is not it.
bool is_dns_message_type(std::string_view content_type);

// A DoH server's response to one of our queries, as its HTTP/2 stream delivered it.
struct DohResponse {
  int status = 0;            // the final response's :status
  std::string content_type;  // the final response's, repeated fields joined by ", "; empty if none
  std::string body;          // up to kMaxDohMessage octets
  bool body_too_large = false;
};

// True if `response` carries the reply to `question` (asked with ID 0, RFC 8484 4.1):
// status 200 (4.2.1: other statuses carry no reply to the question), content type
// application/dns-message, a body no larger than a DNS message (6), and a DNS
// response that repeats the question (response_matches_query).
bool doh_response_answers(const DohResponse &response, const Question &question);

// RFC 4648 5 without padding, strictly: nullopt for any other character, for
// padding, or for a length that no encoding has (4n+1).
std::optional<std::string> base64url_decode(std::string_view text);
std::string base64url_encode(std::string_view data);

// RFC 8484 5.1: the freshness lifetime of a response must not exceed the smallest
// TTL of its answer; a negative answer's is its SOA's TTL (authority, RFC 2308 5).
// 0 for a reply with neither (SERVFAIL), or one that does not parse.
uint32_t doh_max_age(const uint8_t *wire, size_t size);

// The value of a query-string parameter of `path` ("dns"), or nullopt.
std::optional<std::string_view> query_parameter(std::string_view path, std::string_view name);

}  // namespace rsv
