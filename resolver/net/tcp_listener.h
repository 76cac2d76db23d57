// Client queries over TCP (RFC 7766, RFC 1035 4.2.2 framing).
//
// One connection's path: the listener accepts it (or, at max_tcp_connections, closes
// the oldest idle connection to make room, or refuses the newcomer if none is idle);
// bytes are read into the listener's shared 64 KiB buffer and split into 2-byte-length
// frames. Every complete frame goes to QueryHandler::handle at once, without waiting
// for earlier answers (RFC 7766 6.2.1.1 pipelining); leftover partial frames are kept
// per connection. A reply written synchronously is framed and written straight from
// the context buffer; deferred replies are written whenever they complete, in any
// order (RFC 7766 7). At max_tcp_queries_per_connection deferred queries the
// connection stops reading until replies drain. A connection with nothing outstanding
// is closed after tcp_idle_timeout_ms without new input (RFC 7766 6.2.3), whether or
// not its replies have all been written: a client that stops reading loses its slot
// then, or at once when max_pending_write_bytes of replies wait for it. Framing and
// its limits are TcpFrameReader's (tcp_framing.h): a frame shorter than a DNS header
// (including length 0) means the stream is not DNS, and the connection is closed. A
// client that half-closes still gets the answers it is owed.
//
// Lifetime: TcpListener is owned by a shared_ptr (create()), must be destroyed on its
// loop's thread before the EventLoop, and its QueryHandler must outlive it. Each
// connection is reference-counted; a ReplyChannel holds only a weak reference, so a
// send after the client left (or after the listener closed) is dropped. A deferred
// ReplyChannel destroyed without sending frees its slot as if the query were dropped.
//
// DNS over TLS (RFC 7858) is the same listener given a TlsContext: each connection
// then runs a TlsSession (tls_session.h) between the socket and the framing, and
// everything above (limits, idle timer, pipelining, out-of-order replies, eviction)
// is unchanged, as RFC 7858 3.3 asks (RFC 7766's rules). The handshake counts as
// idle time: a client that never finishes it is closed at the idle timeout. Replies
// to queries that carried an EDNS Padding option are padded to 468 octets (RFC
// 8467 4.1, edns_padding.h); plain TCP never pads.
#pragma once

#include "resolver/base/counter.h"
#include <cstdint>
#include <list>
#include <memory>

#include "resolver/config/config.h"
#include "resolver/net/event_loop.h"
#include "resolver/net/listener.h"
#include "resolver/wire/address.h"

namespace rsv {

struct TcpServerBox;
class TcpConnection;
class TlsContext;

struct TcpListenerStats {
  Counter connections_accepted;
  Counter connections_refused;    // the cap was reached and no connection was idle
  Counter connections_evicted;    // idle, closed to make room for a new one
  Counter connections_timed_out;  // idle for tcp_idle_timeout_ms
  Counter connections_bad_frame;  // a frame shorter than a DNS header
  // Closed with replies the client did not read: its write queue passed
  // max_pending_write_bytes, or replies were still unwritten at the idle timeout.
  Counter connections_not_reading;
  Counter queries_received;
  Counter replies_sent;
  Counter replies_dropped;  // the connection was gone when the reply was ready
  Counter write_errors;
  Counter tls_handshakes;          // TLS only: handshakes completed
  Counter tls_handshake_failures;  // TLS only: not TLS, a failed handshake, or a bad record
};

struct TcpLimits {
  uint32_t idle_timeout_ms = 10000;
  uint32_t max_connections = 256;
  uint32_t max_queries_per_connection = 64;
  // A client that does not read its answers is disconnected once this many reply
  // bytes are waiting in its socket's queue.
  size_t max_pending_write_bytes = 1 << 20;

  static TcpLimits from(const NetworkConfig &network) {
    TcpLimits limits;
    limits.idle_timeout_ms = network.tcp_idle_timeout_ms;
    limits.max_connections = network.max_tcp_connections;
    limits.max_queries_per_connection = network.max_tcp_queries_per_connection;
    return limits;
  }
};

class TcpListener : public std::enable_shared_from_this<TcpListener> {
public:
  static constexpr size_t kMaxMessageSize = 65535;

  // Binds `address` (port 0: the OS chooses) with SO_REUSEPORT and, for IPv6,
  // IPV6_V6ONLY, and listens. Throws std::runtime_error on failure (start-up only).
  // With `tls` (a server context), every connection speaks DNS over TLS.
  static std::shared_ptr<TcpListener> create(EventLoop &loop, const SocketAddress &address,
                                             QueryHandler &handler, const TcpLimits &limits,
                                             std::shared_ptr<const TlsContext> tls = nullptr);
  ~TcpListener();
  TcpListener(const TcpListener &) = delete;
  TcpListener &operator=(const TcpListener &) = delete;

  // Stops accepting and closes every connection (their pending replies are dropped).
  void close();
  bool is_open() const { return box_ != nullptr; }

  const SocketAddress &local_address() const { return local_address_; }
  size_t connection_count() const { return connections_.size(); }
  const TcpListenerStats &stats() const { return stats_; }
  const TcpLimits &limits() const { return limits_; }
  bool encrypted() const { return tls_ != nullptr; }

private:
  struct PassKey {};

public:
  TcpListener(PassKey, EventLoop &loop, QueryHandler &handler, const TcpLimits &limits,
              std::shared_ptr<const TlsContext> tls);

private:
  void open(const SocketAddress &address);
  void on_connection();
  bool make_room();
  void forget(TcpConnection &connection);

  EventLoop &loop_;
  QueryHandler &handler_;
  TcpLimits limits_;
  std::shared_ptr<const TlsContext> tls_;
  TcpServerBox *box_ = nullptr;
  SocketAddress local_address_;
  // Shared by all connections: reads and synchronous replies are handled to completion
  // before the loop moves on, so one of each is enough.
  std::unique_ptr<uint8_t[]> read_buffer_;
  std::unique_ptr<uint8_t[]> reply_buffer_;
  // Oldest first: eviction looks for the oldest idle connection.
  std::list<std::shared_ptr<TcpConnection>> connections_;
  TcpListenerStats stats_;

  friend struct TcpServerBox;
  friend class TcpConnection;
};

}  // namespace rsv
