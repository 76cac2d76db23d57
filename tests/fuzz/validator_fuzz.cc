// libFuzzer target for the validator: a Resolution from the input, validated against
// the fixed trust anchor of a signed hierarchy, its DS/DNSKEY sub-questions answered
// from the rest of the input. Exercises the chain of trust (anchors, delegation-path
// DS, DS queries, key matching), RRSIG checks, NSEC/NSEC3 denial and wildcard proofs,
// the budgets, and the write-back to the caches. Build with -DRESOLVER_FUZZ=ON and
// clang (tests/fuzz/CMakeLists.txt); run as
//   build-fuzz/tests/fuzz/validator_fuzz -max_total_time=60 CORPUS_DIR
// with a copy of tests/fuzz/corpus/validator_fuzz/ (scripts/fuzz.sh does both).
//
// Input (tests/fuzz/fuzz_chunks.h): one header octet (ValidatorOptions in
// validator_driver.h: caches, time, a second pass, a negative trust anchor), then
// chunks, each a Resolution written as a DNS message (resolution_codec.h): first the
// one to validate (its question is the client's), then one per sub-question, in the
// order asked. When they run out, sub-questions fail, as an unreachable zone does.
//
// Mutation and crossover are structure-aware (chunk_mutator.h): records dropped,
// moved and replayed between Resolutions, also from other seeds (the replay attacks
// the soundness oracle is there to catch).
//
// The anchor, and the zone data the soundness oracle (hierarchy_truth.h) compares
// secure verdicts with, come from tests/fuzz/hierarchy_data.h, written by
// make_corpus.cc together with the seeds it signed: the keys are made once, at
// corpus generation, and never in the fuzzing loop.
//
// check_validator_input() is shared with the deterministic replay in
// tests/unit/validator_fuzz_corpus_test.cc, which includes this file with
// RSV_FUZZ_PROPERTY_ONLY defined (no LLVMFuzzerTestOneInput there).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dnssec/trust_anchor.h"
#include "resolver/base/log.h"
#include "resolver/wire/ldns_convert.h"
#include "tests/fuzz/chunk_mutator.h"
#include "tests/fuzz/fuzz_chunks.h"
#include "tests/fuzz/hierarchy_data.h"
#include "tests/fuzz/resolution_codec.h"
#include "tests/fuzz/validator_driver.h"

namespace rsv::fuzz {

// The trust anchor and the truth, read once from the generated data.
struct ValidatorWorld {
  std::vector<TrustAnchor> anchors;
  HierarchyTruth truth;

  static const ValidatorWorld &get() {
    static const ValidatorWorld world = load();
    return world;
  }

private:
  static ValidatorWorld load() {
    ValidatorWorld world;
    world.anchors = parse_trust_anchor_text(generated::kTrustAnchors, "hierarchy_data.h");
    std::vector<HierarchyTruth::Zone> zones;
    for (const auto &zone : generated::kZones) {
      HierarchyTruth::Zone z;
      z.origin = *Name::from_text(zone.origin);
      z.secure_chain = zone.secure_chain;
      z.opt_out = zone.opt_out;
      for (auto &line : parse_zone_text(zone.records, "hierarchy_data.h", z.origin))
        z.records.push_back(std::move(line.record));
      zones.push_back(std::move(z));
    }
    world.truth = HierarchyTruth(std::move(zones));
    return world;
  }
};

// Sub-questions answered from the input's chunks, in order.
class ChunkKeyAnswers final : public KeyAnswers {
public:
  explicit ChunkKeyAnswers(ChunkReader &input) : input_(input) {}
  Resolution answer(const Question &question) override {
    auto chunk = input_.chunk();
    if (!chunk) return Resolution::failure(ede::NO_REACHABLE_AUTHORITY, "no more input");
    ParseError error = ParseError::none;
    auto message = parse_message(reinterpret_cast<const uint8_t *>(chunk->data()), chunk->size(), &error);
    if (!message) return Resolution::failure(ede::OTHER, "unusable reply");
    // As the iterator would say: a DS question is answered by the parent's servers.
    const Name zone = question.qtype == rrtype::DS && !question.name.is_root() ? question.name.parent() : question.name;
    return decode_resolution(*message, zone);
  }

private:
  ChunkReader &input_;
};

// Returns "" when the properties hold, else what broke. `runs` (when given) gets the
// run of each validation, for the replay test's statistics.
inline std::string check_validator_input(const uint8_t *data, size_t size, std::vector<ValidatorRun> *runs = nullptr) {
  const ValidatorWorld &world = ValidatorWorld::get();
  ChunkReader input(data, size);
  const ValidatorOptions options = ValidatorOptions::from_header(input.byte());
  auto first = input.chunk();
  if (!first) return "";
  ParseError error = ParseError::none;
  auto message = parse_message(reinterpret_cast<const uint8_t *>(first->data()), first->size(), &error);
  if (!message || !message->question()) return "";
  const Question question = *message->question();
  const Resolution resolution = decode_resolution(*message, Name::root());

  ValidatorHarness harness(world.anchors, options, &world.truth);
  ChunkKeyAnswers answers(input);
  for (int pass = 0; pass < (options.second_pass ? 2 : 1); ++pass) {
    ValidatorRun run = harness.validate(question, resolution, answers);
    if (runs) runs->push_back(run);
    if (!run.broken.empty()) return run.broken;
  }
  return "";
}

}  // namespace rsv::fuzz

#ifndef RSV_FUZZ_PROPERTY_ONLY
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // Bogus answers are logged at info; thousands a second would only slow the run.
  rsv::set_log_severity(rsv::LogSeverity::error);
  rsv::fuzz::ValidatorWorld::get();  // parse the anchor and the truth before the clock starts
  return 0;
}

// Structure-aware mutation and crossover (chunk_mutator.h): one header octet, then Resolutions.
extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
  return rsv::fuzz::custom_mutate(data, size, max_size, seed, 1, 0, LLVMFuzzerMutate);
}

extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2, size_t size2,
                                            uint8_t *out, size_t max_out_size, unsigned int seed) {
  return rsv::fuzz::custom_cross_over(data1, size1, data2, size2, out, max_out_size, seed, 1, 0);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string broken = rsv::fuzz::check_validator_input(data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "validator property violated: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
#endif
