// Forged answers built from real, validly signed records put together wrongly, sent
// by an authority of the signed fake hierarchy (tests/support/signed_hierarchy.h)
// through the FakeNetwork's forge hook, and judged by the engine's validator.
//
// Each test is the reply that would pass if one check of the validator were missing
// (RFC 4035 5, RFC 5155 8, RFC 6840): it must give SERVFAIL with the EDE named, and
// afterwards the honest data of the zone must still resolve (nothing poisoned).
#include <gtest/gtest.h>

#include "dnssec/rrsig.h"
#include "resolver/server/query_handler.h"
#include "tests/scenario/signed_fake_server.h"

namespace rsv::testing {
namespace {

constexpr const char *kTestServer = "127.10.1.1";    // test.
constexpr const char *kNsecServer = "127.10.2.1";    // nsec.test.
constexpr const char *kNsec3Server = "127.10.2.2";   // nsec3.test.
constexpr const char *kOptOutServer = "127.10.2.3";  // optout.test.

const SignedHierarchy &standard() {
  static const SignedHierarchy kStandard = SignedHierarchy::standard();
  return kStandard;
}

const SignedZone &zone(const char *origin) {
  return standard().records(*Name::from_text(origin));
}

std::vector<ResourceRecord> rrset(const char *zone_origin, const char *owner, uint16_t type) {
  return zone(zone_origin).rrset_with_sigs(*Name::from_text(owner), type);
}

void expect_bogus(const Resolution &r, uint16_t ede, const std::string &reason_part) {
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_EQ(r.security, Security::bogus);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->info_code, ede) << r.error->extra_text;
  EXPECT_NE(r.error->extra_text.find(reason_part), std::string::npos) << r.error->extra_text;
  EXPECT_TRUE(r.answer.empty());
}

// Nothing was poisoned: honest data of the zones around the forgery still validates.
void expect_honest_answers(SignedNetwork &h, const char *forged_server) {
  h.net.server(forged_server).forge = nullptr;
  Resolution aaaa = h.resolve("www.nsec.test.", rrtype::AAAA);
  EXPECT_EQ(aaaa.rcode, rcode::NOERROR);
  EXPECT_EQ(aaaa.security, Security::secure);
  Resolution mail = h.resolve("mail.nsec.test.", rrtype::A);
  EXPECT_EQ(mail.security, Security::secure);
  Resolution tld = h.resolve("www.test.", rrtype::A);
  EXPECT_EQ(tld.rcode, rcode::NOERROR);
  EXPECT_EQ(tld.security, Security::secure);
  Resolution nsec3 = h.resolve("www.nsec3.test.", rrtype::A);
  EXPECT_EQ(nsec3.security, Security::secure);
}

// The honest reply with the A record of www.nsec.test. changed to 192.0.2.66.
Message changed_www(SignedNetwork &h, const Message &q) {
  Message reply = h.honest(kNsecServer, q);
  for (auto &rr : reply.answer)
    if (rr.type == rrtype::A) rr.rdata = std::string("\xC0\x00\x02\x42", 4);
  return reply;
}

TEST(Forgery, RrsigOfAnUnsupportedAlgorithmInASecureZone) {
  // The zone's DS and DNSKEY are algorithm 13; the only RRSIG claims 200. RFC 4035
  // 5.2 / RFC 6840 5.2 make only the DS RRset decide that a zone is insecure.
  SignedNetwork h(standard());
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = changed_www(h, q);
    for (auto &rr : reply.answer)
      if (rr.type == rrtype::RRSIG) rr.rdata[2] = static_cast<char>(200);
    return reply;
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::RRSIGS_MISSING, "unsupported algorithm 200");
  expect_honest_answers(h, kNsecServer);
}

TEST(Forgery, RrsigNamingAnUnsignedZoneElsewhereAsSigner) {
  // Signed by a key of insecure.test. (which is unsigned): the signer name is a claim,
  // and one that is no ancestor of the owner is never followed (RFC 4035 5.3.1).
  SignedNetwork h(standard());
  SigningKey intruder = SigningKey::generate(*Name::from_text("insecure.test."), KeyRole::zsk);
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = changed_www(h, q);
    std::erase_if(reply.answer, [](const ResourceRecord &rr) { return rr.type == rrtype::RRSIG; });
    reply.answer.push_back(sign_rrset(reply.answer, intruder));
    return reply;
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::RRSIGS_MISSING, "not by the zone");
  for (const auto &q : h.net.sent)
    EXPECT_FALSE(q.question.name == *Name::from_text("insecure.test.") && q.question.qtype == rrtype::DS)
        << "the claimed signer's status must not be looked up";
  expect_honest_answers(h, kNsecServer);
}

TEST(Forgery, SignerClaimingADeeperCutThatDoesNotExist) {
  // An RRSIG by "www.nsec.test." (made with a key of that name): a cut that would hold
  // the name. Its DS at the parent is asked once; the parent's NSEC shows no NS there.
  SignedNetwork h(standard());
  SigningKey fake_zone = SigningKey::generate(*Name::from_text("www.nsec.test."), KeyRole::zsk);
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A) && !asks(q, "www.nsec.test.", rrtype::DNSKEY))
      return std::nullopt;
    Message reply = changed_www(h, q);
    std::erase_if(reply.answer, [](const ResourceRecord &rr) { return rr.type == rrtype::RRSIG; });
    if (q.question()->qtype == rrtype::DNSKEY) reply.answer = {fake_zone.dnskey()};
    reply.answer.push_back(sign_rrset(reply.answer, fake_zone));
    return reply;
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::RRSIGS_MISSING, "not by the zone");
  expect_honest_answers(h, kNsecServer);
}

TEST(Forgery, NxdomainProvedByAChildZonesApexNsec) {
  // apexonly.test. holds only its apex: its NSEC's owner equals its next name, so it
  // "covers" every other name. With the parent's real SOA it denies www.test.
  SignedNetwork h(standard());
  h.net.server(kTestServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.test.", rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NXDOMAIN);
    append(reply.authority, rrset("test.", "test.", rrtype::SOA));
    append(reply.authority, zone("apexonly.test.").nsec_matching(*Name::from_text("apexonly.test.")));
    return reply;
  };
  expect_bogus(h.resolve("www.test.", rrtype::A), ede::NSEC_MISSING, "not by the zone");
  // The child's NSEC never reaches the aggressive cache: other names of test. still resolve.
  h.net.server(kTestServer).forge = nullptr;
  EXPECT_EQ(h.aggressive.record_count(), 0u);
  Resolution ns = h.resolve("ns.test.", rrtype::A);
  EXPECT_EQ(ns.rcode, rcode::NOERROR);
  EXPECT_EQ(ns.security, Security::secure);
  expect_honest_answers(h, kTestServer);
}

TEST(Forgery, NxdomainWithoutSoaAndAnotherZonesNsec) {
  SignedNetwork h(standard());
  h.net.server(kTestServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.test.", rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NXDOMAIN);
    append(reply.authority, zone("apexonly.test.").nsec_matching(*Name::from_text("apexonly.test.")));
    return reply;
  };
  expect_bogus(h.resolve("www.test.", rrtype::A), ede::NSEC_MISSING, "no SOA");
  expect_honest_answers(h, kTestServer);
}

TEST(Forgery, NxdomainWithAnEmptyAuthoritySection) {
  SignedNetwork h(standard());
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    return empty_reply(q, rcode::NXDOMAIN);
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::NSEC_MISSING, "no SOA");
  expect_honest_answers(h, kNsecServer);
}

TEST(Forgery, NodataForATypeThatExists) {
  SignedNetwork h(standard());
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NOERROR);
    append(reply.authority, rrset("nsec.test.", "nsec.test.", rrtype::SOA));
    append(reply.authority, zone("nsec.test.").nsec_matching(*Name::from_text("www.nsec.test.")));
    return reply;
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::NSEC_MISSING, "lists A");
  // The same with another name's NSEC: it does not match the name at all.
  SignedNetwork again(standard());
  again.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NOERROR);
    append(reply.authority, rrset("nsec.test.", "nsec.test.", rrtype::SOA));
    append(reply.authority, zone("nsec.test.").nsec_matching(*Name::from_text("mail.nsec.test.")));
    return reply;
  };
  expect_bogus(again.resolve("www.nsec.test.", rrtype::A), ede::NSEC_MISSING, "www.nsec.test.");
  expect_honest_answers(again, kNsecServer);
}

TEST(Forgery, NxdomainProvedWithTheNsec3RecordsOfAChildZone) {
  // kid.nsec3.test.'s NSEC3 chain (same parameters, owners inside the parent's
  // bailiwick, signed by the child) in a denial from nsec3.test.
  std::vector<ZoneSpec> specs = SignedHierarchy::standard_specs();
  specs.push_back({"kid.nsec3.test.", "127.10.3.4", "www A 192.0.2.50\n", Denial::nsec3,
                   Nsec3Params{0, "", false}, true, 13, ""});
  SignedHierarchy hierarchy = SignedHierarchy::build(specs);
  SignedNetwork h(hierarchy);
  const SignedZone &kid = hierarchy.records(*Name::from_text("kid.nsec3.test."));
  const SignedZone &parent = hierarchy.records(*Name::from_text("nsec3.test."));
  h.net.server(kNsec3Server).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec3.test.", rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NXDOMAIN);
    append(reply.authority, parent.rrset_with_sigs(parent.origin, rrtype::SOA));
    append(reply.authority, kid.nsec3_matching(kid.origin));
    append(reply.authority, kid.nsec3_covering(*Name::from_text("www.kid.nsec3.test.")));
    return reply;
  };
  expect_bogus(h.resolve("www.nsec3.test.", rrtype::A), ede::NSEC_MISSING, "not of the zone");
  expect_honest_answers(h, kNsec3Server);
}

TEST(Forgery, NxdomainProvedWithTheNsec3RecordsOfASiblingZone) {
  // optout.test.'s NSEC3 chain in a denial from nsec3.test.: out of the server's
  // bailiwick, so the scrubber drops it and no proof is left.
  SignedNetwork h(standard());
  h.net.server(kNsec3Server).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec3.test.", rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NXDOMAIN);
    append(reply.authority, rrset("nsec3.test.", "nsec3.test.", rrtype::SOA));
    const SignedZone &other = zone("optout.test.");
    append(reply.authority, other.nsec3_matching(other.origin));
    append(reply.authority, other.nsec3_covering(*Name::from_text("www.optout.test.")));
    return reply;
  };
  expect_bogus(h.resolve("www.nsec3.test.", rrtype::A), ede::NSEC_MISSING,
               "no NSEC or NSEC3 record proves it");
  expect_honest_answers(h, kNsec3Server);
}

TEST(Forgery, ReferralDenyingTheDsWithTheChildsApexNsec) {
  // The child's own apex NSEC (SOA bit, signed by the child) cannot deny the DS the
  // parent holds: a signed child must not be made to look insecure.
  SignedNetwork h(standard());
  h.net.server(kTestServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!q.question() || !q.question()->name.is_subdomain_of(*Name::from_text("nsec.test.")))
      return std::nullopt;
    Message reply = h.honest(kTestServer, q);
    std::erase_if(reply.authority, [](const ResourceRecord &rr) {
      return rr.type == rrtype::DS || (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == rrtype::DS);
    });
    if (q.question()->qtype == rrtype::DS) {
      reply = empty_reply(q, rcode::NOERROR);
      append(reply.authority, rrset("test.", "test.", rrtype::SOA));
    }
    append(reply.authority, zone("nsec.test.").nsec_matching(*Name::from_text("nsec.test.")));
    return reply;
  };
  Resolution r = h.resolve("www.nsec.test.", rrtype::A);
  expect_bogus(r, ede::NSEC_MISSING, "nsec.test.");
  // The DS question itself is bogus too.
  expect_bogus(h.resolve("nsec.test.", rrtype::DS), ede::NSEC_MISSING, "not by the zone");
  expect_honest_answers(h, kTestServer);
}

TEST(Forgery, ReferralWithoutDsOrProofAsksTheParent) {
  // Tolerant on form: a referral that leaves the DS out (a minimal response) costs one
  // DS question to the parent, and the answer is secure...
  SignedNetwork h(standard());
  auto strip_ds = [&](const Message &q) -> std::optional<Message> {
    if (!q.question() || q.question()->qtype == rrtype::DS) return std::nullopt;
    Message reply = h.honest(kTestServer, q);
    std::erase_if(reply.authority, [](const ResourceRecord &rr) {
      return rr.type == rrtype::DS || (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == rrtype::DS);
    });
    return reply;
  };
  h.net.server(kTestServer).forge = strip_ds;
  Resolution r = h.resolve("www.nsec.test.", rrtype::A);
  EXPECT_EQ(r.security, Security::secure);
  // ...strict on security: when the DS question gets a denial without proof, it is bogus.
  SignedNetwork attacked(standard());
  attacked.net.server(kTestServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (q.question() && q.question()->qtype == rrtype::DS) {
      Message reply = empty_reply(q, rcode::NOERROR);
      append(reply.authority, rrset("test.", "test.", rrtype::SOA));
      return reply;
    }
    return strip_ds(q);
  };
  expect_bogus(attacked.resolve("www.nsec.test.", rrtype::A), ede::NSEC_MISSING, "nsec.test.");
}

TEST(Forgery, RrsetReplayedWithASignatureByARemovedKey) {
  // A key of the zone's name that is not (any more) in its DNSKEY set.
  SignedNetwork h(standard());
  SigningKey removed = SigningKey::generate(*Name::from_text("nsec.test."), KeyRole::zsk);
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = changed_www(h, q);
    std::erase_if(reply.answer, [](const ResourceRecord &rr) { return rr.type == rrtype::RRSIG; });
    reply.answer.push_back(sign_rrset(reply.answer, removed));
    return reply;
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::DNSSEC_BOGUS, "no DNSKEY");
  expect_honest_answers(h, kNsecServer);
}

TEST(Forgery, RrsigOfAnotherTypeAttached) {
  // The AAAA RRSIG of the name, next to a forged A record.
  SignedNetwork h(standard());
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = changed_www(h, q);
    std::erase_if(reply.answer, [](const ResourceRecord &rr) { return rr.type == rrtype::RRSIG; });
    append(reply.answer, zone("nsec.test.").rrsigs(*Name::from_text("www.nsec.test."), rrtype::AAAA));
    return reply;
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::RRSIGS_MISSING, "www.nsec.test. A");
  expect_honest_answers(h, kNsecServer);
}

TEST(Forgery, RrsigCopiedFromAnotherOwner) {
  // mail.nsec.test.'s A record and RRSIG, re-owned as www.nsec.test.
  SignedNetwork h(standard());
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NOERROR);
    for (auto rr : rrset("nsec.test.", "mail.nsec.test.", rrtype::A)) {
      rr.owner = *Name::from_text("www.nsec.test.");
      reply.answer.push_back(rr);
    }
    return reply;
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::DNSSEC_BOGUS, "does not verify");
  expect_honest_answers(h, kNsecServer);
}

TEST(Forgery, WildcardExpansionForANameThatExists) {
  // *.wild's signed A record, expanded as www.wild.nsec.test. (which exists in this
  // zone), with an NSEC that does not cover it: RFC 4035 5.3.4.
  std::vector<ZoneSpec> specs = SignedHierarchy::standard_specs();
  for (auto &spec : specs)
    if (spec.origin == "nsec.test.") spec.records += "www.wild A 192.0.2.9\n";
  SignedHierarchy hierarchy = SignedHierarchy::build(specs);
  SignedNetwork h(hierarchy);
  const SignedZone &signed_zone = hierarchy.records(*Name::from_text("nsec.test."));
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.wild.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NOERROR);
    for (auto rr : signed_zone.rrset_with_sigs(*Name::from_text("*.wild.nsec.test."), rrtype::A)) {
      rr.owner = *Name::from_text("www.wild.nsec.test.");
      reply.answer.push_back(rr);
    }
    append(reply.authority, signed_zone.nsec_matching(*Name::from_text("*.wild.nsec.test.")));
    return reply;
  };
  expect_bogus(h.resolve("www.wild.nsec.test.", rrtype::A), ede::NSEC_MISSING, "no closer match");
  h.net.server(kNsecServer).forge = nullptr;
  Resolution real = h.resolve("www.wild.nsec.test.", rrtype::A);
  EXPECT_EQ(real.security, Security::secure);
  ASSERT_FALSE(real.answer.empty());
  EXPECT_EQ(real.answer[0].rdata, std::string("\xC0\x00\x02\x09", 4));
}

TEST(Forgery, OptOutRecordsCannotDenyTheDsOfASignedChild) {
  // optout.test. with a signed child (DS in the parent, so the child has its own NSEC3
  // with the DS bit). Stripping the DS and offering the Opt-Out records around the
  // child's hash proves nothing: no record of the chain covers a hash that owns one.
  std::vector<ZoneSpec> specs = SignedHierarchy::standard_specs();
  specs.push_back(
      {"signed.optout.test.", "127.10.3.3", "www A 192.0.2.40\n", Denial::nsec, {}, true, 13, ""});
  SignedHierarchy hierarchy = SignedHierarchy::build(specs);
  SignedNetwork h(hierarchy);
  const SignedZone &parent = hierarchy.records(*Name::from_text("optout.test."));
  const Name child = *Name::from_text("signed.optout.test.");
  ASSERT_FALSE(parent.nsec3_matching(child).empty());
  h.net.server(kOptOutServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!q.question() || !q.question()->name.is_subdomain_of(child)) return std::nullopt;
    Message reply = h.honest(kOptOutServer, q);
    std::erase_if(reply.authority, [](const ResourceRecord &rr) {
      uint16_t type = rr.type == rrtype::RRSIG ? rr.rrsig_type_covered() : rr.type;
      return type == rrtype::DS || type == rrtype::NSEC3;
    });
    if (q.question()->qtype == rrtype::DS) {
      reply = empty_reply(q, rcode::NOERROR);
      append(reply.authority, parent.rrset_with_sigs(parent.origin, rrtype::SOA));
    }
    // The apex's NSEC3 (the closest encloser) and the other Opt-Out records of the chain.
    append(reply.authority, parent.nsec3_matching(parent.origin));
    for (const auto &rr : parent.records)
      if (rr.type == rrtype::NSEC3 && rr.rdata.size() > 1 && (rr.rdata[1] & 1) &&
          rr.owner != parent.nsec3_hashed_owner(child) &&
          rr.owner != parent.nsec3_hashed_owner(parent.origin))
        append(reply.authority, parent.rrset_with_sigs(rr.owner, rrtype::NSEC3));
    return reply;
  };
  ASSERT_LE(parent.rrset(parent.origin, rrtype::NSEC3PARAM).size(), 1u);
  Resolution r = h.resolve("www.signed.optout.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_EQ(r.security, Security::bogus);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->info_code, ede::NSEC_MISSING) << r.error->extra_text;
  // Honest again (once the bogus answer's bogus-ttl is over): the child is secure.
  h.net.server(kOptOutServer).forge = nullptr;
  h.clock.advance_seconds(h.config.dnssec.bogus_ttl + 1);
  EXPECT_EQ(h.resolve("www.signed.optout.test.", rrtype::A).security, Security::secure);
  EXPECT_EQ(h.resolve("www.unsigned.optout.test.", rrtype::A).security, Security::insecure);
}

TEST(Forgery, ASpoofOfEqualRankDoesNotReplaceSecureData) {
  SignedNetwork h(standard());
  Resolution first = h.resolve("www.nsec.test.", rrtype::A);
  ASSERT_EQ(first.security, Security::secure);
  // A CNAME answer that carries a forged copy of www.nsec.test. A alongside.
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "alias.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = h.honest(kNsecServer, q);
    for (auto &rr : reply.answer)
      if (rr.type == rrtype::A) rr.rdata = std::string("\xC0\x00\x02\x42", 4);
    return reply;
  };
  // The forged copy fails; asked again, the answer is built from the validated data
  // the cache kept (the CNAME just proven, and www's secure A set).
  Resolution alias = h.resolve("alias.nsec.test.", rrtype::A);
  EXPECT_EQ(alias.rcode, rcode::NOERROR);
  EXPECT_EQ(alias.security, Security::secure);
  for (const auto &rr : alias.answer) {
    if (rr.type == rrtype::A) {
      EXPECT_EQ(rr.rdata, std::string("\xC0\x00\x02\x01", 4));
    }
  }
  EXPECT_EQ(h.engine->stats().bogus_retries, 1u);
  auto cached = h.rrsets.lookup(*Name::from_text("www.nsec.test."), rrtype::A);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->security, Security::secure);
  EXPECT_EQ(cached->rrset.rdatas.at(0), std::string("\xC0\x00\x02\x01", 4));
  Resolution again = h.resolve("www.nsec.test.", rrtype::A);
  EXPECT_EQ(again.security, Security::secure);
}

TEST(Forgery, AnAnswerThatFailsIsAskedAgainBeforeItIsDeclaredBogus) {
  // One forged reply lands (an off-path spoof, a glitch): the engine asks again, the
  // server that sent it last, and the honest reply validates. The client never sees
  // the failure.
  SignedNetwork h(standard());
  int forged = 0;
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A) || forged++ > 0) return std::nullopt;
    return changed_www(h, q);
  };
  Resolution r = h.resolve("www.nsec.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(r.security, Security::secure);
  ASSERT_FALSE(r.answer.empty());
  EXPECT_EQ(r.answer[0].rdata, std::string("\xC0\x00\x02\x01", 4));
  EXPECT_EQ(h.engine->stats().bogus_retries, 1u);
  EXPECT_TRUE(h.infra.gave_bogus(*SocketAddress::parse(kNsecServer), *Name::from_text("nsec.test.")));
  // A forgery that does not go away: asked again once (the zone has no other server),
  // then SERVFAIL.
  SignedNetwork persistent(standard());
  persistent.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    return changed_www(persistent, q);
  };
  expect_bogus(persistent.resolve("www.nsec.test.", rrtype::A), ede::DNSSEC_BOGUS, "does not verify");
  EXPECT_EQ(persistent.engine->stats().bogus_retries, 1u);
}

TEST(Forgery, DataFetchedWithCdIsValidatedBeforeAClientWithoutCdGetsIt) {
  SignedNetwork h(standard());
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    return changed_www(h, q);
  };
  Resolution cd = h.resolve("www.nsec.test.", rrtype::A, true);
  EXPECT_EQ(cd.rcode, rcode::NOERROR) << "CD: the data as the server sent it";
  EXPECT_EQ(cd.security, Security::unchecked);
  auto cached = h.rrsets.lookup(*Name::from_text("www.nsec.test."), rrtype::A);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->security, Security::unchecked);
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::DNSSEC_BOGUS, "does not verify");
}

// A client query through the server's handler, as the listener would hand it over.
class ClientQuery final : public QueryContext {
public:
  ClientQuery(const std::string &wire) : packet_(wire) {
    query = reinterpret_cast<const uint8_t *>(packet_.data());
    query_size = packet_.size();
    client = *SocketAddress::parse("127.0.0.1@5353");
    reply_buffer = buffer_;
    reply_capacity = sizeof buffer_;
  }
  std::shared_ptr<ReplyChannel> defer() override {
    channel_ = std::make_shared<Channel>();
    return channel_;
  }
  // The reply, after the network has run.
  Message reply(Disposition disposition) const {
    std::string wire = disposition == Disposition::reply
                           ? std::string(reinterpret_cast<const char *>(buffer_), reply_size)
                           : (channel_ && !channel_->replies.empty() ? channel_->replies[0] : std::string());
    ParseError error;
    auto parsed = parse_message(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), &error);
    EXPECT_TRUE(parsed) << "no reply";
    return parsed.value_or(Message{});
  }

private:
  struct Channel final : ReplyChannel {
    void send(std::string_view wire) override { replies.emplace_back(wire); }
    std::vector<std::string> replies;
  };
  std::string packet_;
  uint8_t buffer_[65535];
  std::shared_ptr<Channel> channel_;
};

TEST(Forgery, RecursionNotDesiredAfterCdNeverGetsTheUncheckedData) {
  // RFC 4035 4.7 / 3.2.2: a CD=1 client takes tampered data as it is; a later RD=0
  // client (no CD) must not get that data as if it had been validated.
  SignedNetwork h(standard());
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    return changed_www(h, q);
  };
  MessageCache messages{h.clock, 1u << 20};
  ClientQueryHandler handler(h.config, messages, h.rrsets, *h.engine, h.hints, h.clock);
  auto ask = [&](bool rd, bool cd) {
    Edns edns;
    edns.dnssec_ok = true;
    ClientQuery query(encode_query(7, Question{*Name::from_text("www.nsec.test."), rrtype::A, rrclass::IN}, rd,
                                   edns, cd));
    Disposition disposition = handler.handle(query);
    h.net.run();
    return query.reply(disposition);
  };
  Message with_cd = ask(true, true);
  ASSERT_EQ(with_cd.rcode, rcode::NOERROR);
  ASSERT_FALSE(with_cd.answer.empty());
  EXPECT_FALSE(with_cd.ad);
  Message no_recursion = ask(false, false);
  for (const auto &rr : no_recursion.answer)
    EXPECT_NE(rr.rdata, std::string("\xC0\x00\x02\x42", 4)) << "the tampered record leaked to RD=0";
  EXPECT_FALSE(no_recursion.ad);
  Message validated = ask(true, false);
  EXPECT_EQ(validated.rcode, rcode::SERVFAIL);
}

TEST(Forgery, ARememberedBogusAnswerIsServedEvenOverCapacity) {
  // The load-shedding rule (query_handler.h) drops only what would start a new
  // resolution: a bogus answer remembered for bogus-ttl costs nothing to give, and so
  // is given even when the thread resolves max-queries-in-flight questions already.
  SignedNetwork h(standard());
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    return changed_www(h, q);
  };
  h.config.resolver.max_queries_in_flight = 1;
  MessageCache messages{h.clock, 1u << 20};
  ClientQueryHandler handler(h.config, messages, h.rrsets, *h.engine, h.hints, h.clock);
  auto query = [](const char *name) {
    return encode_query(7, Question{*Name::from_text(name), rrtype::A, rrclass::IN}, true, Edns{}, false);
  };
  ClientQuery first(query("www.nsec.test."));
  Disposition disposition = handler.handle(first);
  h.net.run();
  ASSERT_EQ(first.reply(disposition).rcode, rcode::SERVFAIL);

  ClientQuery busy(query("other.nsec.test."));  // takes the one slot and keeps it
  ASSERT_EQ(handler.handle(busy), Disposition::deferred);
  ASSERT_EQ(h.engine->in_flight(), 1u);
  ClientQuery new_question(query("new.nsec.test."));
  EXPECT_EQ(handler.handle(new_question), Disposition::drop) << "a new resolution is shed";
  ClientQuery again(query("www.nsec.test."));
  Disposition repeated = handler.handle(again);
  ASSERT_EQ(repeated, Disposition::reply) << "the remembered bogus answer needs no slot";
  EXPECT_EQ(again.reply(repeated).rcode, rcode::SERVFAIL);
  EXPECT_EQ(handler.stats().overload_dropped, 1u);
  h.net.run();
}

}  // namespace
}  // namespace rsv::testing
