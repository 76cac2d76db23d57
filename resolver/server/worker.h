// One worker: an event loop thread with its listeners, upstream transport, engine
// and query handler. `threads: N` runs N workers; they bind the same addresses with
// SO_REUSEPORT (the kernel spreads queries between them) and share the caches in
// SharedState, which are sharded so that workers rarely wait for one another.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cache/clock.h"
#include "cache/infra_cache.h"
#include "cache/message_cache.h"
#include "cache/non_cut_cache.h"
#include "cache/random.h"
#include "cache/rrset_cache.h"
#include "dnssec/key_cache.h"
#include "dnssec/trust_anchor.h"
#include "dnssec/validator.h"
#include "resolver/config/config.h"
#include "resolver/engine/engine.h"
#include "resolver/net/event_loop.h"
#include "resolver/net/tcp_listener.h"
#include "resolver/net/udp_listener.h"
#include "resolver/net/upstream.h"
#include "resolver/server/query_handler.h"

namespace rsv {

// What every worker shares: configuration, clock and caches.
struct SharedState {
  SharedState(const Config &config, const DelegationPoint &root_hints, std::vector<TrustAnchor> anchors);

  const Config &config;
  const DelegationPoint &root_hints;
  SystemClock clock;
  RRsetCache rrsets;
  MessageCache messages;
  InfraCache infra;
  std::vector<TrustAnchor> anchors;
  KeyCache keys;
  AggressiveNsecCache aggressive_nsec;
  NonCutCache non_cuts;
  ValidatorEnv validator_env;
};

class Worker {
public:
  // Binds every listen address; throws std::runtime_error when one cannot be bound.
  Worker(SharedState &shared, unsigned index);
  ~Worker();

  // Runs the loop until request_stop(); then closes this worker's sockets.
  void run();
  // Callable from any thread.
  void request_stop();
  std::unique_ptr<SignalWatcher> watch_termination(std::function<void(int)> on_signal);

  // One line with this worker's counters: client sockets (with the datagrams the
  // kernel dropped on them), query handler, engine and upstream transport, as
  // "worker N counters: key=value ...". Logged (info) when the worker stops, and still
  // readable after that (the values at that moment); until the control socket exists
  // it is the only way to read them.
  std::string stats_line() const;

private:
  void teardown();
  std::string current_stats_line() const;

  SharedState &shared_;
  unsigned index_;
  EventLoop loop_;
  SystemRandom random_;
  std::unique_ptr<UdpTcpUpstream> upstream_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ClientQueryHandler> handler_;
  std::vector<std::shared_ptr<UdpListener>> udp_;
  std::vector<std::shared_ptr<TcpListener>> tcp_;
  std::string final_stats_;  // stats_line() as it was at teardown
};

}  // namespace rsv
