// The validator state machine, driven by hand: its sub-questions are answered from
// a zone signed by ldns-signzone (tests/unit/data/dnssec/alg13.zone, trust anchor
// alg13.ds) at a pinned time.
#include "dnssec/validator.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cache/rrset_cache.h"
#include "dnssec/negative_trust_anchors.h"
#include "tests/unit/test_records.h"

namespace rsv {
namespace {

using testing::n;

std::vector<ResourceRecord> fixture(const char *file) {
  std::ifstream in(std::string(RESOLVER_SOURCE_DIR) + "/tests/unit/data/dnssec/" + file);
  std::stringstream text;
  text << in.rdbuf();
  return testing::records(text.str());
}

struct ValidatorTest : ::testing::Test {
  ManualClock clock;
  DnssecConfig config;
  KeyCache keys{clock};
  std::vector<TrustAnchor> anchors;
  ValidatorEnv env{keys, anchors, config, clock, nullptr};
  std::vector<ResourceRecord> zone = fixture("alg13.zone");
  std::vector<Question> asked;

  ValidatorTest() {
    clock.set_seconds(1735689600);  // 2025-01-01, inside the signatures' validity
    TrustAnchor anchor;
    anchor.zone = n("example.");
    anchor.ds = fixture("alg13.ds");
    anchors.push_back(anchor);
  }

  // Records of the zone at owner/type, with their RRSIGs.
  std::vector<ResourceRecord> rrset(const char *owner, uint16_t type) {
    std::vector<ResourceRecord> out;
    for (const auto &rr : zone)
      if (rr.owner == n(owner) && (rr.type == type || (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == type)))
        out.push_back(rr);
    return out;
  }

  // Answers the validator's sub-questions from the zone until it is done.
  Resolution run(Question question, Resolution resolution, bool dnskey_fetch_fails = false) {
    ValidationBudget budget(config);
    Validator validator(env, question, std::move(resolution), budget);
    for (int step = 0; step < 50; ++step) {
      auto action = validator.next();
      if (action.kind == ValidatorAction::Kind::done) {
        validator.commit_failures();  // as the engine does with a final result
        return validator.result();
      }
      asked.push_back(action.question);
      Resolution answer;
      answer.rcode = rcode::NOERROR;
      std::string name = action.question.name.to_text();
      if (action.question.qtype == rrtype::DNSKEY && !dnskey_fetch_fails)
        answer.answer = rrset(name.c_str(), rrtype::DNSKEY);
      if (action.question.qtype == rrtype::DS) {
        // As the zone's server would: NODATA with the SOA and the NSEC at the name.
        answer.authority = rrset("example.", rrtype::SOA);
        auto nsec = rrset(name.c_str(), rrtype::NSEC);
        answer.authority.insert(answer.authority.end(), nsec.begin(), nsec.end());
      }
      if (dnskey_fetch_fails) answer = Resolution::failure(ede::NO_REACHABLE_AUTHORITY, "no reply");
      validator.on_subquery_result(answer);
    }
    ADD_FAILURE() << "validator did not finish";
    return validator.result();
  }

  Resolution positive(const char *owner, uint16_t type) {
    Resolution r;
    r.rcode = rcode::NOERROR;
    r.answer = rrset(owner, type);
    r.cache_ttl = 3600;
    return r;
  }
};

TEST_F(ValidatorTest, SignedAnswerIsSecureAfterFetchingTheAnchorsKeys) {
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, positive("www.example.", rrtype::A));
  EXPECT_EQ(result.security, Security::secure);
  EXPECT_EQ(result.rcode, rcode::NOERROR);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].qtype, rrtype::DNSKEY);
  // The validated keys are cached: a second answer needs no sub-question.
  asked.clear();
  auto again = run(Question{n("mail.example."), rrtype::MX, rrclass::IN}, positive("mail.example.", rrtype::MX));
  EXPECT_EQ(again.security, Security::secure);
  EXPECT_TRUE(asked.empty());
}

TEST_F(ValidatorTest, ChangedRecordIsBogusWithEde6) {
  Resolution r = positive("www.example.", rrtype::A);
  for (auto &rr : r.answer)
    if (rr.type == rrtype::A) rr.rdata[3] ^= 1;
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, r);
  EXPECT_EQ(result.rcode, rcode::SERVFAIL);
  EXPECT_EQ(result.security, Security::bogus);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->info_code, ede::DNSSEC_BOGUS);
  EXPECT_NE(result.error->extra_text.find("www.example."), std::string::npos) << result.error->extra_text;
}

TEST_F(ValidatorTest, UnsignedDataInASecureZoneIsBogusWithEde10) {
  Resolution r = positive("www.example.", rrtype::A);
  std::erase_if(r.answer, [](const ResourceRecord &rr) { return rr.type == rrtype::RRSIG; });
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, r);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->info_code, ede::RRSIGS_MISSING) << result.error->extra_text;
  // The walk toward the unsigned owner asked whether www.example. is a zone cut.
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[1].qtype, rrtype::DS);
  EXPECT_EQ(asked[1].name, n("www.example."));
}

TEST_F(ValidatorTest, ExpiredSignaturesGiveEde7) {
  clock.set_seconds(2100000000);  // 2036, after the signatures' expiry
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, positive("www.example.", rrtype::A));
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->info_code, ede::SIGNATURE_EXPIRED);
}

TEST_F(ValidatorTest, NxdomainWithItsProofIsSecureAndWithoutIsBogus) {
  Resolution nx;
  nx.rcode = rcode::NXDOMAIN;
  nx.cacheable = true;
  auto soa = rrset("example.", rrtype::SOA);
  nx.authority = soa;
  for (const char *owner : {"www.example.", "example."}) {
    auto nsec = rrset(owner, rrtype::NSEC);
    nx.authority.insert(nx.authority.end(), nsec.begin(), nsec.end());
  }
  auto proven = run(Question{n("zzz.example."), rrtype::A, rrclass::IN}, nx);
  EXPECT_EQ(proven.security, Security::secure);
  EXPECT_EQ(proven.rcode, rcode::NXDOMAIN);

  Resolution bare;
  bare.rcode = rcode::NXDOMAIN;
  bare.authority = soa;
  auto missing = run(Question{n("zzz.example."), rrtype::A, rrclass::IN}, bare);
  ASSERT_TRUE(missing.error);
  EXPECT_EQ(missing.error->info_code, ede::NSEC_MISSING);
}

TEST_F(ValidatorTest, WildcardAnswerNeedsTheNoCloserNameProof) {
  Resolution r;
  r.rcode = rcode::NOERROR;
  for (auto rr : rrset("*.wild.example.", rrtype::TXT)) {
    rr.owner = n("anything.wild.example.");  // the expansion, signed with labels = 2
    r.answer.push_back(rr);
  }
  auto without = run(Question{n("anything.wild.example."), rrtype::TXT, rrclass::IN}, r);
  EXPECT_EQ(without.security, Security::bogus) << "a wildcard answer without its NSEC";
  r.authority = rrset("*.wild.example.", rrtype::NSEC);
  auto ns_nsec = rrset("ns.example.", rrtype::NSEC);
  r.authority.insert(r.authority.end(), ns_nsec.begin(), ns_nsec.end());
  auto with = run(Question{n("anything.wild.example."), rrtype::TXT, rrclass::IN}, r);
  EXPECT_EQ(with.security, Security::secure) << (with.error ? with.error->extra_text : "");
}

TEST_F(ValidatorTest, NamesWithoutATrustAnchorAreInsecure) {
  Resolution r;
  r.rcode = rcode::NOERROR;
  r.answer = testing::records("www.other. 300 A 192.0.2.1\n");
  auto result = run(Question{n("www.other."), rrtype::A, rrclass::IN}, r);
  EXPECT_EQ(result.security, Security::insecure);
  EXPECT_TRUE(asked.empty());
}

TEST_F(ValidatorTest, NegativeTrustAnchorMakesBogusDataInsecure) {
  config.negative_trust_anchors.push_back(n("example."));
  Resolution r = positive("www.example.", rrtype::A);
  for (auto &rr : r.answer)
    if (rr.type == rrtype::A) rr.rdata[3] ^= 1;
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, r);
  EXPECT_EQ(result.security, Security::insecure);
  EXPECT_EQ(result.rcode, rcode::NOERROR);
}

TEST_F(ValidatorTest, UnreachableKeysAreBogusWithEde9) {
  auto result =
      run(Question{n("www.example."), rrtype::A, rrclass::IN}, positive("www.example.", rrtype::A), true);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->info_code, ede::DNSKEY_MISSING);
}

// ---- forgeries built from the zone's own, validly signed records ----------------

// Rewrites one byte of each RRSIG covering `type` in `records`.
void patch_rrsigs(std::vector<ResourceRecord> &records, uint16_t type, size_t offset, uint8_t value) {
  for (auto &rr : records)
    if (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == type) rr.rdata[offset] = static_cast<char>(value);
}

TEST_F(ValidatorTest, AnRrsigOfAnUnsupportedAlgorithmIsNoSignature) {
  // The zone's DS and DNSKEY are algorithm 13; a changed A record whose only RRSIG
  // claims algorithm 200 would be "insecure" if that RRSIG made the RRset unverifiable.
  Resolution r = positive("www.example.", rrtype::A);
  for (auto &rr : r.answer)
    if (rr.type == rrtype::A) rr.rdata[3] ^= 1;
  patch_rrsigs(r.answer, rrtype::A, 2, 200);
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, r);
  EXPECT_EQ(result.rcode, rcode::SERVFAIL);
  EXPECT_EQ(result.security, Security::bogus);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->info_code, ede::RRSIGS_MISSING) << result.error->extra_text;
  EXPECT_NE(result.error->extra_text.find("unsupported algorithm 200"), std::string::npos);
}

TEST_F(ValidatorTest, ASignerNameOutsideTheOwnersZoneIsIgnored) {
  // A signer name is a claim: one that is no ancestor of the owner cannot be the zone
  // that holds it (RFC 4035 5.3.1), so the validator never looks for its keys.
  Resolution r = positive("www.example.", rrtype::A);
  for (auto &rr : r.answer)
    if (rr.type == rrtype::RRSIG) {
      std::string rdata = rr.rdata.substr(0, 18) + n("other.").wire();
      rdata += rr.rdata.substr(18 + n("example.").wire().size());
      rr.rdata = rdata;
    }
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, r);
  EXPECT_EQ(result.security, Security::bogus);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->info_code, ede::RRSIGS_MISSING) << result.error->extra_text;
  for (const auto &q : asked) EXPECT_NE(q.name, n("other.")) << "asked about the claimed signer";
}

TEST_F(ValidatorTest, ARrsigOfAnotherTypeDoesNotCover) {
  // The TXT signature of the wildcard, re-owned and re-typed as an A record.
  Resolution r;
  r.rcode = rcode::NOERROR;
  r.answer = testing::records("www.example. 3600 A 192.0.2.66\n");
  for (auto rr : rrset("mail.example.", rrtype::MX))
    if (rr.type == rrtype::RRSIG) {
      rr.owner = n("www.example.");
      r.answer.push_back(rr);
    }
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, r);
  EXPECT_EQ(result.security, Security::bogus);
}

TEST_F(ValidatorTest, NxdomainWithAnEmptyAuthoritySectionIsBogus) {
  Resolution nx;
  nx.rcode = rcode::NXDOMAIN;
  nx.zone = n("example.");
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, nx);
  EXPECT_EQ(result.rcode, rcode::SERVFAIL);
  EXPECT_EQ(result.security, Security::bogus);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->info_code, ede::NSEC_MISSING) << result.error->extra_text;
}

TEST_F(ValidatorTest, NxdomainWithoutTheZonesSoaIsBogus) {
  // The proof records are real and would prove zzz.example. absent, but a denial
  // without the zone's SOA is not what the zone sends (RFC 4035 3.1.3).
  Resolution nx;
  nx.rcode = rcode::NXDOMAIN;
  nx.zone = n("example.");
  for (const char *owner : {"www.example.", "example."}) {
    auto nsec = rrset(owner, rrtype::NSEC);
    nx.authority.insert(nx.authority.end(), nsec.begin(), nsec.end());
  }
  auto result = run(Question{n("zzz.example."), rrtype::A, rrclass::IN}, nx);
  EXPECT_EQ(result.security, Security::bogus);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->info_code, ede::NSEC_MISSING);
  EXPECT_NE(result.error->extra_text.find("no SOA"), std::string::npos) << result.error->extra_text;
}

TEST_F(ValidatorTest, NodataForATypeThatExistsIsBogus) {
  // The real SOA and the real NSEC at www.example., which lists A.
  Resolution nodata;
  nodata.rcode = rcode::NOERROR;
  nodata.zone = n("example.");
  nodata.authority = rrset("example.", rrtype::SOA);
  auto nsec = rrset("www.example.", rrtype::NSEC);
  nodata.authority.insert(nodata.authority.end(), nsec.begin(), nsec.end());
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, nodata);
  EXPECT_EQ(result.security, Security::bogus);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->info_code, ede::NSEC_MISSING);
  EXPECT_NE(result.error->extra_text.find("lists A"), std::string::npos) << result.error->extra_text;
}

TEST_F(ValidatorTest, ValidationResultsAreWrittenToTheRrsetCache) {
  RRsetCache cache{clock, 1 << 20, TtlPolicy{}};
  env.rrsets = &cache;
  auto secure = run(Question{n("www.example."), rrtype::A, rrclass::IN}, positive("www.example.", rrtype::A));
  ASSERT_EQ(secure.security, Security::secure);
  auto www = cache.lookup(n("www.example."), rrtype::A);
  ASSERT_TRUE(www);
  EXPECT_EQ(www->security, Security::secure);
  EXPECT_EQ(cache.lookup(n("example."), rrtype::DNSKEY)->security, Security::secure);

  // A tampered MX set is stored bogus, for at most bogus-ttl.
  Resolution tampered = positive("mail.example.", rrtype::MX);
  for (auto &rr : tampered.answer)
    if (rr.type == rrtype::MX) rr.rdata[1] ^= 1;
  ASSERT_EQ(run(Question{n("mail.example."), rrtype::MX, rrclass::IN}, tampered).security, Security::bogus);
  auto mx = cache.lookup(n("mail.example."), rrtype::MX);
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->security, Security::bogus);
  EXPECT_LE(mx->rrset.ttl, config.bogus_ttl);

  // A later spoof of the secure www A set, unchecked at the same rank, cannot replace it.
  RRset spoof = www->rrset;
  spoof.rdatas = {std::string("\x06\x06\x06\x06", 4)};
  EXPECT_FALSE(cache.store(spoof, Trust::authoritative, Security::unchecked));
}

TEST_F(ValidatorTest, CachedStatusIsReusedWithoutVerifying) {
  // RFC 4035 4.7: an RRset the cache holds as secure (the iterator says so in its
  // source) costs no signature verification.
  Resolution r = positive("www.example.", rrtype::A);
  r.sources.push_back(AnswerSource{n("www.example."), rrtype::A, Name::root(), Trust::authoritative, Security::secure});
  ValidationBudget budget(config);
  Validator validator(env, Question{n("www.example."), rrtype::A, rrclass::IN}, r, budget);
  ASSERT_EQ(validator.next().kind, ValidatorAction::Kind::done);
  EXPECT_EQ(validator.result().security, Security::secure);
  EXPECT_EQ(budget.verifications(), 0u);
  // And a set cached as bogus is bogus without a look at its signatures.
  r.sources.back().security = Security::bogus;
  Validator again(env, Question{n("www.example."), rrtype::A, rrclass::IN}, r, budget);
  ASSERT_EQ(again.next().kind, ValidatorAction::Kind::done);
  EXPECT_EQ(again.result().security, Security::bogus);
}

TEST_F(ValidatorTest, ARaisedTtlIsCappedAtTheOriginalTtl) {
  // RFC 4035 5.3.3: the signature vouches for the original TTL (3600), not for the
  // 86400 a server (or a forger replaying the record) writes.
  Resolution r = positive("www.example.", rrtype::A);
  for (auto &rr : r.answer) rr.ttl = 86400;
  r.cache_ttl = 86400;
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, r);
  ASSERT_EQ(result.security, Security::secure);
  for (const auto &rr : result.answer) EXPECT_LE(rr.ttl, 3600u) << rr.to_text();
  EXPECT_LE(result.cache_ttl, 3600u);
}

TEST_F(ValidatorTest, FailuresAreNotValidated) {
  auto result = run(Question{n("www.example."), rrtype::A, rrclass::IN}, Resolution::failure(ede::OTHER, "x"));
  EXPECT_EQ(result.rcode, rcode::SERVFAIL);
  EXPECT_TRUE(asked.empty());
}

// RFC 7646: the daemon flushes a name's cached data when a negative trust anchor for
// it is added or removed, having counted the change first. A validation that was
// under way across the change must not write what it judged after that flush: here
// the anchor comes while the validator waits for the zone's DNSKEY set.
struct ValidatorAnchorChangeTest : ValidatorTest {
  RRsetCache rrsets{clock, 1u << 20, TtlPolicy{}};
  NegativeTrustAnchors negative_anchors;
  ValidatorEnv env_with_caches{keys, anchors, config, clock, nullptr, &rrsets, &negative_anchors};

  Resolution validate(bool anchor_added_meanwhile) {
    ValidationBudget budget(config);
    Resolution answered = positive("www.example.", rrtype::A);
    answered.cacheable = true;  // as the iterator says of an authoritative answer
    Validator validator(env_with_caches, Question{n("www.example."), rrtype::A, rrclass::IN},
                        std::move(answered), budget);
    for (int step = 0; step < 50; ++step) {
      auto action = validator.next();
      if (action.kind == ValidatorAction::Kind::done) {
        validator.commit_failures();
        return validator.result();
      }
      if (anchor_added_meanwhile) negative_anchors.add(n("example."), clock.now_seconds() + 3600);
      Resolution answer;
      answer.rcode = rcode::NOERROR;
      answer.answer = rrset(action.question.name.to_text().c_str(), action.question.qtype);
      validator.on_subquery_result(answer);
    }
    ADD_FAILURE() << "validator did not finish";
    return validator.result();
  }
};

TEST_F(ValidatorAnchorChangeTest, WithoutAChangeTheValidatedAnswerIsKept) {
  const Resolution result = validate(false);
  EXPECT_EQ(result.security, Security::secure);
  EXPECT_TRUE(result.cacheable);
  ASSERT_TRUE(result.negative_anchor_changes);
  EXPECT_EQ(*result.negative_anchor_changes, negative_anchors.changes());
  auto cached = rrsets.lookup(n("www.example."), rrtype::A);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->security, Security::secure);
}

TEST_F(ValidatorAnchorChangeTest, AnAnchorAddedWhileValidatingKeepsItsVerdictOutOfTheCaches) {
  const Resolution result = validate(true);
  // The client that asked still gets the verdict of when its answer was judged...
  EXPECT_EQ(result.security, Security::secure);
  // ...but neither the RRset cache nor (through cacheable) the message cache keeps it.
  EXPECT_FALSE(result.cacheable);
  EXPECT_FALSE(rrsets.lookup(n("www.example."), rrtype::A));
  ASSERT_TRUE(result.negative_anchor_changes);
  EXPECT_NE(*result.negative_anchor_changes, negative_anchors.changes());
}

}  // namespace
}  // namespace rsv
