// libFuzzer target for the DNSSEC record parsers: every input is handed, as RDATA
// or as text, to parse_rrsig, parse_dnskey, parse_ds, parse_nsec_rdata,
// nsec_bitmap_valid / nsec_bitmap_has, parse_nsec3_rdata, base32hex_decode and
// canonical_rdata. Build with -DRESOLVER_FUZZ=ON and clang (tests/fuzz/CMakeLists.txt);
// run as:  build-fuzz/tests/fuzz/dnssec_records_fuzz -max_total_time=120 CORPUS_DIR
// with a copy of tests/fuzz/corpus/dnssec_records_fuzz/ (RDATA signed by ldns, by
// make_corpus.sh) as CORPUS_DIR; scripts/fuzz.sh does both.
//
// The parsers are small, so besides "no crash, no sanitizer report" each is checked
// against an independent reading of its RFC (RFC 4034 2.1, 3.1, 4.1, 5.1 and B;
// RFC 5155 3.2; RFC 4648 7): it accepts exactly the well-formed inputs, and what it
// accepts is the input split into fields, nothing lost or invented.
//
// check_dnssec_records() is shared with the deterministic replay in
// tests/unit/dnssec_fuzz_corpus_test.cc, which includes this file with
// RSV_FUZZ_PROPERTY_ONLY defined (no LLVMFuzzerTestOneInput there).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec/nsec.h"
#include "dnssec/nsec3.h"
#include "dnssec/rrsig.h"
#include "resolver/wire/name.h"
#include "resolver/wire/rr.h"

namespace rsv::fuzz {

// Which parsers accepted an input, so the replay test can tell that its mutations
// reach both the accepting and the rejecting paths of each.
struct DnssecRecordsAccepted {
  bool rrsig = false, dnskey = false, ds = false, nsec = false, bitmap = false, nsec3 = false,
       base32hex = false;
};

namespace reference {

inline uint16_t be16(std::string_view d, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(d[at]) << 8) | static_cast<uint8_t>(d[at + 1]));
}
inline uint32_t be32(std::string_view d, size_t at) {
  return (static_cast<uint32_t>(be16(d, at)) << 16) | be16(d, at + 2);
}

// RFC 1035 3.1 / RFC 4034 6.2: the length of the uncompressed name at `at`, or 0
// when there is none (past the end, a label over 63 octets or a pointer, longer
// than 255 octets).
inline size_t name_length(std::string_view d, size_t at) {
  size_t pos = at;
  for (;;) {
    if (pos >= d.size()) return 0;
    const size_t label = static_cast<uint8_t>(d[pos]);
    if (label > 63) return 0;
    pos += 1 + label;
    if (pos - at > 255) return 0;
    if (label == 0) return pos - at;
  }
}

// RFC 4034 4.1.2: the types listed by the well-formed windows of a Type Bit Maps
// field, up to the first malformed window; *valid is whether there was none.
inline std::vector<bool> bitmap_types(std::string_view bitmap, bool *valid) {
  std::vector<bool> types(65536, false);
  *valid = true;
  int previous = -1;
  size_t pos = 0;
  while (pos < bitmap.size()) {
    if (bitmap.size() - pos < 2) {
      *valid = false;
      break;
    }
    const int window = static_cast<uint8_t>(bitmap[pos]);
    const size_t length = static_cast<uint8_t>(bitmap[pos + 1]);
    if (window <= previous || length == 0 || length > 32 || pos + 2 + length > bitmap.size()) {
      *valid = false;
      break;
    }
    for (size_t octet = 0; octet < length; ++octet)
      for (int bit = 0; bit < 8; ++bit)
        if (static_cast<uint8_t>(bitmap[pos + 2 + octet]) & (0x80 >> bit))
          types[static_cast<size_t>(window) * 256 + octet * 8 + static_cast<size_t>(bit)] = true;
    previous = window;
    pos += 2 + length;
  }
  return types;
}

// RFC 4034 Appendix B, including B.1 for algorithm 1 (RSA/MD5).
inline uint16_t key_tag(std::string_view rdata) {
  if (rdata.size() >= 4 && static_cast<uint8_t>(rdata[3]) == 1)
    return rdata.size() < 7 ? 0 : be16(rdata, rdata.size() - 3);
  uint64_t ac = 0;
  for (size_t i = 0; i < rdata.size(); ++i)
    ac += (i & 1) ? static_cast<uint8_t>(rdata[i]) : static_cast<uint64_t>(static_cast<uint8_t>(rdata[i])) << 8;
  ac += (ac >> 16) & 0xFFFF;
  return static_cast<uint16_t>(ac & 0xFFFF);
}

inline int base32hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'v') return c - 'a' + 10;
  if (c >= 'A' && c <= 'V') return c - 'A' + 10;
  return -1;
}

// RFC 4648 7 without padding: only alphabet characters, a length that a whole
// number of octets can produce, and zero bits left over.
inline bool base32hex_well_formed(std::string_view text) {
  const size_t tail = text.size() % 8;
  if (tail == 1 || tail == 3 || tail == 6) return false;
  for (char c : text)
    if (base32hex_value(c) < 0) return false;
  const size_t spare_bits = (text.size() * 5) % 8;
  if (spare_bits == 0) return true;
  return (base32hex_value(text.back()) & ((1 << spare_bits) - 1)) == 0;
}

inline std::string lower(std::string_view text) {
  std::string out(text);
  for (char &c : out) c = dns_tolower(c);
  return out;
}

}  // namespace reference

inline std::string check_rrsig(std::string_view rdata, DnssecRecordsAccepted *accepted) {
  ResourceRecord record;
  record.type = rrtype::RRSIG;
  record.rdata = std::string(rdata);
  const auto sig = parse_rrsig(record);

  // RFC 4034 3.1: 18 octets of fixed fields, the signer's name, a non-empty signature.
  const size_t signer_length = rdata.size() >= 18 ? reference::name_length(rdata, 18) : 0;
  const bool well_formed = signer_length != 0 && 18 + signer_length < rdata.size();
  if (sig.has_value() != well_formed)
    return well_formed ? "parse_rrsig rejected well-formed RDATA" : "parse_rrsig accepted malformed RDATA";

  const auto unsigned_part = rrsig_rdata_without_signature(rdata);
  if (unsigned_part && rdata.substr(0, unsigned_part->size()) != *unsigned_part)
    return "rrsig_rdata_without_signature is not a prefix of the RDATA";
  if (unsigned_part && (signer_length == 0 || unsigned_part->size() != 18 + signer_length))
    return "rrsig_rdata_without_signature cut the RDATA in the wrong place";
  if (sig) {
    if (accepted) accepted->rrsig = true;
    if (!unsigned_part) return "rrsig_rdata_without_signature rejected an RRSIG parse_rrsig accepted";
    if (sig->type_covered != reference::be16(rdata, 0) || sig->algorithm != static_cast<uint8_t>(rdata[2]) ||
        sig->labels != static_cast<uint8_t>(rdata[3]) || sig->original_ttl != reference::be32(rdata, 4) ||
        sig->expiration != reference::be32(rdata, 8) || sig->inception != reference::be32(rdata, 12) ||
        sig->key_tag != reference::be16(rdata, 16))
      return "parse_rrsig misread a fixed field";
    if (sig->signer.wire() != rdata.substr(18, signer_length)) return "parse_rrsig misread the signer";
    if (sig->signature != rdata.substr(18 + signer_length)) return "parse_rrsig misread the signature";
    if (record.rrsig_type_covered() != sig->type_covered) return "rrsig_type_covered disagrees with parse_rrsig";
  }
  // Only RRSIG records are RRSIGs, whatever their RDATA.
  for (uint16_t other : {uint16_t{0}, uint16_t{24} /* SIG */, rrtype::DNSKEY, rrtype::NSEC}) {
    record.type = other;
    if (parse_rrsig(record)) return "parse_rrsig accepted a record of type " + std::to_string(other);
  }
  return "";
}

inline std::string check_dnskey_and_ds(std::string_view rdata, DnssecRecordsAccepted *accepted) {
  // RFC 4034 2.1: flags, protocol, algorithm, a non-empty public key.
  const auto key = parse_dnskey(rdata);
  if (key.has_value() != (rdata.size() >= 5))
    return key ? "parse_dnskey accepted fewer than 5 octets" : "parse_dnskey rejected a well-formed DNSKEY";
  if (key) {
    if (accepted) accepted->dnskey = true;
    if (key->flags != reference::be16(rdata, 0) || key->protocol != static_cast<uint8_t>(rdata[2]) ||
        key->algorithm != static_cast<uint8_t>(rdata[3]) || key->public_key != rdata.substr(4))
      return "parse_dnskey misread a field";
    if (key->key_tag != reference::key_tag(rdata)) return "parse_dnskey computed the wrong key tag";
  }
  if (key_tag(rdata) != reference::key_tag(rdata)) return "key_tag differs from RFC 4034 Appendix B";

  // RFC 4034 5.1: key tag, algorithm, digest type, a non-empty digest.
  const auto ds = parse_ds(rdata);
  if (ds.has_value() != (rdata.size() >= 5))
    return ds ? "parse_ds accepted fewer than 5 octets" : "parse_ds rejected a well-formed DS";
  if (ds) {
    if (accepted) accepted->ds = true;
    if (ds->key_tag != reference::be16(rdata, 0) || ds->algorithm != static_cast<uint8_t>(rdata[2]) ||
        ds->digest_type != static_cast<uint8_t>(rdata[3]) || ds->digest != rdata.substr(4))
      return "parse_ds misread a field";
  }
  return "";
}

// nsec_bitmap_valid and nsec_bitmap_has against the reference reading: has() must
// report exactly the types of the well-formed windows before any damage.
inline std::string check_bitmap(std::string_view bitmap, bool *valid_out) {
  bool valid = false;
  const std::vector<bool> types = reference::bitmap_types(bitmap, &valid);
  if (nsec_bitmap_valid(bitmap) != valid)
    return valid ? "nsec_bitmap_valid rejected a well-formed bitmap" : "nsec_bitmap_valid accepted a malformed bitmap";
  if (valid_out) *valid_out = valid;

  // Every type of the windows the input names (window octets anywhere, bounded),
  // plus the windows at the ends of the range.
  std::vector<bool> window_checked(256, false);
  std::vector<int> windows = {0, 1, 255};
  for (size_t i = 0; i < bitmap.size() && windows.size() < 12; i += 2) windows.push_back(static_cast<uint8_t>(bitmap[i]));
  for (int window : windows) {
    if (window_checked[static_cast<size_t>(window)]) continue;
    window_checked[static_cast<size_t>(window)] = true;
    for (int low = 0; low < 256; ++low) {
      const auto type = static_cast<uint16_t>(window * 256 + low);
      if (nsec_bitmap_has(bitmap, type) != types[type])
        return "nsec_bitmap_has(" + std::to_string(type) + ") is " +
               (types[type] ? "false for a listed type" : "true for a type not listed before any damage");
    }
  }
  return "";
}

inline std::string check_nsec(std::string_view rdata, DnssecRecordsAccepted *accepted) {
  // RFC 4034 4.1: the next owner name, uncompressed, then the type bitmap.
  const auto nsec = parse_nsec_rdata(rdata);
  const size_t next_length = reference::name_length(rdata, 0);
  bool bitmap_valid = false;
  if (next_length != 0) reference::bitmap_types(rdata.substr(next_length), &bitmap_valid);
  const bool well_formed = next_length != 0 && bitmap_valid;
  if (nsec.has_value() != well_formed)
    return well_formed ? "parse_nsec_rdata rejected well-formed RDATA" : "parse_nsec_rdata accepted malformed RDATA";
  if (nsec) {
    if (accepted) accepted->nsec = true;
    if (nsec->next.wire() + nsec->bitmap != rdata) return "parse_nsec_rdata lost or invented octets";
    if (nsec->next.wire().size() != next_length) return "parse_nsec_rdata read the wrong next name";
  }
  return "";
}

inline std::string check_nsec3(std::string_view rdata, DnssecRecordsAccepted *accepted) {
  // RFC 5155 3.2: algorithm, flags, iterations, salt length + salt, hash length +
  // next hashed owner (non-empty), type bitmap.
  bool well_formed = false;
  if (rdata.size() >= 5) {
    const size_t salt_length = static_cast<uint8_t>(rdata[4]);
    const size_t hash_at = 5 + salt_length;
    if (hash_at < rdata.size()) {
      const size_t hash_length = static_cast<uint8_t>(rdata[hash_at]);
      const size_t bitmap_at = hash_at + 1 + hash_length;
      if (hash_length != 0 && bitmap_at <= rdata.size())
        reference::bitmap_types(rdata.substr(bitmap_at), &well_formed);
    }
  }
  const auto nsec3 = parse_nsec3_rdata(rdata);
  if (nsec3.has_value() != well_formed)
    return well_formed ? "parse_nsec3_rdata rejected well-formed RDATA" : "parse_nsec3_rdata accepted malformed RDATA";
  if (!nsec3) return "";
  if (accepted) accepted->nsec3 = true;
  if (nsec3->salt.size() > 255 || nsec3->next_hashed_owner.empty() || nsec3->next_hashed_owner.size() > 255)
    return "parse_nsec3_rdata returned impossible field lengths";
  if (nsec3->opt_out() != ((static_cast<uint8_t>(rdata[1]) & 1) != 0)) return "opt_out() misread the flags";
  std::string rebuilt;
  rebuilt.push_back(static_cast<char>(nsec3->hash_algorithm));
  rebuilt.push_back(static_cast<char>(nsec3->flags));
  rebuilt.push_back(static_cast<char>(nsec3->iterations >> 8));
  rebuilt.push_back(static_cast<char>(nsec3->iterations & 0xFF));
  rebuilt.push_back(static_cast<char>(nsec3->salt.size()));
  rebuilt += nsec3->salt;
  rebuilt.push_back(static_cast<char>(nsec3->next_hashed_owner.size()));
  rebuilt += nsec3->next_hashed_owner;
  rebuilt += nsec3->bitmap;
  if (rebuilt != rdata) return "parse_nsec3_rdata lost or invented octets";
  return "";
}

inline std::string check_base32hex(std::string_view input, DnssecRecordsAccepted *accepted) {
  // The input as text: decoded exactly when well formed, and re-encoding gives the
  // text back (lower-cased, since decoding ignores case).
  const auto decoded = base32hex_decode(input);
  const bool well_formed = reference::base32hex_well_formed(input);
  if (decoded.has_value() != well_formed)
    return well_formed ? "base32hex_decode rejected well-formed text" : "base32hex_decode accepted malformed text";
  if (decoded) {
    if (accepted) accepted->base32hex = true;
    if (decoded->size() != input.size() * 5 / 8) return "base32hex_decode returned the wrong number of octets";
    if (base32hex_encode(*decoded) != reference::lower(input)) return "base32hex_decode does not invert base32hex_encode";
  }
  // The input as octets: encoding is decodable and gives them back.
  const std::string encoded = base32hex_encode(input);
  if (encoded.size() != (input.size() * 8 + 4) / 5) return "base32hex_encode returned the wrong length";
  const auto round_trip = base32hex_decode(encoded);
  if (!round_trip || *round_trip != input) return "base32hex_encode output does not decode to its input";
  return "";
}

inline std::string check_canonical_rdata(std::string_view input) {
  // The first two octets choose the type, the rest is its RDATA. Canonical form only
  // lower-cases letters in place (RFC 4034 6.2), and doing it twice changes nothing.
  if (input.size() < 2) return "";
  const uint16_t type = reference::be16(input, 0);
  const std::string_view rdata = input.substr(2);
  const std::string canonical = canonical_rdata(type, rdata);
  if (canonical.size() != rdata.size()) return "canonical_rdata changed the RDATA length";
  for (size_t i = 0; i < rdata.size(); ++i)
    if (canonical[i] != rdata[i] && canonical[i] != dns_tolower(rdata[i]))
      return "canonical_rdata changed an octet other than by lower-casing it";
  if (canonical_rdata(type, canonical) != canonical) return "canonical_rdata is not idempotent";
  return "";
}

// Every parser over one input. Returns "" when all properties hold, else what broke.
inline std::string check_dnssec_records(const uint8_t *data, size_t size, DnssecRecordsAccepted *accepted = nullptr) {
  const std::string_view input(reinterpret_cast<const char *>(data), size);
  for (auto check : {check_rrsig, check_dnskey_and_ds, check_nsec, check_nsec3, check_base32hex}) {
    std::string broken = check(input, accepted);
    if (!broken.empty()) return broken;
  }
  bool bitmap_valid = false;
  std::string broken = check_bitmap(input, &bitmap_valid);
  if (!broken.empty()) return broken;
  if (accepted && bitmap_valid) accepted->bitmap = true;
  return check_canonical_rdata(input);
}

}  // namespace rsv::fuzz

#ifndef RSV_FUZZ_PROPERTY_ONLY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string broken = rsv::fuzz::check_dnssec_records(data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "DNSSEC record parser property violated: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
#endif
