// A deterministic stand-in for the libFuzzer target tests/fuzz/upstream_reply_fuzz.cc,
// run with every unit test build: the committed seeds (tests/fuzz/corpus/
// upstream_reply_fuzz/, real conversations with a signed hierarchy) and a few hundred
// seeded, structure-aware mutations of them (dropped, moved and replayed records,
// changed rcodes and flags, cut and lost replies) go through the iterator with the
// same driver and properties as in the fuzz target. The oracle that ties each answer
// source's zone label to a reply the iterator was given (DeliveredReplies in
// tests/fuzz/iterator_driver.h) is checked on its own too: the real iterator never
// relabels, so only forged Resolutions can show that the property can fail. (A set
// answered from the cache in a later question may carry a zone above its sender's,
// once the cut's NS set has expired: the oracle allows that direction only.)
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/fuzz/chunk_mutator.h"
#include "tests/unit/fuzz_corpus_files.h"
#include "tests/unit/test_records.h"

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

// ---- the source-label oracle -------------------------------------------------------

using testing::n;

// A referral (AA clear): the cut in `authority`, glue and whatever else in `additional`.
Message referral(const std::string &authority, const std::string &additional) {
  Message m;
  m.qr = true;
  m.authority = testing::records(authority);
  m.additional = testing::records(additional);
  return m;
}

// An authoritative reply (AA set): an answer, or a negative one (a SOA in `authority`).
Message authoritative(const std::string &answer, const std::string &authority = "") {
  Message m;
  m.qr = true;
  m.aa = true;
  if (!answer.empty()) m.answer = testing::records(answer);
  if (!authority.empty()) m.authority = testing::records(authority);
  return m;
}

const char *const kNsecTestSoa = "nsec.test. SOA ns.nsec.test. admin.nsec.test. 1 3600 600 86400 300";

// A NOERROR answer of `records`, every RRset's source labelled `zone` (unchecked: the
// iterator's label, to be validated in that zone).
Resolution labelled(const std::string &records, const char *zone) {
  Resolution r;
  r.rcode = rcode::NOERROR;
  r.answer = testing::records(records);
  for (const auto &rr : r.answer)
    if (!r.source_of(rr.owner, rr.type)) r.sources.push_back({rr.owner, rr.type, n(zone), Trust::answer});
  return r;
}

const Question kWwwA{*Name::from_text("www.nsec.test."), rrtype::A, rrclass::IN};

// The replies of a plain descent, root -> test. -> nsec.test., each recorded with the
// zone its query was addressed to.
fuzz::DeliveredReplies descent(const Message &from_test, const Message &from_nsec_test) {
  fuzz::DeliveredReplies delivered;
  delivered.record(Name::root(), referral("test. NS ns.test.", "ns.test. A 198.51.100.2"));
  delivered.record(n("test."), from_test);
  delivered.record(n("nsec.test."), from_nsec_test);
  return delivered;
}

Message referral_to_nsec_test() {
  return referral("nsec.test. NS ns.nsec.test.", "ns.nsec.test. A 198.51.100.3");
}

TEST(UpstreamReplyFuzzOracle, AcceptsSourcesTiedToTheReplyThatHeldThem) {
  const auto delivered = descent(referral_to_nsec_test(), authoritative("www.nsec.test. A 192.0.2.1"));
  EXPECT_EQ(delivered.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.1", "nsec.test.")), "");
  // The referral's own records are the parent's: labelled so, they were sent.
  EXPECT_EQ(delivered.check_sources(Question{n("nsec.test."), rrtype::NS, rrclass::IN},
                                    labelled("nsec.test. NS ns.nsec.test.", "test.")),
            "");
  // A CNAME synthesized from a DNAME that a reply of that zone held (RFC 6672 2.2).
  const auto dname = descent(referral_to_nsec_test(), authoritative("dname.nsec.test. DNAME nsec3.test."));
  EXPECT_EQ(dname.check_sources(Question{n("x.dname.nsec.test."), rrtype::A, rrclass::IN},
                                labelled("dname.nsec.test. DNAME nsec3.test.\n"
                                         "x.dname.nsec.test. CNAME x.nsec3.test.\n",
                                         "nsec.test.")),
            "");
  // Record for record, but the TTL may since have been capped.
  EXPECT_EQ(delivered.check_sources(kWwwA, labelled("www.nsec.test. 60 A 192.0.2.1", "nsec.test.")), "");
  // What the cache gave with a validation status is not the iterator's label.
  Resolution cached = labelled("www.nsec.test. A 192.0.2.1", "nsec.test.");
  cached.sources[0].security = Security::secure;
  EXPECT_EQ(fuzz::DeliveredReplies{}.check_sources(kWwwA, cached), "");
}

TEST(UpstreamReplyFuzzOracle, CatchesASourceRelabelledToAnotherZone) {
  // The parent's server carried the RRset (below its cut, where it has no say); the
  // child's reply did not. Labelled as the child's, the validator would pick the
  // child as its signer: a forged relabel.
  const auto parent_carried = descent(
      referral("nsec.test. NS ns.nsec.test.", "ns.nsec.test. A 198.51.100.3\nwww.nsec.test. A 192.0.2.66"),
      authoritative("", kNsecTestSoa));
  const Resolution forged = labelled("www.nsec.test. A 192.0.2.66", "nsec.test.");
  ASSERT_EQ(fuzz::IteratorHarness::check_resolution(kWwwA, forged), "");  // the older check is blind to it
  EXPECT_NE(parent_carried.check_sources(kWwwA, forged), "");
  // The other way round: the child's answer passed off as the parent's or the root's.
  const auto child_carried = descent(referral_to_nsec_test(), authoritative("www.nsec.test. A 192.0.2.1"));
  EXPECT_NE(child_carried.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.1", "test.")), "");
  EXPECT_NE(child_carried.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.1", ".")), "");
  // Both zones sent an RRset of that name and type, but the one in the answer is the
  // parent's, whole or in part: under the child's label it is still a relabel.
  const auto both_carried = descent(
      referral("nsec.test. NS ns.nsec.test.", "ns.nsec.test. A 198.51.100.3\nwww.nsec.test. A 192.0.2.66"),
      authoritative("www.nsec.test. A 192.0.2.1"));
  EXPECT_EQ(both_carried.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.1", "nsec.test.")), "");
  EXPECT_NE(both_carried.check_sources(kWwwA, forged), "");
  EXPECT_NE(both_carried.check_sources(
                kWwwA, labelled("www.nsec.test. A 192.0.2.1\nwww.nsec.test. A 192.0.2.66", "nsec.test.")),
            "");
  // No reply held it at all; or one held the name with another type only.
  EXPECT_NE(descent(referral_to_nsec_test(), authoritative("www.nsec.test. AAAA 2001:db8::1"))
                .check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.1", "nsec.test.")),
            "");
  EXPECT_NE(
      fuzz::DeliveredReplies{}.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.1", "nsec.test.")),
      "");
  // A DNAME excuses a CNAME strictly below it, nothing else.
  const auto dname = descent(referral_to_nsec_test(), authoritative("dname.nsec.test. DNAME nsec3.test."));
  EXPECT_NE(dname.check_sources(Question{n("dname.nsec.test."), rrtype::CNAME, rrclass::IN},
                                labelled("dname.nsec.test. CNAME nsec3.test.", "nsec.test.")),
            "");
  EXPECT_NE(dname.check_sources(kWwwA, labelled("x.dname.nsec.test. A 192.0.2.1", "nsec.test.")), "");
  // A CNAME below the DNAME whose target is not the DNAME's rewrite (RFC 6672 2.2).
  const Question x_a{n("x.dname.nsec.test."), rrtype::A, rrclass::IN};
  EXPECT_NE(dname.check_sources(x_a, labelled("dname.nsec.test. DNAME nsec3.test.\n"
                                              "x.dname.nsec.test. CNAME elsewhere.example.\n",
                                              "nsec.test.")),
            "");
  EXPECT_NE(dname.check_sources(x_a, labelled("dname.nsec.test. DNAME nsec3.test.\n"
                                              "x.dname.nsec.test. CNAME y.nsec3.test.\n",
                                              "nsec.test.")),
            "");
}

// A later question answered from the cache: the iterator labels the set with the cut
// the cache still knows, above the sender's zone once that cut's NS set has expired.
// The oracle lets the label rise above the zone of another iterator's reply that held
// the set, record for record; never for the iterator that was given the reply.
TEST(UpstreamReplyFuzzOracle, AcceptsACachedSetLabelledAboveALapsedCut) {
  auto child_carried = descent(referral_to_nsec_test(), authoritative("www.nsec.test. A 192.0.2.1"));
  const Resolution at_root = labelled("www.nsec.test. A 192.0.2.1", ".");
  const Resolution at_test = labelled("www.nsec.test. A 192.0.2.1", "test.");
  ASSERT_NE(child_carried.check_sources(kWwwA, at_root), "");  // the same question: a relabel
  child_carried.begin_question();
  EXPECT_EQ(child_carried.check_sources(kWwwA, at_root), "");
  EXPECT_EQ(child_carried.check_sources(kWwwA, at_test), "");
  EXPECT_EQ(child_carried.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.1", "nsec.test.")), "");
  // A record no earlier reply held, under a zone above the one that sent the others.
  EXPECT_NE(child_carried.check_sources(
                kWwwA, labelled("www.nsec.test. A 192.0.2.1\nwww.nsec.test. A 192.0.2.66", ".")),
            "");
  // The parent's record (a referral's additional section, never served as an answer)
  // under the child's label is still a relabel, in a later question too.
  auto parent_carried = descent(
      referral("nsec.test. NS ns.nsec.test.", "ns.nsec.test. A 198.51.100.3\nwww.nsec.test. A 192.0.2.66"),
      authoritative("", kNsecTestSoa));
  parent_carried.begin_question();
  EXPECT_EQ(parent_carried.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.66", ".")), "");
  EXPECT_NE(parent_carried.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.66", "nsec.test.")), "");
}

// A parent's server answered for a name below its own cut (the iterator asks the
// parent again when every server of the child failed); a later question reads the set
// from the cache, labelled with the cut the cache knows, below the sender's zone. The
// oracle accepts that label only for a cut a delivered NS set named, only for a set
// the reply held in its answer section, and never for the iterator given the reply.
TEST(UpstreamReplyFuzzOracle, AcceptsACachedParentAnswerLabelledWithTheKnownCut) {
  fuzz::DeliveredReplies root_answered;
  root_answered.record(Name::root(), referral("test. NS ns.test.", "ns.test. A 198.51.100.2"));
  root_answered.record(Name::root(), authoritative("www.nsec.test. A 192.0.2.1"));
  const Resolution at_test = labelled("www.nsec.test. A 192.0.2.1", "test.");
  ASSERT_NE(root_answered.check_sources(kWwwA, at_test), "");  // the same question: a relabel
  root_answered.begin_question();
  EXPECT_EQ(root_answered.check_sources(kWwwA, at_test), "");
  EXPECT_EQ(root_answered.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.1", ".")), "");
  // No delivered NS set named nsec.test.: not a cut the cache could know.
  EXPECT_NE(root_answered.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.1", "nsec.test.")), "");
  // A record the root's reply did not hold.
  EXPECT_NE(root_answered.check_sources(
                kWwwA, labelled("www.nsec.test. A 192.0.2.1\nwww.nsec.test. A 192.0.2.66", "test.")),
            "");
  // Held in the additional section only (glue, never served as an answer): not excused.
  fuzz::DeliveredReplies root_carried;
  root_carried.record(Name::root(),
                      referral("test. NS ns.test.", "ns.test. A 198.51.100.2\nwww.nsec.test. A 192.0.2.66"));
  root_carried.begin_question();
  EXPECT_NE(root_carried.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.66", "test.")), "");
  EXPECT_EQ(root_carried.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.66", ".")), "");
}

// The same within one client question: a sub-question (priming, a glueless name
// server's address) was given the root's answer, and the question's own iterator reads
// it from the cache afterwards. The fuzzer's second case: priming met a CNAME chain.
TEST(UpstreamReplyFuzzOracle, AcceptsASubQuestionsAnswerReadFromTheCache) {
  fuzz::DeliveredReplies delivered;
  const unsigned question = delivered.begin_iterator();
  delivered.record(Name::root(), referral("test. NS ns.test.", "ns.test. A 198.51.100.2"));
  delivered.begin_iterator();  // the sub-question
  delivered.record(Name::root(), authoritative("www.nsec.test. A 192.0.2.1"));
  const Resolution at_test = labelled("www.nsec.test. A 192.0.2.1", "test.");
  EXPECT_NE(delivered.check_sources(kWwwA, at_test), "");  // its own reply: a relabel
  delivered.resume_iterator(question);
  EXPECT_EQ(delivered.check_sources(kWwwA, at_test), "");
  EXPECT_NE(delivered.check_sources(kWwwA, labelled("www.nsec.test. A 192.0.2.1", "nsec.test.")), "");
}

// Replies from a script, each query's zone kept so the test can check where it went.
class ScriptedReplies final : public fuzz::UpstreamReplies {
public:
  explicit ScriptedReplies(std::vector<Message> replies) : replies_(std::move(replies)) {}
  Reply reply(const IteratorAction &action) override {
    if (zones.size() == replies_.size()) return {Kind::end, {}};
    zones.push_back(action.zone.to_text());
    return {Kind::reply, encode_message(replies_[zones.size() - 1]).wire};
  }
  std::vector<std::string> zones;

private:
  std::vector<Message> replies_;
};

fuzz::IteratorOptions plain_descent() {
  fuzz::IteratorOptions options;
  options.qname_minimisation = false;
  options.prime_root = false;
  return options;
}

// The same through the harness, with the real iterator: the zone is the one the send
// was addressed to, and the harness's own check (the one resolve() applies) catches it.
TEST(UpstreamReplyFuzzOracle, HarnessCatchesARelabelOfWhatTheParentSent) {
  fuzz::IteratorHarness harness(plain_descent());
  ScriptedReplies upstream(
      {referral("test. NS ns.test.", "ns.test. A 198.51.100.2"),
       referral("nsec.test. NS ns.nsec.test.", "ns.nsec.test. A 198.51.100.3\nwww.nsec.test. A 192.0.2.66"),
       authoritative("", kNsecTestSoa)});
  QuietLog quiet;
  const fuzz::IteratorRun run = harness.resolve(kWwwA, upstream);
  ASSERT_EQ(run.broken, "");
  ASSERT_TRUE(run.finished);
  EXPECT_EQ(upstream.zones, (std::vector<std::string>{".", "test.", "nsec.test."}));
  // The iterator scrubbed the parent's record: a NODATA, which passes.
  EXPECT_TRUE(run.result.answer.empty());
  EXPECT_EQ(harness.check_result(kWwwA, run.result), "");
  // Forged: the parent's record as the child's answer.
  EXPECT_NE(harness.check_result(kWwwA, labelled("www.nsec.test. A 192.0.2.66", "nsec.test.")), "");
  // Labelled with the zone that did send it, the label is honest (whether the record is
  // true is the validator's question, in that zone).
  EXPECT_EQ(harness.check_result(kWwwA, labelled("www.nsec.test. A 192.0.2.66", "test.")), "");
}

// As above, but the child answers too: the iterator's answer is the child's RRset, and
// the parent's RRset of the same name and type under the child's label is caught.
TEST(UpstreamReplyFuzzOracle, HarnessCatchesTheParentsRRsetUnderTheChildsLabel) {
  fuzz::IteratorHarness harness(plain_descent());
  ScriptedReplies upstream(
      {referral("test. NS ns.test.", "ns.test. A 198.51.100.2"),
       referral("nsec.test. NS ns.nsec.test.", "ns.nsec.test. A 198.51.100.3\nwww.nsec.test. A 192.0.2.66"),
       authoritative("www.nsec.test. A 192.0.2.1")});
  QuietLog quiet;
  const fuzz::IteratorRun run = harness.resolve(kWwwA, upstream);
  ASSERT_EQ(run.broken, "");
  ASSERT_TRUE(run.finished);
  EXPECT_EQ(upstream.zones, (std::vector<std::string>{".", "test.", "nsec.test."}));
  ASSERT_EQ(run.result.answer.size(), 1u);
  EXPECT_EQ(run.result.answer[0].rdata, testing::records("www.nsec.test. A 192.0.2.1")[0].rdata);
  EXPECT_EQ(harness.check_result(kWwwA, run.result), "");
  Resolution forged = run.result;
  forged.answer = testing::records("www.nsec.test. A 192.0.2.66");
  ASSERT_EQ(fuzz::IteratorHarness::check_resolution(kWwwA, forged), "");
  EXPECT_NE(harness.check_result(kWwwA, forged), "");
}

// A real conversation from the corpus: the iterator's labels pass; moved to a zone
// that was asked on the way down, they no longer match a reply that held the RRset.
TEST(UpstreamReplyFuzzOracle, HarnessCatchesARelabelOfARecordedConversation) {
  const auto seeds = testing::fuzz_corpus("upstream_reply_fuzz");
  auto seed =
      std::find_if(seeds.begin(), seeds.end(), [](const auto &s) { return s.name == "seed-answer-nsec"; });
  ASSERT_NE(seed, seeds.end());
  const std::vector<uint8_t> bytes(seed->bytes.begin(), seed->bytes.end());
  fuzz::ChunkReader input(bytes.data(), bytes.size());
  const uint8_t flags = input.byte();
  const uint8_t types = input.byte();
  const auto name = input.chunk();
  ASSERT_TRUE(name);
  const Question question{*Name::from_text(*name), fuzz::IteratorOptions::from_header(flags, types).qtype,
                          rrclass::IN};
  ASSERT_EQ(question.name, kWwwA.name);
  ASSERT_EQ(question.qtype, kWwwA.qtype);
  fuzz::IteratorHarness harness(fuzz::IteratorOptions::from_header(flags, types));
  fuzz::ChunkReplies replies(input);
  QuietLog quiet;
  const fuzz::IteratorRun run = harness.resolve(question, replies);
  ASSERT_EQ(run.broken, "");
  ASSERT_TRUE(run.finished);
  const AnswerSource *source = run.result.source_of(kWwwA.name, rrtype::A);
  ASSERT_NE(source, nullptr);
  ASSERT_EQ(source->zone, n("nsec.test."));
  for (const char *other_zone : {"test.", "."}) {
    Resolution forged = run.result;
    for (auto &s : forged.sources)
      if (s.owner == kWwwA.name && s.type == rrtype::A) s.zone = n(other_zone);
    EXPECT_EQ(fuzz::IteratorHarness::check_resolution(question, forged), "") << other_zone;
    EXPECT_NE(harness.check_result(question, forged), "") << other_zone;
  }
}

// A reply the engine drops (QR clear) never reaches the iterator, so it vouches for
// nothing; the same reply with QR set does. The harness used to count every reply
// that parsed.
TEST(UpstreamReplyFuzzOracle, OnlyRepliesTheIteratorWasGivenCount) {
  for (const bool qr : {false, true}) {
    fuzz::IteratorHarness harness(plain_descent());
    Message root_reply = authoritative("www.nsec.test. A 192.0.2.66");
    root_reply.qr = qr;
    ScriptedReplies upstream({root_reply});
    QuietLog quiet;
    const fuzz::IteratorRun run = harness.resolve(kWwwA, upstream);
    ASSERT_EQ(run.broken, "");
    ASSERT_FALSE(upstream.zones.empty());
    EXPECT_EQ(upstream.zones.front(), ".");
    const std::string verdict = harness.check_result(kWwwA, labelled("www.nsec.test. A 192.0.2.66", "."));
    if (qr)
      EXPECT_EQ(verdict, "");
    else
      EXPECT_NE(verdict, "");
  }
}

// The fuzzer's finding, with the real iterator: the answer's TTL outlives the NS sets
// of the cuts, and ten minutes later the second question is answered from the cache
// alone, labelled with the root (no cut is known any more). The harness accepts it,
// and still catches a record the first question's replies did not hold.
TEST(UpstreamReplyFuzzOracle, HarnessAcceptsACachedAnswerWhoseCutExpired) {
  fuzz::IteratorHarness harness(plain_descent());
  ScriptedReplies upstream({referral("test. NS ns.test.", "ns.test. A 198.51.100.2"), referral_to_nsec_test(),
                            authoritative("www.nsec.test. 3600 A 192.0.2.1")});
  QuietLog quiet;
  const fuzz::IteratorRun first = harness.resolve(kWwwA, upstream);
  ASSERT_EQ(first.broken, "");
  ASSERT_TRUE(first.finished);
  ASSERT_EQ(upstream.zones, (std::vector<std::string>{".", "test.", "nsec.test."}));
  ASSERT_NE(first.result.source_of(kWwwA.name, rrtype::A), nullptr);
  EXPECT_EQ(first.result.source_of(kWwwA.name, rrtype::A)->zone, n("nsec.test."));
  harness.clock().advance_seconds(600);  // the referrals' NS sets (TTL 300) are gone
  const fuzz::IteratorRun second = harness.resolve(kWwwA, upstream);
  EXPECT_EQ(second.broken, "");
  ASSERT_TRUE(second.finished);
  EXPECT_EQ(upstream.zones.size(), 3u);  // nothing sent: from the cache
  ASSERT_NE(second.result.source_of(kWwwA.name, rrtype::A), nullptr);
  EXPECT_EQ(second.result.source_of(kWwwA.name, rrtype::A)->zone, Name::root());
  Resolution forged = second.result;
  forged.answer = testing::records("www.nsec.test. A 192.0.2.66");
  ASSERT_EQ(fuzz::IteratorHarness::check_resolution(kWwwA, forged), "");
  EXPECT_NE(harness.check_result(kWwwA, forged), "");
}

}  // namespace
}  // namespace rsv
