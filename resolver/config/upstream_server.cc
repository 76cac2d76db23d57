#include "resolver/config/upstream_server.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "resolver/wire/name.h"

namespace rsv {

const char *to_string(UpstreamProtocol protocol) {
  switch (protocol) {
    case UpstreamProtocol::dns: return "dns";
    case UpstreamProtocol::tls: return "tls";
    case UpstreamProtocol::https: return "https";
  }
  return "dns";
}

namespace {

bool valid_host_name(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  auto name = Name::from_text(std::string(text));
  if (!name) return false;
  // Host names (RFC 952/1123): letters, digits, '-' and '.', as certificates carry.
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

// "[2001:db8::1]" or "192.0.2.1": an address literal for a URL host.
std::optional<SocketAddress> host_address(std::string_view host, uint16_t port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host.find_first_of("@[]") != std::string_view::npos) return std::nullopt;
  auto address = SocketAddress::parse(host, port);
  if (!address) return std::nullopt;
  address->set_port(port);
  return address;
}

std::optional<UpstreamServer> parse_https(std::string_view text, std::string *error) {
  auto fail = [&](std::string reason) -> std::optional<UpstreamServer> {
    *error = std::move(reason);
    return std::nullopt;
  };
  std::string_view rest = text.substr(8);  // after "https://"
  // The address to connect to, after the last '@' (when it parses as one).
  std::optional<SocketAddress> connect_to;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view tail = rest.substr(at + 1);
    if (tail.size() >= 2 && tail.front() == '[' && tail.back() == ']') tail = tail.substr(1, tail.size() - 2);
    connect_to = SocketAddress::parse(tail, 0);
    if (!connect_to || tail.find(':') == 0)
      return fail("'" + std::string(rest.substr(at + 1)) + "' after '@' is not an IP address");
    rest = rest.substr(0, at);
  }
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return fail("the URL has no path (expected e.g. https://dns.example/dns-query)");
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path = rest.substr(slash);
  if (path.find_first_of("?# \t") != std::string_view::npos)
    return fail("the URL path may not hold a query, a fragment or spaces");
  for (char c : path)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E)
      return fail("the URL path holds a character that is not printable ASCII");
  // host[:port], the host possibly "[v6]".
  std::string_view host = authority;
  uint16_t port = kDnsOverHttpsPort;
  const size_t close_bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (close_bracket == std::string_view::npos || colon > close_bracket)) {
    std::string_view port_text = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535)
      return fail("'" + std::string(port_text) + "' is not a port number");
    port = static_cast<uint16_t>(value);
    host = authority.substr(0, colon);
  }
  UpstreamServer server;
  server.protocol = UpstreamProtocol::https;
  server.path = std::string(path);
  server.host = std::string(authority);
  if (auto literal = host_address(host, port)) {
    server.auth_name = literal->host_text();
    if (!connect_to) connect_to = literal;
  } else if (valid_host_name(host)) {
    server.auth_name = std::string(host);
  } else {
    return fail("'" + std::string(host) + "' is neither a host name nor an IP address");
  }
  if (!connect_to)
    return fail("no address to connect to: write https://" + std::string(authority) + std::string(path) +
                "@ADDRESS (no bootstrap lookup is made)");
  connect_to->set_port(port);
  server.address = *connect_to;
  return server;
}

}  // namespace

std::optional<UpstreamServer> parse_upstream_server(std::string_view text, std::string *error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  if (text.starts_with("https://")) return parse_https(text, error);
  if (text.find("://") != std::string_view::npos) {
    *error = "only https:// URLs are understood";
    return std::nullopt;
  }
  UpstreamServer server;
  std::string_view address_text = text;
  if (size_t hash = text.find('#'); hash != std::string_view::npos) {
    server.protocol = UpstreamProtocol::tls;
    server.auth_name = std::string(text.substr(hash + 1));
    address_text = text.substr(0, hash);
    if (!valid_host_name(server.auth_name)) {
      *error = "'" + server.auth_name + "' after '#' is not a host name (the name on the server's certificate)";
      return std::nullopt;
    }
  }
  auto address = SocketAddress::parse(address_text, server.encrypted() ? kDnsOverTlsPort : 53);
  if (!address) {
    *error = "'" + std::string(address_text) + "' is not an address (expected e.g. 192.0.2.1@53, or " +
             "192.0.2.1@853#dns.example for DNS over TLS)";
    return std::nullopt;
  }
  server.address = *address;
  return server;
}

std::string UpstreamServer::to_string() const {
  switch (protocol) {
    case UpstreamProtocol::dns: return address.to_string();
    case UpstreamProtocol::tls: return address.to_string() + "#" + auth_name;
    case UpstreamProtocol::https: {
      std::string host_part = address.is_ipv6() ? "[" + address.host_text() + "]" : address.host_text();
      return "https://" + host + path + "@" + host_part;
    }
  }
  return address.to_string();
}

}  // namespace rsv
