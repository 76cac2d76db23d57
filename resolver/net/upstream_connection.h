// Internal to resolver/net: one client connection of EncryptedUpstream to an
// encrypted forwarder, and the two protocols spoken on it.
//
// UpstreamConnection owns the libuv TCP socket and the TlsSession and keeps the
// list of queries (by EncryptedUpstream key) that wait for the handshake. Once the
// peer is authenticated, a protocol takes over: DotConnection (RFC 7858 framing,
// IDs unique per connection) or DohClientConnection (HTTP/2 streams, nghttp2).
// A connection that closes reports each query it still held to the upstream, which
// may retry it once on a fresh connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "resolver/config/upstream_server.h"
#include "resolver/net/encrypted_upstream.h"
#include "resolver/net/tls_session.h"

namespace rsv {

struct UpstreamSocketBox;

class UpstreamConnection : public std::enable_shared_from_this<UpstreamConnection> {
public:
  UpstreamConnection(EncryptedUpstream &upstream, EncryptedEndpoint &endpoint, std::shared_ptr<const TlsContext> tls);
  virtual ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection &) = delete;
  UpstreamConnection &operator=(const UpstreamConnection &) = delete;

  // Connects; false if the socket could not even be started.
  bool start(EventLoop &loop);
  // Sends the query `key` (after the handshake, if still under way).
  void add(uint64_t key);
  // The query `key` is over (timed out): forget it.
  void remove(uint64_t key);
  // Closes; `failed`: the queries still held may be retried or fail.
  void close(bool failed);
  bool closed() const { return box_ == nullptr; }
  size_t load() const { return waiting_.size() + in_flight(); }

  void on_connected(int status);
  void on_read(ssize_t nread, const char *data);

protected:
  virtual void on_open() = 0;
  virtual void send_query(uint64_t key) = 0;
  virtual void on_plaintext(const uint8_t *data, size_t size) = 0;
  virtual void forget_query(uint64_t key) = 0;
  virtual size_t in_flight() const = 0;
  virtual std::vector<uint64_t> in_flight_keys() const = 0;
  // Called before the TLS close_notify: a protocol's goodbye (HTTP/2 GOAWAY).
  virtual void say_goodbye() {}

  bool write_plain(const uint8_t *data, size_t size);
  EncryptedUpstreamStats &stats() { return upstream_.stats_; }
  void flush();
  // A query's reply arrived: the connection has proven itself, and maybe gone idle.
  void delivered(uint64_t key, std::string wire);
  void settle();

  EncryptedUpstream &upstream_;
  EncryptedEndpoint &endpoint_;
  std::unique_ptr<TlsSession> tls_;
  bool used_ = false;  // a reply has come back on it

private:
  void pump();

  UpstreamSocketBox *box_ = nullptr;
  std::unique_ptr<Timer> idle_timer_;
  std::vector<uint64_t> waiting_;  // sent once the handshake is done
  bool open_ = false;
};

std::shared_ptr<UpstreamConnection> make_dot_connection(EncryptedUpstream &upstream, EncryptedEndpoint &endpoint,
                                                        std::shared_ptr<const TlsContext> tls);
std::shared_ptr<UpstreamConnection> make_doh_connection(EncryptedUpstream &upstream, EncryptedEndpoint &endpoint,
                                                        std::shared_ptr<const TlsContext> tls,
                                                        const UpstreamServer &server);

// One encrypted server of a forward zone: its settings and current connection.
class EncryptedEndpoint {
public:
  EncryptedEndpoint(EncryptedUpstream &upstream, UpstreamServer server, std::shared_ptr<const TlsContext> tls)
      : upstream_(upstream), server_(std::move(server)), tls_(std::move(tls)) {}
  ~EncryptedEndpoint();

  // Sends the query on the current connection, or a new one. False when no
  // connection can be had (TLS settings failed to load, or no socket).
  bool submit(uint64_t key);
  void forget(uint64_t key);
  void connection_closed(UpstreamConnection *connection);
  const UpstreamServer &server() const { return server_; }
  size_t load() const { return connection_ ? connection_->load() : 0; }

private:
  EncryptedUpstream &upstream_;
  UpstreamServer server_;
  std::shared_ptr<const TlsContext> tls_;
  std::shared_ptr<UpstreamConnection> connection_;
};

}  // namespace rsv
