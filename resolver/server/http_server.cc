#include "resolver/server/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>

#include <httplib.h>

#include "resolver/base/log.h"
#include "resolver/server/dashboard_assets.h"
#include "resolver/wire/name.h"
#include "resolver/wire/rr.h"

namespace rsv {

namespace {

constexpr const char *kJson = "application/json";
constexpr const char *kPrometheus = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char *kText = "text/plain; charset=utf-8";
// The page loads only its own files and talks only to this server.
constexpr const char *kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// httplib's own pool queues connections without limit; this one makes the accepting
// thread wait while kMaxPending connections are queued, so that a flood of
// connections waits in the kernel's backlog rather than in our memory.
class BoundedPool final : public httplib::TaskQueue {
public:
  BoundedPool(size_t threads, size_t max_pending) : max_pending_(max_pending) {
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  }
  ~BoundedPool() override { shutdown(); }

  void enqueue(std::function<void()> task) override {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return pending_.size() < max_pending_ || shutdown_; });
    pending_.push_back(std::move(task));
    work_.notify_one();
  }

  // Runs what is queued (each task closes its connection), then joins.
  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      if (shutdown_ && threads_.empty()) return;
      shutdown_ = true;
    }
    work_.notify_all();
    room_.notify_all();
    for (auto &thread : threads_) thread.join();
    threads_.clear();
  }

private:
  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        work_.wait(lock, [&] { return shutdown_ || !pending_.empty(); });
        if (pending_.empty()) return;
        task = std::move(pending_.front());
        pending_.pop_front();
        room_.notify_one();
      }
      task();
    }
  }

  const size_t max_pending_;
  std::mutex mutex_;
  std::condition_variable work_, room_;
  std::deque<std::function<void()>> pending_;
  std::vector<std::thread> threads_;
  bool shutdown_ = false;
};

void send_json(httplib::Response &response, const nlohmann::json &document, int status = 200) {
  response.status = status;
  response.set_header("Cache-Control", "no-store");
  // Names and reasons from the network may hold any bytes: never fail on them.
  response.set_content(document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kJson);
}

void send_error(httplib::Response &response, int status, const std::string &why) {
  send_json(response, {{"ok", false}, {"error", why}}, status);
}

// A bounded count from the query string: `fallback` when absent, nullopt when not a
// number in [1, max].
std::optional<size_t> count_parameter(const httplib::Request &request, const char *key, size_t fallback,
                                      size_t max) {
  if (!request.has_param(key)) return fallback;
  const std::string text = request.get_param_value(key);
  size_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value == 0 || value > max)
    return std::nullopt;
  return value;
}

// One explain waited for by an HTTP thread; the control loop may answer after the
// waiter has given up, so both hold it.
struct PendingReply {
  std::mutex mutex;
  std::condition_variable ready;
  std::optional<nlohmann::json> reply;
};

// Holds one of HttpServer's explain places while alive.
class ExplainSlot {
public:
  ExplainSlot(std::atomic<size_t> &running, size_t limit) : running_(running) {
    size_t now = running_.load();
    while (now < limit && !running_.compare_exchange_weak(now, now + 1)) {
    }
    taken_ = now < limit;
  }
  ~ExplainSlot() {
    if (taken_) --running_;
  }
  ExplainSlot(const ExplainSlot &) = delete;
  ExplainSlot &operator=(const ExplainSlot &) = delete;
  bool taken() const { return taken_; }

private:
  std::atomic<size_t> &running_;
  bool taken_ = false;
};

// SO_REUSEADDR (a restart while old connections linger in TIME_WAIT) but not httplib's
// default SO_REUSEPORT, which would let a second daemon share the port unnoticed.
void listening_socket_options(socket_t socket) {
  int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

bool host_header_allowed(const std::string &host) {
  std::string_view text = host;
  std::string bare;
  if (!text.empty() && text.front() == '[') {
    // "[2001:db8::1]:8053"
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    bare = std::string(text.substr(1, close - 1));
    in6_addr v6{};
    return inet_pton(AF_INET6, bare.c_str(), &v6) == 1;
  }
  if (std::count(text.begin(), text.end(), ':') == 1) text = text.substr(0, text.find(':'));
  bare = std::string(text);
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, bare.c_str(), &v4) == 1 || inet_pton(AF_INET6, bare.c_str(), &v6) == 1) return true;
  for (char &c : bare) c = dns_tolower(c);
  if (!bare.empty() && bare.back() == '.') bare.pop_back();
  // RFC 6761 6.3: localhost and the names below it are this host's own.
  constexpr std::string_view kLocalhost = "localhost";
  return bare == kLocalhost ||
         (bare.size() > kLocalhost.size() && bare.ends_with(kLocalhost) &&
          bare[bare.size() - kLocalhost.size() - 1] == '.');
}

struct HttpServer::Listener {
  SocketAddress address;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> finished{false};
};

HttpServer::HttpServer(const HttpConfig &config, Backend backend) : config_(config), backend_(std::move(backend)) {
  for (const SocketAddress &address : config_.listen) {
    auto listener = std::make_unique<Listener>();
    listener->address = address;
    httplib::Server &server = listener->server;
    server.new_task_queue = [] { return new BoundedPool(kThreadsPerListener, kMaxPending); };
    server.set_socket_options(listening_socket_options);
    server.set_keep_alive_max_count(kKeepAliveRequests);
    server.set_keep_alive_timeout(kKeepAliveSeconds);
    server.set_read_timeout(kIoTimeoutSeconds, 0);
    server.set_write_timeout(kIoTimeoutSeconds, 0);
    server.set_payload_max_length(kMaxBodyBytes);
    install_routes(*listener);
    // Numeric host and port: no name lookup happens here.
    const std::string host = address.host_text();
    errno = 0;
    bool bound = false;
    if (address.port() == 0) {
      const int port = server.bind_to_any_port(host, AI_NUMERICHOST | AI_NUMERICSERV);
      if (port > 0) {
        listener->address.set_port(static_cast<uint16_t>(port));
        bound = true;
      }
    } else {
      bound = server.bind_to_port(host, address.port(), AI_NUMERICHOST | AI_NUMERICSERV);
    }
    if (!bound) {
      const int error = errno;
      throw std::runtime_error("http.listen: cannot listen on " + address.to_string() +
                               (error ? std::string(": ") + std::strerror(error) : std::string()));
    }
    if (!address.is_loopback())
      RSV_LOG(warning,
              "http: listening on %s, which is not a loopback address: the dashboard shows the names and "
              "addresses of clients; http.access-control decides who may see them",
              listener->address.to_string().c_str());
    RSV_LOG(info, "http: metrics and dashboard on http://%s/",
            (listener->address.is_ipv6() ? "[" + listener->address.host_text() + "]" : listener->address.host_text())
                .append(":" + std::to_string(listener->address.port()))
                .c_str());
    listeners_.push_back(std::move(listener));
  }
}

HttpServer::~HttpServer() { stop(); }

std::vector<SocketAddress> HttpServer::addresses() const {
  std::vector<SocketAddress> out;
  for (const auto &listener : listeners_) out.push_back(listener->address);
  return out;
}

void HttpServer::start() {
  if (started_) return;
  started_ = true;
  for (auto &listener : listeners_) {
    Listener *l = listener.get();
    l->thread = std::thread([l] {
      l->server.listen_after_bind();
      l->finished = true;
    });
  }
}

void HttpServer::stop() {
  stopping_ = true;
  for (auto &listener : listeners_) {
    if (!listener->thread.joinable()) continue;
    // httplib's stop() acts only once its loop runs: ask until the thread has left it.
    while (!listener->finished) {
      listener->server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    listener->thread.join();
  }
}

bool HttpServer::allowed(const std::string &remote_address) const {
  auto address = SocketAddress::parse(remote_address, 0);
  if (!address) return false;
  for (const Prefix &prefix : config_.access_control)
    if (prefix.contains(*address)) return true;
  return false;
}

void HttpServer::install_routes(Listener &listener) {
  httplib::Server &server = listener.server;
  server.set_default_headers({{"X-Content-Type-Options", "nosniff"}});

  server.set_pre_routing_handler([this](const httplib::Request &request, httplib::Response &response) {
    if (!allowed(request.remote_addr)) {
      RSV_LOG(debug, "http: %s %s from %s: not in http.access-control", request.method.c_str(),
              request.path.c_str(), request.remote_addr.c_str());
      response.status = 403;
      response.set_content("403 Forbidden: this address is not in http.access-control\n", kText);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (request.has_header("Host") && !host_header_allowed(request.get_header_value("Host"))) {
      response.status = 403;
      response.set_content("403 Forbidden: open the page by address or as localhost (DNS rebinding guard)\n",
                           kText);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_exception_handler([](const httplib::Request &request, httplib::Response &response, std::exception_ptr) {
    RSV_LOG(warning, "http: %s %s failed", request.method.c_str(), request.path.c_str());
    send_error(response, 500, "internal error");
  });

  server.Get("/metrics", [this](const httplib::Request &, httplib::Response &response) {
    response.set_header("Cache-Control", "no-store");
    response.set_content(backend_.metrics(), kPrometheus);
  });
  server.Get("/api/stats", [this](const httplib::Request &, httplib::Response &response) {
    send_json(response, backend_.stats());
  });
  server.Get("/api/series", [this](const httplib::Request &, httplib::Response &response) {
    send_json(response, backend_.series());
  });
  server.Get("/api/top", [this](const httplib::Request &request, httplib::Response &response) {
    auto n = count_parameter(request, "n", 20, kMaxTop);
    if (!n) return send_error(response, 400, "n: a number from 1 to " + std::to_string(kMaxTop));
    send_json(response, backend_.top(*n));
  });
  server.Get("/api/recent", [this](const httplib::Request &request, httplib::Response &response) {
    auto limit = count_parameter(request, "limit", 100, kMaxRecent);
    if (!limit) return send_error(response, 400, "limit: a number from 1 to " + std::to_string(kMaxRecent));
    send_json(response, backend_.recent(*limit));
  });
  server.Get("/api/explain", [this](const httplib::Request &request, httplib::Response &response) {
    const std::string name = request.get_param_value("name");
    const std::string type = request.has_param("type") ? request.get_param_value("type") : "A";
    // Only a name and a type reach the control command: never an option.
    if (name.empty() || name[0] == '-' || !Name::from_text(name))
      return send_error(response, 400, "name: a domain name, e.g. www.example.com");
    if (type.empty() || type[0] == '-' || type_from_text(type) == 0)
      return send_error(response, 400, "type: a record type, e.g. A or AAAA");
    ExplainSlot slot(explains_running_, kMaxConcurrentExplains);
    if (!slot.taken()) {
      response.set_header("Retry-After", "2");
      return send_error(response, 503, "other explains are running; try again in a moment");
    }
    auto pending = std::make_shared<PendingReply>();
    backend_.command({"explain", name, type}, [pending](nlohmann::json reply) {
      std::lock_guard lock(pending->mutex);
      pending->reply = std::move(reply);
      pending->ready.notify_all();
    });
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(backend_.explain_timeout_ms());
    std::unique_lock lock(pending->mutex);
    // Short waits, so that stop() never waits for a resolution.
    while (!pending->reply && !stopping_ && std::chrono::steady_clock::now() < deadline)
      pending->ready.wait_for(lock, std::chrono::milliseconds(100));
    if (!pending->reply) {
      if (stopping_) return send_error(response, 503, "the daemon is stopping");
      return send_error(response, 504, "the explain did not finish in time");
    }
    const bool ok = pending->reply->value("ok", false);
    send_json(response, *pending->reply, ok ? 200 : 422);
  });

  // The dashboard: "/" and its files.
  server.Get(R"(/[A-Za-z0-9._-]*)", [](const httplib::Request &request, httplib::Response &response) {
    const DashboardAsset *asset = find_dashboard_asset(request.path);
    if (!asset) {
      response.status = 404;
      response.set_content("404 Not Found\n", kText);
      return;
    }
    response.set_header("Content-Security-Policy", kContentSecurityPolicy);
    response.set_header("Cache-Control", "no-cache");
    response.set_content(std::string(asset->body), std::string(asset->content_type));
  });
  server.set_error_handler([](const httplib::Request &, httplib::Response &response) {
    if (response.body.empty()) response.set_content(std::to_string(response.status) + "\n", kText);
  });
}

}  // namespace rsv
