// One worker: an event loop thread with its listeners and the pipeline that answers
// them (upstream transport, engine, query handler). `threads: N` runs N workers;
// they bind the same addresses with SO_REUSEPORT (the kernel spreads queries between
// them) and share the caches (resolver/server/caches.h), which are sharded so that
// workers rarely wait for one another.
//
// A configuration reload reaches a worker through adopt(): on its own thread it
// builds a new pipeline from the new Generation and sends new queries there, while
// the old pipeline keeps answering the questions it already had; it is destroyed once
// idle (or after the longest a question may take). The listeners stay bound (the
// daemon may have dropped the privileges to bind them again), and so do the worker's
// counters (WorkerCounters) and query log (top names and clients, recent queries),
// which every pipeline writes into.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cache/random.h"
#include "resolver/engine/engine.h"
#include "resolver/net/doh_listener.h"
#include "resolver/net/encrypted_upstream.h"
#include "resolver/net/event_loop.h"
#include "resolver/net/tcp_listener.h"
#include "resolver/net/udp_listener.h"
#include "resolver/net/upstream.h"
#include "resolver/server/blocked_counts.h"
#include "resolver/server/caches.h"
#include "resolver/server/generation.h"
#include "resolver/server/query_handler.h"

namespace rsv {

// A worker's counters, written only by its thread and kept for its whole life.
struct WorkerCounters {
  ServerStats server;
  QueryMetrics queries;
  EngineStats engine;
  UpstreamStats upstream;
  BlockedCounts blocked;  // per blocklist name
  EncryptedUpstreamStats encrypted;  // forwarding over TLS and HTTPS
};

// The worker's client sockets, summed over its listen addresses.
struct ListenerTotals {
  uint64_t udp_received = 0, udp_replied = 0, udp_queued = 0, udp_queue_full = 0, udp_dropped = 0,
           udp_send_errors = 0, udp_receive_errors = 0, udp_kernel_drops = 0;
  uint64_t tcp_accepted = 0, tcp_refused = 0, tcp_evicted = 0, tcp_timed_out = 0, tcp_bad_frame = 0,
           tcp_not_reading = 0, tcp_queries = 0, tcp_replies = 0, tcp_replies_dropped = 0, tcp_write_errors = 0,
           tcp_connections_open = 0;
};

class Worker final : public QueryHandler {
public:
  // Binds every listen address; throws std::runtime_error when one cannot be bound.
  Worker(Caches &caches, std::shared_ptr<Generation> generation, unsigned index);
  ~Worker() override;

  // Runs the loop until request_stop(); then closes this worker's sockets.
  void run();
  // Callable from any thread.
  void request_stop();

  // Callable from any thread: new questions are resolved with `generation` from the
  // next loop iteration on.
  void adopt(std::shared_ptr<Generation> generation);
  // Callable from any thread: forgets the bogus answers this worker remembers for
  // `name` (RFC 4035 4.7), then calls `done` with how many, on the worker's thread.
  void forget_bogus(const Name &name, bool subtree, std::function<void(size_t)> done);

  // The listeners hand every query here; it goes to the current pipeline.
  Disposition handle(QueryContext &context) override;

  // Readable from any thread (relaxed counters: a value may be a moment old).
  const WorkerCounters &counters() const { return counters_; }
  // Readable from any thread (it locks inside). Written only when the daemon has an
  // HTTP listener to show it.
  const QueryLog &query_log() const { return query_log_; }
  ListenerTotals listener_totals() const;
  // Receive-coalescing pauses this worker's loop has taken (network.udp-coalesce-usecs).
  uint64_t coalescing_pauses() const { return loop_.coalescing_pauses(); }
  // The window in force; read it on the worker's thread, or while its loop is not running.
  uint32_t coalescing_window() const { return loop_.coalescing_window(); }
  uint64_t generation_number() const { return generation_number_.load(std::memory_order_relaxed); }
  unsigned index() const { return index_; }

  // One line with this worker's counters, "worker N counters: key=value ...". Logged
  // (info) when the worker stops.
  std::string stats_line() const;

private:
  struct Pipeline;
  std::unique_ptr<Pipeline> make_pipeline(std::shared_ptr<Generation> generation);
  void switch_to(std::shared_ptr<Generation> generation);
  void retire_idle_pipelines();
  void teardown();
  void open_encrypted_listeners(const Config &config, const TcpLimits &limits);

  Caches &caches_;
  unsigned index_;
  EventLoop loop_;
  std::unique_ptr<Scheduler> scheduler_;  // timers on loop_ for the query handlers
  SystemRandom random_;
  WorkerCounters counters_;
  const bool log_queries_;  // http.listen is set (at start: it changes only with a restart)
  QueryLog query_log_;
  std::unique_ptr<Pipeline> current_;
  std::vector<std::unique_ptr<Pipeline>> retiring_;
  std::unique_ptr<Timer> retire_timer_;
  std::atomic<uint64_t> generation_number_{0};
  // Guards the listener lists against teardown while another thread reads totals.
  mutable std::mutex listeners_mutex_;
  std::vector<std::shared_ptr<UdpListener>> udp_;
  std::vector<std::shared_ptr<TcpListener>> tcp_;  // DNS over TLS too
  std::vector<std::shared_ptr<DohListener>> doh_;
  ListenerTotals final_listener_totals_;
  bool torn_down_ = false;
};

}  // namespace rsv
