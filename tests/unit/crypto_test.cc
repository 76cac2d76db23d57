#include "dnssec/crypto.h"

#include <gtest/gtest.h>

#include "dnssec/rrsig.h"
#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

std::string data_path(const std::string &file) {
  return std::string(RESOLVER_SOURCE_DIR) + "/tests/unit/data/dnssec/" + file;
}

Name name(const char *text) {
  return *Name::from_text(text);
}

std::string hex(std::string_view bytes) {
  static const char *digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// RFC 4648 7 "base32hex", lower case, as NSEC3 owner names are written.
std::string base32hex(std::string_view bytes) {
  static const char *alphabet = "0123456789abcdefghijklmnopqrstuv";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

std::vector<ResourceRecord> load(const std::string &file) {
  std::vector<ResourceRecord> records;
  for (auto &entry : read_zone_file(data_path(file))) records.push_back(std::move(entry.record));
  return records;
}

TEST(CryptoTest, SupportedAlgorithms) {
  for (uint8_t algorithm : {8, 10, 13, 14, 15, 16})
    EXPECT_TRUE(algorithm_supported(algorithm)) << int(algorithm);
  for (uint8_t algorithm : {0, 1, 2, 3, 4, 6, 9, 11, 12, 17, 252, 253, 254, 255})
    EXPECT_FALSE(algorithm_supported(algorithm)) << int(algorithm);
  // SHA-1 signatures depend on the system's policy, but both SHA-1 algorithms agree.
  EXPECT_EQ(algorithm_supported(5), algorithm_supported(7));
}

TEST(CryptoTest, SupportedDigests) {
  for (uint8_t digest : {1, 2, 4}) EXPECT_TRUE(digest_supported(digest)) << int(digest);
  for (uint8_t digest : {0, 3, 5, 6, 255}) EXPECT_FALSE(digest_supported(digest)) << int(digest);
}

// RFC 5155 Appendix A: H(example) = 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom, salt aabbccdd, 12 iterations.
TEST(CryptoTest, Nsec3HashMatchesRfc5155AppendixA) {
  const std::string salt = "\xaa\xbb\xcc\xdd";
  EXPECT_EQ(base32hex(nsec3_hash(name("example.").wire(), salt, 12)), "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
  EXPECT_EQ(base32hex(nsec3_hash(name("a.example.").wire(), salt, 12)), "35mthgpgcu1qg68fab165klnsnk3dpvl");
  EXPECT_EQ(base32hex(nsec3_hash(name("ai.example.").wire(), salt, 12)), "gjeqe526plbf1g8mklp59enfd789njgi");
  EXPECT_EQ(nsec3_hash(name("example.").wire(), "", 0).size(), 20u);
}

TEST(CryptoTest, DsDigestsMatchLdnsKey2ds) {
  // alg13.ds was made by ldns-key2ds -1, -2 and -4 from the KSK in alg13.zone.
  std::string ksk_rdata;
  for (const ResourceRecord &rr : load("alg13.zone"))
    if (rr.type == rrtype::DNSKEY && (rr.rdata[1] & 1)) ksk_rdata = rr.rdata;
  ASSERT_FALSE(ksk_rdata.empty());
  int checked = 0;
  for (const ResourceRecord &ds : load("alg13.ds")) {
    auto fields = parse_ds(ds.rdata);
    ASSERT_TRUE(fields);
    EXPECT_EQ(hex(ds_digest(fields->digest_type, name("example.").wire(), ksk_rdata)), hex(fields->digest))
        << "digest type " << int(fields->digest_type);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
  EXPECT_EQ(ds_digest(3, name("example.").wire(), ksk_rdata), "");
  EXPECT_EQ(ds_digest(2, "", "").size(), 32u);
}

// For each fixture: the signature over ns.example. A, checked by verify_signature alone.
class CryptoSignatureTest : public testing::TestWithParam<int> {
protected:
  void SetUp() override {
    if (!algorithm_supported(static_cast<uint8_t>(GetParam())))
      GTEST_SKIP() << "algorithm " << GetParam() << " not supported here";
    RRset rrset;
    const ResourceRecord *rrsig = nullptr;
    records_ = load("alg" + std::to_string(GetParam()) + ".zone");
    for (const ResourceRecord &rr : records_) {
      if (rr.owner != name("ns.example.")) continue;
      if (rr.type == rrtype::A) {
        rrset.owner = rr.owner;
        rrset.type = rr.type;
        rrset.add(rr.rdata, rr.ttl);
      } else if (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == rrtype::A) {
        rrsig = &rr;
      }
    }
    ASSERT_NE(rrsig, nullptr);
    auto sig = parse_rrsig(*rrsig);
    ASSERT_TRUE(sig);
    signature_ = sig->signature;
    signed_data_ = canonical_signed_data(*sig, *rrsig_rdata_without_signature(rrsig->rdata), rrset);
    for (const ResourceRecord &rr : records_) {
      auto key = parse_dnskey(rr.rdata);
      if (rr.type == rrtype::DNSKEY && key && key->key_tag == sig->key_tag) public_key_ = key->public_key;
      if (rr.type == rrtype::DNSKEY && key && key->key_tag != sig->key_tag) other_key_ = key->public_key;
    }
    ASSERT_FALSE(public_key_.empty());
    ASSERT_FALSE(other_key_.empty());
  }
  uint8_t algorithm() const { return static_cast<uint8_t>(GetParam()); }

  std::vector<ResourceRecord> records_;
  std::string public_key_, other_key_, signed_data_, signature_;
};

TEST_P(CryptoSignatureTest, GoodSignatureVerifies) {
  EXPECT_TRUE(verify_signature(algorithm(), public_key_, signed_data_, signature_));
}

TEST_P(CryptoSignatureTest, FlippedBitsFail) {
  for (size_t position : {size_t{0}, signature_.size() / 2, signature_.size() - 1}) {
    std::string bad = signature_;
    bad[position] = static_cast<char>(bad[position] ^ 0x01);
    EXPECT_FALSE(verify_signature(algorithm(), public_key_, signed_data_, bad)) << position;
  }
  std::string changed_data = signed_data_;
  changed_data.back() = static_cast<char>(changed_data.back() ^ 0x80);
  EXPECT_FALSE(verify_signature(algorithm(), public_key_, changed_data, signature_));
  EXPECT_FALSE(verify_signature(algorithm(), other_key_, signed_data_, signature_));
}

TEST_P(CryptoSignatureTest, MalformedInputFailsCleanly) {
  EXPECT_FALSE(verify_signature(algorithm(), "", signed_data_, signature_));
  EXPECT_FALSE(
      verify_signature(algorithm(), public_key_.substr(0, public_key_.size() - 1), signed_data_, signature_));
  EXPECT_FALSE(verify_signature(algorithm(), public_key_, signed_data_, ""));
  EXPECT_FALSE(verify_signature(algorithm(), public_key_, signed_data_, signature_.substr(1)));
  EXPECT_FALSE(verify_signature(algorithm(), public_key_, signed_data_, signature_ + "x"));
  EXPECT_FALSE(
      verify_signature(algorithm(), std::string(public_key_.size(), '\0'), signed_data_, signature_));
  // The same key and signature under another algorithm number never verify.
  EXPECT_FALSE(verify_signature(253, public_key_, signed_data_, signature_));
}

// Each thread keeps the public keys it imported (dnssec/crypto.cc): a key imported
// before, evicted, or imported under another algorithm number never changes a verdict.
TEST_P(CryptoSignatureTest, KeysImportedBeforeNeverChangeAVerdict) {
  ASSERT_TRUE(verify_signature(algorithm(), public_key_, signed_data_, signature_));
  EXPECT_FALSE(verify_signature(algorithm(), other_key_, signed_data_, signature_));
  EXPECT_TRUE(verify_signature(algorithm(), public_key_, signed_data_, signature_));
  std::string changed_key = public_key_;
  changed_key.back() = static_cast<char>(changed_key.back() ^ 0x01);
  EXPECT_FALSE(verify_signature(algorithm(), changed_key, signed_data_, signature_));
  // The same key octets under every other algorithm number: none verifies the signature
  // (but 5 and 7, both RSA/SHA-1 (RFC 5155 2): the validator matches the RRSIG's and the
  // DNSKEY's algorithm numbers before it gets here).
  const auto same_computation = [](int a, int b) { return a == b || (a == 5 && b == 7) || (a == 7 && b == 5); };
  for (int other : {5, 7, 8, 10, 13, 14, 15, 16}) {
    if (same_computation(other, GetParam())) continue;
    EXPECT_FALSE(verify_signature(static_cast<uint8_t>(other), public_key_, signed_data_, signature_))
        << other;
  }
  EXPECT_TRUE(verify_signature(algorithm(), public_key_, signed_data_, signature_));
  // Enough other keys (those that import at all) to evict every kept key.
  for (int variant = 0; variant < 500; ++variant) {
    std::string key = public_key_;
    key[key.size() - 1 - static_cast<size_t>(variant % 2)] ^= static_cast<char>(1 + variant / 2);
    EXPECT_FALSE(verify_signature(algorithm(), key, signed_data_, signature_)) << variant;
  }
  EXPECT_TRUE(verify_signature(algorithm(), public_key_, signed_data_, signature_));
  EXPECT_FALSE(verify_signature(algorithm(), other_key_, signed_data_, signature_));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, CryptoSignatureTest, testing::Values(5, 7, 8, 10, 13, 14, 15, 16),
                         [](const testing::TestParamInfo<int> &info) {
                           return "alg" + std::to_string(info.param);
                         });

TEST(CryptoTest, RsaKeyWithLongExponentForm) {
  // RFC 3110 2: a zero first octet means a two-octet exponent length follows. A key
  // in that form with a tiny modulus is refused without crashing.
  std::string key("\x00\x00\x03\x01\x00\x01", 6);
  key += std::string(16, '\x55');
  EXPECT_FALSE(verify_signature(8, key, "data", std::string(16, '\x01')));
  EXPECT_FALSE(verify_signature(8, std::string("\x00\x00", 2), "data", "sig"));
  EXPECT_FALSE(verify_signature(8, std::string("\x05\x01", 2), "data", "sig"));
}

}  // namespace
}  // namespace rsv
