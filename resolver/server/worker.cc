#include "resolver/server/worker.h"

#include <cinttypes>
#include <cstdio>

#include "resolver/base/log.h"
#include "resolver/net/tls_context.h"

namespace rsv {

namespace {
// How often a worker looks whether a replaced pipeline has gone idle.
constexpr uint64_t kRetireCheckMs = 500;
// The query handlers' timers (serve-stale's client response timer) on the worker's loop.
class LoopScheduler final : public Scheduler {
public:
  explicit LoopScheduler(EventLoop &loop) : loop_(loop) {}
  std::unique_ptr<Scheduled> after(uint64_t delay_ms, std::function<void()> fire) override {
    auto scheduled = std::make_unique<TimerCall>(loop_);
    scheduled->timer.start(delay_ms, std::move(fire));
    return scheduled;
  }

private:
  struct TimerCall final : Scheduled {
    explicit TimerCall(EventLoop &loop) : timer(loop) {}
    Timer timer;  // destroyed with the handle: the call is cancelled
  };
  EventLoop &loop_;
};

}  // namespace

// What answers queries under one Generation.
struct Worker::Pipeline {
  std::shared_ptr<Generation> generation;
  std::unique_ptr<UdpTcpUpstream> upstream;
  std::unique_ptr<EncryptedUpstream> encrypted;  // in front of `upstream`: forwarders over TLS/HTTPS
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ClientQueryHandler> handler;
  uint64_t retired_at_ms = 0;

  bool idle() const {
    return engine->in_flight() == 0 && upstream->in_flight() == 0 && encrypted->in_flight() == 0;
  }
  // The longest a question it holds may still take: its time budget, and the
  // discard timeout after which its clients are no longer answered anyway.
  uint64_t grace_ms() const {
    const auto &resolver = generation->config.resolver;
    return uint64_t{resolver.budgets.max_time_ms} + resolver.discard_timeout_ms + 1000;
  }
  ~Pipeline() {
    // The handler's completions refer to the engine, the engine's to the transport.
    handler.reset();
    engine.reset();
    encrypted.reset();
    upstream.reset();
  }
};

Worker::Worker(Caches &caches, std::shared_ptr<Generation> generation, unsigned index)
    : caches_(caches),
      index_(index),
      // Without an HTTP listener nobody reads the log: it is not written either.
      log_queries_(!generation->config.http.listen.empty()),
      query_log_(log_queries_ ? generation->config.http.recent_queries : 0) {
  scheduler_ = std::make_unique<LoopScheduler>(loop_);
  const Config &config = generation->config;
  loop_.set_coalescing_window(config.network.udp_coalesce_usecs);
  current_ = make_pipeline(std::move(generation));
  TcpLimits limits = TcpLimits::from(config.network);
  UdpSocketBuffers buffers{config.network.so_rcvbuf, config.network.so_sndbuf};
  for (const auto &address : config.listen) {
    udp_.push_back(UdpListener::create(loop_, address, *this, UdpLimits{}, buffers));
    tcp_.push_back(TcpListener::create(loop_, address, *this, limits));
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
  open_encrypted_listeners(config, limits);
  retire_timer_ = std::make_unique<Timer>(loop_);
}

// DNS over TLS (RFC 7858) and over HTTPS (RFC 8484): the certificate is read here, at
// start-up, before privileges are dropped (keys are rarely readable by the daemon's user).
void Worker::open_encrypted_listeners(const Config &config, const TcpLimits &limits) {
  if (!config.network.listen_tls.empty()) {
    auto context = TlsContext::server(config.tls.certificate, config.tls.key, {"dot"});
    for (const auto &address : config.network.listen_tls)
      tcp_.push_back(TcpListener::create(loop_, address, *this, limits, context));
  }
  if (!config.network.listen_https.empty()) {
    auto context = TlsContext::server(config.tls.certificate, config.tls.key, {"h2"});
    for (const auto &address : config.network.listen_https)
      doh_.push_back(DohListener::create(loop_, address, *this, limits, context));
  }
}

Worker::~Worker() { teardown(); }

std::unique_ptr<Worker::Pipeline> Worker::make_pipeline(std::shared_ptr<Generation> generation) {
  auto pipeline = std::make_unique<Pipeline>();
  const Config &config = generation->config;
  pipeline->upstream =
      std::make_unique<UdpTcpUpstream>(loop_, random_, caches_.clock, config.network, &counters_.upstream);
  pipeline->encrypted = std::make_unique<EncryptedUpstream>(loop_, caches_.clock, config, *pipeline->upstream,
                                                            &counters_.encrypted);
  pipeline->engine = std::make_unique<Engine>(
      EngineEnv{caches_.rrsets, caches_.infra, caches_.clock, random_, config, generation->root_hints,
                config.dnssec.validation ? &generation->validator_env : nullptr, &caches_.non_cuts,
                &counters_.engine},
      *pipeline->encrypted);
  pipeline->handler = std::make_unique<ClientQueryHandler>(
      config, caches_.messages, caches_.rrsets, *pipeline->engine, generation->root_hints, caches_.clock,
      &counters_.server, &counters_.queries, log_queries_ ? &query_log_ : nullptr, scheduler_.get(),
      generation->policy.get(), &counters_.blocked);
  generation_number_.store(generation->number, std::memory_order_relaxed);
  pipeline->generation = std::move(generation);
  return pipeline;
}

Disposition Worker::handle(QueryContext &context) { return current_->handler->handle(context); }

void Worker::run() {
  loop_.run();
  teardown();
}

void Worker::request_stop() { loop_.stop(); }

void Worker::adopt(std::shared_ptr<Generation> generation) {
  loop_.post([this, generation = std::move(generation)]() mutable { switch_to(std::move(generation)); });
}

void Worker::switch_to(std::shared_ptr<Generation> generation) {
  if (torn_down_) return;
  // http.recent-queries takes effect at once (an empty ring of the new size).
  if (log_queries_ && generation->config.http.recent_queries != current_->generation->config.http.recent_queries)
    query_log_.resize_recent(generation->config.http.recent_queries);
  loop_.set_coalescing_window(generation->config.network.udp_coalesce_usecs);
  auto next = make_pipeline(std::move(generation));
  current_->retired_at_ms = loop_.now_ms();
  retiring_.push_back(std::move(current_));
  current_ = std::move(next);
  retire_idle_pipelines();
}

void Worker::retire_idle_pipelines() {
  const uint64_t now = loop_.now_ms();
  std::erase_if(retiring_, [&](const std::unique_ptr<Pipeline> &pipeline) {
    return pipeline->idle() || now - pipeline->retired_at_ms >= pipeline->grace_ms();
  });
  if (!retiring_.empty()) retire_timer_->start(kRetireCheckMs, [this] { retire_idle_pipelines(); });
}

void Worker::forget_bogus(const Name &name, bool subtree, std::function<void(size_t)> done) {
  loop_.post([this, name, subtree, done = std::move(done)] {
    size_t forgotten = 0;
    if (current_) forgotten += current_->handler->forget_bogus(name, subtree);
    for (auto &pipeline : retiring_) forgotten += pipeline->handler->forget_bogus(name, subtree);
    done(forgotten);
  });
}

ListenerTotals Worker::listener_totals() const {
  std::lock_guard lock(listeners_mutex_);
  if (torn_down_) return final_listener_totals_;
  ListenerTotals t;
  for (const auto &l : udp_) {
    const auto &s = l->stats();
    t.udp_received += s.datagrams_received;
    t.udp_replied += s.replies_sent;
    t.udp_queued += s.replies_queued;
    t.udp_queue_full += s.queue_full_dropped;
    t.udp_dropped += s.dropped;
    t.udp_send_errors += s.send_errors;
    t.udp_receive_errors += s.receive_errors;
    t.udp_kernel_drops += l->kernel_drops();
  }
  for (const auto &l : tcp_) {
    const auto &s = l->stats();
    t.tcp_accepted += s.connections_accepted;
    t.tcp_refused += s.connections_refused;
    t.tcp_evicted += s.connections_evicted;
    t.tcp_timed_out += s.connections_timed_out;
    t.tcp_bad_frame += s.connections_bad_frame;
    t.tcp_not_reading += s.connections_not_reading;
    t.tcp_queries += s.queries_received;
    t.tcp_replies += s.replies_sent;
    t.tcp_replies_dropped += s.replies_dropped;
    t.tcp_write_errors += s.write_errors;
  }
  return t;
}

std::string Worker::stats_line() const {
  const ListenerTotals l = listener_totals();
  const ServerStats &server = counters_.server;
  const EngineStats &engine = counters_.engine;
  const UpstreamStats &up = counters_.upstream;
  char line[3072];
  std::snprintf(
      line, sizeof line,
      "worker %u counters: udp-received=%" PRIu64 " udp-replied=%" PRIu64 " udp-queued=%" PRIu64
      " udp-not-answered=%" PRIu64 " udp-send-errors=%" PRIu64 " udp-kernel-drops=%" PRIu64
      " udp-coalescing-pauses=%" PRIu64 " tcp-connections=%" PRIu64 " tcp-refused=%" PRIu64
      " tcp-queries=%" PRIu64 " tcp-replies=%" PRIu64 " queries=%" PRIu64 " cache-hits=%" PRIu64
      " refused=%" PRIu64 " formerr=%" PRIu64 " dropped=%" PRIu64 " shed-over-capacity=%" PRIu64
      " wait-limit-dropped=%" PRIu64 " crowd-dropped=%" PRIu64 " discarded-late=%" PRIu64 " jostled=%" PRIu64
      " bogus-retries=%" PRIu64 " engine-requests=%" PRIu64 " coalesced=%" PRIu64 " upstream-queries=%" PRIu64
      " upstream-failures=%" PRIu64 " upstream-malformed=%" PRIu64 " budget-exhausted=%" PRIu64
      " caps-mismatches=%" PRIu64 " aggressive-nsec=%" PRIu64 " transport-udp=%" PRIu64
      " transport-tcp=%" PRIu64 " transport-replies=%" PRIu64 " transport-timeouts=%" PRIu64
      " transport-network-errors=%" PRIu64 " transport-mismatches-ignored=%" PRIu64
      " stale-on-failure=%" PRIu64 " stale-on-client-timeout=%" PRIu64 " stale-in-recheck=%" PRIu64
      " stale-over-capacity=%" PRIu64 " prefetches=%" PRIu64 " prefetches-skipped=%" PRIu64
      " forward-tls-queries=%" PRIu64 " forward-https-queries=%" PRIu64
      " forward-encrypted-connections=%" PRIu64 " forward-encrypted-connection-failures=%" PRIu64
      " forward-encrypted-replies=%" PRIu64 " forward-encrypted-retries=%" PRIu64,
      index_, l.udp_received, l.udp_replied, l.udp_queued, l.udp_dropped, l.udp_send_errors,
      l.udp_kernel_drops, coalescing_pauses(), l.tcp_accepted, l.tcp_refused, l.tcp_queries, l.tcp_replies,
      server.queries.get(), server.cache_hits.get(), server.refused.get(), server.formerr.get(),
      server.dropped.get(), server.overload_dropped.get(), server.wait_limit_dropped.get(),
      server.crowd_dropped.get(), server.discarded_late.get(), engine.jostled.get(),
      engine.bogus_retries.get(), engine.requests.get(), engine.coalesced.get(),
      engine.upstream_queries.get(), engine.upstream_timeouts.get(), engine.upstream_malformed.get(),
      engine.budget_exhausted.get(), engine.caps_mismatches.get(), engine.aggressive_nsec_answers.get(),
      up.udp_queries.get(), up.tcp_queries.get(), up.replies.get(), up.timeouts.get(),
      up.network_errors.get(), up.mismatches_ignored.get(), server.stale_on_failure.get(),
      server.stale_on_client_timeout.get(), server.stale_in_recheck.get(), server.stale_over_capacity.get(),
      server.prefetches.get(), server.prefetches_skipped.get(), counters_.encrypted.tls_queries.get(),
      counters_.encrypted.https_queries.get(), counters_.encrypted.connections_opened.get(),
      counters_.encrypted.connection_failures.get(), counters_.encrypted.replies.get(),
      counters_.encrypted.retries.get());
  return line;
}

void Worker::teardown() {
  if (torn_down_) return;
  {
    // Before the sockets close: their kernel drop counters go with them.
    ListenerTotals totals = listener_totals();
    std::lock_guard lock(listeners_mutex_);
    final_listener_totals_ = totals;
    torn_down_ = true;
  }
  RSV_LOG(info, "%s", stats_line().c_str());
  // Listeners first (no new queries), then the pipelines (engines drop their
  // requests, then the transports whose sockets they were waiting on).
  for (auto &l : udp_) l->close();
  for (auto &l : tcp_) l->close();
  for (auto &l : doh_) l->close();
  {
    std::lock_guard lock(listeners_mutex_);
    udp_.clear();
    tcp_.clear();
    doh_.clear();
  }
  retire_timer_.reset();
  retiring_.clear();
  current_.reset();
}

}  // namespace rsv
