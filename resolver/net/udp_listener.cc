#include "resolver/net/udp_listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "resolver/net/uv_box.h"

namespace rsv {

// One datagram per slice of the receive buffer: any UDP payload fits, so a query is
// never cut (a cut one would be dropped, MSG_TRUNC).
constexpr size_t kReceiveSlice = 64 * 1024;
// recvmmsg calls in one readiness callback at most, so that a flood on one socket
// leaves the loop's other handles their turn; what is left wakes the loop again.
constexpr size_t kReadRounds = 4;

// The socket, the receive slices, the reply buffers and the batch of replies waiting
// for sendmmsg: they live until the close callback, since a queued send may still
// reference the handle after the listener is gone.
struct UdpListenerBox {
  uv_udp_t handle{};
  UdpListener *owner = nullptr;
  sockaddr_storage senders[UdpListener::kBatch]{};
  uint8_t receive_buffer[UdpListener::kBatch * kReceiveSlice];
  uint8_t reply_buffers[UdpListener::kBatch][UdpListener::kBufferSize];
  // Replies written into reply_buffers[0 .. pending), to clients[i].
  size_t pending = 0;
  size_t reply_sizes[UdpListener::kBatch]{};
  SocketAddress clients[UdpListener::kBatch];
};

// The reading side of the listener's socket: a uv_poll_t on a duplicate of the
// socket's descriptor (the uv_udp_t keeps the original for sending and its queue).
// libuv's own UDP reading ends every readiness callback with a recvmmsg that finds
// the socket empty (EAGAIN); reading here stops when a recvmmsg returns fewer
// datagrams than it asked for, which on a busy server with small batches saves one
// system call in four. The duplicate is closed when the box is deleted, after
// libuv's close callback, never earlier (uv_poll_t's rule).
struct UdpReadBox {
  uv_poll_t handle{};
  UdpListener *owner = nullptr;
  int fd = -1;
  ~UdpReadBox() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

// A reply that could not be sent at once (socket buffer full): owns its bytes until
// libuv's send callback, which runs even if the socket is closed first (UV_ECANCELED).
struct QueuedDatagram {
  uv_udp_send_t request{};
  std::string bytes;
};

class UdpReplyChannel final : public ReplyChannel {
public:
  UdpReplyChannel(std::weak_ptr<UdpListener> listener, const SocketAddress &client)
      : listener_(std::move(listener)), client_(client) {}

  void send(std::string_view wire) override {
    if (auto listener = listener_.lock()) listener->send_at_end_of_turn(client_, wire);
  }

private:
  std::weak_ptr<UdpListener> listener_;
  SocketAddress client_;
};

}  // namespace

// Lives on the stack for the duration of one handle() call.
class UdpQueryContext final : public QueryContext {
public:
  explicit UdpQueryContext(UdpListener &listener) : listener_(listener) {}

  std::shared_ptr<ReplyChannel> defer() override {
    ++listener_.stats_.deferred;
    return std::make_shared<UdpReplyChannel>(listener_.weak_from_this(), client);
  }

private:
  UdpListener &listener_;
};

UdpListener::UdpListener(PassKey, EventLoop &loop, QueryHandler &handler, const UdpLimits &limits)
    : loop_(loop), handler_(handler), limits_(limits) {}

UdpListener::~UdpListener() { close(); }

std::shared_ptr<UdpListener> UdpListener::create(EventLoop &loop, const SocketAddress &address,
                                                 QueryHandler &handler, const UdpLimits &limits,
                                                 UdpSocketBuffers buffers) {
  auto listener = std::make_shared<UdpListener>(PassKey{}, loop, handler, limits);
  listener->open(loop, address, buffers);
  return listener;
}

void UdpListener::open(EventLoop &loop, const SocketAddress &address, UdpSocketBuffers buffers) {
  auto fail = [&](const std::string &what, const std::string &why) {
    close();
    throw std::runtime_error("UDP listener " + address.to_string() + ": " + what + ": " + why);
  };

  auto *box = new UdpListenerBox;
  // init_ex creates the socket now, so options can be set before bind. The handle
  // sends; a UdpReadBox reads.
  if (int rc = uv_udp_init_ex(loop.uv_loop(), &box->handle, static_cast<unsigned>(address.family()));
      rc != 0) {
    uvbox::delete_unregistered_box(box);
    throw std::runtime_error("UDP listener " + address.to_string() +
                             ": cannot create socket: " + uvbox::error_text(rc));
  }
  box->owner = this;
  box->handle.data = box;
  box_ = box;
  deferred_flush_ = std::make_unique<EndOfTurn>(loop, [this] { flush_deferred_replies(); });

  auto *handle = reinterpret_cast<uv_handle_t *>(&box->handle);
  if (auto error = uvbox::enable_reuse_port(handle); !error.empty()) fail("cannot share the port", error);
  // Before bind: the kernel may queue datagrams from the moment the socket is bound.
  if (auto error = uvbox::set_socket_buffer(handle, SO_RCVBUF, buffers.receive, &granted_.receive); !error.empty())
    fail("cannot size the receive buffer", error);
  if (auto error = uvbox::set_socket_buffer(handle, SO_SNDBUF, buffers.send, &granted_.send); !error.empty())
    fail("cannot size the send buffer", error);
  // An IPv6 listener serves IPv6 only; IPv4 clients reach the IPv4 listener.
  unsigned flags = address.is_ipv6() ? UV_UDP_IPV6ONLY : 0;
  if (int rc = uv_udp_bind(&box->handle, address.sockaddr_ptr(), flags); rc != 0)
    fail("cannot bind", uvbox::error_text(rc));

  sockaddr_storage bound{};
  int bound_length = sizeof bound;
  if (uv_udp_getsockname(&box->handle, reinterpret_cast<sockaddr *>(&bound), &bound_length) == 0) {
    if (auto local = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr *>(&bound)))
      local_address_ = *local;
  }

  uv_os_fd_t socket_fd = -1;
  if (int rc = uv_fileno(handle, &socket_fd); rc != 0) fail("no descriptor", uvbox::error_text(rc));
  auto *reader = new UdpReadBox;
  reader->fd = ::fcntl(socket_fd, F_DUPFD_CLOEXEC, 0);
  if (reader->fd < 0) {
    const int error = errno;
    uvbox::delete_unregistered_box(reader);
    fail("cannot duplicate the socket for reading", std::strerror(error));
  }
  if (int rc = uv_poll_init(loop.uv_loop(), &reader->handle, reader->fd); rc != 0) {
    uvbox::delete_unregistered_box(reader);
    fail("cannot watch the socket", uvbox::error_text(rc));
  }
  reader->owner = this;
  reader->handle.data = reader;
  reader_ = reader;
  int rc = uv_poll_start(&reader->handle, UV_READABLE, [](uv_poll_t *poll, int status, int) {
    auto *read_box = static_cast<UdpReadBox *>(poll->data);
    UdpListener *listener = read_box->owner;
    if (listener == nullptr) return;
    if (status < 0) {
      ++listener->stats_.receive_errors;
      return;
    }
    listener->read_datagrams();
  });
  if (rc != 0) fail("cannot receive", uvbox::error_text(rc));
}

void UdpListener::read_datagrams() {
  // The handler may drop the last outside reference to this listener, or close it.
  auto keep_alive = shared_from_this();
  size_t datagrams_read = 0;
  mmsghdr messages[kBatch]{};
  iovec parts[kBatch];
  for (size_t round = 0; round < kReadRounds && box_ != nullptr; ++round) {
    for (size_t i = 0; i < kBatch; ++i) {
      parts[i].iov_base = box_->receive_buffer + i * kReceiveSlice;
      parts[i].iov_len = kReceiveSlice;
      messages[i].msg_hdr = msghdr{};
      messages[i].msg_hdr.msg_name = &box_->senders[i];
      messages[i].msg_hdr.msg_namelen = sizeof box_->senders[i];
      messages[i].msg_hdr.msg_iov = &parts[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int received = ::recvmmsg(reader_->fd, messages, kBatch, MSG_DONTWAIT, nullptr);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.receive_errors;
      break;
    }
    datagrams_read += static_cast<size_t>(received);
    for (int i = 0; i < received && box_ != nullptr; ++i) {
      ++stats_.datagrams_received;
      const mmsghdr &message = messages[i];
      // A truncated datagram is not the query the client sent; an empty one is none.
      if (message.msg_len == 0 || (message.msg_hdr.msg_flags & MSG_TRUNC) != 0)
        ++stats_.dropped;
      else
        on_datagram(box_->receive_buffer + static_cast<size_t>(i) * kReceiveSlice, message.msg_len,
                    &box_->senders[i]);
    }
    // Fewer than asked for: the socket held no more a moment ago. Asking again would
    // most often find it empty, one system call for nothing; epoll says when it is not.
    if (static_cast<size_t>(received) < kBatch) break;
  }
  // The loop decides from the turn's count whether to pause before its next poll.
  loop_.note_datagrams_read(datagrams_read);
  // The batch's replies leave together (on_datagram sent each full batch already).
  flush_replies();
}

void UdpListener::on_datagram(const uint8_t *data, size_t size, const void *client_sockaddr) {
  // The handler may drop the last outside reference to this listener.
  auto keep_alive = shared_from_this();
  UdpQueryContext context(*this);
  auto client = SocketAddress::from_sockaddr(static_cast<const sockaddr *>(client_sockaddr));
  if (!client) {
    ++stats_.dropped;
    return;
  }
  if (box_->pending == kBatch) flush_replies();
  const size_t slot = box_->pending;
  context.query = data;
  context.query_size = size;
  context.client = *client;
  context.local = local_address_;
  context.tcp = false;
  context.reply_buffer = box_->reply_buffers[slot];
  context.reply_capacity = kBufferSize;
  context.reply_size = 0;

  switch (handler_.handle(context)) {
    case Disposition::reply:
      if (box_ != nullptr && context.reply_size > 0 && context.reply_size <= kBufferSize &&
          box_->pending == slot) {
        box_->reply_sizes[slot] = context.reply_size;
        box_->clients[slot] = context.client;
        ++box_->pending;
      } else {
        ++stats_.dropped;
      }
      break;
    case Disposition::drop:
      ++stats_.dropped;
      break;
    case Disposition::deferred:
      break;
  }
}

void UdpListener::flush_replies() {
  if (box_ == nullptr || box_->pending == 0) return;
  const size_t count = box_->pending;
  box_->pending = 0;
  send_replies(
      count,
      [&](size_t i) {
        return std::string_view(reinterpret_cast<const char *>(box_->reply_buffers[i]), box_->reply_sizes[i]);
      },
      [&](size_t i) -> const SocketAddress & { return box_->clients[i]; });
}

void UdpListener::send_at_end_of_turn(const SocketAddress &client, std::string_view wire) {
  if (box_ == nullptr) return;
  if (deferred_count_ == kBatch) flush_deferred_replies();
  if (deferred_count_ == deferred_.size()) deferred_.emplace_back();
  DeferredReply &slot = deferred_[deferred_count_++];
  slot.client = client;
  slot.wire.assign(wire);
  deferred_flush_->arm();
}

void UdpListener::flush_deferred_replies() {
  if (box_ == nullptr || deferred_count_ == 0) return;
  const size_t count = deferred_count_;
  deferred_count_ = 0;
  send_replies(
      count, [&](size_t i) { return std::string_view(deferred_[i].wire); },
      [&](size_t i) -> const SocketAddress & { return deferred_[i].client; });
}

template <typename ReplyAt, typename ClientAt>
void UdpListener::send_replies(size_t count, ReplyAt reply_at, ClientAt client_at) {
  // Replies already queued go first (order per client), and the test hook sees each send.
  int fd = -1;
  if (uv_udp_get_send_queue_count(&box_->handle) > 0 ||
      uv_fileno(reinterpret_cast<const uv_handle_t *>(&box_->handle), &fd) != 0) {
    for (size_t i = 0; i < count; ++i) send_to(client_at(i), reply_at(i));
    return;
  }
  mmsghdr messages[kBatch]{};
  iovec parts[kBatch];
  for (size_t i = 0; i < count; ++i) {
    std::string_view reply = reply_at(i);
    parts[i].iov_base = const_cast<char *>(reply.data());
    parts[i].iov_len = reply.size();
    messages[i].msg_hdr.msg_name = const_cast<sockaddr *>(client_at(i).sockaddr_ptr());
    messages[i].msg_hdr.msg_namelen = client_at(i).length();
    messages[i].msg_hdr.msg_iov = &parts[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  size_t sent = 0;
  while (sent < count) {
    // The socket is non-blocking (libuv's).
    size_t room = count - sent;
    if (pretend_full_sends_ > 0) room = std::min<size_t>(room, pretend_sent_first_);
    int rc = -1;
    if (room == 0)
      errno = EAGAIN;  // tests: pretend_socket_full_for_testing
    else
      rc = ::sendmmsg(fd, messages + sent, static_cast<unsigned>(room), 0);
    if (rc > 0 && pretend_full_sends_ > 0) pretend_sent_first_ -= static_cast<unsigned>(rc);
    if (rc > 0) {
      ++stats_.send_batches;
      stats_.replies_sent += static_cast<uint64_t>(rc);
      sent += static_cast<size_t>(rc);
      continue;
    }
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The socket buffer is full: the rest is queued (bounded) by the one-at-a-time path.
      for (size_t i = sent; i < count; ++i) send_to(client_at(i), reply_at(i));
      return;
    }
    // Any other error is the first unsent message's own (an unreachable address, say).
    ++stats_.send_errors;
    ++sent;
  }
}

uint64_t UdpListener::kernel_drops() const {
  if (box_ == nullptr) return 0;
  return uvbox::socket_drops(reinterpret_cast<const uv_handle_t *>(&box_->handle));
}

void UdpListener::send_to(const SocketAddress &client, std::string_view wire) {
  if (box_ == nullptr) return;
  uv_buf_t buffer =
      uv_buf_init(const_cast<char *>(wire.data()), static_cast<unsigned>(wire.size()));
  // Fast path: straight from the caller's buffer. uv_udp_try_send also answers EAGAIN
  // while earlier sends are queued, which keeps replies in order.
  int rc = UV_EAGAIN;
  if (pretend_full_sends_ > 0)
    --pretend_full_sends_;
  else
    rc = uv_udp_try_send(&box_->handle, &buffer, 1, client.sockaddr_ptr());
  if (rc >= 0) {
    ++stats_.replies_sent;
    return;
  }
  if (rc != UV_EAGAIN) {
    ++stats_.send_errors;
    return;
  }
  // libuv counts a queued send until its callback has run, sent or not, which is
  // exactly as long as its copy is held.
  if (uv_udp_get_send_queue_count(&box_->handle) >= limits_.max_queued_replies ||
      uv_udp_get_send_queue_size(&box_->handle) + wire.size() > limits_.max_queued_bytes) {
    ++stats_.queue_full_dropped;
    return;
  }
  auto *queued = new QueuedDatagram;
  queued->bytes.assign(wire);
  queued->request.data = queued;
  uv_buf_t copy = uv_buf_init(queued->bytes.data(), static_cast<unsigned>(queued->bytes.size()));
  rc = uv_udp_send(
      &queued->request, &box_->handle, &copy, 1, client.sockaddr_ptr(),
      [](uv_udp_send_t *request, int status) {
        std::unique_ptr<QueuedDatagram> done(static_cast<QueuedDatagram *>(request->data));
        auto *listener_box = static_cast<UdpListenerBox *>(request->handle->data);
        if (listener_box->owner == nullptr) return;
        if (status < 0)
          ++listener_box->owner->stats_.send_errors;
        else
          ++listener_box->owner->stats_.replies_sent;
      });
  if (rc != 0) {
    delete queued;
    ++stats_.send_errors;
    return;
  }
  ++stats_.replies_queued;
}

void UdpListener::close() {
  if (box_ == nullptr) return;
  // Replies a batch already holds (a handler may close the listener midway) still go.
  flush_replies();
  flush_deferred_replies();
  if (reader_ != nullptr) {
    uv_poll_stop(&reader_->handle);
    reader_->owner = nullptr;
    uvbox::close_box(reader_);
    reader_ = nullptr;
  }
  box_->owner = nullptr;
  uvbox::close_box(box_);
  box_ = nullptr;
}

}  // namespace rsv
