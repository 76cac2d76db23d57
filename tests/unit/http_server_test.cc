// The HTTP listener on a real loopback socket, with a backend of canned answers.
#include "resolver/server/http_server.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

namespace rsv {
namespace {

// Control commands the fake backend received; answered only when the test says so.
struct Commands {
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<std::vector<std::string>> args;
  std::vector<std::function<void(nlohmann::json)>> replies;
  bool answer_at_once = true;

  void wait_for(size_t count) {
    std::unique_lock lock(mutex);
    arrived.wait(lock, [&] { return args.size() >= count; });
  }
};

struct ServerHarness {
  std::shared_ptr<Commands> commands = std::make_shared<Commands>();
  size_t last_top = 0, last_recent = 0;
  uint32_t explain_timeout_ms = 30000;
  std::unique_ptr<HttpServer> server;
  uint16_t port = 0;

  explicit ServerHarness(std::vector<Prefix> access = {*Prefix::parse("127.0.0.0/8")}) {
    HttpConfig config;
    SocketAddress any_port = *SocketAddress::parse("127.0.0.1");
    any_port.set_port(0);  // the kernel picks a free one
    config.listen = {any_port};
    config.access_control = std::move(access);
    HttpServer::Backend backend;
    backend.metrics = [] { return std::string("# HELP resolverd_x X.\n# TYPE resolverd_x counter\nresolverd_x 1\n"); };
    backend.stats = [] { return nlohmann::json{{"answers_total", {{"udp", 3}}}}; };
    backend.series = [] { return nlohmann::json{{"points", nlohmann::json::array()}}; };
    backend.top = [this](size_t n) {
      last_top = n;
      return nlohmann::json{{"names", nlohmann::json::array()}};
    };
    backend.recent = [this](size_t limit) {
      last_recent = limit;
      return nlohmann::json{{"queries", nlohmann::json::array()}};
    };
    backend.command = [commands = commands](std::vector<std::string> args, std::function<void(nlohmann::json)> done) {
      std::unique_lock lock(commands->mutex);
      commands->args.push_back(args);
      commands->arrived.notify_all();
      if (commands->answer_at_once) {
        lock.unlock();
        done({{"ok", true}, {"text", "t"}, {"data", {{"question", {{"name", args[1]}}}}}});
        return;
      }
      commands->replies.push_back(std::move(done));
    };
    backend.explain_timeout_ms = [this] { return explain_timeout_ms; };
    server = std::make_unique<HttpServer>(config, std::move(backend));
    port = server->addresses().at(0).port();
    server->start();
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c;
  }
  httplib::Result get(const std::string &path, httplib::Headers headers = {}) const {
    return client().Get(path.c_str(), headers);
  }
};

TEST(HttpServer, ServesMetricsTheApiAndTheDashboard) {
  ServerHarness h;
  ASSERT_NE(h.port, 0);
  auto metrics = h.get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics->body.find("resolverd_x 1"), std::string::npos);

  auto stats = h.get("/api/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(stats->body)["answers_total"]["udp"], 3);
  EXPECT_EQ(h.get("/api/series")->status, 200);

  EXPECT_EQ(h.get("/api/top?n=5")->status, 200);
  EXPECT_EQ(h.last_top, 5u);
  EXPECT_EQ(h.get("/api/top")->status, 200);
  EXPECT_EQ(h.last_top, 20u) << "the default";
  EXPECT_EQ(h.get("/api/recent?limit=7")->status, 200);
  EXPECT_EQ(h.last_recent, 7u);
  for (const char *bad : {"/api/top?n=0", "/api/top?n=x", "/api/top?n=129", "/api/recent?limit=-1",
                          "/api/recent?limit=99999999999999999999"})
    EXPECT_EQ(h.get(bad)->status, 400) << bad;

  auto page = h.get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(page->body.find("dashboard.js"), std::string::npos);
  EXPECT_EQ(h.get("/dashboard.js")->status, 200);
  EXPECT_EQ(h.get("/absent.js")->status, 404);
  EXPECT_EQ(h.get("/api/absent")->status, 404);
}

TEST(HttpServer, ExplainRunsTheControlCommandWithANameAndATypeOnly) {
  ServerHarness h;
  auto reply = h.get("/api/explain?name=www.example.com&type=AAAA");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(nlohmann::json::parse(reply->body)["data"]["question"]["name"], "www.example.com");
  ASSERT_EQ(h.commands->args.size(), 1u);
  EXPECT_EQ(h.commands->args[0], (std::vector<std::string>{"explain", "www.example.com", "AAAA"}));
  EXPECT_EQ(h.get("/api/explain?name=example.org")->status, 200);
  EXPECT_EQ(h.commands->args[1][2], "A") << "the type defaults to A";

  for (const char *bad : {"/api/explain", "/api/explain?name=", "/api/explain?name=--cd",
                          "/api/explain?name=a..b", "/api/explain?name=example.com&type=NOSUCHTYPE",
                          "/api/explain?name=example.com&type=--cd"})
    EXPECT_EQ(h.get(bad)->status, 400) << bad;
  EXPECT_EQ(h.commands->args.size(), 2u) << "refused requests run nothing";
}

TEST(HttpServer, ExplainsAreLimitedAndWaitedForOnlySoLong) {
  ServerHarness h;
  h.commands->answer_at_once = false;
  std::vector<int> statuses(HttpServer::kMaxConcurrentExplains, 0);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < HttpServer::kMaxConcurrentExplains; ++i)
    clients.emplace_back([&, i] {
      auto reply = h.get("/api/explain?name=slow" + std::to_string(i) + ".example");
      statuses[i] = reply ? reply->status : -1;
    });
  h.commands->wait_for(HttpServer::kMaxConcurrentExplains);
  auto refused = h.get("/api/explain?name=one-more.example");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->get_header_value("Retry-After"), "2");
  {
    std::lock_guard lock(h.commands->mutex);
    for (auto &reply : h.commands->replies) reply({{"ok", false}, {"error", "explain: too many"}});
  }
  for (auto &t : clients) t.join();
  for (int status : statuses) EXPECT_EQ(status, 422) << "a failed command is not a server error";

  // A command that never answers: 504 after the timeout.
  h.explain_timeout_ms = 50;
  auto late = h.get("/api/explain?name=never.example");
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 504);
}

TEST(HttpServer, StoppingAnswersWaitingExplainsAtOnce) {
  ServerHarness h;
  h.commands->answer_at_once = false;
  int status = 0;
  std::thread client([&] {
    auto reply = h.get("/api/explain?name=slow.example");
    status = reply ? reply->status : -1;
  });
  h.commands->wait_for(1);
  h.server->stop();
  client.join();
  EXPECT_EQ(status, 503);
  h.server->stop();  // twice is harmless
  // The command's late answer finds nobody waiting and harms nothing.
  std::lock_guard lock(h.commands->mutex);
  h.commands->replies.at(0)({{"ok", true}});
}

TEST(HttpServer, ClientsOutsideTheAccessControlGet403) {
  ServerHarness h({*Prefix::parse("10.0.0.0/8"), *Prefix::parse("::1/128")});
  for (const char *path : {"/metrics", "/", "/api/stats", "/api/explain?name=example.com"}) {
    auto reply = h.get(path);
    ASSERT_TRUE(reply) << path;
    EXPECT_EQ(reply->status, 403) << path;
  }
  EXPECT_TRUE(h.commands->args.empty());
}

TEST(HttpServer, AHostHeaderNamingAnotherSiteIsRefused) {
  ServerHarness h;
  EXPECT_EQ(h.get("/api/top", {{"Host", "attacker.example"}})->status, 403);
  EXPECT_EQ(h.get("/api/top", {{"Host", "localhost:8053"}})->status, 200);
  EXPECT_EQ(h.get("/api/top", {{"Host", "127.0.0.1:8053"}})->status, 200);

  EXPECT_TRUE(host_header_allowed("127.0.0.1"));
  EXPECT_TRUE(host_header_allowed("192.0.2.1:80"));
  EXPECT_TRUE(host_header_allowed("[::1]:8053"));
  EXPECT_TRUE(host_header_allowed("[2001:db8::1]"));
  EXPECT_TRUE(host_header_allowed("LocalHost"));
  EXPECT_TRUE(host_header_allowed("dash.localhost:8053"));
  EXPECT_TRUE(host_header_allowed("localhost."));
  EXPECT_FALSE(host_header_allowed("example.com"));
  EXPECT_FALSE(host_header_allowed("localhost.example.com"));
  EXPECT_FALSE(host_header_allowed("notlocalhost"));
  EXPECT_FALSE(host_header_allowed("[::1"));
  EXPECT_FALSE(host_header_allowed("[evil.example]:80"));
  EXPECT_FALSE(host_header_allowed(""));
}

TEST(HttpServer, AnAddressInUseIsAStartUpErrorNamingIt) {
  ServerHarness first;
  HttpConfig config;
  SocketAddress taken = *SocketAddress::parse("127.0.0.1");
  taken.set_port(first.port);
  config.listen = {taken};
  config.access_control = {*Prefix::parse("127.0.0.0/8")};
  try {
    HttpServer second(config, HttpServer::Backend{});
    FAIL() << "a second server bound " << taken.to_string();
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find(taken.to_string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("http.listen"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rsv
