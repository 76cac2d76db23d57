// The DNSSEC-aware fake authority (tests/support/signed_authority.h) over the
// standard signed hierarchy (tests/support/signed_hierarchy.h): every kind of
// reply carries the records RFC 4035 3.1 / RFC 5155 7.2 require, checked with the
// project's own RRSIG and denial-of-existence functions; then the hierarchy on a
// FakeNetwork, with the forge hook, and the engine validating through it.
#include "tests/scenario/signed_fake_server.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include <gtest/gtest.h>

#include "dnssec/crypto.h"
#include "dnssec/nsec.h"
#include "dnssec/nsec3.h"
#include "dnssec/rrsig.h"

namespace rsv::testing {
namespace {

const SignedHierarchy &standard() {
  // Signed once for the whole binary: tests that change zones build their own.
  static const SignedHierarchy kStandard = SignedHierarchy::standard();
  return kStandard;
}

Message query(const std::string &name, uint16_t type, bool dnssec_ok = true) {
  Message q;
  q.id = 4242;
  q.questions.push_back(Question{n(name.c_str()), type, rrclass::IN});
  q.edns = Edns{};
  q.edns->dnssec_ok = dnssec_ok;
  return q;
}

// Asks the server of `zone` in the standard hierarchy.
Message ask(const std::string &zone, const std::string &name, uint16_t type, bool dnssec_ok = true) {
  const auto &authorities = standard().authorities();
  return authorities.at(standard().zone(n(zone.c_str())).address).answer(query(name, type, dnssec_ok));
}

std::vector<ResourceRecord> of_type(const std::vector<ResourceRecord> &section, uint16_t type) {
  std::vector<ResourceRecord> out;
  for (const auto &rr : section)
    if (rr.type == type) out.push_back(rr);
  return out;
}

bool contains(const std::vector<ResourceRecord> &section, const ResourceRecord &record) {
  return std::any_of(section.begin(), section.end(), [&](const ResourceRecord &rr) {
    return rr.owner == record.owner && rr.type == record.type && rr.rdata == record.rdata;
  });
}

// Each expected list (an NSEC3 with its RRSIG, as SignedZone returns it) must be
// non-empty and its first record must be in `section`.
void expect_all_present(const std::vector<ResourceRecord> &section,
                        const std::vector<std::vector<ResourceRecord>> &expected) {
  for (const auto &records : expected) {
    ASSERT_FALSE(records.empty());
    EXPECT_TRUE(contains(section, records.front())) << records.front().to_text();
  }
}

Nsec3HashFunction hash_function() {
  return [](std::string_view name, std::string_view salt, uint16_t iterations) {
    return nsec3_hash(name, salt, iterations);
  };
}

// Every RRset of `section` except those listed as unsigned verifies with the
// zone's DNSKEYs at the pinned time. Returns how many RRsets were verified.
size_t verify_signed_rrsets(const std::vector<ResourceRecord> &section, const std::string &zone,
                            std::vector<uint16_t> unsigned_types = {}) {
  const SignedZone &signed_zone = standard().records(n(zone.c_str()));
  auto dnskeys = signed_zone.rrset(signed_zone.origin, rrtype::DNSKEY);
  DnssecConfig limits;
  size_t verified = 0;
  for (const auto &set : group_rrsets(section)) {
    if (std::find(unsigned_types.begin(), unsigned_types.end(), set.type) != unsigned_types.end()) continue;
    ValidationBudget budget(limits);
    std::optional<Name> wildcard;
    auto outcome = verify_rrset(set, set.signatures, dnskeys, signed_zone.origin, kPinnedNow, budget, nullptr,
                                &wildcard);
    EXPECT_TRUE(outcome.is_secure()) << set.owner.to_text() << " " << type_to_text(set.type) << ": "
                                     << outcome.reason;
    ++verified;
  }
  return verified;
}

TEST(SignedFakeServer, PositiveAnswerCarriesItsRrsig) {
  Message reply = ask("nsec.test.", "www.nsec.test.", rrtype::A);
  EXPECT_EQ(reply.rcode, rcode::NOERROR);
  EXPECT_TRUE(reply.aa);
  EXPECT_EQ(reply.id, 4242);
  ASSERT_TRUE(reply.edns);
  EXPECT_TRUE(reply.edns->dnssec_ok) << "RFC 3225 3: DO is copied";
  EXPECT_EQ(of_type(reply.answer, rrtype::A).size(), 1u);
  EXPECT_EQ(of_type(reply.answer, rrtype::RRSIG).size(), 1u);
  EXPECT_EQ(verify_signed_rrsets(reply.answer, "nsec.test."), 1u);
  EXPECT_TRUE(reply.authority.empty());
}

TEST(SignedFakeServer, WithoutDoThereAreNoDnssecRecords) {
  Message positive = ask("nsec.test.", "www.nsec.test.", rrtype::A, false);
  EXPECT_EQ(of_type(positive.answer, rrtype::A).size(), 1u);
  EXPECT_TRUE(of_type(positive.answer, rrtype::RRSIG).empty());
  ASSERT_TRUE(positive.edns);
  EXPECT_FALSE(positive.edns->dnssec_ok);

  Message nx = ask("nsec3.test.", "missing.nsec3.test.", rrtype::A, false);
  EXPECT_EQ(nx.rcode, rcode::NXDOMAIN);
  ASSERT_EQ(nx.authority.size(), 1u);
  EXPECT_EQ(nx.authority[0].type, rrtype::SOA);

  Message referral = ask("test.", "www.nsec.test.", rrtype::A, false);
  EXPECT_EQ(of_type(referral.authority, rrtype::NS).size(), 1u);
  EXPECT_TRUE(of_type(referral.authority, rrtype::DS).empty()) << "RFC 4035 3.1.4: DS only with DO";

  // A query for a DNSSEC type gets it even without DO.
  Message keys = ask("nsec.test.", "nsec.test.", rrtype::DNSKEY, false);
  EXPECT_EQ(of_type(keys.answer, rrtype::DNSKEY).size(), 2u);
}

TEST(SignedFakeServer, NxdomainWithNsecProvesNameAndWildcardAbsent) {
  Message reply = ask("nsec.test.", "missing.nsec.test.", rrtype::A);
  EXPECT_EQ(reply.rcode, rcode::NXDOMAIN);
  EXPECT_TRUE(reply.aa);
  EXPECT_EQ(of_type(reply.authority, rrtype::SOA).size(), 1u);
  auto nsecs = of_type(reply.authority, rrtype::NSEC);
  EXPECT_FALSE(nsecs.empty());
  EXPECT_EQ(verify_signed_rrsets(reply.authority, "nsec.test."), 1u + nsecs.size());
  auto proof = prove_nxdomain_nsec(n("missing.nsec.test."), nsecs, n("nsec.test."));
  EXPECT_TRUE(proof.is_secure()) << proof.reason;
  // mail < missing < ns; nsec.test. < *.nsec.test. < alias: two different NSECs.
  ASSERT_EQ(nsecs.size(), 2u);
  auto name_nsec = std::find_if(nsecs.begin(), nsecs.end(),
                                [](const ResourceRecord &rr) { return rr.owner == n("mail.nsec.test."); });
  auto wildcard_nsec = std::find_if(nsecs.begin(), nsecs.end(),
                                    [](const ResourceRecord &rr) { return rr.owner == n("nsec.test."); });
  ASSERT_NE(name_nsec, nsecs.end());
  ASSERT_NE(wildcard_nsec, nsecs.end());
  // Without the wildcard's NSEC the proof is incomplete.
  EXPECT_TRUE(prove_nxdomain_nsec(n("missing.nsec.test."), {*name_nsec}, n("nsec.test.")).is_bogus());
}

TEST(SignedFakeServer, NxdomainWithNsec3IsAClosestEncloserProof) {
  Message reply = ask("nsec3.test.", "missing.nsec3.test.", rrtype::A);
  EXPECT_EQ(reply.rcode, rcode::NXDOMAIN);
  auto nsec3s = of_type(reply.authority, rrtype::NSEC3);
  // Closest encloser (the apex), next closer (missing.), wildcard (*.); one NSEC3
  // may play two parts.
  const SignedZone &zone = standard().records(n("nsec3.test."));
  expect_all_present(nsec3s,
                     {zone.nsec3_matching(n("nsec3.test.")), zone.nsec3_covering(n("missing.nsec3.test.")),
                      zone.nsec3_covering(n("*.nsec3.test."))});
  EXPECT_EQ(verify_signed_rrsets(reply.authority, "nsec3.test."), 1u + nsec3s.size());
  DnssecConfig limits;
  ValidationBudget budget(limits);
  auto proof =
      prove_nxdomain_nsec3(n("missing.nsec3.test."), nsec3s, n("nsec3.test."), budget, hash_function());
  EXPECT_TRUE(proof.is_secure()) << proof.reason;
  // A deeper name: the closest encloser is still the apex.
  Message deep = ask("nsec3.test.", "a.b.missing.nsec3.test.", rrtype::A);
  ValidationBudget budget2(limits);
  auto deep_proof = prove_nxdomain_nsec3(n("a.b.missing.nsec3.test."), of_type(deep.authority, rrtype::NSEC3),
                                         n("nsec3.test."), budget2, hash_function());
  EXPECT_TRUE(deep_proof.is_secure()) << deep_proof.reason;
}

TEST(SignedFakeServer, NodataProofsMatchTheName) {
  DnssecConfig limits;
  Message nsec = ask("nsec.test.", "www.nsec.test.", rrtype::TXT);
  EXPECT_EQ(nsec.rcode, rcode::NOERROR);
  EXPECT_TRUE(nsec.answer.empty());
  auto nsecs = of_type(nsec.authority, rrtype::NSEC);
  ASSERT_EQ(nsecs.size(), 1u);
  EXPECT_EQ(nsecs[0].owner, n("www.nsec.test."));
  EXPECT_EQ(verify_signed_rrsets(nsec.authority, "nsec.test."), 2u);
  EXPECT_TRUE(prove_nodata_nsec(n("www.nsec.test."), rrtype::TXT, nsecs, n("nsec.test.")).is_secure());
  EXPECT_TRUE(prove_nodata_nsec(n("www.nsec.test."), rrtype::A, nsecs, n("nsec.test.")).is_bogus())
      << "the same NSEC cannot deny a type it lists";

  Message nsec3 = ask("nsec3.test.", "www.nsec3.test.", rrtype::TXT);
  auto nsec3s = of_type(nsec3.authority, rrtype::NSEC3);
  ASSERT_EQ(nsec3s.size(), 1u);
  EXPECT_EQ(verify_signed_rrsets(nsec3.authority, "nsec3.test."), 2u);
  ValidationBudget budget(limits);
  auto proof = prove_nodata_nsec3(n("www.nsec3.test."), rrtype::TXT, nsec3s, n("nsec3.test."), budget,
                                  hash_function());
  EXPECT_TRUE(proof.is_secure()) << proof.reason;
}

TEST(SignedFakeServer, EmptyNonTerminalIsNodata) {
  DnssecConfig limits;
  Message nsec = ask("nsec.test.", "ent.nsec.test.", rrtype::A);
  EXPECT_EQ(nsec.rcode, rcode::NOERROR);
  EXPECT_TRUE(nsec.answer.empty());
  auto nsecs = of_type(nsec.authority, rrtype::NSEC);
  ASSERT_EQ(nsecs.size(), 1u);
  EXPECT_EQ(nsecs[0].owner, n("*.cwild.nsec.test.")) << "the NSEC before host.ent covers ent";
  EXPECT_TRUE(prove_nodata_nsec(n("ent.nsec.test."), rrtype::A, nsecs, n("nsec.test.")).is_secure());

  Message nsec3 = ask("nsec3.test.", "ent.nsec3.test.", rrtype::A);
  EXPECT_EQ(nsec3.rcode, rcode::NOERROR);
  auto nsec3s = of_type(nsec3.authority, rrtype::NSEC3);
  ASSERT_EQ(nsec3s.size(), 1u) << "ldns gives the empty non-terminal its own NSEC3";
  EXPECT_TRUE(parse_nsec3_rdata(nsec3s[0].rdata)->bitmap.empty());
  ValidationBudget budget(limits);
  auto proof =
      prove_nodata_nsec3(n("ent.nsec3.test."), rrtype::A, nsec3s, n("nsec3.test."), budget, hash_function());
  EXPECT_TRUE(proof.is_secure()) << proof.reason;
}

TEST(SignedFakeServer, WildcardAnswerKeepsTheLabelsAndProvesTheNameAbsent) {
  DnssecConfig limits;
  for (const char *zone : {"nsec.test.", "nsec3.test."}) {
    SCOPED_TRACE(zone);
    const Name origin = n(zone);
    const Name qname = *origin.prepend("wild")->prepend("anything");
    Message reply = ask(zone, qname.to_text(), rrtype::A);
    EXPECT_EQ(reply.rcode, rcode::NOERROR);
    auto a = of_type(reply.answer, rrtype::A);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].owner, qname);
    auto sigs = of_type(reply.answer, rrtype::RRSIG);
    ASSERT_EQ(sigs.size(), 1u);
    EXPECT_EQ(sigs[0].owner, qname);
    EXPECT_EQ(parse_rrsig(sigs[0])->labels, origin.label_count() + 1) << "RFC 4035 5.3.2: labels of *.wild";

    ValidationBudget budget(limits);
    std::optional<Name> source;
    auto keys = standard().records(origin).rrset(origin, rrtype::DNSKEY);
    auto verified =
        verify_rrset(group_rrsets(a).at(0), sigs, keys, origin, kPinnedNow, budget, nullptr, &source);
    EXPECT_TRUE(verified.is_secure()) << verified.reason;
    ASSERT_TRUE(source);
    EXPECT_EQ(*source, *origin.prepend("wild"));

    ValidationOutcome proof;
    if (origin == n("nsec.test."))
      proof = prove_wildcard_answer_nsec(qname, *source, of_type(reply.authority, rrtype::NSEC), origin);
    else
      proof = prove_wildcard_answer_nsec3(qname, *source, of_type(reply.authority, rrtype::NSEC3), origin,
                                          budget, hash_function());
    EXPECT_TRUE(proof.is_secure()) << proof.reason;
    EXPECT_EQ(verify_signed_rrsets(reply.authority, zone), 1u);
  }
}

TEST(SignedFakeServer, WildcardNodataProvesTheWildcardLacksTheType) {
  DnssecConfig limits;
  Message nsec = ask("nsec.test.", "anything.wild.nsec.test.", rrtype::AAAA);
  EXPECT_EQ(nsec.rcode, rcode::NOERROR);
  EXPECT_TRUE(nsec.answer.empty());
  auto nsecs = of_type(nsec.authority, rrtype::NSEC);
  ASSERT_EQ(nsecs.size(), 1u) << "the NSEC at *.wild both matches the wildcard and covers the name";
  EXPECT_EQ(nsecs[0].owner, n("*.wild.nsec.test."));
  EXPECT_TRUE(
      prove_nodata_nsec(n("anything.wild.nsec.test."), rrtype::AAAA, nsecs, n("nsec.test.")).is_secure());

  Message nsec3 = ask("nsec3.test.", "anything.wild.nsec3.test.", rrtype::AAAA);
  auto nsec3s = of_type(nsec3.authority, rrtype::NSEC3);
  // Closest encloser, next closer, wildcard; here the wildcard's NSEC3 also covers
  // the next closer name.
  const SignedZone &zone = standard().records(n("nsec3.test."));
  expect_all_present(nsec3s, {zone.nsec3_matching(n("wild.nsec3.test.")),
                              zone.nsec3_covering(n("anything.wild.nsec3.test.")),
                              zone.nsec3_matching(n("*.wild.nsec3.test."))});
  EXPECT_EQ(nsec3s.size(), 2u);
  ValidationBudget budget(limits);
  auto proof = prove_nodata_nsec3(n("anything.wild.nsec3.test."), rrtype::AAAA, nsec3s, n("nsec3.test."),
                                  budget, hash_function());
  EXPECT_TRUE(proof.is_secure()) << proof.reason;
}

TEST(SignedFakeServer, CnameInsideTheZoneIsFollowed) {
  Message reply = ask("nsec.test.", "alias.nsec.test.", rrtype::A);
  EXPECT_EQ(reply.rcode, rcode::NOERROR);
  ASSERT_EQ(of_type(reply.answer, rrtype::CNAME).size(), 1u);
  ASSERT_EQ(of_type(reply.answer, rrtype::A).size(), 1u);
  EXPECT_EQ(reply.answer.front().type, rrtype::CNAME);
  EXPECT_EQ(of_type(reply.answer, rrtype::A)[0].owner, n("www.nsec.test."));
  EXPECT_EQ(verify_signed_rrsets(reply.answer, "nsec.test."), 2u);

  // Through a wildcard: the CNAME's target is expanded from *.wild.
  Message wild = ask("nsec.test.", "wildalias.nsec.test.", rrtype::A);
  auto a = of_type(wild.answer, rrtype::A);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].owner, n("x.wild.nsec.test."));
  EXPECT_EQ(of_type(wild.authority, rrtype::NSEC).size(), 1u) << "the expansion's proof";

  // Out of the zone: the CNAME alone.
  Message out = ask("nsec.test.", "out.nsec.test.", rrtype::A);
  EXPECT_EQ(out.answer.size(), 2u);
  EXPECT_EQ(out.answer.front().type, rrtype::CNAME);
}

TEST(SignedFakeServer, ReferralToASecureChildCarriesSignedDsAndGlue) {
  Message reply = ask("test.", "www.nsec.test.", rrtype::A);
  EXPECT_EQ(reply.rcode, rcode::NOERROR);
  EXPECT_FALSE(reply.aa);
  EXPECT_TRUE(reply.answer.empty());
  auto ns = of_type(reply.authority, rrtype::NS);
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].owner, n("nsec.test."));
  auto ds = of_type(reply.authority, rrtype::DS);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(parse_ds(ds[0].rdata)->key_tag, standard().zone(n("nsec.test.")).ksk().key_tag());
  EXPECT_EQ(verify_signed_rrsets(reply.authority, "test.", {rrtype::NS}), 1u);
  auto glue = of_type(reply.additional, rrtype::A);
  ASSERT_EQ(glue.size(), 1u);
  EXPECT_EQ(glue[0].owner, n("ns.nsec.test."));
  EXPECT_TRUE(of_type(reply.authority, rrtype::NSEC).empty());
}

TEST(SignedFakeServer, ReferralsToUnsignedChildrenProveThereIsNoDs) {
  DnssecConfig limits;
  // NSEC parent: the NSEC at the cut lists NS without DS.
  Message nsec = ask("test.", "www.insecure.test.", rrtype::A);
  EXPECT_TRUE(of_type(nsec.authority, rrtype::DS).empty());
  auto nsecs = of_type(nsec.authority, rrtype::NSEC);
  ASSERT_EQ(nsecs.size(), 1u);
  EXPECT_EQ(verify_signed_rrsets(nsec.authority, "test.", {rrtype::NS}), 1u);
  EXPECT_EQ(prove_insecure_delegation_nsec(n("insecure.test."), nsecs, n("test.")).security,
            Security::insecure);

  // NSEC3 parent without Opt-Out: the NSEC3 matching the cut.
  Message nsec3 = ask("nsec3.test.", "www.island.nsec3.test.", rrtype::A);
  auto matching = of_type(nsec3.authority, rrtype::NSEC3);
  ASSERT_EQ(matching.size(), 1u);
  ValidationBudget budget(limits);
  EXPECT_EQ(prove_insecure_delegation_nsec3(n("island.nsec3.test."), matching, n("nsec3.test."), budget,
                                            hash_function())
                .security,
            Security::insecure);

  // NSEC3 Opt-Out parent: the closest encloser proof, next closer covered by an
  // Opt-Out NSEC3.
  Message optout = ask("optout.test.", "www.unsigned.optout.test.", rrtype::A);
  auto nsec3s = of_type(optout.authority, rrtype::NSEC3);
  ASSERT_EQ(nsec3s.size(), 2u);
  EXPECT_EQ(verify_signed_rrsets(optout.authority, "optout.test.", {rrtype::NS}), 2u);
  const SignedZone &zone = standard().records(n("optout.test."));
  EXPECT_TRUE(zone.nsec3_matching(n("unsigned.optout.test.")).empty());
  ValidationBudget budget2(limits);
  auto proof = prove_insecure_delegation_nsec3(n("unsigned.optout.test."), nsec3s, n("optout.test."), budget2,
                                               hash_function());
  EXPECT_EQ(proof.security, Security::insecure) << proof.reason;
  auto glue = of_type(optout.additional, rrtype::A);
  ASSERT_EQ(glue.size(), 1u);
  EXPECT_EQ(glue[0].owner, n("ns.unsigned.optout.test."));
}

TEST(SignedFakeServer, OptOutEmptyNonTerminalGetsAClosestEncloserProof) {
  // "ent" exists only because of the unsigned delegation below it, so Opt-Out
  // leaves it out of the chain too (RFC 5155 7.1); NODATA for it is the closest
  // encloser proof with an Opt-Out NSEC3 over the next closer name (7.2.3 as
  // corrected by erratum 3441), which is insecure, not secure.
  SigningKey key = SigningKey::generate(n("example."), KeyRole::ksk);
  ZoneSigningOptions options;
  options.nsec3 = Nsec3Params{0, "", true};
  SignedZone zone = sign_zone_text(R"(
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 192.0.2.53
child.ent NS ns.elsewhere.
)",
                                   n("example."), {&key}, options);
  EXPECT_TRUE(zone.nsec3_matching(n("ent.example.")).empty());
  SignedAuthority authority({zone});
  Message reply = authority.answer(query("ent.example.", rrtype::A));
  EXPECT_EQ(reply.rcode, rcode::NOERROR);
  EXPECT_TRUE(reply.answer.empty());
  auto nsec3s = of_type(reply.authority, rrtype::NSEC3);
  expect_all_present(nsec3s, {zone.nsec3_matching(n("example.")), zone.nsec3_covering(n("ent.example."))});
  EXPECT_TRUE(parse_nsec3_rdata(zone.nsec3_covering(n("ent.example.")).at(0).rdata)->opt_out());
  DnssecConfig limits;
  ValidationBudget budget(limits);
  auto proof =
      prove_nodata_nsec3(n("ent.example."), rrtype::A, nsec3s, n("example."), budget, hash_function());
  EXPECT_EQ(proof.security, Security::insecure) << proof.reason;
  // The delegation below it is a referral with the same kind of proof.
  Message referral = authority.answer(query("www.child.ent.example.", rrtype::A));
  EXPECT_FALSE(referral.aa);
  EXPECT_EQ(of_type(referral.authority, rrtype::NS).size(), 1u);
  ValidationBudget budget2(limits);
  EXPECT_EQ(
      prove_insecure_delegation_nsec3(n("child.ent.example."), of_type(referral.authority, rrtype::NSEC3),
                                      n("example."), budget2, hash_function())
          .security,
      Security::insecure);
}

TEST(SignedFakeServer, DsQueriesAreAnsweredByTheParent) {
  Message ds = ask("test.", "nsec.test.", rrtype::DS);
  EXPECT_TRUE(ds.aa);
  EXPECT_EQ(of_type(ds.answer, rrtype::DS).size(), 1u);
  EXPECT_EQ(verify_signed_rrsets(ds.answer, "test."), 1u);

  Message none = ask("test.", "insecure.test.", rrtype::DS);
  EXPECT_TRUE(none.aa);
  EXPECT_TRUE(none.answer.empty());
  auto nsecs = of_type(none.authority, rrtype::NSEC);
  EXPECT_TRUE(prove_nodata_nsec(n("insecure.test."), rrtype::DS, nsecs, n("test.")).is_secure());

  // One server for parent and child: DS still comes from the parent's side.
  SignedAuthority both({standard().records(n("test.")), standard().records(n("nsec.test."))});
  Message shared = both.answer(query("nsec.test.", rrtype::DS));
  EXPECT_EQ(of_type(shared.answer, rrtype::DS).size(), 1u);
  EXPECT_EQ(parse_rrsig(of_type(shared.answer, rrtype::RRSIG).at(0))->signer, n("test."));
  // ...and other types at the child apex from the child.
  Message soa = both.answer(query("nsec.test.", rrtype::SOA));
  EXPECT_EQ(parse_rrsig(of_type(soa.answer, rrtype::RRSIG).at(0))->signer, n("nsec.test."));
}

TEST(SignedFakeServer, ZoneWithOnlyItsApexDeniesEverythingBelow) {
  const SignedZone &zone = standard().records(n("apexonly.test."));
  EXPECT_EQ(of_type(zone.records, rrtype::NSEC).size(), 1u);
  Message reply = ask("apexonly.test.", "www.apexonly.test.", rrtype::A);
  EXPECT_EQ(reply.rcode, rcode::NXDOMAIN);
  auto nsecs = of_type(reply.authority, rrtype::NSEC);
  ASSERT_EQ(nsecs.size(), 1u);
  EXPECT_EQ(parse_nsec_rdata(nsecs[0].rdata)->next, n("apexonly.test.")) << "apex to apex";
  EXPECT_TRUE(prove_nxdomain_nsec(n("www.apexonly.test."), nsecs, n("apexonly.test.")).is_secure());
  // Its server's address is in the parent, not in the child.
  EXPECT_EQ(standard().records(n("test.")).rrset(n("ns-apexonly.test."), rrtype::A).size(), 1u);
}

TEST(SignedFakeServer, NamesOutsideTheZonesAreRefused) {
  Message reply = ask("nsec.test.", "www.example.", rrtype::A);
  EXPECT_EQ(reply.rcode, rcode::REFUSED);
  EXPECT_TRUE(reply.answer.empty());
}

TEST(SignedFakeHierarchy, RootKeysAreProvenByTheTrustAnchor) {
  TrustAnchor anchor = standard().trust_anchor();
  EXPECT_TRUE(anchor.zone.is_root());
  ASSERT_EQ(anchor.ds.size(), 1u);
  Message keys = ask(".", ".", rrtype::DNSKEY);
  auto dnskeys = group_rrsets(keys.answer);
  ASSERT_EQ(dnskeys.size(), 1u);
  DnssecConfig limits;
  ValidationBudget budget(limits);
  auto outcome =
      verify_dnskey_with_ds(dnskeys[0], dnskeys[0].signatures, anchor.ds, Name::root(), kPinnedNow, budget);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
  DelegationPoint hints = standard().root_hints();
  ASSERT_EQ(hints.servers.size(), 1u);
  EXPECT_EQ(hints.servers[0].addresses.at(0).to_string(), "127.10.0.1@53");
}

TEST(SignedFakeHierarchy, ResigningWithAnExpiredWindowExpiresTheAnswers) {
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  hierarchy.resign(n("nsec.test."), SignatureWindow::expired_before(kPinnedNow));
  const SignedZone &zone = hierarchy.records(n("nsec.test."));
  DnssecConfig limits;
  ValidationBudget budget(limits);
  auto a = group_rrsets(zone.rrset_with_sigs(n("www.nsec.test."), rrtype::A));
  ASSERT_EQ(a.size(), 1u);
  auto outcome = verify_rrset(a[0], a[0].signatures, zone.rrset(zone.origin, rrtype::DNSKEY), zone.origin,
                              kPinnedNow, budget);
  EXPECT_EQ(outcome.ede, ede::SIGNATURE_EXPIRED) << outcome.reason;
  // The parent's DS still matches: the keys are the same.
  EXPECT_EQ(hierarchy.records(n("test.")).rrset(n("nsec.test."), rrtype::DS).at(0).rdata,
            hierarchy.zone(n("nsec.test.")).ksk().ds().rdata);

  SignedNetwork h(hierarchy);
  Resolution r = h.resolve("www.nsec.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_EQ(r.security, Security::bogus);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->info_code, ede::SIGNATURE_EXPIRED) << r.error->extra_text;
}

TEST(SignedFakeHierarchy, ServersAnswerThroughTheFakeNetwork) {
  SignedNetwork h(standard());
  auto reply = h.exchange("127.10.2.1", "www.nsec.test.", rrtype::A);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->id, 99);
  EXPECT_EQ(of_type(reply->answer, rrtype::A).size(), 1u);
  EXPECT_EQ(of_type(reply->answer, rrtype::RRSIG).size(), 1u);
}

TEST(SignedFakeHierarchy, ForgeHookReplacesTheReply) {
  SignedNetwork h(standard());
  const SignedAuthority &honest = h.hierarchy.authorities().at("127.10.2.1");
  // A forgery from real pieces: the honest answer with its RRSIG removed.
  h.net.server("127.10.2.1").forge = [&](const Message &q) -> std::optional<Message> {
    if (q.question()->qtype != rrtype::A) return std::nullopt;
    Message reply = honest.answer(q);
    std::erase_if(reply.answer, [](const ResourceRecord &rr) { return rr.type == rrtype::RRSIG; });
    return reply;
  };
  auto forged = h.exchange("127.10.2.1", "www.nsec.test.", rrtype::A);
  ASSERT_TRUE(forged);
  EXPECT_EQ(of_type(forged->answer, rrtype::A).size(), 1u);
  EXPECT_TRUE(of_type(forged->answer, rrtype::RRSIG).empty());
  auto untouched = h.exchange("127.10.2.1", "www.nsec.test.", rrtype::AAAA);
  ASSERT_TRUE(untouched);
  EXPECT_EQ(of_type(untouched->answer, rrtype::RRSIG).size(), 1u)
      << "nullopt from the hook: the honest reply";

  // Through the engine the stripped answer is bogus (RFC 4035 5.3: no RRSIG in a secure zone).
  Resolution r = h.resolve("www.nsec.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_EQ(r.security, Security::bogus);
}

// RFC 8198 with NSEC3: a secure NXDOMAIN's proof answers the next name it covers
// without asking upstream; with NSEC likewise.
TEST(SignedFakeHierarchy, AggressiveCachingAnswersCoveredNamesWithoutAsking) {
  for (const char *zone_text : {"nsec3.test.", "nsec.test."}) {
    SCOPED_TRACE(zone_text);
    SignedNetwork h(standard());
    const SignedZone &zone = standard().records(n(zone_text));
    Name first = *n(zone_text).prepend("missing");
    ASSERT_EQ(h.resolve(first.to_text(), rrtype::A).security, Security::secure);
    // A name the same records cover.
    std::optional<Name> other;
    for (int i = 0; i < 1000 && !other; ++i) {
      Name candidate = *n(zone_text).prepend("n" + std::to_string(i));
      bool same = zone.denial == Denial::nsec3
                      ? zone.nsec3_covering(candidate).front().owner == zone.nsec3_covering(first).front().owner
                      : zone.nsec_covering(candidate).front().owner == zone.nsec_covering(first).front().owner;
      if (same && !zone.name_exists(candidate)) other = candidate;
    }
    ASSERT_TRUE(other);
    size_t sent = h.net.sent.size();
    Resolution r = h.resolve(other->to_text(), rrtype::A);
    EXPECT_EQ(r.rcode, rcode::NXDOMAIN);
    EXPECT_EQ(r.security, Security::secure);
    EXPECT_EQ(h.net.sent.size(), sent) << "answered from the validated denial";
  }
}

TEST(SignedFakeHierarchy, AnRrsigQuestionGetsTheNamesRrsigsWithoutAd) {
  // RRSIGs are not an RRset that can be validated on its own (RFC 4035 3.2.3 leaves
  // them to the client): they are answered as the zone sent them, never with AD.
  SignedNetwork h(standard());
  Resolution r = h.resolve("www.nsec.test.", rrtype::RRSIG);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_NE(r.security, Security::secure);
  EXPECT_NE(r.security, Security::bogus);
  ASSERT_FALSE(r.answer.empty());
  for (const auto &rr : r.answer) EXPECT_EQ(rr.type, rrtype::RRSIG);
}

TEST(SignedFakeHierarchy, TheRootKeySentinelIsForAAndAaaaOnly) {
  // RFC 8509 3.2: an A/AAAA question for root-key-sentinel-is-ta-<tag> fails unless
  // <tag> is a root trust anchor's; other types are answered as usual.
  std::vector<ZoneSpec> specs = SignedHierarchy::standard_specs();
  SignedHierarchy probe = SignedHierarchy::build(specs);
  uint16_t other_tag = static_cast<uint16_t>(probe.zone(Name::root()).ksk().key_tag() + 1);
  char label[64];
  std::snprintf(label, sizeof label, "root-key-sentinel-is-ta-%05u", other_tag);
  for (auto &spec : specs)
    if (spec.origin == "nsec.test.")
      spec.records += std::string(label) + " A 192.0.2.70\n" + label + " TXT \"sentinel\"\n";
  SignedHierarchy hierarchy = SignedHierarchy::build(specs);
  uint16_t anchor_tag = hierarchy.zone(Name::root()).ksk().key_tag();
  ASSERT_NE(anchor_tag, other_tag) << "rebuilt keys; vanishingly unlikely";
  SignedNetwork h(hierarchy);
  const std::string name = std::string(label) + ".nsec.test.";
  EXPECT_EQ(h.resolve(name, rrtype::A).rcode, rcode::SERVFAIL);
  Resolution txt = h.resolve(name, rrtype::TXT);
  EXPECT_EQ(txt.rcode, rcode::NOERROR);
  EXPECT_EQ(txt.security, Security::secure);
}

// Every honest answer of the standard hierarchy validates to what its zone
// promises: the hierarchy is complete, so a failure in a forgery test is the
// forgery's doing.
TEST(SignedFakeHierarchy, EngineValidatesEveryKindOfAnswer) {
  struct Case {
    const char *name;
    uint16_t type;
    uint8_t rcode;
    Security security;
  };
  const Case cases[] = {
      {"www.test.", rrtype::A, rcode::NOERROR, Security::secure},
      {"nothere.test.", rrtype::A, rcode::NXDOMAIN, Security::secure},
      {"www.nsec.test.", rrtype::A, rcode::NOERROR, Security::secure},
      {"missing.nsec.test.", rrtype::A, rcode::NXDOMAIN, Security::secure},
      {"www.nsec.test.", rrtype::TXT, rcode::NOERROR, Security::secure},
      {"ent.nsec.test.", rrtype::A, rcode::NOERROR, Security::secure},
      {"a.wild.nsec.test.", rrtype::A, rcode::NOERROR, Security::secure},
      {"a.wild.nsec.test.", rrtype::AAAA, rcode::NOERROR, Security::secure},
      {"alias.nsec.test.", rrtype::A, rcode::NOERROR, Security::secure},
      {"wildalias.nsec.test.", rrtype::A, rcode::NOERROR, Security::secure},
      {"out.nsec.test.", rrtype::A, rcode::NOERROR, Security::secure},
      {"www.nsec3.test.", rrtype::A, rcode::NOERROR, Security::secure},
      {"missing.nsec3.test.", rrtype::A, rcode::NXDOMAIN, Security::secure},
      {"www.nsec3.test.", rrtype::TXT, rcode::NOERROR, Security::secure},
      {"ent.nsec3.test.", rrtype::A, rcode::NOERROR, Security::secure},
      {"a.wild.nsec3.test.", rrtype::A, rcode::NOERROR, Security::secure},
      {"a.wild.nsec3.test.", rrtype::AAAA, rcode::NOERROR, Security::secure},
      {"www.optout.test.", rrtype::A, rcode::NOERROR, Security::secure},
      // RFC 5155 9.2: an Opt-Out span may hide an unsigned delegation.
      {"missing.optout.test.", rrtype::A, rcode::NXDOMAIN, Security::insecure},
      {"www.unsigned.optout.test.", rrtype::A, rcode::NOERROR, Security::insecure},
      {"www.insecure.test.", rrtype::A, rcode::NOERROR, Security::insecure},
      {"www.island.nsec3.test.", rrtype::A, rcode::NOERROR, Security::insecure},
      {"www.apexonly.test.", rrtype::A, rcode::NXDOMAIN, Security::secure},
      {"apexonly.test.", rrtype::A, rcode::NOERROR, Security::secure},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(std::string(c.name) + " " + type_to_text(c.type));
    SignedNetwork h(standard());
    Resolution r = h.resolve(c.name, c.type);
    EXPECT_EQ(r.rcode, c.rcode);
    EXPECT_EQ(r.security, c.security) << (r.error ? r.error->extra_text : std::string());
  }
}

}  // namespace
}  // namespace rsv::testing
