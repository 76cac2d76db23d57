// An attacker's audit of the validator: each test is the reply (or the key set, or
// the DS set) that would pass if one MUST of RFC 4033/4034/4035, 4509, 5155, 6672,
// 6840 or 9276 were not checked, built from real records signed by ldns
// (tests/support/zone_signer.h) and put together wrongly. The forgeries reach the
// engine through the signed fake hierarchy (tests/support/signed_hierarchy.h),
// either changed in the zones' records before the servers answer or rewritten on the
// way by the FakeNetwork's forge hook. Cases already in forgery_scenario_test.cc,
// chain_of_trust_scenario_test.cc, signed_fake_server_test.cc and
// validation_budget_scenario_test.cc are not repeated here.
#include <functional>

#include <gtest/gtest.h>

#include "dnssec/rrsig.h"
#include "tests/scenario/signed_fake_server.h"

namespace rsv::testing {
namespace {

constexpr const char *kTestServer = "127.10.1.1";   // test.
constexpr const char *kNsecServer = "127.10.2.1";   // nsec.test.
constexpr const char *kNsec3Server = "127.10.2.2";  // nsec3.test.

Name n(const std::string &text) {
  return *Name::from_text(text);
}

// Shared by the tests that change nothing in the zones (SignedNetwork keeps a reference).
const SignedHierarchy &standard() {
  static const SignedHierarchy kStandard = SignedHierarchy::standard();
  return kStandard;
}

bool covers_type(const ResourceRecord &rr, uint16_t type) {
  return rr.type == type || (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == type);
}

std::vector<ResourceRecord> without_rrsigs(const std::vector<ResourceRecord> &records) {
  std::vector<ResourceRecord> out;
  for (const auto &rr : records)
    if (rr.type != rrtype::RRSIG) out.push_back(rr);
  return out;
}

// Puts `records` and `rrsigs` in place of the RRset owner/type (and its RRSIGs) of a
// zone: what its server answers from then on.
void replace_rrset(SignedZone &zone, const Name &owner, uint16_t type,
                   const std::vector<ResourceRecord> &records, const std::vector<ResourceRecord> &rrsigs) {
  std::erase_if(zone.records,
                [&](const ResourceRecord &rr) { return rr.owner == owner && covers_type(rr, type); });
  append(zone.records, records);
  append(zone.records, rrsigs);
}

// The parent test. publishes `ds` (signed by its own ZSK, so the DS RRset itself
// validates) as the DS RRset of nsec.test.
void publish_ds_of_nsec_test(SignedHierarchy &hierarchy, const std::vector<ResourceRecord> &ds) {
  const SigningKey &parent_zsk = hierarchy.zone(n("test.")).zsk();
  replace_rrset(hierarchy.records(n("test.")), n("nsec.test."), rrtype::DS, ds, {sign_rrset(ds, parent_zsk)});
}

// nsec.test. publishes `keys` as its DNSKEY RRset, with `rrsigs` over it.
void publish_dnskeys_of_nsec_test(SignedHierarchy &hierarchy, const std::vector<ResourceRecord> &keys,
                                  const std::vector<ResourceRecord> &rrsigs) {
  replace_rrset(hierarchy.records(n("nsec.test.")), n("nsec.test."), rrtype::DNSKEY, keys, rrsigs);
}

// The DS of a DNSKEY record as ldns computes it (RFC 4034 5.1.4), for keys whose
// record the test changed after generating them.
ResourceRecord ldns_ds_of(const ResourceRecord &dnskey, uint8_t digest_type = 2) {
  LdnsRr key = to_ldns_rr(dnskey);
  LdnsRr ds(ldns_key_rr2ds(key.get(), static_cast<ldns_hash>(digest_type)));
  if (!ds) throw std::runtime_error("ldns_key_rr2ds failed");
  ResourceRecord out = from_ldns_rr(ds.get());
  out.ttl = 3600;
  return out;
}

uint16_t ldns_tag_of(const ResourceRecord &dnskey) {
  LdnsRr key = to_ldns_rr(dnskey);
  return ldns_calc_keytag(key.get());
}

Resolution expect_bogus(const Resolution &r, uint16_t ede, const std::string &reason_part) {
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_EQ(r.security, Security::bogus);
  EXPECT_TRUE(r.answer.empty());
  EXPECT_TRUE(r.error);
  if (r.error) {
    EXPECT_EQ(r.error->info_code, ede) << r.error->extra_text;
    EXPECT_NE(r.error->extra_text.find(reason_part), std::string::npos) << r.error->extra_text;
  }
  return r;
}

void expect_insecure_answer(const Resolution &r) {
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(r.security, Security::insecure) << (r.error ? r.error->extra_text : "");
  EXPECT_FALSE(r.answer.empty());
}

// The honest data of the hierarchy still validates (the standard control).
void expect_secure(SignedNetwork &h, const char *name, uint16_t type = rrtype::A) {
  Resolution r = h.resolve(name, type);
  EXPECT_EQ(r.rcode, rcode::NOERROR) << name;
  EXPECT_EQ(r.security, Security::secure) << name << ": " << (r.error ? r.error->extra_text : "");
}

bool answer_has(const Resolution &r, const char *owner, uint16_t type) {
  return std::any_of(r.answer.begin(), r.answer.end(),
                     [&](const ResourceRecord &rr) { return rr.owner == n(owner) && rr.type == type; });
}

// ---- the DS -> DNSKEY step (RFC 4035 5.2) --------------------------------------------

TEST(ForgeryKeys, DnskeySetSignedOnlyByAKeyThatNoDsNamesIsBogus) {
  // RFC 4035 5.2: the DNSKEY RRset must be signed by a key the DS authenticates. Here
  // the DS names the KSK; the set (both keys, real) carries only the ZSK's RRSIG,
  // which verifies: a validator that takes any key of the set as trusted passes it.
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  const HierarchyZone &zone = hierarchy.zone(n("nsec.test."));
  auto keys = hierarchy.records(n("nsec.test.")).rrset(n("nsec.test."), rrtype::DNSKEY);
  ASSERT_EQ(keys.size(), 2u);
  publish_dnskeys_of_nsec_test(hierarchy, keys, {sign_rrset(keys, zone.zsk())});
  SignedNetwork h(hierarchy);
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::RRSIGS_MISSING, "no RRSIG by the trusted key");
  expect_secure(h, "www.test.");
}

TEST(ForgeryKeys, DsPointingAtAKeyWithoutTheZoneKeyBitIsBogus) {
  // RFC 4034 2.1.1: a DNSKEY whose Zone Key flag (bit 7) is clear "MUST NOT be used to
  // verify RRSIGs that cover RRsets". The parent's DS names such a key, and it signs
  // the DNSKEY set and the data.
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  SigningKey not_a_zone_key = SigningKey::generate(n("nsec.test."), KeyRole::ksk, 13, uint16_t{1});
  ASSERT_EQ(not_a_zone_key.flags() & 0x0100, 0);
  std::vector<ResourceRecord> keys = {not_a_zone_key.dnskey()};
  publish_dnskeys_of_nsec_test(hierarchy, keys, {sign_rrset(keys, not_a_zone_key)});
  publish_ds_of_nsec_test(hierarchy, {not_a_zone_key.ds()});
  SignedZone &child = hierarchy.records(n("nsec.test."));
  auto a = child.rrset(n("www.nsec.test."), rrtype::A);
  replace_rrset(child, n("www.nsec.test."), rrtype::A, a, {sign_rrset(a, not_a_zone_key)});
  SignedNetwork h(hierarchy);
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::NO_ZONE_KEY_BIT, "not a usable zone key");
  expect_secure(h, "www.nsec3.test.");
}

TEST(ForgeryKeys, DsPointingAtAKeyWhoseProtocolIsNot3IsBogus) {
  // RFC 4034 2.1.2: "The Protocol Field MUST have value 3, and the DNSKEY RR MUST be
  // treated as invalid during signature verification if it is found to be some value
  // other than 3." The KSK's record with protocol 2, its DS and signatures made to match.
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  const HierarchyZone &zone = hierarchy.zone(n("nsec.test."));
  ResourceRecord odd = zone.ksk().dnskey();
  odd.rdata[2] = 2;
  const uint16_t odd_tag = ldns_tag_of(odd);
  std::vector<ResourceRecord> keys = {odd, zone.zsk().dnskey()};
  publish_dnskeys_of_nsec_test(hierarchy, keys,
                               {sign_rrset(keys, zone.ksk(), SignatureSpec().with_key_tag(odd_tag))});
  publish_ds_of_nsec_test(hierarchy, {ldns_ds_of(odd)});
  SignedNetwork h(hierarchy);
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::DNSSEC_BOGUS, "protocol 2");
  expect_secure(h, "www.nsec3.test.");
}

TEST(ForgeryKeys, DsWhoseDigestMatchesNoKeyIsBogus) {
  // RFC 4035 5.2: the DS must match a DNSKEY by its digest (RFC 4034 5.1.4), not only
  // by key tag and algorithm.
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  ResourceRecord wrong = hierarchy.zone(n("nsec.test.")).ksk().ds();
  wrong.rdata.back() = static_cast<char>(wrong.rdata.back() ^ 0x01);
  publish_ds_of_nsec_test(hierarchy, {wrong});
  SignedNetwork h(hierarchy);
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::DNSKEY_MISSING, "matches no DNSKEY");
  expect_secure(h, "www.test.");
}

TEST(ForgeryKeys, Sha1DsThatMatchesBesideASha256DsThatDoesNotIsBogus) {
  // RFC 4509 3: a validator that supports SHA-256 MUST ignore a SHA-1 DS when a
  // SHA-256 DS for the same key is present: a matching SHA-1 digest does not rescue a
  // failing SHA-256 one (a downgrade to a weaker digest).
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  const SigningKey &ksk = hierarchy.zone(n("nsec.test.")).ksk();
  ResourceRecord sha256 = ksk.ds(2);
  sha256.rdata.back() = static_cast<char>(sha256.rdata.back() ^ 0x01);
  publish_ds_of_nsec_test(hierarchy, {sha256, ksk.ds(1)});
  SignedNetwork h(hierarchy);
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::DNSKEY_MISSING, "matches no DNSKEY");

  // The control: the SHA-256 DS right and the SHA-1 one wrong is secure (SHA-1 ignored).
  SignedHierarchy control = SignedHierarchy::standard();
  const SigningKey &control_ksk = control.zone(n("nsec.test.")).ksk();
  ResourceRecord sha1 = control_ksk.ds(1);
  sha1.rdata.back() = static_cast<char>(sha1.rdata.back() ^ 0x01);
  publish_ds_of_nsec_test(control, {sha1, control_ksk.ds(2)});
  SignedNetwork c(control);
  expect_secure(c, "www.nsec.test.");
}

TEST(ForgeryKeys, DsOfAnUnknownDigestTypeOnlyMakesTheZoneInsecure) {
  // RFC 4035 5.2 / RFC 6840 5.2: a DS RRset none of whose records can be used (here:
  // digest type 200) leads to an insecure zone, not a bogus one.
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  ResourceRecord unknown = hierarchy.zone(n("nsec.test.")).ksk().ds();
  unknown.rdata[3] = static_cast<char>(200);
  publish_ds_of_nsec_test(hierarchy, {unknown});
  SignedNetwork h(hierarchy);
  expect_insecure_answer(h.resolve("www.nsec.test.", rrtype::A));
  // Insecure is not a licence to forge above the cut: the parent is still secure.
  expect_secure(h, "www.test.");
}

TEST(ForgeryKeys, DsOfAnUnsupportedAlgorithmOnlyMakesTheZoneInsecure) {
  // RFC 4035 5.2 / RFC 6840 5.2: every DS names an algorithm the validator does not
  // support (253, private): the zone is treated as unsigned.
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  ResourceRecord unsupported = hierarchy.zone(n("nsec.test.")).ksk().ds();
  unsupported.rdata[2] = static_cast<char>(253);
  publish_ds_of_nsec_test(hierarchy, {unsupported});
  SignedNetwork h(hierarchy);
  expect_insecure_answer(h.resolve("www.nsec.test.", rrtype::A));
}

TEST(ForgeryKeys, ASupportedDsWhoseKeyIsGoneIsBogusEvenBesideAnUnsupportedOne) {
  // RFC 6840 5.2 makes a zone insecure only when NO DS uses a supported algorithm.
  // DS set {algorithm 13 (the real KSK), algorithm 253}; the DNSKEY set the server
  // offers holds only an algorithm-253 key with an algorithm-253 RRSIG. Unbound
  // (validator/val_utils.c, algo_needs over the supported DS algorithms) calls this
  // bogus: the supported DS must be matched and proven.
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  const HierarchyZone &zone = hierarchy.zone(n("nsec.test."));
  ResourceRecord private_key = zone.zsk().dnskey();
  private_key.rdata[3] = static_cast<char>(253);
  ResourceRecord private_ds = ldns_ds_of(zone.zsk().dnskey());
  private_ds.rdata[2] = static_cast<char>(253);
  private_ds.rdata[0] = static_cast<char>(ldns_tag_of(private_key) >> 8);
  private_ds.rdata[1] = static_cast<char>(ldns_tag_of(private_key) & 0xff);
  publish_ds_of_nsec_test(hierarchy, {zone.ksk().ds(), private_ds});
  auto honest_sigs = hierarchy.records(n("nsec.test.")).rrsigs(n("nsec.test."), rrtype::DNSKEY);
  ASSERT_FALSE(honest_sigs.empty());
  ResourceRecord private_sig = honest_sigs.front();
  private_sig.rdata[2] = static_cast<char>(253);
  private_sig.rdata[16] = private_ds.rdata[0];
  private_sig.rdata[17] = private_ds.rdata[1];
  publish_dnskeys_of_nsec_test(hierarchy, {private_key}, {private_sig});
  SignedNetwork h(hierarchy);
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::DNSKEY_MISSING, "matches no DNSKEY");
}

TEST(ForgeryKeys, AKeyAddedToTheSignedDnskeySetIsBogus) {
  // RFC 4035 5.3: the KSK's RRSIG covers the whole DNSKEY RRset; an attacker's key
  // slipped into it (the real RRSIGs kept) breaks the signature, and the data the
  // attacker signs with it is not accepted.
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  SigningKey intruder = SigningKey::generate(n("nsec.test."), KeyRole::zsk);
  SignedZone &child = hierarchy.records(n("nsec.test."));
  auto keys = child.rrset(n("nsec.test."), rrtype::DNSKEY);
  keys.push_back(intruder.dnskey());
  publish_dnskeys_of_nsec_test(hierarchy, keys, child.rrsigs(n("nsec.test."), rrtype::DNSKEY));
  auto a = child.rrset(n("www.nsec.test."), rrtype::A);
  for (auto &rr : a) rr.rdata = std::string("\xC0\x00\x02\x42", 4);
  replace_rrset(child, n("www.nsec.test."), rrtype::A, a, {sign_rrset(a, intruder)});
  SignedNetwork h(hierarchy);
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::DNSSEC_BOGUS, "does not verify");
  expect_secure(h, "www.nsec3.test.");
}

TEST(ForgeryKeys, ADnskeySetSignedOnlyByTheZskNeverBecomesTheZonesKeys) {
  // RFC 4035 5.2: the zone's DNSKEY RRset is authenticated by a key that a DS (or the
  // trust anchor) names, never by a ZSK of the set itself; otherwise whoever holds only
  // a ZSK (a signing provider, RFC 8901; a compromised ZSK after its rollover) could
  // add keys of its own. Here the ZSK signs {KSK, ZSK, intruder} with a TTL of a day,
  // which a client's DNSKEY question brings into the cache. When the validated keys
  // (TTL 3600) are gone, the zone's keys must be proven from the DS again.
  SignedNetwork h(standard());
  const HierarchyZone &zone = standard().zone(n("nsec.test."));
  ASSERT_EQ(h.resolve("www.nsec.test.", rrtype::A).security, Security::secure);
  SigningKey intruder = SigningKey::generate(n("nsec.test."), KeyRole::zsk, 13, std::nullopt, 86400);
  std::vector<ResourceRecord> keys = {zone.ksk().dnskey(), zone.zsk().dnskey(), intruder.dnskey()};
  for (auto &key : keys) key.ttl = 86400;
  const ResourceRecord zsk_sig = sign_rrset(keys, zone.zsk(), SignatureSpec().with_original_ttl(86400));
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (asks(q, "nsec.test.", rrtype::DNSKEY)) {
      Message reply = empty_reply(q, rcode::NOERROR);
      reply.answer = keys;
      reply.answer.push_back(zsk_sig);
      return reply;
    }
    if (asks(q, "www.nsec.test.", rrtype::A)) {
      Message reply = empty_reply(q, rcode::NOERROR);
      reply.answer = records("www.nsec.test. 300 A 192.0.2.66\n");
      reply.answer.push_back(sign_rrset(reply.answer, intruder));
      return reply;
    }
    return std::nullopt;
  };
  // The RRset cache evicts the validated DNSKEY set (LRU pressure) while the key cache
  // still holds the zone's keys: the client's question fetches the forged set. It is
  // judged as the chain of trust judges it, by the KSK the DS names, which did not sign
  // it: the client is not told it is the zone's, and the cache never holds it as secure.
  h.rrsets.erase(n("nsec.test."), rrtype::DNSKEY, rrclass::IN);
  Resolution client = h.resolve("nsec.test.", rrtype::DNSKEY);
  EXPECT_EQ(client.rcode, rcode::SERVFAIL);
  EXPECT_EQ(client.security, Security::bogus);
  auto cached_keys = h.rrsets.lookup(n("nsec.test."), rrtype::DNSKEY);
  EXPECT_TRUE(!cached_keys || cached_keys->security != Security::secure)
      << "the forged set was cached as secure";
  h.clock.advance_seconds(3601);
  Resolution r = h.resolve("www.nsec.test.", rrtype::A);
  for (const auto &rr : r.answer)
    EXPECT_NE(rr.rdata, std::string("\xC0\x00\x02\x42", 4))
        << "data signed by the intruder's key was accepted";
  EXPECT_NE(r.security, Security::secure);
  // The server honest again: nothing of the attack outlives the bogus TTL (the forged
  // set, TTL a day, was never kept as the zone's keys).
  h.net.server(kNsecServer).forge = nullptr;
  h.clock.advance_seconds(61);
  expect_secure(h, "www.nsec.test.");
  expect_secure(h, "nsec.test.", rrtype::DNSKEY);
}

TEST(ForgeryKeys, TheRootsKeysAskedFirstOnAFreshResolverAreSecure) {
  // `dig . DNSKEY` as the first question: the client's question waits for the root's
  // priming (RFC 8109), whose validation needs the root's keys, fetched for the chain
  // of trust while the client's own ". DNSKEY" is on the stack. That is not a loop;
  // taken for one, it failed and left the root bogus for every name for bogus-ttl.
  for (uint16_t type : {rrtype::DNSKEY, rrtype::NS}) {
    SignedNetwork h(standard());
    expect_secure(h, ".", type);
    expect_secure(h, "www.nsec.test.");
  }
}

TEST(ForgeryKeys, ApexDnskeyAnswersAreJudgedByTheDsOrTheAnchorKeys) {
  // The other side of the test above: honest DNSKEY sets asked for by clients are
  // secure, judged by the DS (below the anchor), by the anchor's DS, and by the
  // anchor's own keys when the anchor is given as DNSKEY records (RFC 4035 5.2, 5).
  {
    for (const char *zone : {".", "test.", "nsec.test.", "nsec3.test."}) {
      SignedNetwork fresh(standard());
      expect_secure(fresh, zone, rrtype::DNSKEY);
    }
    SignedNetwork h(standard());
    for (const char *zone : {"nsec3.test.", "nsec.test.", "test.", "."})
      expect_secure(h, zone, rrtype::DNSKEY);
    auto cached = h.rrsets.lookup(n("nsec.test."), rrtype::DNSKEY);
    ASSERT_TRUE(cached);
    EXPECT_EQ(cached->security, Security::secure);
  }
  {
    SignedNetwork h(standard());
    ASSERT_EQ(h.anchors.size(), 1u);
    h.anchors[0].ds.clear();
    h.anchors[0].dnskey = {standard().zone(n(".")).ksk().dnskey()};
    for (const char *zone : {".", "nsec.test."}) expect_secure(h, zone, rrtype::DNSKEY);
    expect_secure(h, "www.nsec.test.");
  }
}

// A DNSKEY record with the same key tag and algorithm as `key` but another public
// key (two octets moved by one in opposite directions keep the RFC 4034 B sum), that
// sorts before it in canonical order. Not a valid key: a signature never verifies.
ResourceRecord tag_collider_before(const ResourceRecord &key) {
  ResourceRecord fake = key;
  std::string &r = fake.rdata;
  for (size_t i = 4; i + 2 < r.size(); i += 2) {
    auto a = static_cast<uint8_t>(r[i]), b = static_cast<uint8_t>(r[i + 2]);
    if (a > 0 && b < 255) {
      r[i] = static_cast<char>(a - 1);
      r[i + 2] = static_cast<char>(b + 1);
      break;
    }
  }
  return fake;
}

TEST(ForgeryKeys, KeyTagCollisionsDoNotHideTheKeyThatSigned) {
  // RFC 4035 5.3.1 / RFC 4034 B: key tags are not unique; a validator MUST try every
  // DNSKEY whose tag and algorithm match. Both the KSK and the ZSK get a twin with the
  // same tag listed before them in the (properly signed) DNSKEY set.
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  const HierarchyZone &zone = hierarchy.zone(n("nsec.test."));
  ResourceRecord ksk_twin = tag_collider_before(zone.ksk().dnskey());
  ResourceRecord zsk_twin = tag_collider_before(zone.zsk().dnskey());
  ASSERT_NE(ksk_twin.rdata, zone.ksk().dnskey().rdata);
  ASSERT_NE(zsk_twin.rdata, zone.zsk().dnskey().rdata);
  ASSERT_EQ(ldns_tag_of(ksk_twin), zone.ksk().key_tag());
  ASSERT_EQ(ldns_tag_of(zsk_twin), zone.zsk().key_tag());
  ASSERT_EQ(key_tag(zsk_twin.rdata), zone.zsk().key_tag());
  std::vector<ResourceRecord> keys = {ksk_twin, zsk_twin, zone.ksk().dnskey(), zone.zsk().dnskey()};
  publish_dnskeys_of_nsec_test(hierarchy, keys, {sign_rrset(keys, zone.ksk())});
  SignedNetwork h(hierarchy);
  Resolution r = h.resolve("www.nsec.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(r.security, Security::secure) << (r.error ? r.error->extra_text : "");
  // The twins themselves sign nothing: data signed "by the ZSK's tag" with another
  // key still fails.
  SigningKey stranger = SigningKey::generate(n("nsec.test."), KeyRole::zsk);
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "mail.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = h.honest(kNsecServer, q);
    auto data = without_rrsigs(reply.answer);
    for (auto &rr : data) rr.rdata = std::string("\xC0\x00\x02\x42", 4);
    reply.answer = data;
    reply.answer.push_back(sign_rrset(data, stranger, SignatureSpec().with_key_tag(zone.zsk().key_tag())));
    return reply;
  };
  expect_bogus(h.resolve("mail.nsec.test.", rrtype::A), ede::DNSSEC_BOGUS, "does not verify");
}

// ---- RRSIG fields (RFC 4035 5.3.1, 5.3.3) ---------------------------------------------

// The honest reply for www.nsec.test. A with the A record changed and its RRSIG
// replaced by `sig` over the changed set.
std::optional<Message> resigned_www(
    SignedNetwork &h, const Message &q,
    const std::function<ResourceRecord(const std::vector<ResourceRecord> &)> &sign, bool change = true) {
  if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
  Message reply = h.honest(kNsecServer, q);
  auto data = without_rrsigs(reply.answer);
  if (change)
    for (auto &rr : data) rr.rdata = std::string("\xC0\x00\x02\x42", 4);
  reply.answer = data;
  reply.answer.push_back(sign(data));
  return reply;
}

TEST(ForgeryKeys, RrsigWithMoreLabelsThanItsOwnerIsBogus) {
  // RFC 4035 5.3.1: "The number of labels in the RRset owner name MUST be greater than
  // or equal to the value in the RRSIG RR's Labels field." The signature (by the real
  // ZSK) verifies over the data as it stands.
  SignedNetwork h(standard());
  const SigningKey &zsk = h.hierarchy.zone(n("nsec.test.")).zsk();
  h.net.server(kNsecServer).forge = [&](const Message &q) {
    return resigned_www(
        h, q, [&](const auto &data) { return sign_rrset(data, zsk, SignatureSpec().with_labels(4)); });
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::DNSSEC_BOGUS, "has labels 4");
}

TEST(ForgeryKeys, RrsigWhoseInceptionIsInTheFutureIsBogus) {
  // RFC 4035 5.3.1: "The validator's notion of the current time MUST be greater than or
  // equal to the time listed in the RRSIG RR's Inception field."
  SignedNetwork h(standard());
  const SigningKey &zsk = h.hierarchy.zone(n("nsec.test.")).zsk();
  h.net.server(kNsecServer).forge = [&](const Message &q) {
    return resigned_www(h, q, [&](const auto &data) {
      return sign_rrset(data, zsk, SignatureSpec().with_window(SignatureWindow::starting_after(kPinnedNow)));
    });
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::SIGNATURE_NOT_YET_VALID, "not valid before");
}

TEST(ForgeryKeys, ATtlRaisedAboveTheOriginalTtlIsCapped) {
  // RFC 4035 5.3.3: the TTL of a validated RRset is at most the RRSIG's Original TTL
  // (and the time left before the signature expires). The signed data uses the
  // original TTL, so raising the TTL on the wire keeps the signature valid.
  SignedNetwork h(standard());
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = h.honest(kNsecServer, q);
    for (auto &rr : reply.answer) rr.ttl = 86400;
    return reply;
  };
  Resolution r = h.resolve("www.nsec.test.", rrtype::A);
  EXPECT_EQ(r.security, Security::secure);
  ASSERT_FALSE(r.answer.empty());
  for (const auto &rr : r.answer) EXPECT_LE(rr.ttl, 300u) << type_to_text(rr.type);
  EXPECT_LE(r.cache_ttl, 300u);
  auto cached = h.rrsets.lookup(n("www.nsec.test."), rrtype::A);
  ASSERT_TRUE(cached);
  EXPECT_LE(cached->rrset.ttl, 300u);

  // A signature that expires in 20 minutes, with original TTL and TTL of a day.
  SignedNetwork soon(standard());
  const SigningKey &zsk = soon.hierarchy.zone(n("nsec.test.")).zsk();
  soon.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = soon.honest(kNsecServer, q);
    auto data = without_rrsigs(reply.answer);
    for (auto &rr : data) rr.ttl = 86400;
    reply.answer = data;
    SignatureWindow window{static_cast<uint32_t>(kPinnedNow - kSecondsPerDay),
                           static_cast<uint32_t>(kPinnedNow + 1200)};
    reply.answer.push_back(
        sign_rrset(data, zsk, SignatureSpec().with_window(window).with_original_ttl(86400)));
    return reply;
  };
  Resolution expiring = soon.resolve("www.nsec.test.", rrtype::A);
  EXPECT_EQ(expiring.security, Security::secure);
  ASSERT_FALSE(expiring.answer.empty());
  for (const auto &rr : expiring.answer) EXPECT_LE(rr.ttl, 1200u) << type_to_text(rr.type);
  auto cached_expiring = soon.rrsets.lookup(n("www.nsec.test."), rrtype::A);
  ASSERT_TRUE(cached_expiring);
  EXPECT_LE(cached_expiring->rrset.ttl, 1200u);
}

TEST(ForgeryKeys, AnswerBelowASecureCutSignedByTheParentIsBogus) {
  // RFC 4035 5.3.1: the signer is the zone that holds the RRset. www.nsec.test. lies in
  // nsec.test. (a secure delegation from test.); a valid signature by test.'s own ZSK
  // (signer test.) is the wrong zone's.
  SignedNetwork h(standard());
  const SigningKey &parent_zsk = h.hierarchy.zone(n("test.")).zsk();
  h.net.server(kNsecServer).forge = [&](const Message &q) {
    return resigned_www(h, q, [&](const auto &data) { return sign_rrset(data, parent_zsk); });
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::RRSIGS_MISSING, "not by the zone");
}

// ---- denial of existence -------------------------------------------------------------

TEST(ForgeryKeys, NsecNxdomainWithoutTheWildcardDenialIsBogus) {
  // RFC 4035 5.4 / 3.1.3.2: an NXDOMAIN needs an NSEC proving the name absent AND one
  // proving no wildcard could have matched it. Only the first is sent.
  SignedNetwork h(standard());
  const SignedZone &zone = h.hierarchy.records(n("nsec.test."));
  auto name_gap = zone.nsec_covering(n("nope.nsec.test."));
  auto wildcard_gap = zone.nsec_covering(n("*.nsec.test."));
  ASSERT_FALSE(name_gap.empty());
  ASSERT_FALSE(wildcard_gap.empty());
  ASSERT_NE(name_gap.front().owner, wildcard_gap.front().owner);
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "nope.nsec.test.", rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NXDOMAIN);
    append(reply.authority, zone.rrset_with_sigs(zone.origin, rrtype::SOA));
    append(reply.authority, name_gap);
    return reply;
  };
  expect_bogus(h.resolve("nope.nsec.test.", rrtype::A), ede::NSEC_MISSING, "wildcard");
  h.net.server(kNsecServer).forge = nullptr;
  h.clock.advance_seconds(h.config.dnssec.bogus_ttl + 1);
  Resolution honest = h.resolve("nope.nsec.test.", rrtype::A);
  EXPECT_EQ(honest.rcode, rcode::NXDOMAIN);
  EXPECT_EQ(honest.security, Security::secure);
}

TEST(ForgeryKeys, NsecNxdomainForAnEmptyNonTerminalIsBogus) {
  // RFC 4035 3.1.3.2 / 5.4: ent.nsec.test. owns nothing but host.ent.nsec.test. lies
  // below it. The NSEC whose gap holds it names that descendant as its next name:
  // the name exists (NODATA), it is not an NXDOMAIN.
  SignedNetwork h(standard());
  const SignedZone &zone = h.hierarchy.records(n("nsec.test."));
  auto gap = zone.nsec_covering(n("ent.nsec.test."));
  ASSERT_FALSE(gap.empty());
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!q.question() || q.question()->name != n("ent.nsec.test.")) return std::nullopt;
    Message reply = empty_reply(q, rcode::NXDOMAIN);
    append(reply.authority, zone.rrset_with_sigs(zone.origin, rrtype::SOA));
    append(reply.authority, gap);
    append(reply.authority, zone.nsec_covering(n("*.nsec.test.")));
    return reply;
  };
  expect_bogus(h.resolve("ent.nsec.test.", rrtype::A), ede::NSEC_MISSING, "ent.nsec.test.");
  // The name below still resolves: the NXDOMAIN did not prune it.
  h.net.server(kNsecServer).forge = nullptr;
  expect_secure(h, "host.ent.nsec.test.");
}

TEST(ForgeryKeys, ParentsNsecAtACutDeniesNothingBelowIt) {
  // RFC 6840 4.1 (and RFC 4035 5.2): the parent's NSEC at a delegation (NS, no SOA)
  // speaks only for the parent side. Sent by test.'s server, it "covers"
  // www.nsec.test. in canonical order and has no A bit for nsec.test. itself.
  SignedNetwork h(standard());
  h.config.resolver.qname_minimisation = false;
  const SignedZone &parent = h.hierarchy.records(n("test."));
  auto at_cut = parent.nsec_matching(n("nsec.test."));
  ASSERT_FALSE(at_cut.empty());
  h.net.server(kTestServer).forge = [&](const Message &q) -> std::optional<Message> {
    const Question *question = q.question();
    if (!question || !question->name.is_subdomain_of(n("nsec.test.")) || question->qtype == rrtype::DS)
      return std::nullopt;
    const bool below = question->name != n("nsec.test.");
    Message reply = empty_reply(q, below ? rcode::NXDOMAIN : rcode::NOERROR);
    append(reply.authority, parent.rrset_with_sigs(parent.origin, rrtype::SOA));
    append(reply.authority, at_cut);
    append(reply.authority, parent.nsec_covering(n("*.test.")));
    return reply;
  };
  expect_bogus(h.resolve("www.nsec.test.", rrtype::A), ede::NSEC_MISSING, "nsec.test.");
  SignedNetwork m(standard());  // QNAME minimisation on: NODATA for the cut itself
  m.net.server(kTestServer).forge = h.net.server(kTestServer).forge;
  expect_bogus(m.resolve("nsec.test.", rrtype::A), ede::NSEC_MISSING, "delegation");
}

// The name nopeN.nsec3.test. whose NXDOMAIN proof (apex match, next closer cover,
// wildcard cover) uses three different NSEC3 records, so that each can be left out.
std::string three_record_nxdomain(const SignedZone &zone) {
  const auto apex = zone.nsec3_matching(zone.origin);
  const auto wildcard = zone.nsec3_covering(n("*.nsec3.test."));
  for (int i = 0; i < 200; ++i) {
    std::string name = "nope" + std::to_string(i) + ".nsec3.test.";
    const auto next_closer = zone.nsec3_covering(n(name));
    if (next_closer.empty() || apex.empty() || wildcard.empty()) continue;
    if (next_closer.front().owner != wildcard.front().owner &&
        next_closer.front().owner != apex.front().owner && wildcard.front().owner != apex.front().owner)
      return name;
  }
  return {};
}

TEST(ForgeryKeys, Nsec3NxdomainWithoutTheNextCloserCoverIsBogus) {
  // RFC 5155 8.4: the closest encloser proof needs an NSEC3 covering the next closer
  // name; the apex match and the wildcard cover alone prove nothing.
  SignedNetwork h(standard());
  const SignedZone &zone = h.hierarchy.records(n("nsec3.test."));
  const std::string name = three_record_nxdomain(zone);
  ASSERT_FALSE(name.empty());
  h.net.server(kNsec3Server).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, name.c_str(), rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NXDOMAIN);
    append(reply.authority, zone.rrset_with_sigs(zone.origin, rrtype::SOA));
    append(reply.authority, zone.nsec3_matching(zone.origin));
    append(reply.authority, zone.nsec3_covering(n("*.nsec3.test.")));
    return reply;
  };
  expect_bogus(h.resolve(name, rrtype::A), ede::NSEC_MISSING, "next closer");
}

TEST(ForgeryKeys, Nsec3NxdomainWithoutTheWildcardCoverIsBogus) {
  // RFC 5155 8.4: "... and an NSEC3 RR that covers the wildcard at the closest encloser".
  SignedNetwork h(standard());
  const SignedZone &zone = h.hierarchy.records(n("nsec3.test."));
  const std::string name = three_record_nxdomain(zone);
  ASSERT_FALSE(name.empty());
  h.net.server(kNsec3Server).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, name.c_str(), rrtype::A)) return std::nullopt;
    Message reply = empty_reply(q, rcode::NXDOMAIN);
    append(reply.authority, zone.rrset_with_sigs(zone.origin, rrtype::SOA));
    append(reply.authority, zone.nsec3_matching(zone.origin));
    append(reply.authority, zone.nsec3_covering(n(name)));
    return reply;
  };
  expect_bogus(h.resolve(name, rrtype::A), ede::NSEC_MISSING, "wildcard");
  h.net.server(kNsec3Server).forge = nullptr;
  h.clock.advance_seconds(h.config.dnssec.bogus_ttl + 1);
  Resolution honest = h.resolve(name, rrtype::A);
  EXPECT_EQ(honest.rcode, rcode::NXDOMAIN);
  EXPECT_EQ(honest.security, Security::secure);
}

TEST(ForgeryKeys, Nsec3WildcardAnswerWithoutTheNextCloserCoverIsBogus) {
  // RFC 5155 8.8 / RFC 4035 5.3.4: a wildcard expansion needs the NSEC3 covering the
  // next closer name; the NSEC3 matching the closest encloser (wild.nsec3.test., an
  // empty non-terminal) does not prove that no closer name exists.
  SignedNetwork h(standard());
  const SignedZone &zone = h.hierarchy.records(n("nsec3.test."));
  auto encloser = zone.nsec3_matching(n("wild.nsec3.test."));
  ASSERT_FALSE(encloser.empty());
  std::string name;
  for (int i = 0; i < 200 && name.empty(); ++i) {
    std::string candidate = "a" + std::to_string(i) + ".wild.nsec3.test.";
    auto cover = zone.nsec3_covering(n(candidate));
    if (!cover.empty() && cover.front().owner != encloser.front().owner) name = candidate;
  }
  ASSERT_FALSE(name.empty());
  for (bool keep_encloser : {false, true}) {
    SignedNetwork a(standard());
    const SignedZone &z = a.hierarchy.records(n("nsec3.test."));
    ASSERT_FALSE(z.nsec3_covering(n(name)).empty());
    a.net.server(kNsec3Server).forge = [&](const Message &q) -> std::optional<Message> {
      if (!asks(q, name.c_str(), rrtype::A)) return std::nullopt;
      Message reply = a.honest(kNsec3Server, q);
      std::erase_if(reply.authority, [](const ResourceRecord &rr) { return covers_type(rr, rrtype::NSEC3); });
      if (keep_encloser) append(reply.authority, z.nsec3_matching(n("wild.nsec3.test.")));
      return reply;
    };
    expect_bogus(a.resolve(name, rrtype::A), ede::NSEC_MISSING,
                 keep_encloser ? "next closer" : "without a proof");
  }
}

// nsec3.test. with every NSEC3 record's `offset`-th RDATA octet set to `value`, the
// records re-signed by the zone's ZSK: a zone that really uses those parameters.
SignedHierarchy nsec3_zone_with(size_t offset, char value) {
  SignedHierarchy hierarchy = SignedHierarchy::standard();
  SignedZone &zone = hierarchy.records(n("nsec3.test."));
  const SigningKey &zsk = hierarchy.zone(n("nsec3.test.")).zsk();
  std::vector<ResourceRecord> nsec3s;
  for (const auto &rr : zone.records)
    if (rr.type == rrtype::NSEC3) nsec3s.push_back(rr);
  for (auto rr : nsec3s) {
    rr.rdata[offset] = value;
    replace_rrset(zone, rr.owner, rrtype::NSEC3, {rr}, {sign_rrset({rr}, zsk)});
  }
  return hierarchy;
}

TEST(ForgeryKeys, Nsec3OfAnUnknownHashAlgorithmProvesNothing) {
  // RFC 5155 8.1: "Validators MUST ignore NSEC3 RRs with unknown hash types. The
  // practical result of this is that responses containing only such NSEC3 RRs will
  // generally be considered bogus." (Unbound's val_nsec3.c filter does the same.)
  SignedHierarchy hierarchy = nsec3_zone_with(0, 2);
  SignedNetwork h(hierarchy);
  expect_bogus(h.resolve("missing.nsec3.test.", rrtype::A), ede::NSEC_MISSING, "no usable NSEC3");
  expect_secure(h, "www.nsec3.test.");
}

TEST(ForgeryKeys, Nsec3WithUnknownFlagsProvesNothing) {
  // RFC 5155 8.2: "Validators MUST ignore NSEC3 RRs with a Flag fields value other than
  // zero or one."
  SignedHierarchy hierarchy = nsec3_zone_with(1, 0x02);
  SignedNetwork h(hierarchy);
  expect_bogus(h.resolve("missing.nsec3.test.", rrtype::A), ede::NSEC_MISSING, "no usable NSEC3");
}

// ---- chains: DNAME and CNAME across zones --------------------------------------------

SignedHierarchy with_nsec_test_records(const std::string &extra) {
  std::vector<ZoneSpec> specs = SignedHierarchy::standard_specs();
  for (auto &spec : specs)
    if (spec.origin == "nsec.test.") spec.records += extra;
  return SignedHierarchy::build(specs);
}

TEST(ForgeryKeys, ACnameBesideADnameThatDoesNotFollowItIsNotUsed) {
  // RFC 6672 3.2 / RFC 4035 5.3: the synthesized CNAME is unsigned; only the signed
  // DNAME vouches for it, so it must be exactly the DNAME substitution. A forged one
  // (www.dn.nsec.test. -> mail.nsec.test., with mail's real signed A) must not be
  // followed as if the DNAME had said so.
  SignedHierarchy hierarchy = with_nsec_test_records("dn DNAME nsec3.test.\n");
  SignedNetwork h(hierarchy);
  const SignedZone &zone = hierarchy.records(n("nsec.test."));
  auto dname_reply = [&](const Message &q, const char *target) {
    Message reply = empty_reply(q, rcode::NOERROR);
    append(reply.answer, zone.rrset_with_sigs(n("dn.nsec.test."), rrtype::DNAME));
    append(reply.answer, records(std::string("www.dn.nsec.test. 300 CNAME ") + target + "\n"));
    if (std::string(target) == "mail.nsec.test.")
      append(reply.answer, zone.rrset_with_sigs(n("mail.nsec.test."), rrtype::A));
    return reply;
  };
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!q.question() || q.question()->name != n("www.dn.nsec.test.")) return std::nullopt;
    return dname_reply(q, "mail.nsec.test.");
  };
  Resolution forged = h.resolve("www.dn.nsec.test.", rrtype::A);
  EXPECT_FALSE(answer_has(forged, "mail.nsec.test.", rrtype::A)) << "the forged CNAME was followed";
  // The resolver synthesizes the CNAME from the DNAME itself (answer_chain.cc) and
  // follows the substitution; the validator then proves the DNAME and the target.
  EXPECT_EQ(forged.rcode, rcode::NOERROR);
  EXPECT_EQ(forged.security, Security::secure) << (forged.error ? forged.error->extra_text : "");
  EXPECT_TRUE(answer_has(forged, "www.nsec3.test.", rrtype::A));
  EXPECT_TRUE(answer_has(forged, "www.dn.nsec.test.", rrtype::CNAME));  // the one the loop checks
  for (const auto &rr : forged.answer) {
    if (rr.type == rrtype::CNAME) {
      EXPECT_EQ(rr.rdata_target(), n("www.nsec3.test."));
    }
  }
  // The control: the honest synthesized CNAME validates.
  SignedNetwork honest(hierarchy);
  honest.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!q.question() || q.question()->name != n("www.dn.nsec.test.")) return std::nullopt;
    return dname_reply(q, "www.nsec3.test.");
  };
  Resolution r = honest.resolve("www.dn.nsec.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(r.security, Security::secure) << (r.error ? r.error->extra_text : "");
  EXPECT_TRUE(answer_has(r, "www.nsec3.test.", rrtype::A));
}

TEST(ForgeryKeys, AnUnsignedDnameInASecureZoneIsBogus) {
  // RFC 4035 5: the DNAME is data of a secure zone; without its RRSIG the synthesized
  // CNAME has nothing vouching for it.
  SignedHierarchy hierarchy = with_nsec_test_records("dn DNAME nsec3.test.\n");
  SignedNetwork h(hierarchy);
  const SignedZone &zone = hierarchy.records(n("nsec.test."));
  h.net.server(kNsecServer).forge = [&](const Message &q) -> std::optional<Message> {
    if (!q.question() || q.question()->name != n("www.dn.nsec.test.")) return std::nullopt;
    Message reply = empty_reply(q, rcode::NOERROR);
    append(reply.answer, zone.rrset(n("dn.nsec.test."), rrtype::DNAME));
    append(reply.answer, records("www.dn.nsec.test. 300 CNAME www.nsec3.test.\n"));
    return reply;
  };
  Resolution r = h.resolve("www.dn.nsec.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_EQ(r.security, Security::bogus);
}

TEST(ForgeryKeys, CnameFromASecureZoneIntoABogusOneIsServfail) {
  // RFC 4035 5: every RRset of the answer is validated in its own zone; the secure
  // CNAME in nsec.test. does not make a forged target in nsec3.test. acceptable.
  SignedNetwork h(standard());
  h.net.server(kNsec3Server).forge = [&](const Message &q) -> std::optional<Message> {
    if (!asks(q, "www.nsec3.test.", rrtype::A)) return std::nullopt;
    Message reply = h.honest(kNsec3Server, q);
    for (auto &rr : reply.answer)
      if (rr.type == rrtype::A) rr.rdata = std::string("\xC0\x00\x02\x42", 4);
    return reply;
  };
  expect_bogus(h.resolve("out.nsec.test.", rrtype::A), ede::DNSSEC_BOGUS, "does not verify");
  h.net.server(kNsec3Server).forge = nullptr;
  h.clock.advance_seconds(h.config.dnssec.bogus_ttl + 1);
  expect_secure(h, "out.nsec.test.");
}

TEST(ForgeryKeys, CnameFromASecureZoneIntoAnInsecureOneIsInsecure) {
  // RFC 4035 4.3 / 5: the answer is only as secure as its least secure RRset: a chain
  // that ends in a provably unsigned zone is insecure (no AD), not secure and not bogus.
  SignedHierarchy hierarchy = with_nsec_test_records("toinsecure CNAME www.insecure.test.\n");
  SignedNetwork h(hierarchy);
  Resolution r = h.resolve("toinsecure.nsec.test.", rrtype::A);
  expect_insecure_answer(r);
  EXPECT_TRUE(answer_has(r, "toinsecure.nsec.test.", rrtype::CNAME));
  EXPECT_TRUE(answer_has(r, "www.insecure.test.", rrtype::A));
  // The CNAME itself was proven: it is cached as secure.
  auto cname = h.rrsets.lookup(n("toinsecure.nsec.test."), rrtype::CNAME);
  ASSERT_TRUE(cname);
  EXPECT_EQ(cname->security, Security::secure);
}

}  // namespace
}  // namespace rsv::testing
