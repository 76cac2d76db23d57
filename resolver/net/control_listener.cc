#include "resolver/net/control_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "resolver/base/log.h"
#include "resolver/net/uv_box.h"

namespace rsv {

struct ControlServerBox {
  uv_pipe_t handle{};
  ControlListener *owner = nullptr;
};

struct ControlConnectionBox {
  uv_pipe_t handle{};
  ControlConnection *owner = nullptr;
};

namespace {

struct ReplyWrite {
  uv_write_t request{};
  std::string bytes;
};

std::string errno_text() { return std::strerror(errno); }

// A socket file at `path` that nobody listens on any more is removed; one that a
// live process answers on, or anything that is not a socket, is an error.
void clear_stale_socket(const std::string &path) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return;
    throw std::runtime_error("control socket " + path + ": " + errno_text());
  }
  if (!S_ISSOCK(info.st_mode))
    throw std::runtime_error("control socket " + path + " exists and is not a socket; remove it or set control.socket");
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("control socket: " + errno_text());
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  const bool live = connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
  ::close(fd);
  if (live)
    throw std::runtime_error("control socket " + path +
                             " is in use: another resolverd is running (stop it, or set control.socket)");
  if (unlink(path.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error("control socket " + path + ": cannot remove the old socket file: " + errno_text());
}

void ensure_parent_directory(const std::string &path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  const std::string directory = path.substr(0, slash);
  if (mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::runtime_error("control socket " + path + ": cannot create " + directory + ": " + errno_text());
}

}  // namespace

// One client of the control channel: reads a line, answers it, closes.
class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
public:
  ControlConnection(ControlListener &listener, EventLoop &loop)
      : listener_(&listener), reply_timeout_ms_(listener.timeouts_.reply_ms), timer_(loop) {}
  ~ControlConnection() { close(); }
  ControlConnection(const ControlConnection &) = delete;
  ControlConnection &operator=(const ControlConnection &) = delete;

  bool start(uv_stream_t *server) {
    box_ = new ControlConnectionBox;
    box_->owner = this;
    if (uv_pipe_init(listener_->loop_.uv_loop(), &box_->handle, 0) != 0) {
      uvbox::delete_unregistered_box(box_);
      box_ = nullptr;
      return false;
    }
    if (uv_accept(server, reinterpret_cast<uv_stream_t *>(&box_->handle)) != 0) return false;
    std::weak_ptr<ControlConnection> weak = weak_from_this();
    timer_.start(listener_->timeouts_.request_ms, [weak] {
      if (auto self = weak.lock(); self && !self->answering_) self->finish();
    });
    int rc = uv_read_start(
        reinterpret_cast<uv_stream_t *>(&box_->handle),
        [](uv_handle_t *, size_t suggested, uv_buf_t *buffer) {
          buffer->base = new char[suggested];
          buffer->len = suggested;
        },
        [](uv_stream_t *stream, ssize_t nread, const uv_buf_t *buffer) {
          std::unique_ptr<char[]> owned(buffer->base);
          auto *box = reinterpret_cast<ControlConnectionBox *>(stream);
          if (box->owner) box->owner->on_read(nread, buffer->base);
        });
    return rc == 0;
  }

  void close() {
    timer_.stop();
    if (box_ == nullptr) return;
    box_->owner = nullptr;
    uvbox::close_box(box_);
    box_ = nullptr;
  }

  std::list<std::shared_ptr<ControlConnection>>::iterator position;

private:
  void on_read(ssize_t nread, const char *data) {
    if (nread < 0) {  // EOF or error before a full line
      finish();
      return;
    }
    input_.append(data, static_cast<size_t>(nread));
    const auto newline = input_.find('\n');
    if (newline == std::string::npos) {
      if (input_.size() > ControlListener::kMaxRequestBytes) {
        RSV_LOG(warning, "control channel: a request longer than %zu bytes; disconnected",
                ControlListener::kMaxRequestBytes);
        finish();
      }
      return;
    }
    input_.resize(newline);
    uv_read_stop(reinterpret_cast<uv_stream_t *>(&box_->handle));
    answering_ = true;
    timer_.stop();
    std::weak_ptr<ControlConnection> weak = weak_from_this();
    listener_->handler_(input_, [weak](const std::string &reply) {
      if (auto self = weak.lock()) self->write_reply(reply);
    });
  }

  void write_reply(const std::string &reply) {
    if (box_ == nullptr || replied_) return;
    replied_ = true;
    auto *write = new ReplyWrite;
    write->bytes = reply;
    write->bytes.push_back('\n');
    write->request.data = this;
    uv_buf_t buffer = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
    int rc = uv_write(&write->request, reinterpret_cast<uv_stream_t *>(&box_->handle), &buffer, 1,
                      [](uv_write_t *request, int) {
                        std::unique_ptr<ReplyWrite> done(reinterpret_cast<ReplyWrite *>(request));
                        auto *box = reinterpret_cast<ControlConnectionBox *>(request->handle);
                        if (box->owner) box->owner->finish();
                      });
    if (rc != 0) {
      delete write;
      finish();
      return;
    }
    // A reply larger than the socket's buffers waits for the client to read it; one
    // that never does would hold the connection, and its slot, for good.
    std::weak_ptr<ControlConnection> weak = weak_from_this();
    timer_.start(reply_timeout_ms_, [weak] {
      if (auto self = weak.lock()) {
        RSV_LOG(info, "control channel: the client did not take its reply; disconnected");
        self->finish();
      }
    });
  }

  // Closes and leaves the listener's list (which may destroy this object).
  void finish() {
    close();
    if (listener_) {
      ControlListener *listener = listener_;
      listener_ = nullptr;
      listener->forget(*this);
    }
  }

  ControlListener *listener_;
  uint64_t reply_timeout_ms_;
  ControlConnectionBox *box_ = nullptr;
  Timer timer_;
  std::string input_;
  bool answering_ = false;
  bool replied_ = false;
};

ControlListener::ControlListener(EventLoop &loop, const std::string &path, RequestHandler handler,
                                 std::optional<gid_t> group, ControlTimeouts timeouts)
    : loop_(loop), path_(path), handler_(std::move(handler)), timeouts_(timeouts) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    throw std::runtime_error("control socket " + path + ": the path is too long for a Unix socket");
  ensure_parent_directory(path);
  clear_stale_socket(path);
  box_ = new ControlServerBox;
  box_->owner = this;
  if (int rc = uv_pipe_init(loop.uv_loop(), &box_->handle, 0); rc != 0) {
    uvbox::delete_unregistered_box(box_);
    box_ = nullptr;
    throw std::runtime_error("control socket " + path + ": " + uvbox::error_text(rc));
  }
  // Created without access for others from the first moment (umask), then 0660.
  const mode_t old_mask = umask(0117);
  int rc = uv_pipe_bind(&box_->handle, path.c_str());
  umask(old_mask);
  if (rc == 0 && chmod(path.c_str(), 0660) != 0) rc = -errno;
  if (rc == 0 && group && chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0) rc = -errno;
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t *>(&box_->handle), 16, [](uv_stream_t *server, int status) {
      auto *box = reinterpret_cast<ControlServerBox *>(server);
      if (status == 0 && box->owner) box->owner->on_connection();
    });
  if (rc != 0) {
    box_->owner = nullptr;
    uvbox::close_box(box_);
    box_ = nullptr;
    unlink(path.c_str());
    throw std::runtime_error("control socket " + path + ": " + uvbox::error_text(rc));
  }
}

ControlListener::~ControlListener() {
  auto connections = std::move(connections_);
  connections_.clear();
  connections.clear();
  if (box_ != nullptr) {
    box_->owner = nullptr;
    uvbox::close_box(box_);
    box_ = nullptr;
    // Best effort: after dropping privileges the directory may not be ours to change;
    // the next start replaces a stale file anyway.
    unlink(path_.c_str());
  }
}

void ControlListener::on_connection() {
  auto connection = std::make_shared<ControlConnection>(*this, loop_);
  connections_.push_front(connection);
  connection->position = connections_.begin();
  if (!connection->start(reinterpret_cast<uv_stream_t *>(&box_->handle)) ||
      connections_.size() > kMaxConnections) {
    if (connections_.size() > kMaxConnections)
      RSV_LOG(warning, "control channel: more than %zu clients at once; one refused", kMaxConnections);
    connection->close();
    connections_.erase(connection->position);
  }
}

void ControlListener::forget(ControlConnection &connection) { connections_.erase(connection.position); }

}  // namespace rsv
