// Drives the iterator (resolver/iter/iterator.h) the way the engine does, through its
// public state machine only (next, on_reply, on_failure, on_subquery_result), with
// upstream replies from somewhere else: the fuzz input in upstream_reply_fuzz.cc, or
// the signed test hierarchy in the corpus generator (make_corpus.cc). Both use this
// one driver, so a seed the generator records replays step for step in the target.
//
// What it does around the iterator, as resolver/engine/engine.cc does:
//  - a `send` gets the next reply; it passes only if it parses and has QR set (the
//    engine's checks). The transport matches ID and question before the iterator
//    sees a reply (net/upstream.cc), so the question section is set to the one sent,
//    except for a FORMERR/NOTIMP without one (RFC 6891 7, which the transport lets
//    through). No reply is a timeout: on_failure().
//  - a `subquery` (priming, a glueless name server's address) either fails at once
//    or is resolved by a nested iterator over the same caches, its sends answered by
//    the following replies, as the engine stacks them (with its loop and depth
//    checks). The priming answer is not validated here (no validator in this target).
//  - bounds: at most kMaxSends sends and kMaxSteps actions per question; reaching
//    them, or running out of input, just ends the run (the engine has its own
//    budgets; this target is after the iterator's reply handling).
//
// The iterator's internals (how it classifies and scrubs a reply) are deliberately
// not touched, so the target keeps working while they change.
//
// Properties checked on every Resolution the iterator hands out (dnssec/resolution.h
// and iterator.h promise them; the validator relies on them):
//  - every send goes to an address the AddressPolicy allows (no glue pointing at
//    127.0.0.1 is ever used: do-not-query-localhost is on);
//  - the rcode is NOERROR, NXDOMAIN, YXDOMAIN (RFC 6672 2.2) or SERVFAIL, and a
//    SERVFAIL says why (an Extended DNS Error);
//  - each answer RRset has its AnswerSource, and each source's zone is at or above the
//    owner (data from outside the zone asked was scrubbed);
//  - each source's zone is the zone of a send whose reply really held that RRset (or,
//    for a CNAME, the DNAME it was synthesized from): the label the validator trusts
//    (it chooses the signer by it) was given when the query went out, and is not
//    taken from the iterator's own account of the reply afterwards; the RRset is the
//    one that reply held, record for record. Only replies the iterator was given
//    count (DeliveredReplies): one the engine drops (unparsable, QR clear) vouches
//    for nothing. One exception, for what an iterator found in the cache from another
//    iterator's reply (an earlier question's, or a sub-question's: priming, a
//    glueless name server's address): the iterator labels such a set with the deepest cut whose NS
//    set the cache still holds (the root when none), and a cut's NS set may expire
//    before the data, so the label may be a zone above the one the reply came from
//    (AnswerSource: "the root when it is not known"). That direction only widens what
//    the validator searches (the label is its floor, dnssec/validator.cc). The label
//    may also lie below the sender's zone, when a parent's server answered for a name
//    below its own cut (the iterator asks the parent again when every server of the
//    child failed) and the cache now knows the cut: then the label must be a cut a
//    delivered NS set named, and the set must have been in that reply's answer
//    section (what the cache keeps at answer trust). The validator proves such a
//    floor through its parent's DS before trusting it;
//  - each Delegation's child lies strictly below its parent;
//  - once done, the iterator stays done: more events change nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/clock.h"
#include "cache/infra_cache.h"
#include "cache/random.h"
#include "cache/rrset_cache.h"
#include "resolver/config/config.h"
#include "resolver/iter/iterator.h"
#include "resolver/wire/message.h"

namespace rsv::fuzz {

// The qtypes a question may have: the common ones and those with special handling
// (DS at the parent, NS for priming and referrals, CNAME/DNAME chains, ANY).
inline constexpr uint16_t kQuestionTypes[16] = {
    rrtype::A,    rrtype::AAAA,   rrtype::NS,  rrtype::MX,   rrtype::CNAME, rrtype::DS,
    rrtype::DNSKEY, rrtype::SOA,  rrtype::TXT, rrtype::PTR,  rrtype::SRV,   rrtype::DNAME,
    rrtype::HTTPS, rrtype::NSEC,  rrtype::ANY, 65280 /* private use: a type nobody serves */};

// The fixed world of the target: the root hints name one server (the generator's
// hierarchy puts the root there), and in forwarding mode everything goes to one
// forwarder. Documentation addresses (RFC 5737): nothing is ever sent anyway.
inline constexpr const char *kRootServerName = "a.root.";
inline constexpr const char *kRootServerAddress = "198.51.100.1";
inline constexpr const char *kForwarderAddress = "198.51.100.53";

// The header octets of an upstream_reply_fuzz input.
struct IteratorOptions {
  bool qname_minimisation = true;
  bool prime_root = true;
  bool nested_subqueries = true;  // else every sub-question fails at once
  bool forward_all = false;       // a forward zone for "." (RD=1, non-AA answers)
  bool do_ip6 = false;
  bool harden_glue = true;
  bool second_question = false;   // then the same name with second_qtype, same caches
  bool expire_between = false;    // and 10 minutes later (cached data expires)
  uint16_t qtype = rrtype::A;
  uint16_t second_qtype = rrtype::A;

  static IteratorOptions from_header(uint8_t flags, uint8_t types) {
    IteratorOptions o;
    o.qname_minimisation = flags & 0x01;
    o.prime_root = flags & 0x02;
    o.nested_subqueries = flags & 0x04;
    o.forward_all = flags & 0x08;
    o.do_ip6 = flags & 0x10;
    o.harden_glue = !(flags & 0x20);
    o.second_question = flags & 0x40;
    o.expire_between = flags & 0x80;
    o.qtype = kQuestionTypes[types & 0x0F];
    o.second_qtype = kQuestionTypes[types >> 4];
    return o;
  }
  // The two header octets that give these options (qtypes not in the table become A).
  std::string to_header() const {
    auto index = [](uint16_t type) {
      auto it = std::find(std::begin(kQuestionTypes), std::end(kQuestionTypes), type);
      return static_cast<uint8_t>(it == std::end(kQuestionTypes) ? 0 : it - std::begin(kQuestionTypes));
    };
    uint8_t flags = (qname_minimisation ? 0x01 : 0) | (prime_root ? 0x02 : 0) | (nested_subqueries ? 0x04 : 0) |
                    (forward_all ? 0x08 : 0) | (do_ip6 ? 0x10 : 0) | (harden_glue ? 0 : 0x20) |
                    (second_question ? 0x40 : 0) | (expire_between ? 0x80 : 0);
    return {static_cast<char>(flags), static_cast<char>(index(qtype) | (index(second_qtype) << 4))};
  }
};

// Where the replies come from.
class UpstreamReplies {
public:
  enum class Kind { reply, timeout, end };
  struct Reply {
    Kind kind = Kind::end;
    std::string wire;
  };
  virtual ~UpstreamReplies() = default;
  // The reply to the query `action` sends (a `send` action): its wire form, a
  // timeout, or the end of the input (the run stops there).
  virtual Reply reply(const IteratorAction &action) = 0;
};

// The replies the iterator was given, each with the zone its send was addressed to
// when it went out (IteratorAction::zone): what an answer source's label is checked
// against. The validator chooses the signer by that label, so it must come from the
// send, never from the iterator's own account of the reply afterwards.
class DeliveredReplies {
public:
  void record(const Name &zone, const Message &reply) { replies_.push_back(Delivered{zone, reply, current_}); }
  // A new iterator (a client question, or a sub-question the engine opens) begins; it
  // receives what is recorded from now on, until another is begun or resumed. What
  // other iterators were given can reach its answer only through the cache.
  unsigned begin_iterator() { return current_ = ++iterators_; }
  void resume_iterator(unsigned iterator) { current_ = iterator; }
  void begin_question() { begin_iterator(); }

  // "" when every source of `r` names the zone of a send whose reply held the RRset,
  // every record of it (so the iterator did not relabel a parent's records as its
  // child's, or one zone's as another's, not even where the other zone's reply had an
  // RRset of the same name and type); else which source has no such reply. Sources the
  // cache gave with a validation status are not the iterator's to label. A set another
  // iterator's reply held carries the cut the cache knows when it is read: a
  // zone above that reply's (the NS sets below may have expired first), which leaves
  // the validator more to prove, never less; or, for a set that reply held in its
  // answer section, a cut below it that a delivered NS set named (a parent's server
  // answered below its own cut, and the cache knows the cut).
  std::string check_sources(const Question &question, const Resolution &r) const {
    const std::string what = " (" + question.name.to_text() + " " + type_to_text(question.qtype) + ")";
    auto by_another_iterator = [&](const Delivered &d) { return d.iterator != current_; };
    for (const auto &source : r.sources) {
      if (source.security != Security::unchecked) continue;
      const bool sent = std::any_of(replies_.begin(), replies_.end(), [&](const Delivered &d) {
        return d.zone == source.zone && holds(d.message, source, r.answer);
      });
      const bool cached_under_a_lapsed_cut =
          std::any_of(replies_.begin(), replies_.end(), [&](const Delivered &d) {
            return by_another_iterator(d) && d.zone != source.zone && d.zone.is_subdomain_of(source.zone) &&
                   holds(d.message, source, r.answer);
          });
      const bool cached_below_its_sender =
          named_as_cut(source.zone) && std::any_of(replies_.begin(), replies_.end(), [&](const Delivered &d) {
            return by_another_iterator(d) && d.zone != source.zone && source.zone.is_subdomain_of(d.zone) &&
                   holds(d.message, source, r.answer, Sections::answer_only);
          });
      if (!sent && !cached_under_a_lapsed_cut && !cached_below_its_sender)
        return "the source of " + source.owner.to_text() + " " + type_to_text(source.type) + " is the zone " +
               source.zone.to_text() + ", but no reply to a query sent to that zone held it" + what;
    }
    return "";
  }

private:
  struct Delivered {
    Name zone;
    Message message;
    unsigned iterator;  // the one it was given to
  };

  // Some delivered reply held an NS set owned by `zone` (a referral's or an answer's):
  // a cut the iterator's cache may know.
  bool named_as_cut(const Name &zone) const {
    return std::any_of(replies_.begin(), replies_.end(), [&](const Delivered &d) {
      for (const auto *section : {&d.message.answer, &d.message.authority})
        for (const auto &rr : *section)
          if (rr.type == rrtype::NS && rr.owner == zone) return true;
      return false;
    });
  }

  enum class Sections { all, answer_only };

  // Each CNAME of `source` in `answer` (and there is one) is what a DNAME the message
  // held synthesizes for its owner (RFC 6672 2.2): the owner with the DNAME's owner
  // replaced by the DNAME's target. Any other target is not the DNAME's doing.
  template <typename InMessage>
  static bool synthesized_from_a_dname(const AnswerSource &source, const std::vector<ResourceRecord> &answer,
                                       const InMessage &in_message) {
    bool any = false;
    for (const auto &cname : answer) {
      if (cname.type != rrtype::CNAME || cname.owner != source.owner) continue;
      any = true;
      const auto target = cname.rdata_target();
      if (!target || !in_message([&](const ResourceRecord &rr) {
            if (rr.type != rrtype::DNAME || source.owner == rr.owner ||
                !source.owner.is_subdomain_of(rr.owner))
              return false;
            const auto dname_target = rr.rdata_target();
            if (!dname_target) return false;
            const auto rewritten = source.owner.replace_suffix(rr.owner, *dname_target);
            return rewritten && *rewritten == *target;
          }))
        return false;
    }
    return any;
  }

  // The message held the RRset `source` vouches for: each of its records in `answer`,
  // rdata and all (the TTL may since have been capped); or, for a CNAME, a DNAME above
  // the owner that the iterator may have synthesized it from (RFC 6672 2.2). A source
  // with no records in the answer needs its owner and type in the message.
  static bool holds(const Message &message, const AnswerSource &source,
                    const std::vector<ResourceRecord> &answer, Sections where = Sections::all) {
    auto in_message = [&](const auto &matches) {
      for (const auto *section : {&message.answer, &message.authority, &message.additional}) {
        if (where == Sections::answer_only && section != &message.answer) continue;
        if (std::any_of(section->begin(), section->end(), matches)) return true;
      }
      return false;
    };
    if (source.type == rrtype::CNAME && synthesized_from_a_dname(source, answer, in_message)) return true;
    bool in_answer = false;
    for (const auto &want : answer) {
      if (want.type != source.type || want.owner != source.owner) continue;
      in_answer = true;
      if (!in_message([&](const ResourceRecord &rr) {
            return rr.type == want.type && rr.owner == want.owner && rr.rclass == want.rclass &&
                   rr.rdata == want.rdata;
          }))
        return false;
    }
    return in_answer || in_message([&](const ResourceRecord &rr) {
             return rr.type == source.type && rr.owner == source.owner;
           });
  }

  std::vector<Delivered> replies_;  // every reply of the harness's life, both questions
  unsigned iterators_ = 0;          // how many iterators have begun
  unsigned current_ = 0;            // the one being given replies, or checked
};

struct IteratorRun {
  bool finished = false;  // the client question's iterator reached done
  Resolution result;
  size_t sends = 0;
  size_t steps = 0;
  std::string broken;  // the first property that did not hold; empty if none
};

class IteratorHarness {
public:
  static constexpr size_t kMaxSends = 48;
  static constexpr size_t kMaxSteps = 400;
  static constexpr uint32_t kReplyRttMs = 20;

  explicit IteratorHarness(const IteratorOptions &options)
      : options_(options), config_(make_config(options)), root_hints_(make_root_hints()) {
    clock_.set_seconds(1735689600);  // tests/support's kPinnedNow: the signatures' "now"
    if (options.forward_all)
      forward_zones_.push_back(ForwardZone{Name::root(), {*SocketAddress::parse(kForwarderAddress)}});
  }

  ManualClock &clock() { return clock_; }
  RRsetCache &rrsets() { return rrsets_; }
  const IteratorEnv &env() const { return env_; }

  // Resolves one question, replies from `upstream`.
  IteratorRun resolve(const Question &question, UpstreamReplies &upstream) {
    IteratorRun run;
    std::vector<std::unique_ptr<Iterator>> stack;
    std::vector<unsigned> delivered_ids;  // each stacked iterator's in delivered_
    stack.push_back(std::make_unique<Iterator>(env_, question));
    delivered_ids.push_back(delivered_.begin_iterator());
    while (run.broken.empty() && run.steps < kMaxSteps) {
      ++run.steps;
      Iterator &top = *stack.back();
      delivered_.resume_iterator(delivered_ids.back());
      const IteratorAction action = top.next();
      switch (action.kind) {
        case IteratorAction::Kind::send: {
          if (!env_.address_policy.allowed(action.server) && !is_forwarder(action.server)) {
            run.broken = "sent to " + action.server.to_string() + ", which the address policy forbids";
            break;
          }
          if (++run.sends > kMaxSends) return run;
          UpstreamReplies::Reply reply = upstream.reply(action);
          if (reply.kind == UpstreamReplies::Kind::end) return run;
          deliver(top, action, reply);
          break;
        }
        case IteratorAction::Kind::subquery: {
          // The engine refuses a sub-question already open on the stack (glueless
          // names that depend on each other) and one beyond the depth budget.
          const bool loops = std::any_of(stack.begin(), stack.end(), [&](const auto &it) {
            return it->question().name == action.question.name && it->question().qtype == action.question.qtype;
          });
          if (options_.nested_subqueries && !loops && stack.size() <= config_.resolver.budgets.max_subquery_depth) {
            stack.push_back(std::make_unique<Iterator>(env_, action.question));
            delivered_ids.push_back(delivered_.begin_iterator());
          } else {
            top.on_subquery_result(Resolution::failure(ede::OTHER, "sub-query refused by the fuzz driver"));
          }
          break;
        }
        case IteratorAction::Kind::done: {
          Resolution result = top.result();
          run.broken = check_result(top.question(), result);
          if (run.broken.empty()) run.broken = check_stays_done(top, result);
          if (!run.broken.empty()) break;
          stack.pop_back();
          delivered_ids.pop_back();
          if (stack.empty()) {
            run.finished = true;
            run.result = std::move(result);
            return run;
          }
          stack.back()->on_subquery_result(result);
          break;
        }
      }
    }
    return run;
  }

  // The properties every Resolution must have (see the header comment); "" when
  // they hold.
  static std::string check_resolution(const Question &question, const Resolution &r) {
    const std::string what = " (" + question.name.to_text() + " " + type_to_text(question.qtype) + ")";
    if (r.rcode != rcode::NOERROR && r.rcode != rcode::NXDOMAIN && r.rcode != rcode::SERVFAIL && r.rcode != 6)
      return "rcode " + rcode_to_text(r.rcode) + " in a Resolution" + what;
    if (r.rcode == rcode::SERVFAIL && !r.error) return "SERVFAIL without an Extended DNS Error" + what;
    for (const auto &source : r.sources)
      if (!source.owner.is_subdomain_of(source.zone))
        return "the source of " + source.owner.to_text() + " " + type_to_text(source.type) + " is the zone " +
               source.zone.to_text() + ", which does not hold it" + what;
    // The validator judges NOERROR and NXDOMAIN answers, each RRset in the zone of its
    // source (a YXDOMAIN's DNAME goes out unvalidated).
    for (const auto &rr : r.answer) {
      if (rr.type == rrtype::RRSIG || (r.rcode != rcode::NOERROR && r.rcode != rcode::NXDOMAIN)) continue;
      if (!r.source_of(rr.owner, rr.type))
        return "no source for the answer RRset " + rr.owner.to_text() + " " + type_to_text(rr.type) + what;
    }
    for (const auto &d : r.delegations)
      if (d.child == d.parent || !d.child.is_subdomain_of(d.parent))
        return "a delegation from " + d.parent.to_text() + " to " + d.child.to_text() + what;
    return "";
  }

  // Every property of a Resolution this harness's replies produced: check_resolution's,
  // and each source's label tied to a reply the iterator was given. "" when they hold.
  std::string check_result(const Question &question, const Resolution &r) const {
    if (std::string broken = check_resolution(question, r); !broken.empty()) return broken;
    return delivered_.check_sources(question, r);
  }

private:
  static Config make_config(const IteratorOptions &options) {
    Config c = default_config();
    c.resolver.qname_minimisation = options.qname_minimisation;
    c.resolver.prime_root = options.prime_root;
    c.resolver.harden_glue = options.harden_glue;
    c.network.do_ip6 = options.do_ip6;
    c.network.do_not_query_localhost = true;
    return c;
  }

  static DelegationPoint make_root_hints() {
    DelegationPoint hints;
    hints.zone = Name::root();
    NameServer root;
    root.name = *Name::from_text(kRootServerName);
    root.addresses.push_back(*SocketAddress::parse(kRootServerAddress));
    root.no_lookups_needed();
    hints.servers.push_back(root);
    return hints;
  }

  bool is_forwarder(const SocketAddress &server) const {
    for (const auto &zone : forward_zones_)
      if (std::find(zone.servers.begin(), zone.servers.end(), server) != zone.servers.end()) return true;
    return false;
  }

  void deliver(Iterator &top, const IteratorAction &action, const UpstreamReplies::Reply &reply) {
    if (reply.kind == UpstreamReplies::Kind::timeout) {
      clock_.advance_ms(infra_.timeout_ms(action.server, config_.network.upstream_timeout_ms));
      infra_.record_timeout(action.server);
      top.on_failure();
      return;
    }
    clock_.advance_ms(kReplyRttMs);
    ParseError error = ParseError::none;
    auto message = parse_message(reinterpret_cast<const uint8_t *>(reply.wire.data()), reply.wire.size(), &error);
    if (!message || !message->qr) {
      top.on_failure();  // the engine counts it malformed; to the iterator it is no reply
      return;
    }
    const bool questionless_error = message->questions.empty() &&
                                    (message->rcode == rcode::FORMERR || message->rcode == rcode::NOTIMP);
    if (!questionless_error) message->questions = {action.question};
    infra_.record_rtt(action.server, kReplyRttMs);
    // Only what reaches on_reply can be the source of an answer.
    delivered_.record(action.zone, *message);
    top.on_reply(*message);
  }

  // Events after done must not reopen the iterator or change its result.
  static std::string check_stays_done(Iterator &it, const Resolution &result) {
    it.on_failure();
    it.on_reply(Message{});
    it.on_subquery_result(Resolution::failure(ede::OTHER, "late"));
    if (it.next().kind != IteratorAction::Kind::done || it.state() != IteratorState::done)
      return "the iterator left the done state after a late event";
    if (it.result().rcode != result.rcode || it.result().answer.size() != result.answer.size())
      return "a late event changed the iterator's result";
    return "";
  }

  IteratorOptions options_;
  ManualClock clock_;
  SeededRandom random_{20250101};
  Config config_;
  DelegationPoint root_hints_;
  std::vector<ForwardZone> forward_zones_;
  DeliveredReplies delivered_;
  RRsetCache rrsets_{clock_, 2u << 20, TtlPolicy{}, 2};
  InfraCache infra_{clock_, 1000, 2};
  IteratorEnv env_{rrsets_,
                   infra_,
                   random_,
                   config_.resolver,
                   AddressPolicy{config_.network.do_ip4, config_.network.do_ip6, config_.network.do_not_query_localhost},
                   forward_zones_,
                   root_hints_,
                   config_.cache.max_negative_ttl};
};

// Runs a whole upstream_reply_fuzz input's questions: the first, then (option) the
// second with the same caches. Returns "" or the first broken property.
inline std::string run_iterator_questions(const IteratorOptions &options, const Name &qname,
                                          UpstreamReplies &upstream, std::vector<IteratorRun> *runs = nullptr) {
  IteratorHarness harness(options);
  IteratorRun first = harness.resolve(Question{qname, options.qtype, rrclass::IN}, upstream);
  std::string broken = first.broken;
  if (runs) runs->push_back(first);
  if (broken.empty() && options.second_question) {
    if (options.expire_between) harness.clock().advance_seconds(600);
    IteratorRun second = harness.resolve(Question{qname, options.second_qtype, rrclass::IN}, upstream);
    broken = second.broken;
    if (runs) runs->push_back(second);
  }
  return broken;
}

}  // namespace rsv::fuzz
