// A deterministic stand-in for the libFuzzer target tests/fuzz/validator_fuzz.cc, run
// with every unit test build: the committed seeds (tests/fuzz/corpus/validator_fuzz/,
// Resolutions of a signed hierarchy and the DS/DNSKEY answers the validator asked
// for, honest and forged) and a few hundred seeded, structure-aware mutations of them
// go through the validator with the same driver and properties as in the fuzz
// target. The seeds' names say the verdict they must get, which also proves that
// tests/fuzz/hierarchy_data.h (the anchor) still goes with them. The soundness
// oracle (tests/fuzz/hierarchy_truth.h) is checked on its own too: a property that
// can never fail proves nothing.
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
#include "tests/fuzz/validator_fuzz.cc"

namespace rsv {
namespace {

using fuzz::ChunkedInput;
using testing::SplitMix64;

using testing::QuietLog;

std::string run(const std::string &input, std::vector<fuzz::ValidatorRun> *runs = nullptr) {
  // An exact-size heap copy, so AddressSanitizer builds catch a read past the end.
  const std::vector<uint8_t> bytes(input.begin(), input.end());
  QuietLog quiet;
  return fuzz::check_validator_input(bytes.data(), bytes.size(), runs);
}

bool starts_with(const std::string &text, const char *prefix) { return text.rfind(prefix, 0) == 0; }

TEST(ValidatorFuzzCorpus, SeedsGetTheVerdictTheirNameSays) {
  const auto seeds = testing::fuzz_corpus("validator_fuzz");
  ASSERT_GE(seeds.size(), 30u);
  std::map<Security, size_t> verdicts;
  for (const auto &seed : seeds) {
    std::vector<fuzz::ValidatorRun> runs;
    EXPECT_EQ(run(seed.bytes, &runs), "") << seed.name;
    ASSERT_FALSE(runs.empty()) << seed.name;
    const Security got = runs.front().result.security;
    ++verdicts[got];
    Security want = Security::unchecked;
    if (starts_with(seed.name, "seed-secure-") || starts_with(seed.name, "seed-caches-")) want = Security::secure;
    if (starts_with(seed.name, "seed-insecure-")) want = Security::insecure;
    if (starts_with(seed.name, "seed-bogus-") || starts_with(seed.name, "seed-forged-")) want = Security::bogus;
    if (want != Security::unchecked) {
      for (const auto &r : runs) EXPECT_EQ(to_string(r.result.security), std::string(to_string(want))) << seed.name;
    }
  }
  EXPECT_GE(verdicts[Security::secure], 15u);
  EXPECT_GE(verdicts[Security::insecure], 4u);
  EXPECT_GE(verdicts[Security::bogus], 6u);
}

TEST(ValidatorFuzzCorpus, MutatedResolutionsKeepTheProperties) {
  constexpr int kMutantsPerSeed = 40;
  SplitMix64 rng(20250103);
  std::map<Security, size_t> verdicts;
  size_t total = 0;
  for (const auto &seed : testing::fuzz_corpus("validator_fuzz")) {
    for (int i = 0; i < kMutantsPerSeed; ++i) {
      ChunkedInput input = ChunkedInput::split(seed.bytes, 1);
      const size_t rounds = 1 + rng.below(3);
      for (size_t r = 0; r < rounds; ++r) mutate_chunked(input, rng, 0);
      std::vector<fuzz::ValidatorRun> runs;
      EXPECT_EQ(run(input.join(), &runs), "") << seed.name << " mutant " << i;
      ++total;
      if (!runs.empty()) ++verdicts[runs.front().result.security];
    }
  }
  std::printf("validator mutants: %zu; secure %zu, insecure %zu, bogus %zu, unchecked %zu\n", total,
              verdicts[Security::secure], verdicts[Security::insecure], verdicts[Security::bogus],
              verdicts[Security::unchecked]);
  EXPECT_GT(verdicts[Security::secure], 50u);
  EXPECT_GT(verdicts[Security::bogus], 50u);
}

TEST(ValidatorFuzzCorpus, ShortAndOddInputsAreHarmless) {
  const std::vector<std::string> inputs = {"", "\x3F", std::string("\x00\x00\x0C", 3),
                                           std::string("\x00\x00\x0C\x00\x01\x84\x00\x00\x01\x00\x00\x00\x00\x00\x00", 15)};
  for (const auto &input : inputs) EXPECT_EQ(run(input), "") << input.size();
  // Every header octet with the first seed's chunks.
  const auto seeds = testing::fuzz_corpus("validator_fuzz");
  ASSERT_FALSE(seeds.empty());
  for (unsigned flags = 0; flags < 64; ++flags) {
    std::string input = seeds.front().bytes;
    input[0] = static_cast<char>(flags);
    EXPECT_EQ(run(input), "") << flags;
  }
}

// ---- the soundness oracle ----------------------------------------------------------

Resolution claim(uint16_t code, const std::string &answer_text = "", Security security = Security::secure) {
  Resolution r;
  r.rcode = code;
  r.security = security;
  if (!answer_text.empty()) r.answer = testing::records(answer_text);
  return r;
}

std::string judge(const char *name, uint16_t qtype, const Resolution &result, const Resolution &input = {},
                  const std::vector<Name> &untrusted = {}) {
  return fuzz::ValidatorWorld::get().truth.check(Question{*Name::from_text(name), qtype, rrclass::IN}, input, result,
                                                 untrusted);
}

TEST(ValidatorFuzzOracle, AcceptsWhatTheHierarchyHolds) {
  EXPECT_EQ(judge("www.nsec.test.", rrtype::A, claim(rcode::NOERROR, "www.nsec.test. A 192.0.2.1")), "");
  EXPECT_EQ(judge("a.b.wild.nsec.test.", rrtype::A, claim(rcode::NOERROR, "a.b.wild.nsec.test. A 192.0.2.3")), "");
  EXPECT_EQ(judge("nx.nsec.test.", rrtype::A, claim(rcode::NXDOMAIN)), "");
  EXPECT_EQ(judge("www.nsec.test.", rrtype::TXT, claim(rcode::NOERROR)), "");
  EXPECT_EQ(judge("ent.nsec.test.", rrtype::A, claim(rcode::NOERROR)), "");
  EXPECT_EQ(judge("a.wild.nsec.test.", rrtype::MX, claim(rcode::NOERROR)), "");
  EXPECT_EQ(judge("insecure.test.", rrtype::DS, claim(rcode::NOERROR)), "");
  // CNAME to a name that does not exist: the NXDOMAIN is about the target.
  EXPECT_EQ(judge("x.dname.nsec.test.", rrtype::A,
                  claim(rcode::NXDOMAIN, "dname.nsec.test. DNAME nsec3.test.\nx.dname.nsec.test. CNAME x.nsec3.test.\n")),
            "");
  // At a cut, the NSEC RRset may be the parent's (found by validator_fuzz: the oracle
  // took test.'s NSEC at the unsigned insecure.test. for the child's).
  const auto &zones = fuzz::ValidatorWorld::get().truth.zones();
  auto parent = std::find_if(zones.begin(), zones.end(), [](const auto &z) { return z.origin == *Name::from_text("test."); });
  ASSERT_NE(parent, zones.end());
  Resolution delegation_nsec = claim(rcode::NOERROR);
  for (const auto &rr : parent->records)
    if (rr.owner == *Name::from_text("insecure.test.") && rr.type == rrtype::NSEC) delegation_nsec.answer.push_back(rr);
  ASSERT_EQ(delegation_nsec.answer.size(), 1u);
  EXPECT_EQ(judge("a.wild.nsec.test.", rrtype::MX, delegation_nsec), "");
  delegation_nsec.answer[0].rdata[0] ^= 1;  // but it must be that NSEC
  EXPECT_NE(judge("a.wild.nsec.test.", rrtype::MX, delegation_nsec), "");
  // Bogus verdicts vouch for nothing; insecure ones only that no chain of trust reaches.
  EXPECT_EQ(judge("www.nsec.test.", rrtype::A, claim(rcode::NOERROR, "www.nsec.test. A 192.0.2.9", Security::bogus)),
            "");
  EXPECT_EQ(judge("www.insecure.test.", rrtype::A,
                  claim(rcode::NOERROR, "www.insecure.test. A 192.0.2.99", Security::insecure)), "");
  EXPECT_EQ(judge("nx.island.nsec3.test.", rrtype::A, claim(rcode::NXDOMAIN, "", Security::insecure)), "");
  // A true CNAME of a signed zone to a name no chain of trust reaches (here under a
  // negative trust anchor): the answer is as weak as its weakest link.
  EXPECT_EQ(judge("out.nsec.test.", rrtype::A,
                  claim(rcode::NOERROR, "out.nsec.test. CNAME www.nsec3.test.\nwww.nsec3.test. A 192.0.2.1\n",
                        Security::insecure),
                  {}, {*Name::from_text("nsec3.test.")}),
            "");
  // An opt-out span may hide an unsigned delegation that nothing proves (RFC 5155 6).
  EXPECT_EQ(judge("www.invented.optout.test.", rrtype::A,
                  claim(rcode::NOERROR, "www.invented.optout.test. A 192.0.2.9", Security::insecure)),
            "");
  EXPECT_EQ(judge("www.nsec.test.", rrtype::A,
                  claim(rcode::NOERROR, "www.nsec.test. A 192.0.2.1", Security::insecure), {},
                  {*Name::from_text("nsec.test.")}),
            "");
  // What the input says it took from the cache with a status is not judged again.
  Resolution input = claim(rcode::NOERROR, "www.nsec.test. A 192.0.2.9", Security::unchecked);
  input.sources.push_back({*Name::from_text("www.nsec.test."), rrtype::A, Name::root(), Trust::answer, Security::secure});
  EXPECT_EQ(judge("www.nsec.test.", rrtype::A, claim(rcode::NOERROR, "www.nsec.test. A 192.0.2.9"), input), "");
}

TEST(ValidatorFuzzOracle, CatchesEveryKindOfLie) {
  EXPECT_NE(judge("www.nsec.test.", rrtype::A, claim(rcode::NOERROR, "www.nsec.test. A 192.0.2.9")), "");
  EXPECT_NE(judge("www.insecure.test.", rrtype::A, claim(rcode::NOERROR, "www.insecure.test. A 192.0.2.20")), "");
  EXPECT_NE(judge("www.island.nsec3.test.", rrtype::A, claim(rcode::NOERROR, "www.island.nsec3.test. A 192.0.2.30")),
            "");
  EXPECT_NE(judge("www.nsec3.test.", rrtype::A, claim(rcode::NOERROR, "www.nsec3.test. A 192.0.2.1"), {},
                  {*Name::from_text("nsec3.test.")}),
            "");
  EXPECT_NE(judge("www.nsec.test.", rrtype::A, claim(rcode::NXDOMAIN)), "");
  EXPECT_NE(judge("ent.nsec.test.", rrtype::A, claim(rcode::NXDOMAIN)), "");
  EXPECT_NE(judge("x.wild.nsec.test.", rrtype::A, claim(rcode::NXDOMAIN)), "");
  EXPECT_NE(judge("x.dname.nsec.test.", rrtype::A, claim(rcode::NXDOMAIN)), "");
  EXPECT_NE(judge("www.nsec.test.", rrtype::A, claim(rcode::NOERROR)), "");
  EXPECT_NE(judge("alias.nsec.test.", rrtype::A, claim(rcode::NOERROR)), "");
  EXPECT_NE(judge("nsec.test.", rrtype::DS, claim(rcode::NOERROR)), "");
  EXPECT_NE(judge("nx.nsec.test.", rrtype::A, claim(rcode::NOERROR)), "");
  EXPECT_NE(judge("x.wild.nsec.test.", rrtype::A, claim(rcode::NOERROR)), "");
  EXPECT_NE(judge("nx.unsigned.optout.test.", rrtype::A, claim(rcode::NXDOMAIN)), "");
}

// Downgrades: an insecure verdict for data that a chain of trust covers (what a replayed
// DS denial or a child's NSEC would talk a careless validator into).
TEST(ValidatorFuzzOracle, CatchesDowngradesToInsecure) {
  EXPECT_NE(judge("www.nsec.test.", rrtype::A, claim(rcode::NOERROR, "www.nsec.test. A 192.0.2.9", Security::insecure)),
            "");
  EXPECT_NE(judge("www.nsec.test.", rrtype::A, claim(rcode::NOERROR, "www.nsec.test. A 192.0.2.1", Security::insecure)),
            "");
  EXPECT_NE(judge("nx.nsec3.test.", rrtype::A, claim(rcode::NXDOMAIN, "", Security::insecure)), "");
  EXPECT_NE(judge("www.nsec3.test.", rrtype::TXT, claim(rcode::NOERROR, "", Security::insecure)), "");
  // The parent's DS denial for an unsigned child is signed data of the parent.
  EXPECT_NE(judge("insecure.test.", rrtype::DS, claim(rcode::NOERROR, "", Security::insecure)), "");
  // Both ends of a CNAME in signed zones.
  EXPECT_NE(judge("alias.nsec.test.", rrtype::A,
                  claim(rcode::NOERROR, "alias.nsec.test. CNAME www.nsec.test.\nwww.nsec.test. A 192.0.2.1\n",
                        Security::insecure)),
            "");
  // Found in review: one record from an unsigned zone excused everything beside it,
  // and out.nsec.test. holds another CNAME (to www.nsec3.test.).
  EXPECT_NE(judge("out.nsec.test.", rrtype::A,
                  claim(rcode::NOERROR,
                        "out.nsec.test. CNAME www.insecure.test.\nwww.insecure.test. A 192.0.2.20\n",
                        Security::insecure)),
            "");
  // The opt-out zone's own names have their NSEC3: no span hides a delegation there.
  EXPECT_NE(judge("www.optout.test.", rrtype::A,
                  claim(rcode::NOERROR, "www.optout.test. A 192.0.2.1", Security::insecure)),
            "");
  // A cache source that says secure does not excuse an insecure verdict.
  Resolution from_cache = claim(rcode::NOERROR, "www.nsec.test. A 192.0.2.1", Security::unchecked);
  from_cache.sources.push_back(
      {*Name::from_text("www.nsec.test."), rrtype::A, Name::root(), Trust::answer, Security::secure});
  EXPECT_NE(judge("www.nsec.test.", rrtype::A,
                  claim(rcode::NOERROR, "www.nsec.test. A 192.0.2.1", Security::insecure), from_cache),
            "");
  // A name under a signed zone that is not the opt-out one.
  EXPECT_NE(judge("www.invented.nsec3.test.", rrtype::A,
                  claim(rcode::NOERROR, "www.invented.nsec3.test. A 192.0.2.9", Security::insecure)),
            "");
}

// What the harness takes for the resolver's own caches: a sub-answer may say an RRset
// came from them, judged already. Only a claim the caches could hold is believed, so
// that the exemption (no soundness check after a false claim) stays narrow.
TEST(ValidatorFuzzOracle, BelievesOnlyCacheClaimsTheCachesCouldHold) {
  const auto &truth = fuzz::ValidatorWorld::get().truth;
  auto from_cache = [](const std::string &text, const char *owner, uint16_t type, Security security) {
    Resolution r = claim(rcode::NOERROR, text);
    r.sources.push_back(AnswerSource{*Name::from_text(owner), type, *Name::from_text("test."),
                                     Trust::authoritative, security});
    return r;
  };
  const std::string real_ds = [&] {
    std::string text;
    for (const auto &zone : truth.zones())
      if (zone.origin == *Name::from_text("test."))
        for (const auto &rr : zone.records)
          if (rr.owner == *Name::from_text("nsec3.test.") && rr.type == rrtype::DS)
            text += rr.to_text() + "\n";
    return text;
  }();
  ASSERT_FALSE(real_ds.empty());
  EXPECT_TRUE(truth.cache_claims_hold(from_cache(real_ds, "nsec3.test.", rrtype::DS, Security::secure), {}));
  // The same set claimed unchecked is the validator's to check: no claim at all.
  EXPECT_TRUE(truth.cache_claims_hold(
      from_cache("nsec3.test. DS 1 77 2 00", "nsec3.test.", rrtype::DS, Security::unchecked), {}));
  // A DS set the zone does not hold, said to be secure from the cache.
  EXPECT_FALSE(truth.cache_claims_hold(
      from_cache("nsec3.test. DS 1 77 2 00", "nsec3.test.", rrtype::DS, Security::secure), {}));
  // The real DS set said to be insecure, where a chain of trust reaches it...
  EXPECT_FALSE(
      truth.cache_claims_hold(from_cache(real_ds, "nsec3.test.", rrtype::DS, Security::insecure), {}));
  // ...and data of an unsigned zone said to be secure.
  EXPECT_FALSE(truth.cache_claims_hold(
      from_cache("www.insecure.test. A 192.0.2.20", "www.insecure.test.", rrtype::A, Security::secure), {}));
  EXPECT_TRUE(truth.cache_claims_hold(
      from_cache("www.insecure.test. A 192.0.2.20", "www.insecure.test.", rrtype::A, Security::insecure),
      {}));
}

}  // namespace
}  // namespace rsv
