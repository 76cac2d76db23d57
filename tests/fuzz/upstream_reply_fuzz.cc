// libFuzzer target for whole upstream replies through the iterator: classification,
// scrubbing, referrals and glue, CNAME/DNAME chains, negative answers, TC and EDNS
// fallback, lameness, caching, priming and glueless sub-queries. Build with
// -DRESOLVER_FUZZ=ON and clang (tests/fuzz/CMakeLists.txt); run as
//   build-fuzz/tests/fuzz/upstream_reply_fuzz -max_total_time=60 CORPUS_DIR
// with a copy of tests/fuzz/corpus/upstream_reply_fuzz/ (scripts/fuzz.sh does both).
//
// Input (tests/fuzz/fuzz_chunks.h): two header octets (IteratorOptions in
// iterator_driver.h: qname minimisation, priming, sub-queries, forwarding, IPv6, glue
// hardening, a second question on the same caches; the qtypes), then chunks: the
// question name as text, then one reply per query the iterator sends, in order. An
// empty chunk is a timeout; a chunk that does not parse is an unusable reply. The
// seeds are real conversations with a signed hierarchy, recorded by make_corpus.cc.
//
// Besides the sanitizers, the properties of iterator_driver.h are checked; a
// violation aborts with its description. Mutation and crossover are structure-aware
// (chunk_mutator.h): records dropped, moved and replayed between replies.
//
// check_upstream_reply() is shared with the deterministic replay in
// tests/unit/upstream_reply_fuzz_corpus_test.cc, which includes this file with
// RSV_FUZZ_PROPERTY_ONLY defined (no LLVMFuzzerTestOneInput there).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "resolver/base/log.h"
#include "tests/fuzz/chunk_mutator.h"
#include "tests/fuzz/fuzz_chunks.h"
#include "tests/fuzz/iterator_driver.h"

namespace rsv::fuzz {

// Replies from the input's chunks, in order.
class ChunkReplies final : public UpstreamReplies {
public:
  explicit ChunkReplies(ChunkReader &input) : input_(input) {}
  Reply reply(const IteratorAction &) override {
    auto chunk = input_.chunk();
    if (!chunk) return {Kind::end, {}};
    if (chunk->empty()) return {Kind::timeout, {}};
    return {Kind::reply, std::string(*chunk)};
  }

private:
  ChunkReader &input_;
};

// Returns "" when the properties hold, else what broke. `runs` (when given) gets the
// run of each question, for the replay test's statistics.
inline std::string check_upstream_reply(const uint8_t *data, size_t size, std::vector<IteratorRun> *runs = nullptr) {
  ChunkReader input(data, size);
  const uint8_t flags = input.byte();
  const uint8_t types = input.byte();
  auto name_text = input.chunk();
  if (!name_text) return "";
  auto qname = Name::from_text(*name_text);
  if (!qname) return "";
  ChunkReplies replies(input);
  return run_iterator_questions(IteratorOptions::from_header(flags, types), *qname, replies, runs);
}

}  // namespace rsv::fuzz

#ifndef RSV_FUZZ_PROPERTY_ONLY
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // Failures are expected by the thousand; logging them would only slow the run.
  rsv::set_log_severity(rsv::LogSeverity::error);
  return 0;
}

// Structure-aware mutation and crossover (chunk_mutator.h): two header octets, the question name, then replies.
extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
  return rsv::fuzz::custom_mutate(data, size, max_size, seed, 2, 1, LLVMFuzzerMutate);
}

extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2, size_t size2,
                                            uint8_t *out, size_t max_out_size, unsigned int seed) {
  return rsv::fuzz::custom_cross_over(data1, size1, data2, size2, out, max_out_size, seed, 2, 1);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string broken = rsv::fuzz::check_upstream_reply(data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "iterator property violated: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
#endif
