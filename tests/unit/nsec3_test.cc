#include "dnssec/nsec3.h"

#include <algorithm>
#include <map>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

Name name(const char *text) {
  return *Name::from_text(text);
}

// RFC 5155 5: IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(salt, x, k-1) || salt).
std::string sha1_nsec3_hash(std::string_view name_wire, std::string_view salt, uint16_t iterations) {
  auto sha1 = [](const std::string &input) {
    std::string digest(20, '\0');
    unsigned int length = 0;
    EVP_Digest(input.data(), input.size(), reinterpret_cast<unsigned char *>(digest.data()), &length,
               EVP_sha1(), nullptr);
    return digest;
  };
  std::string digest = sha1(std::string(name_wire) + std::string(salt));
  for (uint16_t i = 0; i < iterations; ++i) digest = sha1(digest + std::string(salt));
  return digest;
}

std::vector<ResourceRecord> parse(const std::string &text) {
  std::vector<ResourceRecord> records;
  for (auto &line : parse_zone_text(text, "nsec3_test")) records.push_back(line.record);
  return records;
}

// The NSEC3 chain of RFC 5155 Appendix A (zone "example.", SHA-1, 12 iterations,
// salt aabbccdd), keyed by the original owner name each record stands for. In the
// RFC every record has the Opt-Out flag set; tests choose the flags.
struct ChainRecord {
  const char *original_name;
  const char *owner_hash;
  const char *next_hash;
  const char *types;
};
const ChainRecord kAppendixA[] = {
    {"example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "2t7b4g4vsa5smi47k61mv5bv1a22bojr",
     "MX DNSKEY NS SOA NSEC3PARAM RRSIG"},
    {"ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr", "2vptu5timamqttgl4luu9kg21e0aor3s", "A RRSIG"},
    {"x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s", "35mthgpgcu1qg68fab165klnsnk3dpvl", "MX RRSIG"},
    {"a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl", "b4um86eghhds6nea196smvmlo4ors995", "NS DS RRSIG"},
    {"x.w.example.", "b4um86eghhds6nea196smvmlo4ors995", "gjeqe526plbf1g8mklp59enfd789njgi", "MX RRSIG"},
    {"ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi", "ji6neoaepv8b5o6k4ev33abha8ht9fgc",
     "HINFO A AAAA RRSIG"},
    {"y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc", "k8udemvp1j2f7eg6jebps17vp3n8i58h", ""},
    {"w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h", "kohar7mbb8dc2ce8a9qvl8hon4k53uhi", ""},
    {"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.", "kohar7mbb8dc2ce8a9qvl8hon4k53uhi",
     "q04jkcevqvmu85r014c7dkba38o0ji5r", "A RRSIG"},
    {"ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r", "r53bq7cc2uvmubfu5ocmm6pers9tk9en", "A RRSIG"},
    {"*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en", "t644ebqk9bibcna874givr6joj62mlhv", "MX RRSIG"},
    {"xx.example.", "t644ebqk9bibcna874givr6joj62mlhv", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
     "A HINFO AAAA RRSIG"},
};

std::string nsec3_text(const char *owner_hash, int flags, int iterations, const char *salt,
                       const char *next_hash, const char *types, const char *zone = "example.") {
  return std::string(owner_hash) + "." + zone + " 3600 IN NSEC3 1 " + std::to_string(flags) + " " +
         std::to_string(iterations) + " " + salt + " " + next_hash + " " + types + "\n";
}

// The Appendix A records standing for `names`, with `flags` (1 = Opt-Out, as in the RFC).
std::vector<ResourceRecord> appendix_a(std::initializer_list<const char *> names, int flags,
                                       const char *replaced_types = nullptr) {
  std::string text;
  for (const char *wanted : names) {
    auto it = std::find_if(std::begin(kAppendixA), std::end(kAppendixA),
                           [&](const ChainRecord &r) { return std::string(r.original_name) == wanted; });
    EXPECT_NE(it, std::end(kAppendixA)) << wanted;
    text += nsec3_text(it->owner_hash, flags, 12, "aabbccdd", it->next_hash,
                       replaced_types ? replaced_types : it->types);
  }
  return parse(text);
}

constexpr int kOptOut = 1;
constexpr int kNoOptOut = 0;

class Nsec3Test : public testing::Test {
protected:
  const Name example_ = name("example.");
  DnssecConfig limits_;
  ValidationBudget budget_{limits_};
  int hashes_computed_ = 0;
  Nsec3HashFunction hash_ = [this](std::string_view wire, std::string_view salt, uint16_t iterations) {
    ++hashes_computed_;
    return sha1_nsec3_hash(wire, salt, iterations);
  };

  ValidationOutcome nxdomain(const char *qname, const std::vector<ResourceRecord> &records) {
    budget_.begin_response();
    return prove_nxdomain_nsec3(name(qname), records, example_, budget_, hash_);
  }
  ValidationOutcome nodata(const char *qname, uint16_t qtype, const std::vector<ResourceRecord> &records) {
    budget_.begin_response();
    return prove_nodata_nsec3(name(qname), qtype, records, example_, budget_, hash_);
  }
  ValidationOutcome wildcard_answer(const char *qname, const char *encloser,
                                    const std::vector<ResourceRecord> &records) {
    budget_.begin_response();
    return prove_wildcard_answer_nsec3(name(qname), name(encloser), records, example_, budget_, hash_);
  }
  ValidationOutcome insecure_delegation(const char *child, const std::vector<ResourceRecord> &records) {
    budget_.begin_response();
    return prove_insecure_delegation_nsec3(name(child), records, example_, budget_, hash_);
  }
};

void expect_secure(const ValidationOutcome &outcome) {
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
}
void expect_insecure(const ValidationOutcome &outcome) {
  EXPECT_EQ(outcome.security, Security::insecure) << outcome.reason;
}
void expect_bogus(const ValidationOutcome &outcome, const std::string &reason_part) {
  EXPECT_EQ(outcome.security, Security::bogus) << outcome.reason;
  EXPECT_NE(outcome.reason.find(reason_part), std::string::npos) << outcome.reason;
}

TEST(Base32Hex, RoundTripsAndRejectsInvalidText) {
  EXPECT_EQ(base32hex_encode(""), "");
  EXPECT_EQ(base32hex_encode("f"), "co");  // RFC 4648 10, lower case, no padding
  EXPECT_EQ(base32hex_encode("foobar"), "cpnmuoj1e8");
  EXPECT_EQ(base32hex_decode("CPNMUOJ1E8"), "foobar");
  EXPECT_EQ(base32hex_decode("cpnmuoj1"), "fooba");
  EXPECT_FALSE(base32hex_decode("cpnmuoj1e8======"));  // padding is not used
  EXPECT_FALSE(base32hex_decode("wxyz"));              // outside the alphabet
  EXPECT_FALSE(base32hex_decode("c"));                 // impossible length
  EXPECT_FALSE(base32hex_decode("cp"));                // leftover bits not zero
  auto hash = base32hex_decode("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->size(), 20u);
  EXPECT_EQ(base32hex_encode(*hash), "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
}

TEST(Nsec3Hash, TestHasherReproducesAppendixA) {
  for (const auto &record : kAppendixA) {
    std::string hash = sha1_nsec3_hash(name(record.original_name).lowered().wire(), "\xaa\xbb\xcc\xdd", 12);
    EXPECT_EQ(base32hex_encode(hash), record.owner_hash) << record.original_name;
  }
  // RFC 5155 Appendix B: names that do not exist.
  EXPECT_EQ(base32hex_encode(sha1_nsec3_hash(name("c.x.w.example.").wire(), "\xaa\xbb\xcc\xdd", 12)),
            "0va5bpr2ou0vk0lbqeeljri88laipsfh");
  EXPECT_EQ(base32hex_encode(sha1_nsec3_hash(name("*.x.w.example.").wire(), "\xaa\xbb\xcc\xdd", 12)),
            "92pqneegtaue7pjatc3l3qnk738c6v5m");
}

TEST(Nsec3Rdata, ParsesFields) {
  auto record = appendix_a({"example."}, kOptOut)[0];
  auto rdata = parse_nsec3_rdata(record.rdata);
  ASSERT_TRUE(rdata);
  EXPECT_EQ(rdata->hash_algorithm, 1);
  EXPECT_TRUE(rdata->opt_out());
  EXPECT_EQ(rdata->iterations, 12);
  EXPECT_EQ(rdata->salt, "\xaa\xbb\xcc\xdd");
  EXPECT_EQ(base32hex_encode(rdata->next_hashed_owner), "2t7b4g4vsa5smi47k61mv5bv1a22bojr");
  EXPECT_FALSE(parse_nsec3_rdata(std::string("\x01\x00\x00\x0c\x04\xaa", 6)));  // truncated salt
}

// B.1: a.c.x.w.example does not exist. x.w.example is the closest encloser,
// c.x.w.example the next closer name, *.x.w.example the wildcard.
TEST_F(Nsec3Test, B1NameErrorWithoutOptOutIsSecure) {
  expect_secure(
      nxdomain("a.c.x.w.example.", appendix_a({"example.", "x.w.example.", "a.example."}, kNoOptOut)));
}

TEST_F(Nsec3Test, B1NameErrorAsPrintedWithOptOutIsInsecure) {
  // The RFC's records all carry Opt-Out; the span over c.x.w.example might hide an
  // unsigned delegation, so non-existence is not proven (nsec3.h).
  expect_insecure(
      nxdomain("a.c.x.w.example.", appendix_a({"example.", "x.w.example.", "a.example."}, kOptOut)));
}

TEST_F(Nsec3Test, B1NameErrorMissingPartsIsBogus) {
  expect_bogus(nxdomain("a.c.x.w.example.", appendix_a({"example.", "x.w.example."}, kNoOptOut)),
               "*.x.w.example.");
  expect_bogus(nxdomain("a.c.x.w.example.", appendix_a({"x.w.example.", "a.example."}, kNoOptOut)),
               "c.x.w.example.");
  // The apex is the only provable encloser, and nothing covers w.example.
  expect_bogus(nxdomain("a.c.x.w.example.", appendix_a({"example.", "a.example."}, kNoOptOut)),
               "next closer name w.example.");
  // No closest encloser at all.
  expect_bogus(nxdomain("a.c.x.w.example.", appendix_a({"a.example."}, kNoOptOut)),
               "no closest encloser proof for a.c.x.w.example.");
  // A name that exists is not NXDOMAIN.
  expect_bogus(nxdomain("ns1.example.", appendix_a({"ns1.example."}, kNoOptOut)), "exists");
  EXPECT_EQ(nxdomain("a.c.x.w.example.", {}).ede, ede::NSEC_MISSING);
}

// B.2: ns1.example exists without MX.
TEST_F(Nsec3Test, B2NoData) {
  expect_secure(nodata("ns1.example.", rrtype::MX, appendix_a({"ns1.example."}, kOptOut)));
  expect_bogus(nodata("ns1.example.", rrtype::A, appendix_a({"ns1.example."}, kOptOut)), "lists A");
  auto with_cname = appendix_a({"ns1.example."}, kNoOptOut, "CNAME RRSIG");
  expect_bogus(nodata("ns1.example.", rrtype::MX, with_cname), "CNAME");
}

// B.2.1: y.w.example is an empty non-terminal; its NSEC3 has an empty bitmap.
TEST_F(Nsec3Test, B21NoDataEmptyNonTerminal) {
  expect_secure(nodata("y.w.example.", rrtype::A, appendix_a({"y.w.example."}, kOptOut)));
}

// B.3: c.example is an unsigned delegation in the Opt-Out span of a.example's NSEC3;
// example is the closest provable encloser.
TEST_F(Nsec3Test, B3OptOutInsecureDelegation) {
  expect_insecure(insecure_delegation("c.example.", appendix_a({"example.", "a.example."}, kOptOut)));
  // RFC 5155 8.6: the DS query for it answers NODATA, insecure.
  expect_insecure(nodata("c.example.", rrtype::DS, appendix_a({"example.", "a.example."}, kOptOut)));
  // Without Opt-Out the span proves there is no delegation at all.
  expect_bogus(insecure_delegation("c.example.", appendix_a({"example.", "a.example."}, kNoOptOut)),
               "Opt-Out");
  expect_bogus(nodata("c.example.", rrtype::DS, appendix_a({"example.", "a.example."}, kNoOptOut)),
               "c.example.");
}

TEST_F(Nsec3Test, InsecureDelegationByMatchingNsec3) {
  // a.example's record lists DS: a signed delegation.
  expect_bogus(insecure_delegation("a.example.", appendix_a({"a.example."}, kNoOptOut)), "DS");
  expect_insecure(insecure_delegation("a.example.", appendix_a({"a.example."}, kNoOptOut, "NS")));
  expect_bogus(insecure_delegation("a.example.", appendix_a({"a.example."}, kNoOptOut, "NS SOA")), "SOA");
  expect_bogus(insecure_delegation("a.example.", appendix_a({"a.example."}, kNoOptOut, "A")), "NS");
}

TEST_F(Nsec3Test, DsNoDataAtDelegation) {
  // The parent's NSEC3 at a delegation: NS without DS.
  expect_secure(nodata("a.example.", rrtype::DS, appendix_a({"a.example."}, kNoOptOut, "NS")));
  // The child apex's NSEC3 (SOA set) cannot deny the DS.
  expect_bogus(nodata("example.", rrtype::DS, appendix_a({"example."}, kNoOptOut)), "child zone");
  // For other types the parent's delegation NSEC3 says nothing.
  expect_bogus(nodata("a.example.", rrtype::A, appendix_a({"a.example."}, kNoOptOut, "NS")), "delegation");
}

// B.4: a.z.w.example MX expanded from *.w.example; q04j... covers z.w.example.
TEST_F(Nsec3Test, B4WildcardExpansion) {
  expect_secure(wildcard_answer("a.z.w.example.", "w.example.", appendix_a({"ns2.example."}, kNoOptOut)));
  expect_insecure(wildcard_answer("a.z.w.example.", "w.example.", appendix_a({"ns2.example."}, kOptOut)));
  expect_bogus(wildcard_answer("a.z.w.example.", "w.example.", appendix_a({"ai.example."}, kNoOptOut)),
               "z.w.example.");
  expect_bogus(wildcard_answer("a.z.w.example.", "w.example.", {}), "");
}

// B.5: a.z.w.example AAAA: w.example is the closest encloser, z.w.example is
// covered, and *.w.example owns only MX.
TEST_F(Nsec3Test, B5WildcardNoData) {
  auto proof = appendix_a({"w.example.", "ns2.example.", "*.w.example."}, kNoOptOut);
  expect_secure(nodata("a.z.w.example.", rrtype::AAAA, proof));
  expect_bogus(nodata("a.z.w.example.", rrtype::MX, proof), "lists MX");
  expect_insecure(nodata("a.z.w.example.", rrtype::AAAA,
                         appendix_a({"w.example.", "ns2.example.", "*.w.example."}, kOptOut)));
  expect_bogus(nodata("a.z.w.example.", rrtype::AAAA, appendix_a({"w.example.", "ns2.example."}, kNoOptOut)),
               "a.z.w.example.");
}

TEST_F(Nsec3Test, TooManyIterationsIsInsecureWithEde27) {
  std::string text;
  for (const char *hash : {"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "b4um86eghhds6nea196smvmlo4ors995"})
    text += nsec3_text(hash, 0, 51, "aabbccdd", "2t7b4g4vsa5smi47k61mv5bv1a22bojr", "A");
  auto outcome = nxdomain("a.c.x.w.example.", parse(text));
  EXPECT_EQ(outcome.security, Security::insecure);
  EXPECT_EQ(outcome.ede, ede::UNSUPPORTED_NSEC3_ITERATIONS);
  EXPECT_NE(outcome.reason.find("51"), std::string::npos) << outcome.reason;
  EXPECT_EQ(hashes_computed_, 0);
}

TEST_F(Nsec3Test, IterationLimitComesFromConfiguration) {
  limits_.max_nsec3_iterations = 11;
  EXPECT_EQ(nodata("ns1.example.", rrtype::MX, appendix_a({"ns1.example."}, kNoOptOut)).ede,
            ede::UNSUPPORTED_NSEC3_ITERATIONS);
  limits_.max_nsec3_iterations = 12;
  expect_secure(nodata("ns1.example.", rrtype::MX, appendix_a({"ns1.example."}, kNoOptOut)));
}

TEST_F(Nsec3Test, ZeroIterationsAndEmptySalt) {
  // RFC 9276 3.1 parameters: a zone with example., a.example. and z.example.
  std::map<std::string, std::string> chain;  // raw hash -> name
  for (const char *owner : {"example.", "a.example.", "z.example."})
    chain[sha1_nsec3_hash(name(owner).wire(), "", 0)] = owner;
  std::string text;
  for (auto it = chain.begin(); it != chain.end(); ++it) {
    auto next = std::next(it) == chain.end() ? chain.begin() : std::next(it);
    std::string types = it->second == "example." ? "NS SOA RRSIG DNSKEY NSEC3PARAM" : "A RRSIG";
    text += nsec3_text(base32hex_encode(it->first).c_str(), 0, 0, "-", base32hex_encode(next->first).c_str(),
                       types.c_str());
  }
  auto records = parse(text);
  expect_secure(nxdomain("b.example.", records));
  expect_secure(nodata("a.example.", rrtype::MX, records));
  expect_bogus(nodata("a.example.", rrtype::A, records), "lists A");
}

TEST_F(Nsec3Test, UnknownAlgorithmAndFlagsAreIgnored) {
  auto ns1 = appendix_a({"ns1.example."}, kNoOptOut)[0];
  auto unknown_algorithm = ns1;
  unknown_algorithm.rdata[0] = 2;
  expect_bogus(nodata("ns1.example.", rrtype::MX, {unknown_algorithm}), "no usable NSEC3");
  auto unknown_flag = ns1;
  unknown_flag.rdata[1] = 0x02;
  expect_bogus(nodata("ns1.example.", rrtype::MX, {unknown_flag}), "no usable NSEC3");
  // A usable record next to them still counts.
  expect_secure(nodata("ns1.example.", rrtype::MX, {unknown_algorithm, unknown_flag, ns1}));
}

TEST_F(Nsec3Test, RecordsOfAnotherZoneAreIgnored) {
  std::string text = nsec3_text("2t7b4g4vsa5smi47k61mv5bv1a22bojr", 0, 12, "aabbccdd",
                                "2vptu5timamqttgl4luu9kg21e0aor3s", "A RRSIG", "sub.example.");
  expect_bogus(nodata("ns1.example.", rrtype::MX, parse(text)), "no usable NSEC3");
}

TEST_F(Nsec3Test, HashBudgetPerQueryIsEnforced) {
  // a.c.x.w.example needs four hashes: itself, c.x.w, x.w and *.x.w.
  limits_.max_nsec3_hashes_per_query = 3;
  auto proof = appendix_a({"example.", "x.w.example.", "a.example."}, kNoOptOut);
  auto outcome = nxdomain("a.c.x.w.example.", proof);
  expect_bogus(outcome, "budget");
  EXPECT_EQ(hashes_computed_, 3);
  // The budget is per query: a second response in the same query gets no more.
  expect_bogus(nxdomain("a.c.x.w.example.", proof), "budget");
  EXPECT_EQ(hashes_computed_, 3);
}

TEST_F(Nsec3Test, HashesWithinTheBudgetSucceed) {
  limits_.max_nsec3_hashes_per_query = 4;
  expect_secure(
      nxdomain("a.c.x.w.example.", appendix_a({"example.", "x.w.example.", "a.example."}, kNoOptOut)));
  EXPECT_EQ(hashes_computed_, 4);
  EXPECT_EQ(budget_.nsec3_hashes(), 4u);
}

TEST_F(Nsec3Test, AtMostEightNsec3PerResponse) {
  std::vector<ResourceRecord> nine;
  for (const auto &record :
       appendix_a({"example.", "ns1.example.", "x.y.w.example.", "a.example.", "x.w.example.", "ai.example.",
                   "y.w.example.", "w.example.", "ns2.example."},
                  kNoOptOut))
    nine.push_back(record);
  auto outcome = nodata("ns1.example.", rrtype::MX, nine);
  expect_bogus(outcome, "budget");
  EXPECT_EQ(hashes_computed_, 0);
  nine.pop_back();
  expect_secure(nodata("ns1.example.", rrtype::MX, nine));  // eight are fine, in a new response
}

}  // namespace
}  // namespace rsv
