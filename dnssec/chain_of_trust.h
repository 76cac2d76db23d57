// The chain of trust: what the validator knows about zones, and how it learns more.
//
// The validator asks for a zone to be established ("is example.com. secure, and with
// which keys?"); this class works it out from the closest trust anchor down, one
// zone cut at a time (RFC 4035 5.2), and never from a name a packet merely claims:
//
//   establish(X)  X under a negative trust anchor, or under no anchor -> insecure.
//                 X is an anchor -> fetch its DNSKEY set, check it against the anchor.
//                 A known cut above X is insecure or bogus -> X inherits it.
//                 Otherwise X's DS RRset (or the proof that it has none) is needed,
//                 and it must be signed by the parent zone P, the deepest cut known
//                 above X. It comes, in this order, from the referral the iterator
//                 followed into X (the delegation path), from the RRset cache where
//                 an earlier validation left it secure, or from a DS query that the
//                 parent's servers answer. P is established first (recursively; P is
//                 always a proper ancestor, so this ends at the anchor).
//                 DS verified by P -> fetch X's DNSKEY set, match it to the DS.
//                 Denial verified by P: NS without DS (or an Opt-Out span) -> insecure;
//                 no NS at X -> X is not a zone cut at all.
//
// Packet fields are claims: a DS query's answer says which zone answered it, an RRSIG
// names its signer, an SOA its zone. A claim of a cut deeper than the known one
// (a server that also serves the child) is established like any zone, through its DS
// at the parent; a claim that does not hold is simply not a cut.
//
// Results are shared through the KeyCache (secure keys, insecure and not-a-cut proofs
// for their TTL, bogus for dnssec.bogus-ttl), and validated DS RRsets are stored in the
// RRset cache as secure, so the next validation asks nothing. Every signature check
// and NSEC3 hash is charged to the query's ValidationBudget.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache/clock.h"
#include "cache/rrset_cache.h"
#include "dnssec/aggressive_nsec.h"
#include "dnssec/key_cache.h"
#include "dnssec/negative_trust_anchors.h"
#include "dnssec/resolution.h"
#include "dnssec/trace.h"
#include "dnssec/trust_anchor.h"
#include "dnssec/validation_budget.h"
#include "resolver/config/config.h"

namespace rsv {

struct ValidatorEnv {
  KeyCache &keys;
  const std::vector<TrustAnchor> &anchors;
  const DnssecConfig &config;
  const Clock &clock;
  AggressiveNsecCache *aggressive = nullptr;  // RFC 8198; null: not kept
  RRsetCache *rrsets = nullptr;               // where validation results are written; null: nowhere
  // RFC 7646, configured and added at run time; null: only config.negative_trust_anchors.
  const NegativeTrustAnchors *negative_anchors = nullptr;
  ResolutionTrace *trace = nullptr;  // `resolverctl explain`: each zone settled; null: none
};

class ChainOfTrust {
public:
  ChainOfTrust(ValidatorEnv &env, ValidationBudget &budget);

  // Referrals the iterator followed, each a claim of a cut with the parent's DS or
  // denial. The first record for a child is kept.
  void add_delegations(const std::vector<Delegation> &delegations);

  // What is known about `zone`: established here, in the key cache, or implied by
  // the configuration (negative trust anchors). Null while unknown.
  const ZoneKeys *status(const Name &zone);
  // Asks for `zone` to be established; next() works towards it.
  void establish(const Name &zone);
  bool busy() const { return !stack_.empty(); }
  // The next sub-question to ask (DS or DNSKEY), or nullopt once every zone asked
  // for is settled. Call again after on_result().
  std::optional<Question> next();
  void on_result(const Resolution &result);
  // Writes the bogus zones found to the key cache (deferred: see Validator::commit_failures).
  void commit_failures();

  // The deepest zone cut at or above `name` that is established (secure, insecure or
  // bogus) or configured (a trust anchor), no shallower than `floor`.
  Name deepest_cut(const Name &name, const Name &floor);
  // Children of the referrals known, at or above `name` and strictly below `floor`:
  // cuts claimed on the delegation path that still need establishing.
  std::vector<Name> claimed_cuts(const Name &name, const Name &floor) const;
  // The closest trust anchor at or above `name`, if any.
  const TrustAnchor *closest_anchor(const Name &name) const;
  size_t questions_asked() const { return questions_asked_; }

private:
  struct Record {  // what the parent said about one child: a DS RRset or a denial
    Delegation delegation;
    std::vector<Name> claims;    // deeper zones the records claim to come from (signers, SOA)
    bool from_ds_query = false;  // a DS query's answer: its denial must carry the parent's SOA
    bool nxdomain = false;
    std::optional<std::string> failure;  // the DS query failed
  };
  struct Task {
    Name zone;
    std::vector<ResourceRecord> validated_ds;  // once the parent's DS is proven
    bool ds_asked = false;
    bool dnskey_asked = false;
  };
  enum class Step { settled, ask, need };
  struct Progress {
    Step step;
    Question question;  // ask
    Name zone;          // need
  };

  Progress advance(Task &task);
  Progress from_anchor(Task &task, const TrustAnchor &anchor);
  Progress from_record(Task &task, Record &record, const Name &floor);
  Progress from_denial(Task &task, const Record &record, const Name &parent, const ZoneKeys &parent_keys);
  void on_dnskey(Task &task, const Resolution &result);
  void on_ds(Task &task, const Resolution &result);
  void settle(const Name &zone, ZoneKeys status, uint32_t ttl);
  Progress ask(Task &task, uint16_t type);
  Record *record_for(const Name &child);
  bool under_negative_anchor(const Name &name) const;
  std::optional<std::vector<ResourceRecord>> cached_secure_ds(const Name &zone) const;

  ValidatorEnv &env_;
  ValidationBudget &budget_;
  std::unordered_map<Name, ZoneKeys, NameHash> known_;
  std::unordered_map<Name, Record, NameHash> records_;
  std::vector<Task> stack_;
  std::vector<std::pair<Name, std::pair<ZoneKeys, uint32_t>>> failures_;  // bogus zones, for the key cache
  // With a trace only: the records that decided each zone, reported when it settles.
  std::unordered_map<Name, ZoneEvidence, NameHash> evidence_;
  ZoneEvidence *evidence(const Name &zone) { return env_.trace ? &evidence_[zone] : nullptr; }
  bool waiting_ = false;
  size_t questions_asked_ = 0;
};

const char *to_string(ZoneKeys::Status status);

}  // namespace rsv
