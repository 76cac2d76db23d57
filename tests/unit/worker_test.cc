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

}  // namespace
}  // namespace rsv
