#include "dnssec/rrsig.h"

#include <gtest/gtest.h>

#include "dnssec/crypto.h"
#include "dnssec/verification_cache.h"
#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

// The fixtures (tests/unit/data/dnssec, see make_fixtures.sh) are signed from
// 2024-01-01 00:00:00 to 2034-01-01 00:00:00 UTC.
constexpr int64_t kInception = 1704067200;
constexpr int64_t kExpiration = 2019686400;
constexpr int64_t kNow = 1735689600;  // 2025-01-01

std::string data_path(const std::string &file) {
  return std::string(RESOLVER_SOURCE_DIR) + "/tests/unit/data/dnssec/" + file;
}

Name name(const char *text) {
  return *Name::from_text(text);
}

std::vector<ResourceRecord> load(const std::string &file) {
  std::vector<ResourceRecord> records;
  for (auto &entry : read_zone_file(data_path(file))) records.push_back(std::move(entry.record));
  return records;
}

// Changes the last two octets of a DNSKEY's key until its key tag is `tag`: two
// adjacent octets add any 16-bit value to the RFC 4034 Appendix B sum.
std::string with_key_tag(std::string rdata, uint16_t tag) {
  const size_t n = rdata.size();
  for (uint32_t value = 0; value < 0x10000; ++value) {
    rdata[n - 2] = static_cast<char>(value >> 8);
    rdata[n - 1] = static_cast<char>(value & 0xff);
    if (key_tag(rdata) == tag) return rdata;
  }
  ADD_FAILURE() << "no variant with tag " << tag;
  return rdata;
}

class SignedZone {
public:
  explicit SignedZone(int algorithm)
      : records_(load("alg" + std::to_string(algorithm) + ".zone")),
        ds_(load("alg" + std::to_string(algorithm) + ".ds")) {}

  RRset rrset(const Name &owner, uint16_t type) const {
    RRset set;
    set.owner = owner;
    set.type = type;
    for (const ResourceRecord &rr : records_)
      if (rr.owner == owner && rr.type == type) set.add(rr.rdata, rr.ttl);
    return set;
  }
  std::vector<ResourceRecord> rrsigs(const Name &owner, uint16_t type) const {
    std::vector<ResourceRecord> sigs;
    for (const ResourceRecord &rr : records_)
      if (rr.owner == owner && rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == type)
        sigs.push_back(rr);
    return sigs;
  }
  std::vector<ResourceRecord> dnskeys() const { return of_type(rrtype::DNSKEY); }
  const ResourceRecord &key(bool ksk) const {
    for (const ResourceRecord &rr : records_)
      if (rr.type == rrtype::DNSKEY && ((rr.rdata[1] & 1) != 0) == ksk) return rr;
    throw std::runtime_error("no such key");
  }
  std::vector<ResourceRecord> ds(uint8_t digest_type) const {
    std::vector<ResourceRecord> out;
    for (const ResourceRecord &rr : ds_)
      if (static_cast<uint8_t>(rr.rdata[3]) == digest_type) out.push_back(rr);
    return out;
  }
  std::vector<ResourceRecord> of_type(uint16_t type) const {
    std::vector<ResourceRecord> out;
    for (const ResourceRecord &rr : records_)
      if (rr.type == type) out.push_back(rr);
    return out;
  }
  const std::vector<ResourceRecord> &records() const { return records_; }

private:
  std::vector<ResourceRecord> records_;
  std::vector<ResourceRecord> ds_;
};

// Limits generous enough that only the one under test matters.
DnssecConfig roomy_limits() {
  DnssecConfig limits;
  limits.max_verifications_per_response = 1000;
  limits.max_verifications_per_query = 1000;
  return limits;
}

// ---- every algorithm, every RRset --------------------------------------------------

class AlgorithmTest : public testing::TestWithParam<int> {
protected:
  void SetUp() override {
    if (!algorithm_supported(static_cast<uint8_t>(GetParam())))
      GTEST_SKIP() << "algorithm " << GetParam() << " not supported here";
  }
};

TEST_P(AlgorithmTest, EveryRrsetOfTheZoneVerifies) {
  SignedZone zone(GetParam());
  DnssecConfig limits = roomy_limits();
  ValidationBudget budget(limits);
  int verified = 0;
  for (const ResourceRecord &sig : zone.of_type(rrtype::RRSIG)) {
    RRset set = zone.rrset(sig.owner, sig.rrsig_type_covered());
    uint32_t ttl = 0;
    std::optional<Name> wildcard = name("sentinel.");
    ValidationOutcome outcome = verify_rrset(set, zone.rrsigs(sig.owner, set.type), zone.dnskeys(),
                                             name("example."), kNow, budget, &ttl, &wildcard);
    EXPECT_TRUE(outcome.is_secure()) << set.owner.to_text() << " " << type_to_text(set.type) << ": "
                                     << outcome.reason;
    EXPECT_EQ(ttl, set.ttl);
    EXPECT_FALSE(wildcard.has_value());
    ++verified;
  }
  EXPECT_EQ(verified, 12);  // SOA NS DNSKEY MX A(ns) A(www) TXT and five NSEC
}

TEST_P(AlgorithmTest, DnskeySetVerifiesWithEachDsDigest) {
  SignedZone zone(GetParam());
  DnssecConfig limits = roomy_limits();
  ValidationBudget budget(limits);
  RRset keys = zone.rrset(name("example."), rrtype::DNSKEY);
  for (uint8_t digest : {1, 2, 4}) {
    uint32_t ttl = 0;
    ValidationOutcome outcome = verify_dnskey_with_ds(keys, zone.rrsigs(name("example."), rrtype::DNSKEY),
                                                      zone.ds(digest), name("example."), kNow, budget, &ttl);
    EXPECT_TRUE(outcome.is_secure()) << "digest " << int(digest) << ": " << outcome.reason;
    EXPECT_EQ(ttl, 3600u);
  }
}

TEST_P(AlgorithmTest, KeyTagsMatchLdns) {
  SignedZone zone(GetParam());
  for (const ResourceRecord &rr : zone.dnskeys()) {
    LdnsRr ldns_rr = to_ldns_rr(rr);
    EXPECT_EQ(key_tag(rr.rdata), ldns_calc_keytag(ldns_rr.get())) << rr.to_text();
    EXPECT_EQ(parse_dnskey(rr.rdata)->key_tag, key_tag(rr.rdata));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AlgorithmTest, testing::Values(5, 7, 8, 10, 13, 14, 15, 16),
                         [](const testing::TestParamInfo<int> &info) {
                           return "alg" + std::to_string(info.param);
                         });

// ---- failure cases on the ECDSA P-256 zone -------------------------------------------

class RrsigTest : public testing::Test {
protected:
  RrsigTest() : zone_(13), limits_(roomy_limits()), budget_(limits_) {}

  ValidationOutcome verify(const RRset &set, const std::vector<ResourceRecord> &sigs, int64_t now = kNow,
                           const std::vector<ResourceRecord> *keys = nullptr) {
    return verify_rrset(set, sigs, keys ? *keys : zone_.dnskeys(), name("example."), now, budget_, &ttl_,
                        &wildcard_);
  }
  RRset www() const { return zone_.rrset(name("www.example."), rrtype::A); }
  std::vector<ResourceRecord> www_sigs() const { return zone_.rrsigs(name("www.example."), rrtype::A); }
  ResourceRecord zsk_with_flags(uint16_t flags) const {
    ResourceRecord key = zone_.key(false);
    const uint16_t tag = key_tag(key.rdata);
    key.rdata[0] = static_cast<char>(flags >> 8);
    key.rdata[1] = static_cast<char>(flags & 0xff);
    key.rdata = with_key_tag(key.rdata, tag);
    return key;
  }

  SignedZone zone_;
  DnssecConfig limits_;
  ValidationBudget budget_;
  uint32_t ttl_ = 0;
  std::optional<Name> wildcard_;
};

TEST_F(RrsigTest, FlippedSignatureBitIsBogus) {
  auto sigs = www_sigs();
  sigs[0].rdata.back() = static_cast<char>(sigs[0].rdata.back() ^ 0x04);
  ValidationOutcome outcome = verify(www(), sigs);
  EXPECT_TRUE(outcome.is_bogus());
  EXPECT_EQ(outcome.ede, ede::DNSSEC_BOGUS);
  EXPECT_NE(outcome.reason.find("www.example. A: RRSIG"), std::string::npos) << outcome.reason;
  EXPECT_NE(outcome.reason.find("/13 by example."), std::string::npos) << outcome.reason;
}

TEST_F(RrsigTest, ChangedRecordIsBogus) {
  RRset set = www();
  set.rdatas[1][3] = 99;  // 192.0.2.11 -> 192.0.2.99
  EXPECT_EQ(verify(set, www_sigs()).ede, ede::DNSSEC_BOGUS);
  RRset missing_one = www();
  missing_one.rdatas.pop_back();
  EXPECT_TRUE(verify(missing_one, www_sigs()).is_bogus());
}

TEST_F(RrsigTest, ExpiredAndNotYetValid) {
  ValidationOutcome expired = verify(www(), www_sigs(), kExpiration + 1);
  EXPECT_TRUE(expired.is_bogus());
  EXPECT_EQ(expired.ede, ede::SIGNATURE_EXPIRED);
  EXPECT_NE(expired.reason.find("expired at 20340101000000"), std::string::npos) << expired.reason;

  ValidationOutcome early = verify(www(), www_sigs(), kInception - 1);
  EXPECT_TRUE(early.is_bogus());
  EXPECT_EQ(early.ede, ede::SIGNATURE_NOT_YET_VALID);
  EXPECT_NE(early.reason.find("20240101000000"), std::string::npos) << early.reason;

  // Both ends of the period are inclusive (RFC 4035 5.3.1).
  EXPECT_TRUE(verify(www(), www_sigs(), kInception).is_secure());
  EXPECT_TRUE(verify(www(), www_sigs(), kExpiration).is_secure());
}

TEST_F(RrsigTest, ValidatedTtlIsCappedByExpiry) {
  ASSERT_TRUE(verify(www(), www_sigs(), kExpiration - 100).is_secure());
  EXPECT_EQ(ttl_, 100u);
  RRset short_lived = www();
  short_lived.ttl = 60;
  ASSERT_TRUE(verify(short_lived, www_sigs()).is_secure());
  EXPECT_EQ(ttl_, 60u);
  RRset long_lived = www();
  long_lived.ttl = 86400;  // more than the original TTL: capped to it (RFC 4035 5.3.3)
  ASSERT_TRUE(verify(long_lived, www_sigs()).is_secure());
  EXPECT_EQ(ttl_, 3600u);
}

TEST_F(RrsigTest, SerialArithmeticAcrossTheWrap) {
  RrsigFields sig;
  sig.inception = 0xffffff00u;
  sig.expiration = 0x00000100u;
  const int64_t wrap = int64_t{1} << 32;
  EXPECT_EQ(check_signature_time(sig, wrap - 0x10), SignatureTime::valid);
  EXPECT_EQ(check_signature_time(sig, wrap + 0x10), SignatureTime::valid);
  EXPECT_EQ(check_signature_time(sig, wrap + 0x200), SignatureTime::expired);
  EXPECT_EQ(check_signature_time(sig, wrap - 0x200), SignatureTime::not_yet_valid);
}

TEST_F(RrsigTest, LabelsFieldLargerThanOwnerIsBogus) {
  auto sigs = www_sigs();
  sigs[0].rdata[3] = 3;  // www.example. has 2 labels
  ValidationOutcome outcome = verify(www(), sigs);
  EXPECT_TRUE(outcome.is_bogus());
  EXPECT_NE(outcome.reason.find("labels 3"), std::string::npos) << outcome.reason;
}

TEST_F(RrsigTest, WildcardExpansionReportsTheSource) {
  const RRset wildcard = zone_.rrset(name("*.wild.example."), rrtype::TXT);
  const auto wildcard_sigs = zone_.rrsigs(name("*.wild.example."), rrtype::TXT);
  for (const char *query : {"foo.wild.example.", "a.b.wild.example."}) {
    RRset expanded = wildcard;
    expanded.owner = name(query);
    auto sigs = wildcard_sigs;
    for (ResourceRecord &sig : sigs) sig.owner = expanded.owner;
    ValidationOutcome outcome = verify(expanded, sigs);
    EXPECT_TRUE(outcome.is_secure()) << query << ": " << outcome.reason;
    ASSERT_TRUE(wildcard_.has_value()) << query;
    EXPECT_EQ(*wildcard_, name("wild.example."));
  }
  // The wildcard record itself is not an expansion.
  EXPECT_TRUE(verify(wildcard, wildcard_sigs).is_secure());
  EXPECT_FALSE(wildcard_.has_value());
}

// ---- the verified-signature cache (dnssec/verification_cache.h) ---------------------

TEST_F(RrsigTest, ASignatureVerifiedOnceCostsNoSecondVerification) {
  clear_verification_caches_of_this_thread();
  ASSERT_TRUE(verify(www(), www_sigs()).is_secure());
  EXPECT_EQ(budget_.verifications(), 1u);
  ASSERT_TRUE(verify(www(), www_sigs()).is_secure());
  EXPECT_EQ(budget_.verifications(), 1u) << "the second check is a cache hit";
  // Every name a wildcard expands to is signed over the same bytes (RFC 4035 5.3.2).
  const RRset wildcard = zone_.rrset(name("*.wild.example."), rrtype::TXT);
  for (const char *query : {"foo.wild.example.", "a.b.wild.example.", "bar.wild.example."}) {
    RRset expanded = wildcard;
    expanded.owner = name(query);
    auto sigs = zone_.rrsigs(name("*.wild.example."), rrtype::TXT);
    for (ResourceRecord &sig : sigs) sig.owner = expanded.owner;
    ASSERT_TRUE(verify(expanded, sigs).is_secure()) << query;
  }
  EXPECT_EQ(budget_.verifications(), 2u) << "one verification for all the wildcard's expansions";
}

// A remembered signature vouches for exactly what it verified: everything the caller
// checks besides the public-key operation still fails what it should.
TEST_F(RrsigTest, ARememberedSignatureStillFailsWhatItDoesNotCover) {
  clear_verification_caches_of_this_thread();
  ASSERT_TRUE(verify(www(), www_sigs()).is_secure());
  RRset changed = www();
  changed.rdatas[1][3] = 99;
  EXPECT_EQ(verify(changed, www_sigs()).ede, ede::DNSSEC_BOGUS);
  EXPECT_EQ(verify(www(), www_sigs(), kExpiration + 1).ede, ede::SIGNATURE_EXPIRED);
  EXPECT_EQ(verify(www(), www_sigs(), kInception - 1).ede, ede::SIGNATURE_NOT_YET_VALID);
  std::vector<ResourceRecord> revoked = {zsk_with_flags(dnskey_flag::ZONE | dnskey_flag::REVOKE)};
  EXPECT_TRUE(verify(www(), www_sigs(), kNow, &revoked).is_bogus());
  std::vector<ResourceRecord> no_keys;
  EXPECT_TRUE(verify(www(), www_sigs(), kNow, &no_keys).is_bogus());
  // Another public key that claims the same tag (a forger's key tag collision).
  ResourceRecord impostor = zone_.key(false);
  const uint16_t tag = key_tag(impostor.rdata);
  impostor.rdata[10] = static_cast<char>(impostor.rdata[10] ^ 0x5a);
  impostor.rdata = with_key_tag(impostor.rdata, tag);
  ASSERT_EQ(key_tag(impostor.rdata), tag);
  std::vector<ResourceRecord> impostors = {impostor};
  EXPECT_TRUE(verify(www(), www_sigs(), kNow, &impostors).is_bogus());
  // Another RRSIG field (the original TTL) is part of the signed data.
  auto sigs = www_sigs();
  sigs[0].rdata[7] = static_cast<char>(sigs[0].rdata[7] ^ 0x01);
  EXPECT_EQ(verify(www(), sigs).ede, ede::DNSSEC_BOGUS);
  auto labels = www_sigs();
  labels[0].rdata[3] = 3;
  EXPECT_TRUE(verify(www(), labels).is_bogus());
  // And the genuine one is still fine.
  EXPECT_TRUE(verify(www(), www_sigs()).is_secure());
}

TEST(Nsec3HashCache, GivesWhatTheHashFunctionGives) {
  clear_verification_caches_of_this_thread();
  const std::string a = name("a.example.").wire(), b = name("b.example.").wire();
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(nsec3_hash_cached(a, "", 0), nsec3_hash(a, "", 0));
    EXPECT_EQ(nsec3_hash_cached(a, "\xAB", 0), nsec3_hash(a, "\xAB", 0));
    EXPECT_EQ(nsec3_hash_cached(a, "", 3), nsec3_hash(a, "", 3));
    EXPECT_EQ(nsec3_hash_cached(b, "", 0), nsec3_hash(b, "", 0));
  }
  EXPECT_NE(nsec3_hash_cached(a, "", 0), nsec3_hash_cached(a, "", 1));
}

TEST_F(RrsigTest, KeyWithoutZoneBit) {
  std::vector<ResourceRecord> keys = {zsk_with_flags(0), zone_.key(true)};
  ValidationOutcome outcome = verify(www(), www_sigs(), kNow, &keys);
  EXPECT_TRUE(outcome.is_bogus());
  EXPECT_EQ(outcome.ede, ede::NO_ZONE_KEY_BIT);
  EXPECT_EQ(budget_.verifications(), 0u);
}

TEST_F(RrsigTest, RevokedKey) {
  std::vector<ResourceRecord> keys = {zsk_with_flags(dnskey_flag::ZONE | dnskey_flag::REVOKE)};
  ValidationOutcome outcome = verify(www(), www_sigs(), kNow, &keys);
  EXPECT_TRUE(outcome.is_bogus());
  EXPECT_NE(outcome.reason.find("revoked"), std::string::npos) << outcome.reason;
  EXPECT_EQ(budget_.verifications(), 0u);
}

TEST_F(RrsigTest, MissingSignaturesAndKeys) {
  ValidationOutcome unsigned_set = verify(www(), {});
  EXPECT_EQ(unsigned_set.ede, ede::RRSIGS_MISSING);
  EXPECT_TRUE(unsigned_set.is_bogus());
  // Signatures over another type do not count.
  EXPECT_EQ(verify(www(), zone_.rrsigs(name("www.example."), rrtype::NSEC)).ede, ede::RRSIGS_MISSING);

  // A signature by a key the zone does not publish (a removed key, a replay): bogus,
  // with EDE 6; EDE 9 is for a DS without its DNSKEY.
  std::vector<ResourceRecord> only_ksk = {zone_.key(true)};
  ValidationOutcome no_key = verify(www(), www_sigs(), kNow, &only_ksk);
  EXPECT_TRUE(no_key.is_bogus());
  EXPECT_EQ(no_key.ede, ede::DNSSEC_BOGUS);
  EXPECT_NE(no_key.reason.find("no DNSKEY"), std::string::npos) << no_key.reason;

  // A signer other than the zone (RFC 4035 5.3.1): no usable RRSIG, EDE 10.
  ValidationOutcome foreign =
      verify_rrset(www(), www_sigs(), zone_.dnskeys(), name("www.example."), kNow, budget_);
  EXPECT_TRUE(foreign.is_bogus());
  EXPECT_EQ(foreign.ede, ede::RRSIGS_MISSING);
  EXPECT_NE(foreign.reason.find("not by the zone"), std::string::npos) << foreign.reason;
}

TEST_F(RrsigTest, OnlyUnsupportedAlgorithmsIsBogusNotInsecure) {
  // RFC 4035 5.2 / RFC 6840 5.2: only the DS RRset can make a zone insecure. An RRSIG
  // naming an algorithm nobody supports is what a forger would write: no signature.
  auto sigs = www_sigs();
  sigs[0].rdata[2] = static_cast<char>(253);  // PRIVATEDNS
  ValidationOutcome outcome = verify(www(), sigs);
  EXPECT_EQ(outcome.security, Security::bogus);
  EXPECT_EQ(outcome.ede, ede::RRSIGS_MISSING);
  EXPECT_NE(outcome.reason.find("unsupported algorithm 253"), std::string::npos) << outcome.reason;
  EXPECT_EQ(budget_.verifications(), 0u);
  // A supported signature that fails next to it makes the answer bogus.
  auto both = www_sigs();
  both[0].rdata.back() = static_cast<char>(both[0].rdata.back() ^ 1);
  both.push_back(sigs[0]);
  EXPECT_TRUE(verify(www(), both).is_bogus());
}

TEST_F(RrsigTest, CanonicalOrderAndCase) {
  // The MX set in upper case, unsorted, with a duplicate, still verifies.
  RRset mx = zone_.rrset(name("mail.example."), rrtype::MX);
  ASSERT_EQ(mx.rdatas.size(), 2u);
  RRset shuffled;
  shuffled.owner = name("MAIL.Example.");
  shuffled.type = rrtype::MX;
  shuffled.ttl = mx.ttl;
  for (std::string upper : mx.rdatas) {
    for (size_t i = 2; i < upper.size(); ++i)
      if (upper[i] >= 'a' && upper[i] <= 'z') upper[i] = static_cast<char>(upper[i] - 32);
    shuffled.rdatas.insert(shuffled.rdatas.begin(), upper);  // reversed order
  }
  shuffled.rdatas.push_back(shuffled.rdatas.front());
  auto sigs = zone_.rrsigs(name("mail.example."), rrtype::MX);
  for (ResourceRecord &sig : sigs) sig.owner = shuffled.owner;
  ValidationOutcome outcome = verify(shuffled, sigs);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;

  RRset reversed = www();
  std::reverse(reversed.rdatas.begin(), reversed.rdatas.end());
  EXPECT_TRUE(verify(reversed, www_sigs()).is_secure());
}

TEST(CanonicalRdataTest, NamesLoweredPerRfc6840) {
  const std::string mx = std::string("\x00\x0a", 2) + name("Mail.EXAMPLE.").wire();
  EXPECT_EQ(canonical_rdata(rrtype::MX, mx), std::string("\x00\x0a", 2) + name("mail.example.").wire());
  // RFC 6840 5.1: NSEC's next name keeps its case.
  const std::string nsec = name("WWW.Example.").wire() + std::string("\x00\x01\x40", 3);
  EXPECT_EQ(canonical_rdata(rrtype::NSEC, nsec), nsec);
  const std::string soa = name("NS.Example.").wire() + name("Host.Example.").wire() + std::string(20, 'A');
  EXPECT_EQ(canonical_rdata(rrtype::SOA, soa),
            name("ns.example.").wire() + name("host.example.").wire() + std::string(20, 'A'));
  EXPECT_EQ(canonical_rdata(rrtype::TXT,
                            "\x03"
                            "ABC"),
            "\x03"
            "ABC");
  // Malformed RDATA is left as is.
  EXPECT_EQ(canonical_rdata(rrtype::CNAME,
                            "\x05"
                            "AB"),
            "\x05"
            "AB");
}

// ---- KeyTrap limits (CVE-2023-50387) ----------------------------------------------------

TEST_F(RrsigTest, AtMostTwoKeysPerTagAreTried) {
  const ResourceRecord zsk = zone_.key(false);
  const uint16_t tag = key_tag(zsk.rdata);
  std::vector<ResourceRecord> colliding;
  for (int i = 0; i < 4; ++i) {
    ResourceRecord fake = zsk;
    fake.rdata[10] = static_cast<char>(fake.rdata[10] ^ (i + 1));
    fake.rdata = with_key_tag(fake.rdata, tag);
    ASSERT_NE(fake.rdata, zsk.rdata);
    colliding.push_back(fake);
  }
  std::vector<ResourceRecord> real_last = colliding;
  real_last.push_back(zsk);
  ValidationOutcome outcome = verify(www(), www_sigs(), kNow, &real_last);
  EXPECT_TRUE(outcome.is_bogus());
  EXPECT_EQ(budget_.verifications(), limits_.max_keys_per_tag);
  EXPECT_NE(outcome.reason.find("max-keys-per-tag"), std::string::npos) << outcome.reason;

  std::vector<ResourceRecord> real_second = {colliding[0], zsk, colliding[1], colliding[2]};
  EXPECT_TRUE(verify(www(), www_sigs(), kNow, &real_second).is_secure());
}

TEST_F(RrsigTest, AtMostEightRrsigsAreTried) {
  const ResourceRecord good = www_sigs()[0];
  ResourceRecord bad = good;
  bad.rdata.back() = static_cast<char>(bad.rdata.back() ^ 1);
  std::vector<ResourceRecord> sigs(20, bad);
  sigs[9] = good;
  ValidationOutcome outcome = verify(www(), sigs);
  EXPECT_TRUE(outcome.is_bogus());
  EXPECT_EQ(budget_.verifications(), 8u);
  EXPECT_NE(outcome.reason.find("max-rrsigs-per-rrset"), std::string::npos) << outcome.reason;

  sigs[9] = bad;
  sigs[7] = good;
  EXPECT_TRUE(verify(www(), sigs).is_secure());
}

TEST_F(RrsigTest, PerResponseVerificationBudget) {
  DnssecConfig tight;
  tight.max_verifications_per_response = 3;
  ValidationBudget budget(tight);
  ResourceRecord bad = www_sigs()[0];
  bad.rdata.back() = static_cast<char>(bad.rdata.back() ^ 1);
  std::vector<ResourceRecord> sigs(5, bad);
  ValidationOutcome outcome = verify_rrset(www(), sigs, zone_.dnskeys(), name("example."), kNow, budget);
  EXPECT_TRUE(outcome.is_bogus());
  EXPECT_EQ(outcome.ede, ede::DNSSEC_BOGUS);
  EXPECT_EQ(outcome.reason.rfind("validation budget exhausted:", 0), 0u) << outcome.reason;
  EXPECT_TRUE(budget.exhausted());
  EXPECT_EQ(budget.verifications(), 3u);
  // The next response starts with a fresh per-response allowance.
  budget.begin_response();
  EXPECT_TRUE(verify_rrset(www(), www_sigs(), zone_.dnskeys(), name("example."), kNow, budget).is_secure());
}

// ---- DS and trust anchors ------------------------------------------------------------

class DsTest : public RrsigTest {
protected:
  ValidationOutcome check(const std::vector<ResourceRecord> &ds) {
    return verify_dnskey_with_ds(keys_, key_sigs_, ds, name("example."), kNow, budget_, &ttl_);
  }
  static ResourceRecord modified(ResourceRecord ds, size_t offset, char value) {
    ds.rdata[offset] = value;
    return ds;
  }
  RRset keys_ = zone_.rrset(name("example."), rrtype::DNSKEY);
  std::vector<ResourceRecord> key_sigs_ = zone_.rrsigs(name("example."), rrtype::DNSKEY);
};

TEST_F(DsTest, Sha1IgnoredNextToSha256) {
  const ResourceRecord sha1 = zone_.ds(1)[0];
  ResourceRecord wrong_sha256 = zone_.ds(2)[0];
  wrong_sha256.rdata.back() = static_cast<char>(wrong_sha256.rdata.back() ^ 1);
  EXPECT_TRUE(check({sha1}).is_secure());
  ValidationOutcome outcome = check({sha1, wrong_sha256});
  EXPECT_TRUE(outcome.is_bogus()) << "RFC 4509 3: the SHA-1 DS must be ignored";
  EXPECT_EQ(outcome.ede, ede::DNSKEY_MISSING);
  EXPECT_TRUE(check({sha1, zone_.ds(2)[0], zone_.ds(4)[0]}).is_secure());
}

TEST_F(DsTest, UnsupportedDigestOrAlgorithmIsInsecure) {
  ValidationOutcome digest = check({modified(zone_.ds(2)[0], 3, 3)});  // GOST
  EXPECT_EQ(digest.security, Security::insecure);
  EXPECT_EQ(digest.ede, ede::UNSUPPORTED_DS_DIGEST);
  ValidationOutcome algorithm = check({modified(zone_.ds(2)[0], 2, static_cast<char>(253))});
  EXPECT_EQ(algorithm.security, Security::insecure);
  EXPECT_EQ(algorithm.ede, ede::UNSUPPORTED_DNSKEY_ALGORITHM);
  // A usable DS next to unusable ones decides.
  EXPECT_TRUE(check({modified(zone_.ds(2)[0], 3, 3), zone_.ds(2)[0]}).is_secure());
}

TEST_F(DsTest, TheDsLimitNeverMakesAZoneInsecure) {
  // Eight DS records of an unknown algorithm, then the real one: with the default
  // limit of eight only the unusable ones are looked at. That is a budget stop
  // (bogus), not the RFC 6840 5.2 case of a zone with no usable DS (insecure).
  std::vector<ResourceRecord> ds;
  for (char i = 0; i < 8; ++i) ds.push_back(modified(modified(zone_.ds(2)[0], 2, static_cast<char>(253)), 0, i));
  ds.push_back(zone_.ds(2)[0]);
  ValidationOutcome outcome = check(ds);
  EXPECT_TRUE(outcome.is_bogus()) << outcome.reason;
  EXPECT_NE(outcome.reason.find("max-ds-per-zone"), std::string::npos) << outcome.reason;
  ds.erase(ds.begin());
  EXPECT_TRUE(check(ds).is_secure()) << "within the limit the real DS is found";
}

TEST_F(DsTest, DsForAKeyNotInTheSet) {
  ResourceRecord other = modified(zone_.ds(2)[0], 0, 0x30);
  other.rdata[1] = 0x39;  // key tag 12345
  ValidationOutcome outcome = check({other});
  EXPECT_TRUE(outcome.is_bogus());
  EXPECT_EQ(outcome.ede, ede::DNSKEY_MISSING);
  EXPECT_NE(outcome.reason.find("DS 12345/13/2 matches no DNSKEY"), std::string::npos) << outcome.reason;
}

TEST_F(DsTest, MatchingKeyWithBrokenSelfSignature) {
  key_sigs_[0].rdata.back() = static_cast<char>(key_sigs_[0].rdata.back() ^ 1);
  ValidationOutcome outcome = check(zone_.ds(2));
  EXPECT_TRUE(outcome.is_bogus());
  EXPECT_EQ(outcome.ede, ede::DNSSEC_BOGUS);
  ValidationOutcome expired =
      verify_dnskey_with_ds(keys_, zone_.rrsigs(name("example."), rrtype::DNSKEY), zone_.ds(2),
                            name("example."), kExpiration + 10, budget_, &ttl_);
  EXPECT_EQ(expired.ede, ede::SIGNATURE_EXPIRED);
  // A DS of the ZSK: it matches, but the ZSK does not sign the DNSKEY set.
  ResourceRecord zsk_ds = zone_.ds(2)[0];
  const ResourceRecord &zsk = zone_.key(false);
  zsk_ds.rdata = zsk_ds.rdata.substr(0, 4) + ds_digest(2, name("example.").wire(), zsk.rdata);
  zsk_ds.rdata[0] = static_cast<char>(key_tag(zsk.rdata) >> 8);
  zsk_ds.rdata[1] = static_cast<char>(key_tag(zsk.rdata) & 0xff);
  EXPECT_EQ(verify_dnskey_with_ds(keys_, zone_.rrsigs(name("example."), rrtype::DNSKEY), {zsk_ds},
                                  name("example."), kNow, budget_)
                .ede,
            ede::RRSIGS_MISSING);
}

TEST_F(DsTest, TrustAnchorKeys) {
  uint32_t ttl = 0;
  EXPECT_TRUE(verify_dnskey_with_anchor_keys(keys_, key_sigs_, {zone_.key(true)}, name("example."), kNow,
                                             budget_, &ttl)
                  .is_secure());
  EXPECT_EQ(ttl, 3600u);
  ValidationOutcome zsk_only =
      verify_dnskey_with_anchor_keys(keys_, key_sigs_, {zone_.key(false)}, name("example."), kNow, budget_);
  EXPECT_TRUE(zsk_only.is_bogus());
  EXPECT_EQ(zsk_only.ede, ede::RRSIGS_MISSING);
  ResourceRecord unknown_algorithm = zone_.key(true);
  unknown_algorithm.rdata[3] = static_cast<char>(253);
  ValidationOutcome insecure =
      verify_dnskey_with_anchor_keys(keys_, key_sigs_, {unknown_algorithm}, name("example."), kNow, budget_);
  EXPECT_EQ(insecure.security, Security::insecure);
  EXPECT_EQ(insecure.ede, ede::UNSUPPORTED_DNSKEY_ALGORITHM);
}

// ---- parsing ------------------------------------------------------------------------------

TEST(RrsigParseTest, FieldsAndMalformedRdata) {
  SignedZone zone(13);
  const ResourceRecord sig = zone.rrsigs(name("www.example."), rrtype::A)[0];
  auto fields = parse_rrsig(sig);
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->type_covered, rrtype::A);
  EXPECT_EQ(fields->algorithm, 13);
  EXPECT_EQ(fields->labels, 2);
  EXPECT_EQ(fields->original_ttl, 3600u);
  EXPECT_EQ(fields->inception, static_cast<uint32_t>(kInception));
  EXPECT_EQ(fields->expiration, static_cast<uint32_t>(kExpiration));
  EXPECT_EQ(fields->key_tag, key_tag(zone.key(false).rdata));
  EXPECT_EQ(fields->signer, name("example."));
  EXPECT_EQ(fields->signature.size(), 64u);
  for (size_t length : {0, 17, 18, 19, 27}) {
    ResourceRecord truncated = sig;
    truncated.rdata.resize(length);
    EXPECT_FALSE(parse_rrsig(truncated)) << length;
  }
  EXPECT_FALSE(parse_dnskey("\x01\x01\x03"));
  EXPECT_FALSE(parse_ds("\x01\x01\x08\x02"));
}

}  // namespace
}  // namespace rsv
