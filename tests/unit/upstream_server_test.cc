// Forward-zone server specifications: plain DNS, DNS over TLS, DNS over HTTPS.
#include "resolver/config/upstream_server.h"

#include <gtest/gtest.h>

namespace rsv {
namespace {

UpstreamServer parse_ok(std::string_view text) {
  std::string error;
  auto server = parse_upstream_server(text, &error);
  EXPECT_TRUE(server) << text << ": " << error;
  return server.value_or(UpstreamServer{});
}

std::string parse_error(std::string_view text) {
  std::string error;
  auto server = parse_upstream_server(text, &error);
  EXPECT_FALSE(server) << text;
  return error;
}

TEST(UpstreamServer, PlainAddresses) {
  auto server = parse_ok("192.0.2.1");
  EXPECT_EQ(server.protocol, UpstreamProtocol::dns);
  EXPECT_EQ(server.address.to_string(), "192.0.2.1@53");
  EXPECT_EQ(parse_ok("2001:db8::1@5353").address.to_string(), "2001:db8::1@5353");
  EXPECT_EQ(parse_ok("192.0.2.1").to_string(), "192.0.2.1@53");
}

TEST(UpstreamServer, DnsOverTls) {
  auto server = parse_ok("192.0.2.1@853#dns.example");
  EXPECT_EQ(server.protocol, UpstreamProtocol::tls);
  EXPECT_EQ(server.address.to_string(), "192.0.2.1@853");
  EXPECT_EQ(server.auth_name, "dns.example");
  EXPECT_EQ(server.to_string(), "192.0.2.1@853#dns.example");
  // RFC 7858 3.1: port 853 unless given.
  EXPECT_EQ(parse_ok("192.0.2.1#dns.example").address.port(), 853);
  EXPECT_EQ(parse_ok("192.0.2.1@8853#dns.example").address.port(), 8853);
  EXPECT_NE(parse_error("192.0.2.1@853#").find("not a host name"), std::string::npos);
  EXPECT_NE(parse_error("192.0.2.1@853#bad name").find("not a host name"), std::string::npos);
  EXPECT_NE(parse_error("dns.example#dns.example").find("not an address"), std::string::npos);
}

TEST(UpstreamServer, DnsOverHttpsWithAnAddress) {
  auto server = parse_ok("https://dns.example/dns-query@127.0.0.1");
  EXPECT_EQ(server.protocol, UpstreamProtocol::https);
  EXPECT_EQ(server.address.to_string(), "127.0.0.1@443");
  EXPECT_EQ(server.auth_name, "dns.example");
  EXPECT_EQ(server.host, "dns.example");
  EXPECT_EQ(server.path, "/dns-query");
  EXPECT_EQ(server.to_string(), "https://dns.example/dns-query@127.0.0.1");

  auto ported = parse_ok("https://dns.example:8443/q/x@[2001:db8::1]");
  EXPECT_EQ(ported.address.to_string(), "2001:db8::1@8443");
  EXPECT_EQ(ported.host, "dns.example:8443");
  EXPECT_EQ(ported.path, "/q/x");
  EXPECT_EQ(ported.to_string(), "https://dns.example:8443/q/x@[2001:db8::1]");

  auto literal = parse_ok("https://127.0.0.2:8443/dns-query");
  EXPECT_EQ(literal.address.to_string(), "127.0.0.2@8443");
  EXPECT_EQ(literal.auth_name, "127.0.0.2");
  auto v6 = parse_ok("https://[::1]/dns-query");
  EXPECT_EQ(v6.address.to_string(), "::1@443");
}

TEST(UpstreamServer, DnsOverHttpsMistakes) {
  EXPECT_NE(parse_error("https://dns.example/dns-query").find("no address"), std::string::npos);
  EXPECT_NE(parse_error("https://dns.example@127.0.0.1").find("no path"), std::string::npos);
  EXPECT_NE(parse_error("https://dns.example/dns-query?dns=x@127.0.0.1").find("query"), std::string::npos);
  EXPECT_NE(parse_error("https://dns.example/dns-query@not-an-ip").find("not an IP"), std::string::npos);
  EXPECT_NE(parse_error("https://dns.example:0/q@127.0.0.1").find("port"), std::string::npos);
  EXPECT_NE(parse_error("https://dns.example:99999/q@127.0.0.1").find("port"), std::string::npos);
  EXPECT_NE(parse_error("https://bad_host!/q@127.0.0.1").find("neither"), std::string::npos);
  EXPECT_NE(parse_error("http://dns.example/dns-query@127.0.0.1").find("https"), std::string::npos);
  EXPECT_FALSE(parse_upstream_server("https://", nullptr));
  EXPECT_FALSE(parse_upstream_server("", nullptr));
}

}  // namespace
}  // namespace rsv
