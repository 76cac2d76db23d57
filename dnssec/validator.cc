#include "dnssec/validator.h"

#include <algorithm>

#include "dnssec/crypto.h"
#include "dnssec/nsec.h"
#include "dnssec/nsec3.h"
#include "dnssec/rrsig.h"
#include "resolver/base/log.h"

namespace rsv {

namespace {

bool is_denial_type(uint16_t type) {
  return type == rrtype::SOA || type == rrtype::NSEC || type == rrtype::NSEC3;
}

std::optional<Name> signer_of(const RRset &set) {
  for (const auto &sig : set.signatures)
    if (auto fields = parse_rrsig(sig)) return fields->signer;
  return std::nullopt;
}

std::vector<ResourceRecord> records_of_type(const std::vector<ResourceRecord> &section, uint16_t type) {
  std::vector<ResourceRecord> out;
  for (const auto &rr : section)
    if (rr.type == type) out.push_back(rr);
  return out;
}

ValidationOutcome weaker(const ValidationOutcome &a, const ValidationOutcome &b) {
  return static_cast<int>(b.security) < static_cast<int>(a.security) ? b : a;
}

ZoneKeys status_of(ValidationOutcome outcome) {
  ZoneKeys keys;
  keys.status = outcome.security == Security::insecure ? ZoneKeys::Status::insecure : ZoneKeys::Status::bogus;
  keys.outcome = std::move(outcome);
  return keys;
}

uint32_t min_ttl_of(const std::vector<RRset> &sets) {
  uint32_t ttl = UINT32_MAX;
  for (const auto &s : sets) ttl = std::min(ttl, s.ttl);
  return ttl == UINT32_MAX ? 0 : ttl;
}

}  // namespace

const char *to_string(ValidatorState state) {
  switch (state) {
    case ValidatorState::start: return "start";
    case ValidatorState::walk: return "walk";
    case ValidatorState::wait_ds: return "wait_ds";
    case ValidatorState::wait_dnskey: return "wait_dnskey";
    case ValidatorState::verify: return "verify";
    case ValidatorState::done: return "done";
  }
  return "?";
}

Validator::Validator(ValidatorEnv &env, Question question, Resolution resolution, ValidationBudget &budget)
    : env_(env), question_(std::move(question)), resolution_(std::move(resolution)), budget_(budget) {
  result_ = resolution_;
}

void Validator::transition(ValidatorState next, const char *why) {
  RSV_LOG(trace, "validator %s %s: %s -> %s (%s)", question_.name.to_text().c_str(),
          type_to_text(question_.qtype).c_str(), to_string(state_), to_string(next), why);
  state_ = next;
}

ValidatorAction Validator::next() {
  for (int guard = 0; guard < 10000; ++guard) {
    if (to_ask_) {
      ValidatorAction action{ValidatorAction::Kind::subquery, *to_ask_};
      to_ask_.reset();
      return action;
    }
    switch (state_) {
      case ValidatorState::start: handle_start(); break;
      case ValidatorState::walk: {
        auto action = handle_walk();
        if (action.kind == ValidatorAction::Kind::subquery) return action;
        break;
      }
      case ValidatorState::verify: handle_verify(); break;
      case ValidatorState::wait_ds:
      case ValidatorState::wait_dnskey:
        finish(ValidationOutcome::bogus(ede::DNSSEC_BOGUS, "validator asked for an action while waiting"));
        break;
      case ValidatorState::done: return ValidatorAction{};
    }
  }
  finish(ValidationOutcome::bogus(ede::DNSSEC_BOGUS, "validator made no progress"));
  return ValidatorAction{};
}

const TrustAnchor *Validator::closest_anchor(const Name &name) const {
  const TrustAnchor *best = nullptr;
  for (const auto &anchor : env_.anchors)
    if (name.is_subdomain_of(anchor.zone) && (!best || anchor.zone.label_count() > best->zone.label_count()))
      best = &anchor;
  return best;
}

bool Validator::under_negative_anchor(const Name &name) const {
  return std::any_of(env_.config.negative_trust_anchors.begin(), env_.config.negative_trust_anchors.end(),
                     [&](const Name &nta) { return name.is_subdomain_of(nta); });
}

size_t Validator::target_for(const Name &name) {
  for (size_t i = 0; i < targets_.size(); ++i)
    if (targets_[i].name == name) return i;
  targets_.push_back(Target{name, std::nullopt, Name::root()});
  return targets_.size() - 1;
}

ValidatorAction Validator::handle_start() {
  if (resolution_.rcode != rcode::NOERROR && resolution_.rcode != rcode::NXDOMAIN) {
    transition(ValidatorState::done, "nothing to validate in a failure");
    return {};
  }
  // A CNAME synthesized from a DNAME is unsigned by nature; the DNAME is checked instead.
  std::vector<Name> dname_owners;
  for (const auto &rr : resolution_.answer)
    if (rr.type == rrtype::DNAME) dname_owners.push_back(rr.owner);
  for (auto &set : group_rrsets(resolution_.answer)) {
    if (set.type == rrtype::RRSIG) continue;
    bool synthesized = set.type == rrtype::CNAME && set.signatures.empty() &&
                       std::any_of(dname_owners.begin(), dname_owners.end(),
                                   [&](const Name &d) { return set.owner.is_subdomain_of(d) && set.owner != d; });
    if (!synthesized) answer_sets_.push_back(std::move(set));
  }
  for (auto &set : group_rrsets(resolution_.authority))
    if (is_denial_type(set.type)) authority_sets_.push_back(std::move(set));
  for (const auto *sets : {&answer_sets_, &authority_sets_})
    for (const auto &set : *sets) target_for(signer_of(set).value_or(set.owner));
  if (authority_sets_.empty() && (resolution_.rcode == rcode::NXDOMAIN || answer_sets_.empty()))
    target_for(question_.name);  // an unsigned negative answer: is its zone insecure?
  transition(ValidatorState::walk, "targets planned");
  return {};
}

ValidatorAction Validator::handle_walk() {
  for (;;) {
    if (!walking_) {
      auto open = std::find_if(targets_.begin(), targets_.end(), [](const Target &t) { return !t.status; });
      if (open == targets_.end()) {
        transition(ValidatorState::verify, "every zone's status known");
        return {};
      }
      walk_ = Walk{};
      walk_.target = static_cast<size_t>(open - targets_.begin());
      walking_ = true;
      const TrustAnchor *anchor = closest_anchor(open->name);
      if (under_negative_anchor(open->name)) {
        resolve_target(status_of(ValidationOutcome::insecure(ede::OTHER, "negative trust anchor")));
        continue;
      }
      if (!anchor) {
        // RFC 4035 4.3: no trust anchor above the name, nothing to validate against.
        resolve_target(status_of(ValidationOutcome::insecure(ede::OTHER, "no trust anchor")));
        continue;
      }
      walk_.zone = anchor->zone;
      walk_.cursor = anchor->zone;
      if (auto cached = env_.keys.lookup(anchor->zone); cached && cached->status == ZoneKeys::Status::secure) {
        walk_.keys = cached->dnskeys;
      } else if (cached && cached->status != ZoneKeys::Status::not_a_cut) {
        resolve_target(*cached);
        continue;
      } else {
        awaiting_anchor_keys_ = true;
        walk_.pending = anchor->zone;
        transition(ValidatorState::wait_dnskey, "trust anchor's DNSKEY set needed");
        return ValidatorAction{ValidatorAction::Kind::subquery, Question{anchor->zone, rrtype::DNSKEY, rrclass::IN}};
      }
    }
    const Name &target = targets_[walk_.target].name;
    if (walk_.cursor == target) {
      ZoneKeys secure;
      secure.status = ZoneKeys::Status::secure;
      secure.dnskeys = walk_.keys;
      resolve_target(std::move(secure));
      continue;
    }
    Name next = target.suffix(walk_.cursor.label_count() + 1);
    if (auto cached = env_.keys.lookup(next)) {
      switch (cached->status) {
        case ZoneKeys::Status::secure:
          walk_.zone = next;
          walk_.keys = cached->dnskeys;
          walk_.cursor = next;
          continue;
        case ZoneKeys::Status::not_a_cut: walk_.cursor = next; continue;
        default: resolve_target(*cached); continue;
      }
    }
    walk_.pending = next;
    transition(ValidatorState::wait_ds, "DS needed");
    return ValidatorAction{ValidatorAction::Kind::subquery, Question{next, rrtype::DS, rrclass::IN}};
  }
}

void Validator::resolve_target(ZoneKeys status) {
  Target &target = targets_[walk_.target];
  target.status = std::move(status);
  target.zone = walk_.zone;
  walking_ = false;
  if (state_ != ValidatorState::walk) transition(ValidatorState::walk, "zone status known");
}

void Validator::on_subquery_result(const Resolution &result) {
  budget_.begin_response();
  if (state_ == ValidatorState::wait_ds) {
    handle_ds(result);
  } else if (state_ == ValidatorState::wait_dnskey) {
    handle_dnskey(result);
  }
}

ValidationOutcome Validator::verify_with(const RRset &set, const Name &zone, const RRset &keys, uint32_t *ttl,
                                         std::optional<Name> *wildcard) {
  uint32_t validated = UINT32_MAX;
  auto outcome = verify_rrset(set, set.signatures, keys.records(), zone, env_.clock.now_seconds(), budget_,
                              &validated, wildcard);
  if (outcome.is_secure()) {
    validated_ttl_ = std::min(validated_ttl_, validated);
    if (ttl) *ttl = validated;
  }
  return outcome;
}

void Validator::handle_ds(const Resolution &result) {
  const Name next = walk_.pending;
  auto answer = group_rrsets(result.answer);
  auto ds = std::find_if(answer.begin(), answer.end(),
                         [&](const RRset &s) { return s.type == rrtype::DS && s.owner == next; });
  if (result.rcode == rcode::NOERROR && ds != answer.end()) {
    uint32_t ttl = 0;
    auto outcome = verify_with(*ds, walk_.zone, walk_.keys, &ttl, nullptr);
    if (!outcome.is_secure()) {
      env_.keys.store(next, status_of(outcome), outcome.is_bogus() ? env_.config.bogus_ttl : ttl);
      resolve_target(status_of(outcome));
      return;
    }
    walk_.ds = ds->records();
    to_ask_ = Question{next, rrtype::DNSKEY, rrclass::IN};
    transition(ValidatorState::wait_dnskey, "DS validated");
    return;
  }
  auto cname = std::find_if(answer.begin(), answer.end(),
                            [&](const RRset &s) { return s.type == rrtype::CNAME && s.owner == next; });
  if (result.rcode == rcode::NOERROR && cname != answer.end()) {
    // An alias cannot be a zone cut (RFC 1034 3.6.2); its signature must still hold.
    auto outcome = verify_with(*cname, walk_.zone, walk_.keys, nullptr, nullptr);
    if (!outcome.is_secure()) {
      resolve_target(status_of(outcome));
      return;
    }
    walk_.cursor = next;
    transition(ValidatorState::walk, "alias, not a zone cut");
    return;
  }
  if (result.rcode != rcode::NOERROR && result.rcode != rcode::NXDOMAIN) {
    std::string why = result.error ? result.error->extra_text : rcode_to_text(result.rcode);
    resolve_target(status_of(ValidationOutcome::bogus(ede::DNSSEC_BOGUS,
                                                     "cannot get the DS set of " + next.to_text() + ": " + why)));
    return;
  }
  // The DS is denied: the proof must be signed by the zone above (RFC 4035 5.2).
  std::vector<RRset> proof;
  for (auto &set : group_rrsets(result.authority))
    if (is_denial_type(set.type)) proof.push_back(std::move(set));
  for (const auto &set : proof) {
    auto outcome = verify_with(set, walk_.zone, walk_.keys, nullptr, nullptr);
    if (!outcome.is_secure()) {
      resolve_target(status_of(outcome));
      return;
    }
  }
  uint32_t ttl = std::min(min_ttl_of(proof), result.cache_ttl ? result.cache_ttl : UINT32_MAX);
  auto nsecs = records_of_type(result.authority, rrtype::NSEC);
  auto nsec3s = records_of_type(result.authority, rrtype::NSEC3);
  ValidationOutcome insecure_cut, no_cut;
  if (!nsecs.empty()) {
    insecure_cut = prove_insecure_delegation_nsec(next, nsecs, walk_.zone);
    no_cut = prove_nodata_nsec(next, rrtype::DS, nsecs, walk_.zone);
  } else if (!nsec3s.empty()) {
    insecure_cut = prove_insecure_delegation_nsec3(next, nsec3s, walk_.zone, budget_, nsec3_hash);
    no_cut = prove_nodata_nsec3(next, rrtype::DS, nsec3s, walk_.zone, budget_, nsec3_hash);
  } else {
    resolve_target(status_of(ValidationOutcome::bogus(
        ede::NSEC_MISSING, walk_.zone.to_text() + ": no NSEC or NSEC3 proves that " + next.to_text() + " has no DS")));
    return;
  }
  if (insecure_cut.security == Security::insecure) {
    // RFC 4035 5.2: a delegation proven to have no DS leads to an unsigned zone.
    env_.keys.store(next, status_of(insecure_cut), ttl);
    resolve_target(status_of(insecure_cut));
    return;
  }
  if (result.rcode == rcode::NOERROR && no_cut.is_secure()) {
    ZoneKeys not_cut;
    not_cut.status = ZoneKeys::Status::not_a_cut;
    env_.keys.store(next, not_cut, ttl);
    walk_.cursor = next;
    transition(ValidatorState::walk, "no zone cut at this name");
    return;
  }
  if (no_cut.security == Security::insecure) {  // NSEC3 opt-out or too many iterations
    resolve_target(status_of(no_cut));
    return;
  }
  ValidationOutcome failure = no_cut.is_bogus() ? no_cut : insecure_cut;
  if (!failure.is_bogus())
    failure = ValidationOutcome::bogus(ede::NSEC_MISSING, walk_.zone.to_text() + ": the denial of a DS for " +
                                                              next.to_text() + " does not hold");
  resolve_target(status_of(failure));
}

void Validator::handle_dnskey(const Resolution &result) {
  // RFC 4035 5.2: the child's DNSKEY set must match a validated DS and sign itself;
  // a trust anchor's zone is checked against the anchor (DS or DNSKEY form) instead.
  const Name zone = walk_.pending;
  const TrustAnchor *anchor = awaiting_anchor_keys_ ? closest_anchor(zone) : nullptr;
  bool for_anchor = awaiting_anchor_keys_;
  awaiting_anchor_keys_ = false;
  auto answer = group_rrsets(result.answer);
  auto keys = std::find_if(answer.begin(), answer.end(),
                           [&](const RRset &s) { return s.type == rrtype::DNSKEY && s.owner == zone; });
  ValidationOutcome outcome;
  uint32_t ttl = 0;
  int64_t now = env_.clock.now_seconds();
  if (keys == answer.end() || (for_anchor && !anchor)) {
    outcome = ValidationOutcome::bogus(ede::DNSKEY_MISSING, zone.to_text() + ": no DNSKEY set could be fetched");
  } else {
    ttl = keys->ttl;
    const auto &ds = for_anchor ? anchor->ds : walk_.ds;
    outcome = (for_anchor && ds.empty())
                  ? verify_dnskey_with_anchor_keys(*keys, keys->signatures, anchor->dnskey, zone, now, budget_, &ttl)
                  : verify_dnskey_with_ds(*keys, keys->signatures, ds, zone, now, budget_, &ttl);
  }
  if (!outcome.is_secure()) {
    env_.keys.store(zone, status_of(outcome), outcome.is_bogus() ? env_.config.bogus_ttl : ttl);
    resolve_target(status_of(outcome));
    return;
  }
  ZoneKeys secure;
  secure.status = ZoneKeys::Status::secure;
  secure.dnskeys = *keys;
  env_.keys.store(zone, secure, ttl);
  walk_.zone = zone;
  walk_.keys = *keys;
  walk_.cursor = zone;
  transition(ValidatorState::walk, for_anchor ? "trust anchor keys validated" : "zone keys validated");
}

ValidationOutcome Validator::prove_denial(const Name &zone, const RRset &keys) {
  (void)keys;  // the proof's records were verified with these keys already
  // The name the rcode speaks of: the end of the CNAME chain (RFC 6604 3).
  Name name = question_.name;
  for (int hops = 0; hops < 16; ++hops) {
    bool moved = false;
    for (const auto &rr : resolution_.answer)
      if (rr.type == rrtype::CNAME && rr.owner == name)
        if (auto target = rr.rdata_target()) {
          name = *target;
          moved = true;
          break;
        }
    if (!moved) break;
  }
  auto nsecs = records_of_type(resolution_.authority, rrtype::NSEC);
  auto nsec3s = records_of_type(resolution_.authority, rrtype::NSEC3);
  bool nxdomain = resolution_.rcode == rcode::NXDOMAIN;
  if (!nsecs.empty())
    return nxdomain ? prove_nxdomain_nsec(name, nsecs, zone) : prove_nodata_nsec(name, question_.qtype, nsecs, zone);
  if (!nsec3s.empty())
    return nxdomain ? prove_nxdomain_nsec3(name, nsec3s, zone, budget_, nsec3_hash)
                    : prove_nodata_nsec3(name, question_.qtype, nsec3s, zone, budget_, nsec3_hash);
  return ValidationOutcome::bogus(ede::NSEC_MISSING, zone.to_text() + ": no NSEC or NSEC3 proves the " +
                                                         (nxdomain ? "NXDOMAIN" : "NODATA") + " for " +
                                                         name.to_text());
}

void Validator::handle_verify() {
  ValidationOutcome overall = ValidationOutcome::secure();
  struct WildcardProof {
    Name owner, encloser, zone;
  };
  std::vector<WildcardProof> wildcard_proofs;
  std::optional<std::pair<Name, RRset>> denial_zone;  // zone and keys of a secure negative answer
  for (const auto *sets : {&answer_sets_, &authority_sets_}) {
    for (const auto &set : *sets) {
      const Target &target = targets_[target_for(signer_of(set).value_or(set.owner))];
      const ZoneKeys &status = *target.status;
      if (status.status != ZoneKeys::Status::secure) {
        if (status.status == ZoneKeys::Status::bogus) return finish(status.outcome);
        overall = weaker(overall, status.outcome);
        continue;
      }
      if (set.signatures.empty())
        return finish(ValidationOutcome::bogus(ede::RRSIGS_MISSING, set.owner.to_text() + " " + type_to_text(set.type) +
                                                                        ": no RRSIG in the secure zone " +
                                                                        target.zone.to_text()));
      if (target.zone != target.name)
        return finish(ValidationOutcome::bogus(ede::DNSSEC_BOGUS, set.owner.to_text() + " " + type_to_text(set.type) +
                                                                      ": signer " + target.name.to_text() +
                                                                      " is not a zone apex"));
      std::optional<Name> wildcard;
      auto outcome = verify_with(set, target.zone, status.dnskeys, nullptr, sets == &answer_sets_ ? &wildcard : nullptr);
      if (outcome.is_bogus()) return finish(outcome);
      overall = weaker(overall, outcome);
      if (wildcard) wildcard_proofs.push_back({set.owner, *wildcard, target.zone});
      if (set.type == rrtype::SOA) denial_zone = std::make_pair(target.zone, status.dnskeys);
    }
  }
  bool negative = resolution_.rcode == rcode::NXDOMAIN ||
                  std::none_of(answer_sets_.begin(), answer_sets_.end(),
                               [&](const RRset &s) { return s.type == question_.qtype; });
  if (negative && overall.is_secure()) {
    if (!denial_zone) {
      // A secure negative answer needs its SOA and proof; an unsigned one was caught above.
      for (const auto &t : targets_)
        if (t.status && t.status->status == ZoneKeys::Status::secure && question_.name.is_subdomain_of(t.zone))
          return finish(ValidationOutcome::bogus(ede::NSEC_MISSING, t.zone.to_text() + ": negative answer for " +
                                                                        question_.name.to_text() + " without a proof"));
    } else {
      auto proof = prove_denial(denial_zone->first, denial_zone->second);
      if (proof.is_bogus()) return finish(proof);
      overall = weaker(overall, proof);
      if (proof.is_secure() && env_.aggressive) {
        // RFC 8198: proven NSEC records may answer other names they cover.
        std::vector<ResourceRecord> nsecs, soa;
        for (const auto &rr : resolution_.authority) {
          uint16_t type = rr.type == rrtype::RRSIG ? rr.rrsig_type_covered() : rr.type;
          if (type == rrtype::NSEC) nsecs.push_back(rr);
          if (type == rrtype::SOA) soa.push_back(rr);
        }
        if (!nsecs.empty()) env_.aggressive->store(denial_zone->first, nsecs, soa);
      }
    }
  }
  auto nsecs = records_of_type(resolution_.authority, rrtype::NSEC);
  auto nsec3s = records_of_type(resolution_.authority, rrtype::NSEC3);
  for (const auto &w : wildcard_proofs) {
    // RFC 4035 5.3.4: a wildcard expansion is only valid if no closer name exists.
    ValidationOutcome proof =
        !nsecs.empty()    ? prove_wildcard_answer_nsec(w.owner, w.encloser, nsecs, w.zone)
        : !nsec3s.empty() ? prove_wildcard_answer_nsec3(w.owner, w.encloser, nsec3s, w.zone, budget_, nsec3_hash)
                          : ValidationOutcome::bogus(ede::NSEC_MISSING, w.zone.to_text() + ": wildcard answer for " +
                                                                            w.owner.to_text() + " without a proof");
    if (proof.is_bogus()) return finish(proof);
    overall = weaker(overall, proof);
  }
  finish(overall);
}

std::optional<ValidationOutcome> Validator::root_key_sentinel() const {
  // RFC 8509 3.2: for a secure answer to a name whose first label is
  // root-key-sentinel-is-ta-NNNNN (or -not-ta-NNNNN), answer SERVFAIL unless the
  // root trust anchor does (does not) hold a key with tag NNNNN.
  std::string label(question_.name.first_label());
  for (auto &c : label) c = dns_tolower(c);
  static constexpr std::string_view kIsTa = "root-key-sentinel-is-ta-", kNotTa = "root-key-sentinel-not-ta-";
  bool is_ta = label.starts_with(kIsTa), not_ta = label.starts_with(kNotTa);
  if (!is_ta && !not_ta) return std::nullopt;
  std::string digits = label.substr(is_ta ? kIsTa.size() : kNotTa.size());
  if (digits.size() != 5 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  unsigned tag = static_cast<unsigned>(std::stoul(digits));
  bool trusted = false;
  for (const auto &anchor : env_.anchors) {
    if (!anchor.zone.is_root()) continue;
    for (const auto &ds : anchor.ds)
      if (auto fields = parse_ds(ds.rdata); fields && fields->key_tag == tag) trusted = true;
    for (const auto &key : anchor.dnskey)
      if (key_tag(key.rdata) == tag) trusted = true;
  }
  if (is_ta == trusted) return std::nullopt;
  return ValidationOutcome::bogus(ede::OTHER, std::string("root key sentinel: key ") + digits +
                                                  (trusted ? " is" : " is not") + " a root trust anchor");
}

void Validator::finish(ValidationOutcome outcome) {
  if (outcome.is_secure())
    if (auto sentinel = root_key_sentinel()) {
      RSV_LOG(debug, "%s", sentinel->reason.c_str());
      result_ = Resolution::failure(sentinel->ede, sentinel->reason);
      transition(ValidatorState::done, "root key sentinel");
      return;
    }
  result_ = resolution_;
  switch (outcome.security) {
    case Security::secure:
      result_.security = Security::secure;
      if (validated_ttl_ != UINT32_MAX) result_.cache_ttl = std::min(result_.cache_ttl, validated_ttl_);
      break;
    case Security::insecure:
      result_.security = Security::insecure;
      // RFC 9276 3.2: say why an NSEC3-signed answer is treated as insecure.
      if (outcome.ede == ede::UNSUPPORTED_NSEC3_ITERATIONS)
        result_.error = ExtendedError{outcome.ede, outcome.reason};
      break;
    default: {
      if (budget_.exhausted() && outcome.reason.find(budget_.describe()) == std::string::npos)
        outcome.reason += " (" + budget_.describe() + ")";
      // One line per failure, with the work it cost (KeyTrap-style zones show here).
      RSV_LOG(info, "validation of %s %s failed: %s (EDE %u; %s)", question_.name.to_text().c_str(),
              type_to_text(question_.qtype).c_str(), outcome.reason.c_str(), static_cast<unsigned>(outcome.ede),
              budget_.describe().c_str());
      result_ = Resolution::failure(outcome.ede, outcome.reason);
      result_.security = Security::bogus;
      break;
    }
  }
  transition(ValidatorState::done, to_string(outcome.security));
}

}  // namespace rsv
