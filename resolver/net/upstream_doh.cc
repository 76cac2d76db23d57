// DNS over HTTPS towards a forwarder (RFC 8484): an HTTP/2 client session (nghttp2)
// on an UpstreamConnection. Each query is one stream: POST to the server's path with
// content-type and accept application/dns-message, the DNS ID set to 0 (RFC 8484
// 4.1) and put back in the reply. nghttp2 holds streams beyond the server's
// SETTINGS_MAX_CONCURRENT_STREAMS until others end. Anything but a 200 response of
// type application/dns-message (compared exactly, RFC 9110 8.3.1) whose DNS message
// answers the question (doh_response_answers) is a failure of that query; a stream
// the server refused (REFUSED_STREAM, or left out by a GOAWAY) may be retried. The
// status and content type are the final response's: a 1xx response's fields are
// forgotten when the next response begins, and trailer fields are not taken.
#include <nghttp2/nghttp2.h>

#include <map>
#include <string>
#include <vector>

#include "resolver/base/log.h"
#include "resolver/net/doh_message.h"
#include "resolver/net/upstream.h"
#include "resolver/net/upstream_connection.h"

namespace rsv {

namespace {

nghttp2_nv header(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t *>(const_cast<char *>(name.data())),
                    reinterpret_cast<uint8_t *>(const_cast<char *>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

class DohClientConnection final : public UpstreamConnection {
public:
  DohClientConnection(EncryptedUpstream &upstream, EncryptedEndpoint &endpoint, std::shared_ptr<const TlsContext> tls,
                      const UpstreamServer &server)
      : UpstreamConnection(upstream, endpoint, std::move(tls)), server_(server) {}
  ~DohClientConnection() override {
    if (session_ != nullptr) nghttp2_session_del(session_);
  }

protected:
  void on_open() override {
    nghttp2_session_callbacks *callbacks = nullptr;
    if (nghttp2_session_callbacks_new(&callbacks) != 0) return;
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    const int rc = nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    if (rc != 0) {
      session_ = nullptr;
      return;
    }
    const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    send_session();
  }

  void send_query(uint64_t key) override {
    const OutgoingQuery *query = upstream_.query(key);
    if (query == nullptr || session_ == nullptr || query->wire.size() < 12) return;
    Stream stream;
    stream.key = key;
    stream.original_id = query->id;
    stream.question = query->question;
    stream.request = query->wire;
    stream.request[0] = stream.request[1] = 0;  // RFC 8484 4.1
    const std::string length = std::to_string(stream.request.size());
    const nghttp2_nv headers[] = {header(":method", "POST"),
                                  header(":scheme", "https"),
                                  header(":authority", server_.host),
                                  header(":path", server_.path),
                                  header("content-type", kDnsMessageType),
                                  header("accept", kDnsMessageType),
                                  header("content-length", length)};
    nghttp2_data_provider provider{};
    provider.read_callback = read_request;
    const int32_t stream_id =
        nghttp2_submit_request(session_, nullptr, headers, std::size(headers), &provider, nullptr);
    if (stream_id < 0) return;  // the query's timer will fail it
    streams_.emplace(stream_id, std::move(stream));
    send_session();
  }

  void on_plaintext(const uint8_t *data, size_t size) override {
    if (session_ == nullptr) return;
    in_session_ = true;
    const ssize_t used = nghttp2_session_mem_recv(session_, data, size);
    in_session_ = false;
    if (used < 0) {
      RSV_LOG(info, "encrypted upstream %s: HTTP/2 error: %s", server_.to_string().c_str(),
              nghttp2_strerror(static_cast<int>(used)));
      close(true);
      return;
    }
    send_session();
  }

  void forget_query(uint64_t key) override {
    for (auto &[stream_id, stream] : streams_) {
      if (stream.key != key) continue;
      stream.key = 0;  // its reply, if any, goes nowhere
      if (session_ != nullptr && !closed()) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    }
  }
  size_t in_flight() const override {
    size_t count = 0;
    for (const auto &[id, stream] : streams_) count += stream.key != 0;
    return count;
  }
  std::vector<uint64_t> in_flight_keys() const override {
    std::vector<uint64_t> keys;
    for (const auto &[id, stream] : streams_)
      if (stream.key != 0) keys.push_back(stream.key);
    return keys;
  }
  void say_goodbye() override {
    if (session_ == nullptr || in_session_) return;
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    const uint8_t *data = nullptr;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session_, &data)) > 0) write_plain(data, static_cast<size_t>(n));
  }

private:
  struct Stream {
    uint64_t key = 0;  // 0: the query is over
    uint16_t original_id = 0;
    Question question;
    std::string request;
    size_t sent = 0;
    DohResponse response;
    bool in_response_headers = false;  // the header block being read began with :status
  };

  void send_session() {
    if (session_ == nullptr || in_session_ || closed()) return;
    const uint8_t *data = nullptr;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session_, &data)) > 0) write_plain(data, static_cast<size_t>(n));
    flush();
    if (n < 0 || (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_))) close(true);
  }

  static DohClientConnection &of(void *user_data) { return *static_cast<DohClientConnection *>(user_data); }

  static ssize_t read_request(nghttp2_session *, int32_t stream_id, uint8_t *buffer, size_t length, uint32_t *flags,
                              nghttp2_data_source *, void *user_data) {
    auto &self = of(user_data);
    auto it = self.streams_.find(stream_id);
    if (it == self.streams_.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    Stream &stream = it->second;
    const size_t size = std::min(length, stream.request.size() - stream.sent);
    std::copy_n(stream.request.data() + stream.sent, size, buffer);
    stream.sent += size;
    if (stream.sent == stream.request.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(size);
  }

  static int on_begin_headers(nghttp2_session *, const nghttp2_frame *frame, void *user_data) {
    auto &self = of(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (auto it = self.streams_.find(frame->hd.stream_id); it != self.streams_.end())
      it->second.in_response_headers = false;  // a response's block, or trailers: :status tells
    return 0;
  }

  static int on_header(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name, size_t name_length,
                       const uint8_t *value, size_t value_length, uint8_t, void *user_data) {
    auto &self = of(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto it = self.streams_.find(frame->hd.stream_id);
    if (it == self.streams_.end()) return 0;
    Stream &stream = it->second;
    const std::string_view field(reinterpret_cast<const char *>(name), name_length);
    const std::string_view text(reinterpret_cast<const char *>(value), value_length);
    if (field == ":status") {
      // RFC 9113 8.3: pseudo-header fields come first, so this begins a response (a
      // 1xx's fields are not the final response's). nghttp2 checked it is 3 digits.
      stream.in_response_headers = true;
      stream.response.content_type.clear();
      stream.response.status = 0;
      for (char c : text)
        stream.response.status = stream.response.status * 10 + (c >= '0' && c <= '9' ? c - '0' : 0);
    } else if (field == "content-type" && stream.in_response_headers) {
      // RFC 9110 5.3: a repeated field is one list, joined by commas; content-type is
      // a single media type, so two fields never name application/dns-message. Trailer
      // fields (a block without :status) do not describe the body (RFC 9110 6.5.1).
      // Kept short whatever a hostile server repeats (HPACK makes each repeat one octet).
      std::string &type = stream.response.content_type;
      if (type.size() < 256) {
        if (!type.empty()) type += ", ";
        type.append(text.substr(0, 256));
      }
    }
    return 0;
  }

  static int on_data(nghttp2_session *, uint8_t, int32_t stream_id, const uint8_t *data, size_t size,
                     void *user_data) {
    auto &self = of(user_data);
    auto it = self.streams_.find(stream_id);
    if (it == self.streams_.end()) return 0;
    DohResponse &response = it->second.response;
    if (response.body_too_large) return 0;
    if (response.body.size() + size > kMaxDohMessage) {
      response.body_too_large = true;  // not a DNS message (RFC 8484 6)
      response.body.clear();
      return 0;
    }
    response.body.append(reinterpret_cast<const char *>(data), size);
    return 0;
  }

  static int on_stream_close(nghttp2_session *, int32_t stream_id, uint32_t error_code, void *user_data) {
    auto &self = of(user_data);
    auto it = self.streams_.find(stream_id);
    if (it == self.streams_.end()) return 0;
    Stream stream = std::move(it->second);
    self.streams_.erase(it);
    if (stream.key == 0) return 0;
    // RFC 8484 4.2.1 / RFC 9110 8.3.1: a 200 of exactly application/dns-message (not
    // one whose type merely begins so) that answers our question, asked with ID 0.
    if (doh_response_answers(stream.response, stream.question)) {
      std::string &body = stream.response.body;
      body[0] = static_cast<char>(stream.original_id >> 8);
      body[1] = static_cast<char>(stream.original_id & 0xFF);
      self.delivered(stream.key, std::move(body));
      return 0;
    }
    if (stream.response.status != 0) ++self.stats().mismatches_ignored;
    // RFC 9113 8.7: a refused stream was not processed and may be tried again.
    self.upstream_.fail(stream.key, error_code == NGHTTP2_REFUSED_STREAM);
    return 0;
  }

  UpstreamServer server_;
  nghttp2_session *session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  bool in_session_ = false;
};

}  // namespace

std::shared_ptr<UpstreamConnection> make_doh_connection(EncryptedUpstream &upstream, EncryptedEndpoint &endpoint,
                                                        std::shared_ptr<const TlsContext> tls,
                                                        const UpstreamServer &server) {
  return std::make_shared<DohClientConnection>(upstream, endpoint, std::move(tls), server);
}

}  // namespace rsv
