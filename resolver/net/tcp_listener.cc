#include "resolver/net/tcp_listener.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "resolver/net/tcp_framing.h"
#include "resolver/net/tls_session.h"
#include "resolver/net/uv_box.h"
#include "resolver/wire/edns_padding.h"

namespace rsv {

namespace {

constexpr size_t kReadBufferSize = 65536;
// Reading stops at the outstanding-query cap and resumes only once no whole frame is
// left waiting, so at most a partial frame plus one read's worth is ever buffered.
constexpr size_t kMaxBufferedInput = TcpFrameReader::kMaxFrameSize + kReadBufferSize;

// TLS plaintext is read a record at a time (RFC 8446 5.1: at most 2^14 octets).
constexpr size_t kTlsRecordSize = 16384;

// A framed reply that could not be written at once. It owns its bytes until libuv's
// write callback, which also runs (with UV_ECANCELED) when the socket closes first.
struct FrameWrite {
  uv_write_t request{};
  std::vector<uint8_t> bytes;
};

}  // namespace

struct TcpServerBox {
  uv_tcp_t handle{};
  TcpListener *owner = nullptr;
};

struct TcpConnectionBox {
  uv_tcp_t handle{};
  TcpConnection *owner = nullptr;
};

// One client connection. Owned by its listener's list; ReplyChannels and callbacks
// that may outlive it hold weak references or go through the box's owner pointer,
// which close() clears.
class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
public:
  TcpConnection(TcpListener &listener, EventLoop &loop)
      : listener_(&listener), idle_timer_(loop), frames_(kMaxBufferedInput) {}
  ~TcpConnection() {
    if (box_ != nullptr) {
      box_->owner = nullptr;
      uvbox::close_box(box_);
    }
  }
  TcpConnection(const TcpConnection &) = delete;
  TcpConnection &operator=(const TcpConnection &) = delete;

  bool start(uv_stream_t *server);
  void close();
  void detach_from_listener() { listener_ = nullptr; }
  bool is_closed() const { return box_ == nullptr; }
  // Nothing owed to the client: safe to close for room or for idleness.
  bool idle() const {
    return box_ != nullptr && outstanding_ == 0 && box_->handle.write_queue_size == 0;
  }

  // For TcpQueryContext and TcpReplyChannel.
  void occupy_slot() { ++outstanding_; }
  void send_deferred(std::string_view wire, bool pad);
  void release_slot();
  TcpListener *listener() const { return listener_; }
  static void note_dropped_reply(TcpListener &listener) { ++listener.stats_.replies_dropped; }

  std::list<std::shared_ptr<TcpConnection>>::iterator position;

private:
  void on_read(ssize_t nread, const uv_buf_t *buffer);
  void on_tls_read(const uint8_t *data, size_t size);
  void pump_tls();
  void flush_tls();
  void on_write_done(int status);
  void dispatch_frames();
  void dispatch(const uint8_t *query, size_t size);
  void write_frame(const uint8_t *data, size_t size);
  void write_raw(uv_buf_t *parts, unsigned count, size_t total);
  void settle();
  void start_reading();
  void stop_reading();
  uint32_t slot_cap() const {
    return listener_ ? std::max<uint32_t>(1, listener_->limits_.max_queries_per_connection) : 1;
  }
  template <typename Field>
  void count(Field field) {
    if (listener_) ++(listener_->stats_.*field);
  }

  TcpListener *listener_;
  TcpConnectionBox *box_ = nullptr;
  Timer idle_timer_;
  // Bytes of frames not yet handed to the handler: a partial frame, or whole frames
  // held back while the connection is at its outstanding-query cap.
  TcpFrameReader frames_;
  // DNS over TLS: the session between the socket and the frames; null for plain TCP.
  std::unique_ptr<TlsSession> tls_;
  uint32_t outstanding_ = 0;
  bool reading_ = false;
  bool peer_finished_ = false;  // EOF: the client sends no more (it may still read)
  bool dispatching_ = false;
  SocketAddress client_;
  SocketAddress local_;

  friend class TcpQueryContext;
};

namespace {

class TcpReplyChannel final : public ReplyChannel {
public:
  TcpReplyChannel(std::weak_ptr<TcpConnection> connection, std::weak_ptr<TcpListener> listener, bool pad)
      : connection_(std::move(connection)), listener_(std::move(listener)), pad_(pad) {}
  ~TcpReplyChannel() override {
    // A handler that gives up on a query must not leave its slot occupied forever.
    if (!finished_)
      if (auto connection = connection_.lock()) connection->release_slot();
  }

  void send(std::string_view wire) override {
    if (finished_) return;
    finished_ = true;
    auto connection = connection_.lock();
    if (connection && !connection->is_closed()) {
      connection->send_deferred(wire, pad_);
    } else if (auto listener = listener_.lock()) {
      TcpConnection::note_dropped_reply(*listener);
    }
  }

private:
  std::weak_ptr<TcpConnection> connection_;
  std::weak_ptr<TcpListener> listener_;
  bool pad_;
  bool finished_ = false;
};

}  // namespace

class TcpQueryContext final : public QueryContext {
public:
  explicit TcpQueryContext(TcpConnection &connection) : connection_(connection) {}

  std::shared_ptr<ReplyChannel> defer() override {
    connection_.occupy_slot();
    std::weak_ptr<TcpListener> listener;
    if (connection_.listener()) listener = connection_.listener()->weak_from_this();
    return std::make_shared<TcpReplyChannel>(connection_.weak_from_this(), std::move(listener), pad_reply);
  }

  bool pad_reply = false;  // RFC 8467: the query was padded, over TLS

private:
  TcpConnection &connection_;
};

// ---------------------------------------------------------------------------------
// TcpConnection

bool TcpConnection::start(uv_stream_t *server) {
  auto *box = new TcpConnectionBox;
  uv_tcp_init(server->loop, &box->handle);
  box->handle.data = box;
  box->owner = this;
  box_ = box;
  if (uv_accept(server, reinterpret_cast<uv_stream_t *>(&box->handle)) != 0) return false;
  // Replies are written whole; do not let Nagle hold back the last segment.
  uv_tcp_nodelay(&box->handle, 1);
  if (listener_ != nullptr && listener_->tls_ != nullptr) {
    try {
      tls_ = std::make_unique<TlsSession>(listener_->tls_);
    } catch (const TlsError &) {
      return false;
    }
  }
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getpeername(&box->handle, reinterpret_cast<sockaddr *>(&address), &length) == 0)
    if (auto peer = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr *>(&address)))
      client_ = *peer;
  length = sizeof address;
  if (uv_tcp_getsockname(&box->handle, reinterpret_cast<sockaddr *>(&address), &length) == 0)
    if (auto local = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr *>(&address)))
      local_ = *local;
  settle();
  return !is_closed();
}

void TcpConnection::close() {
  if (box_ == nullptr) return;
  auto keep_alive = shared_from_this();
  idle_timer_.stop();
  if (tls_ != nullptr && tls_->is_open()) {
    // RFC 8446 6.1: close_notify, best effort (whatever the socket takes now).
    tls_->shutdown();
    std::string alert;
    tls_->take_output(alert);
    uv_buf_t part = uv_buf_init(alert.data(), static_cast<unsigned>(alert.size()));
    if (box_->handle.write_queue_size == 0)
      uv_try_write(reinterpret_cast<uv_stream_t *>(&box_->handle), &part, 1);
  }
  box_->owner = nullptr;
  uvbox::close_box(box_);
  box_ = nullptr;
  reading_ = false;
  // frames_ is left alone: the handler may be reading a query from it right now (when
  // it closed the listener); it goes with the connection.
  if (listener_ != nullptr) {
    TcpListener *listener = listener_;
    listener_ = nullptr;
    listener->forget(*this);
  }
}

void TcpConnection::start_reading() {
  if (reading_ || box_ == nullptr) return;
  int rc = uv_read_start(
      reinterpret_cast<uv_stream_t *>(&box_->handle),
      [](uv_handle_t *handle, size_t, uv_buf_t *buffer) {
        auto *box = static_cast<TcpConnectionBox *>(handle->data);
        TcpListener *listener = box->owner ? box->owner->listener_ : nullptr;
        if (listener == nullptr) {
          *buffer = uv_buf_init(nullptr, 0);  // libuv answers with UV_ENOBUFS
          return;
        }
        *buffer =
            uv_buf_init(reinterpret_cast<char *>(listener->read_buffer_.get()), kReadBufferSize);
      },
      [](uv_stream_t *stream, ssize_t nread, const uv_buf_t *buffer) {
        auto *box = static_cast<TcpConnectionBox *>(stream->data);
        if (box->owner) box->owner->on_read(nread, buffer);
      });
  if (rc != 0) {
    close();
    return;
  }
  reading_ = true;
}

void TcpConnection::stop_reading() {
  if (!reading_ || box_ == nullptr) return;
  uv_read_stop(reinterpret_cast<uv_stream_t *>(&box_->handle));
  reading_ = false;
}

void TcpConnection::on_read(ssize_t nread, const uv_buf_t *buffer) {
  auto keep_alive = shared_from_this();
  if (nread == 0) return;  // EAGAIN: nothing this time
  if (nread < 0) {
    if (nread == UV_EOF) {
      // RFC 7766 6.2.4 lets a client half-close: answer what it already sent.
      peer_finished_ = true;
      settle();
    } else {
      close();  // reset or other error: nobody is left to answer
    }
    return;
  }
  if (tls_ != nullptr) {
    on_tls_read(reinterpret_cast<const uint8_t *>(buffer->base), static_cast<size_t>(nread));
    return;
  }
  // Common case: whole frames straight from the shared read buffer, no copy; only
  // what is left over is kept before the next read reuses the buffer.
  frames_.push(reinterpret_cast<const uint8_t *>(buffer->base), static_cast<size_t>(nread));
  dispatch_frames();
  if (is_closed()) return;
  frames_.keep_rest();
  settle();
}

// Ciphertext in: the handshake advances, or records turn into frames.
void TcpConnection::on_tls_read(const uint8_t *data, size_t size) {
  const bool handshaking = tls_->state() == TlsSession::State::handshaking;
  tls_->feed(data, size);
  if (handshaking && tls_->is_open()) count(&TcpListenerStats::tls_handshakes);
  flush_tls();  // handshake messages, alerts
  if (is_closed()) return;
  pump_tls();
  if (is_closed()) return;
  settle();
}

// Decrypts and dispatches until the session has nothing more or the connection is
// at its outstanding-query cap (the rest stays in the session until a slot frees).
// Plaintext is copied into the frame reader at once (keep_rest): a reply completed
// while the handler runs may pump another connection, so no buffer is shared.
void TcpConnection::pump_tls() {
  uint8_t plain[kTlsRecordSize];
  while (!is_closed() && outstanding_ < slot_cap() && tls_->is_open()) {
    const size_t got = tls_->read(plain, sizeof plain);
    if (got == 0) break;
    frames_.push(plain, got);
    frames_.keep_rest();
    dispatch_frames();
    if (is_closed()) return;
    frames_.keep_rest();
  }
  if (tls_->state() == TlsSession::State::failed) {
    count(&TcpListenerStats::tls_handshake_failures);
    flush_tls();  // the alert, if any
    if (!is_closed()) close();
    return;
  }
  if (tls_->peer_closed()) peer_finished_ = true;  // close_notify: like a half-close
  flush_tls();
}

// Sends whatever the TLS session has produced.
void TcpConnection::flush_tls() {
  if (is_closed() || !tls_->has_output()) return;
  std::string output;
  tls_->take_output(output);
  uv_buf_t part = uv_buf_init(output.data(), static_cast<unsigned>(output.size()));
  write_raw(&part, 1, output.size());
}

// Hands every complete frame to the handler until the outstanding-query cap is
// reached. May close the connection.
void TcpConnection::dispatch_frames() {
  dispatching_ = true;
  while (!is_closed() && outstanding_ < slot_cap()) {
    std::span<const uint8_t> query = frames_.next();
    if (query.empty()) {
      if (frames_.failed()) {
        // Not DNS (a frame shorter than a header), or more input than the
        // outstanding-query cap ever lets through.
        count(&TcpListenerStats::connections_bad_frame);
        close();
      }
      break;
    }
    // Activity is a query, not any byte: a client dribbling a frame that never
    // completes must not keep its slot past the idle timeout.
    idle_timer_.stop();
    dispatch(query.data(), query.size());
  }
  dispatching_ = false;
}

void TcpConnection::dispatch(const uint8_t *query, size_t size) {
  if (listener_ == nullptr) return;
  count(&TcpListenerStats::queries_received);
  TcpListener &listener = *listener_;
  TcpQueryContext context(*this);
  context.query = query;
  context.query_size = size;
  context.client = client_;
  context.local = local_;
  context.tcp = true;
  context.reply_buffer = listener.reply_buffer_.get();
  context.reply_capacity = TcpListener::kMaxMessageSize;
  context.reply_size = 0;
  context.pad_reply = tls_ != nullptr && has_padding_option(query, size);
  Disposition disposition = listener.handler_.handle(context);
  if (is_closed()) return;  // the handler closed the listener
  if (disposition == Disposition::reply) {
    if (context.reply_size > 0 && context.reply_size <= TcpListener::kMaxMessageSize) {
      if (context.pad_reply)
        context.reply_size = pad_message(context.reply_buffer, context.reply_size, TcpListener::kMaxMessageSize);
      write_frame(context.reply_buffer, context.reply_size);
      count(&TcpListenerStats::replies_sent);
    } else {
      count(&TcpListenerStats::replies_dropped);
    }
  }
}

void TcpConnection::send_deferred(std::string_view wire, bool pad) {
  auto keep_alive = shared_from_this();
  if (wire.empty() || wire.size() > TcpListener::kMaxMessageSize) {
    count(&TcpListenerStats::replies_dropped);
  } else if (pad) {
    const std::string padded = padded_message(wire);
    write_frame(reinterpret_cast<const uint8_t *>(padded.data()), padded.size());
    if (!is_closed()) count(&TcpListenerStats::replies_sent);
  } else {
    write_frame(reinterpret_cast<const uint8_t *>(wire.data()), wire.size());
    if (!is_closed()) count(&TcpListenerStats::replies_sent);
  }
  release_slot();
}

void TcpConnection::release_slot() {
  if (outstanding_ > 0) --outstanding_;
  // Inside dispatch_frames the loop re-checks the cap itself; settle() follows it.
  if (dispatching_ || is_closed()) return;
  auto keep_alive = shared_from_this();
  if (frames_.buffered() > 0 && outstanding_ < slot_cap()) {
    dispatch_frames();  // frames held back at the cap (already kept: nothing borrowed)
    if (is_closed()) return;
    frames_.keep_rest();
  }
  if (tls_ != nullptr && outstanding_ < slot_cap()) {
    pump_tls();  // records left in the session at the cap
    if (is_closed()) return;
  }
  settle();
}

// Brings reading, the idle timer and the half-close state in line with the counts.
void TcpConnection::settle() {
  if (is_closed()) return;
  if (outstanding_ >= slot_cap() || peer_finished_)
    stop_reading();  // RFC 7766 6.2.1.1: a server may limit what it has in flight
  else
    start_reading();
  if (is_closed() || outstanding_ > 0) {
    idle_timer_.stop();
    return;
  }
  if (peer_finished_ && box_->handle.write_queue_size == 0) {
    close();  // nothing outstanding, nothing more will come, every reply is out
    return;
  }
  // Nothing outstanding: the connection is idle, or its replies wait for a client
  // that does not read them (after a half-close nothing else would ever end it). Only
  // a new query stops the timer; neither a stray byte nor a slow reader's progress
  // does, so a client cannot hold its slot by trickling or reading a byte now and then.
  if (!idle_timer_.active() && listener_ != nullptr) {
    idle_timer_.start(listener_->limits_.idle_timeout_ms, [this] {
      // RFC 7766 6.2.3: servers close idle connections to conserve resources.
      count(&TcpListenerStats::connections_timed_out);
      if (box_ != nullptr && box_->handle.write_queue_size > 0)
        count(&TcpListenerStats::connections_not_reading);
      close();
    });
  }
}

void TcpConnection::write_frame(const uint8_t *data, size_t size) {
  if (is_closed()) return;
  // RFC 1035 4.2.2: a two-octet length in network order, then the message.
  uint8_t prefix[2] = {static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size & 0xFF)};
  if (tls_ != nullptr) {
    // One TLS write for prefix and message: one record, not two.
    std::string frame(reinterpret_cast<const char *>(prefix), 2);
    frame.append(reinterpret_cast<const char *>(data), size);
    if (!tls_->write(frame)) {
      count(&TcpListenerStats::write_errors);
      close();
      return;
    }
    flush_tls();
    return;
  }
  uv_buf_t parts[2] = {uv_buf_init(reinterpret_cast<char *>(prefix), 2),
                       uv_buf_init(const_cast<char *>(reinterpret_cast<const char *>(data)),
                                   static_cast<unsigned>(size))};
  write_raw(parts, 2, size + 2);
}

// Writes `parts` (`total` octets) to the socket, in order after anything queued.
void TcpConnection::write_raw(uv_buf_t *parts, unsigned count_of_parts, size_t total) {
  if (is_closed()) return;
  auto *stream = reinterpret_cast<uv_stream_t *>(&box_->handle);
  // Fast path: written now from the caller's buffer. libuv answers EAGAIN while
  // earlier writes are queued, which keeps frames whole and in order.
  int rc = uv_try_write(stream, parts, count_of_parts);
  size_t written = 0;
  if (rc >= 0) {
    written = static_cast<size_t>(rc);
  } else if (rc != UV_EAGAIN) {
    count(&TcpListenerStats::write_errors);
    close();
    return;
  }
  if (written == total) return;

  if (box_->handle.write_queue_size + (total - written) >
      (listener_ ? listener_->limits_.max_pending_write_bytes : 0)) {
    count(&TcpListenerStats::connections_not_reading);
    close();  // the client does not read its answers
    return;
  }
  auto *pending = new FrameWrite;
  pending->bytes.reserve(total - written);
  size_t skip = written;
  for (unsigned part = 0; part < count_of_parts; ++part) {
    const auto *bytes = reinterpret_cast<const uint8_t *>(parts[part].base);
    const size_t length = parts[part].len;
    if (skip >= length) {
      skip -= length;
      continue;
    }
    pending->bytes.insert(pending->bytes.end(), bytes + skip, bytes + length);
    skip = 0;
  }
  pending->request.data = pending;
  uv_buf_t copy = uv_buf_init(reinterpret_cast<char *>(pending->bytes.data()),
                              static_cast<unsigned>(pending->bytes.size()));
  rc = uv_write(&pending->request, stream, &copy, 1, [](uv_write_t *request, int status) {
    std::unique_ptr<FrameWrite> done(static_cast<FrameWrite *>(request->data));
    auto *box = static_cast<TcpConnectionBox *>(request->handle->data);
    if (box->owner) box->owner->on_write_done(status);
  });
  if (rc != 0) {
    delete pending;
    count(&TcpListenerStats::write_errors);
    close();
  }
}

void TcpConnection::on_write_done(int status) {
  if (status < 0) {
    count(&TcpListenerStats::write_errors);
    close();
    return;
  }
  settle();  // a half-closed connection may now be done
}

// ---------------------------------------------------------------------------------
// TcpListener

TcpListener::TcpListener(PassKey, EventLoop &loop, QueryHandler &handler, const TcpLimits &limits,
                         std::shared_ptr<const TlsContext> tls)
    : loop_(loop),
      handler_(handler),
      limits_(limits),
      tls_(std::move(tls)),
      read_buffer_(std::make_unique<uint8_t[]>(kReadBufferSize)),
      reply_buffer_(std::make_unique<uint8_t[]>(kMaxMessageSize)) {}

TcpListener::~TcpListener() { close(); }

std::shared_ptr<TcpListener> TcpListener::create(EventLoop &loop, const SocketAddress &address,
                                                 QueryHandler &handler, const TcpLimits &limits,
                                                 std::shared_ptr<const TlsContext> tls) {
  auto listener = std::make_shared<TcpListener>(PassKey{}, loop, handler, limits, std::move(tls));
  listener->open(address);
  return listener;
}

void TcpListener::open(const SocketAddress &address) {
  auto fail = [&](const std::string &what, const std::string &why) {
    close();
    throw std::runtime_error(std::string(tls_ ? "TLS" : "TCP") + " listener " + address.to_string() + ": " + what +
                             ": " + why);
  };
  auto *box = new TcpServerBox;
  if (int rc =
          uv_tcp_init_ex(loop_.uv_loop(), &box->handle, static_cast<unsigned>(address.family()));
      rc != 0) {
    uvbox::delete_unregistered_box(box);
    throw std::runtime_error("TCP listener " + address.to_string() +
                             ": cannot create socket: " + uvbox::error_text(rc));
  }
  box->handle.data = box;
  box->owner = this;
  box_ = box;

  if (auto error = uvbox::enable_reuse_port(reinterpret_cast<uv_handle_t *>(&box->handle)); !error.empty())
    fail("cannot share the port", error);
  unsigned flags = address.is_ipv6() ? UV_TCP_IPV6ONLY : 0;
  if (int rc = uv_tcp_bind(&box->handle, address.sockaddr_ptr(), flags); rc != 0)
    fail("cannot bind", uvbox::error_text(rc));
  // libuv may report a bind error only here.
  int rc = uv_listen(reinterpret_cast<uv_stream_t *>(&box->handle), 256,
                     [](uv_stream_t *server, int status) {
                       auto *server_box = static_cast<TcpServerBox *>(server->data);
                       if (status == 0 && server_box->owner) server_box->owner->on_connection();
                     });
  if (rc != 0) fail("cannot listen", uvbox::error_text(rc));

  sockaddr_storage bound{};
  int bound_length = sizeof bound;
  if (uv_tcp_getsockname(&box->handle, reinterpret_cast<sockaddr *>(&bound), &bound_length) == 0)
    if (auto local = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr *>(&bound)))
      local_address_ = *local;
}

void TcpListener::on_connection() {
  auto keep_alive = shared_from_this();
  auto *server = reinterpret_cast<uv_stream_t *>(&box_->handle);
  if (connections_.size() >= limits_.max_connections && !make_room()) {
    // Full of busy clients: accept (libuv requires it) and close at once.
    ++stats_.connections_refused;
    auto *refused = new TcpConnectionBox;
    uv_tcp_init(server->loop, &refused->handle);
    refused->handle.data = refused;
    uv_accept(server, reinterpret_cast<uv_stream_t *>(&refused->handle));
    uvbox::close_box(refused);
    return;
  }
  auto connection = std::make_shared<TcpConnection>(*this, loop_);
  connections_.push_back(connection);
  connection->position = std::prev(connections_.end());
  ++stats_.connections_accepted;
  if (!connection->start(server)) connection->close();
}

// RFC 7766 6.2.3: under pressure, the idle connections go first (oldest first).
bool TcpListener::make_room() {
  for (auto &connection : connections_) {
    if (connection->idle()) {
      ++stats_.connections_evicted;
      connection->close();  // erases it from connections_: stop iterating
      return true;
    }
  }
  return false;
}

void TcpListener::forget(TcpConnection &connection) { connections_.erase(connection.position); }

void TcpListener::close() {
  if (box_ != nullptr) {
    box_->owner = nullptr;
    uvbox::close_box(box_);
    box_ = nullptr;
  }
  auto connections = std::move(connections_);
  connections_.clear();
  for (auto &connection : connections) {
    connection->detach_from_listener();
    connection->close();
  }
}

}  // namespace rsv
