// The control channel's socket: a Unix stream socket that `resolverctl` connects to.
//
// The protocol is one request and one reply per connection: the client writes one
// line (a JSON object, at most kMaxRequestBytes, ended by '\n'), the listener hands
// it to the RequestHandler, and whatever the handler responds (possibly later: an
// `explain` resolves first) is written back followed by '\n', and the connection is
// closed. A client that sends no full line within ControlTimeouts::request_ms, or too
// long a line, is disconnected, and so is one that has not taken the whole reply
// within reply_ms of its writing (a reply larger than the socket's buffer, never
// read, would otherwise hold its connection slot for good); at most kMaxConnections
// are served at once.
//
// The socket file is created with mode 0660 (owner and group only: the channel can
// flush caches and switch validation off for a zone), in a directory created if
// missing. A socket file left by a daemon that died is replaced; one that a running
// process still listens on is not (start-up fails: two daemons would fight over it).
// The file is removed when the listener is destroyed.
//
// Lifetime: created and destroyed on its loop's thread, before the EventLoop dies.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "resolver/net/event_loop.h"

namespace rsv {

struct ControlServerBox;
class ControlConnection;

struct ControlTimeouts {
  uint64_t request_ms = 10'000;  // from connecting to the end of the request line
  uint64_t reply_ms = 10'000;    // from writing the reply to the client having taken all of it
};

class ControlListener {
public:
  static constexpr size_t kMaxRequestBytes = 64 * 1024;
  static constexpr size_t kMaxConnections = 32;

  // `respond` may be called at once or later, on the loop thread, at most once; after
  // the client has gone it does nothing.
  using Respond = std::function<void(const std::string &reply)>;
  using RequestHandler = std::function<void(const std::string &request, Respond respond)>;

  // Binds and listens on `path`; `group`, when given, becomes the file's group (so
  // its members may use the channel). Throws std::runtime_error with the reason.
  ControlListener(EventLoop &loop, const std::string &path, RequestHandler handler,
                  std::optional<gid_t> group = std::nullopt, ControlTimeouts timeouts = {});
  ~ControlListener();
  ControlListener(const ControlListener &) = delete;
  ControlListener &operator=(const ControlListener &) = delete;

  const std::string &path() const { return path_; }
  size_t connection_count() const { return connections_.size(); }

private:
  void on_connection();
  void forget(ControlConnection &connection);

  EventLoop &loop_;
  std::string path_;
  RequestHandler handler_;
  ControlTimeouts timeouts_;
  ControlServerBox *box_ = nullptr;
  std::list<std::shared_ptr<ControlConnection>> connections_;

  friend struct ControlServerBox;
  friend class ControlConnection;
};

}  // namespace rsv
