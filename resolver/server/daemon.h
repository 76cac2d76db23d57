// The daemon: caches, the current configuration, the workers, and the control loop
// that runs on the main thread.
//
// Start-up (daemon_main): read the configuration (Generation::load), size the caches,
// restore the cache snapshot (resolver/server/cache_snapshots.h), bind every worker's
// listeners and the control socket, drop privileges, start one thread per worker, and
// run the control loop. At shutdown the workers stop, then the snapshot is written. The control loop owns what is not
// on the query path: signals (SIGTERM and SIGINT stop, SIGHUP reloads), the control
// channel (resolver/server/control.h) and `explain`'s own resolutions.
//
// A reload builds the next Generation off the workers' threads and, only if it loads
// without error, hands it to every worker (Worker::adopt); the caches stay, except
// that what a change of DNSSEC settings, trust anchors or forwarding makes wrong is
// flushed. Settings that need new sockets, memory or privileges are reported and keep
// their running values until a restart.
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
#include "resolver/server/worker.h"

namespace rsv {

class ControlService;
class ControlListener;

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

  // --- for the control channel, on the control loop's thread ---
  ReloadResult reload();
  std::shared_ptr<Generation> generation() const;
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

private:
  void start_control_channel();

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
  std::vector<std::thread> threads_;
};

int daemon_main(int argc, char **argv);

}  // namespace rsv
