// Client queries over UDP.
//
// Datagrams arrive in batches: the socket reads with recvmmsg, up to kBatch datagrams
// a system call, each in its own 64 KiB slice of the listener's receive buffer, until
// a call returns fewer than kBatch (the socket is then empty, and epoll, not another
// call, says when it is not). For each, a QueryContext on the stack points
// at it, at the client's address and at one of the listener's kBatch reply buffers, and
// QueryHandler::handle runs. A reply written at once joins the batch's replies, which
// leave together in one sendmmsg when the batch has been handled (or when kBatch are
// waiting): a cache hit costs no heap allocation, no copy and a fraction of two system
// calls. A handler that deferred holds a ReplyChannel whose reply is copied and leaves
// at the end of the loop's turn (EndOfTurn) with the other deferred replies of that
// turn, again in one sendmmsg: answers that complete together (an authority's replies
// read in one epoll round) wake the client's process once. A reply
// that finds the socket buffer full (EAGAIN) is copied and queued; the queue is bounded
// (UdpLimits): beyond it, replies are dropped and counted, as the network would drop
// them anyway and the client will retry.
//
// Each read tells the EventLoop how many datagrams it took: a turn that found only a
// few may make the loop pause before its next poll (receive coalescing, see
// EventLoop::set_coalescing_window), so that the next read finds more.
//
// Each worker thread binds its own UdpListener on the same address and port; the
// socket has SO_REUSEPORT so the kernel spreads datagrams over the threads.
//
// Queries wait in the socket's kernel receive buffer while the loop is busy or off
// the CPU; what does not fit is dropped by the kernel, silently. UdpSocketBuffers
// sizes that buffer (network.so-rcvbuf), and kernel_drops() reads the socket's own
// drop counter (SO_MEMINFO), so such losses are counted and not only guessed at.
//
// Lifetime: a UdpListener is owned by a shared_ptr (create()), must be destroyed on
// its loop's thread before the EventLoop, and its QueryHandler must outlive it.
// ReplyChannels hold only a weak reference: sending after the listener is closed or
// destroyed does nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "resolver/base/counter.h"
#include "resolver/net/event_loop.h"
#include "resolver/net/listener.h"
#include "resolver/wire/address.h"

namespace rsv {

struct UdpListenerBox;
struct UdpReadBox;

// Kernel buffer sizes asked for, in bytes; 0 leaves the system default. As Unbound
// does, SO_RCVBUFFORCE / SO_SNDBUFFORCE are tried first (they may exceed
// net.core.rmem_max / wmem_max and need CAP_NET_ADMIN, which the daemon still has
// while binding), then the plain options, which the kernel silently caps.
struct UdpSocketBuffers {
  uint64_t receive = 0;
  uint64_t send = 0;
};

struct UdpListenerStats {
  Counter datagrams_received;
  Counter replies_sent;
  Counter send_batches;  // sendmmsg calls that sent at least one reply
  Counter replies_queued;  // the socket was full: sent later from a copy
  Counter queue_full_dropped;  // the socket was full and so was the queue
  Counter deferred;
  Counter dropped;
  Counter send_errors;
  Counter receive_errors;
};

struct UdpLimits {
  // Replies waiting for room in the socket buffer, by count and by bytes.
  size_t max_queued_replies = 1024;
  size_t max_queued_bytes = 1 << 20;
};

class UdpListener : public std::enable_shared_from_this<UdpListener> {
public:
  static constexpr size_t kBufferSize = 65535;
  // Datagrams read by one recvmmsg, and replies sent by one sendmmsg. Each costs a
  // 64 KiB receive slice and a reply buffer (8 MiB of address space a listener;
  // untouched pages are never resident, so about a page of each, 512 KiB, is). 64,
  // not 16: under load (tests/bench/speed.sh cached) a wake finds about 11 queries
  // waiting, and with 16 four wakes in ten needed a second recvmmsg and sendmmsg
  // (perf stat: 1.42 recvmmsg per epoll_wait with 16, 1.07 with 64), and the CPU per
  // cached answer was 2-8 % higher.
  static constexpr size_t kBatch = 64;

  // Binds `address` (port 0: the OS chooses; see local_address()) with SO_REUSEPORT
  // and, for IPv6, IPV6_V6ONLY, and starts receiving. Throws std::runtime_error when
  // the socket cannot be bound (start-up only).
  static std::shared_ptr<UdpListener> create(EventLoop &loop, const SocketAddress &address,
                                             QueryHandler &handler, const UdpLimits &limits = {},
                                             UdpSocketBuffers buffers = {});
  ~UdpListener();
  UdpListener(const UdpListener &) = delete;
  UdpListener &operator=(const UdpListener &) = delete;

  // Sends the replies of the batch so far, stops receiving and closes the socket;
  // later ReplyChannel sends are dropped.
  void close();
  bool is_open() const { return box_ != nullptr; }

  // The bound address, with the port the OS chose if 0 was asked for. This is also
  // QueryContext::local (a wildcard bind reports the wildcard, not the destination).
  const SocketAddress &local_address() const { return local_address_; }
  const UdpListenerStats &stats() const { return stats_; }
  const UdpLimits &limits() const { return limits_; }

  // The buffer sizes the kernel granted, in the units asked for (the kernel reports
  // twice the usable size, its bookkeeping included; this is half of that), read back
  // after setting them. Below what was asked when the kernel capped the request.
  uint64_t receive_buffer_size() const { return granted_.receive; }
  uint64_t send_buffer_size() const { return granted_.send; }
  // Datagrams the kernel dropped on this socket since it was opened, almost always
  // because the receive buffer was full (SO_MEMINFO's SK_MEMINFO_DROPS; 0 once closed).
  uint64_t kernel_drops() const;

  // Sends one datagram to `client` now, or queues a copy when the socket is full.
  void send_to(const SocketAddress &client, std::string_view wire);
  // The deferred path: copies the reply, which leaves at the end of the loop's turn
  // (or when kBatch are waiting) with the turn's other deferred replies.
  void send_at_end_of_turn(const SocketAddress &client, std::string_view wire);

  // Tests only: the next `sends` sends find the socket buffer full (EAGAIN), which a
  // loopback socket never does (the kernel frees a loopback datagram's buffer space
  // as it is sent), so the queue and its bound can be tested.
  // With `sent_first`, a batch's sendmmsg first sends that many replies for real and
  // then finds the socket full, as a burst that fills the buffer midway does.
  void pretend_socket_full_for_testing(unsigned sends, unsigned sent_first = 0) {
    pretend_full_sends_ = sends;
    pretend_sent_first_ = sent_first;
  }

private:
  struct PassKey {};

public:
  UdpListener(PassKey, EventLoop &loop, QueryHandler &handler, const UdpLimits &limits);

private:
  void open(EventLoop &loop, const SocketAddress &address, UdpSocketBuffers buffers);
  // Reads what the socket holds (recvmmsg, kBatch a call, a few calls at most),
  // handles each datagram and sends the replies.
  void read_datagrams();
  void on_datagram(const uint8_t *data, size_t size, const void *client_sockaddr);
  // Sends the replies of the batch so far, in one sendmmsg when nothing is queued.
  void flush_replies();
  void flush_deferred_replies();
  // Sends replies 0 .. count-1 (reply_at(i), client_at(i)) in sendmmsg calls; what the
  // socket cannot take, and everything while earlier replies are queued, goes through
  // send_to's bounded queue.
  template <typename ReplyAt, typename ClientAt>
  void send_replies(size_t count, ReplyAt reply_at, ClientAt client_at);

  EventLoop &loop_;  // told each read's datagram count (receive coalescing)
  QueryHandler &handler_;
  UdpLimits limits_;
  UdpListenerBox *box_ = nullptr;
  UdpReadBox *reader_ = nullptr;
  SocketAddress local_address_;
  UdpSocketBuffers granted_;
  UdpListenerStats stats_;
  unsigned pretend_full_sends_ = 0;
  unsigned pretend_sent_first_ = 0;
  // Deferred replies waiting for the end of the turn: [0, deferred_count_) of
  // deferred_; the strings keep their capacity from turn to turn.
  struct DeferredReply {
    SocketAddress client;
    std::string wire;
  };
  std::vector<DeferredReply> deferred_;
  size_t deferred_count_ = 0;
  std::unique_ptr<EndOfTurn> deferred_flush_;

  friend struct UdpListenerBox;
  friend class UdpQueryContext;
};

}  // namespace rsv
