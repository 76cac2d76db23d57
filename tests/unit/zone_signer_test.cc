// The ldns-backed test signer (tests/support/zone_signer.h): its keys, DS records,
// zone signatures, NSEC/NSEC3 chains and hand-made signatures are checked twice,
// once by ldns itself and once by the project's validator functions, at the pinned
// test time.
#include "tests/support/zone_signer.h"

#include <chrono>
#include <cstdio>

#include <gtest/gtest.h>

#include "dnssec/crypto.h"
#include "dnssec/nsec.h"
#include "dnssec/nsec3.h"
#include "dnssec/rrsig.h"
#include "resolver/config/config.h"
#include "tests/support/signed_hierarchy.h"
#include "tests/unit/test_records.h"

namespace rsv::testing {
namespace {

constexpr const char *kZone = R"(
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 192.0.2.53
www A 192.0.2.1
www A 192.0.2.2
www AAAA 2001:db8::1
*.wild A 192.0.2.3
host.ent A 192.0.2.4
child NS ns.child
ns.child A 192.0.2.54
child DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
unsigned NS ns.unsigned
ns.unsigned A 192.0.2.55
)";

std::vector<ResourceRecord> all_of_type(const SignedZone &zone, uint16_t type) {
  std::vector<ResourceRecord> out;
  for (const auto &rr : zone.records)
    if (rr.type == type) out.push_back(rr);
  return out;
}

std::string nsec3_hash_for_tests(std::string_view name, std::string_view salt, uint16_t iterations) {
  return nsec3_hash(name, salt, iterations);
}

// Every RRSIG in the zone verifies with ldns and with verify_rrset, and every RRset
// that must be signed is. Returns how many RRSIGs were checked.
size_t check_every_signature(const SignedZone &zone) {
  DnssecConfig limits;
  const auto dnskeys = zone.rrset(zone.origin, rrtype::DNSKEY);
  size_t checked = 0;
  for (const auto &sig : all_of_type(zone, rrtype::RRSIG)) {
    const uint16_t covered = sig.rrsig_type_covered();
    const auto rrset = zone.rrset(sig.owner, covered);
    EXPECT_FALSE(rrset.empty()) << "RRSIG over nothing: " << sig.to_text();
    EXPECT_EQ(ldns_verify(rrset, sig, dnskeys), "All OK") << sig.to_text();
    ValidationBudget budget(limits);
    auto sets = group_rrsets(rrset);
    EXPECT_EQ(sets.size(), 1u);
    auto outcome = verify_rrset(sets.at(0), {sig}, dnskeys, zone.origin, kPinnedNow, budget);
    EXPECT_TRUE(outcome.is_secure()) << sig.to_text() << ": " << outcome.reason;
    ++checked;
  }
  return checked;
}

struct ZoneSignerTest : ::testing::Test {
  Name example = n("example.");
  SigningKey ksk = SigningKey::generate(example, KeyRole::ksk);
  SigningKey zsk = SigningKey::generate(example, KeyRole::zsk);
};

TEST_F(ZoneSignerTest, KeysHaveTheirFlagsTagAndDnskeyRecord) {
  auto fields = parse_dnskey(ksk.dnskey().rdata);
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->flags, 257);
  EXPECT_EQ(fields->protocol, 3);
  EXPECT_EQ(fields->algorithm, 13);
  EXPECT_EQ(fields->public_key.size(), 64u) << "RFC 6605 4: P-256 public key is 64 octets";
  EXPECT_EQ(ksk.key_tag(), key_tag(ksk.dnskey().rdata));
  EXPECT_EQ(ksk.dnskey().owner, example);
  EXPECT_EQ(ksk.dnskey().type, rrtype::DNSKEY);
  EXPECT_EQ(parse_dnskey(zsk.dnskey().rdata)->flags, 256);
  EXPECT_NE(ksk.dnskey().rdata, zsk.dnskey().rdata);
}

TEST_F(ZoneSignerTest, DsMatchesTheDnskey) {
  ResourceRecord ds = ksk.ds();
  EXPECT_EQ(ds.owner, example);
  EXPECT_EQ(ds.type, rrtype::DS);
  auto fields = parse_ds(ds.rdata);
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->key_tag, ksk.key_tag());
  EXPECT_EQ(fields->algorithm, 13);
  EXPECT_EQ(fields->digest_type, ds_digest_type::SHA256);
  EXPECT_EQ(fields->digest, ds_digest(ds_digest_type::SHA256, example.lowered().wire(), ksk.dnskey().rdata));
  auto sha384 = parse_ds(ksk.ds(ds_digest_type::SHA384).rdata);
  ASSERT_TRUE(sha384);
  EXPECT_EQ(sha384->digest, ds_digest(ds_digest_type::SHA384, example.lowered().wire(), ksk.dnskey().rdata));
}

TEST_F(ZoneSignerTest, NsecZoneVerifiesWithLdnsAndTheValidator) {
  SignedZone zone = sign_zone_text(kZone, example, {&ksk, &zsk});
  EXPECT_EQ(zone.denial, Denial::nsec);
  // SOA, NS, DNSKEY, A ns, A www, AAAA www, A *.wild, A host.ent, DS child, and one
  // NSEC per authoritative name (apex, ns, www, *.wild, host.ent, child, unsigned).
  EXPECT_EQ(check_every_signature(zone), 9u + 7u);
  // The DNSKEY set is signed by the KSK only, the rest by the ZSK only.
  auto dnskey_sigs = zone.rrsigs(example, rrtype::DNSKEY);
  ASSERT_EQ(dnskey_sigs.size(), 1u);
  EXPECT_EQ(parse_rrsig(dnskey_sigs[0])->key_tag, ksk.key_tag());
  ASSERT_EQ(zone.rrsigs(n("www.example."), rrtype::A).size(), 1u);
  EXPECT_EQ(parse_rrsig(zone.rrsigs(n("www.example."), rrtype::A)[0])->key_tag, zsk.key_tag());
  // Delegation NS and glue are not signed (RFC 4035 2.2).
  EXPECT_TRUE(zone.rrsigs(n("child.example."), rrtype::NS).empty());
  EXPECT_TRUE(zone.rrsigs(n("ns.child.example."), rrtype::A).empty());
  EXPECT_FALSE(zone.rrset(n("ns.child.example."), rrtype::A).empty());
}

TEST_F(ZoneSignerTest, DnskeySetIsProvenByTheDs) {
  SignedZone zone = sign_zone_text(kZone, example, {&ksk, &zsk});
  DnssecConfig limits;
  ValidationBudget budget(limits);
  auto keys = group_rrsets(zone.rrset(example, rrtype::DNSKEY));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].rdatas.size(), 2u);
  auto outcome = verify_dnskey_with_ds(keys[0], zone.rrsigs(example, rrtype::DNSKEY), {ksk.ds()}, example,
                                       kPinnedNow, budget);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
  auto wrong = verify_dnskey_with_ds(keys[0], zone.rrsigs(example, rrtype::DNSKEY), {zsk.ds()}, example,
                                     kPinnedNow, budget);
  EXPECT_TRUE(wrong.is_bogus()) << "the ZSK does not sign the DNSKEY set";
}

TEST_F(ZoneSignerTest, NsecChainCoversTheZoneInCanonicalOrder) {
  SignedZone zone = sign_zone_text(kZone, example, {&ksk, &zsk});
  // RFC 4034 6.1: labels compared from the right, so *.wild sorts under "wild".
  const std::vector<std::string> expected = {"example.",    "child.example.",    "host.ent.example.",
                                             "ns.example.", "unsigned.example.", "*.wild.example.",
                                             "www.example."};
  std::vector<std::string> owners;
  for (const auto &nsec : all_of_type(zone, rrtype::NSEC)) owners.push_back(nsec.owner.to_text());
  std::sort(owners.begin(), owners.end(), [](const std::string &a, const std::string &b) {
    return ldns_canonical_compare(n(a.c_str()), n(b.c_str())) < 0;
  });
  EXPECT_EQ(owners, expected);
  for (size_t i = 0; i < expected.size(); ++i) {
    auto nsec = zone.nsec_matching(n(expected[i].c_str()));
    ASSERT_EQ(nsec.size(), 2u) << expected[i];
    auto rdata = parse_nsec_rdata(nsec[0].rdata);
    ASSERT_TRUE(rdata);
    EXPECT_EQ(rdata->next.to_text(), expected[(i + 1) % expected.size()])
        << "the last NSEC points back to the apex";
  }
  // The delegation's NSEC lists NS and DS but not SOA; glue gets none.
  auto child = parse_nsec_rdata(zone.nsec_matching(n("child.example."))[0].rdata);
  EXPECT_TRUE(nsec_bitmap_has(child->bitmap, rrtype::NS));
  EXPECT_TRUE(nsec_bitmap_has(child->bitmap, rrtype::DS));
  EXPECT_FALSE(nsec_bitmap_has(child->bitmap, rrtype::SOA));
  EXPECT_TRUE(zone.nsec_matching(n("ns.child.example.")).empty());
}

TEST_F(ZoneSignerTest, NsecCoveringPicksTheGap) {
  SignedZone zone = sign_zone_text(kZone, example, {&ksk, &zsk});
  auto gap = zone.nsec_covering(n("mail.example."));  // between host.ent and ns
  ASSERT_EQ(gap.size(), 2u);
  EXPECT_EQ(gap[0].owner, n("host.ent.example."));
  EXPECT_EQ(gap[1].type, rrtype::RRSIG);
  auto last = zone.nsec_covering(n("zzz.example."));
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last[0].owner, n("www.example.")) << "the last NSEC covers names after it";
  EXPECT_TRUE(zone.nsec_covering(n("www.example.")).empty()) << "a name with an NSEC is matched, not covered";
  EXPECT_TRUE(nsec_covers(gap[0], n("mail.example.")));
}

TEST_F(ZoneSignerTest, Nsec3ZoneHashesLikeTheValidator) {
  ZoneSigningOptions options;
  options.nsec3 = Nsec3Params{3, std::string("\xca\xfe", 2), false};
  SignedZone zone = sign_zone_text(kZone, example, {&ksk, &zsk}, options);
  EXPECT_EQ(zone.denial, Denial::nsec3);
  EXPECT_TRUE(all_of_type(zone, rrtype::NSEC).empty());
  ASSERT_EQ(zone.rrset(example, rrtype::NSEC3PARAM).size(), 1u);
  // Apex, ns, www, *.wild, wild (empty non-terminal), host.ent, ent (empty
  // non-terminal), child, unsigned.
  EXPECT_EQ(all_of_type(zone, rrtype::NSEC3).size(), 9u);
  EXPECT_GE(check_every_signature(zone), 9u + 9u);

  for (const char *name : {"example.", "www.example.", "child.example.", "unsigned.example."}) {
    auto match = zone.nsec3_matching(n(name));
    ASSERT_EQ(match.size(), 2u) << name;
    auto rdata = parse_nsec3_rdata(match[0].rdata);
    ASSERT_TRUE(rdata);
    EXPECT_EQ(rdata->iterations, 3);
    EXPECT_EQ(rdata->salt, "\xca\xfe");
    EXPECT_FALSE(rdata->opt_out());
    // ldns's hash of the owner name is the validator's.
    std::string hash = nsec3_hash(n(name).lowered().wire(), rdata->salt, rdata->iterations);
    EXPECT_EQ(match[0].owner.first_label(), base32hex_encode(hash)) << name;
  }
  // An empty non-terminal has an NSEC3 with an empty type bitmap (RFC 5155 7.1).
  auto ent = zone.nsec3_matching(n("ent.example."));
  ASSERT_FALSE(ent.empty());
  EXPECT_TRUE(parse_nsec3_rdata(ent[0].rdata)->bitmap.empty());
  // An insecure delegation's NSEC3 lists only NS (RFC 5155 7.1, no RRSIG bit).
  auto insecure = parse_nsec3_rdata(zone.nsec3_matching(n("unsigned.example."))[0].rdata);
  EXPECT_TRUE(nsec_bitmap_has(insecure->bitmap, rrtype::NS));
  EXPECT_FALSE(nsec_bitmap_has(insecure->bitmap, rrtype::RRSIG));
  EXPECT_FALSE(nsec_bitmap_has(insecure->bitmap, rrtype::DS));
  // Glue below a cut gets no NSEC3.
  EXPECT_TRUE(zone.nsec3_matching(n("ns.child.example.")).empty());
  EXPECT_FALSE(zone.nsec3_covering(n("nothing.example.")).empty());
  EXPECT_TRUE(zone.nsec3_covering(n("www.example.")).empty()) << "a hash that matches is not covered";
}

TEST_F(ZoneSignerTest, OptOutLeavesUnsignedDelegationsOutOfTheChain) {
  ZoneSigningOptions options;
  options.nsec3 = Nsec3Params{0, "", true};
  SignedZone zone = sign_zone_text(kZone, example, {&ksk, &zsk}, options);
  EXPECT_TRUE(zone.nsec3_matching(n("unsigned.example.")).empty());
  auto covering = zone.nsec3_covering(n("unsigned.example."));
  ASSERT_FALSE(covering.empty());
  EXPECT_TRUE(parse_nsec3_rdata(covering[0].rdata)->opt_out());
  // The delegation with a DS keeps its NSEC3; the unsigned one is still served.
  EXPECT_FALSE(zone.nsec3_matching(n("child.example.")).empty());
  EXPECT_EQ(zone.rrset(n("unsigned.example."), rrtype::NS).size(), 1u);
  EXPECT_EQ(zone.rrset(n("ns.unsigned.example."), rrtype::A).size(), 1u);
  EXPECT_EQ(all_of_type(zone, rrtype::NSEC3).size(), 8u);
  check_every_signature(zone);

  // The validator accepts the opt-out span as proof of an insecure delegation.
  DnssecConfig limits;
  ValidationBudget budget(limits);
  std::vector<ResourceRecord> proof = zone.nsec3_matching(example);
  proof.insert(proof.end(), covering.begin(), covering.end());
  auto outcome =
      prove_insecure_delegation_nsec3(n("unsigned.example."), proof, example, budget, nsec3_hash_for_tests);
  EXPECT_EQ(outcome.security, Security::insecure) << outcome.reason;
}

TEST_F(ZoneSignerTest, SignRrsetMatchesZoneSigningAndLdnsVerifies) {
  auto rrset = records("www.example. 300 A 192.0.2.1\nwww.example. 300 A 192.0.2.2\n");
  ResourceRecord sig = sign_rrset(rrset, zsk);
  auto fields = parse_rrsig(sig);
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->type_covered, rrtype::A);
  EXPECT_EQ(fields->labels, 2);
  EXPECT_EQ(fields->original_ttl, 300u);
  EXPECT_EQ(fields->signer, example);
  EXPECT_EQ(fields->key_tag, zsk.key_tag());
  EXPECT_EQ(fields->inception, static_cast<uint32_t>(kPinnedNow - kSecondsPerDay));
  EXPECT_EQ(fields->expiration, static_cast<uint32_t>(kPinnedNow + 30 * kSecondsPerDay));
  EXPECT_EQ(ldns_verify(rrset, sig, {zsk.dnskey()}), "All OK");
  // Record order does not matter: the signed data is canonical (RFC 4034 6.3).
  std::vector<ResourceRecord> reversed(rrset.rbegin(), rrset.rend());
  EXPECT_EQ(ldns_verify(reversed, sig, {zsk.dnskey()}), "All OK");
  EXPECT_NE(ldns_verify(rrset, sig, {ksk.dnskey()}), "All OK");
}

TEST_F(ZoneSignerTest, ForgedSignaturesFailForTheRightReason) {
  DnssecConfig limits;
  auto rrset = records("www.example. 300 A 192.0.2.1\n");
  auto set = group_rrsets(rrset).at(0);
  auto verify = [&](const ResourceRecord &sig) {
    ValidationBudget budget(limits);
    return verify_rrset(set, {sig}, {ksk.dnskey(), zsk.dnskey()}, example, kPinnedNow, budget);
  };

  auto expired = verify(
      sign_rrset(rrset, zsk, SignatureSpec().with_window(SignatureWindow::expired_before(kPinnedNow))));
  EXPECT_TRUE(expired.is_bogus());
  EXPECT_EQ(expired.ede, ede::SIGNATURE_EXPIRED) << expired.reason;

  auto early = verify(
      sign_rrset(rrset, zsk, SignatureSpec().with_window(SignatureWindow::starting_after(kPinnedNow))));
  EXPECT_EQ(early.ede, ede::SIGNATURE_NOT_YET_VALID) << early.reason;

  SigningKey stranger = SigningKey::generate(example, KeyRole::zsk);
  auto unknown_key = verify(sign_rrset(rrset, stranger));
  EXPECT_TRUE(unknown_key.is_bogus());
  // A key the zone does not publish (RFC 8914's DNSKEY Missing is for a DS without its key).
  EXPECT_EQ(unknown_key.ede, ede::DNSSEC_BOGUS) << unknown_key.reason;

  // The stranger claims the real ZSK's tag: the signature itself fails.
  auto wrong_key = verify(sign_rrset(rrset, stranger, SignatureSpec().with_key_tag(zsk.key_tag())));
  EXPECT_TRUE(wrong_key.is_bogus());
  EXPECT_EQ(wrong_key.ede, ede::DNSSEC_BOGUS) << wrong_key.reason;

  auto other_signer = verify(sign_rrset(rrset, zsk, SignatureSpec().with_signer(n("other."))));
  EXPECT_TRUE(other_signer.is_bogus()) << other_signer.reason;

  SigningKey not_a_zone_key = SigningKey::generate(example, KeyRole::zsk, 13, uint16_t{0});
  EXPECT_EQ(parse_dnskey(not_a_zone_key.dnskey().rdata)->flags, 0);
  ValidationBudget budget(limits);
  auto no_zone_bit = verify_rrset(set, {sign_rrset(rrset, not_a_zone_key)}, {not_a_zone_key.dnskey()},
                                  example, kPinnedNow, budget);
  EXPECT_EQ(no_zone_bit.ede, ede::NO_ZONE_KEY_BIT) << no_zone_bit.reason;
}

TEST_F(ZoneSignerTest, LabelsFieldSignsTheWildcardOwner) {
  // RFC 4035 5.3.2: labels 2 on a 3-label owner means "expanded from *.wild.example."
  auto expanded = records("x.wild.example. 300 A 192.0.2.3\n");
  ResourceRecord sig = sign_rrset(expanded, zsk, SignatureSpec().with_labels(2));
  EXPECT_EQ(parse_rrsig(sig)->labels, 2);
  EXPECT_EQ(ldns_verify(expanded, sig, {zsk.dnskey()}), "All OK");
  auto other_expansion = records("y.wild.example. 300 A 192.0.2.3\n");
  EXPECT_EQ(ldns_verify(other_expansion, sig, {zsk.dnskey()}), "All OK") << "any expansion of the wildcard";

  DnssecConfig limits;
  ValidationBudget budget(limits);
  std::optional<Name> source;
  auto outcome = verify_rrset(group_rrsets(expanded).at(0), {sig}, {zsk.dnskey()}, example, kPinnedNow,
                              budget, nullptr, &source);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
  ASSERT_TRUE(source);
  EXPECT_EQ(*source, n("wild.example."));
}

TEST_F(ZoneSignerTest, OriginalTtlIsWhatIsSigned) {
  auto served = records("www.example. 60 A 192.0.2.1\n");
  ResourceRecord sig = sign_rrset(served, zsk, SignatureSpec().with_original_ttl(3600));
  EXPECT_EQ(parse_rrsig(sig)->original_ttl, 3600u);
  EXPECT_EQ(ldns_verify(served, sig, {zsk.dnskey()}), "All OK") << "a decremented TTL still verifies";
}

class SignerAlgorithmTest : public ::testing::TestWithParam<uint8_t> {};

TEST_P(SignerAlgorithmTest, KeysOfEachAlgorithmSignAndVerify) {
  const uint8_t algorithm = GetParam();
  SigningKey key = SigningKey::generate(n("example."), KeyRole::ksk, algorithm);
  EXPECT_EQ(parse_dnskey(key.dnskey().rdata)->algorithm, algorithm);
  auto rrset = records("example. 300 TXT \"signed\"\n");
  ResourceRecord sig = sign_rrset(rrset, key);
  EXPECT_EQ(parse_rrsig(sig)->algorithm, algorithm);
  EXPECT_EQ(ldns_verify(rrset, sig, {key.dnskey()}), "All OK");
  DnssecConfig limits;
  ValidationBudget budget(limits);
  auto outcome =
      verify_rrset(group_rrsets(rrset).at(0), {sig}, {key.dnskey()}, n("example."), kPinnedNow, budget);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SignerAlgorithmTest,
                         ::testing::Values(dnssec_algorithm::RSASHA256, dnssec_algorithm::ECDSAP256SHA256,
                                           dnssec_algorithm::ECDSAP384SHA384, dnssec_algorithm::ED25519));

TEST(ZoneSignerHierarchy, StandardHierarchySignsQuickly) {
  auto start = std::chrono::steady_clock::now();
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  ::testing::Test::RecordProperty("sign_ms", static_cast<int>(elapsed_ms));
  std::printf("signed hierarchy of %zu zones in %lld ms\n", hierarchy.zones().size(),
              static_cast<long long>(elapsed_ms));
  EXPECT_EQ(hierarchy.zones().size(), 9u);
  // Loose bound: a few hundred milliseconds under ASan on a busy machine.
  EXPECT_LT(elapsed_ms, 5000);
  size_t signatures = 0;
  for (const auto &zone : hierarchy.zones())
    if (!zone.keys.empty()) signatures += check_every_signature(hierarchy.records(zone.origin));
  EXPECT_GT(signatures, 50u);
}

}  // namespace
}  // namespace rsv::testing
