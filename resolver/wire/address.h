// Socket addresses of clients, listeners and authoritative servers, written
// "address@port" as in the configuration ("127.0.0.1@53", "::1@5353").
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rsv {

class SocketAddress {
public:
  SocketAddress() = default;
  static std::optional<SocketAddress> from_sockaddr(const sockaddr *sa);
  // "192.0.2.1", "192.0.2.1@53", "2001:db8::1", "2001:db8::1@53", "[2001:db8::1]:53".
  static std::optional<SocketAddress> parse(std::string_view text, uint16_t default_port = 53);
  // Raw address bytes (4 or 16) from an A or AAAA rdata.
  static std::optional<SocketAddress> from_rdata(std::string_view rdata, uint16_t port = 53);

  const sockaddr *sockaddr_ptr() const { return reinterpret_cast<const sockaddr *>(&storage_); }
  socklen_t length() const { return is_ipv6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in); }
  int family() const { return storage_.ss_family; }
  bool is_ipv6() const { return storage_.ss_family == AF_INET6; }
  bool is_ipv4() const { return storage_.ss_family == AF_INET; }
  uint16_t port() const;
  void set_port(uint16_t port);
  bool is_loopback() const;  // 127.0.0.0/8 or ::1
  std::string to_string() const;  // "127.0.0.1@53"
  std::string host_text() const;  // "127.0.0.1"
  // The address bytes (4 or 16), for prefix matching and hashing.
  std::string_view address_bytes() const;

  friend bool operator==(const SocketAddress &a, const SocketAddress &b);
  size_t hash() const;

private:
  sockaddr_storage storage_{};
};

struct SocketAddressHash {
  size_t operator()(const SocketAddress &a) const { return a.hash(); }
};

// A network prefix such as 127.0.0.0/8 or ::1/128.
class Prefix {
public:
  static std::optional<Prefix> parse(std::string_view text);
  bool contains(const SocketAddress &address) const;
  std::string to_string() const;

  bool operator==(const Prefix &) const = default;

private:
  int family_ = AF_INET;
  std::string bytes_;
  unsigned length_ = 0;
};

}  // namespace rsv
