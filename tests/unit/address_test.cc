#include "resolver/wire/address.h"

#include <arpa/inet.h>

#include <cstring>

#include <gtest/gtest.h>

namespace rsv {
namespace {

SocketAddress address(std::string_view text) {
  auto parsed = SocketAddress::parse(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(SocketAddress{});
}

Prefix prefix(std::string_view text) {
  auto parsed = Prefix::parse(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(Prefix{});
}

TEST(SocketAddress, ParsesIpv4WithAndWithoutPort) {
  auto plain = address("1.2.3.4");
  EXPECT_TRUE(plain.is_ipv4());
  EXPECT_FALSE(plain.is_ipv6());
  EXPECT_EQ(plain.family(), AF_INET);
  EXPECT_EQ(plain.port(), 53);
  EXPECT_EQ(plain.host_text(), "1.2.3.4");
  EXPECT_EQ(plain.to_string(), "1.2.3.4@53");
  EXPECT_EQ(plain.length(), sizeof(sockaddr_in));
  EXPECT_EQ(plain.address_bytes(), std::string_view("\x01\x02\x03\x04", 4));

  auto with_port = address("1.2.3.4@5353");
  EXPECT_EQ(with_port.port(), 5353);
  EXPECT_EQ(with_port.to_string(), "1.2.3.4@5353");
  EXPECT_EQ(SocketAddress::parse("1.2.3.4", 853)->port(), 853);
}

TEST(SocketAddress, ParsesIpv6Forms) {
  auto plain = address("2001:db8::1");
  EXPECT_TRUE(plain.is_ipv6());
  EXPECT_EQ(plain.port(), 53);
  EXPECT_EQ(plain.length(), sizeof(sockaddr_in6));
  EXPECT_EQ(plain.address_bytes().size(), 16u);

  auto at = address("::1@5353");
  EXPECT_EQ(at.host_text(), "::1");
  EXPECT_EQ(at.port(), 5353);
  EXPECT_EQ(at.to_string(), "::1@5353");

  auto bracketed = address("[::1]:53");
  EXPECT_EQ(bracketed.host_text(), "::1");
  EXPECT_EQ(bracketed.port(), 53);
  EXPECT_EQ(address("[2001:db8::2]:8053").port(), 8053);
  EXPECT_EQ(address("[::1]").port(), 53);
  EXPECT_EQ(bracketed, address("::1@53"));
}

TEST(SocketAddress, RejectsBadPortsAndHosts) {
  for (const char *text : {"1.2.3.4@",       "1.2.3.4@0",   "1.2.3.4@65536", "1.2.3.4@99999999999",
                           "1.2.3.4@-1",     "1.2.3.4@+53", "1.2.3.4@53x",   "1.2.3.4@ 53",
                           "[::1]:",         "[::1]:0",     "[::1]:65536",   "[::1]x",
                           "[::1",           "[::1]:5x",    "::1@abc",       "",
                           "1.2.3",          "1.2.3.4.5",   "256.1.1.1",     "example.com",
                           "example.com@53", "1.2.3.4:53",  "fe80::1%lo@53"})
    EXPECT_FALSE(SocketAddress::parse(text)) << text;
  EXPECT_TRUE(SocketAddress::parse("1.2.3.4@65535"));
  EXPECT_TRUE(SocketAddress::parse("1.2.3.4@1"));
}

TEST(SocketAddress, RoundTripsThroughSockaddr) {
  auto original = address("::1@5300");
  auto copy = SocketAddress::from_sockaddr(original.sockaddr_ptr());
  ASSERT_TRUE(copy);
  EXPECT_EQ(*copy, original);
  EXPECT_EQ(copy->hash(), original.hash());

  sockaddr unix_like{};
  unix_like.sa_family = AF_UNIX;
  EXPECT_FALSE(SocketAddress::from_sockaddr(&unix_like));
}

TEST(SocketAddress, BuildsFromAddressRdata) {
  auto v4 = SocketAddress::from_rdata(std::string("\xC0\x00\x02\x01", 4));
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->to_string(), "192.0.2.1@53");
  auto v6 = SocketAddress::from_rdata(std::string(15, '\0') + "\1", 5353);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "::1@5353");
  EXPECT_FALSE(SocketAddress::from_rdata("abc"));
  EXPECT_FALSE(SocketAddress::from_rdata(""));
}

TEST(SocketAddress, EqualityCoversFamilyAddressAndPort) {
  EXPECT_EQ(address("127.0.0.1@53"), address("127.0.0.1"));
  EXPECT_FALSE(address("127.0.0.1@53") == address("127.0.0.1@54"));
  EXPECT_FALSE(address("127.0.0.1") == address("127.0.0.2"));
  EXPECT_FALSE(address("::ffff:127.0.0.1") == address("127.0.0.1"));
  EXPECT_NE(address("127.0.0.1@53").hash(), address("127.0.0.1@54").hash());
  EXPECT_EQ(SocketAddressHash{}(address("10.0.0.1")), address("10.0.0.1").hash());
}

TEST(SocketAddress, SetPortKeepsTheAddress) {
  auto a = address("10.1.2.3");
  a.set_port(8053);
  EXPECT_EQ(a.to_string(), "10.1.2.3@8053");
  auto b = address("::2");
  b.set_port(1);
  EXPECT_EQ(b.to_string(), "::2@1");
}

TEST(SocketAddress, RecognisesLoopback) {
  EXPECT_TRUE(address("127.0.0.1").is_loopback());
  EXPECT_TRUE(address("127.77.0.1").is_loopback());
  EXPECT_TRUE(address("127.255.255.255").is_loopback());
  EXPECT_TRUE(address("::1").is_loopback());
  EXPECT_TRUE(address("::ffff:127.0.0.5").is_loopback());
  EXPECT_FALSE(address("128.0.0.1").is_loopback());
  EXPECT_FALSE(address("126.255.255.255").is_loopback());
  EXPECT_FALSE(address("::2").is_loopback());
  EXPECT_FALSE(address("::ffff:10.0.0.1").is_loopback());
  EXPECT_FALSE(address("::127.0.0.1").is_loopback());  // IPv4-compatible, not mapped
  EXPECT_FALSE(SocketAddress{}.is_loopback());
}

TEST(SocketAddress, DefaultHasNoFamily) {
  SocketAddress empty;
  EXPECT_FALSE(empty.is_ipv4());
  EXPECT_FALSE(empty.is_ipv6());
  EXPECT_EQ(empty.port(), 0);
  EXPECT_TRUE(empty.address_bytes().empty());
  EXPECT_EQ(empty.host_text(), "?");
}

TEST(Prefix, MatchesIpv4Prefixes) {
  auto loopback = prefix("127.0.0.0/8");
  EXPECT_TRUE(loopback.contains(address("127.0.0.1")));
  EXPECT_TRUE(loopback.contains(address("127.255.0.9@5353")));
  EXPECT_FALSE(loopback.contains(address("128.0.0.1")));
  EXPECT_EQ(loopback.to_string(), "127.0.0.0/8");

  auto host = prefix("192.0.2.7");  // no length: a single host
  EXPECT_EQ(host.to_string(), "192.0.2.7/32");
  EXPECT_TRUE(host.contains(address("192.0.2.7")));
  EXPECT_FALSE(host.contains(address("192.0.2.6")));
}

TEST(Prefix, ZeroLengthMatchesItsWholeFamily) {
  auto all_v4 = prefix("0.0.0.0/0");
  EXPECT_TRUE(all_v4.contains(address("1.2.3.4")));
  EXPECT_TRUE(all_v4.contains(address("255.255.255.255")));
  EXPECT_FALSE(all_v4.contains(address("::1")));
  auto all_v6 = prefix("::/0");
  EXPECT_TRUE(all_v6.contains(address("2001:db8::1")));
  EXPECT_TRUE(all_v6.contains(address("::1")));
  EXPECT_FALSE(all_v6.contains(address("1.2.3.4")));
}

TEST(Prefix, LengthsThatAreNotWholeOctets) {
  // 10.0.0.0/7 covers 10.x and 11.x only.
  auto seven = prefix("10.0.0.0/7");
  EXPECT_TRUE(seven.contains(address("10.200.1.1")));
  EXPECT_TRUE(seven.contains(address("11.0.0.1")));
  EXPECT_FALSE(seven.contains(address("12.0.0.1")));
  EXPECT_FALSE(seven.contains(address("9.255.255.255")));

  auto twenty_five = prefix("192.0.2.128/25");
  EXPECT_TRUE(twenty_five.contains(address("192.0.2.200")));
  EXPECT_FALSE(twenty_five.contains(address("192.0.2.127")));

  auto v6 = prefix("2001:db8::/33");
  EXPECT_TRUE(v6.contains(address("2001:db8:7fff::1")));
  EXPECT_FALSE(v6.contains(address("2001:db8:8000::1")));

  // Host bits set in the prefix itself are ignored beyond the length.
  EXPECT_TRUE(prefix("10.1.2.3/8").contains(address("10.9.9.9")));
}

TEST(Prefix, Ipv4MappedClientsMatchIpv4Prefixes) {
  // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
  auto loopback = prefix("127.0.0.0/8");
  EXPECT_TRUE(loopback.contains(address("::ffff:127.0.0.1")));
  EXPECT_FALSE(loopback.contains(address("::ffff:10.0.0.1")));
  EXPECT_FALSE(loopback.contains(address("::1")));
  EXPECT_FALSE(prefix("10.0.0.0/8").contains(address("::a00:1")));  // IPv4-compatible form
  EXPECT_TRUE(prefix("::ffff:0:0/96").contains(address("::ffff:10.0.0.1")));
}

TEST(Prefix, Ipv6HostAndLoopback) {
  auto one = prefix("::1/128");
  EXPECT_TRUE(one.contains(address("::1@5353")));
  EXPECT_FALSE(one.contains(address("::2")));
  EXPECT_EQ(prefix("::1").to_string(), "::1/128");
}

TEST(Prefix, RejectsMalformedText) {
  for (const char *text : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8x",
                           "10.0.0.0/ 8", "10.0.0/8", "example/8", "10.0.0.0/8/8"})
    EXPECT_FALSE(Prefix::parse(text)) << text;
  EXPECT_TRUE(Prefix::parse("10.0.0.0/32"));
  EXPECT_TRUE(Prefix::parse("::/128"));
}

TEST(Prefix, DoesNotMatchAnAddresslessSocket) {
  EXPECT_FALSE(prefix("0.0.0.0/0").contains(SocketAddress{}));
  EXPECT_FALSE(prefix("::/0").contains(SocketAddress{}));
}

}  // namespace
}  // namespace rsv
