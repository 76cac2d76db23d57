#include "resolver/engine/engine.h"

#include <algorithm>

#include "dnssec/trust_anchor_signal.h"
#include "resolver/base/log.h"
#include "resolver/wire/response_match.h"

namespace rsv {

// One level of a request's work: an iterator resolving a question, or the validator
// judging the client question's answer.
struct Engine::Frame {
  std::unique_ptr<Iterator> iterator;
  std::unique_ptr<Validator> validator;
  // The iterator's result is validated before it is handed on: the client's own
  // question (unless CD) and the root priming question (RFC 8109).
  bool validate = false;
  // Asked by the validator (a DS or DNSKEY set for the chain of trust), not by an
  // iterator or a client.
  bool for_validator = false;

  const Question &question() const { return iterator ? iterator->question() : validator->question(); }
  void on_subquery_result(const Resolution &result) {
    if (iterator)
      iterator->on_subquery_result(result);
    else
      validator->on_subquery_result(result);
  }
};

struct Engine::Request {
  uint64_t id = 0;
  std::string key;
  Question question;
  std::vector<Completion> waiters;
  std::vector<Frame> stack;
  bool checking_disabled = false;
  bool refresh = false;     // ResolveOptions::refresh: the answer is not taken from the cache
  bool background = false;  // ResolveOptions::background: no client waits for it (yet)
  std::unique_ptr<ValidationBudget> budget;
  uint64_t started_ms = 0;
  uint32_t upstream_queries = 0;
  uint32_t replies = 0;  // upstream replies received, usable or not
  std::unordered_map<std::string, uint32_t> queries_per_name;
  std::optional<std::string> exhausted;  // the budget that ended it
  // Asking again after an answer failed validation: servers that replied in this
  // attempt (and for which zone), those blamed so far, and how many attempts were made.
  std::vector<std::pair<SocketAddress, Name>> answered_by;
  std::vector<std::pair<SocketAddress, Name>> blamed;
  unsigned bogus_retries = 0;
  bool validated_cache_only = false;
};

namespace {

std::string question_key(const Question &q, bool checking_disabled) {
  std::string key = q.name.lowered().wire();
  key.push_back(checking_disabled ? 1 : 0);  // CD answers are not validated: a separate question
  key.push_back(static_cast<char>(q.qtype >> 8));
  key.push_back(static_cast<char>(q.qtype & 0xFF));
  key.push_back(static_cast<char>(q.qclass >> 8));
  key.push_back(static_cast<char>(q.qclass & 0xFF));
  return key;
}

// RFC 5452 9.1 / draft-vixie-dnsext-dns0x20: random case in the query name adds
// entropy an off-path attacker must guess.
Name randomise_case(const Name &name, RandomSource &random) {
  std::string wire = name.wire();
  uint32_t bits = 0;
  unsigned available = 0;
  for (size_t pos = 0; pos < wire.size() && wire[pos] != 0;) {
    size_t len = static_cast<uint8_t>(wire[pos]);
    for (size_t i = pos + 1; i <= pos + len; ++i) {
      char c = dns_tolower(wire[i]);
      if (c < 'a' || c > 'z') continue;
      if (available == 0) {
        bits = random.next_u32();
        available = 32;
      }
      wire[i] = (bits & 1) ? static_cast<char>(c - 32) : c;
      bits >>= 1;
      --available;
    }
    pos += 1 + len;
  }
  return *Name::from_wire(wire);
}

}  // namespace

Engine::Engine(EngineEnv env, Transport &transport)
    : env_(env),
      iterator_env_{env.rrsets,
                    env.infra,
                    env.random,
                    env.config.resolver,
                    AddressPolicy{env.config.network.do_ip4, env.config.network.do_ip6,
                                  env.config.network.do_not_query_localhost},
                    env.config.forward_zones,
                    env.root_hints,
                    env.config.cache.max_negative_ttl,
                    env.non_cuts,
                    env.trace},
      transport_(transport),
      stats_(env.stats ? *env.stats : own_stats_) {}

Engine::~Engine() { *alive_ = false; }

void Engine::resolve(const Question &question, bool checking_disabled, Completion done, ResolveOptions options) {
  if (!options.background) ++stats_.requests;
  std::string key = question_key(question, checking_disabled);
  if (auto it = by_question_.find(key); it != by_question_.end()) {
    Request &joined = *requests_.at(it->second);
    if (!options.background) {
      ++stats_.coalesced;
      joined.background = false;  // a client waits for it now
    }
    joined.waiters.push_back(std::move(done));
    return;
  }
  // A refresh wants what the authorities say now, not a synthesis from cached NSEC.
  if (env_.validator && env_.validator->aggressive && !checking_disabled && !options.refresh) {
    if (auto synthesized =
            env_.validator->aggressive->synthesize(question, &env_.validator->keys, env_.config.dnssec)) {
      ++stats_.aggressive_nsec_answers;
      done(*synthesized);
      return;
    }
  }
  auto request = std::make_unique<Request>();
  request->id = next_request_id_++;
  request->key = key;
  request->question = question;
  request->waiters.push_back(std::move(done));
  request->started_ms = env_.clock.now_monotonic_ms();
  request->checking_disabled = checking_disabled;
  request->refresh = options.refresh;
  request->background = options.background;
  request->budget = std::make_unique<ValidationBudget>(env_.config.dnssec);
  // RFC 4035 4: every answer to a client question is validated, unless the client set
  // CD (RFC 4035 3.2.2) or validation is off.
  request->stack.push_back(Frame{std::make_unique<Iterator>(iterator_env_, question, false, options.refresh), nullptr,
                                 env_.validator != nullptr && !checking_disabled});
  Request &ref = *request;
  by_question_.emplace(key, request->id);
  requests_.emplace(request->id, std::move(request));
  drive(ref);
}

size_t Engine::clients_waiting_on(const Question &question, bool checking_disabled) const {
  auto it = by_question_.find(question_key(question, checking_disabled));
  return it == by_question_.end() ? 0 : requests_.at(it->second)->waiters.size();
}

bool Engine::make_room(uint64_t min_age_ms) {
  const uint64_t now = env_.clock.now_monotonic_ms();
  Request *oldest = nullptr, *oldest_background = nullptr;
  for (auto &[id, request] : requests_) {
    if (!oldest || request->started_ms < oldest->started_ms) oldest = request.get();
    if (request->background && (!oldest_background || request->started_ms < oldest_background->started_ms))
      oldest_background = request.get();
  }
  // A prefetch never keeps a client's question out, however young it is.
  if (oldest_background) oldest = oldest_background;
  else if (!oldest || now - oldest->started_ms < min_age_ms) return false;
  ++stats_.jostled;
  RSV_LOG(debug, "giving up %s %s after %llu ms to make room", oldest->question.name.to_text().c_str(),
          type_to_text(oldest->question.qtype).c_str(), static_cast<unsigned long long>(now - oldest->started_ms));
  Resolution dropped = Resolution::failure(ede::OTHER, "given up to make room for other questions");
  dropped.dropped = true;
  finish(*oldest, dropped);
  return true;
}

bool Engine::is_in_flight(const Question &question, bool checking_disabled) const {
  return by_question_.contains(question_key(question, checking_disabled));
}

std::string Engine::describe_spending(const Request &request) const {
  const auto &budgets = env_.config.resolver.budgets;
  std::string text = std::to_string(request.upstream_queries) + " of " +
                     std::to_string(budgets.max_upstream_queries) + " upstream queries, " +
                     std::to_string(env_.clock.now_monotonic_ms() - request.started_ms) + " of " +
                     std::to_string(budgets.max_time_ms) + " ms";
  if (request.bogus_retries) text += ", " + std::to_string(request.bogus_retries) + " retries after bogus answers";
  if (request.budget) text += "; validation: " + request.budget->describe();
  if (request.exhausted) text += "; stopped: " + *request.exhausted;
  return text;
}

std::optional<std::string> Engine::spent_budget(const Request &request) const {
  const auto &budgets = env_.config.resolver.budgets;
  if (env_.clock.now_monotonic_ms() - request.started_ms >= budgets.max_time_ms)
    return "time budget of " + std::to_string(budgets.max_time_ms) + " ms spent";
  if (request.upstream_queries >= budgets.max_upstream_queries)
    return "budget of " + std::to_string(budgets.max_upstream_queries) + " upstream queries spent";
  return std::nullopt;
}

void Engine::drive(Request &request) {
  const auto &budgets = env_.config.resolver.budgets;
  for (;;) {
    if (auto spent = spent_budget(request)) {
      ++stats_.budget_exhausted;
      request.exhausted = *spent;
      // RFC 8914 4.23: when not a single authority answered, say so precisely.
      if (request.replies == 0)
        finish(request, Resolution::failure(ede::NO_REACHABLE_AUTHORITY,
                                            "no authority answered (" + *spent + ")"));
      else
        finish(request, Resolution::failure(ede::OTHER, "resolution stopped: " + *spent));
      return;
    }
    Frame &frame = request.stack.back();
    if (frame.validator) {
      ValidatorAction action = frame.validator->next();
      if (action.kind == ValidatorAction::Kind::subquery) {
        if (!push_subquery(request, action.question, false, "the validator needs it", true))
          frame.validator->on_subquery_result(subquery_refused(request, action.question));
        continue;
      }
      if (request.stack.size() == 1 && ask_elsewhere(request, *frame.validator)) continue;
      frame.validator->commit_failures();
      if (!complete_frame(request, frame.validator->result())) return;
      continue;
    }
    Iterator &top = *frame.iterator;
    IteratorAction action = top.next();
    switch (action.kind) {
      case IteratorAction::Kind::send: {
        std::string name_key = action.question.name.lowered().wire();
        uint32_t &per_name = request.queries_per_name[name_key];
        if (++per_name > budgets.max_queries_per_name) {
          ++stats_.budget_exhausted;
          request.exhausted = "more than " + std::to_string(budgets.max_queries_per_name) + " queries for " +
                              action.question.name.to_text();
          finish(request, Resolution::failure(ede::OTHER, "resolution stopped: more than " +
                                                              std::to_string(budgets.max_queries_per_name) +
                                                              " upstream queries for " +
                                                              action.question.name.to_text()));
          return;
        }
        dispatch(request, action);
        return;
      }
      case IteratorAction::Kind::subquery:
        if (!push_subquery(request, action.question, action.validate && env_.validator != nullptr,
                           action.validate ? "priming the root" : "a name server's address"))
          top.on_subquery_result(subquery_refused(request, action.question));
        continue;
      case IteratorAction::Kind::done: {
        Resolution result = top.result();
        if (frame.validate) {
          // The validator takes the iterator's place on the stack.
          Question question = top.question();
          frame.iterator.reset();
          frame.validator = std::make_unique<Validator>(*env_.validator, question, std::move(result), *request.budget);
          continue;
        }
        if (!complete_frame(request, result)) return;
        continue;
      }
    }
  }
}

bool Engine::push_subquery(Request &request, const Question &sub, bool validate, const char *why,
                           bool for_validator) {
  const auto &budgets = env_.config.resolver.budgets;
  // A question already being resolved below on this stack for the same party would
  // loop (glueless NS names that depend on each other; a chain of trust that needs the
  // keys it is fetching); the validator's own question is not a loop. A client's
  // ". DNSKEY" that waits for the root's priming, whose validation then needs the
  // root's keys, is two jobs, not one: the keys are fetched for the chain of trust,
  // which proves them from the anchor, and the client's answer after that.
  bool loops = std::any_of(request.stack.begin(), request.stack.end(), [&](const Frame &f) {
    return f.iterator && f.for_validator == for_validator && f.iterator->question().name == sub.name &&
           f.iterator->question().qtype == sub.qtype;
  });
  if (loops || request.stack.size() > budgets.max_subquery_depth) return false;
  RSV_LOG(trace, "sub-query %s %s for %s", sub.name.to_text().c_str(), type_to_text(sub.qtype).c_str(),
          request.stack.back().question().name.to_text().c_str());
  request.stack.push_back(Frame{std::make_unique<Iterator>(iterator_env_, sub, request.validated_cache_only),
                                nullptr, validate, for_validator});
  if (env_.trace) env_.trace->subquery_started(sub, request.stack.size() - 1, why);
  return true;
}

bool Engine::ask_elsewhere(Request &request, const Validator &validator) {
  // Unbound's rule: before an answer is declared bogus, up to kMaxBogusRetries other
  // servers of the zone whose data failed are asked; those that sent it are asked
  // last for that zone from now on. Only validated data is taken from the cache then.
  const std::optional<Name> &zone = validator.blamed_zone();
  if (validator.result().security != Security::bogus || !zone || request.bogus_retries >= kMaxBogusRetries)
    return false;
  std::vector<SocketAddress> senders;
  for (const auto &[server, asked_zone] : request.answered_by) {
    bool known = std::find(request.blamed.begin(), request.blamed.end(), std::make_pair(server, *zone)) !=
                 request.blamed.end();
    if (asked_zone == *zone && !known && std::find(senders.begin(), senders.end(), server) == senders.end())
      senders.push_back(server);
  }
  if (senders.empty()) return false;  // no server of the zone left that has not been blamed
  for (const auto &server : senders) {
    env_.infra.mark_bogus(server, *zone);
    request.blamed.emplace_back(server, *zone);
  }
  ++request.bogus_retries;
  ++stats_.bogus_retries;
  RSV_LOG(debug, "answer for %s %s failed validation in %s (%s); asking other servers (attempt %u)",
          request.question.name.to_text().c_str(), type_to_text(request.question.qtype).c_str(),
          zone->to_text().c_str(), validator.result().error ? validator.result().error->extra_text.c_str() : "",
          request.bogus_retries + 1);
  request.answered_by.clear();
  request.validated_cache_only = true;
  request.budget->begin_response();  // the next attempt's replies are new responses
  Question question = request.question;
  request.stack.clear();
  request.stack.push_back(Frame{std::make_unique<Iterator>(iterator_env_, question, true, request.refresh), nullptr, true});
  return true;
}

Resolution Engine::subquery_refused(const Request &request, const Question &sub) const {
  bool depth = request.stack.size() > env_.config.resolver.budgets.max_subquery_depth;
  return Resolution::failure(ede::OTHER, depth ? "sub-query depth exceeded at " + sub.name.to_text()
                                               : "sub-query loop at " + sub.name.to_text() + " " +
                                                     type_to_text(sub.qtype));
}

bool Engine::complete_frame(Request &request, Resolution result) {
  if (request.stack.size() == 1) {
    finish(request, result);
    return false;
  }
  if (env_.trace) env_.trace->subquery_finished(request.stack.back().question(), request.stack.size() - 1, result);
  request.stack.pop_back();
  request.stack.back().on_subquery_result(result);
  return true;
}

void Engine::dispatch(Request &request, const IteratorAction &action) {
  ++request.upstream_queries;
  ++stats_.upstream_queries;
  OutgoingQuery query;
  query.server = action.server;
  query.id = env_.random.next_u16();
  query.question = action.question;
  if (env_.config.network.use_caps_for_id && !env_.infra.get(action.server).no_caps) {
    query.question.name = randomise_case(action.question.name, env_.random);
    query.case_randomised = true;
  }
  query.tcp = action.tcp;
  std::optional<Edns> edns;
  if (action.edns) {
    Edns e;
    e.udp_size = env_.config.network.edns_buffer_size;
    e.dnssec_ok = true;  // RRSIGs and denial records are kept for validation
    // RFC 8145 4: a DNSKEY query for an anchored zone says which of its keys we trust.
    if (action.question.qtype == rrtype::DNSKEY && env_.validator &&
        env_.config.dnssec.trust_anchor_signaling)
      if (const TrustAnchor *anchor = anchor_for_zone(env_.validator->anchors, action.question.name))
        if (auto tags = anchor_key_tags(*anchor); !tags.empty())
          e.options.push_back(edns_key_tag_option(tags));
    edns = e;
  }
  query.wire = encode_query(query.id, query.question, action.recursion_desired, edns, false);
  query.timeout_ms = env_.infra.timeout_ms(action.server, env_.config.network.upstream_timeout_ms);
  RSV_LOG(debug, "upstream query to %s: %s %s (%s)", query.server.to_string().c_str(),
          query.question.name.to_text().c_str(), type_to_text(query.question.qtype).c_str(),
          query.tcp ? "tcp" : "udp");
  if (env_.trace)
    env_.trace->query_sent(action.zone, query.server, query.question, query.tcp, request.stack.size() - 1);
  uint64_t id = request.id;
  std::weak_ptr<bool> alive = alive_;
  transport_.send(query, [this, alive, id, query, action](TransportResult result) {
    if (alive.expired()) return;
    on_transport_result(id, action, query, std::move(result));
  });
}

void Engine::on_transport_result(uint64_t request_id, const IteratorAction &action, const OutgoingQuery &query,
                                 TransportResult result) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  Request &request = *it->second;
  Iterator &top = *request.stack.back().iterator;
  switch (result.status) {
    case TransportStatus::reply: {
      ++request.replies;
      // RFC 5452 9.1: a reply counts only if it carries the query's ID and repeats its
      // question (name without regard to case, type, class). The Transport promises
      // this; it is checked again here, where the query is known, so that no transport
      // can hand the iterator a reply to another question, whatever it holds.
      if (!response_matches_query(result.wire, query.id, query.question)) {
        ++stats_.upstream_malformed;
        if (env_.trace)
          env_.trace->no_reply(query.server, "unusable reply: ID or question differs from the query");
        RSV_LOG(debug, "reply from %s does not match the query", query.server.to_string().c_str());
        top.on_failure();
        break;
      }
      ParseError error = ParseError::none;
      auto reply = parse_message(reinterpret_cast<const uint8_t *>(result.wire.data()), result.wire.size(), &error);
      bool questionless_error = reply && reply->questions.empty() &&
                                (reply->rcode == rcode::FORMERR || reply->rcode == rcode::NOTIMP);
      // The transport matched the question case-insensitively (RFC 4343); only a query
      // sent with 0x20 case needs the case back exactly as sent.
      bool case_matches = questionless_error || !query.case_randomised ||
                          (reply && reply->question() && reply->question()->name.wire() == query.question.name.wire());
      if (reply && reply->qr && reply->question() && !case_matches) {
        // The fallback for 0x20: some servers do not preserve case. Stop using it with
        // this one (the infra cache remembers it, for a while) and ask it again at once.
        ++stats_.caps_mismatches;
        env_.infra.set_no_caps(query.server);
        dispatch(request, action);
        return;
      }
      if (!reply || !reply->qr || !case_matches) {
        ++stats_.upstream_malformed;
        if (env_.trace)
          env_.trace->no_reply(query.server, !reply ? std::string("unusable reply: ") + to_string(error)
                                                    : "unusable reply: QR not set");
        RSV_LOG(debug, "unusable reply from %s: %s", query.server.to_string().c_str(),
                !reply ? to_string(error) : (!case_matches ? "question case differs (0x20)" : "QR not set"));
        top.on_failure();
        break;
      }
      env_.infra.record_rtt(query.server, result.rtt_ms);
      if (env_.trace) env_.trace->reply_received(query.server, result.rtt_ms, *reply, result.wire.size());
      request.answered_by.emplace_back(query.server, action.zone);
      top.on_reply(*reply);
      break;
    }
    case TransportStatus::timeout:
    case TransportStatus::network_error:
      ++stats_.upstream_timeouts;
      RSV_LOG(debug, "no reply from %s for %s %s (%s)", query.server.to_string().c_str(),
              query.question.name.to_text().c_str(), type_to_text(query.question.qtype).c_str(),
              result.status == TransportStatus::timeout ? "timeout" : "network error");
      env_.infra.record_timeout(query.server);
      if (env_.trace)
        env_.trace->no_reply(query.server, result.status == TransportStatus::timeout
                                               ? "timeout after " + std::to_string(query.timeout_ms) + " ms"
                                               : std::string("network error"));
      top.on_failure();
      break;
  }
  drive(request);
}

void Engine::finish(Request &request, const Resolution &result) {
  // Detach the request before calling anyone: a waiter may start new resolutions.
  auto node = requests_.extract(request.id);
  by_question_.erase(request.key);
  std::unique_ptr<Request> owned = std::move(node.mapped());
  if (env_.trace) env_.trace->finished(result, describe_spending(*owned));
  for (auto &waiter : owned->waiters) waiter(result);
}

}  // namespace rsv
