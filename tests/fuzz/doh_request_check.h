// The properties every DoH fuzz input is checked against, shared by the libFuzzer
// target (doh_request_fuzz.cc) and the deterministic replay in
// tests/unit/doh_request_fuzz_corpus_test.cc. The code under test is what reads a
// DNS-over-HTTPS client's bytes before any DNS parsing (resolver/net/doh_message.h)
// and what rewrites replies for encrypted transports (resolver/wire/edns_padding.h):
//
//  - evaluate_doh_request gives one of the statuses it documents, and a 200 only
//    with a query of 12 to 65535 octets whose QR bit is clear;
//  - base64url_decode accepts only text that base64url_encode gives back exactly;
//  - doh_max_age never exceeds 2^31-1 (RFC 2181 8);
//  - pad_message either leaves the message alone or makes it a multiple of the block
//    that carries a Padding option, and padding again changes nothing.
//
// Input layout: octet 0 picks the method (bits 0-1: GET, POST, PUT, "") and whether
// the content type is right (bit 2) or the body too large (bit 3); the rest up to the
// first NUL is the path, what follows it the body and the message for the wire checks.
// Returns an empty string when every property holds, otherwise what broke.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "resolver/net/doh_message.h"
#include "resolver/wire/edns_padding.h"

namespace rsv::fuzz {

inline std::string check_doh_request(const uint8_t *data, size_t size) {
  if (size == 0) return {};
  const uint8_t control = data[0];
  const std::string_view rest(reinterpret_cast<const char *>(data + 1), size - 1);
  const size_t nul = rest.find('\0');
  static constexpr const char *kMethods[] = {"GET", "POST", "PUT", ""};
  DohRequest request;
  request.method = kMethods[control & 3];
  request.path = std::string(rest.substr(0, nul));
  request.content_type = (control & 4) ? "application/dns-message" : "text/plain";
  request.body = nul == std::string_view::npos ? std::string() : std::string(rest.substr(nul + 1));
  request.body_too_large = (control & 8) != 0;

  const DohDecision decision = evaluate_doh_request(request);
  switch (decision.status) {
    case 200:
      if (decision.query.size() < 12 || decision.query.size() > kMaxDohMessage) return "200 with a bad query size";
      if ((static_cast<uint8_t>(decision.query[2]) & 0x80) != 0) return "200 for a response";
      break;
    case 400: case 404: case 405: case 413: case 414: case 415:
      if (decision.reason.empty()) return "an error without a reason";
      break;
    default: return "undocumented status " + std::to_string(decision.status);
  }

  if (auto decoded = base64url_decode(request.path); decoded && base64url_encode(*decoded) != request.path)
    return "base64url accepted a non-canonical text";

  const std::string message = request.body;
  const auto *bytes = reinterpret_cast<const uint8_t *>(message.data());
  if (doh_max_age(bytes, message.size()) > 0x7FFFFFFF) return "max-age beyond 2^31-1";
  has_padding_option(bytes, message.size());
  const std::string padded = padded_message(message);
  if (padded != message) {
    if (padded.size() % kResponsePaddingBlock != 0) return "padded to no multiple of the block";
    if (!has_padding_option(reinterpret_cast<const uint8_t *>(padded.data()), padded.size()))
      return "padded without a Padding option";
    if (padded_message(padded) != padded) return "padding twice changed the message";
  }
  return {};
}

}  // namespace rsv::fuzz
