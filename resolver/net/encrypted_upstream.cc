#include "resolver/net/encrypted_upstream.h"

#include <algorithm>
#include <unordered_map>

#include "resolver/base/log.h"
#include "resolver/net/tcp_framing.h"
#include "resolver/net/tls_context.h"
#include "resolver/net/upstream.h"
#include "resolver/net/upstream_connection.h"
#include "resolver/net/uv_box.h"

namespace rsv {

namespace {
constexpr size_t kReadBufferSize = 65536;
constexpr size_t kTlsRecordSize = 16384;

struct PlainWrite {
  uv_write_t request{};
  std::string bytes;
};
}  // namespace

struct UpstreamSocketBox {
  uv_tcp_t handle{};
  UpstreamConnection *owner = nullptr;
  uv_connect_t connect_request{};
  char read_buffer[kReadBufferSize];
};

struct EncryptedUpstream::Pending {
  OutgoingQuery query;
  std::function<void(TransportResult)> done;
  uint64_t started_ms = 0;
  std::unique_ptr<Timer> timer;
  EncryptedEndpoint *endpoint = nullptr;
  bool retried = false;
};

// ---------------------------------------------------------------------------------
// EncryptedUpstream

EncryptedUpstream::EncryptedUpstream(EventLoop &loop, Clock &clock, const Config &config, Transport &plain,
                                     EncryptedUpstreamStats *stats)
    : loop_(loop),
      clock_(clock),
      plain_(plain),
      idle_timeout_ms_(config.network.tcp_idle_timeout_ms),
      stats_(stats ? *stats : own_stats_) {
  for (const ForwardZone &zone : config.forward_zones) {
    for (const UpstreamServer &server : zone.endpoints) {
      if (!server.encrypted() || endpoints_.contains(server.address)) continue;
      TlsClientSettings settings;
      settings.cert_bundle = zone.tls_cert_bundle;
      settings.pins_sha256 = zone.tls_pins_sha256;
      // RFC 7858 3.2 / RFC 8484 5.2 (HTTP/2 only here).
      settings.alpn = {server.protocol == UpstreamProtocol::https ? "h2" : "dot"};
      std::shared_ptr<const TlsContext> context;
      try {
        context = TlsContext::client(settings);
      } catch (const TlsError &e) {
        RSV_LOG(error, "forward zone %s: server %s: %s", zone.name.to_text().c_str(), server.to_string().c_str(),
                e.what());
      }
      endpoints_.emplace(server.address, std::make_unique<EncryptedEndpoint>(*this, server, std::move(context)));
    }
  }
}

EncryptedUpstream::~EncryptedUpstream() {
  // Abandon what is in flight: callbacks are destroyed, never called.
  for (auto &[key, pending] : pending_) pending->done = nullptr;
  pending_.clear();
  endpoints_.clear();  // closes the connections; their queries are gone already
}

void EncryptedUpstream::send(const OutgoingQuery &query, std::function<void(TransportResult)> done) {
  auto endpoint = endpoints_.find(query.server);
  if (endpoint == endpoints_.end()) {
    plain_.send(query, std::move(done));
    return;
  }
  EncryptedEndpoint &target = *endpoint->second;
  if (target.server().protocol == UpstreamProtocol::https)
    ++stats_.https_queries;
  else
    ++stats_.tls_queries;
  const uint64_t key = next_key_++;
  auto pending = std::make_unique<Pending>();
  pending->query = query;
  pending->done = std::move(done);
  pending->started_ms = clock_.now_monotonic_ms();
  pending->endpoint = &target;
  pending->timer = std::make_unique<Timer>(loop_);
  Pending &ref = *pending;
  pending_.emplace(key, std::move(pending));
  ref.timer->start(query.timeout_ms, [this, key] { finish(key, TransportStatus::timeout); });
  // Never call `done` from inside send(): a failure now is reported from the loop.
  if (target.load() >= kMaxInFlightPerEndpoint || !target.submit(key))
    ref.timer->start(0, [this, key] { finish(key, TransportStatus::network_error); });
}

const OutgoingQuery *EncryptedUpstream::query(uint64_t key) const {
  auto it = pending_.find(key);
  return it == pending_.end() ? nullptr : &it->second->query;
}

void EncryptedUpstream::deliver(uint64_t key, std::string wire) { finish(key, TransportStatus::reply, std::move(wire)); }

void EncryptedUpstream::fail(uint64_t key, bool retryable) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  Pending &pending = *it->second;
  if (retryable && !pending.retried) {
    // The server may have closed a reused connection just as the query left.
    pending.retried = true;
    ++stats_.retries;
    if (pending.endpoint->submit(key)) return;
  }
  finish(key, TransportStatus::network_error);
}

void EncryptedUpstream::finish(uint64_t key, TransportStatus status, std::string wire) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> pending = std::move(it->second);
  pending_.erase(it);
  pending->endpoint->forget(key);
  switch (status) {
    case TransportStatus::reply: ++stats_.replies; break;
    case TransportStatus::timeout: ++stats_.timeouts; break;
    case TransportStatus::network_error: ++stats_.network_errors; break;
  }
  TransportResult result;
  result.status = status;
  result.wire = std::move(wire);
  const uint64_t elapsed = clock_.now_monotonic_ms() - pending->started_ms;
  result.rtt_ms = static_cast<uint32_t>(std::min<uint64_t>(elapsed, UINT32_MAX));
  auto done = std::move(pending->done);
  pending.reset();  // stops the timer (safe from inside its callback)
  if (done) done(std::move(result));
}

// ---------------------------------------------------------------------------------
// EncryptedEndpoint

EncryptedEndpoint::~EncryptedEndpoint() {
  if (connection_) {
    auto connection = std::move(connection_);
    connection->close(false);
  }
}

bool EncryptedEndpoint::submit(uint64_t key) {
  if (tls_ == nullptr) return false;
  if (!connection_ || connection_->closed()) {
    connection_ = server_.protocol == UpstreamProtocol::https
                      ? make_doh_connection(upstream_, *this, tls_, server_)
                      : make_dot_connection(upstream_, *this, tls_);
    if (!connection_->start(upstream_.loop_)) {
      connection_.reset();
      return false;
    }
  }
  connection_->add(key);
  return true;
}

void EncryptedEndpoint::forget(uint64_t key) {
  if (connection_) connection_->remove(key);
}

void EncryptedEndpoint::connection_closed(UpstreamConnection *connection) {
  if (connection_.get() == connection) connection_.reset();
}

// ---------------------------------------------------------------------------------
// UpstreamConnection: a TLS client over a libuv TCP socket

UpstreamConnection::UpstreamConnection(EncryptedUpstream &upstream, EncryptedEndpoint &endpoint,
                                       std::shared_ptr<const TlsContext> tls)
    : upstream_(upstream), endpoint_(endpoint) {
  tls_ = std::make_unique<TlsSession>(std::move(tls), endpoint.server().auth_name);
}

UpstreamConnection::~UpstreamConnection() {
  if (box_ != nullptr) {
    box_->owner = nullptr;
    uvbox::close_box(box_);
  }
}

bool UpstreamConnection::start(EventLoop &loop) {
  idle_timer_ = std::make_unique<Timer>(loop);
  const SocketAddress &server = endpoint_.server().address;
  auto *box = new UpstreamSocketBox;
  if (uv_tcp_init_ex(loop.uv_loop(), &box->handle, static_cast<unsigned>(server.family())) != 0) {
    uvbox::delete_unregistered_box(box);
    return false;
  }
  box->handle.data = box;
  box->owner = this;
  box_ = box;
  const int rc = uv_tcp_connect(&box->connect_request, &box->handle, server.sockaddr_ptr(),
                                [](uv_connect_t *request, int status) {
                                  auto *socket_box = static_cast<UpstreamSocketBox *>(request->handle->data);
                                  if (socket_box->owner) socket_box->owner->on_connected(status);
                                });
  if (rc != 0) {
    box_->owner = nullptr;
    uvbox::close_box(box_);
    box_ = nullptr;
    return false;
  }
  return true;
}

void UpstreamConnection::on_connected(int status) {
  auto keep_alive = shared_from_this();
  if (status < 0) {
    ++upstream_.stats_.connection_failures;
    RSV_LOG(debug, "encrypted upstream %s: cannot connect: %s", endpoint_.server().to_string().c_str(),
            uv_strerror(status));
    close(true);
    return;
  }
  uv_tcp_nodelay(&box_->handle, 1);
  const int rc = uv_read_start(
      reinterpret_cast<uv_stream_t *>(&box_->handle),
      [](uv_handle_t *handle, size_t, uv_buf_t *buffer) {
        auto *socket_box = static_cast<UpstreamSocketBox *>(handle->data);
        *buffer = uv_buf_init(socket_box->read_buffer, kReadBufferSize);
      },
      [](uv_stream_t *stream, ssize_t nread, const uv_buf_t *buffer) {
        auto *socket_box = static_cast<UpstreamSocketBox *>(stream->data);
        if (socket_box->owner) socket_box->owner->on_read(nread, buffer->base);
      });
  if (rc != 0) {
    close(true);
    return;
  }
  tls_->start();  // the ClientHello
  flush();
}

void UpstreamConnection::on_read(ssize_t nread, const char *data) {
  auto keep_alive = shared_from_this();
  if (nread == 0) return;
  if (nread < 0) {
    close(true);  // EOF or reset: whatever is still asked must go elsewhere
    return;
  }
  tls_->feed(reinterpret_cast<const uint8_t *>(data), static_cast<size_t>(nread));
  if (!open_ && tls_->is_open()) {
    open_ = true;
    ++upstream_.stats_.connections_opened;
    on_open();
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (uint64_t key : waiting)
      if (upstream_.query(key)) send_query(key);
  }
  pump();
  if (closed()) return;
  if (tls_->state() == TlsSession::State::failed) {
    ++upstream_.stats_.connection_failures;
    RSV_LOG(info, "encrypted upstream %s: %s", endpoint_.server().to_string().c_str(), tls_->error().c_str());
    flush();
    close(true);
    return;
  }
  flush();
  settle();
}

void UpstreamConnection::pump() {
  uint8_t plain[kTlsRecordSize];
  while (!closed() && tls_->is_open()) {
    const size_t got = tls_->read(plain, sizeof plain);
    if (got == 0) break;
    on_plaintext(plain, got);
  }
  if (!closed() && tls_->peer_closed()) close(true);
}

void UpstreamConnection::add(uint64_t key) {
  idle_timer_->stop();
  if (!open_) {
    waiting_.push_back(key);
    return;
  }
  send_query(key);
  flush();
}

void UpstreamConnection::remove(uint64_t key) {
  if (auto it = std::find(waiting_.begin(), waiting_.end(), key); it != waiting_.end()) waiting_.erase(it);
  forget_query(key);
  if (!closed()) {
    flush();
    settle();
  }
}

bool UpstreamConnection::write_plain(const uint8_t *data, size_t size) { return tls_->write(data, size); }

void UpstreamConnection::flush() {
  if (closed() || !tls_->has_output()) return;
  auto *pending = new PlainWrite;
  tls_->take_output(pending->bytes);
  pending->request.data = pending;
  uv_buf_t part = uv_buf_init(pending->bytes.data(), static_cast<unsigned>(pending->bytes.size()));
  const int rc = uv_write(&pending->request, reinterpret_cast<uv_stream_t *>(&box_->handle), &part, 1,
                          [](uv_write_t *request, int status) {
                            std::unique_ptr<PlainWrite> done(static_cast<PlainWrite *>(request->data));
                            auto *socket_box = static_cast<UpstreamSocketBox *>(request->handle->data);
                            if (status < 0 && socket_box->owner) socket_box->owner->close(true);
                          });
  if (rc != 0) {
    delete pending;
    close(true);
  }
}

void UpstreamConnection::delivered(uint64_t key, std::string wire) {
  used_ = true;
  upstream_.deliver(key, std::move(wire));
}

// Idle (nothing asked, nothing waiting): closed after the idle timeout, as RFC 7766
// 6.2.3 asks of clients too; busy: kept.
void UpstreamConnection::settle() {
  if (closed() || load() > 0) {
    if (idle_timer_) idle_timer_->stop();
    return;
  }
  if (!idle_timer_->active()) idle_timer_->start(upstream_.idle_timeout_ms_, [this] { close(false); });
}

void UpstreamConnection::close(bool failed) {
  if (closed()) return;
  auto keep_alive = shared_from_this();
  if (idle_timer_) idle_timer_->stop();
  if (tls_->is_open()) {
    say_goodbye();
    tls_->shutdown();
    std::string output;
    tls_->take_output(output);
    uv_buf_t part = uv_buf_init(output.data(), static_cast<unsigned>(output.size()));
    if (box_->handle.write_queue_size == 0) uv_try_write(reinterpret_cast<uv_stream_t *>(&box_->handle), &part, 1);
  }
  box_->owner = nullptr;
  uvbox::close_box(box_);
  box_ = nullptr;
  std::vector<uint64_t> keys = std::move(waiting_);
  waiting_.clear();
  for (uint64_t key : in_flight_keys()) keys.push_back(key);
  const bool retryable = used_;
  endpoint_.connection_closed(this);
  for (uint64_t key : keys) {
    forget_query(key);
    upstream_.fail(key, failed && retryable);
  }
}

// ---------------------------------------------------------------------------------
// DNS over TLS (RFC 7858): framed messages, pipelined, answered in any order

namespace {

class DotConnection final : public UpstreamConnection {
public:
  using UpstreamConnection::UpstreamConnection;

protected:
  void on_open() override {}

  void send_query(uint64_t key) override {
    const OutgoingQuery *query = upstream_.query(key);
    if (query == nullptr || query->wire.size() < 12 || query->wire.size() > TcpFrameReader::kMaxMessageSize) return;
    // An ID no other query on this connection has (the engine's may collide).
    uint16_t id = next_id_;
    while (by_id_.contains(id)) ++id;
    next_id_ = static_cast<uint16_t>(id + 1);
    by_id_[id] = InFlight{key, query->id};
    std::string frame;
    frame.reserve(query->wire.size() + 2);
    frame.push_back(static_cast<char>(query->wire.size() >> 8));
    frame.push_back(static_cast<char>(query->wire.size() & 0xFF));
    frame += query->wire;
    frame[2] = static_cast<char>(id >> 8);
    frame[3] = static_cast<char>(id & 0xFF);
    write_plain(reinterpret_cast<const uint8_t *>(frame.data()), frame.size());
  }

  void on_plaintext(const uint8_t *data, size_t size) override {
    frames_.push(data, size);
    frames_.keep_rest();  // delivering may send (and so write) before we are done
    while (!closed()) {
      std::span<const uint8_t> message = frames_.next();
      if (message.empty()) break;
      const uint16_t id = static_cast<uint16_t>((message[0] << 8) | message[1]);
      auto it = by_id_.find(id);
      const OutgoingQuery *query = it == by_id_.end() ? nullptr : upstream_.query(it->second.key);
      std::string wire(reinterpret_cast<const char *>(message.data()), message.size());
      if (query == nullptr || !response_matches_query(wire, id, query->question)) {
        ++stats().mismatches_ignored;
        continue;
      }
      const uint64_t key = it->second.key;
      wire[0] = static_cast<char>(it->second.original_id >> 8);
      wire[1] = static_cast<char>(it->second.original_id & 0xFF);
      by_id_.erase(it);
      delivered(key, std::move(wire));
    }
    if (frames_.failed()) close(true);
  }

  void forget_query(uint64_t key) override {
    std::erase_if(by_id_, [&](const auto &entry) { return entry.second.key == key; });
  }
  size_t in_flight() const override { return by_id_.size(); }
  std::vector<uint64_t> in_flight_keys() const override {
    std::vector<uint64_t> keys;
    for (const auto &[id, entry] : by_id_) keys.push_back(entry.key);
    return keys;
  }

private:
  struct InFlight {
    uint64_t key;
    uint16_t original_id;
  };
  std::unordered_map<uint16_t, InFlight> by_id_;
  uint16_t next_id_ = 1;
  TcpFrameReader frames_{2 * TcpFrameReader::kMaxFrameSize};
};

}  // namespace

std::shared_ptr<UpstreamConnection> make_dot_connection(EncryptedUpstream &upstream, EncryptedEndpoint &endpoint,
                                                        std::shared_ptr<const TlsContext> tls) {
  return std::make_shared<DotConnection>(upstream, endpoint, std::move(tls));
}

}  // namespace rsv
