#include "resolver/server/worker.h"

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
  for (const auto &address : config.listen) {
    udp_.push_back(UdpListener::create(loop_, address, *handler_));
    tcp_.push_back(TcpListener::create(loop_, address, *handler_, limits));
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

void Worker::teardown() {
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
