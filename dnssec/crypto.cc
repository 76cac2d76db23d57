// OpenSSL 3 backend for dnssec/crypto.h. Public keys are imported straight from
// their DNSKEY encodings with EVP_PKEY_fromdata / EVP_PKEY_new_raw_public_key (and kept
// per thread, see ImportedKeys), and every OpenSSL object lives in a unique_ptr with its
// own free function.
#include "dnssec/crypto.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

namespace rsv {
namespace {

template <typename T, void (*Free)(T *)>
struct OpensslDeleter {
  void operator()(T *p) const {
    if (p) Free(p);
  }
};

using EvpPkey = std::unique_ptr<EVP_PKEY, OpensslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using EvpPkeyCtx = std::unique_ptr<EVP_PKEY_CTX, OpensslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using EvpMdCtx = std::unique_ptr<EVP_MD_CTX, OpensslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EvpMd = std::unique_ptr<EVP_MD, OpensslDeleter<EVP_MD, EVP_MD_free>>;
using Bignum = std::unique_ptr<BIGNUM, OpensslDeleter<BIGNUM, BN_free>>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, OpensslDeleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, OpensslDeleter<OSSL_PARAM, OSSL_PARAM_free>>;
using EcGroup = std::unique_ptr<EC_GROUP, OpensslDeleter<EC_GROUP, EC_GROUP_free>>;
using EcPoint = std::unique_ptr<EC_POINT, OpensslDeleter<EC_POINT, EC_POINT_free>>;
using BnCtx = std::unique_ptr<BN_CTX, OpensslDeleter<BN_CTX, BN_CTX_free>>;

const unsigned char *bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char *>(s.data());
}

// RFC 3110 2 allows moduli up to 4096 bits; refusing larger ones also bounds the
// cost of one verification.
constexpr size_t kMaxRsaModulusOctets = 512;
constexpr size_t kMinRsaModulusOctets = 64;  // 512 bits, RFC 3110 2

// ---- public key import ----------------------------------------------------------

EvpPkey pkey_from_params(const char *key_type, const OSSL_PARAM *params) {
  EvpPkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, key_type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY *raw = nullptr;
  // EVP_PKEY_fromdata only stores into `raw` on success, so it is owned at once.
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM *>(params)) != 1)
    return nullptr;
  return EvpPkey(raw);
}

// RFC 3110 2: exponent length (one octet, or zero then two octets), exponent, modulus.
EvpPkey rsa_public_key(std::string_view key) {
  if (key.empty()) return nullptr;
  size_t exponent_length = static_cast<uint8_t>(key[0]);
  size_t offset = 1;
  if (exponent_length == 0) {
    if (key.size() < 3) return nullptr;
    exponent_length = (static_cast<size_t>(static_cast<uint8_t>(key[1])) << 8) | static_cast<uint8_t>(key[2]);
    offset = 3;
  }
  if (exponent_length == 0 || key.size() <= offset + exponent_length) return nullptr;
  std::string_view exponent = key.substr(offset, exponent_length);
  std::string_view modulus = key.substr(offset + exponent_length);
  if (modulus.size() < kMinRsaModulusOctets || modulus.size() > kMaxRsaModulusOctets) return nullptr;

  Bignum n(BN_bin2bn(bytes(modulus), static_cast<int>(modulus.size()), nullptr));
  Bignum e(BN_bin2bn(bytes(exponent), static_cast<int>(exponent.size()), nullptr));
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  if (!n || !e || !builder) return nullptr;
  if (OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
    return nullptr;
  Params params(OSSL_PARAM_BLD_to_param(builder.get()));
  if (!params) return nullptr;
  return pkey_from_params("RSA", params.get());
}

// RFC 6605 4: the key is the uncompressed point Q = x | y without the 0x04 prefix.
EvpPkey ecdsa_public_key(std::string_view key, const char *group, size_t coordinate_octets) {
  if (key.size() != 2 * coordinate_octets) return nullptr;
  std::string point;
  point.reserve(key.size() + 1);
  point.push_back('\x04');  // SEC 1 2.3.3: uncompressed point
  point.append(key);
  std::array<OSSL_PARAM, 3> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char *>(group), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end(),
  };
  return pkey_from_params("EC", params.data());
}

// RFC 8080 3: the key is the raw public key, 32 octets for Ed25519, 57 for Ed448.
EvpPkey eddsa_public_key(std::string_view key, int key_type, size_t key_octets) {
  if (key.size() != key_octets) return nullptr;
  return EvpPkey(EVP_PKEY_new_raw_public_key(key_type, nullptr, bytes(key), key.size()));
}

// ---- signature encodings --------------------------------------------------------

// A verification context set up for one key and digest (EVP_DigestVerifyInit_ex), or
// null when that failed. Setting one up fetches the signature and digest methods and
// builds the key's provider context: about 5 us a time on this project's benchmark
// machine, where copying a ready one costs under 0.5 us. `digest_name` is null for
// EdDSA (the hash is built in).
EvpMdCtx verification_context(EVP_PKEY *key, const char *digest_name) {
  if (!key) return nullptr;
  EvpMdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return nullptr;
  // The context is used once: without this flag OpenSSL finalises a copy of it (and of
  // the key context inside) so that more data could still be added (EVP_MD_CTX_set_flags(3)).
  EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, digest_name, nullptr, nullptr, key, nullptr) != 1)
    return nullptr;
  return ctx;
}

// One-shot verification on a fresh copy of `prepared`, a context from
// verification_context (the copy holds its own digest state and key context, so the
// prepared one stays unused).
bool evp_verify(const EVP_MD_CTX *prepared, std::string_view data, const unsigned char *signature,
                size_t signature_length) {
  if (!prepared) return false;
  EvpMdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), prepared) != 1) return false;
  EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
  return EVP_DigestVerify(ctx.get(), signature, signature_length, bytes(data), data.size()) == 1;
}

// ---- ECDSA P-256 with a precomputed table for a hot key ------------------------
//
// An ECDSA verification computes R = u1 * G + u2 * Q (G the curve's generator, Q the
// signer's public key). OpenSSL multiplies by G with a large precomputed table and by
// Q with a plain windowed method, which is most of a P-256 verification (about 35 of
// 45 us on the benchmark machine). A zone signs nearly all its RRsets with one key, so
// a key that keeps verifying (a TLD's or a large zone's ZSK) gets the same kind of
// table: a copy of the curve whose generator is Q, with OpenSSL's own precomputation
// for it (EC_GROUP_precompute_mult; for P-256, the same comb as for G: about 150 KiB
// and 25 ms to build, on a background thread). A verification with both tables takes
// about half the time. The table only speeds up the multiplication; the checks are
// SEC 1 4.1.4's, done here on the same primitives OpenSSL's verifier uses.

constexpr uint32_t kHotKeyVerifications = 1000;  // by one thread, before a table is built
constexpr size_t kMaxFixedBaseTables = 8;        // in the process, about 1.2 MiB

std::atomic<uint64_t> g_fixed_base_verifications{0};

class FixedBaseEcdsa {
public:
  // Null when the key is not a valid point of the curve (`nid`) or the table cannot be
  // built. Slow (see above).
  static std::unique_ptr<FixedBaseEcdsa> build(int nid, size_t coordinate_octets, std::string_view key) {
#if defined(OPENSSL_NO_DEPRECATED_3_0)
    (void)nid, (void)coordinate_octets, (void)key;
    return nullptr;
#else
    if (key.size() != 2 * coordinate_octets) return nullptr;
    auto table = std::unique_ptr<FixedBaseEcdsa>(new FixedBaseEcdsa);
    table->coordinate_octets_ = coordinate_octets;
    BnCtx ctx(BN_CTX_new());
    table->curve_.reset(EC_GROUP_new_by_curve_name(nid));
    if (!ctx || !table->curve_) return nullptr;
    // RFC 6605 4: x | y; SEC 1 2.3.3 uncompressed form. oct2point checks the point is
    // on the curve.
    std::string point("\x04", 1);
    point.append(key);
    EcPoint q(EC_POINT_new(table->curve_.get()));
    if (!q || EC_POINT_oct2point(table->curve_.get(), q.get(), bytes(point), point.size(), ctx.get()) != 1 ||
        EC_POINT_is_at_infinity(table->curve_.get(), q.get()))
      return nullptr;
    table->key_as_generator_.reset(EC_GROUP_dup(table->curve_.get()));
    if (!table->key_as_generator_ || EC_GROUP_set_generator(table->key_as_generator_.get(), q.get(),
                                                            EC_GROUP_get0_order(table->curve_.get()),
                                                            EC_GROUP_get0_cofactor(table->curve_.get())) != 1)
      return nullptr;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    // Deprecated in OpenSSL 3 with the rest of the low-level EC API, and the only way
    // to give a point other than G a precomputed table.
    if (EC_GROUP_precompute_mult(table->key_as_generator_.get(), ctx.get()) != 1) return nullptr;
#pragma GCC diagnostic pop
    return table;
#endif
  }

  // SEC 1 4.1.4 (FIPS 186-5 6.4.2): `signature` (r | s, RFC 6605 4) over the SHA-256
  // of `signed_data` (ECDSAP256SHA256, RFC 6605 2: the hash is as long as the order).
  bool verify(std::string_view signed_data, std::string_view signature) const {
    static const EvpMd kSha256(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    unsigned char digest[32];
    unsigned int digest_length = 0;
    if (signature.size() != 2 * coordinate_octets_ || !kSha256 ||
        EVP_Digest(signed_data.data(), signed_data.size(), digest, &digest_length, kSha256.get(), nullptr) != 1 ||
        digest_length != sizeof digest)
      return false;
    thread_local BnCtx ctx(BN_CTX_new());
    if (!ctx) return false;
    BN_CTX_start(ctx.get());
    const bool valid = verify_in(ctx.get(), digest, digest_length, signature);
    BN_CTX_end(ctx.get());
    return valid;
  }

private:
  FixedBaseEcdsa() = default;

  bool verify_in(BN_CTX *ctx, const unsigned char *digest, size_t digest_length,
                 std::string_view signature) const {
    const EC_GROUP *curve = curve_.get();
    const BIGNUM *order = EC_GROUP_get0_order(curve);
    BIGNUM *r = BN_CTX_get(ctx), *s = BN_CTX_get(ctx), *e = BN_CTX_get(ctx), *w = BN_CTX_get(ctx);
    BIGNUM *u1 = BN_CTX_get(ctx), *u2 = BN_CTX_get(ctx), *x = BN_CTX_get(ctx);
    if (x == nullptr) return false;  // BN_CTX_get fails only at the last call too
    const auto *raw = bytes(signature);
    const int octets = static_cast<int>(coordinate_octets_);
    if (!BN_bin2bn(raw, octets, r) || !BN_bin2bn(raw + octets, octets, s)) return false;
    // Step 1: r and s in [1, n-1].
    if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, order) >= 0 || BN_cmp(s, order) >= 0) return false;
    // Steps 2-3: e is the leftmost bits of the hash, as many as the order has.
    if (!BN_bin2bn(digest, static_cast<int>(digest_length), e)) return false;
    const int excess = static_cast<int>(digest_length * 8) - BN_num_bits(order);
    if (excess > 0 && !BN_rshift(e, e, excess)) return false;
    // Step 4: w = s^-1, u1 = e w, u2 = r w (mod n).
    if (!BN_mod_inverse(w, s, order, ctx) || !BN_mod_mul(u1, e, w, order, ctx) ||
        !BN_mod_mul(u2, r, w, order, ctx))
      return false;
    // Step 5: R = u1 G + u2 Q, each with its table; R must not be the point at infinity.
    EcPoint from_g(EC_POINT_new(curve)), from_q(EC_POINT_new(curve));
    if (!from_g || !from_q || EC_POINT_mul(curve, from_g.get(), u1, nullptr, nullptr, ctx) != 1 ||
        EC_POINT_mul(key_as_generator_.get(), from_q.get(), u2, nullptr, nullptr, ctx) != 1 ||
        EC_POINT_add(curve, from_g.get(), from_g.get(), from_q.get(), ctx) != 1 ||
        EC_POINT_is_at_infinity(curve, from_g.get()))
      return false;
    // Steps 6-8: v = x_R mod n must equal r.
    if (EC_POINT_get_affine_coordinates(curve, from_g.get(), x, nullptr, ctx) != 1 ||
        !BN_nnmod(x, x, order, ctx))
      return false;
    return BN_cmp(x, r) == 0;
  }

  size_t coordinate_octets_ = 0;
  EcGroup curve_;             // the named curve: G and OpenSSL's table for it
  EcGroup key_as_generator_;  // the same curve with Q as its generator, and Q's table
};

// A table being built or ready. Shared by the threads' key slots that asked for it
// and, weakly, by the registry and the builder's queue.
struct FixedBaseJob {
  std::atomic<bool> ready{false};
  std::unique_ptr<FixedBaseEcdsa> table;  // written once, before `ready` is set
  const FixedBaseEcdsa *ready_table() const {
    return ready.load(std::memory_order_acquire) ? table.get() : nullptr;
  }
};

// The process's fixed-base tables, at most kMaxFixedBaseTables alive, built one at a
// time by one background thread so that no event loop stalls for a build. A table
// lives as long as a thread's key slot holds it.
class FixedBaseTables {
public:
  static FixedBaseTables &instance() {
    // Never destroyed: the builder thread may still be waiting on it at exit.
    static auto *tables = new FixedBaseTables;
    return *tables;
  }

  // The job for this P-256 key: the one already built or being built, a new one queued,
  // or null when kMaxFixedBaseTables are alive.
  std::shared_ptr<FixedBaseJob> request(std::string_view key) {
    std::lock_guard lock(mutex_);
    size_t alive = 0;
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->second.expired()) {
        it = jobs_.erase(it);
      } else {
        ++alive;
        ++it;
      }
    }
    std::string octets(key);
    if (auto found = jobs_.find(octets); found != jobs_.end()) return found->second.lock();
    if (alive >= kMaxFixedBaseTables) return nullptr;
    if (!builder_started_) {
      // Without a thread (the process is at its limit), keys simply stay as they are.
      try {
        std::thread([this] { build_forever(); }).detach();
      } catch (const std::system_error &) {
        return nullptr;
      }
      builder_started_ = true;
    }
    auto job = std::make_shared<FixedBaseJob>();
    jobs_.emplace(octets, job);
    queue_.emplace_back(std::move(octets), job);
    wake_.notify_one();
    return job;
  }

private:
  void build_forever() {
    for (;;) {
      std::pair<std::string, std::weak_ptr<FixedBaseJob>> next;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return !queue_.empty(); });
        next = std::move(queue_.front());
        queue_.pop_front();
      }
      // A job nobody holds any more (its key left every slot) is not built.
      if (next.second.expired()) continue;
      auto table = FixedBaseEcdsa::build(NID_X9_62_prime256v1, 32, next.first);
      if (auto job = next.second.lock(); job && table) {
        job->table = std::move(table);
        job->ready.store(true, std::memory_order_release);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::weak_ptr<FixedBaseJob>> jobs_;
  std::deque<std::pair<std::string, std::weak_ptr<FixedBaseJob>>> queue_;
  bool builder_started_ = false;
};

// Importing a public key is a large part of one verification with OpenSSL 3: for
// ECDSA, EVP_PKEY_fromdata builds the curve group afresh each time (about a third of
// a P-256 verification, measured with perf on a cold run), and a zone signs most of
// its RRsets with one key. So each thread keeps the keys it imported last, found by
// their exact algorithm and key octets: a hit is the very key a fresh import would
// give, and nothing about the signatures made with it is remembered here. A key that
// fails to import is not kept. With each key, its verification context (the algorithm
// fixes the digest), which every verification copies. 64 slots, direct-mapped: a few
// hundred kilobytes at most per thread, and a collision only costs a new import.
// A P-256 key's slot also counts its verifications and, once the key is hot, holds its
// fixed-base table (FixedBaseTables).
class ImportedKeys {
public:
  struct Slot {
    uint8_t algorithm = 0;
    std::string octets;
    EvpMdCtx verifier;  // holds its own reference to the imported key
    uint32_t verifications = 0;
    std::shared_ptr<FixedBaseJob> fixed_base;
  };

  // The slot of `key` under `algorithm` (its digest is `digest_name`), with the key's
  // prepared verification context, or null when the key does not import.
  template <typename Import>
  Slot *find_or_import(uint8_t algorithm, const char *digest_name, std::string_view key, Import import) {
    Slot &slot = slots_[slot_of(algorithm, key)];
    if (slot.verifier && slot.algorithm == algorithm && slot.octets == key) return &slot;
    EvpPkey imported = import();
    EvpMdCtx verifier = verification_context(imported.get(), digest_name);
    if (!verifier) return nullptr;
    slot = Slot{};
    slot.algorithm = algorithm;
    slot.octets.assign(key);
    slot.verifier = std::move(verifier);
    return &slot;
  }

  static ImportedKeys &of_this_thread() {
    thread_local ImportedKeys keys;
    return keys;
  }

private:
  static constexpr size_t kSlots = 64;

  static size_t slot_of(uint8_t algorithm, std::string_view key) {
    return (std::hash<std::string_view>{}(key) ^ algorithm) % kSlots;
  }

  std::array<Slot, kSlots> slots_;
};

bool verify_rsa(uint8_t algorithm, const char *digest_name, std::string_view key, std::string_view data,
                std::string_view signature) {
  const ImportedKeys::Slot *slot = ImportedKeys::of_this_thread().find_or_import(
      algorithm, digest_name, key, [&] { return rsa_public_key(key); });
  return slot && evp_verify(slot->verifier.get(), data, bytes(signature), signature.size());
}

bool verify_ecdsa(uint8_t algorithm, const char *group, size_t coordinate_octets, const char *digest_name,
                  std::string_view key, std::string_view data, std::string_view signature) {
  if (signature.size() != 2 * coordinate_octets) return false;
  ImportedKeys::Slot *slot = ImportedKeys::of_this_thread().find_or_import(
      algorithm, digest_name, key, [&] { return ecdsa_public_key(key, group, coordinate_octets); });
  if (!slot) return false;
  if (algorithm == dnssec_algorithm::ECDSAP256SHA256) {
    // Asked for once per kHotKeyVerifications while the table limit is reached.
    if (!slot->fixed_base && ++slot->verifications % kHotKeyVerifications == 0)
      slot->fixed_base = FixedBaseTables::instance().request(key);
    if (const FixedBaseEcdsa *table = slot->fixed_base ? slot->fixed_base->ready_table() : nullptr) {
      g_fixed_base_verifications.fetch_add(1, std::memory_order_relaxed);
      return table->verify(data, signature);
    }
  }
  crypto_detail::EcdsaDer der;
  const size_t der_length = crypto_detail::ecdsa_signature_der(signature, coordinate_octets, der);
  return der_length != 0 && evp_verify(slot->verifier.get(), data, der.data(), der_length);
}

bool verify_eddsa(uint8_t algorithm, int key_type, size_t key_octets, size_t signature_octets,
                  std::string_view key, std::string_view data, std::string_view signature) {
  if (signature.size() != signature_octets) return false;  // RFC 8080 4
  const ImportedKeys::Slot *slot = ImportedKeys::of_this_thread().find_or_import(
      algorithm, nullptr, key, [&] { return eddsa_public_key(key, key_type, key_octets); });
  return slot && evp_verify(slot->verifier.get(), data, bytes(signature), signature.size());
}

// Verification without the "is this algorithm allowed" check, used by the probes.
bool verify_unchecked(uint8_t algorithm, std::string_view key, std::string_view data,
                      std::string_view signature) {
  namespace alg = dnssec_algorithm;
  switch (algorithm) {
    case alg::RSASHA1:
    case alg::RSASHA1_NSEC3_SHA1: return verify_rsa(algorithm, "SHA1", key, data, signature);
    case alg::RSASHA256: return verify_rsa(algorithm, "SHA256", key, data, signature);
    case alg::RSASHA512: return verify_rsa(algorithm, "SHA512", key, data, signature);
    case alg::ECDSAP256SHA256: return verify_ecdsa(algorithm, "P-256", 32, "SHA256", key, data, signature);
    case alg::ECDSAP384SHA384: return verify_ecdsa(algorithm, "P-384", 48, "SHA384", key, data, signature);
    case alg::ED25519: return verify_eddsa(algorithm, EVP_PKEY_ED25519, 32, 64, key, data, signature);
    case alg::ED448: return verify_eddsa(algorithm, EVP_PKEY_ED448, 57, 114, key, data, signature);
    default: return false;
  }
}

// ---- capability probes ----------------------------------------------------------

std::string from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  return out;
}

// A throw-away 1024-bit RSA key (RFC 3110 form: exponent length 3, 65537, modulus)
// and its PKCS#1 v1.5 SHA-1 signature over kSha1ProbeMessage, made with
// `openssl dgst -sha1 -sign`. Verifying it tells whether the crypto policy in force
// (e.g. a distribution that disables SHA-1 signatures) still accepts SHA-1.
constexpr std::string_view kSha1ProbeMessage = "resolverd SHA-1 probe";
constexpr std::string_view kSha1ProbeKeyHex =
    "03010001"
    "AAEF5B4D093B342A923D8452A1F5B57D70D1D6D76779853D969987284DDDA8F09D24084008C73FB8839381C66FE1D7E3C217733F"
    "2318F43FD1591500369985345866B2F713E6735CEF5E93E3F75DF103131D0F6BCC9DC8FBECFD70DE203123412BD614DED3259ABD"
    "FD668B50C32BEB23B59C5C05E6DFB5BD4605DA4F3608D85D";
constexpr std::string_view kSha1ProbeSignatureHex =
    "631c63090376e0a0f0a58a408310da316c225e75b1e679a071103106907e9dff4421532c08e1931efa8c4e14df48a046d4487069"
    "4d"
    "997bf2dda6a09f55c58927a7a4671d0fbe250e6422f62a7b8125819cb9961f180f5e7ceab5d5fb4aa6f3438cb0725f30463242a1"
    "90"
    "8d7bba3caa1ad91e758c7e36d1175c175acec381f9ea";

bool sha1_signatures_allowed() {
  static const bool kAllowed = verify_unchecked(dnssec_algorithm::RSASHA1, from_hex(kSha1ProbeKeyHex),
                                                kSha1ProbeMessage, from_hex(kSha1ProbeSignatureHex));
  return kAllowed;
}

bool provider_has(const char *key_type, const char *digest_name) {
  EvpPkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, key_type, nullptr));
  if (!ctx) return false;
  if (!digest_name) return true;
  EvpMd md(EVP_MD_fetch(nullptr, digest_name, nullptr));
  return md != nullptr;
}

struct AlgorithmAvailability {
  bool rsa_sha256 = provider_has("RSA", "SHA256");
  bool rsa_sha512 = provider_has("RSA", "SHA512");
  bool ecdsa_p256 = provider_has("EC", "SHA256");
  bool ecdsa_p384 = provider_has("EC", "SHA384");
  bool ed25519 = provider_has("ED25519", nullptr);
  bool ed448 = provider_has("ED448", nullptr);
};

const AlgorithmAvailability &availability() {
  static const AlgorithmAvailability kProbed;
  return kProbed;
}

const EVP_MD *digest_for_ds(uint8_t digest_type) {
  switch (digest_type) {
    case ds_digest_type::SHA1: return EVP_sha1();
    case ds_digest_type::SHA256: return EVP_sha256();
    case ds_digest_type::SHA384: return EVP_sha384();
    default: return nullptr;
  }
}

}  // namespace

bool algorithm_supported(uint8_t algorithm) {
  namespace alg = dnssec_algorithm;
  const AlgorithmAvailability &have = availability();
  switch (algorithm) {
    // RFC 8624 3.1: RSASHA1 and RSASHA1-NSEC3-SHA1 are still "MUST" for validation,
    // but some systems forbid SHA-1 signatures outright; then they count as unknown.
    case alg::RSASHA1:
    case alg::RSASHA1_NSEC3_SHA1: return sha1_signatures_allowed();
    case alg::RSASHA256: return have.rsa_sha256;
    case alg::RSASHA512: return have.rsa_sha512;
    case alg::ECDSAP256SHA256: return have.ecdsa_p256;
    case alg::ECDSAP384SHA384: return have.ecdsa_p384;
    case alg::ED25519: return have.ed25519;
    case alg::ED448: return have.ed448;
    default: return false;  // RSAMD5, DSA, GOST (RFC 8624 3.1 "MUST NOT"), unknown
  }
}

bool digest_supported(uint8_t digest_type) {
  return digest_for_ds(digest_type) != nullptr;
}

namespace crypto_detail {

// X.690 8.3 (DER, 10.1): an INTEGER's contents are the fewest octets of its two's
// complement: leading zero octets dropped (one kept for zero), and a zero octet put in
// front when the top bit is set, so that the unsigned value does not read as negative.
// Lengths stay below 128 here, so each is one octet (X.690 8.1.3.4).
size_t ecdsa_signature_der(std::string_view signature, size_t coordinate_octets, EcdsaDer &out) {
  if (coordinate_octets == 0 || coordinate_octets > kMaxEcdsaCoordinateOctets ||
      signature.size() != 2 * coordinate_octets)
    return 0;
  size_t at = 2;  // the SEQUENCE's tag and length are written last
  for (std::string_view value :
       {signature.substr(0, coordinate_octets), signature.substr(coordinate_octets)}) {
    size_t skip = 0;
    while (skip + 1 < value.size() && value[skip] == '\0') ++skip;
    value.remove_prefix(skip);
    const bool pad = (static_cast<uint8_t>(value[0]) & 0x80) != 0;
    out[at++] = 0x02;  // INTEGER
    out[at++] = static_cast<unsigned char>(value.size() + (pad ? 1 : 0));
    if (pad) out[at++] = 0x00;
    for (char c : value) out[at++] = static_cast<unsigned char>(c);
  }
  out[0] = 0x30;  // SEQUENCE, constructed
  out[1] = static_cast<unsigned char>(at - 2);
  return at;
}

std::function<bool(std::string_view, std::string_view)> p256_fixed_base_verifier(
    std::string_view public_key) {
  std::shared_ptr<const FixedBaseEcdsa> table = FixedBaseEcdsa::build(NID_X9_62_prime256v1, 32, public_key);
  if (!table) return nullptr;
  return [table](std::string_view signed_data, std::string_view signature) {
    return table->verify(signed_data, signature);
  };
}

uint64_t fixed_base_verifications() {
  return g_fixed_base_verifications.load(std::memory_order_relaxed);
}

}  // namespace crypto_detail

bool verify_signature(uint8_t algorithm, std::string_view public_key, std::string_view signed_data,
                      std::string_view signature) {
  if (!algorithm_supported(algorithm)) return false;
  return verify_unchecked(algorithm, public_key, signed_data, signature);
}

std::string ds_digest(uint8_t digest_type, std::string_view owner_canonical_wire,
                      std::string_view dnskey_rdata) {
  const EVP_MD *md = digest_for_ds(digest_type);
  EvpMdCtx ctx(EVP_MD_CTX_new());
  if (!md || !ctx) return {};
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), owner_canonical_wire.data(), owner_canonical_wire.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), dnskey_rdata.data(), dnskey_rdata.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) != 1)
    return {};
  return std::string(reinterpret_cast<const char *>(digest.data()), length);
}

std::string nsec3_hash(std::string_view name_canonical_wire, std::string_view salt, uint16_t iterations) {
  EvpMdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return {};
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  std::string_view input = name_canonical_wire;
  // RFC 5155 5: iterations + 1 applications of H, each over (previous | salt).
  for (uint32_t round = 0; round <= iterations; ++round) {
    if (EVP_DigestInit_ex2(ctx.get(), EVP_sha1(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), input.data(), input.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), salt.data(), salt.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) != 1)
      return {};
    input = std::string_view(reinterpret_cast<const char *>(digest.data()), length);
  }
  return std::string(input);
}

}  // namespace rsv
