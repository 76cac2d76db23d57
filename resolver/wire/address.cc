#include "resolver/wire/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace rsv {

std::optional<SocketAddress> SocketAddress::from_sockaddr(const sockaddr *sa) {
  SocketAddress a;
  if (sa->sa_family == AF_INET)
    std::memcpy(&a.storage_, sa, sizeof(sockaddr_in));
  else if (sa->sa_family == AF_INET6)
    std::memcpy(&a.storage_, sa, sizeof(sockaddr_in6));
  else
    return std::nullopt;
  return a;
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text, uint16_t default_port) {
  std::string host(text);
  uint16_t port = default_port;
  auto parse_port = [&](std::string_view p) -> bool {
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || ptr != p.data() + p.size() || v == 0 || v > 65535) return false;
    port = static_cast<uint16_t>(v);
    return true;
  };
  if (auto at = text.rfind('@'); at != std::string_view::npos) {
    host = std::string(text.substr(0, at));
    if (!parse_port(text.substr(at + 1))) return std::nullopt;
  } else if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = std::string(text.substr(1, close - 1));
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':' || !parse_port(text.substr(close + 2))) return std::nullopt;
    }
  }
  SocketAddress a;
  auto *v4 = reinterpret_cast<sockaddr_in *>(&a.storage_);
  auto *v6 = reinterpret_cast<sockaddr_in6 *>(&a.storage_);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return a;
  }
  a.storage_ = {};
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return a;
  }
  return std::nullopt;
}

std::optional<SocketAddress> SocketAddress::from_rdata(std::string_view rdata, uint16_t port) {
  SocketAddress a;
  if (rdata.size() == 4) {
    auto *v4 = reinterpret_cast<sockaddr_in *>(&a.storage_);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    std::memcpy(&v4->sin_addr, rdata.data(), 4);
    return a;
  }
  if (rdata.size() == 16) {
    auto *v6 = reinterpret_cast<sockaddr_in6 *>(&a.storage_);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    std::memcpy(&v6->sin6_addr, rdata.data(), 16);
    return a;
  }
  return std::nullopt;
}

uint16_t SocketAddress::port() const {
  if (is_ipv4()) return ntohs(reinterpret_cast<const sockaddr_in *>(&storage_)->sin_port);
  if (is_ipv6()) return ntohs(reinterpret_cast<const sockaddr_in6 *>(&storage_)->sin6_port);
  return 0;
}

void SocketAddress::set_port(uint16_t port) {
  if (is_ipv4()) reinterpret_cast<sockaddr_in *>(&storage_)->sin_port = htons(port);
  if (is_ipv6()) reinterpret_cast<sockaddr_in6 *>(&storage_)->sin6_port = htons(port);
}

std::string_view SocketAddress::address_bytes() const {
  if (is_ipv4())
    return {reinterpret_cast<const char *>(&reinterpret_cast<const sockaddr_in *>(&storage_)->sin_addr), 4};
  if (is_ipv6())
    return {reinterpret_cast<const char *>(&reinterpret_cast<const sockaddr_in6 *>(&storage_)->sin6_addr), 16};
  return {};
}

bool SocketAddress::is_loopback() const {
  auto b = address_bytes();
  if (is_ipv4()) return static_cast<uint8_t>(b[0]) == 127;
  if (is_ipv6()) {
    static const char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (std::memcmp(b.data(), kLoopback, 16) == 0) return true;
    // IPv4-mapped loopback ::ffff:127.x.y.z
    static const char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\xff', '\xff'};
    return std::memcmp(b.data(), kMapped, 12) == 0 && static_cast<uint8_t>(b[12]) == 127;
  }
  return false;
}

std::string SocketAddress::host_text() const {
  char buf[INET6_ADDRSTRLEN] = {};
  auto b = address_bytes();
  if (b.empty()) return "?";
  inet_ntop(family(), b.data(), buf, sizeof buf);
  return buf;
}

std::string SocketAddress::to_string() const { return host_text() + "@" + std::to_string(port()); }

bool operator==(const SocketAddress &a, const SocketAddress &b) {
  return a.family() == b.family() && a.port() == b.port() && a.address_bytes() == b.address_bytes();
}

size_t SocketAddress::hash() const {
  size_t h = 1469598103934665603ULL ^ port();
  for (char c : address_bytes()) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  std::string host(text.substr(0, slash));
  Prefix p;
  char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    p.family_ = AF_INET;
    p.bytes_.assign(buf, 4);
  } else if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    p.family_ = AF_INET6;
    p.bytes_.assign(buf, 16);
  } else {
    return std::nullopt;
  }
  unsigned max = static_cast<unsigned>(p.bytes_.size() * 8);
  p.length_ = max;
  if (slash != std::string_view::npos) {
    auto len_text = text.substr(slash + 1);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), v);
    if (ec != std::errc() || ptr != len_text.data() + len_text.size() || v > max) return std::nullopt;
    p.length_ = v;
  }
  return p;
}

bool Prefix::contains(const SocketAddress &address) const {
  auto b = address.address_bytes();
  if (address.family() != family_) {
    // An IPv4-mapped IPv6 client (::ffff:a.b.c.d) matches IPv4 prefixes.
    static const char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\xff', '\xff'};
    if (family_ == AF_INET && address.is_ipv6() && std::memcmp(b.data(), kMapped, 12) == 0)
      b = b.substr(12);
    else
      return false;
  }
  unsigned full = length_ / 8, rest = length_ % 8;
  if (std::memcmp(b.data(), bytes_.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (static_cast<uint8_t>(b[full]) & mask) == (static_cast<uint8_t>(bytes_[full]) & mask);
}

std::string Prefix::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_, bytes_.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(length_);
}

}  // namespace rsv
