#include "dnssec/verification_cache.h"

#include <openssl/evp.h>

#include <cstring>
#include <vector>

#include "dnssec/crypto.h"

namespace rsv {

namespace {

struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX *ctx) const { EVP_MD_CTX_free(ctx); }
};
using EvpMdCtx = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;

void update_with_length(EVP_MD_CTX *ctx, std::string_view part) {
  // Each part is preceded by its length, so that no two inputs share a digest input.
  const uint32_t length = static_cast<uint32_t>(part.size());
  const uint8_t prefix[4] = {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
                             static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
  EVP_DigestUpdate(ctx, prefix, sizeof prefix);
  EVP_DigestUpdate(ctx, part.data(), part.size());
}

struct Nsec3Entry {
  std::string name;  // canonical wire form
  std::string salt;
  uint16_t iterations = 0;
  bool used = false;
  std::string hash;
};

class Nsec3Hashes {
public:
  static constexpr size_t kSlots = 4096;
  Nsec3Hashes() : slots_(kSlots) {}

  std::string hash(std::string_view name, std::string_view salt, uint16_t iterations) {
    Nsec3Entry &entry = slots_[slot_of(name, salt, iterations)];
    if (entry.used && entry.iterations == iterations && entry.name == name && entry.salt == salt) return entry.hash;
    std::string computed = nsec3_hash(name, salt, iterations);
    if (computed.empty()) return computed;
    entry.name.assign(name);
    entry.salt.assign(salt);
    entry.iterations = iterations;
    entry.hash = computed;
    entry.used = true;
    return computed;
  }
  void clear() {
    for (auto &entry : slots_) entry = Nsec3Entry{};
  }

private:
  static size_t slot_of(std::string_view name, std::string_view salt, uint16_t iterations) {
    // FNV-1a: only spreads the entries; every hit is confirmed on the full key.
    uint64_t h = 1469598103934665603ull ^ iterations;
    for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    for (char c : salt) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    return static_cast<size_t>(h % kSlots);
  }
  std::vector<Nsec3Entry> slots_;
};

Nsec3Hashes &nsec3_hashes_of_this_thread() {
  thread_local Nsec3Hashes table;
  return table;
}

}  // namespace

VerifiedSignatures::VerifiedSignatures() : slots_(new Digest[kSlots]()) {}

VerifiedSignatures &VerifiedSignatures::of_this_thread() {
  thread_local VerifiedSignatures table;
  return table;
}

VerifiedSignatures::Digest VerifiedSignatures::digest(uint8_t algorithm, std::string_view public_key,
                                                      std::string_view signed_data, std::string_view signature) {
  Digest out{};
  thread_local EvpMdCtx ctx(EVP_MD_CTX_new());
  unsigned int length = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), EVP_sha256(), nullptr) != 1) return out;
  EVP_DigestUpdate(ctx.get(), &algorithm, 1);
  update_with_length(ctx.get(), public_key);
  update_with_length(ctx.get(), signed_data);
  update_with_length(ctx.get(), signature);
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &length) != 1 || length != out.size()) return Digest{};
  return out;
}

size_t VerifiedSignatures::slot_of(const Digest &digest) {
  uint64_t index = 0;
  std::memcpy(&index, digest.data(), sizeof index);
  return static_cast<size_t>(index % kSlots);
}

bool VerifiedSignatures::contains(const Digest &digest) const {
  if (digest == Digest{}) return false;  // a digest that could not be made matches nothing
  return slots_[slot_of(digest)] == digest;
}

void VerifiedSignatures::insert(const Digest &digest) {
  if (digest == Digest{}) return;
  slots_[slot_of(digest)] = digest;
}

void VerifiedSignatures::clear() {
  for (size_t i = 0; i < kSlots; ++i) slots_[i] = Digest{};
}

std::string nsec3_hash_cached(std::string_view name_canonical_wire, std::string_view salt, uint16_t iterations) {
  return nsec3_hashes_of_this_thread().hash(name_canonical_wire, salt, iterations);
}

void clear_verification_caches_of_this_thread() {
  VerifiedSignatures::of_this_thread().clear();
  nsec3_hashes_of_this_thread().clear();
}

}  // namespace rsv
