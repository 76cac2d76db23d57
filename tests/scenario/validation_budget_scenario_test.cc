// Every DNSSEC work limit of dnssec.max-* enforced through the engine, on the signed
// fake hierarchy: a hostile (or merely heavy) answer ends in SERVFAIL with the
// limit named, never in unbounded work, and never in "insecure" (a limit is not a
// proof that a zone is unsigned). The limits are lowered so that honest answers
// trip them, which shows each is checked where the work happens.
#include <gtest/gtest.h>

#include "dnssec/verification_cache.h"
#include "tests/scenario/signed_fake_server.h"

namespace rsv::testing {
namespace {

const SignedHierarchy &standard() {
  static const SignedHierarchy kStandard = SignedHierarchy::standard();
  return kStandard;
}

// Signatures and NSEC3 hashes this thread worked out for earlier tests would cost
// nothing now (dnssec/verification_cache.h), and the limits below count the work.
class ValidationBudget : public ::testing::Test {
protected:
  void SetUp() override { clear_verification_caches_of_this_thread(); }
};

void expect_budget_failure(const Resolution &r, const std::string &reason_part) {
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_EQ(r.security, Security::bogus);
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->extra_text.find(reason_part), std::string::npos) << r.error->extra_text;
}

TEST_F(ValidationBudget, RrsigsPerRrset) {
  // Nine RRSIGs that claim the zone's key but do not verify: eight are tried.
  SignedNetwork h(standard());
  const SignedZone &zone = standard().records(*Name::from_text("nsec.test."));
  const uint16_t zsk_tag = standard().zone(zone.origin).zsk().key_tag();
  SigningKey stranger = SigningKey::generate(zone.origin, KeyRole::zsk);
  h.net.server("127.10.2.1").forge = [&](const Message &q) -> std::optional<Message> {
    if (!q.question() || q.question()->name != *Name::from_text("www.nsec.test.") ||
        q.question()->qtype != rrtype::A)
      return std::nullopt;
    Message reply = standard().authorities().at("127.10.2.1").answer(q);
    std::vector<ResourceRecord> data;
    for (const auto &rr : reply.answer)
      if (rr.type == rrtype::A) data.push_back(rr);
    reply.answer = data;
    for (uint32_t ttl = 300; ttl < 309; ++ttl)
      reply.answer.push_back(
          sign_rrset(data, stranger, SignatureSpec().with_key_tag(zsk_tag).with_original_ttl(ttl)));
    return reply;
  };
  expect_budget_failure(h.resolve("www.nsec.test.", rrtype::A), "max-rrsigs-per-rrset");
}

TEST_F(ValidationBudget, KeysPerTag) {
  SignedNetwork h(standard());
  h.config.dnssec.max_keys_per_tag = 0;
  expect_budget_failure(h.resolve("www.nsec.test.", rrtype::A), "max-keys-per-tag");
}

TEST_F(ValidationBudget, DsPerZone) {
  SignedNetwork h(standard());
  h.config.dnssec.max_ds_per_zone = 0;
  expect_budget_failure(h.resolve("www.nsec.test.", rrtype::A), "max-ds-per-zone");
}

TEST_F(ValidationBudget, VerificationsPerResponse) {
  // A CNAME and its target in one response need two verifications.
  SignedNetwork h(standard());
  ASSERT_EQ(h.resolve("www.nsec.test.", rrtype::AAAA).security, Security::secure);  // keys now cached
  h.config.dnssec.max_verifications_per_response = 1;
  expect_budget_failure(h.resolve("alias.nsec.test.", rrtype::A), "validation budget exhausted");
}

TEST_F(ValidationBudget, VerificationsPerQuery) {
  // A cold cache: root, test. and nsec.test. keys and DS, then the answer.
  SignedNetwork h(standard());
  h.config.dnssec.max_verifications_per_query = 3;
  expect_budget_failure(h.resolve("www.nsec.test.", rrtype::A), "validation budget exhausted");
}

TEST_F(ValidationBudget, Nsec3RecordsPerResponse) {
  // An NXDOMAIN closest encloser proof holds two or three NSEC3 records.
  SignedNetwork h(standard());
  h.config.dnssec.max_nsec3_per_response = 1;
  expect_budget_failure(h.resolve("missing.nsec3.test.", rrtype::A), "NSEC3 records in one response");
}

TEST_F(ValidationBudget, Nsec3HashesPerQuery) {
  SignedNetwork h(standard());
  h.config.dnssec.max_nsec3_hashes_per_query = 1;
  expect_budget_failure(h.resolve("missing.nsec3.test.", rrtype::A), "NSEC3 hashes");
}

TEST_F(ValidationBudget, Nsec3IterationsMakeTheDenialInsecure) {
  // RFC 9276 3.2: more iterations than the limit -> insecure with EDE 27, not bogus.
  std::vector<ZoneSpec> specs = SignedHierarchy::standard_specs();
  for (auto &spec : specs)
    if (spec.origin == "nsec3.test.") spec.nsec3.iterations = 5;
  SignedHierarchy hierarchy = SignedHierarchy::build(specs);
  SignedNetwork h(hierarchy);
  h.config.dnssec.max_nsec3_iterations = 4;
  Resolution r = h.resolve("missing.nsec3.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NXDOMAIN);
  EXPECT_EQ(r.security, Security::insecure);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->info_code, ede::UNSUPPORTED_NSEC3_ITERATIONS);
  // A positive answer needs no NSEC3 and stays secure.
  EXPECT_EQ(h.resolve("www.nsec3.test.", rrtype::A).security, Security::secure);
}

}  // namespace
}  // namespace rsv::testing
