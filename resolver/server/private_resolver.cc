#include "resolver/server/private_resolver.h"

#include <algorithm>

#include "cache/random.h"
#include "resolver/engine/engine.h"
#include "resolver/net/upstream.h"

namespace rsv {

namespace {
// A private cache only has to hold one resolution's records.
constexpr uint64_t kSessionCacheBytes = 4u << 20;
}  // namespace

struct PrivateResolver::Session {
  Session(EventLoop &loop, Caches &shared, std::shared_ptr<Generation> gen)
      : generation(std::move(gen)),
        config(own_config(generation->config)),
        rrsets(shared.clock, kSessionCacheBytes,
               TtlPolicy{generation->config.cache.min_ttl, generation->config.cache.max_ttl,
                         generation->config.cache.max_negative_ttl}),
        infra(shared.clock, 1000),
        keys(shared.clock),
        non_cuts(shared.clock, kSessionCacheBytes / 8),
        validator_env{keys,    generation->anchors,      config.dnssec, shared.clock, nullptr,
                      &rrsets, &shared.negative_anchors, nullptr},
        upstream(loop, random, shared.clock, config.network) {
    engine = std::make_unique<Engine>(
        EngineEnv{rrsets, infra, shared.clock, random, config, generation->root_hints,
                  config.dnssec.validation ? &validator_env : nullptr, &non_cuts, nullptr, nullptr},
        upstream);
  }

  // The running configuration, but asking the root hints without priming: priming is
  // validated with the root's DNSKEY set, which is what a refresh of the root asks
  // for (a loop), and the workers keep the root NS set current anyway.
  static Config own_config(const Config &running) {
    Config config = running;
    config.resolver.prime_root = false;
    return config;
  }

  std::shared_ptr<Generation> generation;
  const Config config;
  SystemRandom random;
  RRsetCache rrsets;
  InfraCache infra;
  KeyCache keys;
  NonCutCache non_cuts;
  ValidatorEnv validator_env;
  UdpTcpUpstream upstream;
  std::unique_ptr<Engine> engine;
  std::function<void(const Resolution &)> done;
};

PrivateResolver::PrivateResolver(EventLoop &loop, Caches &shared) : loop_(loop), shared_(shared) {}

PrivateResolver::~PrivateResolver() {
  *alive_ = false;
  // Engines first: their requests refer to the transports beside them.
  for (auto &session : sessions_) session->engine.reset();
  sessions_.clear();
}

void PrivateResolver::resolve(std::shared_ptr<Generation> generation, const Question &question,
                              bool checking_disabled, std::function<void(const Resolution &)> done) {
  if (sessions_.size() >= kMaxConcurrent) {
    done(Resolution::failure(ede::OTHER, "too many of the daemon's own questions at once"));
    return;
  }
  auto session = std::make_unique<Session>(loop_, shared_, std::move(generation));
  session->done = std::move(done);
  Session *raw = session.get();
  sessions_.push_back(std::move(session));
  std::weak_ptr<bool> alive = alive_;
  raw->engine->resolve(question, checking_disabled, [this, alive, raw](const Resolution &result) {
    // Called from inside the engine: the session is taken apart on the next turn.
    loop_.post([this, alive, raw, copy = result]() mutable {
      if (!alive.expired()) complete(raw, std::move(copy));
    });
  });
}

void PrivateResolver::complete(Session *session, Resolution result) {
  auto it =
      std::find_if(sessions_.begin(), sessions_.end(), [&](const auto &s) { return s.get() == session; });
  if (it == sessions_.end()) return;
  std::unique_ptr<Session> owned = std::move(*it);
  sessions_.erase(it);
  auto done = std::move(owned->done);
  owned->engine.reset();
  owned.reset();
  done(result);
}

}  // namespace rsv
