#include "resolver/server/worker.h"

#include <cinttypes>
#include <cstdio>

#include "resolver/base/log.h"

namespace rsv {

namespace {
// The byte budget is split between the two data caches; answers (message cache)
// are bigger per entry, RRsets are what iteration reuses.
constexpr uint64_t kMessageCacheShare = 2;  // 1/2 of cache.size
// Names known not to be zone cuts (QNAME minimisation) take a small slice on top.
constexpr uint64_t kNonCutCacheShare = 32;
}  // namespace

SharedState::SharedState(const Config &cfg, const DelegationPoint &hints, std::vector<TrustAnchor> trust_anchors)
    : config(cfg),
      root_hints(hints),
      rrsets(clock, cfg.cache.size_bytes - cfg.cache.size_bytes / kMessageCacheShare,
             TtlPolicy{cfg.cache.min_ttl, cfg.cache.max_ttl, cfg.cache.max_negative_ttl}),
      messages(clock, cfg.cache.size_bytes / kMessageCacheShare),
      infra(clock),
      anchors(std::move(trust_anchors)),
      keys(clock),
      aggressive_nsec(clock),
      non_cuts(clock, cfg.cache.size_bytes / kNonCutCacheShare),
      validator_env{keys, anchors, cfg.dnssec, clock, &aggressive_nsec, &rrsets} {}

Worker::Worker(SharedState &shared, unsigned index) : shared_(shared), index_(index) {
  const Config &config = shared.config;
  upstream_ = std::make_unique<UdpTcpUpstream>(loop_, random_, shared.clock, config.network);
  engine_ = std::make_unique<Engine>(
      EngineEnv{shared.rrsets, shared.infra, shared.clock, random_, config, shared.root_hints,
                config.dnssec.validation ? &shared.validator_env : nullptr, &shared.non_cuts},
      *upstream_);
  handler_ = std::make_unique<ClientQueryHandler>(config, shared.messages, shared.rrsets, *engine_, shared.root_hints,
                                                  shared.clock);
  TcpLimits limits = TcpLimits::from(config.network);
  UdpSocketBuffers buffers{config.network.so_rcvbuf, config.network.so_sndbuf};
  for (const auto &address : config.listen) {
    udp_.push_back(UdpListener::create(loop_, address, *handler_, UdpLimits{}, buffers));
    tcp_.push_back(TcpListener::create(loop_, address, *handler_, limits));
    // Said once (first worker): every worker's sockets get the same from the kernel.
    const auto &udp = *udp_.back();
    if (index_ == 0 && buffers.receive != 0 && udp.receive_buffer_size() < buffers.receive)
      RSV_LOG(warning,
              "%s: network.so-rcvbuf asks for %" PRIu64 " bytes, the kernel granted %" PRIu64
              " (raise net.core.rmem_max, or start as root / with CAP_NET_ADMIN)",
              address.to_string().c_str(), buffers.receive, udp.receive_buffer_size());
    if (index_ == 0 && buffers.send != 0 && udp.send_buffer_size() < buffers.send)
      RSV_LOG(warning,
              "%s: network.so-sndbuf asks for %" PRIu64 " bytes, the kernel granted %" PRIu64
              " (raise net.core.wmem_max, or start as root / with CAP_NET_ADMIN)",
              address.to_string().c_str(), buffers.send, udp.send_buffer_size());
  }
}

Worker::~Worker() { teardown(); }

void Worker::run() {
  loop_.run();
  teardown();
}

void Worker::request_stop() { loop_.stop(); }

std::unique_ptr<SignalWatcher> Worker::watch_termination(std::function<void(int)> on_signal) {
  return SignalWatcher::on_termination(loop_, std::move(on_signal));
}

std::string Worker::stats_line() const { return handler_ ? current_stats_line() : final_stats_; }

std::string Worker::current_stats_line() const {
  UdpListenerStats udp;
  uint64_t kernel_drops = 0;
  for (const auto &l : udp_) {
    const auto &s = l->stats();
    udp.datagrams_received += s.datagrams_received;
    udp.replies_sent += s.replies_sent;
    udp.replies_queued += s.replies_queued;
    udp.dropped += s.dropped;
    udp.send_errors += s.send_errors;
    kernel_drops += l->kernel_drops();
  }
  TcpListenerStats tcp;
  for (const auto &l : tcp_) {
    const auto &s = l->stats();
    tcp.connections_accepted += s.connections_accepted;
    tcp.connections_refused += s.connections_refused;
    tcp.queries_received += s.queries_received;
    tcp.replies_sent += s.replies_sent;
  }
  char line[2048];
  const ServerStats &server = handler_->stats();
  const EngineStats &engine = engine_->stats();
  const UpstreamStats &up = upstream_->stats();
  std::snprintf(line, sizeof line,
                "worker %u counters: udp-received=%" PRIu64 " udp-replied=%" PRIu64 " udp-queued=%" PRIu64
                " udp-not-answered=%" PRIu64 " udp-send-errors=%" PRIu64 " udp-kernel-drops=%" PRIu64
                " tcp-connections=%" PRIu64 " tcp-refused=%" PRIu64 " tcp-queries=%" PRIu64 " tcp-replies=%" PRIu64
                " queries=%" PRIu64 " cache-hits=%" PRIu64 " refused=%" PRIu64 " formerr=%" PRIu64
                " dropped=%" PRIu64 " shed-over-capacity=%" PRIu64 " wait-limit-dropped=%" PRIu64 " crowd-dropped=%" PRIu64
                " discarded-late=%" PRIu64 " jostled=%" PRIu64 " bogus-retries=%" PRIu64 " engine-requests=%" PRIu64
                " coalesced=%" PRIu64 " upstream-queries=%" PRIu64 " upstream-failures=%" PRIu64
                " upstream-malformed=%" PRIu64 " budget-exhausted=%" PRIu64 " caps-mismatches=%" PRIu64
                " aggressive-nsec=%" PRIu64 " transport-udp=%" PRIu64 " transport-tcp=%" PRIu64
                " transport-replies=%" PRIu64 " transport-timeouts=%" PRIu64 " transport-network-errors=%" PRIu64
                " transport-mismatches-ignored=%" PRIu64,
                index_, udp.datagrams_received.get(), udp.replies_sent.get(), udp.replies_queued.get(), udp.dropped.get(),
                udp.send_errors.get(), kernel_drops, tcp.connections_accepted.get(), tcp.connections_refused.get(),
                tcp.queries_received.get(), tcp.replies_sent.get(), server.queries.get(), server.cache_hits.get(), server.refused.get(),
                server.formerr.get(), server.dropped.get(), server.overload_dropped.get(), server.wait_limit_dropped.get(),
                server.crowd_dropped.get(), server.discarded_late.get(), engine.jostled.get(), engine.bogus_retries.get(),
                engine.requests.get(), engine.coalesced.get(),
                engine.upstream_queries.get(), engine.upstream_timeouts.get(), engine.upstream_malformed.get(),
                engine.budget_exhausted.get(), engine.caps_mismatches.get(), engine.aggressive_nsec_answers.get(), up.udp_queries.get(),
                up.tcp_queries.get(), up.replies.get(), up.timeouts.get(), up.network_errors.get(), up.mismatches_ignored.get());
  return line;
}

void Worker::teardown() {
  if (handler_ && engine_ && upstream_) {
    final_stats_ = current_stats_line();  // before the sockets close: their drop counters go with them
    RSV_LOG(info, "%s", final_stats_.c_str());
  }
  // Listeners first (no new queries), then the engine (drops its requests), then the
  // transport whose sockets the engine was waiting on.
  for (auto &l : udp_) l->close();
  for (auto &l : tcp_) l->close();
  udp_.clear();
  tcp_.clear();
  handler_.reset();
  engine_.reset();
  upstream_.reset();
}

}  // namespace rsv
