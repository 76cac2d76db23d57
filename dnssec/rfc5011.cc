#include "dnssec/rfc5011.h"

#include <algorithm>
#include <set>

#include "dnssec/crypto.h"
#include "dnssec/rrsig.h"

namespace rsv {
namespace {

constexpr int64_t kMaxQueryInterval = 15 * Rfc5011Timers::kDay;  // RFC 5011 2.3
constexpr int64_t kMaxRetryInterval = Rfc5011Timers::kDay;       // RFC 5011 2.3

ResourceRecord dnskey_record(const Name &zone, const std::string &rdata) {
  ResourceRecord rr;
  rr.owner = zone;
  rr.type = rrtype::DNSKEY;
  rr.rclass = rrclass::IN;
  rr.ttl = 3600;
  rr.rdata = rdata;
  return rr;
}

// RFC 4034 5.1.4: does `ds` name this key (tag, algorithm, digest over owner | RDATA)?
bool ds_matches(const ResourceRecord &ds, const Name &zone, const std::string &dnskey_rdata,
                const DnskeyFields &key) {
  auto fields = parse_ds(ds.rdata);
  if (!fields || fields->key_tag != key.key_tag || fields->algorithm != key.algorithm) return false;
  if (!digest_supported(fields->digest_type)) return false;
  return ds_digest(fields->digest_type, zone.lowered().wire(), dnskey_rdata) == fields->digest;
}

// RFC 5011 2.1: an RRSIG over the DNSKEY set by the revoked key itself (the key as
// published, REVOKE bit set, so with the revoked key's tag). verify_rrset refuses
// revoked keys on purpose; this is the one use RFC 5011 allows them.
bool self_signed(const RRset &dnskeys, const DnskeyFields &revoked, const Name &zone, int64_t now,
                 ValidationBudget &budget) {
  for (const ResourceRecord &record : dnskeys.signatures) {
    auto sig = parse_rrsig(record);
    if (!sig || sig->type_covered != rrtype::DNSKEY || sig->key_tag != revoked.key_tag ||
        sig->algorithm != revoked.algorithm || sig->signer != zone || sig->labels != zone.label_count())
      continue;
    if (check_signature_time(*sig, now) != SignatureTime::valid) continue;
    if (!budget.take_verification()) return false;
    auto without_signature = rrsig_rdata_without_signature(record.rdata);
    if (!without_signature) continue;
    const std::string data = canonical_signed_data(*sig, *without_signature, dnskeys);
    if (verify_signature(sig->algorithm, revoked.public_key, data, sig->signature)) return true;
  }
  return false;
}

std::string describe_time(int64_t when, int64_t now) {
  const int64_t left = when - now;
  if (left <= 0) return "now";
  return "in " + format_seconds(static_cast<uint64_t>(left));
}

}  // namespace

const char *to_string(KeyState state) {
  switch (state) {
    case KeyState::start: return "Start";
    case KeyState::add_pend: return "AddPend";
    case KeyState::valid: return "Valid";
    case KeyState::missing: return "Missing";
    case KeyState::revoked: return "Revoked";
    case KeyState::removed: return "Removed";
  }
  return "Start";
}

std::optional<KeyState> key_state_from_string(std::string_view text) {
  for (KeyState state : {KeyState::start, KeyState::add_pend, KeyState::valid, KeyState::missing,
                         KeyState::revoked, KeyState::removed})
    if (text == to_string(state)) return state;
  return std::nullopt;
}

Rfc5011Timers Rfc5011Timers::from(const DnssecConfig &config) {
  Rfc5011Timers timers;
  timers.add_hold_down = config.rfc5011_hold_down;
  timers.remove_hold_down = config.rfc5011_hold_down;
  timers.min_refresh = config.rfc5011_min_refresh;
  return timers;
}

std::string ManagedKey::id() const {
  return std::to_string(key_tag) + "/" + std::to_string(algorithm);
}

std::string without_revoke_bit(std::string_view dnskey_rdata) {
  std::string out(dnskey_rdata);
  if (out.size() >= 2) out[1] = static_cast<char>(static_cast<uint8_t>(out[1]) & ~dnskey_flag::REVOKE);
  return out;
}

TrustPoint TrustPoint::from_anchor(const TrustAnchor &anchor, int64_t now) {
  std::vector<ManagedKey> keys;
  for (const ResourceRecord &rr : anchor.dnskey) {
    auto fields = parse_dnskey(rr.rdata);
    if (!fields || (fields->flags & dnskey_flag::REVOKE)) continue;  // trust_anchor.cc skips them too
    ManagedKey key;
    key.rdata = rr.rdata;
    key.key_tag = fields->key_tag;
    key.algorithm = fields->algorithm;
    key.state = KeyState::valid;
    key.first_seen = key.changed_at = now;
    keys.push_back(std::move(key));
  }
  return TrustPoint(anchor.zone, anchor.ds, std::move(keys));
}

TrustPoint::TrustPoint(Name zone, std::vector<ResourceRecord> ds, std::vector<ManagedKey> keys)
    : zone_(std::move(zone)), ds_(std::move(ds)), keys_(std::move(keys)) {}

const ManagedKey *TrustPoint::find(uint16_t key_tag, uint8_t algorithm) const {
  for (const ManagedKey &key : keys_)
    if (key.key_tag == key_tag && key.algorithm == algorithm) return &key;
  return nullptr;
}

ManagedKey *TrustPoint::find_identity(const std::string &rdata) {
  for (ManagedKey &key : keys_)
    if (key.rdata == rdata) return &key;
  return nullptr;
}

TrustAnchor TrustPoint::anchor() const {
  TrustAnchor anchor{zone_, ds_, {}};
  for (const ManagedKey &key : keys_)
    if (key.trusted()) anchor.dnskey.push_back(dnskey_record(zone_, key.rdata));
  return anchor;
}

std::vector<uint16_t> TrustPoint::trusted_key_tags() const {
  std::set<uint16_t> tags;
  for (const ManagedKey &key : keys_)
    if (key.trusted()) tags.insert(key.key_tag);
  for (const ResourceRecord &ds : ds_)
    if (auto fields = parse_ds(ds.rdata)) tags.insert(fields->key_tag);
  return {tags.begin(), tags.end()};
}

void TrustPoint::move(ManagedKey &key, KeyState to, int64_t now, const std::string &why,
                      RefreshReport &report) {
  const bool was_trusted = key.trusted();
  report.changes.push_back(zone_.to_text() + " key " + key.id() + ": " + to_string(key.state) + " -> " +
                           to_string(to) + " (" + why + ")");
  key.state = to;
  key.changed_at = now;
  report.state_changed = true;
  if (was_trusted != key.trusted()) report.trusted_changed = true;
}

void TrustPoint::apply_revocations(const RRset &dnskeys, int64_t now, ValidationBudget &budget,
                                   RefreshReport &report) {
  for (const std::string &rdata : dnskeys.rdatas) {
    auto fields = parse_dnskey(rdata);
    if (!fields || !(fields->flags & dnskey_flag::REVOKE) || !(fields->flags & dnskey_flag::ZONE)) continue;
    ManagedKey *key = find_identity(without_revoke_bit(rdata));
    // Only a key this trust point knows can be revoked; Revoked and Removed are final.
    if (!key || key->state == KeyState::revoked || key->state == KeyState::removed) continue;
    if (!self_signed(dnskeys, *fields, zone_, now, budget)) continue;
    // RFC 5011 2.1: "revocation is immediate and permanent".
    move(*key, KeyState::revoked, now, "published with the REVOKE bit and self-signed", report);
  }
}

void TrustPoint::apply_validated(const RRset &dnskeys, int64_t now, const Rfc5011Timers &timers,
                                 RefreshReport &report) {
  const bool from_ds = !ds_.empty();
  std::vector<uint16_t> trusted_tags;
  for (const ManagedKey &key : keys_)
    if (key.trusted()) trusted_tags.push_back(key.key_tag);
  std::set<std::string> published;  // identities present, revoked or not
  for (const std::string &rdata : dnskeys.rdatas) {
    auto fields = parse_dnskey(rdata);
    if (!fields || !(fields->flags & dnskey_flag::ZONE) || fields->protocol != kDnskeyProtocol) continue;
    published.insert(without_revoke_bit(rdata));
    if (fields->flags & dnskey_flag::REVOKE) continue;  // handled by apply_revocations
    ManagedKey *key = find_identity(rdata);
    if (!key) {
      const bool matches_ds = from_ds && std::any_of(ds_.begin(), ds_.end(), [&](const ResourceRecord &ds) {
                                return ds_matches(ds, zone_, rdata, *fields);
                              });
      // RFC 5011 only follows secure entry points (SEP keys, RFC 3757): a ZSK never
      // becomes an anchor by appearing, but a key the configured DS names always does.
      if (!matches_ds && !(fields->flags & dnskey_flag::SEP)) continue;
      ManagedKey added;
      added.rdata = rdata;
      added.key_tag = fields->key_tag;
      added.algorithm = fields->algorithm;
      added.first_seen = now;
      keys_.push_back(std::move(added));
      key = &keys_.back();
      if (matches_ds) {
        move(*key, KeyState::valid, now, "matches the configured DS", report);
      } else {
        // RFC 5011 2.4.1: 30 days, or the original TTL of the set if that is longer.
        key->hold_down_until = now + std::max<int64_t>(timers.add_hold_down, original_ttl);
        key->vouched_by = trusted_tags;
        move(*key, KeyState::add_pend, now,
             "new key published; add hold-down ends " + describe_time(key->hold_down_until, now), report);
      }
      continue;
    }
    switch (key->state) {
      case KeyState::add_pend:
        // RFC 5011 2.2: accepted at the first validated set seen after the hold-down.
        if (now >= key->hold_down_until) move(*key, KeyState::valid, now, "add hold-down over", report);
        break;
      case KeyState::missing: move(*key, KeyState::valid, now, "published again", report); break;
      case KeyState::start:
      case KeyState::valid:
      case KeyState::revoked:
      case KeyState::removed: break;  // revocation is permanent (RFC 5011 2.1)
    }
  }
  for (auto it = keys_.begin(); it != keys_.end();) {
    ManagedKey &key = *it;
    const bool present = published.contains(key.rdata);
    if (!present && key.state == KeyState::add_pend) {
      // RFC 5011 4 (KeyRem): back to Start; should it come back, it waits anew.
      report.changes.push_back(
          zone_.to_text() + " key " + key.id() +
          ": AddPend -> Start (no longer published; its add hold-down starts over if it returns)");
      report.state_changed = true;
      it = keys_.erase(it);
      continue;
    }
    if (!present && key.state == KeyState::valid)
      move(key, KeyState::missing, now, "no longer published; still trusted", report);
    ++it;
  }
  if (from_ds) {
    // The keys the DS named are Valid now; from here on the trust point follows keys.
    const bool any_valid =
        std::any_of(keys_.begin(), keys_.end(), [](const ManagedKey &k) { return k.trusted(); });
    if (any_valid) {
      ds_.clear();
      report.trusted_changed = true;
      report.state_changed = true;
    }
  }
}

RefreshReport TrustPoint::refresh(const RRset &dnskeys, int64_t now, const Rfc5011Timers &timers,
                                  const DnssecConfig &limits) {
  RefreshReport report;
  last_refresh = now;
  if (dnskeys.type != rrtype::DNSKEY || dnskeys.owner != zone_ || dnskeys.empty())
    return refresh_failed("no DNSKEY RRset for " + zone_.to_text(), now, timers);
  // Bounded like any validation (KeyTrap): a hostile set cannot cost more than one answer.
  ValidationBudget budget(limits);
  apply_revocations(dnskeys, now, budget, report);

  // RFC 5011 2.2 / 4: only a set that validates with a key trusted now teaches anything.
  std::vector<ResourceRecord> trusted;
  for (const ManagedKey &key : keys_)
    if (key.trusted()) trusted.push_back(dnskey_record(zone_, key.rdata));
  ValidationOutcome outcome = ValidationOutcome::bogus(ede::DNSKEY_MISSING, "no trusted key left");
  if (!trusted.empty())
    outcome = verify_dnskey_with_anchor_keys(dnskeys, dnskeys.signatures, trusted, zone_, now, budget);
  if (!outcome.is_secure() && !ds_.empty())
    outcome = verify_dnskey_with_ds(dnskeys, dnskeys.signatures, ds_, zone_, now, budget);
  if (!outcome.is_secure()) {
    RefreshReport failed = refresh_failed(
        "the DNSKEY set does not validate with the trusted keys: " + outcome.reason, now, timers);
    failed.changes = std::move(report.changes);
    failed.state_changed = report.state_changed;
    failed.trusted_changed = report.trusted_changed;
    return failed;
  }

  // RFC 5011 2.3: the original TTL and the earliest signature expiry set the pace.
  uint32_t ttl = 0;
  int64_t earliest_expiry = 0;
  for (const ResourceRecord &record : dnskeys.signatures) {
    auto sig = parse_rrsig(record);
    if (!sig || sig->type_covered != rrtype::DNSKEY || sig->signer != zone_) continue;
    if (check_signature_time(*sig, now) != SignatureTime::valid) continue;
    ttl = std::max(ttl, sig->original_ttl);
    const int64_t expiry = now + static_cast<int32_t>(sig->expiration - static_cast<uint32_t>(now));
    if (earliest_expiry == 0 || expiry < earliest_expiry) earliest_expiry = expiry;
  }
  original_ttl = ttl != 0 ? ttl : dnskeys.ttl;
  signatures_expire = earliest_expiry;

  // Pending keys whose every voucher has been revoked start over (RFC 5011 2.2).
  for (ManagedKey &key : keys_) {
    if (key.state != KeyState::add_pend || key.vouched_by.empty()) continue;
    const bool vouched = std::any_of(key.vouched_by.begin(), key.vouched_by.end(), [&](uint16_t tag) {
      return std::any_of(keys_.begin(), keys_.end(),
                         [&](const ManagedKey &k) { return k.key_tag == tag && k.trusted(); });
    });
    if (vouched) continue;
    key.first_seen = now;
    key.hold_down_until = now + std::max<int64_t>(timers.add_hold_down, original_ttl);
    key.vouched_by.clear();
    for (const ManagedKey &k : keys_)
      if (k.trusted()) key.vouched_by.push_back(k.key_tag);
    report.changes.push_back(zone_.to_text() + " key " + key.id() +
                             ": AddPend, hold-down restarted (every key that vouched for it was revoked)");
    report.state_changed = true;
  }
  apply_validated(dnskeys, now, timers, report);
  // RFC 5011 4 (RemTime): a revoked key is Removed after the remove hold-down.
  for (ManagedKey &key : keys_)
    if (key.state == KeyState::revoked && now >= key.changed_at + timers.remove_hold_down)
      move(key, KeyState::removed, now, "remove hold-down over", report);

  report.validated = true;
  last_success = now;
  last_problem.clear();
  next_refresh = now + query_interval(now, timers);
  report.next_refresh = next_refresh;
  return report;
}

RefreshReport TrustPoint::refresh_failed(const std::string &why, int64_t now, const Rfc5011Timers &timers) {
  RefreshReport report;
  last_refresh = now;
  last_problem = why;
  report.problem = why;
  next_refresh = now + retry_interval(now, timers);
  report.next_refresh = next_refresh;
  return report;
}

int64_t TrustPoint::query_interval(int64_t now, const Rfc5011Timers &timers) const {
  // RFC 5011 2.3: MAX(1 hr, MIN(15 days, 1/2*OrigTTL, 1/2*RRSigExpirationInterval)).
  int64_t interval = kMaxQueryInterval;
  if (original_ttl > 0) interval = std::min<int64_t>(interval, original_ttl / 2);
  if (signatures_expire > now) interval = std::min<int64_t>(interval, (signatures_expire - now) / 2);
  return std::max(timers.min_refresh, interval);
}

int64_t TrustPoint::retry_interval(int64_t now, const Rfc5011Timers &timers) const {
  // RFC 5011 2.3: MAX(1 hour, MIN(1 day, .1 * origTTL, .1 * expireInterval)), with
  // what the last validated set said; nothing known yet: the floor.
  int64_t interval = kMaxRetryInterval;
  bool known = false;
  if (original_ttl > 0) interval = std::min<int64_t>(interval, original_ttl / 10), known = true;
  if (signatures_expire > now)
    interval = std::min<int64_t>(interval, (signatures_expire - now) / 10), known = true;
  return known ? std::max(timers.min_refresh, interval) : timers.min_refresh;
}

}  // namespace rsv
