#include "resolver/net/doh_message.h"

#include <algorithm>
#include <cctype>

#include "resolver/wire/record_walk.h"
#include "resolver/wire/response_match.h"

namespace rsv {

namespace {

constexpr size_t kDnsHeaderSize = 12;  // RFC 1035 4.1.1
constexpr uint16_t kTypeOpt = 41;

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

DohDecision error(int status, std::string reason) { return DohDecision{status, {}, std::move(reason)}; }

// Enough of a DNS query to be worth resolving: a header, QR clear. The handler
// judges the rest (FORMERR for what does not parse, as over UDP).
DohDecision dns_query(std::string wire) {
  if (wire.size() < kDnsHeaderSize) return error(400, "the DNS message is shorter than a header");
  if ((static_cast<uint8_t>(wire[2]) & 0x80) != 0) return error(400, "the DNS message is a response, not a query");
  return DohDecision{200, std::move(wire), {}};
}

}  // namespace

// Media types compare case-insensitively and may carry parameters (RFC 9110 8.3.1).
bool is_dns_message_type(std::string_view type) {
  if (size_t semicolon = type.find(';'); semicolon != std::string_view::npos)
    type = type.substr(0, semicolon);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return type.size() == kDnsMessageType.size() &&
         std::equal(type.begin(), type.end(), kDnsMessageType.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

bool doh_response_answers(const DohResponse &response, const Question &question) {
  return response.status == 200 && !response.body_too_large && response.body.size() <= kMaxDohMessage &&
         is_dns_message_type(response.content_type) && response_matches_query(response.body, 0, question);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const int value = base64url_value(c);
    if (value < 0) return std::nullopt;  // '=', '+', '/', '%', spaces: not base64url without padding
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  // The leftover bits of the last character must be zero (RFC 4648 3.5, canonical form).
  if (count > 0 && (bits & ((1u << count) - 1)) != 0) return std::nullopt;
  return out;
}

std::string base64url_encode(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  uint32_t bits = 0;
  int count = 0;
  for (char c : data) {
    bits = (bits << 8) | static_cast<uint8_t>(c);
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 0x3F]);
    }
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 0x3F]);
  return out;
}

std::optional<std::string_view> query_parameter(std::string_view path, std::string_view name) {
  size_t question = path.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t equals = pair.find('=');
    if (pair.substr(0, equals) == name) return equals == std::string_view::npos ? "" : pair.substr(equals + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

DohDecision evaluate_doh_request(const DohRequest &request, std::string_view endpoint) {
  const std::string_view path = request.path;
  const std::string_view route = path.substr(0, path.find('?'));
  if (route != endpoint) return error(404, "no such path; DNS queries go to " + std::string(endpoint));
  if (request.method == "GET") {
    auto encoded = query_parameter(path, "dns");
    if (!encoded) return error(400, "GET needs the query in the 'dns' parameter");
    // Base64url takes 4 characters per 3 octets.
    if (encoded->size() > (kMaxDohMessage + 2) / 3 * 4) return error(414, "the query is longer than 65535 octets");
    auto wire = base64url_decode(*encoded);
    if (!wire) return error(400, "the 'dns' parameter is not base64url without padding");
    return dns_query(std::move(*wire));
  }
  if (request.method == "POST") {
    if (request.body_too_large) return error(413, "the body is longer than 65535 octets");
    if (!is_dns_message_type(request.content_type))
      return error(415, "POST needs content-type application/dns-message");
    return dns_query(request.body);
  }
  return error(405, "only GET and POST are served");
}

uint32_t doh_max_age(const uint8_t *wire, size_t size) {
  std::optional<uint32_t> smallest_answer, smallest_authority;
  const bool ok = walk_records(wire, size, [&](const WireRecord &record) {
    if (record.type == kTypeOpt || record.section == WireSection::additional) return true;
    // RFC 2181 8: a TTL with the top bit set counts as 0.
    const uint32_t ttl = record.ttl > 0x7FFFFFFF ? 0 : record.ttl;
    auto &smallest = record.section == WireSection::answer ? smallest_answer : smallest_authority;
    smallest = smallest ? std::min(*smallest, ttl) : ttl;
    return true;
  });
  if (!ok) return 0;
  if (smallest_answer) return *smallest_answer;
  return smallest_authority.value_or(0);
}

}  // namespace rsv
