#include "resolver/server/explain.h"

#include "cache/random.h"
#include "resolver/engine/engine.h"
#include "resolver/net/upstream.h"
#include "resolver/server/explain_trace.h"

namespace rsv {

namespace {
// A private cache only has to hold one resolution's records.
constexpr uint64_t kSessionCacheBytes = 8u << 20;
}  // namespace

struct Explainer::Session {
  Session(EventLoop &loop, Caches &shared, std::shared_ptr<Generation> gen, const Question &q, bool cd)
      : generation(std::move(gen)),
        question(q),
        checking_disabled(cd),
        trace(shared.clock, q, cd),
        rrsets(shared.clock, kSessionCacheBytes,
               TtlPolicy{generation->config.cache.min_ttl, generation->config.cache.max_ttl,
                         generation->config.cache.max_negative_ttl}),
        infra(shared.clock, 1000),
        keys(shared.clock),
        non_cuts(shared.clock, kSessionCacheBytes / 8),
        validator_env{keys,    generation->anchors,       generation->config.dnssec, shared.clock, nullptr,
                      &rrsets, &shared.negative_anchors, &trace},
        upstream(loop, random, shared.clock, generation->config.network) {
    const Config &config = generation->config;
    engine = std::make_unique<Engine>(
        EngineEnv{rrsets, infra, shared.clock, random, config, generation->root_hints,
                  config.dnssec.validation ? &validator_env : nullptr, &non_cuts, nullptr, &trace},
        upstream);
  }

  std::shared_ptr<Generation> generation;
  Question question;
  bool checking_disabled;
  ExplainTrace trace;
  SystemRandom random;
  RRsetCache rrsets;
  InfraCache infra;
  KeyCache keys;
  NonCutCache non_cuts;
  ValidatorEnv validator_env;
  UdpTcpUpstream upstream;
  std::unique_ptr<Engine> engine;
  nlohmann::json before;
  std::function<void(ExplainReport)> done;
};

Explainer::Explainer(EventLoop &loop, Caches &shared) : loop_(loop), shared_(shared) {}

Explainer::~Explainer() {
  *alive_ = false;
  // Engines first: their requests refer to the transports beside them.
  for (auto &session : sessions_) session->engine.reset();
  sessions_.clear();
}

nlohmann::json Explainer::cache_before(const Session &session) const {
  const Question &q = session.question;
  nlohmann::json out = {{"message", nullptr}, {"rrset", nullptr}};
  const int64_t now = shared_.clock.now_seconds();
  // The entry a validating client (DO set) would be served, else a plain one.
  for (uint8_t flags : {message_flags::DO, uint8_t{0}}) {
    if (session.checking_disabled) flags |= message_flags::CD;
    if (auto cached = shared_.messages.lookup(q.name, q.qtype, q.qclass, flags)) {
      out["message"] = {{"rcode", rcode_to_text(cached->rcode)},
                        {"security", to_string(cached->security)},
                        {"ttl_left", cached->expires_at - now},
                        {"dnssec_ok", (flags & message_flags::DO) != 0}};
      break;
    }
  }
  if (auto cached = shared_.rrsets.lookup(q.name, q.qtype))
    out["rrset"] = {{"security", to_string(cached->security)},
                    {"trust", to_string(cached->trust)},
                    {"ttl_left", cached->expires_at - now}};
  out["negative_trust_anchor"] = shared_.negative_anchors.covers(q.name, now);
  return out;
}

void Explainer::explain(std::shared_ptr<Generation> generation, const Question &question, bool checking_disabled,
                        std::function<void(ExplainReport)> done) {
  if (sessions_.size() >= kMaxConcurrent) {
    ExplainReport busy;
    busy.error = std::to_string(kMaxConcurrent) + " explains are already running; try again in a moment";
    done(std::move(busy));
    return;
  }
  auto session = std::make_unique<Session>(loop_, shared_, std::move(generation), question, checking_disabled);
  session->done = std::move(done);
  session->before = cache_before(*session);
  Session *raw = session.get();
  sessions_.push_back(std::move(session));
  std::weak_ptr<bool> alive = alive_;
  raw->engine->resolve(question, checking_disabled, [this, alive, raw](const Resolution &) {
    // Called from inside the engine: the session is taken apart on the next turn.
    loop_.post([this, alive, raw] {
      if (!alive.expired()) complete(raw);
    });
  });
}

void Explainer::complete(Session *session) {
  auto it = std::find_if(sessions_.begin(), sessions_.end(), [&](const auto &s) { return s.get() == session; });
  if (it == sessions_.end()) return;
  std::unique_ptr<Session> owned = std::move(*it);
  sessions_.erase(it);
  // What the shared key cache knew of each zone the walk met.
  nlohmann::json before = std::move(owned->before);
  before["zones"] = nlohmann::json::object();
  for (const Name &zone : owned->trace.zones()) {
    auto keys = shared_.keys.lookup(zone);
    before["zones"][zone.to_text()] = keys ? std::string(keys->status == ZoneKeys::Status::secure      ? "secure"
                                                         : keys->status == ZoneKeys::Status::insecure  ? "insecure"
                                                         : keys->status == ZoneKeys::Status::not_a_cut ? "not a cut"
                                                                                                       : "bogus") +
                                                 " in the key cache"
                                           : std::string("not in the key cache");
  }
  ExplainReport report;
  report.ok = true;
  report.data = owned->trace.report(std::move(before));
  auto done = std::move(owned->done);
  owned->engine.reset();
  owned.reset();
  done(std::move(report));
}

}  // namespace rsv
