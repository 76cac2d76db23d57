// The HTTP listener: /metrics for Prometheus, a JSON API and the dashboard page.
//
// Built on cpp-httplib (Debian's libcpp-httplib-dev); nothing here parses HTTP. One
// httplib::Server per http.listen address, each with its own accepting thread and a
// small pool of request threads, apart from the workers: a slow page never delays a
// DNS answer. Every figure comes from the daemon through a Backend (what the daemon
// computes, callable from these threads), so this file knows HTTP, not the resolver.
//
//   GET /                 the dashboard (resolver/server/dashboard/, compiled in)
//   GET /metrics          Prometheus text format 0.0.4
//   GET /api/stats        every counter as JSON (resolver/server/metrics.h to_json)
//   GET /api/series       queries per second and cache hit ratio, the last hour
//   GET /api/top?n=N      top names and clients (Space-Saving sketches)
//   GET /api/recent?limit=N   the recent-queries log, newest first
//   GET /api/explain?name=NAME&type=TYPE   `resolverctl explain` as JSON
//
// Bounds: the sockets are bound by the constructor (before privileges drop; a failure
// throws, naming the address); requests are GET only with a 1 KiB body limit (the
// library caps the request line and each header line at 8 KiB); at most
// kThreadsPerListener requests are served at once per listener and kMaxPending
// accepted connections wait, past which accepting pauses (the kernel's backlog holds
// the rest); a connection serves at most kKeepAliveRequests requests and is closed
// after kKeepAliveSeconds idle or kIoTimeoutSeconds without progress. At most
// kMaxConcurrentExplains explains run at once for HTTP clients (503 otherwise), each
// waited for at most Backend::explain_timeout_ms (504).
//
// Who may ask: clients whose address matches http.access-control (default loopback
// only) are served, others get 403. Against DNS rebinding (a web page whose name
// resolves to this host reading the query log through a browser), the Host header
// must be an address, "localhost" or a name under .localhost (403 otherwise).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "resolver/config/config.h"
#include "resolver/wire/address.h"

namespace rsv {

class HttpServer {
public:
  static constexpr size_t kThreadsPerListener = 4;
  static constexpr size_t kMaxPending = 16;
  static constexpr size_t kKeepAliveRequests = 100;
  static constexpr time_t kKeepAliveSeconds = 2;
  static constexpr time_t kIoTimeoutSeconds = 5;
  static constexpr size_t kMaxBodyBytes = 1024;
  static constexpr size_t kMaxConcurrentExplains = 2;
  static constexpr size_t kMaxTop = 128;
  static constexpr size_t kMaxRecent = 10000;

  // What is served; every function is called on the HTTP server's threads.
  struct Backend {
    std::function<std::string()> metrics;  // Prometheus text
    std::function<nlohmann::json()> stats;
    std::function<nlohmann::json()> series;
    std::function<nlohmann::json(size_t n)> top;
    std::function<nlohmann::json(size_t limit)> recent;
    // Runs a control command (resolver/server/control.h) and calls `done` once, on
    // any thread, with its reply ({"ok": ..., "data": ...}).
    std::function<void(std::vector<std::string> args, std::function<void(nlohmann::json)> done)> command;
    std::function<uint32_t()> explain_timeout_ms;
  };

  // Binds every address of config.listen; throws std::runtime_error naming the
  // address when one cannot be bound. Port 0 takes a free port (tests).
  HttpServer(const HttpConfig &config, Backend backend);
  ~HttpServer();
  HttpServer(const HttpServer &) = delete;
  HttpServer &operator=(const HttpServer &) = delete;

  // Starts serving (the threads).
  void start();
  // Stops accepting, lets requests in progress finish (explains waiting are
  // answered 503 at once), joins every thread. Idempotent.
  void stop();

  // The bound addresses, with the ports the kernel chose for port 0.
  std::vector<SocketAddress> addresses() const;

private:
  struct Listener;
  void install_routes(Listener &listener);
  bool allowed(const std::string &remote_address) const;

  HttpConfig config_;
  Backend backend_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> explains_running_{0};
  bool started_ = false;
};

// Whether a Host header value may address this server: an IPv4 or IPv6 literal
// (with or without a port), "localhost" or a name under .localhost (RFC 6761 6.3).
bool host_header_allowed(const std::string &host);

}  // namespace rsv
