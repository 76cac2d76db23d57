// How a forward zone reaches one of its servers: plain DNS, DNS over TLS (RFC 7858)
// or DNS over HTTPS (RFC 8484), as written in `forward-zones: servers:`.
//
//   "192.0.2.1", "192.0.2.1@5353"             plain DNS (UDP, TCP on truncation)
//   "192.0.2.1@853#dns.example"               DNS over TLS, port 853 by default;
//   "192.0.2.1#dns.example"                   the name after '#' is sent in SNI and
//                                             must be on the server's certificate
//   "https://dns.example/dns-query@192.0.2.1" DNS over HTTPS to the address after the
//   "https://dns.example:8443/q@[2001:db8::1]" last '@' (no bootstrap lookup); the
//                                             URL's host is the name checked
//   "https://192.0.2.1/dns-query"             a URL whose host is an address needs no
//                                             '@'; the certificate must name that address
//
// Pure parsing (no I/O), unit-tested and fuzzed through the configuration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "resolver/wire/address.h"

namespace rsv {

enum class UpstreamProtocol { dns, tls, https };
const char *to_string(UpstreamProtocol protocol);

struct UpstreamServer {
  UpstreamProtocol protocol = UpstreamProtocol::dns;
  SocketAddress address;  // where to connect (port included)
  std::string auth_name;  // tls, https: the name in SNI and on the certificate
  std::string host;       // https: the URL's authority as sent in :authority
  std::string path;       // https: e.g. "/dns-query" (RFC 8484 4.1's URI template)

  bool encrypted() const { return protocol != UpstreamProtocol::dns; }
  // The text it was parsed from, in canonical form.
  std::string to_string() const;
  bool operator==(const UpstreamServer &) const = default;
};

inline constexpr uint16_t kDnsOverTlsPort = 853;    // RFC 7858 3.1
inline constexpr uint16_t kDnsOverHttpsPort = 443;  // RFC 8484 (https)

// nullopt with a reason in `error` for text that is none of the forms above.
std::optional<UpstreamServer> parse_upstream_server(std::string_view text, std::string *error);

}  // namespace rsv
