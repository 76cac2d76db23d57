#include "resolver/server/query_handler.h"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "cache/cache_key.h"
#include "cache/signature_time.h"
#include "resolver/base/log.h"

namespace rsv {

namespace {

constexpr uint16_t kFlagQR = 0x8000, kFlagAA = 0x0400, kFlagTC = 0x0200, kFlagRD = 0x0100, kFlagRA = 0x0080,
                   kFlagAD = 0x0020, kFlagCD = 0x0010;
constexpr size_t kOptRecordSize = 11;  // root owner, type, class, ttl, rdlength 0

uint16_t read16(const uint8_t *p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
void write16(uint8_t *p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v & 0xFF);
}

// QTYPEs a resolver must not pass on: zone transfers and the meta range (RFC 6895 3.1).
bool is_meta_qtype(uint16_t qtype) {
  return qtype == rrtype::AXFR || qtype == rrtype::IXFR || (qtype >= 128 && qtype <= 254);
}

uint8_t message_cache_flags(bool dnssec_ok, bool checking_disabled) {
  return static_cast<uint8_t>((dnssec_ok ? message_flags::DO : 0) | (checking_disabled ? message_flags::CD : 0));
}

// RFC 3225 / RFC 4035 3.2.1: without DO, leave out DNSSEC records the client did not ask for.
void strip_dnssec(std::vector<ResourceRecord> &records, uint16_t qtype) {
  records.erase(std::remove_if(records.begin(), records.end(),
                               [&](const ResourceRecord &rr) { return is_dnssec_type(rr.type) && rr.type != qtype; }),
                records.end());
}

}  // namespace

std::string minimal_error_reply(const uint8_t *query, size_t size, uint16_t code) {
  std::string out;
  if (size < 12) return out;
  out.assign(reinterpret_cast<const char *>(query), 12);
  auto *header = reinterpret_cast<uint8_t *>(out.data());
  uint16_t flags = read16(header + 2);
  flags = static_cast<uint16_t>((flags & (0x7800 | kFlagRD | kFlagCD)) | kFlagQR | kFlagRA | (code & 0xF));
  write16(header + 2, flags);
  // Echo the question when it is a single well-formed one.
  uint16_t qdcount = read16(header + 4);
  size_t name_len = qdcount == 1 ? wire_name_length(query, size, 12) : 0;
  if (name_len && 12 + name_len + 4 <= size) {
    out.append(reinterpret_cast<const char *>(query + 12), name_len + 4);
    write16(reinterpret_cast<uint8_t *>(out.data()) + 4, 1);
  } else {
    write16(reinterpret_cast<uint8_t *>(out.data()) + 4, 0);
  }
  write16(reinterpret_cast<uint8_t *>(out.data()) + 6, 0);
  write16(reinterpret_cast<uint8_t *>(out.data()) + 8, 0);
  write16(reinterpret_cast<uint8_t *>(out.data()) + 10, 0);
  return out;
}

ClientQueryHandler::ClientQueryHandler(const Config &config, MessageCache &messages, RRsetCache &rrsets,
                                       Engine &engine, const DelegationPoint &root_hints, const Clock &clock,
                                       ServerStats *stats, QueryMetrics *metrics, QueryLog *log,
                                       Scheduler *scheduler, const Policy *policy, BlockedCounts *blocked)
    : config_(config),
      messages_(messages),
      rrsets_(rrsets),
      engine_(engine),
      root_hints_(root_hints),
      clock_(clock),
      scheduler_(scheduler),
      stale_(config, messages, rrsets, clock),
      stats_(stats ? *stats : own_stats_),
      metrics_(metrics ? *metrics : own_metrics_),
      log_(log),
      policy_(policy) {
  if (policy_)
    for (const LoadedList &list : policy_->lists())
      list_counters_.push_back(&(blocked ? *blocked : own_blocked_).counter_for(list.source.name));
}

AclAction ClientQueryHandler::access_for(const SocketAddress &client) const {
  for (const auto &rule : config_.access_control)
    if (rule.prefix.contains(client)) return rule.action;
  return AclAction::refuse;  // as Unbound: clients matching no rule are refused
}

Disposition ClientQueryHandler::handle(QueryContext &context) {
  replied_from_cache_ = false;
  reply_security_.reset();
  Disposition disposition = dispatch(context);
  if (disposition == Disposition::reply)
    note_reply(context.client, context.tcp, context.reply_buffer, context.reply_size, 0, replied_from_cache_,
               reply_security_ ? &*reply_security_ : nullptr);
  return disposition;
}

void ClientQueryHandler::note_reply(const SocketAddress &client, bool tcp, const uint8_t *reply, size_t size,
                                    uint64_t waited_us, bool cache_hit, const Security *security) {
  if (size < 12) return;
  // The question our reply repeats (the client's), for the qtype series and the log.
  uint16_t qtype = 0;
  size_t name_length = 0;
  if (read16(reply + 4) >= 1)
    if (size_t length = wire_name_length(reply, size, 12); length && 12 + length + 2 <= size) {
      qtype = read16(reply + 12 + length);
      name_length = length;
    }
  const ClientTransport transport = tcp ? ClientTransport::tcp : ClientTransport::udp;
  const uint8_t rcode = reply[3] & 0x0F;
  metrics_.record(transport, qtype, rcode, waited_us);
  if (!log_ || name_length == 0) return;
  ReplyRecord record;
  record.client = &client;
  record.transport = transport;
  record.qname_wire = std::string_view(reinterpret_cast<const char *>(reply + 12), name_length);
  record.qtype = qtype;
  record.rcode = rcode;
  record.has_security = security != nullptr;
  if (security) record.security = *security;
  record.cache_hit = cache_hit;
  record.latency_us = waited_us;
  log_->record(record);
}

Disposition ClientQueryHandler::dispatch(QueryContext &context) {
  ++stats_.queries;
  if (context.query_size < 12 || (context.query[2] & 0x80)) {
    // Too short to answer, or a response (RFC 1035 4.1.1): never reply to those.
    ++stats_.dropped;
    return Disposition::drop;
  }
  const AclAction access = access_for(context.client);
  switch (access) {
    case AclAction::deny: ++stats_.dropped; return Disposition::drop;
    case AclAction::refuse:
      ++stats_.refused;
      return reply_now(context, error_reply(context, rcode::REFUSED,
                                            parse_message(context.query, context.query_size, nullptr)));
    case AclAction::allow:
    case AclAction::allow_snoop: break;
  }
  // The fast path serves RD=1 only, so it needs no snooping check.
  PrefetchCandidate prefetch;
  if (fast_path(context, config_.cache.prefetch ? &prefetch : nullptr) == Disposition::reply) {
    ++stats_.cache_hits;
    replied_from_cache_ = true;
    if (prefetch.due) start_prefetch(prefetch);
    return Disposition::reply;
  }
  return slow_path(context, access == AclAction::allow_snoop);
}

void ClientQueryHandler::start_prefetch(const PrefetchCandidate &candidate) {
  // Never at a client's expense: only with a free place under max-queries-in-flight,
  // and the engine gives a prefetch up first when a client's question needs room.
  if (engine_.in_flight() >= config_.resolver.max_queries_in_flight) {
    ++stats_.prefetches_skipped;
    return;
  }
  const std::string_view key(reinterpret_cast<const char *>(candidate.lowered_qname), candidate.qname_length);
  auto name = Name::from_wire(key);
  if (!name) return;
  Question question{*name, candidate.qtype, candidate.qclass};
  const bool checking_disabled = candidate.flags & message_flags::CD;
  // Being resolved already (another DO/CD variant missed): that resolution refreshes.
  if (engine_.is_in_flight(question, checking_disabled)) return;
  // One prefetch per entry, across every worker, until the new answer replaces it.
  if (!messages_.claim_prefetch(key, candidate.qtype, candidate.qclass, candidate.flags)) return;
  ++stats_.prefetches;
  // The reply is built as for a client with the same DO and CD bits, so that it is
  // stored under the same key as the entry it refreshes.
  Message query;
  query.rd = true;
  query.cd = checking_disabled;
  query.questions.push_back(question);
  if (candidate.flags & message_flags::DO) {
    Edns edns;
    edns.dnssec_ok = true;
    query.edns = edns;
  }
  engine_.resolve(
      question, checking_disabled,
      [this, query = std::move(query), key = std::string(key), qtype = candidate.qtype, qclass = candidate.qclass,
       flags = candidate.flags](const Resolution &result) {
        if (result.dropped) {
          // Given up for a client's question: a later hit may try again. (A prefetch
          // that failed keeps its claim: the authority is not asked again until the
          // entry expires.)
          messages_.release_prefetch(key, qtype, qclass, flags);
          return;
        }
        store_reply(query, result, true);
      },
      ResolveOptions{.refresh = true, .background = true});
}

Disposition ClientQueryHandler::fast_path(QueryContext &context, PrefetchCandidate *prefetch) {
  const uint8_t *q = context.query;
  const size_t size = context.query_size;
  uint16_t flags = read16(q + 2);
  if ((flags & 0x7800) != 0 || !(flags & kFlagRD)) return Disposition::drop;  // opcode, RD=0: slow path
  if (read16(q + 4) != 1 || read16(q + 6) != 0 || read16(q + 8) != 0 || read16(q + 10) > 1) return Disposition::drop;

  // Question name, lower-cased into a stack buffer (no compression in a query's question).
  uint8_t key[Name::kMaxWireLength];
  size_t pos = 12, key_len = 0;
  for (;;) {
    if (pos >= size) return Disposition::drop;
    uint8_t len = q[pos];
    if (len > Name::kMaxLabelLength) return Disposition::drop;
    if (key_len + 1 + len > Name::kMaxWireLength || pos + 1 + len > size) return Disposition::drop;
    key[key_len++] = len;
    for (size_t i = 0; i < len; ++i) key[key_len++] = static_cast<uint8_t>(dns_tolower(static_cast<char>(q[pos + 1 + i])));
    pos += 1 + len;
    if (len == 0) break;
  }
  if (pos + 4 > size) return Disposition::drop;
  // Local and blocked names are the slow path's.
  if (policy_ && policy_->intercepts(std::string_view(reinterpret_cast<const char *>(key), key_len)))
    return Disposition::drop;
  size_t question_end = pos + 4;
  uint16_t qtype = read16(q + pos), qclass = read16(q + pos + 2);
  if (qclass != rrclass::IN || qtype == rrtype::ANY || is_meta_qtype(qtype)) return Disposition::drop;

  bool has_edns = false, dnssec_ok = false;
  uint16_t client_udp = 512;
  if (read16(q + 10) == 1) {
    // Only a bare OPT record (RFC 6891 6.1.2) is handled here; anything else goes the slow way.
    if (question_end + kOptRecordSize > size || q[question_end] != 0 || read16(q + question_end + 1) != rrtype::OPT)
      return Disposition::drop;
    const uint8_t *opt = q + question_end;
    if (opt[6] != 0) return Disposition::drop;  // EDNS version: BADVERS is the slow path's job
    uint16_t rdlen = read16(opt + 9);
    if (question_end + kOptRecordSize + rdlen != size) return Disposition::drop;
    has_edns = true;
    client_udp = std::max<uint16_t>(512, read16(opt + 3));
    dnssec_ok = opt[7] & 0x80;
  } else if (question_end != size) {
    return Disposition::drop;
  }
  bool checking_disabled = flags & kFlagCD;

  uint8_t *out = context.reply_buffer;
  size_t capacity = context.reply_capacity - kOptRecordSize;
  Security security = Security::unchecked;
  const uint8_t cache_flags = message_cache_flags(dnssec_ok, checking_disabled);
  bool prefetch_due = false;
  size_t n = messages_.answer_into(std::string_view(reinterpret_cast<const char *>(key), key_len), qtype, qclass,
                                   cache_flags, out, capacity, &security, prefetch ? &prefetch_due : nullptr);
  if (n < question_end) return Disposition::drop;
  size_t limit = context.tcp ? 65535 : (has_edns ? std::min<size_t>(client_udp, config_.network.edns_buffer_size) : 512);
  if (n + (has_edns ? kOptRecordSize : 0) > std::max<size_t>(limit, 512)) return Disposition::drop;  // needs truncation
  if (prefetch_due) {
    prefetch->due = true;
    std::memcpy(prefetch->lowered_qname, key, key_len);
    prefetch->qname_length = key_len;
    prefetch->qtype = qtype;
    prefetch->qclass = qclass;
    prefetch->flags = cache_flags;
  }

  std::memcpy(out, q, 2);  // ID
  uint16_t cached_flags = read16(out + 2);
  uint16_t reply_flags = static_cast<uint16_t>(kFlagQR | kFlagRA | kFlagRD | (cached_flags & (kFlagAA | kFlagAD | 0xF)) |
                                               (flags & kFlagCD));
  // RFC 6840 5.8: AD only for clients that showed they understand it.
  if (!dnssec_ok && !(flags & kFlagAD)) reply_flags &= static_cast<uint16_t>(~kFlagAD);
  write16(out + 2, reply_flags);
  std::memcpy(out + 12, q + 12, question_end - 12);  // the client's own spelling (case) of the name
  if (has_edns) {
    uint8_t *opt = out + n;
    opt[0] = 0;
    write16(opt + 1, rrtype::OPT);
    write16(opt + 3, config_.network.edns_buffer_size);
    opt[5] = 0;
    opt[6] = 0;
    opt[7] = dnssec_ok ? 0x80 : 0;
    opt[8] = 0;
    write16(opt + 9, 0);
    write16(out + 10, static_cast<uint16_t>(read16(out + 10) + 1));
    n += kOptRecordSize;
  }
  context.reply_size = n;
  reply_security_ = security;
  return Disposition::reply;
}

std::string ClientQueryHandler::error_reply(const QueryContext &context, uint16_t code,
                                            const std::optional<Message> &query) const {
  std::string out = minimal_error_reply(context.query, context.query_size, code);
  // RFC 6891 7: a query with an OPT record gets one back, an error included. (A
  // query that does not parse has no OPT record to believe.)
  if (out.empty() || !query || !query->edns) return out;
  uint8_t opt[kOptRecordSize] = {0};
  write16(opt + 1, rrtype::OPT);
  write16(opt + 3, config_.network.edns_buffer_size);
  opt[7] = query->edns->dnssec_ok ? 0x80 : 0;  // RFC 3225 3: DO is copied
  out.append(reinterpret_cast<const char *>(opt), sizeof opt);
  write16(reinterpret_cast<uint8_t *>(out.data()) + 10, 1);
  return out;
}

Disposition ClientQueryHandler::reply_now(QueryContext &context, const std::string &wire) {
  if (wire.empty() || wire.size() > context.reply_capacity) {
    ++stats_.dropped;
    return Disposition::drop;
  }
  std::memcpy(context.reply_buffer, wire.data(), wire.size());
  context.reply_size = wire.size();
  return Disposition::reply;
}

size_t ClientQueryHandler::udp_limit(const Message &query, bool tcp) const {
  if (tcp) return 65535;
  if (!query.edns) return 512;  // RFC 1035 4.2.1
  return std::max<size_t>(512, std::min<size_t>(query.edns->udp_size, config_.network.edns_buffer_size));
}

Disposition ClientQueryHandler::slow_path(QueryContext &context, bool may_snoop) {
  ParseError error = ParseError::none;
  auto query = parse_message(context.query, context.query_size, &error);
  if (!query) {
    ++stats_.formerr;
    RSV_LOG(debug, "FORMERR to %s: %s", context.client.to_string().c_str(), to_string(error));
    return reply_now(context, minimal_error_reply(context.query, context.query_size, rcode::FORMERR));
  }
  if (query->opcode != opcode::QUERY) return reply_now(context, error_reply(context, rcode::NOTIMP, query));
  if (query->questions.size() != 1 || !query->answer.empty() || !query->authority.empty()) {
    ++stats_.formerr;
    return reply_now(context, error_reply(context, rcode::FORMERR, query));
  }
  const Question &question = query->questions[0];
  if (policy_ && !(query->edns && query->edns->version != 0) && question.qclass == rrclass::IN &&
      question.qtype != rrtype::AXFR && question.qtype != rrtype::IXFR && !is_meta_qtype(question.qtype))
    if (auto disposition = policy_answer(context, *query)) return *disposition;
  Resolution immediate;
  bool answer_now = false;
  if (query->edns && query->edns->version != 0) {
    // RFC 6891 6.1.3: unknown EDNS version.
    immediate.rcode = rcode::BADVERS;
    answer_now = true;
  } else if (question.qclass != rrclass::IN) {
    immediate.rcode = rcode::REFUSED;
    immediate.error = ExtendedError{ede::NOT_SUPPORTED, "only class IN is served"};
    answer_now = true;
  } else if (question.qtype == rrtype::AXFR || question.qtype == rrtype::IXFR) {
    immediate.rcode = rcode::REFUSED;
    immediate.error = ExtendedError{ede::NOT_SUPPORTED, "zone transfers are not served by a resolver"};
    answer_now = true;
  } else if (is_meta_qtype(question.qtype)) {
    immediate.rcode = rcode::NOTIMP;
    answer_now = true;
  } else if (!query->rd && !may_snoop) {
    // As Unbound: a non-recursive query shows what other clients asked (cache
    // snooping), so only allow-snoop clients get an answer; RFC 8914 4.19 names the
    // refusal for an unauthorized client.
    ++stats_.refused;
    immediate.rcode = rcode::REFUSED;
    immediate.error = ExtendedError{ede::PROHIBITED, "RD=0 (cache snooping) is not allowed for this client"};
    answer_now = true;
  } else if (question.qtype == rrtype::ANY) {
    // RFC 8482 4.2: a small synthesized HINFO instead of everything we know.
    immediate.rcode = rcode::NOERROR;
    immediate.answer.push_back(ResourceRecord{question.name, 13 /* HINFO */, rrclass::IN, 3600,
                                              std::string("\x07RFC8482\x00", 9)});
    answer_now = true;
  } else if (!query->rd) {
    // RFC 1034 4.3.1: without recursion, answer from what is at hand.
    immediate = answer_from_cache_only(question);
    reply_security_ = immediate.security;
    answer_now = true;
  }
  if (answer_now) {
    bool cloaked = false;
    const std::string wire = build_reply(*query, immediate, context.tcp, false, &cloaked);
    if (cloaked) reply_security_.reset();
    return reply_now(context, wire);
  }

  if (auto cached = bogus_answer(question, query->cd)) {
    // RFC 4035 4.7: a bogus answer is remembered briefly instead of validated again.
    reply_security_ = Security::bogus;
    return reply_now(context, build_reply(*query, *cached, context.tcp, false));
  }
  const bool dnssec_ok = query->edns && query->edns->dnssec_ok;
  std::optional<StaleAnswers::Found> stale = stale_.find(question, dnssec_ok, query->cd);
  if (stale && stale->refresh_recently_failed) {
    // RFC 8767 5, the failure recheck timer: the last refresh failed moments ago, so
    // the client gets the stale answer now rather than another doomed resolution.
    return reply_stale(context, *query, stale->resolution, StaleReason::recheck);
  }
  // Without a jostle-timeout no client's question is given up, but a prefetch still is.
  const uint64_t jostle_after_ms =
      config_.resolver.jostle_timeout_ms == 0 ? UINT64_MAX : uint64_t{config_.resolver.jostle_timeout_ms};
  if (engine_.in_flight() >= config_.resolver.max_queries_in_flight && !engine_.is_in_flight(question, query->cd) &&
      !engine_.make_room(jostle_after_ms)) {
    if (stale) return reply_stale(context, *query, stale->resolution, StaleReason::over_capacity);
    note_shed(question, context.client);  // the load-shedding rule: see the header
    return Disposition::drop;
  }
  // DNSBomb (and plain floods): one client address may have only so many queries
  // waiting, and one question only so many clients; the rest is dropped and counted.
  std::string client_key(context.client.address_bytes());
  if (config_.resolver.wait_limit != 0 && waiting_[client_key] >= config_.resolver.wait_limit) {
    ++stats_.wait_limit_dropped;
    return Disposition::drop;
  }
  if (engine_.clients_waiting_on(question, query->cd) >= config_.resolver.max_clients_per_question) {
    ++stats_.crowd_dropped;
    return Disposition::drop;
  }
  ++waiting_[client_key];
  stats_.clients_waiting.add(1);
  auto pending = std::make_shared<PendingClient>();
  pending->channel = context.defer();
  pending->tcp = context.tcp;
  pending->arrived_ms = clock_.now_monotonic_ms();
  pending->client = context.client;
  pending->client_key = std::move(client_key);
  if (stale) pending->stale = std::move(stale->resolution);
  pending->query = std::move(*query);
  const Message &asked = pending->query;
  engine_.resolve(asked.questions[0], asked.cd, [this, pending](const Resolution &result) {
    pending->resolved = true;
    pending->stale_timer.reset();
    on_resolved(*pending, result);
  });
  // RFC 8767 5, the client response timer: past it, the stale answer goes out while
  // the resolution carries on and refreshes the cache.
  const uint32_t stale_after_ms = config_.cache.stale_client_timeout_ms;
  if (pending->stale && !pending->resolved && scheduler_ && stale_after_ms != 0) {
    std::weak_ptr<PendingClient> weak = pending;
    pending->stale_timer = scheduler_->after(stale_after_ms, [this, weak] {
      if (auto waiting = weak.lock(); waiting && !waiting->answered) send_stale(*waiting, StaleReason::client_timeout);
    });
  }
  return Disposition::deferred;
}

bool ClientQueryHandler::too_late(const PendingClient &pending) {
  // Unbound's discard-timeout: a UDP client that has waited this long has given up;
  // replies to many such clients at once are what a DNSBomb aims its burst with.
  const uint32_t discard_ms = config_.resolver.discard_timeout_ms;
  return !pending.tcp && discard_ms != 0 && clock_.now_monotonic_ms() - pending.arrived_ms > discard_ms;
}

void ClientQueryHandler::on_resolved(PendingClient &pending, const Resolution &result) {
  if (pending.waiting) {
    pending.waiting = false;
    stop_waiting(pending.client_key);
  }
  const Question &question = pending.query.questions[0];
  // RFC 8767: what counts as a failed refresh is an answer that never came (no
  // authority answered, a budget ran out); not a validation failure, which says the
  // data is wrong, and whose stale copies are not served any more (RFC 4035 4.7).
  const bool failed = result.rcode == rcode::SERVFAIL && result.security != Security::bogus && !result.dropped;
  if (result.security == Security::bogus && !pending.query.cd) stale_.forget(question);
  if (failed) stale_.note_failure(question);
  if (!pending.answered && pending.stale && (failed || result.dropped)) {
    send_stale(pending, result.dropped ? StaleReason::over_capacity : StaleReason::failure);
    return;
  }
  if (result.dropped) return;  // given up to make room: no reply
  if (pending.answered) {
    // The client had its stale answer already; the fresh one still refreshes the cache.
    store_reply(pending.query, result, pending.tcp);
    return;
  }
  pending.answered = true;
  if (too_late(pending)) {
    ++stats_.discarded_late;
    store_reply(pending.query, result, pending.tcp);  // still worth caching
    return;
  }
  bool cloaked = false;
  const std::string wire = build_reply(pending.query, result, pending.tcp, true, &cloaked);
  if (!cloaked)
    metrics_.record_outcome(result.security, result.error.has_value(),
                            result.error ? result.error->info_code : 0);
  note_reply(pending.client, pending.tcp, reinterpret_cast<const uint8_t *>(wire.data()), wire.size(),
             (clock_.now_monotonic_ms() - pending.arrived_ms) * 1000, false,
             cloaked ? nullptr : &result.security);
  pending.channel->send(wire);
}

void ClientQueryHandler::count_stale(StaleReason reason, const Resolution &stale) {
  switch (reason) {
    case StaleReason::failure: ++stats_.stale_on_failure; break;
    case StaleReason::client_timeout: ++stats_.stale_on_client_timeout; break;
    case StaleReason::recheck: ++stats_.stale_in_recheck; break;
    case StaleReason::over_capacity: ++stats_.stale_over_capacity; break;
  }
  if (stale.error) metrics_.record_extended_error(stale.error->info_code);
}

void ClientQueryHandler::send_stale(PendingClient &pending, StaleReason reason) {
  pending.answered = true;
  if (too_late(pending)) {
    ++stats_.discarded_late;
    return;
  }
  count_stale(reason, *pending.stale);
  bool cloaked = false;
  const std::string wire = build_reply(pending.query, *pending.stale, pending.tcp, false, &cloaked);
  note_reply(pending.client, pending.tcp, reinterpret_cast<const uint8_t *>(wire.data()), wire.size(),
             (clock_.now_monotonic_ms() - pending.arrived_ms) * 1000, false,
             cloaked ? nullptr : &pending.stale->security);
  pending.channel->send(wire);
  if (pending.waiting && reason == StaleReason::client_timeout) {
    // Answered: it no longer counts toward its address's wait-limit.
    pending.waiting = false;
    stop_waiting(pending.client_key);
  }
}

Disposition ClientQueryHandler::reply_stale(QueryContext &context, const Message &query, const Resolution &stale,
                                            StaleReason reason) {
  count_stale(reason, stale);
  bool cloaked = false;
  const std::string wire = build_reply(query, stale, context.tcp, false, &cloaked);
  if (cloaked)
    reply_security_.reset();
  else
    reply_security_ = stale.security;
  return reply_now(context, wire);
}

void ClientQueryHandler::stop_waiting(const std::string &client_key) {
  auto it = waiting_.find(client_key);
  if (it == waiting_.end()) return;
  stats_.clients_waiting.add(-1);
  if (--it->second == 0) waiting_.erase(it);
}

void ClientQueryHandler::note_shed(const Question &question, const SocketAddress &client) {
  ++stats_.overload_dropped;
  ++shed_since_warning_;
  RSV_LOG(debug, "dropping %s from %s: %u questions in flight", question.name.to_text().c_str(),
          client.to_string().c_str(), config_.resolver.max_queries_in_flight);
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  if (last_shed_warning_ != INT64_MIN && now - last_shed_warning_ < kShedWarningSeconds) return;
  RSV_LOG(warning,
          "over capacity: %zu questions in flight on this thread (resolver.max-queries-in-flight %u); "
          "new questions are dropped unanswered, %llu since the last warning (%llu in all)",
          engine_.in_flight(), config_.resolver.max_queries_in_flight,
          static_cast<unsigned long long>(shed_since_warning_), static_cast<unsigned long long>(stats_.overload_dropped));
  last_shed_warning_ = now;
  shed_since_warning_ = 0;
}

namespace {
std::string bogus_key(const Question &question) {
  std::string key = question.name.lowered().wire();
  key.push_back(static_cast<char>(question.qtype >> 8));
  key.push_back(static_cast<char>(question.qtype & 0xFF));
  return key;
}
}  // namespace

std::optional<Resolution> ClientQueryHandler::bogus_answer(const Question &question, bool checking_disabled) {
  if (checking_disabled || bogus_.empty()) return std::nullopt;
  auto it = bogus_.find(bogus_key(question));
  if (it == bogus_.end()) return std::nullopt;
  if (it->second.expires_at <= static_cast<int64_t>(::time(nullptr))) {
    bogus_.erase(it);
    return std::nullopt;
  }
  Resolution failure = Resolution::failure(it->second.error.info_code, it->second.error.extra_text);
  failure.security = Security::bogus;
  return failure;
}

size_t ClientQueryHandler::forget_bogus(const Name &name, bool subtree) {
  const std::string wire = name.lowered().wire();
  // A bogus_key is the lowered name's wire form followed by the two type octets.
  return std::erase_if(bogus_, [&](const auto &entry) {
    std::string_view key(entry.first);
    return key.size() >= 2 && key_starts_with_name(key.substr(0, key.size() - 2), wire, subtree);
  });
}

void ClientQueryHandler::remember_bogus(const Question &question, const ExtendedError &error) {
  if (config_.dnssec.bogus_ttl == 0) return;
  // A small bound: a flood of distinct bogus names only ever costs this much memory.
  if (bogus_.size() >= kMaxBogusEntries) bogus_.clear();
  bogus_[bogus_key(question)] = BogusEntry{error, static_cast<int64_t>(::time(nullptr)) + config_.dnssec.bogus_ttl};
}

Resolution ClientQueryHandler::answer_from_cache_only(const Question &question) const {
  Resolution result;
  result.rcode = rcode::NOERROR;
  auto cached = messages_.lookup(question.name, question.qtype, question.qclass, 0);
  if (cached) {
    ParseError error;
    if (auto message = parse_message(reinterpret_cast<const uint8_t *>(cached->wire.data()), cached->wire.size(), &error)) {
      result.rcode = message->rcode;
      result.answer = message->answer;
      result.authority = message->authority;
      result.security = cached->security;
      return result;
    }
  }
  // RFC 4035 4.7: with validation on, only data the validator judged (secure, or
  // proven insecure) is served from the RRset cache; unchecked data (fetched with CD=1,
  // or not looked at yet) and bogus data never are.
  const bool validating = config_.dnssec.validation;
  auto servable = [&](const CachedRRset &cached) {
    if (cached.security == Security::bogus) return false;
    return !validating || cached.security == Security::secure || cached.security == Security::insecure;
  };
  if (auto data = rrsets_.lookup(question.name, question.qtype);
      data && data->trust >= Trust::answer && servable(*data)) {
    result.answer = data->rrset.records();
    result.security = data->security;
    return result;
  }
  // RFC 1034 4.3.1: without recursion, refer the client to the closest servers we know
  // (a referral's NS set is unsigned by design: RFC 4035 2.2).
  for (Name cut = question.name;; cut = cut.parent()) {
    if (auto ns = rrsets_.lookup(cut, rrtype::NS); ns && ns->security != Security::bogus) {
      result.authority = ns->rrset.records();
      return result;
    }
    if (cut.is_root()) break;
  }
  for (const auto &server : root_hints_.servers)
    result.authority.push_back(ResourceRecord{Name::root(), rrtype::NS, rrclass::IN, 3600, server.name.wire()});
  return result;
}

void ClientQueryHandler::store_reply(const Message &query, const Resolution &resolved, bool tcp) {
  build_reply(query, resolved, tcp, true, nullptr, Recipient::cache_only);
}

std::string ClientQueryHandler::build_reply(const Message &query, const Resolution &resolved, bool tcp,
                                            bool store, bool *cloaked_out, Recipient recipient) {
  const Question &question = query.questions[0];
  // CNAME cloaking: an answer whose CNAME/DNAME chain reaches a blocked name is
  // blocked too, whatever it came from (the engine, a stale copy, the RRset cache),
  // and is not cached: the fast path would serve it without asking the policy again.
  // With no client to get it, nothing is blocked for anyone: nothing is counted.
  std::optional<Resolution> cloaked;
  if (policy_ && policy_->blocked_names() != 0)
    if (auto block = cloaking_block(resolved)) {
      if (recipient == Recipient::cache_only) return {};
      cloaked = blocked_resolution(question, block->first, &block->second);
      store = false;
    }
  if (cloaked_out) *cloaked_out = cloaked.has_value();
  const Resolution &result = cloaked ? *cloaked : resolved;
  bool dnssec_ok = query.edns && query.edns->dnssec_ok;
  Message reply;
  reply.id = query.id;
  reply.qr = true;
  reply.rd = query.rd;
  reply.ra = true;
  reply.cd = query.cd;
  reply.rcode = result.rcode;
  // RFC 6840 5.7, 5.8: AD only for validated data, and only to clients that asked with DO or AD.
  bool authenticated = result.security == Security::secure && !query.cd;
  reply.ad = authenticated && (dnssec_ok || query.ad);
  reply.questions = query.questions;
  reply.answer = result.answer;
  reply.authority = result.authority;
  if (!dnssec_ok) {
    strip_dnssec(reply.answer, question.qtype);
    strip_dnssec(reply.authority, question.qtype);
  }

  // A negative trust anchor that changed since this answer was judged has had its
  // names flushed, perhaps before the store: the answer is not kept, nor a bogus
  // verdict remembered (as in Validator::write_back; the daemon counts a change
  // before it flushes, so checking again after storing closes the gap).
  auto anchors_changed = [&] {
    return result.negative_anchor_changes &&
           engine_.negative_anchor_changes() != *result.negative_anchor_changes;
  };
  if (store && result.cacheable && result.cache_ttl > 0 &&
      (result.rcode == rcode::NOERROR || result.rcode == rcode::NXDOMAIN)) {
    // The cached copy carries no OPT record: the fast path appends the client's own.
    Message cached = reply;
    cached.ad = authenticated;  // the fast path clears it for clients without DO or AD
    cached.id = 0;
    cached.rd = true;
    cached.cd = false;
    cached.questions[0].name = question.name.lowered();
    // The records' TTLs already count down from what the cache took in (min-ttl and
    // max-ttl were applied once, then): the copy lives exactly as long as they do.
    uint32_t ttl = std::min(result.cache_ttl, std::max(config_.cache.min_ttl, config_.cache.max_ttl));
    if (result.rcode == rcode::NXDOMAIN || reply.answer.empty()) ttl = std::min(ttl, config_.cache.max_negative_ttl);
    EncodeResult encoded = encode_message(cached, 65535);
    // How long a secure answer stays provably secure, kept for serve-stale and the
    // snapshot (taken from the full answer: a reply without DO carries no RRSIGs).
    int64_t signatures_expire_at = 0;
    if (result.security == Security::secure) {
      const int64_t now = clock_.now_seconds();
      signatures_expire_at = earliest_signature_expiration(result.answer, now);
      if (int64_t authority = earliest_signature_expiration(result.authority, now);
          authority != 0 && (signatures_expire_at == 0 || authority < signatures_expire_at))
        signatures_expire_at = authority;
    }
    const uint8_t flags = message_cache_flags(dnssec_ok, query.cd);
    if (!anchors_changed()) {
      messages_.store(question.name, question.qtype, question.qclass, flags, std::move(encoded.wire),
                      std::move(encoded.ttl_offsets), ttl, result.security, result.rcode,
                      signatures_expire_at);
      if (anchors_changed()) messages_.erase(question.name, question.qtype, question.qclass, flags);
    }
  }

  if (store && result.security == Security::bogus && !query.cd && result.error && !anchors_changed())
    remember_bogus(question, *result.error);
  if (recipient == Recipient::cache_only) return {};  // no client: no reply to encode
  if (query.edns) {
    Edns edns;
    edns.udp_size = config_.network.edns_buffer_size;
    edns.dnssec_ok = dnssec_ok;
    reply.edns = edns;
    if (result.error) reply.add_extended_error(*result.error);
  }
  return encode_message(reply, udp_limit(query, tcp)).wire;
}

}  // namespace rsv
