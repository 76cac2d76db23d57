#include "dnssec/crypto.h"

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

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

// ---- ECDSA signatures in DER (crypto_detail::ecdsa_signature_der) ------------------

struct OpensslFree {
  void operator()(ECDSA_SIG *p) const { ECDSA_SIG_free(p); }
  void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
  void operator()(EVP_MD_CTX *p) const { EVP_MD_CTX_free(p); }
};

// OpenSSL's own encoding of r | s (BIGNUMs and i2d_ECDSA_SIG), what the hand-written
// encoder replaced.
std::string openssl_der(std::string_view raw, size_t coordinate_octets) {
  std::unique_ptr<ECDSA_SIG, OpensslFree> sig(ECDSA_SIG_new());
  BIGNUM *r = BN_bin2bn(reinterpret_cast<const unsigned char *>(raw.data()),
                        static_cast<int>(coordinate_octets), nullptr);
  BIGNUM *s = BN_bin2bn(reinterpret_cast<const unsigned char *>(raw.data()) + coordinate_octets,
                        static_cast<int>(coordinate_octets), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return "";
  }
  unsigned char *der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  std::string out(reinterpret_cast<char *>(der), length > 0 ? static_cast<size_t>(length) : 0);
  OPENSSL_free(der);
  return out;
}

std::string ours_der(std::string_view raw, size_t coordinate_octets) {
  crypto_detail::EcdsaDer der;
  const size_t length = crypto_detail::ecdsa_signature_der(raw, coordinate_octets, der);
  return std::string(reinterpret_cast<const char *>(der.data()), length);
}

// Every shape of r and s that changes the encoding: zero, leading zero octets (one,
// several, all but the last), the top bit set or clear after them, all ones; and
// random values. Each must match OpenSSL's encoder octet for octet: a verifier that
// re-encodes and compares (OpenSSL 3 does) refuses anything else.
TEST(CryptoTest, EcdsaDerMatchesOpenSslEncoder) {
  std::mt19937 random(20261202);
  for (size_t octets : {size_t{32}, size_t{48}}) {
    std::vector<std::string> values;
    for (size_t zeros : {size_t{0}, size_t{1}, size_t{2}, octets - 1, octets})
      for (int top : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
        std::string v(octets, '\x5a');
        for (size_t i = 0; i < zeros; ++i) v[i] = '\0';
        if (zeros < octets) v[zeros] = static_cast<char>(top);
        values.push_back(v);
      }
    values.push_back(std::string(octets, '\xff'));
    for (int i = 0; i < 200; ++i) {
      std::string v(octets, '\0');
      for (char &c : v) c = static_cast<char>(random());
      values.push_back(v);
    }
    for (const std::string &r : values)
      for (const std::string &s : {values[0], values[7], values[13], values.back(), r}) {
        const std::string raw = r + s;
        ASSERT_EQ(hex(ours_der(raw, octets)), hex(openssl_der(raw, octets))) << hex(raw);
      }
    // A signature whose length does not fit the curve is refused.
    EXPECT_EQ(ours_der(std::string(2 * octets - 1, '\x01'), octets), "");
    EXPECT_EQ(ours_der(std::string(2 * octets + 1, '\x01'), octets), "");
  }
  EXPECT_EQ(ours_der("", 0), "");
  EXPECT_EQ(ours_der(std::string(2 * 66, '\x01'), 66), "");  // beyond P-384
}

// Real signatures through verify_signature, made here with fresh keys until several
// have an r or s with a leading zero octet (1 in 128 signatures): the case a wrong
// DER encoder fails silently and rarely. Both curves; each signature also fails
// for other data.
TEST(CryptoTest, FreshEcdsaSignaturesVerifyWhateverTheirLeadingOctets) {
  struct Curve {
    uint8_t algorithm;
    const char *group;
    const char *digest;
    size_t octets;
  };
  for (const Curve &curve : {Curve{13, "P-256", "SHA256", 32}, Curve{14, "P-384", "SHA384", 48}}) {
    std::unique_ptr<EVP_PKEY, OpensslFree> key(EVP_EC_gen(curve.group));
    ASSERT_TRUE(key);
    unsigned char point[1 + 2 * 48];
    size_t point_length = 0;
    ASSERT_EQ(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                              &point_length),
              1);
    ASSERT_EQ(point_length, 1 + 2 * curve.octets);
    const std::string public_key(reinterpret_cast<char *>(point) + 1, 2 * curve.octets);  // RFC 6605 4: x | y
    int leading_zero = 0, high_bit = 0;
    for (int i = 0; i < 3000 && leading_zero < 4; ++i) {
      const std::string data = "signed data " + std::to_string(i);
      std::unique_ptr<EVP_MD_CTX, OpensslFree> ctx(EVP_MD_CTX_new());
      unsigned char der[160];
      size_t der_length = sizeof der;
      ASSERT_EQ(EVP_DigestSignInit_ex(ctx.get(), nullptr, curve.digest, nullptr, nullptr, key.get(), nullptr),
                1);
      ASSERT_EQ(EVP_DigestSign(ctx.get(), der, &der_length,
                               reinterpret_cast<const unsigned char *>(data.data()), data.size()),
                1);
      const unsigned char *in = der;
      std::unique_ptr<ECDSA_SIG, OpensslFree> sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der_length)));
      ASSERT_TRUE(sig);
      std::string raw(2 * curve.octets, '\0');
      auto *out = reinterpret_cast<unsigned char *>(raw.data());
      ASSERT_EQ(BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, static_cast<int>(curve.octets)),
                static_cast<int>(curve.octets));
      ASSERT_EQ(BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + curve.octets, static_cast<int>(curve.octets)),
                static_cast<int>(curve.octets));
      if (raw[0] == '\0' || raw[curve.octets] == '\0') ++leading_zero;
      if ((raw[0] & 0x80) || (raw[curve.octets] & 0x80)) ++high_bit;
      ASSERT_TRUE(verify_signature(curve.algorithm, public_key, data, raw)) << curve.group << " " << hex(raw);
      ASSERT_FALSE(verify_signature(curve.algorithm, public_key, data + "x", raw)) << curve.group;
    }
    EXPECT_GE(leading_zero, 4) << curve.group;
    EXPECT_GT(high_bit, 0) << curve.group;
  }
}

// ---- ECDSA P-256 through a hot key's fixed-base table ------------------------------

std::string from_hex_for_test(std::string_view text) {
  std::string out;
  for (size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
  return out;
}

struct BnFree {
  void operator()(BIGNUM *p) const { BN_free(p); }
  void operator()(BN_CTX *p) const { BN_CTX_free(p); }
  void operator()(EC_POINT *p) const { EC_POINT_free(p); }
  void operator()(EC_GROUP *p) const { EC_GROUP_free(p); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

std::string bn_octets(const BIGNUM *value, int octets) {
  std::string out(static_cast<size_t>(octets), '\0');
  if (BN_bn2binpad(value, reinterpret_cast<unsigned char *>(out.data()), octets) != octets) return "";
  return out;
}

// A P-256 key and one signature on `data`: signed by OpenSSL with a fresh key, or
// (crafted) a key made to fit a chosen r and s, as an attacker who only needs some key
// to accept some signature may: pick a point R and s, and solve R = u1 G + u2 Q for Q,
// Q = r^-1 (s R - e G). That gives signatures with a tiny s, so that s + n still fits
// in 32 octets: the value that passes when the range check of s is missing.
struct P256Signed {
  std::string key;        // x | y (RFC 6605 4)
  std::string signature;  // r | s
  std::string s_plus_n;   // r | s + n, empty when it does not fit
  std::string minus_s;    // r | n - s, the other valid signature (ECDSA's malleability)
};

P256Signed crafted_p256(const std::string &data, unsigned long small_s) {
  P256Signed out;
  std::unique_ptr<EC_GROUP, BnFree> group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  std::unique_ptr<BN_CTX, BnFree> ctx(BN_CTX_new());
  const BIGNUM *n = EC_GROUP_get0_order(group.get());
  Bn k(BN_new()), r(BN_new()), s(BN_new()), e(BN_new()), t(BN_new()), r_inverse(BN_new()), x(BN_new());
  std::unique_ptr<EC_POINT, BnFree> point_r(EC_POINT_new(group.get())), q(EC_POINT_new(group.get())),
      e_g(EC_POINT_new(group.get()));
  unsigned char digest[32];
  unsigned int digest_length = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest, &digest_length, EVP_sha256(), nullptr), 1);
  BN_bin2bn(digest, 32, e.get());
  BN_rand_range(k.get(), n);
  EC_POINT_mul(group.get(), point_r.get(), k.get(), nullptr, nullptr, ctx.get());
  EC_POINT_get_affine_coordinates(group.get(), point_r.get(), x.get(), nullptr, ctx.get());
  BN_nnmod(r.get(), x.get(), n, ctx.get());
  BN_set_word(s.get(), small_s);
  // Q = r^-1 (s R - e G)
  EC_POINT_mul(group.get(), q.get(), nullptr, point_r.get(), s.get(), ctx.get());
  EC_POINT_mul(group.get(), e_g.get(), e.get(), nullptr, nullptr, ctx.get());
  EC_POINT_invert(group.get(), e_g.get(), ctx.get());
  EC_POINT_add(group.get(), q.get(), q.get(), e_g.get(), ctx.get());
  BN_mod_inverse(r_inverse.get(), r.get(), n, ctx.get());
  EC_POINT_mul(group.get(), q.get(), nullptr, q.get(), r_inverse.get(), ctx.get());
  unsigned char point[65];
  EXPECT_EQ(
      EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, point, sizeof point, ctx.get()),
      sizeof point);
  out.key.assign(reinterpret_cast<char *>(point) + 1, 64);
  out.signature = bn_octets(r.get(), 32) + bn_octets(s.get(), 32);
  BN_add(t.get(), s.get(), n);
  if (BN_num_bytes(t.get()) <= 32) out.s_plus_n = bn_octets(r.get(), 32) + bn_octets(t.get(), 32);
  BN_sub(t.get(), n, s.get());
  out.minus_s = bn_octets(r.get(), 32) + bn_octets(t.get(), 32);
  return out;
}

// OpenSSL's own verifier, on its own key object: the reference.
bool openssl_p256_verify(const std::string &key, const std::string &data, const std::string &signature) {
  std::string point = "\x04" + key;
  std::array<OSSL_PARAM, 3> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char *>("P-256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end(),
  };
  std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX *)> import(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY *raw = nullptr;
  if (!import || EVP_PKEY_fromdata_init(import.get()) != 1 ||
      EVP_PKEY_fromdata(import.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.data()) != 1)
    return false;
  std::unique_ptr<EVP_PKEY, OpensslFree> pkey(raw);
  std::string der = openssl_der(signature, 32);
  if (signature.size() != 64 || der.empty()) return false;
  std::unique_ptr<EVP_MD_CTX, OpensslFree> ctx(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, pkey.get(), nullptr) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char *>(der.data()), der.size(),
                          reinterpret_cast<const unsigned char *>(data.data()), data.size()) == 1;
}

P256Signed openssl_signed_p256(EVP_PKEY *key, const std::string &data) {
  P256Signed out;
  unsigned char point[65];
  size_t point_length = 0;
  EXPECT_EQ(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &point_length),
            1);
  out.key.assign(reinterpret_cast<char *>(point) + 1, 64);
  std::unique_ptr<EVP_MD_CTX, OpensslFree> ctx(EVP_MD_CTX_new());
  unsigned char der[80];
  size_t der_length = sizeof der;
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr), 1);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), der, &der_length, reinterpret_cast<const unsigned char *>(data.data()),
                           data.size()),
            1);
  const unsigned char *in = der;
  std::unique_ptr<ECDSA_SIG, OpensslFree> sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der_length)));
  out.signature = bn_octets(ECDSA_SIG_get0_r(sig.get()), 32) + bn_octets(ECDSA_SIG_get0_s(sig.get()), 32);
  return out;
}

// The fixed-base verifier must say what OpenSSL's says on every input: real
// signatures, each with one bit flipped in r, in s and in the data, and r or s
// replaced by 0, n, all ones; the crafted signatures with s and n - s (both valid) and
// s + n (refused: SEC 1 4.1.4 step 1, which the equation alone would pass).
TEST(CryptoTest, P256FixedBaseAgreesWithOpenSsl) {
  std::mt19937 random(20261202);
  const std::string order =
      from_hex_for_test("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  int compared = 0, valid = 0;
  auto compare = [&](const std::function<bool(std::string_view, std::string_view)> &fixed,
                     const std::string &key, const std::string &data, const std::string &signature) {
    const bool expected = openssl_p256_verify(key, data, signature);
    EXPECT_EQ(fixed(data, signature), expected) << hex(key) << " " << hex(signature) << " " << data;
    ++compared;
    valid += expected;
  };
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<EVP_PKEY, OpensslFree> key(EVP_EC_gen("P-256"));
    ASSERT_TRUE(key);
    const std::string public_key = openssl_signed_p256(key.get(), "").key;
    auto fixed = crypto_detail::p256_fixed_base_verifier(public_key);
    ASSERT_TRUE(fixed);
    for (int i = 0; i < 20; ++i) {
      const std::string data = "rrset " + std::to_string(round) + "." + std::to_string(i);
      const std::string signature = openssl_signed_p256(key.get(), data).signature;
      compare(fixed, public_key, data, signature);
      for (size_t half : {size_t{0}, size_t{32}}) {
        std::string flipped = signature;
        flipped[half + random() % 32] ^= static_cast<char>(1 << (random() % 8));
        compare(fixed, public_key, data, flipped);
        for (const std::string &value : {std::string(32, '\0'), order, std::string(32, '\xff')}) {
          std::string replaced = signature;
          replaced.replace(half, 32, value);
          compare(fixed, public_key, data, replaced);
        }
      }
      std::string other = data;
      other[random() % other.size()] ^= 1;
      compare(fixed, public_key, other, signature);
      compare(fixed, public_key, data, signature.substr(0, 63));
    }
  }
  for (unsigned long small_s : {1ul, 2ul, 7ul, 65537ul}) {
    const std::string data = "crafted " + std::to_string(small_s);
    P256Signed crafted = crafted_p256(data, small_s);
    auto fixed = crypto_detail::p256_fixed_base_verifier(crafted.key);
    ASSERT_TRUE(fixed);
    ASSERT_TRUE(openssl_p256_verify(crafted.key, data, crafted.signature)) << "the crafted key must fit";
    compare(fixed, crafted.key, data, crafted.signature);
    compare(fixed, crafted.key, data, crafted.minus_s);
    ASSERT_FALSE(crafted.s_plus_n.empty());
    EXPECT_FALSE(fixed(data, crafted.s_plus_n)) << "s + n is out of range";
    compare(fixed, crafted.key, data, crafted.s_plus_n);
  }
  EXPECT_GT(compared, 500);
  EXPECT_GE(valid, 3 * 20 + 4 * 2);
  // A key that is not a point of the curve gets no table.
  std::string off_curve(64, '\x01');
  EXPECT_FALSE(crypto_detail::p256_fixed_base_verifier(off_curve));
}

// Through verify_signature: a key that keeps verifying gets its table (built in the
// background), after which its verifications go through it and still refuse what
// OpenSSL refuses, s + n among them.
TEST(CryptoTest, AHotP256KeyIsVerifiedThroughItsTable) {
  const std::string data = "hot rrset";
  P256Signed crafted = crafted_p256(data, 3);
  ASSERT_FALSE(crafted.s_plus_n.empty());
  const uint64_t before = crypto_detail::fixed_base_verifications();
  // The thread's count starts when the key is imported; a table comes at 1000.
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(verify_signature(dnssec_algorithm::ECDSAP256SHA256, crafted.key, data, crafted.signature));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (crypto_detail::fixed_base_verifications() == before && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(verify_signature(dnssec_algorithm::ECDSAP256SHA256, crafted.key, data, crafted.signature));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GT(crypto_detail::fixed_base_verifications(), before) << "no table within 30 s";
  const uint64_t through_table = crypto_detail::fixed_base_verifications();
  EXPECT_TRUE(verify_signature(dnssec_algorithm::ECDSAP256SHA256, crafted.key, data, crafted.signature));
  EXPECT_TRUE(verify_signature(dnssec_algorithm::ECDSAP256SHA256, crafted.key, data, crafted.minus_s));
  EXPECT_FALSE(verify_signature(dnssec_algorithm::ECDSAP256SHA256, crafted.key, data, crafted.s_plus_n));
  EXPECT_FALSE(
      verify_signature(dnssec_algorithm::ECDSAP256SHA256, crafted.key, data + "x", crafted.signature));
  EXPECT_FALSE(
      verify_signature(dnssec_algorithm::ECDSAP256SHA256, crafted.key, data, crafted.signature.substr(1)));
  EXPECT_EQ(crypto_detail::fixed_base_verifications(), through_table + 4)
      << "the wrong length never gets that far";
}

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
