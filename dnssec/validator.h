// The validator: proves or disproves one resolved answer, as a state machine.
//
// It never touches a socket. The engine hands it the Resolution the iterator
// produced; the validator works out which zones signed (or should have signed) each
// RRset, and walks the chain of trust down to each of them from the closest trust
// anchor, one label at a time (RFC 4035 5):
//
//   start      group the answer into RRsets; every signer zone (or, for unsigned
//              data, the owner name) becomes a target -> walk
//   walk       for the next label toward the target: the key cache may know it
//              (secure keys, insecure, bogus, not a cut); otherwise ask for its DS
//              (sub-query) -> wait_ds
//   wait_ds    DS present and signed by the current zone's keys -> ask for the
//              child's DNSKEY (wait_dnskey); DS denied: a delegation without DS is
//              insecure (RFC 4035 5.2), a name without NS is no cut (walk on)
//   wait_dnskey  DNSKEY set matching a DS and self-signed -> the child is secure
//   verify     each RRset against its zone's keys (RRSIG checks), then the denial
//              proofs (NSEC RFC 4035 5.4, NSEC3 RFC 5155 8) for negative and
//              wildcard answers -> done
//
// Every verification and NSEC3 hash is charged to the request's ValidationBudget.
// The outcome is the weakest of all parts: one bogus part makes the answer bogus
// (SERVFAIL with the precise EDE), one insecure part makes it insecure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cache/clock.h"
#include "dnssec/aggressive_nsec.h"
#include "dnssec/key_cache.h"
#include "dnssec/outcome.h"
#include "dnssec/trust_anchor.h"
#include "dnssec/validation_budget.h"
#include "resolver/config/config.h"
#include "dnssec/resolution.h"

namespace rsv {

struct ValidatorEnv {
  KeyCache &keys;
  const std::vector<TrustAnchor> &anchors;
  const DnssecConfig &config;
  const Clock &clock;
  AggressiveNsecCache *aggressive = nullptr;  // RFC 8198; null: not kept
};

struct ValidatorAction {
  enum class Kind { subquery, done };
  Kind kind = Kind::done;
  Question question;
};

enum class ValidatorState { start, walk, wait_ds, wait_dnskey, verify, done };
const char *to_string(ValidatorState state);

class Validator {
public:
  Validator(ValidatorEnv &env, Question question, Resolution resolution, ValidationBudget &budget);

  ValidatorAction next();
  void on_subquery_result(const Resolution &result);

  ValidatorState state() const { return state_; }
  const Question &question() const { return question_; }
  // The resolution with its security set; a bogus one is turned into SERVFAIL + EDE.
  const Resolution &result() const { return result_; }

private:
  struct Target {
    Name name;
    std::optional<ZoneKeys> status;  // set once resolved; a secure status holds the zone's keys
    Name zone;                       // the deepest zone proven at or above the name
  };
  struct Walk {
    size_t target = 0;  // index into targets_
    Name zone;          // the current secure zone
    RRset keys;         // its validated DNSKEY set
    Name cursor;        // how far toward the target the walk has come
    Name pending;       // the label being asked about
    std::vector<ResourceRecord> ds;  // the validated DS set of `pending`
  };

  ValidatorAction handle_start();
  ValidatorAction handle_walk();
  void handle_ds(const Resolution &result);
  void handle_dnskey(const Resolution &result);
  void handle_verify();
  void resolve_target(ZoneKeys status);
  void finish(ValidationOutcome outcome);
  std::optional<ValidationOutcome> root_key_sentinel() const;
  void transition(ValidatorState next, const char *why);
  size_t target_for(const Name &name);
  const TrustAnchor *closest_anchor(const Name &name) const;
  bool under_negative_anchor(const Name &name) const;
  ValidationOutcome verify_with(const RRset &set, const Name &zone, const RRset &keys, uint32_t *ttl,
                                std::optional<Name> *wildcard);
  ValidationOutcome prove_denial(const Name &zone, const RRset &keys);

  ValidatorEnv &env_;
  Question question_;
  Resolution resolution_;
  ValidationBudget &budget_;
  ValidatorState state_ = ValidatorState::start;

  std::vector<RRset> answer_sets_;
  std::vector<RRset> authority_sets_;
  std::vector<Target> targets_;
  Walk walk_;
  bool walking_ = false;
  bool awaiting_anchor_keys_ = false;
  std::optional<Question> to_ask_;  // a sub-question decided by an event, asked by next()
  uint32_t validated_ttl_ = UINT32_MAX;

  Resolution result_;
};

}  // namespace rsv
