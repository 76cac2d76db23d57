// The daemon: caches, the current configuration, the workers, and the control loop
// that runs on the main thread.
//
// Start-up (daemon_main): read the configuration (Generation::load), size the caches,
// bind every worker's listeners, the control socket and the HTTP listener, drop
// privileges, start one thread per worker and the HTTP server's threads, and run the
// control loop. The control loop owns what is not on the query path: signals
// (SIGTERM and SIGINT stop, SIGHUP reloads), the control channel
// (resolver/server/control.h), `explain`'s own resolutions, and the sampling of the
// dashboard's traffic history. Shutdown stops the HTTP server first, then the control
// channel, then the workers.
// restore the cache snapshot (resolver/server/cache_snapshots.h), bind every worker's
// listeners and the control socket, drop privileges, start one thread per worker, and
// run the control loop. At shutdown the workers stop, then the snapshot is written. The control loop owns
// what is not on the query path: signals (SIGTERM and SIGINT stop, SIGHUP reloads), the control channel
// (resolver/server/control.h) and `explain`'s own resolutions.
//
// A reload builds the next Generation off the workers' threads and, only if it loads
// without error, hands it to every worker (Worker::adopt); the caches stay, except
// that what a change of DNSSEC settings, trust anchors or forwarding makes wrong is
// flushed. Settings that need new sockets, memory or privileges are reported and keep
// their running values until a restart.
//
// Negative trust anchors added at run time (`resolverctl nta add NAME --for D`) lapse
// on a timer of the control loop, which flushes what was judged under them as
// `nta remove` does (RFC 7646 2: they are temporary, and their insecure answers with
// them).
//
// As a service (conf/resolverd.service, Type=notify) the daemon tells systemd when it
// is ready, reloading and stopping (resolver/server/service_notify.h). Trust anchor
// maintenance (RFC 5011, RFC 8145) runs on the control loop
// (resolver/server/trust_anchor_maintainer.h); when the keys to trust change it hands
// the daemon new anchors (adopt_trust_anchors), which take effect like a reload.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "resolver/net/event_loop.h"
#include "resolver/server/cache_snapshots.h"
#include "resolver/server/caches.h"
#include "resolver/server/generation.h"
#include "resolver/server/metrics.h"
#include "resolver/server/service_notify.h"
#include "resolver/server/traffic_series.h"
#include "resolver/server/worker.h"

namespace rsv {

class ControlService;
class ControlListener;
class TrustAnchorMaintainer;
class HttpServer;

extern const char *const kResolverdVersion;

struct ReloadResult {
  bool ok = false;
  std::string error;                          // why the new configuration was refused (file:line)
  std::vector<std::string> restart_needed;    // changed settings that wait for a restart
  std::vector<std::string> flushed;           // what the reload flushed, and why
  uint64_t generation = 0;                    // the generation running afterwards
};

class Daemon {
public:
  // Binds every socket; throws std::runtime_error when one cannot be bound.
  Daemon(ConfigSource source, std::shared_ptr<Generation> first, std::unique_ptr<Caches> caches);
  ~Daemon();
  Daemon(const Daemon &) = delete;
  Daemon &operator=(const Daemon &) = delete;

  // Drops privileges, starts the worker threads and runs the control loop until a
  // termination signal or stop(). Returns the exit status.
  int run();
  // Any thread.
  void stop();
  // Where READY=1 and the like go (default: libsystemd's sd_notify). Before run().
  void set_service_notifier(ServiceNotifier notifier) { notifier_ = std::move(notifier); }

  // --- for the control channel, on the control loop's thread ---
  ReloadResult reload();
  // The running configuration with other trust anchors (RFC 5011 learned a key, or
  // one was revoked): a new Generation every worker adopts, as after a reload. The
  // anchored zones' validated keys are forgotten so that they are checked again.
  void adopt_trust_anchors(std::vector<TrustAnchor> anchors, const std::string &why);
  std::shared_ptr<Generation> generation() const;
  const TrustAnchorMaintainer *trust_anchor_maintainer() const { return maintainer_.get(); }
  Caches &caches() { return *caches_; }
  EventLoop &loop() { return loop_; }
  const ConfigSource &source() const { return source_; }
  int64_t started_at() const { return started_at_; }
  std::vector<const Worker *> workers() const;
  MetricsSources metrics_sources() const;
  // Flushes `name` (with `subtree`, everything at or below it; `all`: everything) in
  // the shared caches and the workers' memory of bogus answers; `done` runs on the
  // control loop once every worker has done its part.
  void flush(const Name &name, bool subtree, bool all, std::function<void(FlushCounts)> done);
  // Run-time negative trust anchors (RFC 7646): ends those that have lapsed, flushing
  // what was judged under them as `nta remove` does. A timer runs it when the next one
  // lapses; the control channel also runs it before it reads or changes them.
  void end_lapsed_negative_anchors();
  // One was added or removed: the timer is set for the next to lapse.
  void negative_anchors_changed();

  // --- any thread ---
  // Runs a control command (control.h) on the control loop; `done` gets its reply
  // there. While the daemon stops, the command may never run.
  void run_command(std::vector<std::string> args, std::function<void(nlohmann::json)> done);
  // Answers sent and cache hits so far, over every worker.
  TrafficSeries::Totals traffic_totals() const;
  const TrafficSeries &traffic_series() const { return series_; }
  // The HTTP listener's addresses (empty when http.listen is []).
  std::vector<SocketAddress> http_addresses() const;

private:
  void start_control_channel();
  void install(std::shared_ptr<Generation> next);
  std::string serving_status() const;
  void start_http(const Config &config);
  void sample_traffic();

  ConfigSource source_;
  std::unique_ptr<Caches> caches_;
  mutable std::mutex generation_mutex_;
  std::shared_ptr<Generation> generation_;
  uint64_t next_generation_ = 2;
  int64_t started_at_ = 0;
  EventLoop loop_;
  std::unique_ptr<CacheSnapshots> snapshots_;  // its timer runs on loop_
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<ControlService> control_;
  std::unique_ptr<ControlListener> control_listener_;
  std::unique_ptr<TrustAnchorMaintainer> maintainer_;
  ServiceNotifier notifier_;
  TrafficSeries series_;
  std::unique_ptr<Timer> series_timer_;
  std::unique_ptr<Timer> lapse_timer_;  // the next run-time negative trust anchor to lapse
  std::unique_ptr<HttpServer> http_;
  std::vector<std::thread> threads_;
};

int daemon_main(int argc, char **argv);

}  // namespace rsv
