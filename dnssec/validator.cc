#include "dnssec/validator.h"

#include <algorithm>

#include "dnssec/crypto.h"
#include "dnssec/nsec.h"
#include "dnssec/nsec3.h"
#include "dnssec/rrsig.h"
#include "dnssec/verification_cache.h"
#include "resolver/base/log.h"

namespace rsv {

namespace {

// At most this many distinct signer names of one RRset are taken as claims of a
// deeper zone cut; a forger cannot make the validator chase more.
constexpr size_t kMaxSignerClaims = 2;

bool is_denial_set(uint16_t type) {
  return type == rrtype::SOA || type == rrtype::NSEC || type == rrtype::NSEC3;
}

std::vector<Name> signers_of(const RRset &set) {
  std::vector<Name> signers;
  for (const auto &sig : set.signatures)
    if (auto fields = parse_rrsig(sig); fields && fields->type_covered == set.type)
      if (std::find(signers.begin(), signers.end(), fields->signer) == signers.end())
        signers.push_back(fields->signer);
  return signers;
}

bool signed_by(const RRset &set, const Name &zone) {
  auto signers = signers_of(set);
  return std::find(signers.begin(), signers.end(), zone) != signers.end();
}

std::string describe(const RRset &set) {
  return set.owner.to_text() + " " + type_to_text(set.type);
}

// RFC 6672 3.2: a CNAME the server synthesized from a DNAME in the same answer, with
// exactly the target the substitution gives; it is unsigned by nature and proven by
// the DNAME's signature.
bool synthesized_from_dname(const RRset &cname, const std::vector<RRset> &dnames) {
  if (cname.type != rrtype::CNAME || !cname.signatures.empty() || cname.rdatas.size() != 1) return false;
  auto target = Name::from_wire(cname.rdatas[0]);
  if (!target) return false;
  for (const auto &dname : dnames) {
    if (dname.rdatas.size() != 1 || dname.owner == cname.owner || !cname.owner.is_subdomain_of(dname.owner))
      continue;
    auto dname_target = Name::from_wire(dname.rdatas[0]);
    if (dname_target && cname.owner.replace_suffix(dname.owner, *dname_target) == target) return true;
  }
  return false;
}

}  // namespace

const char *to_string(ValidatorState state) {
  switch (state) {
    case ValidatorState::start: return "start";
    case ValidatorState::answer: return "answer";
    case ValidatorState::denial: return "denial";
    case ValidatorState::wildcard: return "wildcard";
    case ValidatorState::done: return "done";
  }
  return "?";
}

Validator::Validator(ValidatorEnv &env, Question question, Resolution resolution, ValidationBudget &budget)
    : env_(env),
      question_(std::move(question)),
      resolution_(std::move(resolution)),
      budget_(budget),
      chain_(env, budget),
      anchor_changes_at_start_(env.negative_anchors ? env.negative_anchors->changes() : 0) {
  result_ = resolution_;
  chain_.add_delegations(resolution_.delegations);
}

void Validator::transition(ValidatorState next, const char *why) {
  RSV_LOG(trace, "validator %s %s: %s -> %s (%s)", question_.name.to_text().c_str(),
          type_to_text(question_.qtype).c_str(), to_string(state_), to_string(next), why);
  state_ = next;
}

void Validator::combine(const ValidationOutcome &part) {
  if (static_cast<int>(part.security) < static_cast<int>(overall_.security)) overall_ = part;
}

ValidatorAction Validator::next() {
  for (int guard = 0; guard < 10000; ++guard) {
    if (chain_.busy()) {
      if (auto question = chain_.next()) {
        if (chain_.questions_asked() > kMaxKeyQuestions) {
          finish(ValidationOutcome::bogus(
              ede::DNSSEC_BOGUS,
              "the answer needs more than " + std::to_string(kMaxKeyQuestions) + " DS/DNSKEY lookups"));
          return {};
        }
        return ValidatorAction{ValidatorAction::Kind::subquery, *question};
      }
      continue;
    }
    switch (state_) {
      case ValidatorState::start: plan(); break;
      case ValidatorState::answer: {
        bool waiting = false;
        for (auto &item : items_) {
          if (item.verdict) continue;
          if (judge(item) == Judgement::need_zone) {
            waiting = true;
            break;
          }
          if (item.verdict->is_bogus()) {
            finish(*item.verdict);
            return {};
          }
          combine(*item.verdict);
        }
        if (!waiting)
          transition(negative_ ? ValidatorState::denial : ValidatorState::wildcard, "every RRset judged");
        break;
      }
      case ValidatorState::denial:
        if (judge_denial() == Judgement::decided) {
          if (state_ != ValidatorState::done) finish(overall_);
          if (env_.trace) env_.trace->denial_judged(judging_zone_.value_or(Name::root()), final_outcome_);
        }
        break;
      case ValidatorState::wildcard:
        if (judge_wildcard() == Judgement::decided && state_ != ValidatorState::done) finish(overall_);
        break;
      case ValidatorState::done: return {};
    }
  }
  finish(ValidationOutcome::bogus(ede::DNSSEC_BOGUS, "validator made no progress"));
  return {};
}

void Validator::on_subquery_result(const Resolution &result) {
  budget_.begin_response();
  chain_.on_result(result);
}

void Validator::plan() {
  if (resolution_.rcode != rcode::NOERROR && resolution_.rcode != rcode::NXDOMAIN) {
    result_ = resolution_;
    transition(ValidatorState::done, "nothing to validate in a failure");
    return;
  }
  if (question_.qtype == rrtype::RRSIG) {
    // RRSIGs are not an RRset of their own to validate (RFC 4035 3.2.3 leaves them
    // to the client): the answer goes out as the zone sent it, without AD.
    result_ = resolution_;
    transition(ValidatorState::done, "RRSIG question: nothing to validate");
    return;
  }
  auto sets = group_rrsets(resolution_.answer);
  std::vector<RRset> dnames;
  for (const auto &set : sets)
    if (set.type == rrtype::DNAME) dnames.push_back(set);
  for (auto &set : sets) {
    if (set.type == rrtype::RRSIG || synthesized_from_dname(set, dnames)) continue;
    Item item;
    if (const AnswerSource *source = resolution_.source_of(set.owner, set.type))
      item.source = *source;
    else
      item.source =
          AnswerSource{set.owner, set.type, resolution_.zone, Trust::authoritative, Security::unchecked};
    item.parent_side = set.type == rrtype::DS && !set.owner.is_root();
    item.set = std::move(set);
    items_.push_back(std::move(item));
  }
  // RFC 6604 3: the rcode speaks of the last name of the CNAME chain.
  final_name_ = question_.name;
  if (question_.qtype != rrtype::CNAME) {
    for (int hops = 0; hops < 32; ++hops) {
      auto link = std::find_if(
          resolution_.answer.begin(), resolution_.answer.end(),
          [&](const ResourceRecord &rr) { return rr.type == rrtype::CNAME && rr.owner == final_name_; });
      if (link == resolution_.answer.end()) break;
      auto target = link->rdata_target();
      if (!target) break;
      final_name_ = *target;
    }
  }
  negative_ = resolution_.rcode == rcode::NXDOMAIN ||
              std::none_of(items_.begin(), items_.end(), [&](const Item &item) {
                return item.set.owner == final_name_ && item.set.type == question_.qtype;
              });
  transition(ValidatorState::answer, "answer planned");
}

const ZoneKeys *Validator::holding_zone(std::vector<Name> claims, const Name &top, const Name &floor,
                                        Name &zone) {
  // Claims of cuts deeper than the floor (signers, SOA owners, referrals on the
  // path) are settled first, each through its own DS; those that hold deepen it.
  for (const Name &cut : chain_.claimed_cuts(top, floor)) claims.push_back(cut);
  for (const Name &claim : claims) {
    if (claim.label_count() <= floor.label_count() || !top.is_subdomain_of(claim)) continue;
    if (!chain_.status(claim)) {
      chain_.establish(claim);
      return nullptr;
    }
  }
  zone = chain_.deepest_cut(top, floor);
  const ZoneKeys *keys = chain_.status(zone);
  if (!keys) chain_.establish(zone);
  return keys;
}

Validator::Judgement Validator::judge(Item &item) {
  const RRset &set = item.set;
  switch (item.source.security) {
    case Security::secure:
    case Security::insecure:
      // RFC 4035 4.7: validated earlier and cached with its status; not verified again.
      item.verdict = ValidationOutcome{item.source.security, ede::OTHER, {}};
      return Judgement::decided;
    case Security::bogus:
      item.verdict =
          ValidationOutcome::bogus(ede::DNSSEC_BOGUS, describe(set) + " failed validation earlier (cached)");
      judging_zone_ = item.source.zone;
      return Judgement::decided;
    default: break;
  }
  // Which zone holds the RRset is the resolver's knowledge: the iterator's delegation
  // point, deepened only by cuts proven through their parent's DS.
  const Name top = item.parent_side ? set.owner.parent() : set.owner;
  const Name floor = top.is_subdomain_of(item.source.zone) ? item.source.zone : Name::root();
  std::vector<Name> claims;
  for (const Name &signer : signers_of(set))
    if (claims.size() < kMaxSignerClaims && signer.label_count() > floor.label_count() &&
        top.is_subdomain_of(signer))
      claims.push_back(signer);
  Name zone;
  const ZoneKeys *keys = holding_zone(std::move(claims), top, floor, zone);
  if (!keys) return Judgement::need_zone;
  item.zone = zone;
  judging_zone_ = zone;
  switch (keys->status) {
    case ZoneKeys::Status::insecure: item.verdict = keys->outcome; return decided(item);
    case ZoneKeys::Status::bogus: item.verdict = keys->outcome; return decided(item);
    case ZoneKeys::Status::not_a_cut:
      item.verdict = ValidationOutcome::bogus(ede::DNSSEC_BOGUS, zone.to_text() + " is not a zone");
      return decided(item);
    case ZoneKeys::Status::secure: break;
  }
  uint32_t ttl = 0;
  std::optional<Name> wildcard;
  const int64_t now = env_.clock.now_seconds();
  ValidationOutcome outcome;
  if (set.type == rrtype::DNSKEY && set.owner == zone) {
    // RFC 4035 5.2: the zone's DNSKEY RRset is proven the way the chain of trust proved
    // it, by a key the DS (or the anchor) names; with the zone's keys, a set signed by
    // the ZSK alone, keys of a holder of the ZSK added, would pass and be cached secure.
    outcome = keys->proven_by_anchor_keys
                  ? verify_dnskey_with_anchor_keys(set, set.signatures, keys->dnskey_proof, zone, now,
                                                   budget_, &ttl)
                  : verify_dnskey_with_ds(set, set.signatures, keys->dnskey_proof, zone, now, budget_, &ttl);
  } else {
    outcome = verify_rrset(set, set.signatures, keys->dnskeys.records(), zone, now, budget_, &ttl, &wildcard);
  }
  if (outcome.is_secure()) {
    item.validated_ttl = ttl;
    item.wildcard = wildcard;
    validated_ttl_ = std::min(validated_ttl_, ttl);
  } else if (set.signatures.empty() && top != zone && !probed_.contains(top)) {
    // Unsigned data below the apex of a secure zone: either a forgery or the data of
    // an unsigned child the same server serves. Ask the parent side once for the DS
    // of the owner; the answer (and the referrals met on the way) tells which.
    probed_.insert(top);
    chain_.establish(top);
    return Judgement::need_zone;
  }
  item.verdict = std::move(outcome);
  return decided(item);
}

Validator::Judgement Validator::decided(const Item &item) const {
  if (env_.trace) env_.trace->rrset_judged(item.set, item.zone, *item.verdict);
  return Judgement::decided;
}

Validator::Judgement Validator::judge_denial() {
  const bool nxdomain = resolution_.rcode == rcode::NXDOMAIN;
  // The DS of a name lives on the parent side of a cut at that name (RFC 4035 3.1.4.1).
  const Name top =
      question_.qtype == rrtype::DS && !final_name_.is_root() ? final_name_.parent() : final_name_;
  const Name floor = top.is_subdomain_of(resolution_.zone) ? resolution_.zone : Name::root();
  std::vector<RRset> sets;
  for (auto &set : group_rrsets(resolution_.authority))
    if (is_denial_set(set.type)) sets.push_back(std::move(set));
  std::vector<Name> claims;
  for (const auto &set : sets) {
    if (set.type == rrtype::SOA) claims.push_back(set.owner);
    for (const Name &signer : signers_of(set))
      if (claims.size() < kMaxSignerClaims + 1) claims.push_back(signer);
  }
  Name zone;
  const ZoneKeys *keys = holding_zone(std::move(claims), top, floor, zone);
  if (!keys) return Judgement::need_zone;
  judging_zone_ = zone;
  switch (keys->status) {
    case ZoneKeys::Status::insecure: combine(keys->outcome); return Judgement::decided;
    case ZoneKeys::Status::bogus: finish(keys->outcome); return Judgement::decided;
    case ZoneKeys::Status::not_a_cut:
      finish(ValidationOutcome::bogus(ede::DNSSEC_BOGUS, zone.to_text() + " is not a zone"));
      return Judgement::decided;
    case ZoneKeys::Status::secure: break;
  }
  const bool any_signed =
      std::any_of(sets.begin(), sets.end(), [&](const RRset &s) { return signed_by(s, zone); });
  if (!any_signed && top != zone && !probed_.contains(top)) {
    probed_.insert(top);  // as for unsigned data: is there an unsigned cut in between?
    chain_.establish(top);
    return Judgement::need_zone;
  }
  const std::string what = std::string(nxdomain ? "NXDOMAIN" : "NODATA") + " for " + final_name_.to_text() +
                           "/" + type_to_text(question_.qtype);
  auto fail = [&](uint16_t code, const std::string &why) {
    finish(ValidationOutcome::bogus(code, zone.to_text() + ": " + what + ": " + why));
    return Judgement::decided;
  };
  // RFC 4035 5.4 / RFC 2308 3: the zone that holds the name must answer with its own
  // SOA and its own proof. Records of another zone are a forgery, not a proof.
  if (std::none_of(sets.begin(), sets.end(), [&](const RRset &s) { return s.type == rrtype::SOA; }))
    return fail(ede::NSEC_MISSING, "no SOA of the zone");
  const int64_t now = env_.clock.now_seconds();
  std::vector<ResourceRecord> nsecs, nsec3s;
  for (auto &set : sets) {
    if (set.type == rrtype::SOA && set.owner != zone)
      return fail(ede::NSEC_MISSING, "the SOA is of " + set.owner.to_text());
    if (set.type == rrtype::NSEC3 && set.owner.parent() != zone)
      return fail(ede::NSEC_MISSING, "NSEC3 " + set.owner.to_text() + " is not of the zone");
    if (set.type == rrtype::NSEC) {
      // Not above the apex, and not inside a child zone (RFC 4035 5.4 uses the zone's own chain).
      const Name holder = chain_.deepest_cut(set.owner, zone);
      if (!set.owner.is_subdomain_of(zone) || (holder != zone && holder != set.owner))
        return fail(ede::NSEC_MISSING, "NSEC " + set.owner.to_text() + " is not of the zone");
    }
    uint32_t ttl = 0;
    auto outcome = verify_rrset(set, set.signatures, keys->dnskeys.records(), zone, now, budget_, &ttl);
    // An NSEC/NSEC3 without a signature of this zone is another zone's record: the
    // proof is missing (EDE 12). One that fails its check is a forgery (EDE 6-8).
    if (!outcome.is_secure())
      return fail(
          set.type != rrtype::SOA && outcome.ede == ede::RRSIGS_MISSING ? ede::NSEC_MISSING : outcome.ede,
          outcome.reason);
    set.ttl = std::min(set.ttl, ttl);
    for (auto &rr : set.records()) {
      if (rr.type == rrtype::NSEC) nsecs.push_back(rr);
      if (rr.type == rrtype::NSEC3) nsec3s.push_back(rr);
    }
  }
  if (nsecs.empty() && nsec3s.empty()) return fail(ede::NSEC_MISSING, "no NSEC or NSEC3 record proves it");
  ValidationOutcome proof =
      !nsecs.empty()
          ? (nxdomain ? prove_nxdomain_nsec(final_name_, nsecs, zone)
                      : prove_nodata_nsec(final_name_, question_.qtype, nsecs, zone))
          : (nxdomain ? prove_nxdomain_nsec3(final_name_, nsec3s, zone, budget_, nsec3_hash_cached)
                      : prove_nodata_nsec3(final_name_, question_.qtype, nsec3s, zone, budget_, nsec3_hash_cached));
  if (proof.is_bogus()) {
    finish(proof);
    return Judgement::decided;
  }
  combine(proof);
  if (proof.is_secure()) {
    proven_denial_ = std::move(sets);
    denial_zone_ = zone;
  }
  return Judgement::decided;
}

Validator::Judgement Validator::judge_wildcard() {
  const int64_t now = env_.clock.now_seconds();
  auto authority = group_rrsets(resolution_.authority);
  for (const auto &item : items_) {
    if (!item.wildcard || !item.verdict || !item.verdict->is_secure()) continue;
    const ZoneKeys *keys = chain_.status(item.zone);
    if (!keys || keys->status != ZoneKeys::Status::secure) continue;  // judged secure in that zone just now
    judging_zone_ = item.zone;
    // RFC 4035 5.3.4: the zone that signed the expansion proves no closer name exists,
    // with its own NSEC/NSEC3 records.
    std::vector<ResourceRecord> nsecs, nsec3s;
    for (const auto &set : authority) {
      if ((set.type != rrtype::NSEC && set.type != rrtype::NSEC3) || !signed_by(set, item.zone)) continue;
      auto outcome = verify_rrset(set, set.signatures, keys->dnskeys.records(), item.zone, now, budget_);
      if (!outcome.is_secure()) {
        finish(outcome);
        return Judgement::decided;
      }
      for (auto &rr : set.records()) (set.type == rrtype::NSEC ? nsecs : nsec3s).push_back(rr);
    }
    const Name &owner = item.set.owner;
    ValidationOutcome proof =
        !nsecs.empty() ? prove_wildcard_answer_nsec(owner, *item.wildcard, nsecs, item.zone)
        : !nsec3s.empty()
            ? prove_wildcard_answer_nsec3(owner, *item.wildcard, nsec3s, item.zone, budget_, nsec3_hash_cached)
            : ValidationOutcome::bogus(ede::NSEC_MISSING, item.zone.to_text() + ": wildcard answer for " +
                                                              owner.to_text() + " without a proof");
    if (proof.is_bogus()) {
      finish(proof);
      return Judgement::decided;
    }
    combine(proof);
  }
  return Judgement::decided;
}

std::optional<ValidationOutcome> Validator::root_key_sentinel() const {
  // RFC 8509 3.2: for a secure answer to an A or AAAA question for a name whose first
  // label is root-key-sentinel-is-ta-NNNNN (or -not-ta-NNNNN), answer SERVFAIL unless
  // the root trust anchor does (does not) hold a key with tag NNNNN.
  if (question_.qtype != rrtype::A && question_.qtype != rrtype::AAAA) return std::nullopt;
  std::string label(question_.name.first_label());
  for (auto &c : label) c = dns_tolower(c);
  static constexpr std::string_view kIsTa = "root-key-sentinel-is-ta-", kNotTa = "root-key-sentinel-not-ta-";
  bool is_ta = label.starts_with(kIsTa), not_ta = label.starts_with(kNotTa);
  if (!is_ta && !not_ta) return std::nullopt;
  std::string digits = label.substr(is_ta ? kIsTa.size() : kNotTa.size());
  if (digits.size() != 5 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
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

bool Validator::anchors_changed() const {
  return env_.negative_anchors && env_.negative_anchors->changes() != anchor_changes_at_start_;
}

void Validator::write_back(const ValidationOutcome &outcome) {
  // RFC 7646: answers judged while a negative trust anchor was in force are flushed
  // when it goes (and answers judged without it when it comes). One that changed
  // while this validation ran may already have flushed: nothing judged here is kept.
  // The check after storing catches a change (and its flush) that came in between:
  // the daemon counts a change before it flushes.
  if (anchors_changed()) return;
  if (env_.rrsets) {
    std::vector<const RRset *> stored;
    for (const auto &item : items_) {
      if (!item.verdict || item.source.security != Security::unchecked) continue;
      const Security security = item.verdict->security;
      if (security != Security::secure && security != Security::insecure) continue;
      RRset set = item.set;
      if (security == Security::secure) set.ttl = std::min(set.ttl, item.validated_ttl);
      if (env_.rrsets->store(set, item.source.trust, security)) stored.push_back(&item.set);
    }
    if (outcome.is_secure())
      for (const auto &set : proven_denial_)
        if (env_.rrsets->store(set, Trust::authority, Security::secure)) stored.push_back(&set);
    if (anchors_changed()) {
      for (const RRset *set : stored) env_.rrsets->erase(set->owner, set->type, set->rclass);
      return;
    }
  }
  if (outcome.is_secure() && env_.aggressive) {
    // RFC 8198 4: only records that proved a denial, under the zone that signed them.
    std::vector<ResourceRecord> proof, soa;
    for (const auto &set : proven_denial_) {
      auto &into = set.type == rrtype::SOA ? soa : proof;
      for (auto &rr : set.records()) into.push_back(std::move(rr));
      into.insert(into.end(), set.signatures.begin(), set.signatures.end());
    }
    if (!proof.empty()) env_.aggressive->store(denial_zone_, proof, soa);
  }
}

void Validator::commit_failures() {
  if (anchors_changed()) return;  // as in write_back
  chain_.commit_failures();
  if (!env_.rrsets) return;
  for (const auto &item : items_) {
    if (!item.verdict || !item.verdict->is_bogus() || item.source.security != Security::unchecked) continue;
    // RFC 4035 4.7: bogus data is kept only briefly, to spare the authorities.
    RRset set = item.set;
    set.ttl = std::min(set.ttl, env_.config.bogus_ttl);
    env_.rrsets->store(set, item.source.trust, Security::bogus);
  }
}

void Validator::cap_ttls() {
  // RFC 4035 5.3.3: a validated RRset is served no longer than its RRSIG's original
  // TTL and the signature's expiry; a server cannot stretch it by raising the TTL.
  auto cap = [](std::vector<ResourceRecord> &section, const Name &owner, uint16_t type, uint32_t ttl) {
    for (auto &rr : section)
      if (rr.owner == owner &&
          (rr.type == type || (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == type)))
        rr.ttl = std::min(rr.ttl, ttl);
  };
  for (const auto &item : items_)
    if (item.verdict && item.verdict->is_secure() && item.source.security == Security::unchecked)
      cap(result_.answer, item.set.owner, item.set.type, item.validated_ttl);
  for (const auto &set : proven_denial_) cap(result_.authority, set.owner, set.type, set.ttl);
}

void Validator::finish(ValidationOutcome outcome) {
  final_outcome_ = outcome;
  if (outcome.is_secure())
    if (auto sentinel = root_key_sentinel()) {
      RSV_LOG(debug, "%s", sentinel->reason.c_str());
      result_ = Resolution::failure(sentinel->ede, sentinel->reason);
      transition(ValidatorState::done, "root key sentinel");
      return;
    }
  write_back(outcome);
  result_ = resolution_;
  cap_ttls();
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
      // Another server of the zone may have the real data (unless it was the work that
      // ran out, which asking again would only repeat).
      if (!budget_.exhausted() && judging_zone_) blamed_zone_ = judging_zone_;
      // One line per failure, with the work it cost (KeyTrap-style zones show here).
      RSV_LOG(info, "validation of %s %s failed: %s (EDE %u; %s)", question_.name.to_text().c_str(),
              type_to_text(question_.qtype).c_str(), outcome.reason.c_str(),
              static_cast<unsigned>(outcome.ede), budget_.describe().c_str());
      result_ = Resolution::failure(outcome.ede, outcome.reason);
      result_.security = Security::bogus;
      break;
    }
  }
  if (env_.negative_anchors) {
    result_.negative_anchor_changes = anchor_changes_at_start_;
    if (anchors_changed()) result_.cacheable = false;
  }
  transition(ValidatorState::done, to_string(outcome.security));
}

}  // namespace rsv
