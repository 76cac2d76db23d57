// The server's side of a client query: checks, the cache-hit fast path, and replies.
//
// A query arrives from a listener (resolver/net) as raw bytes. handle():
//   1. access control by client prefix (first match wins; deny drops, refuse
//      answers REFUSED; no match is refused; allow serves RD=1 only and refuses
//      RD=0, which allow-snoop answers from the cache);
//   2. fast path: a well-formed single-question query with RD set whose answer is in
//      the message cache is answered by copying the ready-made reply, patching ID,
//      flags, question case and TTLs, and appending our OPT record; no parsing beyond
//      header and question, no heap allocation;
//   3. otherwise the slow path parses the whole message (FORMERR, NOTIMP, BADVERS,
//      RFC 8482 for ANY, cache-only answers for RD=0) and hands real questions to the
//      engine, answering when it completes and filling the message cache.
//
// Load shedding, the rule: a thread resolves at most resolver.max-queries-in-flight
// distinct questions at once. Past that, the oldest question that has run longer
// than resolver.jostle-timeout (200 ms, Unbound's jostle) is given up for the new one
// (its clients get no reply; EngineStats::jostled); when none is that old, the new
// query is dropped without an answer and counted (ServerStats::overload_dropped,
// logged as a warning at most every 10 s); everything that needs no new resolution is still
// served: cache hits, cache-only (RD=0) and error answers, remembered bogus answers,
// and questions identical to one in flight (they wait for it). Dropping, as Unbound
// does when its request list is full, and not SERVFAIL: a SERVFAIL is an answer that
// downstream resolvers cache (RFC 9520) and stubs do not retry, so under a flood it
// would turn every legitimate miss into a cached failure; a dropped query is retried
// by its client after its own timeout, by when there may be room, and a flood of
// spoofed sources gets nothing reflected. A question with a stale answer at hand
// (serve-stale, below) gets that instead of being shed.
//
// Serve-stale (RFC 8767; resolver/server/stale_answers.h): when a question misses the
// fast path and an expired answer for it is still kept, the client gets that answer
// (TTL 30, EDE 3 or 19) if the resolution fails, or if it takes longer than
// cache.stale-client-timeout (the client response timer, run by the Scheduler); the
// resolution goes on and its answer refreshes the cache. A question whose refresh
// failed less than cache.stale-refresh-time ago is answered stale at once.
//
// Local names and blocklists (resolver/policy/policy.h): the fast path leaves every
// name the policy may intercept to the slow path (one table probe per label of the
// name), which answers local names from the local zones (AA, never AD, whatever RD
// says) and blocked names with the list's answer and EDE 15 naming the list, before
// the cache or the engine are asked. An engine answer whose CNAME or DNAME chain
// reaches a blocked name is blocked too (CNAME cloaking) and not cached.
//
// Prefetch: a fast-path hit in the last tenth of the answer's TTL (MessageCache::
// answer_into says so) starts one background refresh of it (Engine ResolveOptions
// refresh + background), unless the thread is at max-queries-in-flight; the engine
// gives a prefetch up before any client's question when it needs room. The refreshed
// answer replaces the entry, so popular names never expire for clients.
#pragma once

#include <climits>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "cache/message_cache.h"
#include "cache/rrset_cache.h"
#include "resolver/base/counter.h"
#include "resolver/config/config.h"
#include "resolver/engine/engine.h"
#include "resolver/net/listener.h"
#include "resolver/policy/policy.h"
#include "resolver/server/blocked_counts.h"
#include "resolver/server/query_log.h"
#include "resolver/server/query_metrics.h"
#include "resolver/server/scheduler.h"
#include "resolver/server/stale_answers.h"

namespace rsv {

struct ServerStats {
  Counter queries;
  Counter cache_hits;
  Counter refused;
  Counter dropped;
  Counter formerr;
  // Shed over capacity: new questions dropped unanswered because this thread already
  // resolves resolver.max-queries-in-flight distinct questions (see handle()).
  Counter overload_dropped;
  Counter wait_limit_dropped;  // the client had resolver.wait-limit queries waiting
  Counter crowd_dropped;       // max-clients-per-question were waiting on the question
  Counter discarded_late;      // answered after discard-timeout: not sent
  Gauge clients_waiting;       // queries waiting for the engine now
  // Stale answers (RFC 8767), by why they were given.
  Counter stale_on_failure;         // the resolution failed
  Counter stale_on_client_timeout;  // it took longer than cache.stale-client-timeout
  Counter stale_in_recheck;         // a refresh had failed moments ago: not tried again
  Counter stale_over_capacity;      // instead of shedding the question
  Counter prefetches;               // background refreshes started
  Counter prefetches_skipped;       // due, but not started: no room under max-queries-in-flight
  Counter local_answers;            // answered from the local zones and data (blocked: BlockedCounts)
};

class ClientQueryHandler final : public QueryHandler {
public:
  // `stats` and `metrics`: where to count (a worker's, kept across configuration
  // reloads); null: this object's own. `log`: where each reply is noted for the
  // dashboard (top names and clients, recent queries); null: nowhere.
  // `scheduler`: runs serve-stale's client response timer; null: stale answers are
  // given only when a resolution fails. `policy`: local zones and blocklists (null:
  // none, not even the built-in local zones); `blocked`: where blocked answers are
  // counted per list (null: this object's own).
  ClientQueryHandler(const Config &config, MessageCache &messages, RRsetCache &rrsets, Engine &engine,
                     const DelegationPoint &root_hints, const Clock &clock, ServerStats *stats = nullptr,
                     QueryMetrics *metrics = nullptr, QueryLog *log = nullptr, Scheduler *scheduler = nullptr,
                     const Policy *policy = nullptr, BlockedCounts *blocked = nullptr);

  Disposition handle(QueryContext &context) override;
  const ServerStats &stats() const { return stats_; }
  const QueryMetrics &metrics() const { return metrics_; }
  // Forgets the remembered bogus answers for `name` (with `subtree`, at or below it);
  // returns how many. Part of `resolverctl flush`.
  size_t forget_bogus(const Name &name, bool subtree);

private:
  // A fast-path hit due for a prefetch: what is needed to start it.
  struct PrefetchCandidate {
    bool due = false;
    uint8_t lowered_qname[Name::kMaxWireLength];
    size_t qname_length = 0;
    uint16_t qtype = 0, qclass = 0;
    uint8_t flags = 0;  // message_flags
  };
  // A client waiting for the engine, and what it gets if the engine is too slow.
  struct PendingClient {
    std::shared_ptr<ReplyChannel> channel;
    Message query;
    bool tcp = false;
    uint64_t arrived_ms = 0;
    SocketAddress client;
    std::string client_key;
    std::optional<Resolution> stale;
    std::unique_ptr<Scheduled> stale_timer;
    bool waiting = true;    // counted in waiting_
    bool resolved = false;  // the engine has called back
    bool answered = false;  // the client has had its reply (perhaps a stale one)
  };
  enum class StaleReason { failure, client_timeout, recheck, over_capacity };

  Disposition dispatch(QueryContext &context);
  // Counts one reply sent (metrics_) and notes it in log_. `security`: the DNSSEC
  // status of what it carries, when known (null: an error or refusal).
  void note_reply(const SocketAddress &client, bool tcp, const uint8_t *reply, size_t size, uint64_t waited_us,
                  bool cache_hit, const Security *security);
  Disposition fast_path(QueryContext &context, PrefetchCandidate *prefetch);
  void start_prefetch(const PrefetchCandidate &candidate);
  void on_resolved(PendingClient &pending, const Resolution &result);
  void send_stale(PendingClient &pending, StaleReason reason);
  // An immediate stale reply (recheck, over capacity).
  Disposition reply_stale(QueryContext &context, const Message &query, const Resolution &stale, StaleReason reason);
  void count_stale(StaleReason reason, const Resolution &stale);
  bool too_late(const PendingClient &pending);
  // Local and blocked answers (query_handler_policy.cc). nullopt: the policy does not
  // intercept the question.
  std::optional<Disposition> policy_answer(QueryContext &context, const Message &query);
  std::string local_reply(const Message &query, const LocalAnswer &local, bool tcp) const;
  Resolution blocked_resolution(const Question &question, const Policy::Block &block,
                                const Name *cloaked_target);
  // The block for an answer whose CNAME/DNAME chain reaches a blocked name.
  std::optional<std::pair<Policy::Block, Name>> cloaking_block(const Resolution &result) const;
  Disposition slow_path(QueryContext &context, bool may_snoop);
  AclAction access_for(const SocketAddress &client) const;
  size_t udp_limit(const Message &query, bool tcp) const;
  // Builds the reply to `query` from a Resolution, and caches it when allowed. An
  // answer whose CNAME/DNAME chain is cloaked gets the policy's block instead (counted
  // for its list), and `*cloaked`, when given, says so: the reply then says nothing
  // of `result`'s security.
  // With Recipient::cache_only (store_reply) nothing is encoded for a client: "" comes back.
  enum class Recipient { client, cache_only };
  std::string build_reply(const Message &query, const Resolution &result, bool tcp, bool store,
                          bool *cloaked = nullptr, Recipient recipient = Recipient::client);
  // Caches the reply to `query` without sending it (a prefetch, a refresh after a
  // stale answer, an answer too late to send): a cloaked one is neither stored nor
  // counted as blocked, since no client gets it.
  void store_reply(const Message &query, const Resolution &result, bool tcp);
  Resolution answer_from_cache_only(const Question &question) const;
  Disposition reply_now(QueryContext &context, const std::string &wire);
  // minimal_error_reply, with an OPT record when `query` (parsed) had one.
  std::string error_reply(const QueryContext &context, uint16_t code,
                          const std::optional<Message> &query) const;
  std::optional<Resolution> bogus_answer(const Question &question, bool checking_disabled);
  void remember_bogus(const Question &question, const ExtendedError &error);
  void stop_waiting(const std::string &client_key);

  struct BogusEntry {
    ExtendedError error;
    int64_t expires_at = 0;
  };
  static constexpr size_t kMaxBogusEntries = 10000;

  const Config &config_;
  MessageCache &messages_;
  RRsetCache &rrsets_;
  Engine &engine_;
  const DelegationPoint &root_hints_;
  const Clock &clock_;
  Scheduler *scheduler_;
  StaleAnswers stale_;
  ServerStats own_stats_;
  QueryMetrics own_metrics_;
  ServerStats &stats_;
  QueryMetrics &metrics_;
  QueryLog *log_;
  const Policy *policy_;
  BlockedCounts own_blocked_;
  std::vector<Counter *> list_counters_;  // one per policy_->lists()
  // What dispatch() learnt about the reply it wrote now: from the fast path, and the
  // DNSSEC status of that reply when it had one.
  bool replied_from_cache_ = false;
  std::optional<Security> reply_security_;
  // Queries waiting for the engine, per client address (octets): resolver.wait-limit.
  std::unordered_map<std::string, uint32_t> waiting_;
  // Bogus answers of this worker, kept dnssec.bogus-ttl seconds (RFC 4035 4.7).
  std::unordered_map<std::string, BogusEntry> bogus_;
  // Over-capacity warnings: at most one per kShedWarningSeconds.
  static constexpr int64_t kShedWarningSeconds = 10;
  int64_t last_shed_warning_ = INT64_MIN;
  uint64_t shed_since_warning_ = 0;
  void note_shed(const Question &question, const SocketAddress &client);
};

// Reply with only a header (and the question when it parsed): FORMERR, REFUSED, NOTIMP.
std::string minimal_error_reply(const uint8_t *query, size_t size, uint16_t code);

}  // namespace rsv
