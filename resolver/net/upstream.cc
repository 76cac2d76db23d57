#include "resolver/net/upstream.h"

#include <sys/socket.h>

#include <algorithm>
#include <string>
#include <vector>

#include "resolver/net/uv_box.h"
#include "resolver/wire/name.h"

namespace rsv {

namespace {

constexpr size_t kReceiveBufferSize = 65536;
constexpr size_t kMaxMessageSize = 65535;

uint16_t read_u16(const uint8_t *p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

}  // namespace

struct UdpSocketBox {
  uv_udp_t handle{};
  UpstreamExchange *owner = nullptr;
  uv_udp_send_t send_request{};  // used only when the socket cannot take the packet at once
  std::string wire;
};

struct TcpSocketBox {
  uv_tcp_t handle{};
  UpstreamExchange *owner = nullptr;
  uv_connect_t connect_request{};
  uv_write_t write_request{};
  std::string frame;  // length prefix and query, alive until the write callback
};

// One query in flight: its socket, its timer and the caller's callback. Owned by the
// upstream's list; it ends in UdpTcpUpstream::finish().
class UpstreamExchange {
public:
  UpstreamExchange(UdpTcpUpstream &upstream, const OutgoingQuery &query,
                   std::function<void(TransportResult)> done)
      : done(std::move(done)),
        started_ms(upstream.clock_.now_monotonic_ms()),
        upstream_(upstream),
        query_(query),
        timer_(upstream.loop_) {}
  ~UpstreamExchange() { close_sockets(); }
  UpstreamExchange(const UpstreamExchange &) = delete;
  UpstreamExchange &operator=(const UpstreamExchange &) = delete;

  void start();
  void close_sockets();
  // Sends the query over the socket start_udp() opened and starts the timer; false on
  // failure.
  bool send_datagram();
  void start_timer();
  void fail_soon();

  std::list<std::unique_ptr<UpstreamExchange>>::iterator position;
  std::function<void(TransportResult)> done;
  // When the query left (UDP: at the end of the turn it was asked in), for the RTT.
  uint64_t started_ms;
  // In the upstream's queued_datagrams_, waiting for the end of the turn.
  bool datagram_queued_ = false;

private:
  bool start_udp();
  bool start_tcp();
  void on_network_error() { upstream_.finish(*this, TransportStatus::network_error); }
  // Finishes the exchange (and returns true: `this` is gone) when the datagram is the
  // answer; otherwise counts and ignores it.
  bool on_candidate(const uint8_t *data, size_t size);
  void on_timeout();
  bool read_waiting_reply();
  void on_tcp_connected();
  void on_tcp_read(ssize_t nread, const uv_buf_t *buffer);
  uv_buf_t receive_buffer() const {
    return uv_buf_init(reinterpret_cast<char *>(upstream_.receive_buffer_.get()),
                       kReceiveBufferSize);
  }

  UdpTcpUpstream &upstream_;
  OutgoingQuery query_;
  Timer timer_;
  UdpSocketBox *udp_ = nullptr;
  TcpSocketBox *tcp_ = nullptr;
  std::vector<uint8_t> tcp_input_;
};

void UpstreamExchange::start() {
  // A UDP query's timer starts when its datagram leaves (send_datagram).
  if (query_.tcp) start_timer();
  bool started = query_.tcp ? start_tcp() : start_udp();
  if (!started) fail_soon();
}

void UpstreamExchange::start_timer() {
  timer_.start(query_.timeout_ms, [this] { on_timeout(); });
}

void UpstreamExchange::on_timeout() {
  // libuv runs due timers before it polls for I/O, so after a long turn (a large
  // batch of replies to validate) the answer may be in the socket, unread, when the
  // timer fires. Look first: asking again would only repeat a query already answered.
  if (udp_ != nullptr && read_waiting_reply()) return;  // `this` is gone
  upstream_.finish(*this, TransportStatus::timeout);
}

bool UpstreamExchange::read_waiting_reply() {
  int fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t *>(&udp_->handle), &fd) != 0) return false;
  // The socket is connected, so the kernel has kept only the server's datagrams; a
  // spoofer's that still got through is ignored as in the read callback. Bounded: at
  // most a handful of reads.
  for (int read = 0; read < 8; ++read) {
    ssize_t size = ::recv(fd, upstream_.receive_buffer_.get(), kReceiveBufferSize, MSG_DONTWAIT | MSG_TRUNC);
    if (size < 0) return false;  // nothing (EAGAIN), or an error the timeout covers anyway
    if (static_cast<size_t>(size) > kReceiveBufferSize) {
      ++upstream_.stats_.mismatches_ignored;
      continue;
    }
    if (on_candidate(upstream_.receive_buffer_.get(), static_cast<size_t>(size))) return true;
  }
  return false;
}

// Transport promises never to call `done` from inside send(): an immediate failure is
// reported from a zero-delay timer instead.
void UpstreamExchange::fail_soon() {
  close_sockets();
  timer_.start(0, [this] { upstream_.finish(*this, TransportStatus::network_error); });
}

void UpstreamExchange::close_sockets() {
  if (datagram_queued_) {
    // Rare (an exchange ends in the turn it began): the queue holds one turn's sends.
    datagram_queued_ = false;
    auto &queue = upstream_.queued_datagrams_;
    std::replace(queue.begin(), queue.end(), this, static_cast<UpstreamExchange *>(nullptr));
  }
  if (udp_ != nullptr) {
    uv_udp_recv_stop(&udp_->handle);
    udp_->owner = nullptr;
    uvbox::close_box(udp_);
    udp_ = nullptr;
  }
  if (tcp_ != nullptr) {
    tcp_->owner = nullptr;
    uvbox::close_box(tcp_);
    tcp_ = nullptr;
  }
}

bool UpstreamExchange::on_candidate(const uint8_t *data, size_t size) {
  std::string_view wire(reinterpret_cast<const char *>(data), size);
  if (!response_matches_query(wire, query_.id, query_.question)) {
    // RFC 5452 9.1: not ours (or forged); keep waiting for the real answer.
    ++upstream_.stats_.mismatches_ignored;
    return false;
  }
  upstream_.finish(*this, TransportStatus::reply, std::string(wire));  // `this` is gone now
  return true;
}

bool UpstreamExchange::start_udp() {
  auto source = upstream_.source_for(query_.server);
  if (!source) return false;
  auto *box = new UdpSocketBox;
  if (uv_udp_init_ex(upstream_.loop_.uv_loop(), &box->handle,
                     static_cast<unsigned>(query_.server.family())) != 0) {
    uvbox::delete_unregistered_box(box);
    return false;
  }
  box->handle.data = box;
  box->owner = this;
  box->wire = std::move(query_.wire);
  udp_ = box;

  // RFC 5452 10: a random source port per query; redraw if it is taken.
  bool bound = false;
  for (int attempt = 0; attempt < UdpTcpUpstream::kPortAttempts && !bound; ++attempt) {
    SocketAddress local = *source;
    local.set_port(upstream_.random_source_port());
    int rc = uv_udp_bind(&box->handle, local.sockaddr_ptr(), 0);
    if (rc == 0)
      bound = true;
    else if (rc == UV_EADDRINUSE || rc == UV_EACCES)
      ++upstream_.stats_.port_collisions;
    else
      return false;
  }
  if (!bound) {
    SocketAddress local = *source;
    local.set_port(0);  // let the kernel pick (it randomises ephemeral ports too)
    if (uv_udp_bind(&box->handle, local.sockaddr_ptr(), 0) != 0) return false;
  }
  // A connected socket: the kernel drops datagrams from any other address or port, and
  // reports ICMP port unreachable as UV_ECONNREFUSED.
  if (uv_udp_connect(&box->handle, query_.server.sockaddr_ptr()) != 0) return false;

  int rc = uv_udp_recv_start(
      &box->handle,
      [](uv_handle_t *handle, size_t, uv_buf_t *buffer) {
        auto *socket_box = static_cast<UdpSocketBox *>(handle->data);
        *buffer = socket_box->owner ? socket_box->owner->receive_buffer() : uv_buf_init(nullptr, 0);
      },
      [](uv_udp_t *handle, ssize_t nread, const uv_buf_t *buffer, const sockaddr *from,
         unsigned flags) {
        auto *socket_box = static_cast<UdpSocketBox *>(handle->data);
        UpstreamExchange *exchange = socket_box->owner;
        if (exchange == nullptr) return;
        if (nread < 0) {
          exchange->on_network_error();
          return;
        }
        if (from == nullptr) return;  // libuv: nothing more to read for now
        auto sender = SocketAddress::from_sockaddr(from);
        if (!sender || !(*sender == exchange->query_.server) || (flags & UV_UDP_PARTIAL) != 0) {
          ++exchange->upstream_.stats_.mismatches_ignored;
          return;
        }
        exchange->on_candidate(reinterpret_cast<const uint8_t *>(buffer->base),
                               static_cast<size_t>(nread));
      });
  if (rc != 0) return false;

  datagram_queued_ = true;
  upstream_.queued_datagrams_.push_back(this);
  // A long turn (a large batch of replies to validate) does not hold its first queries
  // back for all of it.
  if (upstream_.queued_datagrams_.size() >= UdpTcpUpstream::kDatagramsPerBurst)
    upstream_.send_queued_datagrams();
  else
    upstream_.send_at_end_of_turn_.arm();
  return true;
}

bool UpstreamExchange::send_datagram() {
  UdpSocketBox *box = udp_;
  if (box == nullptr) return false;
  started_ms = upstream_.clock_.now_monotonic_ms();
  start_timer();
  uv_buf_t packet = uv_buf_init(box->wire.data(), static_cast<unsigned>(box->wire.size()));
  int rc = uv_udp_try_send(&box->handle, &packet, 1, nullptr);
  if (rc >= 0) return true;
  if (rc != UV_EAGAIN) return false;
  rc = uv_udp_send(&box->send_request, &box->handle, &packet, 1, nullptr,
                   [](uv_udp_send_t *request, int status) {
                     auto *socket_box = static_cast<UdpSocketBox *>(request->handle->data);
                     if (status < 0 && socket_box->owner != nullptr)
                       socket_box->owner->on_network_error();
                   });
  return rc == 0;
}

bool UpstreamExchange::start_tcp() {
  auto source = upstream_.source_for(query_.server);
  if (!source || query_.wire.empty() || query_.wire.size() > kMaxMessageSize) return false;
  auto *box = new TcpSocketBox;
  if (uv_tcp_init_ex(upstream_.loop_.uv_loop(), &box->handle,
                     static_cast<unsigned>(query_.server.family())) != 0) {
    uvbox::delete_unregistered_box(box);
    return false;
  }
  box->handle.data = box;
  box->owner = this;
  tcp_ = box;
  // RFC 1035 4.2.2: two-octet length, then the message.
  box->frame.reserve(query_.wire.size() + 2);
  box->frame.push_back(static_cast<char>(query_.wire.size() >> 8));
  box->frame.push_back(static_cast<char>(query_.wire.size() & 0xFF));
  box->frame += query_.wire;

  // Bind only to a configured interface; the kernel chooses the (random) port.
  if (!upstream_.network_.outgoing_interface.empty() &&
      uv_tcp_bind(&box->handle, source->sockaddr_ptr(), 0) != 0)
    return false;
  int rc = uv_tcp_connect(&box->connect_request, &box->handle, query_.server.sockaddr_ptr(),
                          [](uv_connect_t *request, int status) {
                            auto *socket_box = static_cast<TcpSocketBox *>(request->handle->data);
                            UpstreamExchange *exchange = socket_box->owner;
                            if (exchange == nullptr) return;  // closed meanwhile (UV_ECANCELED)
                            if (status < 0)
                              exchange->on_network_error();
                            else
                              exchange->on_tcp_connected();
                          });
  return rc == 0;
}

void UpstreamExchange::on_tcp_connected() {
  auto *stream = reinterpret_cast<uv_stream_t *>(&tcp_->handle);
  uv_tcp_nodelay(&tcp_->handle, 1);
  uv_buf_t frame = uv_buf_init(tcp_->frame.data(), static_cast<unsigned>(tcp_->frame.size()));
  int rc = uv_write(&tcp_->write_request, stream, &frame, 1, [](uv_write_t *request, int status) {
    auto *socket_box = static_cast<TcpSocketBox *>(request->handle->data);
    if (status < 0 && socket_box->owner != nullptr) socket_box->owner->on_network_error();
  });
  if (rc != 0) {
    on_network_error();
    return;
  }
  rc = uv_read_start(
      stream,
      [](uv_handle_t *handle, size_t, uv_buf_t *buffer) {
        auto *socket_box = static_cast<TcpSocketBox *>(handle->data);
        *buffer = socket_box->owner ? socket_box->owner->receive_buffer() : uv_buf_init(nullptr, 0);
      },
      [](uv_stream_t *read_stream, ssize_t nread, const uv_buf_t *buffer) {
        auto *socket_box = static_cast<TcpSocketBox *>(read_stream->data);
        if (socket_box->owner != nullptr) socket_box->owner->on_tcp_read(nread, buffer);
      });
  if (rc != 0) on_network_error();
}

void UpstreamExchange::on_tcp_read(ssize_t nread, const uv_buf_t *buffer) {
  if (nread == 0) return;
  if (nread < 0) {
    on_network_error();  // closed (or reset) before a whole acceptable reply arrived
    return;
  }
  tcp_input_.insert(tcp_input_.end(), buffer->base, buffer->base + nread);
  // A server answers on a connection only what was asked on it, but a frame that is
  // not our answer is still just ignored, as over UDP.
  while (tcp_input_.size() >= 2) {
    size_t length = read_u16(tcp_input_.data());
    if (tcp_input_.size() < 2 + length) return;
    if (response_matches_query(
            std::string_view(reinterpret_cast<const char *>(tcp_input_.data() + 2), length),
            query_.id, query_.question)) {
      std::string reply(reinterpret_cast<const char *>(tcp_input_.data() + 2), length);
      upstream_.finish(*this, TransportStatus::reply, std::move(reply));  // `this` is gone now
      return;
    }
    ++upstream_.stats_.mismatches_ignored;
    tcp_input_.erase(tcp_input_.begin(), tcp_input_.begin() + static_cast<ptrdiff_t>(2 + length));
  }
}

// ---------------------------------------------------------------------------------
// UdpTcpUpstream

UdpTcpUpstream::UdpTcpUpstream(EventLoop &loop, RandomSource &random, Clock &clock,
                               const NetworkConfig &network, UpstreamStats *stats)
    : loop_(loop),
      random_(random),
      clock_(clock),
      network_(network),
      receive_buffer_(std::make_unique<uint8_t[]>(kReceiveBufferSize)),
      stats_(stats ? *stats : own_stats_),
      send_at_end_of_turn_(loop, [this] { send_queued_datagrams(); }) {}

void UdpTcpUpstream::send_queued_datagrams() {
  // The loop's clock was read when the turn began; the timers started here count from
  // now, not from then.
  loop_.update_clock();
  // No callback runs from here (a failure is reported from a zero-delay timer), so
  // the queue changes only by the nulling of an entry whose exchange fails here.
  for (size_t i = 0; i < queued_datagrams_.size(); ++i) {
    UpstreamExchange *exchange = queued_datagrams_[i];
    if (exchange == nullptr) continue;
    exchange->datagram_queued_ = false;
    if (!exchange->send_datagram()) exchange->fail_soon();
  }
  queued_datagrams_.clear();
}

UdpTcpUpstream::~UdpTcpUpstream() {
  // Abandon what is in flight: callbacks are destroyed, never called (see header).
  auto abandoned = std::move(exchanges_);
  exchanges_.clear();
  for (auto &exchange : abandoned) exchange->done = nullptr;
}

void UdpTcpUpstream::send(const OutgoingQuery &query, std::function<void(TransportResult)> done) {
  if (query.tcp)
    ++stats_.tcp_queries;
  else
    ++stats_.udp_queries;
  exchanges_.push_back(std::make_unique<UpstreamExchange>(*this, query, std::move(done)));
  exchanges_.back()->position = std::prev(exchanges_.end());
  exchanges_.back()->start();
}

void UdpTcpUpstream::finish(UpstreamExchange &exchange, TransportStatus status, std::string wire) {
  std::unique_ptr<UpstreamExchange> owned = std::move(*exchange.position);
  exchanges_.erase(exchange.position);
  owned->close_sockets();

  TransportResult result;
  result.status = status;
  result.wire = std::move(wire);
  uint64_t elapsed = clock_.now_monotonic_ms() - owned->started_ms;
  result.rtt_ms = static_cast<uint32_t>(std::min<uint64_t>(elapsed, UINT32_MAX));
  switch (status) {
    case TransportStatus::reply:
      ++stats_.replies;
      break;
    case TransportStatus::timeout:
      ++stats_.timeouts;
      break;
    case TransportStatus::network_error:
      ++stats_.network_errors;
      break;
  }
  auto done = std::move(owned->done);
  // Destroying the exchange stops its timer; if we are inside that timer's callback,
  // the Timer keeps its handle alive until the callback has returned.
  owned.reset();
  // Last: `done` may send again or destroy this upstream.
  if (done) done(std::move(result));
}

std::optional<SocketAddress> UdpTcpUpstream::source_for(const SocketAddress &server) {
  if (server.is_ipv4() && !network_.do_ip4) return std::nullopt;
  if (server.is_ipv6() && !network_.do_ip6) return std::nullopt;
  if (network_.outgoing_interface.empty()) {
    auto wildcard = SocketAddress::parse(server.is_ipv6() ? "::" : "0.0.0.0");
    if (wildcard) wildcard->set_port(0);
    return wildcard;
  }
  // A configured list replaces the default: a family it does not name is not used.
  size_t matching = 0;
  for (const auto &address : network_.outgoing_interface)
    matching += address.family() == server.family();
  if (matching == 0) return std::nullopt;
  size_t pick = random_.uniform(static_cast<uint32_t>(matching));
  for (const auto &address : network_.outgoing_interface) {
    if (address.family() != server.family()) continue;
    if (pick-- == 0) {
      SocketAddress source = address;
      source.set_port(0);
      return source;
    }
  }
  return std::nullopt;
}

uint16_t UdpTcpUpstream::random_source_port() {
  return static_cast<uint16_t>(kLowestSourcePort + random_.uniform(65536u - kLowestSourcePort));
}

}  // namespace rsv
