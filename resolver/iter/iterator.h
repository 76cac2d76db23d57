// The iterator: one question resolved from the zone cuts down, as a state machine.
//
// It never touches a socket. The engine calls next() and gets an action: send a
// query to an authority, resolve a sub-question (a name server's address), or
// done. Replies, timeouts and sub-question results come back as events. One query
// passes through it like this:
//
//   start          forward zone? cached answer or CNAME? else the closest cached
//                  zone cut, or the root hints -> select_server; with no root NS set
//                  cached, first -> prime
//   prime          RFC 8109: resolve ". NS" as a sub-question from the root hints; the
//                  engine validates it like a client's answer, so a spoofed priming
//                  reply cannot redirect the resolver -> wait_subquery -> start
//   select_server  pick an address of the cut's servers by RTT (server_selection);
//                  none left with an address -> sub-query a glueless NS name;
//                  nothing at all -> SERVFAIL (EDE 22) -> wait_reply / wait_subquery
//   wait_reply     the reply is scrubbed to the cut's bailiwick and classified:
//                  answer (follow CNAME/DNAME, RFC 6672), referral (new cut, glue
//                  cached, the DS or its denial kept for the validator), NXDOMAIN/
//                  NODATA (SOA kept for negative caching), a minimised query's "no cut
//                  here" (RFC 9156), or lame -> next server
//   done           result() holds the Resolution, with the zone each answer RRset
//                  came from and every referral followed (see dnssec/resolution.h)
//
// A DS question is asked of the parent's servers and answered by them: a referral
// into the child zone in reply to it is lame (RFC 4035 3.1.4.1).
//
// Budgets that span a whole client query (total queries, per-name queries, depth,
// wall time) are the engine's; the iterator enforces those that are local to one
// delegation (glueless lookups, NS considered) and the CNAME chain length.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cache/infra_cache.h"
#include "cache/non_cut_cache.h"
#include "cache/random.h"
#include "cache/rrset_cache.h"
#include "resolver/config/config.h"
#include "resolver/iter/classify.h"
#include "resolver/iter/delegation.h"
#include "dnssec/resolution.h"
#include "dnssec/trace.h"
#include "resolver/wire/message.h"

namespace rsv {

struct IteratorEnv {
  RRsetCache &rrsets;
  InfraCache &infra;
  RandomSource &random;
  const ResolverConfig &config;
  AddressPolicy address_policy;
  const std::vector<ForwardZone> &forward_zones;
  const DelegationPoint &root_hints;
  uint32_t max_negative_ttl = 3600;
  NonCutCache *non_cuts = nullptr;  // RFC 9156: names known inside a zone; null: not kept
  ResolutionTrace *trace = nullptr;  // `resolverctl explain`; null: none
};

struct IteratorAction {
  enum class Kind { send, subquery, done };
  Kind kind = Kind::done;
  // send:
  SocketAddress server;
  Question question;  // what to ask (send) or resolve (subquery)
  bool recursion_desired = false;
  bool tcp = false;
  bool edns = true;
  // subquery: the result must be validated before it is used (priming, RFC 8109).
  bool validate = false;
  // send: the zone whose server is asked (the root for a forwarder).
  Name zone = Name::root();
};

enum class IteratorState { start, prime, select_server, wait_reply, wait_subquery, done };
const char *to_string(IteratorState state);

class Iterator {
public:
  // `validated_cache_only`: take from the cache only what validation has judged
  // (secure or insecure), as after an answer failed validation and is asked again.
  // `refresh`: never answer from the cache (a prefetch asks the authorities for the
  // answer it already holds); zone cuts and addresses still come from it.
  Iterator(IteratorEnv &env, Question question, bool validated_cache_only = false, bool refresh = false);

  // Called whenever the iterator is not waiting; returns what to do next.
  IteratorAction next();
  // The reply to the last `send`, already matched to it by the transport.
  void on_reply(const Message &reply);
  // The last `send` timed out or failed.
  void on_failure();
  // The result of the last `subquery`.
  void on_subquery_result(const Resolution &result);
  // Ends resolution now (a budget of the engine's was spent).
  void fail(uint16_t info_code, std::string text);

  IteratorState state() const { return state_; }
  const Question &question() const { return question_; }
  const Resolution &result() const { return result_; }
  const SocketAddress &last_server() const { return last_server_; }

private:
  IteratorAction handle_start();
  IteratorAction handle_prime();
  IteratorAction handle_select_server();
  void handle_reply(Message reply);

  bool follow_chain_from_cache();
  void add_sources(const std::vector<ResourceRecord> &records, const Name &zone, Trust trust);
  bool handle_edns_failure(const Message &reply);
  void begin_delegation(DelegationPoint dp);
  Question next_question() const;
  IteratorAction make_send(const SocketAddress &server, bool tcp, bool edns);
  void handle_lame(const Message &reply, const Classification &verdict, bool minimised);
  // The last query sent hid part of the name or the type (RFC 9156).
  bool last_query_minimised() const {
    return last_question_.name != current_ || last_question_.qtype != question_.qtype;
  }
  void follow_reply(const Message &reply, const Classification &verdict);
  void accept_referral(const Message &reply, const Name &child);
  void advance_minimisation();
  void skip_known_non_cuts();
  void remember_non_cut(const Message &reply);
  void finish_positive();
  void finish_negative(uint16_t code, const Message &reply);
  void try_next_server();
  void transition(IteratorState next, const char *why);
  // Reports what the last reply was taken to be (explain).
  void trace(std::string_view verdict) const;

  IteratorEnv &env_;
  Question question_;
  IteratorState state_ = IteratorState::start;

  Name current_;                       // the name being resolved (after CNAME/DNAME)
  std::vector<ResourceRecord> chain_;  // answer records accumulated so far
  std::vector<Name> visited_;          // names of the chain, for loop detection
  std::vector<ResourceRecord> proofs_; // NSEC/NSEC3 sent with a (wildcard) answer
  std::vector<AnswerSource> sources_;   // where each RRset of chain_ came from
  std::vector<Delegation> delegations_; // referrals followed
  DelegationPoint dp_;
  bool have_dp_ = false;

  // Servers of the current cut already asked the current question.
  std::vector<size_t> tried_;
  // Servers of the current cut that timed out: not asked again in the second round.
  std::vector<SocketAddress> timed_out_;
  unsigned rounds_ = 0;
  unsigned glueless_lookups_ = 0;
  bool refetched_delegation_ = false;  // the parent was asked again for a cached cut
  bool validated_cache_only_ = false;
  bool refresh_ = false;
  std::optional<std::pair<Name, uint16_t>> pending_lookup_;  // NS name and type being resolved

  // RFC 9156: how many labels of current_ the next query reveals.
  bool minimise_ = true;
  size_t minimise_labels_ = 0;
  unsigned minimise_steps_ = 0;

  bool primed_ = false;
  bool priming_in_flight_ = false;
  // RFC 6891 7: a FORMERR/NOTIMP without a question section, over UDP, is believed
  // only when the same server sends it twice in a row (a spoof is matched by ID and
  // port only).
  unsigned questionless_errors_ = 0;
  // RFC 6891 7: the server asked again without EDNS after FORMERR/NOTIMP; it is
  // recorded as not supporting EDNS only if that plain query is answered.
  std::optional<SocketAddress> edns_fallback_server_;

  // What was last sent, for retries on the same server (TCP after TC, no EDNS after FORMERR).
  SocketAddress last_server_;
  Question last_question_;
  bool last_tcp_ = false;
  bool last_edns_ = true;
  std::optional<IteratorAction> retry_same_;

  Resolution result_;
};

}  // namespace rsv
