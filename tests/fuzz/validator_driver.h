// Drives the validator (dnssec/validator.h) the way the engine does: it is handed a
// Resolution and a ValidationBudget, asks DS/DNSKEY sub-questions, and gets each one's
// Resolution back, from somewhere else: the fuzz input in validator_fuzz.cc, or the
// signed test hierarchy in the corpus generator (make_corpus.cc). Both use this one
// driver, so a seed the generator records replays step for step in the target.
//
// The environment is the daemon's (ValidatorEnv with a key cache, and optionally the
// RRset cache and the aggressive NSEC cache it writes to), with the default
// DnssecConfig budgets, time pinned to the signatures' "now" or moved past their
// validity, and fixed trust anchors.
//
// Properties checked after each validation:
//  - it ends by itself, after at most Validator::kMaxKeyQuestions sub-questions;
//  - the work stays within the budget: signature verifications and NSEC3 hashes no
//    more than dnssec.max-verifications-per-query and max-nsec3-hashes-per-query
//    (KeyTrap, CVE-2023-50387; CVE-2023-50868);
//  - the verdict is well formed: an answer to judge (NOERROR, NXDOMAIN) comes out
//    secure or insecure with its rcode, or bogus as SERVFAIL with an Extended DNS
//    Error; nothing comes out unchecked but a SERVFAIL;
//  - validation never raises a TTL (RFC 4035 5.3.3 only lowers them);
//  - with a HierarchyTruth, whatever a secure verdict vouches for is true
//    (hierarchy_truth.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cache/clock.h"
#include "cache/rrset_cache.h"
#include "dnssec/aggressive_nsec.h"
#include "dnssec/chain_of_trust.h"
#include "dnssec/key_cache.h"
#include "dnssec/validation_budget.h"
#include "dnssec/validator.h"
#include "resolver/config/config.h"
#include "tests/fuzz/hierarchy_truth.h"

namespace rsv::fuzz {

// tests/support/zone_signer.h's kPinnedNow: the signatures of the generated hierarchy
// are valid from a day before it to 30 days after.
inline constexpr int64_t kSignaturesNow = 1735689600;

// A name put under a negative trust anchor by the option of that name: a secure zone of
// the generator's hierarchy (tests/fuzz/make_corpus.cc).
inline constexpr const char *kNegativeAnchor = "nsec3.test.";

// The header octet of a validator_fuzz input.
struct ValidatorOptions {
  bool aggressive_cache = false;
  bool rrset_cache = false;
  uint8_t time = 0;          // 0: now; 1: 40 days on (expired); 2: 2 days back (not yet valid); 3: 29 days on
  bool second_pass = false;  // validate the same input again, with the caches the first left
  bool negative_anchor = false;

  static ValidatorOptions from_header(uint8_t flags) {
    ValidatorOptions o;
    o.aggressive_cache = flags & 0x01;
    o.rrset_cache = flags & 0x02;
    o.time = (flags >> 2) & 0x03;
    o.second_pass = flags & 0x10;
    o.negative_anchor = flags & 0x20;
    return o;
  }
  std::string to_header() const {
    const uint8_t flags = (aggressive_cache ? 0x01 : 0) | (rrset_cache ? 0x02 : 0) | ((time & 0x03) << 2) |
                          (second_pass ? 0x10 : 0) | (negative_anchor ? 0x20 : 0);
    return std::string(1, static_cast<char>(flags));
  }
  int64_t now() const {
    switch (time) {
      case 1: return kSignaturesNow + 40 * 86400;
      case 2: return kSignaturesNow - 2 * 86400;
      case 3: return kSignaturesNow + 29 * 86400;
      default: return kSignaturesNow;
    }
  }
};

// Where the answers to the validator's sub-questions come from.
class KeyAnswers {
public:
  virtual ~KeyAnswers() = default;
  // The Resolution of a DS or DNSKEY question, as the engine's iterator would give it.
  virtual Resolution answer(const Question &question) = 0;
};

struct ValidatorRun {
  Resolution result;
  size_t subqueries = 0;
  // A sub-answer of this run or an earlier one on the same caches claimed cache
  // verdicts the truth does not support (HierarchyTruth::cache_claims_hold): the
  // caches may hold what the resolver's never could, and the verdict is not held
  // against the truth.
  bool impossible_cache_claim = false;
  std::string broken;  // the first property that did not hold; empty if none
};

class ValidatorHarness {
public:
  // Enough for the validator to stop itself (it gives up after kMaxKeyQuestions);
  // the driver stops at this many in case it does not, and says so.
  static constexpr size_t kMaxSubqueries = 2 * Validator::kMaxKeyQuestions;

  ValidatorHarness(std::vector<TrustAnchor> anchors, const ValidatorOptions &options, const HierarchyTruth *truth)
      : options_(options), anchors_(std::move(anchors)), truth_(truth) {
    clock_.set_seconds(options.now());
    if (options.negative_anchor) config_.negative_trust_anchors.push_back(*Name::from_text(kNegativeAnchor));
  }

  ValidatorRun validate(const Question &question, const Resolution &input, KeyAnswers &answers) {
    ValidatorRun run;
    ValidationBudget budget(config_);
    Validator validator(env_, question, input, budget);
    for (;;) {
      ValidatorAction action = validator.next();
      if (action.kind == ValidatorAction::Kind::done) break;
      if (++run.subqueries > kMaxSubqueries) {
        run.broken = "the validator asked more than " + std::to_string(kMaxSubqueries) + " sub-questions";
        return run;
      }
      Resolution answer = answers.answer(action.question);
      if (truth_ && !truth_->cache_claims_hold(answer, config_.negative_trust_anchors))
        impossible_cache_claim_ = true;
      validator.on_subquery_result(answer);
    }
    run.result = validator.result();
    run.impossible_cache_claim = impossible_cache_claim_;
    run.broken = check(question, input, run, budget);
    return run;
  }

private:
  std::string check(const Question &question, const Resolution &input, const ValidatorRun &run,
                    const ValidationBudget &budget) const {
    const Resolution &r = run.result;
    const std::string what = " (" + question.name.to_text() + " " + type_to_text(question.qtype) + ")";
    if (run.subqueries > Validator::kMaxKeyQuestions)
      return std::to_string(run.subqueries) + " sub-questions, over the limit of " +
             std::to_string(Validator::kMaxKeyQuestions) + what;
    if (budget.verifications() > config_.max_verifications_per_query)
      return std::to_string(budget.verifications()) + " signature verifications, over the budget" + what;
    if (budget.nsec3_hashes() > config_.max_nsec3_hashes_per_query)
      return std::to_string(budget.nsec3_hashes()) + " NSEC3 hashes, over the budget" + what;
    const bool judged = input.rcode == rcode::NOERROR || input.rcode == rcode::NXDOMAIN;
    switch (r.security) {
      case Security::unchecked:
        // An RRSIG question is the one answer left unchecked on purpose (RFC 4035 3.2.3:
        // RRSIGs are not an RRset to validate); it goes out without AD.
        if (judged && r.rcode != rcode::SERVFAIL && question.qtype != rrtype::RRSIG)
          return "an answer came out unchecked" + what;
        break;
      case Security::bogus:
      case Security::indeterminate:
        if (r.rcode != rcode::SERVFAIL || !r.error) return "a bogus answer that is not SERVFAIL with an EDE" + what;
        break;
      case Security::secure:
      case Security::insecure:
        if (!judged) return "a failure came out " + std::string(to_string(r.security)) + what;
        if (r.rcode != input.rcode) return "the rcode changed from " + rcode_to_text(input.rcode) + what;
        if (r.answer.size() != input.answer.size()) return "the answer section changed size" + what;
        for (size_t i = 0; i < r.answer.size(); ++i)
          if (r.answer[i].ttl > input.answer[i].ttl)
            return "validation raised the TTL of " + r.answer[i].owner.to_text() + what;
        break;
    }
    if (truth_ && !run.impossible_cache_claim) {
      std::string lie = truth_->check(question, input, r, config_.negative_trust_anchors);
      if (!lie.empty()) return "validator soundness: " + lie + what;
    }
    return "";
  }

  bool impossible_cache_claim_ = false;
  ValidatorOptions options_;
  std::vector<TrustAnchor> anchors_;
  const HierarchyTruth *truth_;
  ManualClock clock_;
  DnssecConfig config_;
  KeyCache keys_{clock_, 1u << 20};
  AggressiveNsecCache aggressive_{clock_, 1u << 20};
  RRsetCache rrsets_{clock_, 1u << 20, TtlPolicy{}, 2};
  ValidatorEnv env_{keys_,
                    anchors_,
                    config_,
                    clock_,
                    options_.aggressive_cache ? &aggressive_ : nullptr,
                    options_.rrset_cache ? &rrsets_ : nullptr};
};

}  // namespace rsv::fuzz
