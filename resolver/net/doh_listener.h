// Client queries over DNS over HTTPS (RFC 8484): HTTP/2 (nghttp2) over TLS
// (TlsSession, ALPN "h2") over a libuv TCP socket.
//
// One request's path: bytes from the socket go through the TLS session into the
// connection's nghttp2 server session; its callbacks collect the request's method,
// path, content type and body per stream (DohRequest), and when the stream's request
// is complete, evaluate_doh_request() (doh_message.h) decides: an HTTP error (400,
// 404, 405, 413, 414, 415) is answered at once; a DNS query goes to
// QueryHandler::handle like a TCP query (no truncation). The reply, synchronous or
// deferred, goes back on its stream with content-type application/dns-message and
// cache-control max-age of its smallest TTL (RFC 8484 5.1), padded to 468 octets if
// the query was padded (RFC 8467). Streams are answered in any order.
//
// Limits, as for TCP (TcpLimits): max_connections per listener (the oldest idle
// connection makes room, else the newcomer is refused); an idle timeout (no stream
// open and nothing outstanding); SETTINGS_MAX_CONCURRENT_STREAMS and at most
// max_queries_per_connection queries being resolved per connection, past which the
// connection stops reading; a 16 KiB bound on a request's header block, 65535
// octets on its body, and 256 KiB on what all unfinished requests of a connection
// hold (a stream over it is refused); max_pending_write_bytes of replies waiting for a client that
// does not read. A protocol error closes the connection (GOAWAY); a stream over a
// limit is reset or answered with an error.
//
// Lifetime: as TcpListener (shared_ptr, destroyed on its loop's thread before the
// EventLoop, QueryHandler outlives it; reply channels hold weak references).
#pragma once

#include <cstdint>
#include <list>
#include <memory>

#include "resolver/base/counter.h"
#include "resolver/net/event_loop.h"
#include "resolver/net/listener.h"
#include "resolver/net/tcp_listener.h"
#include "resolver/wire/address.h"

namespace rsv {

struct DohServerBox;
class DohConnection;
class TlsContext;

struct DohListenerStats {
  Counter connections_accepted;
  Counter connections_refused;
  Counter connections_evicted;
  Counter connections_timed_out;
  Counter connections_not_reading;
  Counter tls_handshakes;
  Counter tls_handshake_failures;
  Counter http2_errors;      // not HTTP/2, or a protocol error: connection closed
  Counter requests;          // complete requests (streams)
  Counter queries;           // requests that carried a DNS query
  Counter http_errors;       // requests answered with a 4xx status
  Counter streams_reset;     // streams reset for exceeding a limit
  Counter replies_sent;
  Counter replies_dropped;   // the stream or connection was gone when the reply was ready
};

class DohListener : public std::enable_shared_from_this<DohListener> {
public:
  static constexpr size_t kMaxHeaderBlock = 16 * 1024;
  // Path, content type and body octets one connection's unfinished requests may hold.
  static constexpr size_t kMaxBufferedRequests = 256 * 1024;

  // Binds and listens (SO_REUSEPORT); throws std::runtime_error on failure.
  static std::shared_ptr<DohListener> create(EventLoop &loop, const SocketAddress &address, QueryHandler &handler,
                                             const TcpLimits &limits, std::shared_ptr<const TlsContext> tls);
  ~DohListener();
  DohListener(const DohListener &) = delete;
  DohListener &operator=(const DohListener &) = delete;

  void close();
  const SocketAddress &local_address() const { return local_address_; }
  size_t connection_count() const { return connections_.size(); }
  const DohListenerStats &stats() const { return stats_; }

private:
  struct PassKey {};

public:
  DohListener(PassKey, EventLoop &loop, QueryHandler &handler, const TcpLimits &limits,
              std::shared_ptr<const TlsContext> tls);

private:
  void open(const SocketAddress &address);
  void on_connection();
  bool make_room();
  void forget(DohConnection &connection);

  EventLoop &loop_;
  QueryHandler &handler_;
  TcpLimits limits_;
  std::shared_ptr<const TlsContext> tls_;
  DohServerBox *box_ = nullptr;
  SocketAddress local_address_;
  std::unique_ptr<uint8_t[]> read_buffer_;
  std::unique_ptr<uint8_t[]> reply_buffer_;
  std::list<std::shared_ptr<DohConnection>> connections_;  // oldest first
  DohListenerStats stats_;

  friend struct DohServerBox;
  friend class DohConnection;
};

}  // namespace rsv
