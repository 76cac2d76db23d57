// echo_server: the fastest "resolver" this machine can have, for tests/bench/speed.sh.
//
//   echo_server ADDRESS@PORT [THREADS [COALESCE_USECS]]   e.g. echo_server 127.79.0.3@53 2 100
//
// Each UDP query is turned around as it came: the same ID, flags with QR set
// (RFC 1035 4.1.1), the question section, and nothing else (no answer, no EDNS). A
// resolver answering from its cache does this plus a lookup and a copy, so the echo
// server's rate in the same run is the ceiling a resolver is measured against. To be
// a fair ceiling it batches like the best resolvers do: one recvmmsg takes every
// query waiting (up to kBatch), one sendmmsg sends the replies. With THREADS > 1 each
// thread has its own socket on the same address (SO_REUSEPORT), and the kernel
// spreads clients over them, as resolverd and unbound do with several threads.
// COALESCE_USECS (default 0, off) pauses as resolverd's network.udp-coalesce-usecs
// does, by the same policy (resolver/net/receive_coalescing.h: after a read of 2 to
// 15 datagrams while they arrive fast), so that the ceiling has the same wakes per
// query as a resolver that coalesces.
// Runs until killed. Loopback benchmarking only: it answers anyone who asks.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "resolver/net/receive_coalescing.h"

namespace {

constexpr size_t kBatch = 64;
constexpr size_t kMaxMessage = 4096;  // a longer query is cut: only its header and question count
constexpr size_t kHeader = 12;

// The loop's clock as resolverd's has it (libuv's uv_now: milliseconds).
uint64_t now_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000 + static_cast<uint64_t>(now.tv_nsec) / 1000000;
}

// Length of header + question of a query, or 0 when it holds no complete single
// question (then the reply is a bare header with FORMERR, RFC 1035 4.1.1).
size_t question_end(const uint8_t *message, size_t length) {
  if (length < kHeader || message[4] != 0 || message[5] != 1)  // QDCOUNT must be 1
    return 0;
  size_t at = kHeader;
  while (at < length && message[at] != 0) {
    if ((message[at] & 0xC0) != 0)  // no compression in a query's only question
      return 0;
    at += 1 + message[at];
  }
  at += 1 + 4;  // the root label, QTYPE and QCLASS
  return at <= length ? at : 0;
}

// Turns a query into its reply in place and returns the reply's length.
size_t make_reply(uint8_t *message, size_t length) {
  if (length < kHeader) return 0;  // not even a header: nothing to answer
  const size_t end = question_end(message, length);
  message[2] |= 0x80;              // QR
  message[3] &= 0xF0;              // RCODE NOERROR, then FORMERR below if need be
  std::memset(message + 6, 0, 6);  // ANCOUNT, NSCOUNT, ARCOUNT (the OPT record is dropped)
  if (end == 0) {
    message[3] |= 1;  // FORMERR
    std::memset(message + 4, 0, 2);
    return kHeader;
  }
  return end;
}

struct Listener {
  sockaddr_storage address{};
  socklen_t address_length = 0;
};

bool parse_address(const std::string &text, Listener &out) {
  const size_t at = text.rfind('@');
  if (at == std::string::npos) return false;
  const std::string host = text.substr(0, at);
  const long port = std::strtol(text.c_str() + at + 1, nullptr, 10);
  if (port <= 0 || port > 65535) return false;
  auto *v4 = reinterpret_cast<sockaddr_in *>(&out.address);
  auto *v6 = reinterpret_cast<sockaddr_in6 *>(&out.address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    out.address_length = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    out.address_length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// Owns one socket descriptor.
class Socket {
public:
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket(const Socket &) = delete;
  Socket &operator=(const Socket &) = delete;
  Socket &operator=(Socket &&) = delete;
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

private:
  int fd_;
};

// A UDP socket bound to the listener's address, or one whose fd() is -1 after saying why.
Socket open_socket(const Listener &listener, const char *text) {
  Socket bound(socket(listener.address.ss_family, SOCK_DGRAM, 0));
  const int one = 1;
  // The same receive buffer as resolverd's default (network.so-rcvbuf: 1M), so that
  // bursts are absorbed alike.
  const int buffer = 1 << 20;
  if (bound.fd() < 0 || setsockopt(bound.fd(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      setsockopt(bound.fd(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer) != 0 ||
      bind(bound.fd(), reinterpret_cast<const sockaddr *>(&listener.address), listener.address_length) != 0) {
    std::fprintf(stderr, "echo_server: cannot bind %s: %s\n", text, std::strerror(errno));
    return Socket(-1);
  }
  return bound;
}

void serve(int fd, long coalesce_usecs) {
  // As resolverd: the sleep is the length asked for, not stretched by 50 us of slack.
  if (coalesce_usecs > 0) prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  rsv::ReceiveCoalescing coalescing;
  coalescing.set_window(static_cast<uint32_t>(coalesce_usecs));
  std::vector<std::array<uint8_t, kMaxMessage>> buffers(kBatch);
  std::array<sockaddr_storage, kBatch> peers{};
  std::array<iovec, kBatch> vectors{};
  std::array<mmsghdr, kBatch> messages{};
  for (;;) {
    for (size_t i = 0; i < kBatch; ++i) {
      vectors[i] = {buffers[i].data(), kMaxMessage};
      messages[i].msg_hdr = {};
      messages[i].msg_hdr.msg_name = &peers[i];
      messages[i].msg_hdr.msg_namelen = sizeof peers[i];
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    // Blocks for the first datagram, then takes whatever else is already queued.
    const int received = recvmmsg(fd, messages.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (received < 0) {
      if (errno == EINTR) continue;
      std::perror("echo_server: recvmmsg");
      return;
    }
    // Replies are packed to the front: a datagram too short to answer is skipped.
    unsigned replies = 0;
    for (int i = 0; i < received; ++i) {
      const size_t length = make_reply(buffers[i].data(), messages[i].msg_len);
      if (length == 0) continue;
      vectors[i].iov_len = length;
      if (replies != static_cast<unsigned>(i)) messages[replies].msg_hdr = messages[i].msg_hdr;
      ++replies;
    }
    for (unsigned sent = 0; sent < replies;) {
      const int n = sendmmsg(fd, messages.data() + sent, replies - sent, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;  // e.g. a full send buffer: the rest are lost, as a real server's would be
      }
      sent += static_cast<unsigned>(n);
    }
    if (const uint32_t pause_us = coalescing.after_turn(static_cast<size_t>(received), now_ms());
        pause_us > 0) {
      const timespec pause{0, static_cast<long>(pause_us) * 1000L};
      clock_nanosleep(CLOCK_MONOTONIC, 0, &pause, nullptr);
    }
  }
}

}  // namespace

int main(int argc, char **argv) {
  Listener listener;
  const long threads = argc >= 3 ? std::strtol(argv[2], nullptr, 10) : 1;
  const long coalesce_usecs = argc == 4 ? std::strtol(argv[3], nullptr, 10) : 0;
  if (argc < 2 || argc > 4 || !parse_address(argv[1], listener) || threads < 1 || threads > 64 ||
      coalesce_usecs < 0 || coalesce_usecs > 1000) {
    std::fprintf(stderr, "usage: echo_server ADDRESS@PORT [THREADS 1..64 [COALESCE_USECS 0..1000]]\n");
    return 2;
  }
  // Every socket is bound before any thread serves, so a failure shows at start.
  std::vector<Socket> sockets;
  for (long i = 0; i < threads; ++i) {
    sockets.push_back(open_socket(listener, argv[1]));
    if (sockets.back().fd() < 0) return 1;
  }
  std::vector<std::thread> workers;
  for (const Socket &listening : sockets) workers.emplace_back(serve, listening.fd(), coalesce_usecs);
  for (auto &worker : workers) worker.join();
  return 0;
}
