#include "resolver/net/udp_listener.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "resolver/net/uv_box.h"

namespace rsv {

// The socket and both 64 KiB buffers: they live until the close callback, since a
// queued send may still reference the handle after the listener is gone.
struct UdpListenerBox {
  uv_udp_t handle{};
  UdpListener *owner = nullptr;
  uint8_t receive_buffer[UdpListener::kBufferSize];
  uint8_t reply_buffer[UdpListener::kBufferSize];
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
    if (auto listener = listener_.lock()) listener->send_to(client_, wire);
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

UdpListener::UdpListener(PassKey, QueryHandler &handler, const UdpLimits &limits)
    : handler_(handler), limits_(limits) {}

UdpListener::~UdpListener() { close(); }

std::shared_ptr<UdpListener> UdpListener::create(EventLoop &loop, const SocketAddress &address,
                                                 QueryHandler &handler, const UdpLimits &limits,
                                                 UdpSocketBuffers buffers) {
  auto listener = std::make_shared<UdpListener>(PassKey{}, handler, limits);
  listener->open(loop, address, buffers);
  return listener;
}

void UdpListener::open(EventLoop &loop, const SocketAddress &address, UdpSocketBuffers buffers) {
  auto fail = [&](const std::string &what, const std::string &why) {
    close();
    throw std::runtime_error("UDP listener " + address.to_string() + ": " + what + ": " + why);
  };

  auto *box = new UdpListenerBox;
  // init_ex creates the socket now, so options can be set before bind.
  if (int rc =
          uv_udp_init_ex(loop.uv_loop(), &box->handle, static_cast<unsigned>(address.family()));
      rc != 0) {
    uvbox::delete_unregistered_box(box);
    throw std::runtime_error("UDP listener " + address.to_string() +
                             ": cannot create socket: " + uvbox::error_text(rc));
  }
  box->owner = this;
  box->handle.data = box;
  box_ = box;

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

  int rc = uv_udp_recv_start(
      &box->handle,
      [](uv_handle_t *handle, size_t, uv_buf_t *buf) {
        // Handling is synchronous, so the one receive buffer is always free here.
        auto *listener_box = static_cast<UdpListenerBox *>(handle->data);
        *buf = uv_buf_init(reinterpret_cast<char *>(listener_box->receive_buffer),
                           sizeof listener_box->receive_buffer);
      },
      [](uv_udp_t *handle, ssize_t nread, const uv_buf_t *, const sockaddr *from, unsigned flags) {
        auto *listener_box = static_cast<UdpListenerBox *>(handle->data);
        UdpListener *listener = listener_box->owner;
        if (listener == nullptr) return;
        if (nread < 0) {
          ++listener->stats_.receive_errors;
          return;
        }
        if (from == nullptr) return;  // libuv: nothing more to read for now
        ++listener->stats_.datagrams_received;
        // A truncated datagram is not the query the client sent; an empty one is none.
        if (nread == 0 || (flags & UV_UDP_PARTIAL) != 0) {
          ++listener->stats_.dropped;
          return;
        }
        listener->on_datagram(static_cast<size_t>(nread), from);
      });
  if (rc != 0) fail("cannot receive", uvbox::error_text(rc));
}

void UdpListener::on_datagram(size_t size, const void *client_sockaddr) {
  // The handler may drop the last outside reference to this listener.
  auto keep_alive = shared_from_this();
  UdpQueryContext context(*this);
  auto client = SocketAddress::from_sockaddr(static_cast<const sockaddr *>(client_sockaddr));
  if (!client) {
    ++stats_.dropped;
    return;
  }
  context.query = box_->receive_buffer;
  context.query_size = size;
  context.client = *client;
  context.local = local_address_;
  context.tcp = false;
  context.reply_buffer = box_->reply_buffer;
  context.reply_capacity = kBufferSize;
  context.reply_size = 0;

  switch (handler_.handle(context)) {
    case Disposition::reply:
      if (box_ != nullptr && context.reply_size > 0 && context.reply_size <= kBufferSize)
        send_to(context.client, std::string_view(reinterpret_cast<const char *>(box_->reply_buffer),
                                                 context.reply_size));
      else
        ++stats_.dropped;
      break;
    case Disposition::drop:
      ++stats_.dropped;
      break;
    case Disposition::deferred:
      break;
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
  uv_udp_recv_stop(&box_->handle);
  box_->owner = nullptr;
  uvbox::close_box(box_);
  box_ = nullptr;
}

}  // namespace rsv
