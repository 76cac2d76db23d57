// Counting validation work so that a hostile zone cannot make the resolver spend
// unbounded CPU (KeyTrap, CVE-2023-50387; NSEC3 hash floods, CVE-2023-50868).
//
// One ValidationBudget lives per client query; begin_response() resets the
// per-response counters each time an upstream response is validated. Every
// signature verification and every NSEC3 hash asks the budget first; once a limit
// is reached the caller stops and answers SERVFAIL with an EDE naming the limit.
#pragma once

#include <cstdint>
#include <string>

#include "resolver/config/config.h"

namespace rsv {

class ValidationBudget {
public:
  explicit ValidationBudget(const DnssecConfig &limits) : limits_(limits) {}

  void begin_response() {
    verifications_this_response_ = 0;
  }

  // Takes one signature verification; false when a limit forbids it.
  bool take_verification() {
    if (verifications_this_response_ >= limits_.max_verifications_per_response ||
        verifications_total_ >= limits_.max_verifications_per_query) {
      exhausted_ = true;
      return false;
    }
    ++verifications_this_response_;
    ++verifications_total_;
    return true;
  }

  // Takes one NSEC3 hash computation; false when the per-query limit forbids it.
  bool take_nsec3_hash() {
    if (nsec3_hashes_total_ >= limits_.max_nsec3_hashes_per_query) {
      exhausted_ = true;
      return false;
    }
    ++nsec3_hashes_total_;
    return true;
  }

  // Whether a proof may look at `count` NSEC3 records from one response; every proof
  // over the same response asks with the same records, so they are counted once.
  bool allows_nsec3_records(size_t count) {
    if (count <= limits_.max_nsec3_per_response) return true;
    exhausted_ = true;
    return false;
  }

  const DnssecConfig &limits() const { return limits_; }
  bool exhausted() const { return exhausted_; }
  uint32_t verifications() const { return verifications_total_; }
  uint32_t nsec3_hashes() const { return nsec3_hashes_total_; }
  std::string describe() const {
    return std::to_string(verifications_total_) + " signature verifications, " + std::to_string(nsec3_hashes_total_) +
           " NSEC3 hashes";
  }

private:
  const DnssecConfig &limits_;
  uint32_t verifications_this_response_ = 0;
  uint32_t verifications_total_ = 0;
  uint32_t nsec3_hashes_total_ = 0;
  bool exhausted_ = false;
};

}  // namespace rsv
