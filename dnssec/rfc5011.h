// RFC 5011 automated updates of DNSSEC trust anchors: what one anchored zone's keys
// are, and how each refresh of its DNSKEY RRset moves them.
//
// The maintenance driver (resolver/server/trust_anchor_maintainer.h) fetches the
// anchored zone's DNSKEY RRset with its RRSIGs, unvalidated, and hands it to
// TrustPoint::refresh() with the time. The trust point validates it itself against
// the keys it trusts at that moment (Valid and Missing keys, or the configured DS
// records until the first refresh), so nothing is ever learned from a set that does
// not validate; the only exception is a revocation, which the revoked key signs
// itself (RFC 5011 2.1) and which only ever takes trust away. Then, per key (RFC 5011
// 4, identity = the DNSKEY RDATA with the REVOKE bit clear):
//
//   Start    --NewKey-->  AddPend   a SEP key not seen before; the add hold-down
//                                   (30 days, or the set's original TTL if longer,
//                                   2.4.1) starts
//   AddPend  --KeyRem-->  Start     a validated set without it: forgotten, so its
//                                   hold-down starts over if it comes back (2.2)
//   AddPend  --AddTime--> Valid     seen in a validated set after the hold-down
//   Valid    --KeyRem-->  Missing   still trusted (4: Missing keys stay anchors)
//   Missing  --KeyPres--> Valid
//   Valid, Missing (and AddPend) --Revbit--> Revoked   published with the REVOKE bit
//                                   and signing the set itself; permanent (2.1)
//   Revoked  --RemTime--> Removed   after the remove hold-down (30 days, 2.4.2)
//
// Keys that the configured DS records match become Valid at the first validated
// refresh (the trust point then tracks keys, not DS). If every key that vouched for
// a pending key is revoked before its hold-down ends, its hold-down starts over
// (2.2). refresh() also says when to ask next: the active refresh interval of 2.3,
// max(1 h, min(15 days, 1/2 original TTL, 1/2 signature expiration interval)), or after
// a failure the retry time, max(1 h, min(1 day, 1/10 of each)). Pure: no I/O, the
// time is passed in; the hold-downs and the 1 h floor come from Rfc5011Timers so that
// a test bed can run a rollover in seconds (dnssec.rfc5011-hold-down and
// -min-refresh, lab settings).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec/trust_anchor.h"
#include "dnssec/validation_budget.h"
#include "resolver/config/config.h"
#include "resolver/wire/name.h"
#include "resolver/wire/rr.h"

namespace rsv {

enum class KeyState : uint8_t { start, add_pend, valid, missing, revoked, removed };
const char *to_string(KeyState state);  // "Start", "AddPend", "Valid", ... (RFC 5011 4 spelling)
std::optional<KeyState> key_state_from_string(std::string_view text);

struct Rfc5011Timers {
  static constexpr int64_t kDay = 86400;
  int64_t add_hold_down = 30 * kDay;     // RFC 5011 2.4.1
  int64_t remove_hold_down = 30 * kDay;  // RFC 5011 2.4.2
  int64_t min_refresh = 3600;            // the "1 hr" floor of RFC 5011 2.3
  static Rfc5011Timers from(const DnssecConfig &config);
};

struct ManagedKey {
  std::string rdata;     // DNSKEY RDATA with the REVOKE bit clear: the key's identity
  uint16_t key_tag = 0;  // of that RDATA
  uint8_t algorithm = 0;
  KeyState state = KeyState::start;
  int64_t first_seen = 0;            // when it was first seen (or configured)
  int64_t changed_at = 0;            // when it entered its state
  int64_t hold_down_until = 0;       // AddPend: when the add hold-down ends
  std::vector<uint16_t> vouched_by;  // AddPend: tags of the keys trusted when it was first seen

  bool trusted() const { return state == KeyState::valid || state == KeyState::missing; }
  std::string id() const;  // "20326/8"
};

// What one refresh (or failed refresh) did.
struct RefreshReport {
  bool validated = false;            // the set validated against the keys trusted before it
  bool trusted_changed = false;      // the keys to validate with are not the same any more
  bool state_changed = false;        // a key changed state (the state file needs writing)
  std::vector<std::string> changes;  // one line per key transition, for the log
  std::string problem;               // !validated: why the set was not used
  int64_t next_refresh = 0;
};

class TrustPoint {
public:
  // A configured anchor: its DNSKEYs (revoked ones aside) are Valid from now on; its
  // DS records stay the anchor until a refresh validates with them.
  static TrustPoint from_anchor(const TrustAnchor &anchor, int64_t now);
  // As a state file recorded it (dnssec/rfc5011_state.h).
  TrustPoint(Name zone, std::vector<ResourceRecord> ds, std::vector<ManagedKey> keys);

  // The zone's DNSKEY RRset as fetched, with the RRSIGs covering it (unvalidated).
  RefreshReport refresh(const RRset &dnskeys, int64_t now, const Rfc5011Timers &timers,
                        const DnssecConfig &limits);
  // The fetch failed (timeout, SERVFAIL, no DNSKEY RRset): when to try again.
  RefreshReport refresh_failed(const std::string &why, int64_t now, const Rfc5011Timers &timers);

  // What the validator should use: the Valid and Missing keys as DNSKEY records, and
  // the configured DS records while no refresh has replaced them. Empty when every key
  // was revoked: then the zone cannot validate (fail closed) until an operator acts.
  TrustAnchor anchor() const;
  // RFC 8145: the key tags of that anchor, ascending, without duplicates.
  std::vector<uint16_t> trusted_key_tags() const;

  const Name &zone() const { return zone_; }
  const std::vector<ResourceRecord> &ds() const { return ds_; }
  const std::vector<ManagedKey> &keys() const { return keys_; }
  const ManagedKey *find(uint16_t key_tag, uint8_t algorithm) const;

  // Refresh bookkeeping, kept in the state file so a restart keeps the schedule.
  int64_t next_refresh = 0;       // 0: at once
  int64_t last_refresh = 0;       // the last attempt
  int64_t last_success = 0;       // the last validated set
  uint32_t original_ttl = 0;      // of the last validated set's RRSIGs (0: not known)
  int64_t signatures_expire = 0;  // the earliest-expiring RRSIG of that set (0: not known)
  std::string last_problem;       // why the last refresh failed; empty after a success

private:
  ManagedKey *find_identity(const std::string &rdata);
  void move(ManagedKey &key, KeyState to, int64_t now, const std::string &why, RefreshReport &report);
  void apply_revocations(const RRset &dnskeys, int64_t now, ValidationBudget &budget, RefreshReport &report);
  void apply_validated(const RRset &dnskeys, int64_t now, const Rfc5011Timers &timers, RefreshReport &report);
  int64_t query_interval(int64_t now, const Rfc5011Timers &timers) const;
  int64_t retry_interval(int64_t now, const Rfc5011Timers &timers) const;

  Name zone_;
  std::vector<ResourceRecord> ds_;
  std::vector<ManagedKey> keys_;
};

// The DNSKEY RDATA with the REVOKE bit (RFC 5011 7) cleared; unchanged when too short.
std::string without_revoke_bit(std::string_view dnskey_rdata);

}  // namespace rsv
