#include "dnssec/chain_of_trust.h"

#include <algorithm>

#include "dnssec/crypto.h"
#include "dnssec/nsec.h"
#include "dnssec/nsec3.h"
#include "dnssec/rrsig.h"
#include "dnssec/verification_cache.h"
#include "resolver/base/log.h"

namespace rsv {

namespace {

bool is_proper_ancestor(const Name &ancestor, const Name &name) {
  return ancestor != name && name.is_subdomain_of(ancestor);
}

const Name &deeper_of(const Name &a, const Name &b) {
  return a.label_count() >= b.label_count() ? a : b;
}

ZoneKeys status_from(ValidationOutcome outcome) {
  ZoneKeys keys;
  keys.status = outcome.security == Security::insecure ? ZoneKeys::Status::insecure : ZoneKeys::Status::bogus;
  keys.outcome = std::move(outcome);
  return keys;
}

ZoneKeys not_a_cut(std::string why) {
  ZoneKeys keys;
  keys.status = ZoneKeys::Status::not_a_cut;
  keys.outcome = ValidationOutcome{Security::secure, ede::OTHER, std::move(why)};
  return keys;
}

std::vector<ResourceRecord> of_type(const std::vector<ResourceRecord> &records, uint16_t type) {
  std::vector<ResourceRecord> out;
  for (const auto &rr : records)
    if (rr.type == type) out.push_back(rr);
  return out;
}

// Records of a section that can deny a DS: the SOA and NSEC/NSEC3 records with RRSIGs.
std::vector<ResourceRecord> denial_records(const std::vector<ResourceRecord> &section) {
  std::vector<ResourceRecord> out;
  for (const auto &rr : section) {
    uint16_t type = rr.type == rrtype::RRSIG ? rr.rrsig_type_covered() : rr.type;
    if (type == rrtype::SOA || type == rrtype::NSEC || type == rrtype::NSEC3) out.push_back(rr);
  }
  return out;
}

// Records of `owner`/`type` (and their RRSIGs) in a section.
std::vector<ResourceRecord> records_at(const std::vector<ResourceRecord> &section, const Name &owner,
                                       uint16_t type) {
  std::vector<ResourceRecord> out;
  for (const auto &rr : section)
    if (rr.owner == owner &&
        (rr.type == type || (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == type)))
      out.push_back(rr);
  return out;
}

// Zones between `floor` (exclusive) and `child` (exclusive) that the records claim to
// come from: RRSIG signers and SOA owners. Claims, not facts: each is established
// through its own DS before it counts.
std::vector<Name> claims_in(const std::vector<ResourceRecord> &records, const Name &floor,
                            const Name &child) {
  std::vector<Name> claims;
  auto consider = [&](const Name &zone) {
    if (zone.label_count() <= floor.label_count() || !is_proper_ancestor(zone, child) ||
        !zone.is_subdomain_of(floor))
      return;
    if (std::find(claims.begin(), claims.end(), zone) == claims.end()) claims.push_back(zone);
  };
  for (const auto &rr : records) {
    if (rr.type == rrtype::SOA) consider(rr.owner);
    if (rr.type == rrtype::RRSIG)
      if (auto fields = parse_rrsig(rr)) consider(fields->signer);
  }
  return claims;
}

uint32_t min_ttl_of(const std::vector<RRset> &sets) {
  uint32_t ttl = UINT32_MAX;
  for (const auto &s : sets) ttl = std::min(ttl, s.ttl);
  return ttl == UINT32_MAX ? 0 : ttl;
}

}  // namespace

const char *to_string(ZoneKeys::Status status) {
  switch (status) {
    case ZoneKeys::Status::secure: return "secure";
    case ZoneKeys::Status::insecure: return "insecure";
    case ZoneKeys::Status::bogus: return "bogus";
    case ZoneKeys::Status::not_a_cut: return "not a zone cut";
  }
  return "?";
}

ChainOfTrust::ChainOfTrust(ValidatorEnv &env, ValidationBudget &budget) : env_(env), budget_(budget) {}

void ChainOfTrust::add_delegations(const std::vector<Delegation> &delegations) {
  for (const auto &d : delegations) {
    // A referral sideways or upward claims no cut (the iterator treats it as lame).
    if (!is_proper_ancestor(d.parent, d.child) || records_.contains(d.child)) continue;
    Record record;
    record.delegation = d;
    std::vector<ResourceRecord> all = d.ds;
    all.insert(all.end(), d.denial.begin(), d.denial.end());
    record.claims = claims_in(all, d.parent, d.child);
    records_.emplace(d.child, std::move(record));
  }
}

const TrustAnchor *ChainOfTrust::closest_anchor(const Name &name) const {
  const TrustAnchor *best = nullptr;
  for (const auto &anchor : env_.anchors)
    if (name.is_subdomain_of(anchor.zone) && (!best || anchor.zone.label_count() > best->zone.label_count()))
      best = &anchor;
  return best;
}

bool ChainOfTrust::under_negative_anchor(const Name &name) const {
  if (env_.negative_anchors) return env_.negative_anchors->covers(name, env_.clock.now_seconds());
  return std::any_of(env_.config.negative_trust_anchors.begin(), env_.config.negative_trust_anchors.end(),
                     [&](const Name &nta) { return name.is_subdomain_of(nta); });
}

const ZoneKeys *ChainOfTrust::status(const Name &zone) {
  if (auto it = known_.find(zone); it != known_.end()) return &it->second;
  if (auto cached = env_.keys.lookup(zone)) {
    const ZoneKeys &keys = known_.emplace(zone, std::move(*cached)).first->second;
    if (env_.trace) {
      ZoneEvidence from_cache;
      from_cache.dnskeys = keys.dnskeys;
      from_cache.from_cache = true;
      env_.trace->zone_settled(zone, keys, from_cache);
    }
    return &keys;
  }
  return nullptr;
}

Name ChainOfTrust::deepest_cut(const Name &name, const Name &floor) {
  const Name &bottom = name.is_subdomain_of(floor) ? floor : Name::root();
  for (Name cut = name;; cut = cut.parent()) {
    if (cut == bottom) return bottom;
    const ZoneKeys *known = status(cut);
    if (known && known->status != ZoneKeys::Status::not_a_cut) return cut;
    if (std::any_of(env_.anchors.begin(), env_.anchors.end(),
                    [&](const TrustAnchor &a) { return a.zone == cut; }))
      return cut;
    if (cut.is_root()) return cut;
  }
}

std::vector<Name> ChainOfTrust::claimed_cuts(const Name &name, const Name &floor) const {
  std::vector<Name> out;
  for (const auto &[child, record] : records_) {
    (void)record;
    if (name.is_subdomain_of(child) && is_proper_ancestor(floor, child)) out.push_back(child);
  }
  // Shallowest first: establishing a cut establishes the ones above it on the way.
  std::sort(out.begin(), out.end(),
            [](const Name &a, const Name &b) { return a.label_count() < b.label_count(); });
  return out;
}

void ChainOfTrust::establish(const Name &zone) {
  if (status(zone)) return;
  if (std::any_of(stack_.begin(), stack_.end(), [&](const Task &t) { return t.zone == zone; })) return;
  stack_.push_back(Task{zone, {}, false, false});
}

ChainOfTrust::Record *ChainOfTrust::record_for(const Name &child) {
  auto it = records_.find(child);
  return it == records_.end() ? nullptr : &it->second;
}

std::optional<std::vector<ResourceRecord>> ChainOfTrust::cached_secure_ds(const Name &zone) const {
  if (!env_.rrsets) return std::nullopt;
  auto cached = env_.rrsets->lookup(zone, rrtype::DS);
  if (!cached || cached->security != Security::secure) return std::nullopt;
  return cached->rrset.records();
}

void ChainOfTrust::settle(const Name &zone, ZoneKeys status, uint32_t ttl) {
  RSV_LOG(trace, "chain of trust: %s is %s%s%s", zone.to_text().c_str(), to_string(status.status),
          status.outcome.reason.empty() ? "" : ": ", status.outcome.reason.c_str());
  if (ttl > 0 && status.status == ZoneKeys::Status::bogus)
    failures_.emplace_back(zone, std::make_pair(status, ttl));
  else if (ttl > 0)
    env_.keys.store(zone, status, ttl);
  if (env_.trace) env_.trace->zone_settled(zone, status, evidence_[zone]);
  known_[zone] = std::move(status);
}

void ChainOfTrust::commit_failures() {
  for (auto &[zone, failure] : failures_) env_.keys.store(zone, failure.first, failure.second);
  failures_.clear();
}

std::optional<Question> ChainOfTrust::next() {
  while (!stack_.empty()) {
    Task &task = stack_.back();
    if (status(task.zone)) {
      stack_.pop_back();
      continue;
    }
    Progress progress = advance(task);
    switch (progress.step) {
      case Step::settled: break;
      case Step::ask:
        waiting_ = true;
        ++questions_asked_;
        return progress.question;
      case Step::need:
        // Always a proper ancestor of the task's zone, so the stack cannot cycle.
        stack_.push_back(Task{progress.zone, {}, false, false});
        break;
    }
  }
  return std::nullopt;
}

void ChainOfTrust::on_result(const Resolution &result) {
  if (!waiting_ || stack_.empty()) return;
  waiting_ = false;
  Task &task = stack_.back();
  if (task.dnskey_asked)
    on_dnskey(task, result);
  else
    on_ds(task, result);
}

ChainOfTrust::Progress ChainOfTrust::ask(Task &task, uint16_t type) {
  (type == rrtype::DS ? task.ds_asked : task.dnskey_asked) = true;
  return Progress{Step::ask, Question{task.zone, type, rrclass::IN}, {}};
}

ChainOfTrust::Progress ChainOfTrust::advance(Task &task) {
  const Name zone = task.zone;
  if (under_negative_anchor(zone)) {
    settle(zone, status_from(ValidationOutcome::insecure(ede::OTHER, "negative trust anchor")), 0);
    return {Step::settled, {}, {}};
  }
  const TrustAnchor *anchor = closest_anchor(zone);
  if (!anchor) {
    // RFC 4035 4.3: with no trust anchor above the name there is nothing to validate against.
    settle(zone, status_from(ValidationOutcome::insecure(ede::OTHER, "no trust anchor")), 0);
    return {Step::settled, {}, {}};
  }
  if (anchor->zone == zone) return from_anchor(task, *anchor);
  // A cut known above the zone that is insecure or bogus decides for everything below.
  Name above = deepest_cut(zone.parent(), anchor->zone);
  if (const ZoneKeys *known = status(above)) {
    if (known->status == ZoneKeys::Status::insecure || known->status == ZoneKeys::Status::bogus) {
      ZoneKeys inherited = *known;
      inherited.dnskeys = RRset{};
      settle(zone, std::move(inherited), 0);
      return {Step::settled, {}, {}};
    }
  }
  if (!task.validated_ds.empty()) {
    if (!task.dnskey_asked) return ask(task, rrtype::DNSKEY);
    settle(zone,
           status_from(ValidationOutcome::bogus(ede::DNSKEY_MISSING, zone.to_text() + ": no DNSKEY set")),
           env_.config.bogus_ttl);
    return {Step::settled, {}, {}};
  }
  if (Record *record = record_for(zone)) {
    if (record->failure) {
      settle(zone, status_from(ValidationOutcome::bogus(ede::DNSSEC_BOGUS, *record->failure)), 0);
      return {Step::settled, {}, {}};
    }
    return from_record(task, *record, anchor->zone);
  }
  if (auto ds = cached_secure_ds(zone)) {
    // RFC 4035 4.7: validated data in the cache is reused as it is.
    if (ZoneEvidence *e = evidence(zone)) e->ds = *ds;
    task.validated_ds = std::move(*ds);
    return ask(task, rrtype::DNSKEY);
  }
  if (!task.ds_asked) return ask(task, rrtype::DS);
  settle(zone,
         status_from(ValidationOutcome::bogus(
             ede::DNSSEC_BOGUS, "no DS RRset of " + zone.to_text() + " and no proof that it has none")),
         0);
  return {Step::settled, {}, {}};
}

ChainOfTrust::Progress ChainOfTrust::from_anchor(Task &task, const TrustAnchor &anchor) {
  (void)anchor;
  if (!task.dnskey_asked) return ask(task, rrtype::DNSKEY);
  settle(task.zone,
         status_from(ValidationOutcome::bogus(ede::DNSKEY_MISSING,
                                              task.zone.to_text() + ": no DNSKEY set could be fetched")),
         env_.config.bogus_ttl);
  return {Step::settled, {}, {}};
}

ChainOfTrust::Progress ChainOfTrust::from_record(Task &task, Record &record, const Name &anchor_zone) {
  const Name &zone = task.zone;
  const Name floor = deeper_of(record.delegation.parent, anchor_zone);
  // A deeper zone the records claim to come from is established first (its own DS
  // at its own parent); if it does not hold, it is not a cut and changes nothing.
  for (const Name &claim : record.claims)
    if (claim.label_count() > floor.label_count() && !status(claim)) return {Step::need, {}, claim};
  const Name parent = deepest_cut(zone.parent(), floor);
  const ZoneKeys *parent_keys = status(parent);
  if (!parent_keys) return {Step::need, {}, parent};
  if (parent_keys->status != ZoneKeys::Status::secure) {
    ZoneKeys inherited = *parent_keys;
    inherited.dnskeys = RRset{};
    settle(zone, std::move(inherited), 0);
    return {Step::settled, {}, {}};
  }
  const int64_t now = env_.clock.now_seconds();
  if (ZoneEvidence *e = evidence(zone)) {
    e->ds = record.delegation.ds;
    e->denial = record.delegation.denial;
  }
  if (!record.delegation.ds.empty()) {
    auto sets = group_rrsets(record.delegation.ds);
    auto ds = std::find_if(sets.begin(), sets.end(),
                           [&](const RRset &s) { return s.type == rrtype::DS && s.owner == zone; });
    if (ds == sets.end()) {
      settle(zone,
             status_from(
                 ValidationOutcome::bogus(ede::DNSSEC_BOGUS, "malformed DS RRset for " + zone.to_text())),
             0);
      return {Step::settled, {}, {}};
    }
    uint32_t ttl = 0;
    // RFC 4035 5.2: the DS RRset is signed by the parent zone.
    auto outcome =
        verify_rrset(*ds, ds->signatures, parent_keys->dnskeys.records(), parent, now, budget_, &ttl);
    if (!outcome.is_secure()) {
      outcome.reason = "DS of " + zone.to_text() + ": " + outcome.reason;
      // Kept for this validation only: a spoofed referral must not fail a subtree for
      // bogus-ttl (the answers themselves are remembered as bogus per question).
      settle(zone, status_from(outcome), 0);
      return {Step::settled, {}, {}};
    }
    if (env_.rrsets) {
      RRset stored = *ds;
      stored.ttl = std::min(stored.ttl, ttl);
      env_.rrsets->store(stored, record.from_ds_query ? Trust::authoritative : Trust::authority,
                         Security::secure);
    }
    task.validated_ds = ds->records();
    return ask(task, rrtype::DNSKEY);
  }
  if (!record.delegation.denial.empty() || record.nxdomain)
    return from_denial(task, record, parent, *parent_keys);
  // A referral without DS and without proof (a minimal response): ask the parent.
  if (!task.ds_asked) return ask(task, rrtype::DS);
  settle(zone,
         status_from(ValidationOutcome::bogus(
             ede::NSEC_MISSING, parent.to_text() + " sent neither a DS RRset for " + zone.to_text() +
                                    " nor a proof that it has none")),
         0);
  return {Step::settled, {}, {}};
}

ChainOfTrust::Progress ChainOfTrust::from_denial(Task &task, const Record &record, const Name &parent,
                                                 const ZoneKeys &parent_keys) {
  const Name &zone = task.zone;
  const int64_t now = env_.clock.now_seconds();
  // A denial that does not hold is not cached as a bogus zone: the name may be no
  // zone at all (a probe, a signer's claim), and its subtree must not fail with it.
  auto bogus = [&](ValidationOutcome outcome) {
    settle(zone, status_from(std::move(outcome)), 0);
    return Progress{Step::settled, {}, {}};
  };
  // Every record of the proof must be the parent's own: signed by it, verified with its
  // keys (RFC 4035 5.4). A child's NSEC (signed by the child) proves nothing here.
  std::vector<RRset> verified;
  bool soa_seen = false;
  for (auto &set : group_rrsets(record.delegation.denial)) {
    if (set.type != rrtype::SOA && set.type != rrtype::NSEC && set.type != rrtype::NSEC3) continue;
    if (set.type == rrtype::SOA && set.owner != parent)
      return bogus(ValidationOutcome::bogus(
          ede::NSEC_MISSING, "the denial of the DS of " + zone.to_text() + " carries the SOA of " +
                                 set.owner.to_text() + ", not of " + parent.to_text()));
    uint32_t ttl = 0;
    auto outcome =
        verify_rrset(set, set.signatures, parent_keys.dnskeys.records(), parent, now, budget_, &ttl);
    if (!outcome.is_secure()) {
      // Not signed by the parent: another zone's record, so no proof (EDE 12).
      if (set.type != rrtype::SOA && outcome.ede == ede::RRSIGS_MISSING) outcome.ede = ede::NSEC_MISSING;
      outcome.reason = "denial of the DS of " + zone.to_text() + ": " + outcome.reason;
      return bogus(std::move(outcome));
    }
    set.ttl = std::min(set.ttl, ttl);
    soa_seen = soa_seen || set.type == rrtype::SOA;
    verified.push_back(std::move(set));
  }
  // RFC 2308 2.2 / RFC 4035 3.1.3: a negative answer carries the zone's SOA; a referral
  // (no SOA by design) is the exception.
  if (record.from_ds_query && !soa_seen)
    return bogus(ValidationOutcome::bogus(ede::NSEC_MISSING, "the denial of the DS of " + zone.to_text() +
                                                                 " has no SOA of " + parent.to_text()));
  std::vector<ResourceRecord> nsecs, nsec3s;
  for (const auto &set : verified) {
    if (set.type == rrtype::SOA) continue;
    for (auto &rr : set.records()) (set.type == rrtype::NSEC ? nsecs : nsec3s).push_back(std::move(rr));
  }
  const uint32_t ttl = min_ttl_of(verified);
  if (nsecs.empty() && nsec3s.empty())
    return bogus(ValidationOutcome::bogus(
        ede::NSEC_MISSING,
        parent.to_text() + ": no NSEC or NSEC3 proves that " + zone.to_text() + " has no DS"));
  if (record.nxdomain) {
    auto gone = !nsecs.empty() ? prove_nxdomain_nsec(zone, nsecs, parent)
                               : prove_nxdomain_nsec3(zone, nsec3s, parent, budget_, nsec3_hash_cached);
    if (gone.is_secure()) {
      settle(zone, not_a_cut(zone.to_text() + " does not exist"), ttl);
      return {Step::settled, {}, {}};
    }
    if (gone.security == Security::insecure) {  // Opt-Out, or too many NSEC3 iterations
      settle(zone, status_from(gone), ttl);
      return {Step::settled, {}, {}};
    }
    return bogus(gone);
  }
  ValidationOutcome unsigned_cut =
      !nsecs.empty() ? prove_insecure_delegation_nsec(zone, nsecs, parent)
                     : prove_insecure_delegation_nsec3(zone, nsec3s, parent, budget_, nsec3_hash_cached);
  if (unsigned_cut.security == Security::insecure) {
    // RFC 4035 5.2: a delegation proven to have no DS leads to an unsigned zone.
    settle(zone, status_from(unsigned_cut), ttl);
    return {Step::settled, {}, {}};
  }
  ValidationOutcome no_cut = !nsecs.empty()
                                 ? prove_nodata_nsec(zone, rrtype::DS, nsecs, parent)
                                 : prove_nodata_nsec3(zone, rrtype::DS, nsec3s, parent, budget_, nsec3_hash_cached);
  if (no_cut.is_secure()) {
    settle(zone, not_a_cut("no zone cut at " + zone.to_text() + " (" + parent.to_text() + ")"), ttl);
    return {Step::settled, {}, {}};
  }
  if (no_cut.security == Security::insecure) {
    settle(zone, status_from(no_cut), ttl);
    return {Step::settled, {}, {}};
  }
  ValidationOutcome failure = no_cut.is_bogus() ? no_cut : unsigned_cut;
  if (!failure.is_bogus())
    failure = ValidationOutcome::bogus(ede::NSEC_MISSING, parent.to_text() + ": the denial of a DS for " +
                                                              zone.to_text() + " does not hold");
  return bogus(failure);
}

void ChainOfTrust::on_ds(Task &task, const Resolution &result) {
  const Name &zone = task.zone;
  add_delegations(result.delegations);
  if (const AnswerSource *source = result.source_of(zone, rrtype::DS);
      source && source->security == Security::secure) {
    // Validated before and kept in the cache with its status (RFC 4035 4.7).
    task.validated_ds = of_type(result.answer, rrtype::DS);
    if (!task.validated_ds.empty()) return;
  }
  Record record;
  record.from_ds_query = true;
  record.delegation.child = zone;
  record.delegation.parent = result.zone;
  if (result.rcode != rcode::NOERROR && result.rcode != rcode::NXDOMAIN) {
    record.failure = "cannot get the DS RRset of " + zone.to_text() + ": " +
                     (result.error ? result.error->extra_text : rcode_to_text(result.rcode));
  } else if (!is_proper_ancestor(result.zone, zone)) {
    // RFC 4035 3.1.4.1: the DS RRset lives in the parent; an answer from the child's
    // own servers cannot prove or deny it.
    record.failure = "the DS of " + zone.to_text() + " was not answered by a parent zone";
  } else {
    record.delegation.ds = records_at(result.answer, zone, rrtype::DS);
    if (record.delegation.ds.empty()) {
      record.delegation.denial = denial_records(result.authority);
      record.nxdomain = result.rcode == rcode::NXDOMAIN;
    }
    std::vector<ResourceRecord> all = record.delegation.ds;
    all.insert(all.end(), record.delegation.denial.begin(), record.delegation.denial.end());
    record.claims = claims_in(all, result.zone, zone);
  }
  records_[zone] = std::move(record);
}

void ChainOfTrust::on_dnskey(Task &task, const Resolution &result) {
  const Name zone = task.zone;
  const TrustAnchor *anchor = closest_anchor(zone);
  const bool for_anchor = anchor && anchor->zone == zone;
  auto sets = group_rrsets(result.answer);
  auto keys = std::find_if(sets.begin(), sets.end(),
                           [&](const RRset &s) { return s.type == rrtype::DNSKEY && s.owner == zone; });
  if (keys == sets.end()) {
    std::string why = zone.to_text() + ": no DNSKEY set could be fetched";
    if (result.error) why += " (" + result.error->extra_text + ")";
    settle(zone, status_from(ValidationOutcome::bogus(ede::DNSKEY_MISSING, why)), env_.config.bogus_ttl);
    return;
  }
  const int64_t now = env_.clock.now_seconds();
  if (ZoneEvidence *e = evidence(zone)) {
    e->dnskeys = *keys;
    e->trust_anchor = for_anchor;
    if (for_anchor) e->ds = anchor->ds.empty() ? anchor->dnskey : anchor->ds;
  }
  uint32_t ttl = keys->ttl;
  ValidationOutcome outcome;
  // The set is proven from the DS (or the anchor) every time, even when the cache holds
  // it as secure: a DNSKEY RRset validated as a client's answer was checked with any
  // key of the zone, the ZSK included, and RFC 4035 5.2 makes only a key the DS names
  // authenticate the zone's keys. Trusting that status would let a ZSK alone add keys.
  if (for_anchor && anchor->ds.empty()) {
    outcome =
        verify_dnskey_with_anchor_keys(*keys, keys->signatures, anchor->dnskey, zone, now, budget_, &ttl);
  } else {
    // RFC 4035 5.2: a key of the set matches a validated DS (or the anchor's DS) and signs it.
    const auto &ds = for_anchor ? anchor->ds : task.validated_ds;
    outcome = verify_dnskey_with_ds(*keys, keys->signatures, ds, zone, now, budget_, &ttl);
  }
  if (!outcome.is_secure()) {
    settle(zone, status_from(outcome), outcome.is_bogus() ? env_.config.bogus_ttl : ttl);
    return;
  }
  ZoneKeys secure;
  secure.status = ZoneKeys::Status::secure;
  secure.dnskeys = *keys;
  secure.dnskeys.signatures.clear();
  secure.proven_by_anchor_keys = for_anchor && anchor->ds.empty();
  secure.dnskey_proof =
      secure.proven_by_anchor_keys ? anchor->dnskey : (for_anchor ? anchor->ds : task.validated_ds);
  if (env_.rrsets) {
    RRset stored = *keys;
    stored.ttl = std::min(stored.ttl, ttl);
    env_.rrsets->store(stored, Trust::authoritative, Security::secure);
  }
  settle(zone, std::move(secure), ttl);
}

}  // namespace rsv
