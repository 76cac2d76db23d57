// A deterministic stand-in for the libFuzzer target tests/fuzz/upstream_reply_fuzz.cc,
// run with every unit test build: the committed seeds (tests/fuzz/corpus/
// upstream_reply_fuzz/, real conversations with a signed hierarchy) and a few hundred
// seeded, structure-aware mutations of them (dropped, moved and replayed records,
// changed rcodes and flags, cut and lost replies) go through the iterator with the
// same driver and properties as in the fuzz target.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/fuzz/chunk_mutator.h"
#include "tests/unit/fuzz_corpus_files.h"

// The property lives in the fuzz target's source; take it without the entry point.
#define RSV_FUZZ_PROPERTY_ONLY
#include "tests/fuzz/upstream_reply_fuzz.cc"

namespace rsv {
namespace {

using fuzz::ChunkedInput;
using testing::SplitMix64;

using testing::QuietLog;

std::string run(const std::string &input, std::vector<fuzz::IteratorRun> *runs = nullptr) {
  // An exact-size heap copy, so AddressSanitizer builds catch a read past the end.
  const std::vector<uint8_t> bytes(input.begin(), input.end());
  QuietLog quiet;
  return fuzz::check_upstream_reply(bytes.data(), bytes.size(), runs);
}

TEST(UpstreamReplyFuzzCorpus, SeedsResolveAndKeepTheProperties) {
  const auto seeds = testing::fuzz_corpus("upstream_reply_fuzz");
  ASSERT_GE(seeds.size(), 30u);
  std::map<std::string, size_t> outcomes;
  for (const auto &seed : seeds) {
    std::vector<fuzz::IteratorRun> runs;
    EXPECT_EQ(run(seed.bytes, &runs), "") << seed.name;
    ASSERT_FALSE(runs.empty()) << seed.name;
    // Every seed is a whole conversation: the iterator finishes on it. When a change
    // to the iterator makes it ask other questions, the recorded replies no longer
    // fit: regenerate the seeds with tests/fuzz/make_corpus.sh.
    EXPECT_TRUE(runs.front().finished) << seed.name << ": regenerate with tests/fuzz/make_corpus.sh";
    const auto &r = runs.front().result;
    ++outcomes[r.rcode == rcode::NOERROR && !r.answer.empty() ? "answer" : rcode_to_text(r.rcode)];
  }
  // The seeds are meant to cover answers, both negative kinds and failures; if they
  // stop doing so (the iterator changed how it asks), regenerate them (as above).
  EXPECT_GE(outcomes["answer"], 15u);
  EXPECT_GE(outcomes["NXDOMAIN"], 4u);
  EXPECT_GE(outcomes["NOERROR"], 2u);  // NODATA
  EXPECT_GE(outcomes["SERVFAIL"], 4u);
}

TEST(UpstreamReplyFuzzCorpus, MutatedConversationsKeepTheProperties) {
  constexpr int kMutantsPerSeed = 40;
  SplitMix64 rng(20250102);
  std::map<std::string, size_t> outcomes;
  size_t total = 0;
  for (const auto &seed : testing::fuzz_corpus("upstream_reply_fuzz")) {
    for (int i = 0; i < kMutantsPerSeed; ++i) {
      // Header, question name, replies: the replies start at chunk 1.
      ChunkedInput input = ChunkedInput::split(seed.bytes, 2);
      const size_t rounds = 1 + rng.below(3);
      for (size_t r = 0; r < rounds; ++r) mutate_chunked(input, rng, 1);
      std::vector<fuzz::IteratorRun> runs;
      EXPECT_EQ(run(input.join(), &runs), "") << seed.name << " mutant " << i;
      ++total;
      if (runs.empty() || !runs.front().finished) {
        ++outcomes["unfinished"];
        continue;
      }
      const auto &r = runs.front().result;
      ++outcomes[r.rcode == rcode::NOERROR && !r.answer.empty() ? "answer" : rcode_to_text(r.rcode)];
    }
  }
  std::printf("upstream reply mutants: %zu;", total);
  for (const auto &[outcome, count] : outcomes) std::printf(" %s %zu", outcome.c_str(), count);
  std::printf("\n");
  // Both the happy and the failing paths, or the mutations say nothing.
  EXPECT_GT(outcomes["answer"], 50u);
  EXPECT_GT(outcomes["SERVFAIL"], 20u);
}

TEST(UpstreamReplyFuzzCorpus, ShortAndOddInputsAreHarmless) {
  // Truncated headers, no question, a name that does not parse, no replies at all,
  // only timeouts, and every header octet with one empty reply.
  const std::vector<std::string> inputs = {"", "\x01", std::string("\x07\x00", 2), std::string("\x07\x00\x00\x05" "a..b.", 9),
                                           std::string("\xFF\xFF\x00\x02" "a.", 6),
                                           std::string("\x07\x00\x00\x02" "a.\x00\x00\x00\x00\x00\x00", 12)};
  for (const auto &input : inputs) EXPECT_EQ(run(input), "") << input.size();
  for (unsigned flags = 0; flags < 256; ++flags) {
    std::string input{static_cast<char>(flags), static_cast<char>(flags * 7)};
    fuzz::append_chunk(input, "www.nsec.test.");
    fuzz::append_chunk(input, "");
    fuzz::append_chunk(input, std::string("\x00\x01\x84\x00\x00\x00\x00\x00\x00\x00\x00\x00", 12));
    EXPECT_EQ(run(input), "") << flags;
  }
}

}  // namespace
}  // namespace rsv
