#include "resolver/net/doh_listener.h"

#include <nghttp2/nghttp2.h>
#include <sys/socket.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "resolver/net/doh_message.h"
#include "resolver/net/tls_session.h"
#include "resolver/net/uv_box.h"
#include "resolver/wire/edns_padding.h"

namespace rsv {

namespace {

constexpr size_t kReadBufferSize = 65536;
constexpr size_t kTlsRecordSize = 16384;

struct RawWrite {
  uv_write_t request{};
  std::string bytes;
};

nghttp2_nv header(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t *>(const_cast<char *>(name.data())),
                    reinterpret_cast<uint8_t *>(const_cast<char *>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

struct DohServerBox {
  uv_tcp_t handle{};
  DohListener *owner = nullptr;
};

struct DohConnectionBox {
  uv_tcp_t handle{};
  DohConnection *owner = nullptr;
};

// One HTTP/2 connection. Owned by its listener's list; callbacks that may outlive
// it go through the box's owner pointer (cleared by close()) or weak references.
// The nghttp2 session is freed only by the destructor, never inside its callbacks:
// every entry point holds a shared_ptr to the connection while it runs.
class DohConnection : public std::enable_shared_from_this<DohConnection> {
public:
  DohConnection(DohListener &listener, EventLoop &loop) : listener_(&listener), idle_timer_(loop) {}
  ~DohConnection();
  DohConnection(const DohConnection &) = delete;
  DohConnection &operator=(const DohConnection &) = delete;

  bool start(uv_stream_t *server);
  void close();
  void detach_from_listener() { listener_ = nullptr; }
  bool is_closed() const { return box_ == nullptr; }
  // Idle: no query of ours being resolved. Open streams do not count, or a client
  // could keep a connection (and its slot) forever with one HEADERS frame that never
  // ends, or a flow-control window it never opens; as for TCP, what the client has
  // not finished sending, or will not read, is its own delay.
  bool idle() const { return box_ != nullptr && outstanding_ == 0; }

  void send_deferred(int32_t stream_id, std::string_view wire, bool pad);
  void release_slot();
  DohListener *listener() const { return listener_; }
  static void note_dropped_reply(DohListener &listener) { ++listener.stats_.replies_dropped; }

  std::list<std::shared_ptr<DohConnection>>::iterator position;

private:
  struct Stream {
    DohRequest request;
    size_t header_bytes = 0;
    size_t buffered = 0;  // octets of path, content type and body held for it
    bool refused = false;
    bool responded = false;
    std::string response;  // the body, alive until nghttp2 has read it
    size_t sent = 0;
  };

  void on_read(ssize_t nread, const uv_buf_t *buffer);
  void pump();
  void send_pending();
  void flush_tls();
  void write_raw(const std::string &bytes);
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

  // nghttp2 callbacks.
  int on_begin_headers(const nghttp2_frame *frame);
  int on_header(const nghttp2_frame *frame, std::string_view name, std::string_view value);
  int on_data(int32_t stream_id, const uint8_t *data, size_t size);
  int on_frame(const nghttp2_frame *frame);
  bool hold(int32_t stream_id, Stream &stream, size_t size);
  void release(Stream &stream) {
    buffered_ -= stream.buffered;
    stream.buffered = 0;
  }
  void complete(int32_t stream_id);
  void respond(int32_t stream_id, int status, std::string body, std::string_view content_type,
               uint32_t max_age = 0);
  ssize_t read_body(int32_t stream_id, uint8_t *buffer, size_t length, uint32_t *flags);
  bool create_session();

  friend class DohQueryContext;
  friend struct Http2Callbacks;

  DohListener *listener_;
  DohConnectionBox *box_ = nullptr;
  Timer idle_timer_;
  std::unique_ptr<TlsSession> tls_;
  nghttp2_session *session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  size_t buffered_ = 0;       // sum of the streams' `buffered`
  uint32_t outstanding_ = 0;  // queries being resolved (deferred)
  bool reading_ = false;
  bool in_session_ = false;  // inside nghttp2_session_mem_recv: no mem_send now
  bool peer_finished_ = false;
  SocketAddress client_;
  SocketAddress local_;
};

// ---------------------------------------------------------------------------------
// Query contexts and reply channels

namespace {

class DohReplyChannel final : public ReplyChannel {
public:
  DohReplyChannel(std::weak_ptr<DohConnection> connection, std::weak_ptr<DohListener> listener, int32_t stream_id,
                  bool pad)
      : connection_(std::move(connection)), listener_(std::move(listener)), stream_id_(stream_id), pad_(pad) {}
  ~DohReplyChannel() override {
    if (!finished_)
      if (auto connection = connection_.lock()) connection->release_slot();
  }
  void send(std::string_view wire) override {
    if (finished_) return;
    finished_ = true;
    auto connection = connection_.lock();
    if (connection && !connection->is_closed()) {
      connection->send_deferred(stream_id_, wire, pad_);
    } else if (auto listener = listener_.lock()) {
      DohConnection::note_dropped_reply(*listener);
    }
  }

private:
  std::weak_ptr<DohConnection> connection_;
  std::weak_ptr<DohListener> listener_;
  int32_t stream_id_;
  bool pad_;
  bool finished_ = false;
};

}  // namespace

class DohQueryContext final : public QueryContext {
public:
  DohQueryContext(DohConnection &connection, int32_t stream_id, bool pad)
      : connection_(connection), stream_id_(stream_id), pad_(pad) {}
  std::shared_ptr<ReplyChannel> defer() override {
    ++connection_.outstanding_;
    std::weak_ptr<DohListener> listener;
    if (connection_.listener_) listener = connection_.listener_->weak_from_this();
    return std::make_shared<DohReplyChannel>(connection_.weak_from_this(), std::move(listener), stream_id_, pad_);
  }

private:
  DohConnection &connection_;
  int32_t stream_id_;
  bool pad_;
};

// ---------------------------------------------------------------------------------
// nghttp2 glue

struct Http2Callbacks {
  static DohConnection &of(void *user_data) { return *static_cast<DohConnection *>(user_data); }
  static int begin_headers(nghttp2_session *, const nghttp2_frame *frame, void *user_data) {
    return of(user_data).on_begin_headers(frame);
  }
  static int header(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name, size_t name_length,
                    const uint8_t *value, size_t value_length, uint8_t, void *user_data) {
    return of(user_data).on_header(frame, {reinterpret_cast<const char *>(name), name_length},
                                   {reinterpret_cast<const char *>(value), value_length});
  }
  static int data(nghttp2_session *, uint8_t, int32_t stream_id, const uint8_t *data, size_t size,
                  void *user_data) {
    return of(user_data).on_data(stream_id, data, size);
  }
  static int frame(nghttp2_session *, const nghttp2_frame *frame, void *user_data) {
    return of(user_data).on_frame(frame);
  }
  static int stream_closed(nghttp2_session *, int32_t stream_id, uint32_t, void *user_data) {
    auto &connection = of(user_data);
    auto it = connection.streams_.find(stream_id);
    if (it == connection.streams_.end()) return 0;
    connection.release(it->second);
    connection.streams_.erase(it);
    return 0;
  }
  static ssize_t read_body(nghttp2_session *, int32_t stream_id, uint8_t *buffer, size_t length, uint32_t *flags,
                           nghttp2_data_source *, void *user_data) {
    return of(user_data).read_body(stream_id, buffer, length, flags);
  }
};

bool DohConnection::create_session() {
  nghttp2_session_callbacks *callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, Http2Callbacks::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, Http2Callbacks::header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Http2Callbacks::data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, Http2Callbacks::frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Http2Callbacks::stream_closed);
  const int rc = nghttp2_session_server_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  if (rc != 0) return false;
  // RFC 9113 6.5.2: bound what a client may have open and send us in headers.
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, slot_cap()},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(DohListener::kMaxHeaderBlock)},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  return nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) == 0;
}

int DohConnection::on_begin_headers(const nghttp2_frame *frame) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  streams_[frame->hd.stream_id];
  return 0;
}

int DohConnection::on_header(const nghttp2_frame *frame, std::string_view name, std::string_view value) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto it = streams_.find(frame->hd.stream_id);
  if (it == streams_.end()) return 0;
  Stream &stream = it->second;
  // RFC 9113 6.5.2's accounting: name, value and 32 octets per field.
  stream.header_bytes += name.size() + value.size() + 32;
  if (stream.header_bytes > DohListener::kMaxHeaderBlock) {
    count(&DohListenerStats::streams_reset);
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets this stream only
  }
  if (stream.refused) return 0;
  if (name == ":method") {
    stream.request.method = value;
  } else if (name == ":path") {
    if (hold(frame->hd.stream_id, stream, value.size())) stream.request.path = value;
  } else if (name == "content-type") {
    if (hold(frame->hd.stream_id, stream, value.size())) stream.request.content_type = value;
  }
  return 0;
}

// Counts `size` more octets held for `stream` against the connection's budget
// (kMaxBufferedRequests): what the open streams of one connection may make us keep,
// however many streams and however slowly they end. Over it, the stream is refused.
bool DohConnection::hold(int32_t stream_id, Stream &stream, size_t size) {
  if (buffered_ + size > DohListener::kMaxBufferedRequests) {
    count(&DohListenerStats::streams_reset);
    stream.refused = true;
    stream.request.body.clear();
    stream.request.body.shrink_to_fit();
    release(stream);
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_REFUSED_STREAM);
    return false;
  }
  stream.buffered += size;
  buffered_ += size;
  return true;
}

int DohConnection::on_data(int32_t stream_id, const uint8_t *data, size_t size) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return 0;
  Stream &stream = it->second;
  DohRequest &request = stream.request;
  if (request.body_too_large || stream.refused) return 0;
  if (request.body.size() + size > kMaxDohMessage) {
    request.body_too_large = true;
    request.body.clear();
    request.body.shrink_to_fit();
    release(stream);
    return 0;
  }
  if (hold(stream_id, stream, size)) request.body.append(reinterpret_cast<const char *>(data), size);
  return 0;
}

int DohConnection::on_frame(const nghttp2_frame *frame) {
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0)
    complete(frame->hd.stream_id);
  return 0;
}

// The request on `stream_id` is complete: answer it, or hand its query on.
void DohConnection::complete(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end() || it->second.responded || it->second.refused || listener_ == nullptr) return;
  count(&DohListenerStats::requests);
  DohDecision decision = evaluate_doh_request(it->second.request);
  it->second.request = DohRequest{};
  release(it->second);
  if (!decision.ok()) {
    count(&DohListenerStats::http_errors);
    respond(stream_id, decision.status, decision.reason + "\n", "text/plain");
    return;
  }
  if (outstanding_ >= slot_cap()) {
    // Streams opened and reset again to pile up queries (HTTP/2 "rapid reset"):
    // the queries still being resolved count, not the streams open.
    count(&DohListenerStats::streams_reset);
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_REFUSED_STREAM);
    return;
  }
  count(&DohListenerStats::queries);
  DohListener &listener = *listener_;
  const auto *query = reinterpret_cast<const uint8_t *>(decision.query.data());
  const bool pad = has_padding_option(query, decision.query.size());
  DohQueryContext context(*this, stream_id, pad);
  context.query = query;
  context.query_size = decision.query.size();
  context.client = client_;
  context.local = local_;
  context.tcp = true;  // a stream carries any size: never truncate
  context.reply_buffer = listener.reply_buffer_.get();
  context.reply_capacity = kMaxDohMessage;
  context.reply_size = 0;
  const Disposition disposition = listener.handler_.handle(context);
  if (is_closed()) return;
  if (disposition == Disposition::reply) {
    if (context.reply_size == 0 || context.reply_size > kMaxDohMessage) {
      count(&DohListenerStats::replies_dropped);
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_INTERNAL_ERROR);
      return;
    }
    size_t size = context.reply_size;
    if (pad) size = pad_message(context.reply_buffer, size, kMaxDohMessage);
    std::string wire(reinterpret_cast<const char *>(context.reply_buffer), size);
    const uint32_t max_age = doh_max_age(context.reply_buffer, size);
    respond(stream_id, 200, std::move(wire), kDnsMessageType, max_age);
    count(&DohListenerStats::replies_sent);
  } else if (disposition == Disposition::drop) {
    // ACL deny and garbage get nothing over UDP; a stream still needs an end.
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_REFUSED_STREAM);
  }
}

void DohConnection::respond(int32_t stream_id, int status, std::string body, std::string_view content_type,
                            uint32_t max_age) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end() || it->second.responded) return;
  Stream &stream = it->second;
  stream.responded = true;
  stream.response = std::move(body);
  stream.sent = 0;
  const std::string status_text = std::to_string(status);
  const std::string length = std::to_string(stream.response.size());
  // RFC 8484 5.1: cacheable no longer than the smallest TTL in the answer.
  const std::string cache_control = status == 200 ? "max-age=" + std::to_string(max_age) : "no-store";
  std::vector<nghttp2_nv> headers = {header(":status", status_text), header("content-type", content_type),
                                     header("content-length", length), header("cache-control", cache_control)};
  if (status == 405) headers.push_back(header("allow", "GET, POST"));
  nghttp2_data_provider provider{};
  provider.read_callback = Http2Callbacks::read_body;
  if (nghttp2_submit_response(session_, stream_id, headers.data(), headers.size(), &provider) != 0) return;
  if (!in_session_) send_pending();
}

ssize_t DohConnection::read_body(int32_t stream_id, uint8_t *buffer, size_t length, uint32_t *flags) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  Stream &stream = it->second;
  const size_t size = std::min(length, stream.response.size() - stream.sent);
  std::copy_n(stream.response.data() + stream.sent, size, buffer);
  stream.sent += size;
  if (stream.sent == stream.response.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(size);
}

void DohConnection::send_deferred(int32_t stream_id, std::string_view wire, bool pad) {
  auto keep_alive = shared_from_this();
  if (wire.empty() || wire.size() > kMaxDohMessage || !streams_.contains(stream_id)) {
    count(&DohListenerStats::replies_dropped);
  } else {
    std::string reply = pad ? padded_message(wire) : std::string(wire);
    const uint32_t max_age = doh_max_age(reinterpret_cast<const uint8_t *>(reply.data()), reply.size());
    respond(stream_id, 200, std::move(reply), kDnsMessageType, max_age);
    count(&DohListenerStats::replies_sent);
  }
  release_slot();
}

void DohConnection::release_slot() {
  if (outstanding_ > 0) --outstanding_;
  if (is_closed() || in_session_) return;
  auto keep_alive = shared_from_this();
  pump();  // input held back at the cap
  settle();
}

// ---------------------------------------------------------------------------------
// Bytes in and out

DohConnection::~DohConnection() {
  if (session_ != nullptr) nghttp2_session_del(session_);
  if (box_ != nullptr) {
    box_->owner = nullptr;
    uvbox::close_box(box_);
  }
}

bool DohConnection::start(uv_stream_t *server) {
  auto *box = new DohConnectionBox;
  uv_tcp_init(server->loop, &box->handle);
  box->handle.data = box;
  box->owner = this;
  box_ = box;
  if (uv_accept(server, reinterpret_cast<uv_stream_t *>(&box->handle)) != 0) return false;
  uv_tcp_nodelay(&box->handle, 1);
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getpeername(&box->handle, reinterpret_cast<sockaddr *>(&address), &length) == 0)
    if (auto peer = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr *>(&address))) client_ = *peer;
  length = sizeof address;
  if (uv_tcp_getsockname(&box->handle, reinterpret_cast<sockaddr *>(&address), &length) == 0)
    if (auto local = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr *>(&address))) local_ = *local;
  try {
    tls_ = std::make_unique<TlsSession>(listener_->tls_);
  } catch (const TlsError &) {
    return false;
  }
  if (!create_session()) return false;
  settle();
  return !is_closed();
}

void DohConnection::close() {
  if (box_ == nullptr) return;
  auto keep_alive = shared_from_this();
  idle_timer_.stop();
  if (tls_ && tls_->is_open()) {
    // A GOAWAY and close_notify, best effort.
    if (!in_session_) {
      nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
      const uint8_t *data = nullptr;
      ssize_t n;
      while ((n = nghttp2_session_mem_send(session_, &data)) > 0) tls_->write(data, static_cast<size_t>(n));
    }
    tls_->shutdown();
    std::string output;
    tls_->take_output(output);
    uv_buf_t part = uv_buf_init(output.data(), static_cast<unsigned>(output.size()));
    if (box_->handle.write_queue_size == 0) uv_try_write(reinterpret_cast<uv_stream_t *>(&box_->handle), &part, 1);
  }
  box_->owner = nullptr;
  uvbox::close_box(box_);
  box_ = nullptr;
  reading_ = false;
  if (listener_ != nullptr) {
    DohListener *listener = listener_;
    listener_ = nullptr;
    listener->forget(*this);
  }
}

void DohConnection::start_reading() {
  if (reading_ || box_ == nullptr) return;
  int rc = uv_read_start(
      reinterpret_cast<uv_stream_t *>(&box_->handle),
      [](uv_handle_t *handle, size_t, uv_buf_t *buffer) {
        auto *box = static_cast<DohConnectionBox *>(handle->data);
        DohListener *listener = box->owner ? box->owner->listener_ : nullptr;
        *buffer = listener ? uv_buf_init(reinterpret_cast<char *>(listener->read_buffer_.get()), kReadBufferSize)
                           : uv_buf_init(nullptr, 0);
      },
      [](uv_stream_t *stream, ssize_t nread, const uv_buf_t *buffer) {
        auto *box = static_cast<DohConnectionBox *>(stream->data);
        if (box->owner) box->owner->on_read(nread, buffer);
      });
  if (rc != 0) {
    close();
    return;
  }
  reading_ = true;
}

void DohConnection::stop_reading() {
  if (!reading_ || box_ == nullptr) return;
  uv_read_stop(reinterpret_cast<uv_stream_t *>(&box_->handle));
  reading_ = false;
}

void DohConnection::on_read(ssize_t nread, const uv_buf_t *buffer) {
  auto keep_alive = shared_from_this();
  if (nread == 0) return;
  if (nread < 0) {
    if (nread == UV_EOF) {
      peer_finished_ = true;  // answer what was asked, then close
      settle();
    } else {
      close();
    }
    return;
  }
  const bool handshaking = tls_->state() == TlsSession::State::handshaking;
  tls_->feed(reinterpret_cast<const uint8_t *>(buffer->base), static_cast<size_t>(nread));
  if (handshaking && tls_->is_open()) count(&DohListenerStats::tls_handshakes);
  flush_tls();
  if (is_closed()) return;
  pump();
  if (is_closed()) return;
  settle();
}

// Decrypted input into the HTTP/2 session, while under the outstanding-query cap;
// then whatever the session has to say.
void DohConnection::pump() {
  uint8_t plain[kTlsRecordSize];
  while (!is_closed() && outstanding_ < slot_cap() && tls_->is_open()) {
    const size_t got = tls_->read(plain, sizeof plain);
    if (got == 0) break;
    in_session_ = true;
    const ssize_t used = nghttp2_session_mem_recv(session_, plain, got);
    in_session_ = false;
    if (is_closed()) return;
    if (used < 0) {
      count(&DohListenerStats::http2_errors);  // not HTTP/2 (an HTTP/1 client), or a protocol error
      send_pending();                          // GOAWAY, if nghttp2 queued one
      close();
      return;
    }
  }
  if (tls_->state() == TlsSession::State::failed) {
    count(&DohListenerStats::tls_handshake_failures);
    flush_tls();
    if (!is_closed()) close();
    return;
  }
  if (tls_->peer_closed()) peer_finished_ = true;
  send_pending();
}

void DohConnection::send_pending() {
  if (is_closed() || session_ == nullptr || !tls_->is_open()) {
    flush_tls();
    return;
  }
  const uint8_t *data = nullptr;
  ssize_t n;
  while ((n = nghttp2_session_mem_send(session_, &data)) > 0) {
    if (!tls_->write(data, static_cast<size_t>(n))) break;
  }
  flush_tls();
  if (is_closed()) return;
  if (n < 0 || (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_))) close();
}

void DohConnection::flush_tls() {
  if (is_closed() || !tls_->has_output()) return;
  std::string output;
  tls_->take_output(output);
  write_raw(output);
}

void DohConnection::write_raw(const std::string &bytes) {
  auto *stream = reinterpret_cast<uv_stream_t *>(&box_->handle);
  uv_buf_t part = uv_buf_init(const_cast<char *>(bytes.data()), static_cast<unsigned>(bytes.size()));
  int rc = uv_try_write(stream, &part, 1);
  size_t written = 0;
  if (rc >= 0) {
    written = static_cast<size_t>(rc);
  } else if (rc != UV_EAGAIN) {
    close();
    return;
  }
  if (written == bytes.size()) return;
  if (box_->handle.write_queue_size + (bytes.size() - written) >
      (listener_ ? listener_->limits_.max_pending_write_bytes : 0)) {
    count(&DohListenerStats::connections_not_reading);
    close();
    return;
  }
  auto *pending = new RawWrite;
  pending->bytes.assign(bytes, written);
  pending->request.data = pending;
  uv_buf_t copy = uv_buf_init(pending->bytes.data(), static_cast<unsigned>(pending->bytes.size()));
  rc = uv_write(&pending->request, stream, &copy, 1, [](uv_write_t *request, int status) {
    std::unique_ptr<RawWrite> done(static_cast<RawWrite *>(request->data));
    auto *box = static_cast<DohConnectionBox *>(request->handle->data);
    if (box->owner == nullptr) return;
    if (status < 0)
      box->owner->close();
    else
      box->owner->settle();
  });
  if (rc != 0) {
    delete pending;
    close();
  }
}

// Reading, the idle timer and the end of a finished client, in line with the counts.
void DohConnection::settle() {
  if (is_closed()) return;
  if (outstanding_ >= slot_cap() || peer_finished_)
    stop_reading();
  else
    start_reading();
  if (is_closed()) return;
  if (!idle()) {
    idle_timer_.stop();
    return;
  }
  if (peer_finished_ && box_->handle.write_queue_size == 0) {
    close();
    return;
  }
  if (!idle_timer_.active() && listener_ != nullptr) {
    idle_timer_.start(listener_->limits_.idle_timeout_ms, [this] {
      count(&DohListenerStats::connections_timed_out);
      close();
    });
  }
}

// ---------------------------------------------------------------------------------
// DohListener

DohListener::DohListener(PassKey, EventLoop &loop, QueryHandler &handler, const TcpLimits &limits,
                         std::shared_ptr<const TlsContext> tls)
    : loop_(loop),
      handler_(handler),
      limits_(limits),
      tls_(std::move(tls)),
      read_buffer_(std::make_unique<uint8_t[]>(kReadBufferSize)),
      reply_buffer_(std::make_unique<uint8_t[]>(kMaxDohMessage)) {}

DohListener::~DohListener() { close(); }

std::shared_ptr<DohListener> DohListener::create(EventLoop &loop, const SocketAddress &address, QueryHandler &handler,
                                                 const TcpLimits &limits, std::shared_ptr<const TlsContext> tls) {
  auto listener = std::make_shared<DohListener>(PassKey{}, loop, handler, limits, std::move(tls));
  listener->open(address);
  return listener;
}

void DohListener::open(const SocketAddress &address) {
  auto fail = [&](const std::string &what, const std::string &why) {
    close();
    throw std::runtime_error("HTTPS listener " + address.to_string() + ": " + what + ": " + why);
  };
  auto *box = new DohServerBox;
  if (int rc = uv_tcp_init_ex(loop_.uv_loop(), &box->handle, static_cast<unsigned>(address.family())); rc != 0) {
    uvbox::delete_unregistered_box(box);
    throw std::runtime_error("HTTPS listener " + address.to_string() + ": cannot create socket: " +
                             uvbox::error_text(rc));
  }
  box->handle.data = box;
  box->owner = this;
  box_ = box;
  if (auto error = uvbox::enable_reuse_port(reinterpret_cast<uv_handle_t *>(&box->handle)); !error.empty())
    fail("cannot share the port", error);
  if (int rc = uv_tcp_bind(&box->handle, address.sockaddr_ptr(), address.is_ipv6() ? UV_TCP_IPV6ONLY : 0); rc != 0)
    fail("cannot bind", uvbox::error_text(rc));
  int rc = uv_listen(reinterpret_cast<uv_stream_t *>(&box->handle), 256, [](uv_stream_t *server, int status) {
    auto *server_box = static_cast<DohServerBox *>(server->data);
    if (status == 0 && server_box->owner) server_box->owner->on_connection();
  });
  if (rc != 0) fail("cannot listen", uvbox::error_text(rc));
  sockaddr_storage bound{};
  int bound_length = sizeof bound;
  if (uv_tcp_getsockname(&box->handle, reinterpret_cast<sockaddr *>(&bound), &bound_length) == 0)
    if (auto local = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr *>(&bound))) local_address_ = *local;
}

void DohListener::on_connection() {
  auto keep_alive = shared_from_this();
  auto *server = reinterpret_cast<uv_stream_t *>(&box_->handle);
  if (connections_.size() >= limits_.max_connections && !make_room()) {
    ++stats_.connections_refused;
    auto *refused = new DohConnectionBox;
    uv_tcp_init(server->loop, &refused->handle);
    refused->handle.data = refused;
    uv_accept(server, reinterpret_cast<uv_stream_t *>(&refused->handle));
    uvbox::close_box(refused);
    return;
  }
  auto connection = std::make_shared<DohConnection>(*this, loop_);
  connections_.push_back(connection);
  connection->position = std::prev(connections_.end());
  ++stats_.connections_accepted;
  if (!connection->start(server)) connection->close();
}

bool DohListener::make_room() {
  for (auto &connection : connections_) {
    if (connection->idle()) {
      ++stats_.connections_evicted;
      connection->close();
      return true;
    }
  }
  return false;
}

void DohListener::forget(DohConnection &connection) { connections_.erase(connection.position); }

void DohListener::close() {
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
