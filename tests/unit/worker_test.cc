// A Worker on real loopback sockets: what reaches its UDP socket while its loop is
// not running (a stall: the thread off the CPU, a long callback) and its counters.
#include "resolver/server/worker.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "resolver/server/metrics.h"
#include "resolver/wire/message.h"

namespace rsv {
namespace {

constexpr int kBurst = 2000;

// A port that was free a moment ago on 127.0.0.1 (UDP and TCP are both bound on it).
uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

struct WorkerHarness {
  Config config = default_config();
  std::unique_ptr<Caches> caches;
  std::unique_ptr<Worker> worker;
  SocketAddress address;

  explicit WorkerHarness(std::optional<uint64_t> so_rcvbuf = std::nullopt) {
    address = *SocketAddress::parse("127.0.0.1");
    address.set_port(free_port());
    config.listen = {address};
    config.access_control = {};  // every client is refused: an answer without resolving
    config.dnssec.validation = false;
    config.dnssec.trust_anchor_files = {};
    if (so_rcvbuf) config.network.so_rcvbuf = *so_rcvbuf;
    caches = std::make_unique<Caches>(config.cache);
    auto generation = std::make_shared<Generation>(config, RootHints{}, std::vector<TrustAnchor>{}, *caches, 1);
    worker = std::make_unique<Worker>(*caches, generation, 0);
  }

  // Sends kBurst queries before the worker's loop runs, then runs it and counts the
  // replies that arrive within two seconds.
  int burst_then_run() {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 8 << 20;  // the client must not be what loses replies
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    std::string query = encode_query(1, Question{*Name::from_text("www.example."), rrtype::A, rrclass::IN},
                                     true, std::nullopt, false);
    for (int i = 0; i < kBurst; ++i)
      EXPECT_EQ(sendto(fd, query.data(), query.size(), 0, address.sockaddr_ptr(), address.length()),
                static_cast<ssize_t>(query.size()));
    std::thread loop([this] { worker->run(); });
    int replies = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    char buffer[512];
    while (replies < kBurst && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 50};
      if (poll(&p, 1, 50) == 1 && recv(fd, buffer, sizeof buffer, 0) > 0) ++replies;
    }
    worker->request_stop();
    loop.join();
    ::close(fd);
    return replies;
  }
};

uint64_t counter(const std::string &line, const std::string &key) {
  auto at = line.find(" " + key + "=");
  if (at == std::string::npos) return UINT64_MAX;
  return std::stoull(line.substr(at + key.size() + 2));
}

TEST(Worker, DefaultReceiveBufferKeepsABurstThatArrivesDuringAStall) {
  if (geteuid() != 0) GTEST_SKIP() << "not root: the default 1M may exceed net.core.rmem_max";
  // Before network.so-rcvbuf, the listener kept the system default (208 KiB: about 250
  // such queries); the rest of the burst was lost without a trace.
  WorkerHarness h;
  EXPECT_EQ(h.burst_then_run(), kBurst);
}

TEST(Worker, CountersLineCountsWhatTheKernelDropped) {
  uint64_t rmem_default = 0;
  std::ifstream("/proc/sys/net/core/rmem_default") >> rmem_default;
  if (rmem_default == 0 || rmem_default > (1u << 20)) GTEST_SKIP() << "system default buffer too large to overflow";
  WorkerHarness h(0);  // so-rcvbuf: 0, the system default
  int replies = h.burst_then_run();
  EXPECT_LT(replies, kBurst);
  std::string line = h.worker->stats_line();
  EXPECT_EQ(line.rfind("worker 0 counters: ", 0), 0u) << line;
  uint64_t received = counter(line, "udp-received"), dropped = counter(line, "udp-kernel-drops");
  EXPECT_GT(dropped, 0u) << line;
  EXPECT_EQ(received + dropped, static_cast<uint64_t>(kBurst)) << line;
  EXPECT_EQ(counter(line, "refused"), received) << line;
  EXPECT_EQ(counter(line, "shed-over-capacity"), 0u) << line;
}

// The metrics sum what the worker counted: the same figures reach /metrics,
// `resolverctl stats` and the counters line.
TEST(Worker, MetricsShowWhatTheWorkerCounted) {
  WorkerHarness h;
  const int replies = h.burst_then_run();
  MetricsSources sources;
  sources.workers = {h.worker.get()};
  sources.caches = h.caches.get();
  sources.version = "test";
  const auto families = collect_metrics(sources);
  const nlohmann::json json = to_json(families);
  EXPECT_EQ(json["queries_received_total"]["udp"].get<int>(), kBurst - static_cast<int>(json["udp_kernel_drops_total"].get<double>()));
  EXPECT_EQ(json["answers_by_rcode_total"]["REFUSED"].get<int>(), replies);
  EXPECT_EQ(json["answers_total"]["udp"].get<int>(), replies);
  EXPECT_EQ(json["answers_by_qtype_total"]["A"].get<int>(), replies);
  EXPECT_EQ(json["answer_latency_seconds"]["count"].get<int>(), replies);
  EXPECT_EQ(json["threads"].get<int>(), 1);
  EXPECT_EQ(json["udp_coalescing_pauses_total"].get<double>(),
            static_cast<double>(h.worker->coalescing_pauses()));
  EXPECT_TRUE(json["cache_bytes"].contains("messages"));

  const std::string text = to_prometheus(families);
  EXPECT_NE(text.find("# TYPE resolverd_answers_by_rcode_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("resolverd_answers_by_rcode_total{rcode=\"REFUSED\"} " + std::to_string(replies) + "\n"),
            std::string::npos);
  EXPECT_NE(text.find("resolverd_answer_latency_seconds_bucket{le=\"+Inf\"} " + std::to_string(replies)),
            std::string::npos);
  EXPECT_NE(text.find("resolverd_build_info{version=\"test\"} 1\n"), std::string::npos);
  const std::string flat = to_text(families);
  EXPECT_NE(flat.find("answers_by_rcode_total.REFUSED=" + std::to_string(replies) + "\n"), std::string::npos) << flat;
}

// A socket on 127.0.0.1 that plays the root server: it receives the worker's upstream
// queries and answers when the test says so.
struct FakeAuthority {
  int fd = -1;
  SocketAddress address;
  FakeAuthority() {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    socklen_t length = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &length);
    address = *SocketAddress::parse("127.0.0.1");
    address.set_port(ntohs(a.sin_port));
  }
  ~FakeAuthority() { ::close(fd); }
  // The next query, with where it came from; nullopt after `ms` without one.
  std::optional<std::pair<Message, sockaddr_in>> receive(int ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1) return std::nullopt;
    uint8_t buffer[4096];
    sockaddr_in from{};
    socklen_t length = sizeof from;
    ssize_t n = recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr *>(&from), &length);
    ParseError error;
    auto query = parse_message(buffer, static_cast<size_t>(n), &error);
    if (!query) return std::nullopt;
    return std::make_pair(*query, from);
  }
  // An authoritative answer: the question's name has address 192.0.2.1.
  void answer(const Message &query, const sockaddr_in &to) {
    Message reply;
    reply.id = query.id;
    reply.qr = true;
    reply.aa = true;
    reply.questions = query.questions;
    reply.answer.push_back(
        ResourceRecord{query.questions[0].name, rrtype::A, rrclass::IN, 300, std::string("\xc0\x00\x02\x01", 4)});
    if (query.edns) reply.edns = Edns{};
    std::string wire = encode_message(reply, 1232).wire;
    sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<const sockaddr *>(&to), sizeof to);
  }
};

// network.udp-coalesce-usecs is the loop's from the start, and a reload changes it.
TEST(Worker, AReloadAppliesTheCoalescingWindow) {
  WorkerHarness h;
  EXPECT_EQ(h.worker->coalescing_window(), h.config.network.udp_coalesce_usecs);
  EXPECT_EQ(h.worker->coalescing_window(), 100u);
  std::thread loop([&] { h.worker->run(); });
  Config next = h.config;
  next.network.udp_coalesce_usecs = 0;
  h.worker->adopt(std::make_shared<Generation>(next, RootHints{}, std::vector<TrustAnchor>{}, *h.caches, 2));
  for (int i = 0; i < 300 && h.worker->generation_number() != 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  h.worker->request_stop();
  loop.join();  // the window is read once the loop has stopped
  EXPECT_EQ(h.worker->generation_number(), 2u);
  EXPECT_EQ(h.worker->coalescing_window(), 0u);
}

// A reload (Worker::adopt) while a question is being resolved: the question finishes
// with the pipeline it began in, and the next one uses the new configuration.
TEST(Worker, AReloadLetsQuestionsUnderWayFinish) {
  FakeAuthority root;
  Config config = default_config();
  SocketAddress listen = *SocketAddress::parse("127.0.0.1");
  listen.set_port(free_port());
  config.listen = {listen};
  config.access_control = {AclRule{*Prefix::parse("127.0.0.0/8"), AclAction::allow}};
  config.dnssec.validation = false;
  config.dnssec.trust_anchor_files = {};
  config.network.do_not_query_localhost = false;
  config.network.do_ip6 = false;
  config.resolver.prime_root = false;
  config.resolver.qname_minimisation = false;
  RootHints hints;
  hints.servers.push_back(RootServer{*Name::from_text("a.root."), {root.address}});
  Caches caches(config.cache);
  auto first = std::make_shared<Generation>(config, hints, std::vector<TrustAnchor>{}, caches, 1);
  Worker worker(caches, first, 0);
  std::thread loop([&] { worker.run(); });

  int client = socket(AF_INET, SOCK_DGRAM, 0);
  auto ask = [&](const char *name, uint16_t id) {
    std::string q = encode_query(id, Question{*Name::from_text(name), rrtype::A, rrclass::IN}, true, std::nullopt, false);
    sendto(client, q.data(), q.size(), 0, listen.sockaddr_ptr(), listen.length());
  };
  auto reply_to = [&](uint16_t id) -> std::optional<Message> {
    pollfd p{client, POLLIN, 0};
    if (poll(&p, 1, 3000) != 1) return std::nullopt;
    uint8_t buffer[4096];
    ssize_t n = recv(client, buffer, sizeof buffer, 0);
    ParseError error;
    auto reply = parse_message(buffer, static_cast<size_t>(n), &error);
    if (!reply || reply->id != id) return std::nullopt;
    return reply;
  };

  ask("before.example.", 1);
  auto upstream = root.receive(3000);
  ASSERT_TRUE(upstream) << "the worker did not ask the root";
  // The reload lands while the question waits for the root's answer.
  Config next_config = config;
  next_config.resolver.max_queries_in_flight = 77;
  worker.adopt(std::make_shared<Generation>(next_config, hints, std::vector<TrustAnchor>{}, caches, 2));
  for (int i = 0; i < 100 && worker.generation_number() != 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(worker.generation_number(), 2u);
  root.answer(upstream->first, upstream->second);
  auto reply = reply_to(1);
  ASSERT_TRUE(reply) << "the question under way was lost in the reload";
  EXPECT_EQ(reply->rcode, rcode::NOERROR);
  EXPECT_EQ(reply->answer.size(), 1u);

  // The next question is resolved by the new pipeline, with the same caches.
  ask("after.example.", 2);
  upstream = root.receive(3000);
  ASSERT_TRUE(upstream);
  root.answer(upstream->first, upstream->second);
  reply = reply_to(2);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->answer.size(), 1u);
  ask("before.example.", 3);  // cached before the reload: answered without the root
  reply = reply_to(3);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->answer.size(), 1u);
  EXPECT_FALSE(root.receive(200));
  EXPECT_EQ(worker.counters().server.cache_hits.get(), 1u);
  ::close(client);
  worker.request_stop();
  loop.join();
}

}  // namespace
}  // namespace rsv
