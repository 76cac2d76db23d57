// The engine: one client question from arrival to Resolution, on one event loop.
//
// resolve() looks for an identical question already in flight and, if there is
// one, simply waits with it (coalescing). Otherwise it creates a Request holding a
// stack of iterators: the client's question at the bottom, sub-questions (a
// glueless name server's address) above it. drive() asks the top iterator for its
// next action and carries it out: a query goes to the Transport, a sub-question
// pushes an iterator, "done" pops one and hands its result to the one below.
// Every budget that spans the whole client query is checked here, in one place:
// upstream queries in total and per name, sub-question depth and loops, and wall
// time. When one is spent the request ends with SERVFAIL and an Extended DNS Error.
#pragma once

#include "resolver/base/counter.h"
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache/clock.h"
#include "resolver/engine/transport.h"
#include "dnssec/trace.h"
#include "dnssec/validation_budget.h"
#include "dnssec/validator.h"
#include "resolver/iter/iterator.h"

namespace rsv {

struct EngineStats {
  Counter requests;
  Counter coalesced;
  Counter upstream_queries;
  Counter upstream_timeouts;
  Counter upstream_malformed;
  Counter budget_exhausted;
  Counter caps_mismatches;
  Counter aggressive_nsec_answers;  // RFC 8198: answered from validated NSEC
  Counter bogus_retries;            // answers asked again after failing validation
  Counter jostled;                  // questions given up to make room (jostle-timeout)
};

struct EngineEnv {
  RRsetCache &rrsets;
  InfraCache &infra;
  const Clock &clock;
  RandomSource &random;
  const Config &config;
  const DelegationPoint &root_hints;
  ValidatorEnv *validator = nullptr;  // null: validation off
  NonCutCache *non_cuts = nullptr;    // RFC 9156 memory of names inside zones; null: none
  // Where the counters go: a worker keeps its own across configuration reloads; null:
  // the engine's own.
  EngineStats *stats = nullptr;
  ResolutionTrace *trace = nullptr;  // `resolverctl explain`: every step reported; null: none
};


// How a question is resolved, besides the question itself.
struct ResolveOptions {
  // A refresh (prefetch): the answer is fetched from the authorities even though the
  // cache holds it; delegations, addresses and keys still come from the cache.
  bool refresh = false;
  // Nobody waits for it (prefetch): over capacity it is the first to be given up
  // (make_room), before any client's question. A client that asks the same question
  // meanwhile joins it, and from then on it counts as a client's.
  bool background = false;
};

class Engine {
public:
  using Completion = std::function<void(const Resolution &)>;
  // Other servers asked before an answer is declared bogus (Unbound asks up to 5 times).
  static constexpr unsigned kMaxBogusRetries = 4;

  Engine(EngineEnv env, Transport &transport);
  ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  // Resolves `question`; `done` is called exactly once, possibly before resolve returns
  // (an answer from the cache), always on this engine's thread.
  // With `checking_disabled` (the client's CD bit) the answer is not validated.
  void resolve(const Question &question, bool checking_disabled, Completion done, ResolveOptions options = {});

  size_t in_flight() const { return requests_.size(); }
  // Over capacity: gives up a background question (the oldest), or else the oldest
  // question that has run at least `min_age_ms` (its clients get a `dropped`
  // Resolution: no reply). False when there is neither.
  bool make_room(uint64_t min_age_ms);
  // How many clients wait on the question now (0 when it is not being resolved).
  size_t clients_waiting_on(const Question &question, bool checking_disabled) const;
  bool is_in_flight(const Question &question, bool checking_disabled) const;
  const EngineStats &stats() const { return stats_; }
  // The negative trust anchors' change count now (0 when validation is off or only
  // configured anchors exist): compared with Resolution::negative_anchor_changes.
  uint64_t negative_anchor_changes() const {
    return env_.validator && env_.validator->negative_anchors ? env_.validator->negative_anchors->changes()
                                                              : 0;
  }

private:
  struct Frame;
  struct Request;

  void drive(Request &request);
  void dispatch(Request &request, const IteratorAction &action);
  bool push_subquery(Request &request, const Question &question, bool validate, const char *why,
                     bool for_validator = false);
  bool ask_elsewhere(Request &request, const Validator &validator);
  Resolution subquery_refused(const Request &request, const Question &question) const;
  // Hands a finished frame's result to the frame below; false when it was the last.
  // `result` is taken by value: it may belong to the frame being popped.
  bool complete_frame(Request &request, Resolution result);
  void on_transport_result(uint64_t request_id, const IteratorAction &action, const OutgoingQuery &query,
                           TransportResult result);
  void finish(Request &request, const Resolution &result);
  std::optional<std::string> spent_budget(const Request &request) const;
  // What the request cost, for a trace: queries, time, validation work.
  std::string describe_spending(const Request &request) const;

  EngineEnv env_;
  IteratorEnv iterator_env_;
  Transport &transport_;
  uint64_t next_request_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Request>> requests_;
  std::unordered_map<std::string, uint64_t> by_question_;
  EngineStats own_stats_;
  EngineStats &stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rsv
