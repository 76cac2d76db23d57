#include "resolver/iter/iterator.h"

#include <algorithm>

#include "resolver/base/log.h"
#include "resolver/iter/answer_chain.h"
#include "resolver/iter/classify.h"
#include "resolver/iter/scrub.h"
#include "resolver/iter/server_selection.h"

namespace rsv {

namespace {

// RFC 9156 2.3: MAX_MINIMISE_COUNT bounds the number of minimised queries per cut walk.
constexpr unsigned kMaxMinimiseSteps = 10;
constexpr unsigned kServerRounds = 2;  // each server may be asked a question twice

bool is_denial_record(const ResourceRecord &rr) {
  uint16_t type = rr.type == rrtype::RRSIG ? rr.rrsig_type_covered() : rr.type;
  return type == rrtype::NSEC || type == rrtype::NSEC3;
}

// RFC 4035 5.3.2: an RRSIG whose labels field is below the owner's label count signs a
// wildcard expansion; such data needs its denial proof, which the RRset cache lacks.
bool signed_as_wildcard(const RRset &set) {
  for (const auto &sig : set.signatures)
    if (sig.rdata.size() > 3 && static_cast<uint8_t>(sig.rdata[3]) < set.owner.label_count()) return true;
  return false;
}

const ResourceRecord *find_soa(const Message &reply, const Name &zone) {
  for (const auto &rr : reply.authority)
    if (rr.type == rrtype::SOA && rr.owner.is_subdomain_of(zone)) return &rr;
  return nullptr;
}

// RFC 2181 5: a record is said once. A server may repeat a CNAME, and a DNAME met on
// two hops of a chain is the same record: each goes out once.
void remove_repeats(std::vector<ResourceRecord> &records) {
  std::vector<ResourceRecord> unique;
  unique.reserve(records.size());
  for (auto &rr : records)
    if (std::none_of(unique.begin(), unique.end(), [&](const ResourceRecord &u) {
          return u.type == rr.type && u.rclass == rr.rclass && u.owner == rr.owner && u.rdata == rr.rdata;
        }))
      unique.push_back(std::move(rr));
  records = std::move(unique);
}

// RFC 2181 5.2: records of one RRset with different TTLs are treated as if all had
// the lowest of them (Unbound's parser does the same), so a client never gets one
// RRset with several TTLs. RRSIGs keep their own. Quadratic, like remove_repeats, over
// at most MessageLimits::max_records records.
void unify_rrset_ttls(std::vector<ResourceRecord> &records) {
  for (auto &rr : records) {
    if (rr.type == rrtype::RRSIG) continue;
    for (const auto &other : records)
      if (other.type == rr.type && other.rclass == rr.rclass && other.ttl < rr.ttl && other.owner == rr.owner)
        rr.ttl = other.ttl;
  }
}

uint32_t min_ttl(const std::vector<ResourceRecord> &records) {
  uint32_t ttl = UINT32_MAX;
  for (const auto &rr : records) ttl = std::min(ttl, rr.ttl);
  return ttl == UINT32_MAX ? 0 : ttl;
}

void store_rrsets(RRsetCache &cache, const std::vector<ResourceRecord> &records, Trust trust) {
  for (const auto &set : group_rrsets(records)) cache.store(set, trust, Security::unchecked);
}

// The zone cut the cache knows for `owner` (for a DS, the cut above it): the zone that
// holds cached data the validator has not judged yet.
Name cached_zone_of(const RRsetCache &cache, const Name &owner, uint16_t type) {
  Name cut = (type == rrtype::DS && !owner.is_root()) ? owner.parent() : owner;
  for (;; cut = cut.parent()) {
    if (auto ns = cache.lookup(cut, rrtype::NS); ns && ns->security != Security::bogus) return cut;
    if (cut.is_root()) return cut;
  }
}

}  // namespace

const char *to_string(IteratorState state) {
  switch (state) {
    case IteratorState::start: return "start";
    case IteratorState::prime: return "prime";
    case IteratorState::select_server: return "select_server";
    case IteratorState::wait_reply: return "wait_reply";
    case IteratorState::wait_subquery: return "wait_subquery";
    case IteratorState::done: return "done";
  }
  return "?";
}

Iterator::Iterator(IteratorEnv &env, Question question, bool validated_cache_only, bool refresh)
    : env_(env),
      question_(std::move(question)),
      current_(question_.name),
      validated_cache_only_(validated_cache_only),
      refresh_(refresh) {
  minimise_ = env_.config.qname_minimisation;
  visited_.push_back(current_);
}

void Iterator::transition(IteratorState next, const char *why) {
  RSV_LOG(trace, "iterator %s %s: %s -> %s (%s)", question_.name.to_text().c_str(),
          type_to_text(question_.qtype).c_str(), to_string(state_), to_string(next), why);
  state_ = next;
}

IteratorAction Iterator::next() {
  // Each handler either returns an action or moves to another state; the loop is
  // bounded because every pass without an action consumes budget (a cached chain
  // link, a delegation, a server) that is itself bounded.
  for (int guard = 0; guard < 1000; ++guard) {
    switch (state_) {
      case IteratorState::start: {
        auto action = handle_start();
        if (state_ == IteratorState::start) return action;
        break;
      }
      case IteratorState::prime: return handle_prime();
      case IteratorState::select_server: {
        auto action = handle_select_server();
        if (action.kind != IteratorAction::Kind::done || state_ == IteratorState::done) return action;
        break;
      }
      case IteratorState::wait_reply:
      case IteratorState::wait_subquery:
        // The engine only calls next() when an event has moved us on; being here is a bug
        // in the caller, answered safely.
        fail(ede::OTHER, "iterator asked for an action while waiting");
        return IteratorAction{};
      case IteratorState::done: return IteratorAction{};
    }
  }
  fail(ede::OTHER, "iterator made no progress");
  return IteratorAction{};
}

IteratorAction Iterator::handle_start() {
  // A refresh asks for every link of the chain again: any of them may be the one
  // whose TTL ends the cached answer's.
  if (!refresh_ && follow_chain_from_cache()) return IteratorAction{};
  if (state_ == IteratorState::done) return IteratorAction{};

  // Forward zones: the longest configured name at or above the question.
  const ForwardZone *forward = nullptr;
  for (const auto &zone : env_.forward_zones)
    if (current_.is_subdomain_of(zone.name) &&
        (!forward || zone.name.label_count() > forward->name.label_count()))
      forward = &zone;
  if (forward) {
    if (env_.trace) env_.trace->note("forward zone " + forward->name.to_text() + ": asking its forwarders");
    DelegationPoint dp;
    dp.zone = forward->name;
    dp.forwarding = true;
    for (const auto &server : forward->servers) {
      NameServer ns;
      ns.name = forward->name;
      ns.addresses.push_back(server);
      ns.no_lookups_needed();
      dp.servers.push_back(std::move(ns));
    }
    begin_delegation(std::move(dp));
    return IteratorAction{};
  }

  // RFC 4035 3.1.4.1: DS lives in the parent zone, so look for the cut above the name.
  Name search = (question_.qtype == rrtype::DS && !current_.is_root()) ? current_.parent() : current_;
  auto dp = closest_cached_delegation(search, env_.rrsets, env_.address_policy,
                                      env_.config.budgets.max_ns_per_delegation, env_.root_hints);
  if (dp) {
    if (env_.trace)
      env_.trace->note("starting at the cached zone cut " + dp->zone.to_text() + " (" +
                       std::to_string(dp->servers.size()) + " NS) for " + current_.to_text());
    begin_delegation(std::move(*dp));
    return IteratorAction{};
  }
  // The priming question itself is asked of the hints (RFC 8109 3), and so is every
  // question while a root NS set is cached but cannot be used (no address yet, or
  // found bogus): priming again would only repeat it.
  const bool priming_question = current_.is_root() && question_.qtype == rrtype::NS;
  if (env_.config.prime_root && !primed_ && !priming_question && !env_.rrsets.lookup(Name::root(), rrtype::NS)) {
    transition(IteratorState::prime, "no cached root NS set");
    return IteratorAction{};
  }
  begin_delegation(env_.root_hints);
  return IteratorAction{};
}

bool Iterator::follow_chain_from_cache() {
  for (unsigned hop = 0; hop <= env_.config.budgets.max_cname_chain; ++hop) {
    // Cached sets carry the status the validator gave them (RFC 4035 4.7): it is
    // reused, and only unchecked sets are judged again, in the zone the cache knows.
    auto source_of = [&](const CachedRRset &cached) {
      Name zone = cached.security == Security::unchecked
                      ? cached_zone_of(env_.rrsets, cached.rrset.owner, cached.rrset.type)
                      : Name::root();
      return AnswerSource{cached.rrset.owner, cached.rrset.type, std::move(zone), cached.trust, cached.security};
    };
    auto judged = [&](const std::optional<CachedRRset> &cached) {
      return !validated_cache_only_ ||
             (cached && (cached->security == Security::secure || cached->security == Security::insecure));
    };
    auto data = env_.rrsets.lookup(current_, question_.qtype);
    if (data && data->trust >= Trust::answer && !data->rrset.empty() && !signed_as_wildcard(data->rrset) &&
        judged(data)) {
      for (auto &rr : data->rrset.records()) chain_.push_back(std::move(rr));
      for (const auto &sig : data->rrset.signatures) chain_.push_back(sig);
      sources_.push_back(source_of(*data));
      if (env_.trace)
        env_.trace->note("answer from the cache: " + current_.to_text() + " " + type_to_text(question_.qtype) +
                         " (" + to_string(data->security) + ")");
      finish_positive();
      return true;
    }
    if (question_.qtype == rrtype::CNAME) return false;
    auto cname = env_.rrsets.lookup(current_, rrtype::CNAME);
    if (!cname || cname->trust < Trust::answer || cname->rrset.rdatas.size() != 1 || !judged(cname)) return false;
    auto records = cname->rrset.records();
    auto target = records[0].rdata_target();
    if (!target) return false;
    chain_.push_back(records[0]);
    for (const auto &sig : cname->rrset.signatures) chain_.push_back(sig);
    sources_.push_back(source_of(*cname));
    if (env_.trace)
      env_.trace->note("CNAME from the cache: " + current_.to_text() + " -> " + target->to_text() + " (" +
                       to_string(cname->security) + ")");
    if (std::find(visited_.begin(), visited_.end(), *target) != visited_.end()) {
      fail(ede::OTHER, "CNAME loop at " + target->to_text());
      return false;
    }
    visited_.push_back(*target);
    // Links from the cache count toward the chain budget like links from the wire.
    if (visited_.size() > env_.config.budgets.max_cname_chain + 1) break;
    current_ = *target;
  }
  fail(ede::OTHER, "CNAME chain longer than " + std::to_string(env_.config.budgets.max_cname_chain));
  return false;
}

void Iterator::begin_delegation(DelegationPoint dp) {
  RSV_LOG(trace, "iterator %s: zone cut %s with %zu servers%s", current_.to_text().c_str(),
          dp.zone.to_text().c_str(), dp.servers.size(), dp.forwarding ? " (forwarding)" : "");
  dp_ = std::move(dp);
  have_dp_ = true;
  tried_.clear();
  timed_out_.clear();
  rounds_ = 0;
  glueless_lookups_ = 0;
  minimise_labels_ = dp_.zone.label_count() + 1;
  skip_known_non_cuts();
  transition(IteratorState::select_server, "new zone cut");
}

Question Iterator::next_question() const {
  bool minimise = minimise_ && !dp_.forwarding && minimise_steps_ < kMaxMinimiseSteps;
  // DS is asked of the parent with the full name; nothing to hide below the cut.
  if (!minimise || question_.qtype == rrtype::DS || minimise_labels_ >= current_.label_count())
    return Question{current_, question_.qtype, question_.qclass};
  // RFC 9156 2.1: hide the rest of the name, asking for type A (section 2.1 / 3).
  return Question{current_.suffix(minimise_labels_), rrtype::A, question_.qclass};
}

IteratorAction Iterator::make_send(const SocketAddress &server, bool tcp, bool edns) {
  IteratorAction action;
  action.kind = IteratorAction::Kind::send;
  action.server = server;
  action.question = next_question();
  action.recursion_desired = dp_.forwarding;
  action.tcp = tcp;
  action.edns = edns;
  action.zone = dp_.forwarding ? Name::root() : dp_.zone;
  last_server_ = server;
  last_question_ = action.question;
  last_tcp_ = tcp;
  last_edns_ = edns;
  transition(IteratorState::wait_reply, "query sent");
  return action;
}

IteratorAction Iterator::handle_prime() {
  // RFC 8109 3: ". NS" from a root hint server, as a sub-question the engine validates
  // (and the scrubber checks like any reply), instead of trusting the hints' names.
  primed_ = true;  // one attempt: the sub-question tries every hint server itself
  priming_in_flight_ = true;
  IteratorAction action;
  action.kind = IteratorAction::Kind::subquery;
  action.question = Question{Name::root(), rrtype::NS, rrclass::IN};
  action.validate = true;
  transition(IteratorState::wait_subquery, "priming the root NS set");
  return action;
}

IteratorAction Iterator::handle_select_server() {
  if (retry_same_) {
    auto action = make_send(retry_same_->server, retry_same_->tcp, retry_same_->edns);
    retry_same_.reset();
    return action;
  }
  auto candidates = dp_.addresses();
  for (;;) {
    auto choice = select_server(candidates, dp_.zone, tried_, env_.infra, env_.random);
    if (choice) {
      tried_.push_back(choice->index);
      const auto &server = candidates[choice->index];
      bool edns = env_.infra.get(server).edns != EdnsSupport::unsupported;
      return make_send(server, false, edns);
    }
    // No address left to try: look up a glueless name server's address (RFC 1034 5.3.3 step 4).
    // A for each name first, then AAAA when IPv6 is on; each lookup once per delegation.
    if (glueless_lookups_ < env_.config.budgets.max_glueless_per_delegation) {
      for (auto &ns : dp_.servers) {
        const uint16_t type = ns.next_lookup(env_.address_policy);
        if (type == 0) continue;
        (type == rrtype::A ? ns.a_looked_up : ns.aaaa_looked_up) = true;
        ++glueless_lookups_;
        pending_lookup_ = std::make_pair(ns.name, type);
        IteratorAction action;
        action.kind = IteratorAction::Kind::subquery;
        action.question = Question{ns.name, type, rrclass::IN};
        transition(IteratorState::wait_subquery, "glueless name server");
        return action;
      }
    }
    if (!tried_.empty() && ++rounds_ < kServerRounds) {
      // A second round for servers that answered badly (packet loss, a transient
      // SERVFAIL); those that timed out already cost a full timeout each, so they are
      // asked again only when nothing else is left (one lost datagram must not fail a
      // zone with a single server; the infra cache has doubled their timeout).
      tried_.clear();
      for (size_t i = 0; i < candidates.size(); ++i)
        if (std::find(timed_out_.begin(), timed_out_.end(), candidates[i]) != timed_out_.end()) tried_.push_back(i);
      if (tried_.size() == candidates.size()) tried_.clear();
      continue;
    }
    // Every address the cache gave failed: they may be the child's own (an answer
    // replaces glue in the cache). Ask the parent again, whose referral brings its glue.
    if (dp_.from_cache && !dp_.zone.is_root() && !refetched_delegation_) {
      refetched_delegation_ = true;
      if (auto parent = closest_cached_delegation(dp_.zone.parent(), env_.rrsets, env_.address_policy,
                                                  env_.config.budgets.max_ns_per_delegation, env_.root_hints)) {
        RSV_LOG(debug, "no server of %s answered; asking the parent %s for its delegation again",
                dp_.zone.to_text().c_str(), parent->zone.to_text().c_str());
        begin_delegation(std::move(*parent));
        return IteratorAction{};
      }
    }
    fail(ede::NO_REACHABLE_AUTHORITY, "no reachable authority for " + dp_.zone.to_text());
    return IteratorAction{};
  }
}

void Iterator::on_subquery_result(const Resolution &result) {
  if (state_ != IteratorState::wait_subquery) return;
  if (priming_in_flight_) {
    priming_in_flight_ = false;
    bool usable = result.rcode == rcode::NOERROR && result.security != Security::bogus && !result.answer.empty();
    transition(IteratorState::start, usable ? "root primed" : "priming failed, using the root hints");
    return;
  }
  if (!pending_lookup_) return;
  auto [ns_name, type] = *pending_lookup_;
  pending_lookup_.reset();
  size_t added = 0;
  for (const auto &rr : result.answer) {
    if (rr.type != rrtype::A && rr.type != rrtype::AAAA) continue;
    auto address = SocketAddress::from_rdata(rr.rdata);
    if (address && env_.address_policy.allowed(*address)) {
      dp_.add_address(ns_name, *address);
      ++added;
    }
  }
  (void)type;  // no address of this type: the other type gets its own lookup next
  transition(IteratorState::select_server, added ? "name server address found" : "name server address lookup failed");
}

void Iterator::on_failure() {
  if (state_ != IteratorState::wait_reply) return;
  timed_out_.push_back(last_server_);
  // RFC 9156 3: some servers, and middleboxes in front of them, drop minimised queries
  // (an A query for an empty non-terminal, say). The rest of this walk asks full names,
  // so a zone whose servers only answer those still resolves; the next question
  // minimises again.
  if (minimise_ && last_query_minimised()) {
    minimise_ = false;
    transition(IteratorState::select_server, "no reply to a minimised query, asking the full name next");
    return;
  }
  transition(IteratorState::select_server, "no reply");
}

void Iterator::on_reply(const Message &reply) {
  if (state_ != IteratorState::wait_reply) return;
  handle_reply(reply);
}

bool Iterator::handle_edns_failure(const Message &reply) {
  // RFC 6891 7: FORMERR or NOTIMP to a query with EDNS means the server may not know
  // EDNS. Without a question section the reply is matched by ID and port alone, so
  // over UDP it is believed only when the server says it twice; a spoof must not turn
  // EDNS (and with it DNSSEC) off for a server.
  const bool believable = last_tcp_ || !reply.questions.empty() || ++questionless_errors_ >= 2;
  if (!believable) {
    retry_same_ = IteratorAction{IteratorAction::Kind::send, last_server_, last_question_, false, false, true};
    transition(IteratorState::select_server, "FORMERR without a question, asking once more with EDNS");
    return true;
  }
  questionless_errors_ = 0;
  // Unbound (outside_network.c): "no EDNS" is recorded only once the plain query is
  // answered (NOERROR, NXDOMAIN, YXDOMAIN); a server that fails it too objected to the
  // question (a minimised one, say), not to EDNS, and must keep EDNS and DNSSEC.
  edns_fallback_server_ = last_server_;
  retry_same_ = IteratorAction{IteratorAction::Kind::send, last_server_, last_question_, false, last_tcp_, false};
  transition(IteratorState::select_server, "EDNS not supported, retrying without");
  return true;
}

void Iterator::add_sources(const std::vector<ResourceRecord> &records, const Name &zone, Trust trust) {
  for (const auto &rr : records) {
    if (rr.type == rrtype::RRSIG) continue;
    bool known = std::any_of(sources_.begin(), sources_.end(),
                             [&](const AnswerSource &s) { return s.type == rr.type && s.owner == rr.owner; });
    if (!known) sources_.push_back(AnswerSource{rr.owner, rr.type, zone, trust, Security::unchecked});
  }
}

void Iterator::try_next_server() { transition(IteratorState::select_server, "trying another server"); }

void Iterator::trace(std::string_view verdict) const {
  if (env_.trace) env_.trace->reply_classified(last_server_, dp_.forwarding ? Name::root() : dp_.zone, verdict);
}

void Iterator::handle_reply(Message reply) {
  // RFC 7766 / RFC 1035 4.2.1: a truncated UDP reply is retried over TCP.
  if (reply.tc && !last_tcp_) {
    trace("truncated (TC): asking again over TCP");
    retry_same_ = IteratorAction{IteratorAction::Kind::send, last_server_, last_question_, false, true, last_edns_};
    transition(IteratorState::select_server, "truncated, retrying over TCP");
    return;
  }
  if ((reply.rcode == rcode::FORMERR || reply.rcode == rcode::NOTIMP) && last_edns_ && !reply.edns) {
    trace(rcode_to_text(reply.rcode) + " without EDNS: the server may not support EDNS");
    handle_edns_failure(reply);
    return;
  }
  questionless_errors_ = 0;
  if (reply.edns && last_edns_) env_.infra.set_edns(last_server_, EdnsSupport::supported);
  if (edns_fallback_server_ && *edns_fallback_server_ == last_server_ && !last_edns_) {
    if (reply.rcode == rcode::NOERROR || reply.rcode == rcode::NXDOMAIN || reply.rcode == rcode::YXDOMAIN)
      env_.infra.set_edns(last_server_, EdnsSupport::unsupported);
    edns_fallback_server_.reset();
  }

  const bool minimised = last_query_minimised();
  // What the reply is, decided once, before scrubbing and before anything is believed.
  std::vector<Name> zone_servers;
  for (const auto &ns : dp_.servers) zone_servers.push_back(ns.name);
  const Classification verdict = classify_reply(reply, last_question_, dp_.zone, zone_servers, dp_.forwarding);
  if (verdict.reply_class == ReplyClass::lame) {
    trace("lame: " + verdict.why);
    handle_lame(reply, verdict, minimised);
    return;
  }
  ScrubPolicy policy{dp_.zone, last_question_.name, env_.config.harden_glue, 100};
  if (dp_.forwarding) policy.zone = Name::root();  // a forwarder speaks for the whole tree
  scrub_response(reply, policy);
  // RFC 2181 8: a TTL with the top bit set is read as 0, wherever it stands.
  for (auto *section : {&reply.answer, &reply.authority, &reply.additional})
    for (auto &rr : *section)
      if (rr.ttl & 0x80000000u) rr.ttl = 0;

  if (verdict.reply_class == ReplyClass::referral) {
    if (env_.trace) {
      size_t ns = 0;
      bool ds = false, denial = false;
      for (const auto &rr : reply.authority) {
        ns += rr.type == rrtype::NS && rr.owner == verdict.referral_child;
        ds = ds || (rr.type == rrtype::DS && rr.owner == verdict.referral_child);
        denial = denial || is_denial_record(rr);
      }
      trace("referral to " + verdict.referral_child.to_text() + " (" + std::to_string(ns) + " NS, " +
            (ds ? "signed delegation: DS" : denial ? "no DS: NSEC/NSEC3 proof" : "no DS, no proof") + ")");
    }
    accept_referral(reply, verdict.referral_child);
    return;
  }
  if (minimised) {
    trace(std::string(to_string(verdict.reply_class)) + " to a minimised query: no zone cut at " +
          last_question_.name.to_text());
    if (verdict.reply_class == ReplyClass::nxdomain) {
      // RFC 8020 says nothing lies below, but some servers answer NXDOMAIN for empty
      // non-terminals; RFC 9156 3 (relaxed): ask the full name instead.
      minimise_ = false;
      tried_.clear();
      transition(IteratorState::select_server, "NXDOMAIN to a minimised query, retrying in full");
      return;
    }
    // An answer or NODATA from the zone itself: no cut at this name.
    remember_non_cut(reply);
    advance_minimisation();
    return;
  }
  if (env_.trace) {
    std::string text = std::string(to_string(verdict.reply_class)) + " (" + rcode_to_text(reply.rcode) +
                       (reply.aa ? ", AA" : "") + ", " + std::to_string(reply.answer.size()) + " answer, " +
                       std::to_string(reply.authority.size()) + " authority records)";
    trace(text);
  }
  follow_reply(reply, verdict);
}

void Iterator::handle_lame(const Message &reply, const Classification &verdict, bool minimised) {
  RSV_LOG(debug, "lame reply from %s for %s %s (zone %s): %s", last_server_.to_string().c_str(),
          last_question_.name.to_text().c_str(), type_to_text(last_question_.qtype).c_str(),
          dp_.zone.to_text().c_str(), verdict.why.c_str());
  // RFC 9156 3: a minimised query can upset a broken server; ask it the full name.
  const bool upset = reply.rcode == rcode::SERVFAIL || reply.rcode == rcode::REFUSED ||
                     reply.rcode == rcode::NOTIMP || reply.rcode == rcode::FORMERR;
  if (minimised && upset) {
    minimise_ = false;
    // With EDNS again unless the server is known not to support it (an unconfirmed
    // EDNS fallback above proved nothing).
    const bool edns = env_.infra.get(last_server_).edns != EdnsSupport::unsupported;
    retry_same_ =
        IteratorAction{IteratorAction::Kind::send, last_server_, next_question(), false, last_tcp_, edns};
    transition(IteratorState::select_server, "error to a minimised query, asking the full name");
    return;
  }
  // A server that says it does not serve the zone is marked lame for it; a SERVFAIL
  // may be passing, so that server is only skipped for this question.
  if (reply.rcode != rcode::SERVFAIL) env_.infra.mark_lame(last_server_, dp_.zone);
  try_next_server();
}

void Iterator::follow_reply(const Message &reply, const Classification &verdict) {
  // The loop set takes the chain's names only now that the reply is accepted.
  std::vector<Name> visited = visited_;
  AnswerChain chain =
      follow_answer_chain(reply.answer, current_, question_.qtype, visited, env_.config.budgets.max_cname_chain);
  switch (chain.end) {
    case AnswerChain::End::loop: fail(ede::OTHER, "CNAME loop at " + chain.final_name.to_text()); return;
    case AnswerChain::End::too_long:
      fail(ede::OTHER, "CNAME chain longer than " + std::to_string(env_.config.budgets.max_cname_chain));
      return;
    case AnswerChain::End::dname_overflow:
      chain_.insert(chain_.end(), chain.records.begin(), chain.records.end());
      result_.rcode = 6;  // YXDOMAIN, RFC 6672 2.2
      result_.answer = chain_;
      transition(IteratorState::done, "DNAME substitution too long");
      return;
    default: break;
  }
  visited_ = std::move(visited);
  // cache.min-ttl / max-ttl apply once, as the data enters: from then on its TTL
  // counts down in the cache and in every answer built from it.
  for (auto *records : {&chain.records, &chain.cacheable})
    for (auto &rr : *records) rr.ttl = env_.rrsets.policy().clamp(rr.ttl);
  unify_rrset_ttls(chain.records);
  if (chain.records.empty()) {
    finish_negative(verdict.reply_class == ReplyClass::nxdomain ? rcode::NXDOMAIN : rcode::NOERROR, reply);
    return;
  }
  const Trust trust = dp_.forwarding ? Trust::answer : Trust::authoritative;
  store_rrsets(env_.rrsets, chain.cacheable, trust);
  // A forwarder speaks for the whole tree: which zone holds the data is for the
  // validator to establish from the root down.
  add_sources(chain.records, dp_.forwarding ? Name::root() : dp_.zone, trust);
  chain_.insert(chain_.end(), chain.records.begin(), chain.records.end());
  if (chain.end == AnswerChain::End::data) {
    // RFC 4035 5.3.4: a wildcard expansion comes with the NSEC/NSEC3 proving that
    // no closer name exists; keep it for the validator.
    for (const auto &rr : reply.authority)
      if (is_denial_record(rr)) proofs_.push_back(rr);
    // The addresses of the name servers of an NS answer (the priming reply's root
    // servers among them), already limited to the bailiwick by the scrubber.
    if (question_.qtype == rrtype::NS) {
      std::vector<ResourceRecord> addresses;
      for (const auto &rr : reply.additional)
        if (rr.type == rrtype::A || rr.type == rrtype::AAAA) addresses.push_back(rr);
      store_rrsets(env_.rrsets, addresses, Trust::additional);
    }
    finish_positive();
    return;
  }
  const Name &name = chain.final_name;
  current_ = name;
  // RFC 6604 3: the rcode speaks of the last name in the chain.
  if (reply.rcode == rcode::NXDOMAIN && name.is_subdomain_of(dp_.zone)) {
    finish_negative(rcode::NXDOMAIN, reply);
    return;
  }
  if (find_soa(reply, dp_.zone) && name.is_subdomain_of(dp_.zone)) {
    finish_negative(rcode::NOERROR, reply);
    return;
  }
  // The chain leaves this zone: resolve the target from its own zone cut.
  minimise_steps_ = 0;
  transition(IteratorState::start, "following CNAME out of zone");
}

void Iterator::accept_referral(const Message &reply, const Name &child) {
  auto ns_records = rrset_with_signatures(reply.authority, child, rrtype::NS);
  std::vector<ResourceRecord> glue;
  for (const auto &rr : reply.additional)
    if (rr.type == rrtype::A || rr.type == rrtype::AAAA) glue.push_back(rr);
  store_rrsets(env_.rrsets, ns_records, Trust::authority);
  store_rrsets(env_.rrsets, glue, Trust::glue);
  // RFC 4035 3.1.4: a signed parent sends the child's DS RRset, or the NSEC/NSEC3
  // records proving it has none; the validator builds the chain of trust from them.
  Delegation delegation{dp_.zone, child, rrset_with_signatures(reply.authority, child, rrtype::DS), {}};
  if (delegation.ds.empty()) {
    for (const auto &rr : reply.authority)
      if (is_denial_record(rr)) delegation.denial.push_back(rr);
  } else {
    store_rrsets(env_.rrsets, delegation.ds, Trust::authority);
  }
  delegations_.push_back(std::move(delegation));

  RRset ns_set;
  ns_set.owner = child;
  ns_set.type = rrtype::NS;
  for (const auto &rr : ns_records)
    if (rr.type == rrtype::NS) ns_set.add(rr.rdata, rr.ttl);
  DelegationPoint dp = delegation_from_ns(child, ns_set, env_.rrsets, env_.address_policy,
                                          env_.config.budgets.max_ns_per_delegation);
  // Use this reply's glue even if the cache kept better-ranked data for the names.
  for (const auto &rr : glue)
    if (auto address = SocketAddress::from_rdata(rr.rdata); address && env_.address_policy.allowed(*address))
      dp.add_address(rr.owner, *address);
  for (auto &ns : dp.servers)
    if (!ns.addresses.empty()) ns.no_lookups_needed();
  begin_delegation(std::move(dp));
}

void Iterator::remember_non_cut(const Message &reply) {
  if (!env_.non_cuts || dp_.forwarding) return;
  // Known for as long as the reply may be cached: its answer's TTL, or for NODATA
  // the negative TTL of the zone's SOA (RFC 2308 5).
  uint32_t ttl = 0;
  if (!reply.answer.empty()) {
    ttl = UINT32_MAX;
    for (const auto &rr : reply.answer) ttl = std::min(ttl, rr.ttl);
  } else if (const ResourceRecord *soa = find_soa(reply, dp_.zone)) {
    ttl = std::min(soa->ttl, soa_minimum(soa->rdata).value_or(soa->ttl));
  }
  env_.non_cuts->remember(last_question_.name, dp_.zone, std::min(ttl, env_.max_negative_ttl));
}

void Iterator::skip_known_non_cuts() {
  // Labels known to lie inside this zone need no minimised query of their own.
  if (!env_.non_cuts) return;
  while (minimise_labels_ < current_.label_count() &&
         env_.non_cuts->inside(current_.suffix(minimise_labels_), dp_.zone))
    ++minimise_labels_;
}

void Iterator::advance_minimisation() {
  ++minimise_steps_;
  ++minimise_labels_;
  // RFC 9156 2.3: after MINIMISE_ONE_LAB single-label steps, reveal labels faster so
  // that a long name costs at most MAX_MINIMISE_COUNT queries.
  if (minimise_steps_ >= 4) {
    size_t remaining = current_.label_count() > minimise_labels_ ? current_.label_count() - minimise_labels_ : 0;
    size_t steps_left = kMaxMinimiseSteps > minimise_steps_ ? kMaxMinimiseSteps - minimise_steps_ : 1;
    if (remaining > steps_left) minimise_labels_ += (remaining + steps_left - 1) / steps_left - 1;
  }
  skip_known_non_cuts();
  tried_.clear();
  rounds_ = 0;
  transition(IteratorState::select_server, "no zone cut at this label");
}

void Iterator::finish_positive() {
  result_.rcode = rcode::NOERROR;
  result_.answer = chain_;
  result_.authority = proofs_;
  remove_repeats(result_.answer);
  remove_repeats(result_.authority);
  result_.sources = sources_;
  result_.delegations = delegations_;
  result_.zone = have_dp_ && !dp_.forwarding ? dp_.zone : Name::root();
  result_.cache_ttl = min_ttl(chain_);
  result_.cacheable = true;
  transition(IteratorState::done, "answer");
}

void Iterator::finish_negative(uint16_t code, const Message &reply) {
  result_.rcode = code;
  result_.answer = chain_;
  result_.sources = sources_;
  result_.delegations = delegations_;
  result_.zone = dp_.forwarding ? Name::root() : dp_.zone;
  uint32_t negative_ttl = 0;
  if (const ResourceRecord *soa = find_soa(reply, dp_.zone)) {
    // RFC 2308 5: negative answers live min(SOA TTL, SOA MINIMUM).
    ResourceRecord record = *soa;
    negative_ttl = std::min(record.ttl, soa_minimum(record.rdata).value_or(record.ttl));
    negative_ttl = std::min(negative_ttl, env_.max_negative_ttl);
    record.ttl = negative_ttl;
    result_.authority.push_back(record);
    for (const auto &rr : reply.authority)
      if (rr.type == rrtype::RRSIG && rr.owner == soa->owner && rr.rrsig_type_covered() == rrtype::SOA)
        result_.authority.push_back(rr);
    result_.cacheable = true;
  } else {
    // RFC 2308 5: without a SOA the negative answer must not be cached.
    result_.cacheable = false;
  }
  // Denial records travel with the answer and are cached for the validator (and,
  // once validated, for RFC 8198 aggressive negative caching).
  std::vector<ResourceRecord> denial;
  for (const auto &rr : reply.authority)
    if (is_denial_record(rr)) denial.push_back(rr);
  store_rrsets(env_.rrsets, denial, Trust::authority);
  result_.authority.insert(result_.authority.end(), denial.begin(), denial.end());
  remove_repeats(result_.answer);
  remove_repeats(result_.authority);
  uint32_t chain_ttl = chain_.empty() ? negative_ttl : std::min(negative_ttl, min_ttl(chain_));
  result_.cache_ttl = chain_ttl;
  transition(IteratorState::done, code == rcode::NXDOMAIN ? "NXDOMAIN" : "NODATA");
}

void Iterator::fail(uint16_t info_code, std::string text) {
  RSV_LOG(debug, "resolution of %s %s failed: %s", question_.name.to_text().c_str(),
          type_to_text(question_.qtype).c_str(), text.c_str());
  result_ = Resolution::failure(info_code, std::move(text));
  transition(IteratorState::done, "failure");
}

}  // namespace rsv
