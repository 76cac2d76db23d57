// The validator: proves or disproves one resolved answer, as a state machine.
//
// It never touches a socket. The engine hands it the Resolution the iterator
// produced, which says which zone's servers sent each RRset and which referrals
// were followed. One answer passes through it like this:
//
//   start    the answer is cut into items (one per RRset of the CNAME/DNAME chain and
//            the data; a CNAME synthesized from a validated DNAME is checked against
//            the DNAME instead) -> answer
//   answer   each item is judged in the zone that holds its owner: the deepest zone
//            cut established at or above it (the iterator's delegation point, trust
//            anchors, the key cache, and deeper cuts the records claim once their DS
//            at the parent proves them). The ChainOfTrust establishes that zone,
//            asking DS and DNSKEY sub-questions as needed (the engine resolves them
//            and hands the results back). In a secure zone an RRset is secure only
//            if an RRSIG by that very zone verifies with its validated keys (RFC 4035
//            5.3.1); an unsigned RRset below the zone's apex makes the validator ask
//            the parent side once whether an unsigned cut lies between (a server can
//            serve a parent and its unsigned child) -> denial or wildcard
//   denial   NXDOMAIN/NODATA: the zone that holds the name the rcode speaks of must
//            give its own SOA and NSEC/NSEC3 records, each signed by that zone, with
//            owners inside it, that prove the whole denial (RFC 4035 5.4, RFC 5155 8,
//            RFC 7129); anything else is bogus (EDE 12, or the signature's EDE)
//   wildcard an answer expanded from a wildcard needs the zone's proof that no closer
//            name exists (RFC 4035 5.3.4, RFC 5155 8.8) -> done
//
// Items taken from the cache carry the status an earlier validation gave them and are
// not verified again (RFC 4035 4.7). When done, every judged RRset is written back to
// the RRset cache with its status (bogus ones for at most dnssec.bogus-ttl), and the
// NSEC records of a proven denial feed aggressive negative caching (RFC 8198).
// Every verification and NSEC3 hash is charged to the request's ValidationBudget.
// The outcome is the weakest part: one bogus item makes the answer bogus (SERVFAIL
// with the precise EDE), one insecure item makes it insecure.
#pragma once

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "dnssec/chain_of_trust.h"
#include "dnssec/outcome.h"
#include "dnssec/resolution.h"
#include "dnssec/validation_budget.h"

namespace rsv {

struct ValidatorAction {
  enum class Kind { subquery, done };
  Kind kind = Kind::done;
  Question question;
};

enum class ValidatorState { start, answer, denial, wildcard, done };
const char *to_string(ValidatorState state);

class Validator {
public:
  // A validation asks at most this many DS/DNSKEY sub-questions (each zone's DS and
  // DNSKEY once); more means a hostile answer.
  static constexpr size_t kMaxKeyQuestions = 40;

  Validator(ValidatorEnv &env, Question question, Resolution resolution, ValidationBudget &budget);

  ValidatorAction next();
  void on_subquery_result(const Resolution &result);

  ValidatorState state() const { return state_; }
  const Question &question() const { return question_; }
  // The resolution with its security set; a bogus one is turned into SERVFAIL + EDE.
  const Resolution &result() const { return result_; }
  // For a bogus result: the zone whose data failed, so that the engine may ask another
  // of its servers. Empty when asking again would not help (a budget ran out).
  const std::optional<Name> &blamed_zone() const { return blamed_zone_; }
  // What a bogus result leaves in the caches (bogus RRsets for bogus-ttl, bogus zones
  // in the key cache) is written only when the result is final: a retry elsewhere
  // must not meet it. Secure and insecure results are written as they are found.
  void commit_failures();

private:
  struct Item {
    RRset set;
    AnswerSource source;
    bool parent_side = false;  // a DS RRset: it belongs to the zone above its owner
    std::optional<ValidationOutcome> verdict;
    Name zone;                     // the zone it was judged in
    std::optional<Name> wildcard;  // the closest encloser, for a wildcard expansion
    uint32_t validated_ttl = 0;
  };
  enum class Judgement { decided, need_zone };

  void plan();
  Judgement judge(Item &item);
  // Reports the item's verdict to the trace, if any; returns decided.
  Judgement decided(const Item &item) const;
  Judgement judge_denial();
  Judgement judge_wildcard();
  // The zone that holds `top` (and its status): the deepest cut established at or
  // above it, no shallower than `floor`, once the `claims` of deeper cuts are settled.
  // Null while a zone is still being established (the chain of trust has work).
  const ZoneKeys *holding_zone(std::vector<Name> claims, const Name &top, const Name &floor, Name &zone);
  void finish(ValidationOutcome outcome);
  void write_back(const ValidationOutcome &outcome);
  // True once a negative trust anchor was added, removed or taken since this
  // validation began: what it judged may be what the daemon just flushed.
  bool anchors_changed() const;
  void cap_ttls();
  std::optional<ValidationOutcome> root_key_sentinel() const;
  void transition(ValidatorState next, const char *why);
  void combine(const ValidationOutcome &part);

  ValidatorEnv &env_;
  Question question_;
  Resolution resolution_;
  ValidationBudget &budget_;
  ChainOfTrust chain_;
  ValidatorState state_ = ValidatorState::start;

  std::vector<Item> items_;
  Name final_name_;  // the name the rcode speaks of (RFC 6604 3)
  bool negative_ = false;
  std::unordered_set<Name, NameHash> probed_;
  ValidationOutcome overall_ = ValidationOutcome::secure();
  ValidationOutcome final_outcome_ = ValidationOutcome::secure();  // as given to finish()
  uint32_t validated_ttl_ = UINT32_MAX;
  std::vector<RRset> proven_denial_;  // SOA and NSEC/NSEC3 sets of a secure denial, for the caches
  Name denial_zone_;
  std::optional<Name> judging_zone_;  // the zone of the part being judged
  std::optional<Name> blamed_zone_;
  uint64_t anchor_changes_at_start_ = 0;

  Resolution result_;
};

}  // namespace rsv
