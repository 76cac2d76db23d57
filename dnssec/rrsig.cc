#include "dnssec/rrsig.h"

#include <algorithm>
#include <ctime>

#include "dnssec/crypto.h"
#include "dnssec/verification_cache.h"

namespace rsv {
namespace {

uint16_t read16(std::string_view data, size_t offset) {
  return static_cast<uint16_t>((static_cast<uint8_t>(data[offset]) << 8) |
                               static_cast<uint8_t>(data[offset + 1]));
}

uint32_t read32(std::string_view data, size_t offset) {
  return (static_cast<uint32_t>(read16(data, offset)) << 16) | read16(data, offset + 2);
}

void append16(std::string &out, uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xff));
}

void append32(std::string &out, uint32_t value) {
  append16(out, static_cast<uint16_t>(value >> 16));
  append16(out, static_cast<uint16_t>(value & 0xffff));
}

// Length of the uncompressed name at `offset` in `data`, 0 when there is none.
size_t name_length_at(std::string_view data, size_t offset) {
  return wire_name_length(reinterpret_cast<const uint8_t *>(data.data()), data.size(), offset);
}

// Lower-cases the name at `offset` of `rdata` in place; returns the offset after it,
// or npos when no valid name is there. Length octets (<= 63) are never in 'A'..'Z'.
size_t lower_name_at(std::string &rdata, size_t offset) {
  if (offset >= rdata.size()) return std::string::npos;
  size_t length = name_length_at(rdata, offset);
  if (length == 0) return std::string::npos;
  for (size_t i = offset; i < offset + length; ++i) rdata[i] = dns_tolower(rdata[i]);
  return offset + length;
}

// Skips one <character-string> (RFC 1035 3.3); npos when it runs past the end.
size_t skip_character_string(std::string_view rdata, size_t offset) {
  if (offset >= rdata.size()) return std::string::npos;
  size_t end = offset + 1 + static_cast<uint8_t>(rdata[offset]);
  return end <= rdata.size() ? end : std::string::npos;
}

// Where a type's RDATA holds domain names: `names` names, the first at `offset`
// octets, each following the previous one.
struct NameLayout {
  size_t offset;
  int names;
};

// RFC 4034 6.2 item 3, as corrected by RFC 6840 5.1 (not NSEC, not HINFO).
std::optional<NameLayout> names_in_rdata(uint16_t type, std::string_view rdata) {
  switch (type) {
    case 2:
    case 3:
    case 4:
    case 5:
    case 7:
    case 8:
    case 9:
    case 12:
    case 30:
    case 39: return NameLayout{0, 1};  // NS MD MF CNAME MB MG MR PTR NXT DNAME
    case 6:
    case 14:
    case 17: return NameLayout{0, 2};  // SOA MINFO RP
    case 15:
    case 18:
    case 21:
    case 36: return NameLayout{2, 1};  // MX AFSDB RT KX: preference first
    case 26: return NameLayout{2, 2};  // PX
    case 33: return NameLayout{6, 1};  // SRV: priority, weight, port
    case 24:
    case 46: return NameLayout{18, 1};  // SIG RRSIG: signer name after the fixed fields
    case 35: {                          // NAPTR: order, preference, flags, services, regexp
      size_t offset = 4;
      for (int i = 0; i < 3 && offset != std::string::npos; ++i)
        offset = skip_character_string(rdata, offset);
      if (offset == std::string::npos) return std::nullopt;
      return NameLayout{offset, 1};
    }
    case 38: {  // A6 (RFC 2874 3.1): prefix length, address suffix, prefix name if any
      if (rdata.empty()) return std::nullopt;
      uint8_t prefix_length = static_cast<uint8_t>(rdata[0]);
      if (prefix_length == 0 || prefix_length > 128) return std::nullopt;
      return NameLayout{1 + static_cast<size_t>(128 - prefix_length + 7) / 8, 1};
    }
    default: return std::nullopt;
  }
}

std::string key_id(uint16_t tag, uint8_t algorithm) {
  return std::to_string(tag) + "/" + std::to_string(algorithm);
}

// ---- verify_rrset ----------------------------------------------------------------

struct ZoneKey {
  DnskeyFields fields;
  std::string rdata;
};

std::vector<ZoneKey> parse_keys(const std::vector<ResourceRecord> &records, const Name &zone) {
  std::vector<ZoneKey> keys;
  for (const ResourceRecord &record : records) {
    if (record.type != rrtype::DNSKEY || record.owner != zone) continue;
    if (auto fields = parse_dnskey(record.rdata)) keys.push_back({std::move(*fields), record.rdata});
  }
  return keys;
}

// How far an RRSIG got through the checks; the failure that got furthest is the
// most precise explanation, so it is the one reported.
enum class Stage {
  none = 0,
  wrong_signer,
  unsupported_algorithm,
  bad_labels,
  outside_period,
  no_matching_key,
  unusable_key,
  signature_mismatch,
};

class FailureTracker {
public:
  void note(Stage stage, uint16_t ede, std::string reason) {
    if (stage <= stage_) return;
    stage_ = stage;
    outcome_ = ValidationOutcome::bogus(ede, std::move(reason));
  }
  Stage stage() const { return stage_; }
  ValidationOutcome take() { return std::move(outcome_); }

private:
  Stage stage_ = Stage::none;
  ValidationOutcome outcome_;
};

class RrsetVerifier {
public:
  RrsetVerifier(const RRset &rrset, const Name &zone, int64_t now, ValidationBudget &budget,
                const std::vector<ZoneKey> &keys)
      : rrset_(rrset),
        zone_(zone),
        now_(now),
        budget_(budget),
        keys_(keys),
        subject_(rrset.owner.to_text() + " " + type_to_text(rrset.type)) {}

  ValidationOutcome run(const std::vector<ResourceRecord> &rrsigs, uint32_t *validated_ttl,
                        std::optional<Name> *wildcard_source) {
    if (rrset_.empty()) return ValidationOutcome::bogus(ede::DNSSEC_BOGUS, subject_ + ": empty RRset");
    // RFC 4035 5.3.1: the signer is the zone containing the RRset.
    if (!rrset_.owner.is_subdomain_of(zone_))
      return ValidationOutcome::bogus(ede::DNSSEC_BOGUS, subject_ + ": not within zone " + zone_.to_text());
    std::vector<std::pair<RrsigFields, const ResourceRecord *>> covering;
    for (const ResourceRecord &record : rrsigs) {
      if (record.type != rrtype::RRSIG || record.owner != rrset_.owner || record.rclass != rrset_.rclass)
        continue;
      auto fields = parse_rrsig(record);
      if (fields && fields->type_covered == rrset_.type) covering.emplace_back(std::move(*fields), &record);
    }
    if (covering.empty())
      return ValidationOutcome::bogus(ede::RRSIGS_MISSING,
                                      subject_ + ": no RRSIG (zone " + zone_.to_text() + ")");

    const uint32_t max_rrsigs = budget_.limits().max_rrsigs_per_rrset;
    uint32_t tried = 0;
    bool rrsig_limit_hit = false;
    for (const auto &[sig, record] : covering) {
      if (!passes_header_checks(sig)) continue;
      if (!algorithm_supported(sig.algorithm)) {
        // RFC 4035 5.2 / RFC 6840 5.2 make a zone insecure only when its DS RRset
        // names no supported algorithm. In a zone whose keys were validated, an
        // RRSIG we cannot check is no signature at all: a forger could write any
        // algorithm number.
        failures_.note(Stage::unsupported_algorithm, ede::RRSIGS_MISSING,
                       describe(sig) + " uses unsupported algorithm " + std::to_string(sig.algorithm) +
                           " and no other RRSIG of the zone verifies");
        continue;
      }
      if (tried == max_rrsigs) {
        rrsig_limit_hit = true;
        break;
      }
      ++tried;
      switch (try_signature(sig, *record)) {
        case Attempt::verified:
          report_success(sig, validated_ttl, wildcard_source);
          return ValidationOutcome::secure();
        case Attempt::budget_refused:
          return ValidationOutcome::bogus(
              ede::DNSSEC_BOGUS,
              "validation budget exhausted: " + budget_.describe() + " before checking " + describe(sig));
        case Attempt::failed: break;
      }
    }
    ValidationOutcome outcome = failures_.take();
    if (rrsig_limit_hit)
      outcome.reason += "; stopped after " + std::to_string(max_rrsigs) + " RRSIGs (max-rrsigs-per-rrset)";
    return outcome;
  }

private:
  enum class Attempt { verified, failed, budget_refused };

  std::string describe(const RrsigFields &sig) const {
    return subject_ + ": RRSIG " + key_id(sig.key_tag, sig.algorithm) + " by " + sig.signer.to_text();
  }

  // RFC 4035 5.3.1: signer name and labels field.
  bool passes_header_checks(const RrsigFields &sig) {
    if (sig.signer != zone_) {
      failures_.note(Stage::wrong_signer, ede::RRSIGS_MISSING,
                     describe(sig) + " is not by the zone that holds the name, " + zone_.to_text());
      return false;
    }
    if (sig.labels > rrset_.owner.label_count()) {
      failures_.note(Stage::bad_labels, ede::DNSSEC_BOGUS,
                     describe(sig) + " has labels " + std::to_string(sig.labels) + " > the owner's " +
                         std::to_string(rrset_.owner.label_count()));
      return false;
    }
    return true;
  }

  Attempt try_signature(const RrsigFields &sig, const ResourceRecord &record) {
    // RFC 4034 3.1.5 / RFC 4035 5.3.1: the validity period.
    switch (check_signature_time(sig, now_)) {
      case SignatureTime::expired:
        failures_.note(Stage::outside_period, ede::SIGNATURE_EXPIRED,
                       describe(sig) + " expired at " + signature_time_text(sig.expiration, now_));
        return Attempt::failed;
      case SignatureTime::not_yet_valid:
        failures_.note(Stage::outside_period, ede::SIGNATURE_NOT_YET_VALID,
                       describe(sig) + " not valid before " + signature_time_text(sig.inception, now_));
        return Attempt::failed;
      case SignatureTime::valid: break;
    }
    std::optional<std::string> signed_data;  // built once a key worth trying is found
    const uint32_t max_keys = budget_.limits().max_keys_per_tag;
    uint32_t keys_tried = 0;
    bool key_found = false;
    bool key_limit_hit = false;
    for (const ZoneKey &key : keys_) {
      // RFC 4035 5.3.1: algorithm and key tag match the DNSKEY.
      if (key.fields.key_tag != sig.key_tag || key.fields.algorithm != sig.algorithm) continue;
      key_found = true;
      if (!usable_zone_key(sig, key.fields)) continue;
      if (keys_tried == max_keys) {
        key_limit_hit = true;
        break;
      }
      ++keys_tried;
      if (!signed_data) {
        auto without_signature = rrsig_rdata_without_signature(record.rdata);
        if (!without_signature) return Attempt::failed;
        signed_data = canonical_signed_data(sig, *without_signature, rrset_);
      }
      // The same signature over the same data with the same key verified before (a
      // wildcard's RRSIG for another name it expands to): no public-key operation, so
      // nothing taken from the budget (dnssec/verification_cache.h).
      VerifiedSignatures &verified = VerifiedSignatures::of_this_thread();
      const auto digest = VerifiedSignatures::digest(sig.algorithm, key.fields.public_key, *signed_data, sig.signature);
      if (verified.contains(digest)) return Attempt::verified;
      if (!budget_.take_verification()) return Attempt::budget_refused;
      if (verify_signature(sig.algorithm, key.fields.public_key, *signed_data, sig.signature)) {
        verified.insert(digest);
        return Attempt::verified;
      }
    }
    if (!key_found) {
      // EDE 9 (DNSKEY Missing) is about a DS without its key (RFC 8914 4.10); a
      // signature by a key the zone does not publish is simply bogus.
      failures_.note(Stage::no_matching_key, ede::DNSSEC_BOGUS,
                     describe(sig) + ": no DNSKEY " + key_id(sig.key_tag, sig.algorithm) + " in the zone's key set");
    } else if (keys_tried > 0 || key_limit_hit) {
      std::string why = describe(sig) + " does not verify";
      if (key_limit_hit)
        why += " (tried " + std::to_string(max_keys) + " DNSKEYs with this tag, max-keys-per-tag)";
      failures_.note(Stage::signature_mismatch, ede::DNSSEC_BOGUS, std::move(why));
    }
    return Attempt::failed;
  }

  // RFC 4034 2.1.1, 2.1.2 and RFC 5011 2.1: a zone key, protocol 3, not revoked.
  bool usable_zone_key(const RrsigFields &sig, const DnskeyFields &key) {
    // The text is built only for a key that is refused: this runs for every key tried.
    auto which = [&] { return describe(sig) + ": DNSKEY " + key_id(key.key_tag, key.algorithm); };
    if (!(key.flags & dnskey_flag::ZONE)) {
      failures_.note(Stage::unusable_key, ede::NO_ZONE_KEY_BIT, which() + " has no zone key bit");
      return false;
    }
    if (key.protocol != kDnskeyProtocol) {
      failures_.note(Stage::unusable_key, ede::DNSSEC_BOGUS,
                     which() + " has protocol " + std::to_string(key.protocol));
      return false;
    }
    if (key.flags & dnskey_flag::REVOKE) {
      failures_.note(Stage::unusable_key, ede::DNSSEC_BOGUS, which() + " is revoked");
      return false;
    }
    return true;
  }

  void report_success(const RrsigFields &sig, uint32_t *validated_ttl,
                      std::optional<Name> *wildcard_source) const {
    if (validated_ttl) {
      // RFC 4035 5.3.3: never cache past the original TTL or the signature's expiry.
      const uint32_t until_expiry = sig.expiration - static_cast<uint32_t>(now_);  // serial arithmetic
      *validated_ttl = std::min({rrset_.ttl, sig.original_ttl, until_expiry});
    }
    if (wildcard_source) {
      // RFC 4035 5.3.4: fewer labels than the owner means a wildcard expansion; an
      // owner that is itself "*.<labels>" is the wildcard record, not an expansion.
      const size_t owner_labels = rrset_.owner.label_count();
      const bool literal_wildcard =
          owner_labels == static_cast<size_t>(sig.labels) + 1u && rrset_.owner.first_label() == "*";
      if (sig.labels < owner_labels && !literal_wildcard)
        *wildcard_source = rrset_.owner.suffix(sig.labels);
      else
        *wildcard_source = std::nullopt;
    }
  }

  const RRset &rrset_;
  const Name &zone_;
  const int64_t now_;
  ValidationBudget &budget_;
  const std::vector<ZoneKey> &keys_;
  const std::string subject_;
  FailureTracker failures_;
};

// RRSIGs over the DNSKEY set that name `key` (tag and algorithm).
std::vector<ResourceRecord> rrsigs_by_key(const std::vector<ResourceRecord> &rrsigs,
                                          const DnskeyFields &key) {
  std::vector<ResourceRecord> selected;
  for (const ResourceRecord &record : rrsigs) {
    auto sig = parse_rrsig(record);
    if (sig && sig->key_tag == key.key_tag && sig->algorithm == key.algorithm) selected.push_back(record);
  }
  return selected;
}

// Verifies the DNSKEY set with the single trusted `key`, using only its signatures.
ValidationOutcome verify_dnskey_set_with_key(const RRset &dnskey_set,
                                             const std::vector<ResourceRecord> &rrsigs, const ZoneKey &key,
                                             const Name &zone, int64_t now, ValidationBudget &budget,
                                             uint32_t *validated_ttl) {
  std::vector<ResourceRecord> signatures = rrsigs_by_key(rrsigs, key.fields);
  const std::string subject = zone.to_text() + " DNSKEY";
  if (signatures.empty())
    return ValidationOutcome::bogus(
        ede::RRSIGS_MISSING,
        subject + ": no RRSIG by the trusted key " + key_id(key.fields.key_tag, key.fields.algorithm));
  std::vector<ZoneKey> keys = {key};
  return RrsetVerifier(dnskey_set, zone, now, budget, keys).run(signatures, validated_ttl, nullptr);
}

std::string ds_id(const DsFields &ds) {
  return key_id(ds.key_tag, ds.algorithm) + "/" + std::to_string(ds.digest_type);
}

}  // namespace

// ---- parsing ----------------------------------------------------------------------

std::optional<RrsigFields> parse_rrsig(const ResourceRecord &rrsig) {
  if (rrsig.type != rrtype::RRSIG) return std::nullopt;
  std::string_view rdata = rrsig.rdata;
  // RFC 4034 3.1: 18 octets of fixed fields, the signer's name, the signature.
  if (rdata.size() < 18 + 1 + 1) return std::nullopt;
  const size_t signer_length = name_length_at(rdata, 18);
  if (signer_length == 0 || 18 + signer_length >= rdata.size()) return std::nullopt;
  auto signer = Name::from_wire(rdata.substr(18, signer_length));
  if (!signer) return std::nullopt;
  RrsigFields fields;
  fields.type_covered = read16(rdata, 0);
  fields.algorithm = static_cast<uint8_t>(rdata[2]);
  fields.labels = static_cast<uint8_t>(rdata[3]);
  fields.original_ttl = read32(rdata, 4);
  fields.expiration = read32(rdata, 8);
  fields.inception = read32(rdata, 12);
  fields.key_tag = read16(rdata, 16);
  fields.signer = std::move(*signer);
  fields.signature = std::string(rdata.substr(18 + signer_length));
  return fields;
}

std::optional<std::string> rrsig_rdata_without_signature(std::string_view rrsig_rdata) {
  if (rrsig_rdata.size() < 18 + 1) return std::nullopt;
  const size_t signer_length = name_length_at(rrsig_rdata, 18);
  if (signer_length == 0) return std::nullopt;
  return std::string(rrsig_rdata.substr(0, 18 + signer_length));
}

std::optional<DnskeyFields> parse_dnskey(std::string_view rdata) {
  // RFC 4034 2.1: flags (2), protocol (1), algorithm (1), public key (non-empty).
  if (rdata.size() < 5) return std::nullopt;
  DnskeyFields fields;
  fields.flags = read16(rdata, 0);
  fields.protocol = static_cast<uint8_t>(rdata[2]);
  fields.algorithm = static_cast<uint8_t>(rdata[3]);
  fields.public_key = std::string(rdata.substr(4));
  fields.key_tag = key_tag(rdata);
  return fields;
}

uint16_t key_tag(std::string_view rdata) {
  // RFC 4034 B.1: for RSA/MD5 the tag is the 16 bits before the key's last octet.
  if (rdata.size() >= 4 && static_cast<uint8_t>(rdata[3]) == dnssec_algorithm::RSAMD5) {
    if (rdata.size() < 7) return 0;
    return read16(rdata, rdata.size() - 3);
  }
  // RFC 4034 B: the RDATA summed as 16-bit big-endian words, carries folded once.
  uint32_t sum = 0;
  for (size_t i = 0; i < rdata.size(); ++i)
    sum +=
        (i & 1) ? static_cast<uint8_t>(rdata[i]) : static_cast<uint32_t>(static_cast<uint8_t>(rdata[i])) << 8;
  sum += (sum >> 16) & 0xffff;
  return static_cast<uint16_t>(sum & 0xffff);
}

std::optional<DsFields> parse_ds(std::string_view rdata) {
  // RFC 4034 5.1: key tag (2), algorithm (1), digest type (1), digest (non-empty).
  if (rdata.size() < 5) return std::nullopt;
  return DsFields{read16(rdata, 0), static_cast<uint8_t>(rdata[2]), static_cast<uint8_t>(rdata[3]),
                  std::string(rdata.substr(4))};
}

// ---- time ------------------------------------------------------------------------

SignatureTime check_signature_time(const RrsigFields &sig, int64_t now) {
  // RFC 4034 3.1.5 and RFC 1982 3.2: compare as 32-bit serial numbers, i.e. by the
  // sign of the 32-bit difference, so the check keeps working after 2106.
  const uint32_t now32 = static_cast<uint32_t>(now);
  if (static_cast<int32_t>(now32 - sig.inception) < 0) return SignatureTime::not_yet_valid;
  if (static_cast<int32_t>(sig.expiration - now32) < 0) return SignatureTime::expired;
  return SignatureTime::valid;
}

std::string signature_time_text(uint32_t time, int64_t now) {
  const int64_t absolute = now + static_cast<int32_t>(time - static_cast<uint32_t>(now));
  const time_t as_time_t = static_cast<time_t>(absolute);
  std::tm utc{};
  if (!gmtime_r(&as_time_t, &utc)) return std::to_string(time);
  char text[32];
  if (std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &utc) == 0) return std::to_string(time);
  return text;
}

// ---- canonical form ----------------------------------------------------------------

std::string canonical_rdata(uint16_t type, std::string_view rdata) {
  std::string canonical(rdata);
  auto layout = names_in_rdata(type, rdata);
  if (!layout) return canonical;
  size_t offset = layout->offset;
  for (int i = 0; i < layout->names && offset != std::string::npos; ++i) {
    size_t next = lower_name_at(canonical, offset);
    if (next == std::string::npos)
      return std::string(rdata);  // malformed: leave it for the signature to fail
    offset = next;
  }
  return canonical;
}

std::string canonical_signed_data(const RrsigFields &sig, std::string_view rrsig_rdata_without_signature,
                                  const RRset &rrset) {
  // RFC 4034 3.1.8.1: RRSIG_RDATA (signer's name in canonical form) | RR(1) | RR(2)...
  std::string data = canonical_rdata(rrtype::RRSIG, rrsig_rdata_without_signature);

  // RFC 4035 5.3.2: a signature with fewer labels than the owner was made over the
  // wildcard "*." + the owner's rightmost `labels` labels.
  Name owner = rrset.owner;
  if (sig.labels < owner.label_count()) {
    if (auto wildcard = owner.suffix(sig.labels).prepend("*")) owner = std::move(*wildcard);
  }
  const std::string owner_wire = owner.lowered().wire();

  // RFC 4034 6.3: records sorted by canonical RDATA as left-justified octet strings
  // (std::string compares octets as unsigned char), duplicates removed (6.2 / RFC 2181 5).
  std::vector<std::string> rdatas;
  rdatas.reserve(rrset.rdatas.size());
  for (const std::string &rdata : rrset.rdatas) rdatas.push_back(canonical_rdata(rrset.type, rdata));
  std::sort(rdatas.begin(), rdatas.end());
  rdatas.erase(std::unique(rdatas.begin(), rdatas.end()), rdatas.end());

  for (const std::string &rdata : rdatas) {
    if (rdata.size() > 0xffff) continue;
    data += owner_wire;
    append16(data, rrset.type);
    append16(data, rrset.rclass);
    append32(data, sig.original_ttl);  // RFC 4034 6.2 item 5 / RFC 4035 5.3.2
    append16(data, static_cast<uint16_t>(rdata.size()));
    data += rdata;
  }
  return data;
}

// ---- public checks ------------------------------------------------------------------

ValidationOutcome verify_rrset(const RRset &rrset, const std::vector<ResourceRecord> &rrsigs,
                               const std::vector<ResourceRecord> &dnskeys, const Name &zone, int64_t now,
                               ValidationBudget &budget, uint32_t *validated_ttl,
                               std::optional<Name> *wildcard_source) {
  const std::vector<ZoneKey> keys = parse_keys(dnskeys, zone);
  return RrsetVerifier(rrset, zone, now, budget, keys).run(rrsigs, validated_ttl, wildcard_source);
}

ValidationOutcome verify_dnskey_with_ds(const RRset &dnskey_set,
                                        const std::vector<ResourceRecord> &dnskey_rrsigs,
                                        const std::vector<ResourceRecord> &ds_records, const Name &zone,
                                        int64_t now, ValidationBudget &budget, uint32_t *validated_ttl) {
  const std::string subject = zone.to_text() + " DNSKEY";
  if (dnskey_set.type != rrtype::DNSKEY || dnskey_set.owner != zone)
    return ValidationOutcome::bogus(ede::DNSSEC_BOGUS, subject + ": not the zone's DNSKEY RRset");

  // The first max_ds_per_zone DS records; those we cannot use are skipped.
  std::vector<DsFields> usable;
  size_t considered = 0;
  bool unsupported_algorithm = false;
  bool ds_limit_hit = false;
  for (const ResourceRecord &record : ds_records) {
    if (record.type != rrtype::DS || record.owner != zone) continue;
    if (considered == budget.limits().max_ds_per_zone) {
      ds_limit_hit = true;
      break;
    }
    ++considered;
    auto ds = parse_ds(record.rdata);
    if (!ds) continue;
    if (!algorithm_supported(ds->algorithm)) {
      unsupported_algorithm = true;
      continue;
    }
    if (!digest_supported(ds->digest_type)) continue;
    usable.push_back(std::move(*ds));
  }
  // Unchecked DS records might be the supported ones: the limit never makes a zone
  // insecure (that needs every DS to be unusable, RFC 6840 5.2).
  if (usable.empty() && ds_limit_hit)
    return ValidationOutcome::bogus(ede::DNSSEC_BOGUS, subject + ": no usable DS among the first " +
                                                           std::to_string(considered) + " (max-ds-per-zone)");
  if (considered == 0)
    return ValidationOutcome::bogus(ede::DNSSEC_BOGUS, subject + ": no DS record to check");
  // RFC 6840 5.2 / RFC 4035 5.2: a DS RRset with no usable record means the zone
  // is treated as unsigned.
  if (usable.empty())
    return unsupported_algorithm
               ? ValidationOutcome::insecure(ede::UNSUPPORTED_DNSKEY_ALGORITHM,
                                             subject + ": every DS names an unsupported algorithm")
               : ValidationOutcome::insecure(ede::UNSUPPORTED_DS_DIGEST,
                                             subject + ": every DS uses an unsupported digest type");
  // RFC 4509 3: ignore SHA-1 DS records when a stronger digest is present (applied
  // to SHA-384 too, which protects against the same downgrade).
  const bool stronger_digest_present = std::any_of(usable.begin(), usable.end(), [](const DsFields &ds) {
    return ds.digest_type == ds_digest_type::SHA256 || ds.digest_type == ds_digest_type::SHA384;
  });
  if (stronger_digest_present)
    std::erase_if(usable, [](const DsFields &ds) { return ds.digest_type == ds_digest_type::SHA1; });

  const std::vector<ZoneKey> keys = parse_keys(dnskey_set.records(), zone);
  const std::string owner_wire = zone.lowered().wire();
  std::optional<ValidationOutcome> signature_failure;
  std::optional<ValidationOutcome> key_failure;
  std::string unmatched;
  bool key_limit_hit = false;
  for (const DsFields &ds : usable) {
    bool matched = false;
    uint32_t digests_computed = 0;
    for (const ZoneKey &key : keys) {
      if (key.fields.key_tag != ds.key_tag || key.fields.algorithm != ds.algorithm) continue;
      if (digests_computed++ == budget.limits().max_keys_per_tag) {
        key_limit_hit = true;
        break;
      }
      // RFC 4034 5.1.4: digest = hash(owner | DNSKEY RDATA).
      if (ds_digest(ds.digest_type, owner_wire, key.rdata) != ds.digest) continue;
      matched = true;
      // RFC 4035 5.2: the DS must point at a zone key (and RFC 5011 2.1: not revoked).
      if (!(key.fields.flags & dnskey_flag::ZONE) || key.fields.protocol != kDnskeyProtocol ||
          (key.fields.flags & dnskey_flag::REVOKE)) {
        if (!key_failure)
          key_failure = ValidationOutcome::bogus(
              (key.fields.flags & dnskey_flag::ZONE) ? ede::DNSSEC_BOGUS : ede::NO_ZONE_KEY_BIT,
              subject + ": DS " + ds_id(ds) + " matches a DNSKEY that is not a usable zone key (flags " +
                  std::to_string(key.fields.flags) + ", protocol " + std::to_string(key.fields.protocol) +
                  ")");
        continue;
      }
      ValidationOutcome outcome =
          verify_dnskey_set_with_key(dnskey_set, dnskey_rrsigs, key, zone, now, budget, validated_ttl);
      if (outcome.is_secure() || budget.exhausted()) return outcome;
      if (!signature_failure) signature_failure = std::move(outcome);
    }
    if (!matched) unmatched += (unmatched.empty() ? "DS " : ", DS ") + ds_id(ds);
  }
  if (signature_failure) return std::move(*signature_failure);
  if (key_failure) return std::move(*key_failure);
  return ValidationOutcome::bogus(
      ede::DNSKEY_MISSING, subject + ": " + unmatched + " matches no DNSKEY" +
                               (key_limit_hit ? " (stopped at max-keys-per-tag keys with the tag)" : ""));
}

ValidationOutcome verify_dnskey_with_anchor_keys(const RRset &dnskey_set,
                                                 const std::vector<ResourceRecord> &dnskey_rrsigs,
                                                 const std::vector<ResourceRecord> &anchor_keys,
                                                 const Name &zone, int64_t now, ValidationBudget &budget,
                                                 uint32_t *validated_ttl) {
  const std::string subject = zone.to_text() + " DNSKEY";
  if (dnskey_set.type != rrtype::DNSKEY || dnskey_set.owner != zone)
    return ValidationOutcome::bogus(ede::DNSSEC_BOGUS, subject + ": not the zone's DNSKEY RRset");
  std::vector<ZoneKey> usable;
  bool unsupported_algorithm = false;
  for (ZoneKey &key : parse_keys(anchor_keys, zone)) {
    // RFC 4034 2.1.1 / 2.1.2, RFC 5011 2.1: only zone keys, never revoked ones.
    if (!(key.fields.flags & dnskey_flag::ZONE) || key.fields.protocol != kDnskeyProtocol ||
        (key.fields.flags & dnskey_flag::REVOKE))
      continue;
    if (!algorithm_supported(key.fields.algorithm)) {
      unsupported_algorithm = true;
      continue;
    }
    usable.push_back(std::move(key));
  }
  if (usable.empty()) {
    if (unsupported_algorithm)
      return ValidationOutcome::insecure(ede::UNSUPPORTED_DNSKEY_ALGORITHM,
                                         subject + ": every trust anchor key uses an unsupported algorithm");
    return ValidationOutcome::bogus(ede::DNSKEY_MISSING, subject + ": no usable trust anchor key");
  }
  std::optional<ValidationOutcome> first_failure;
  for (const ZoneKey &key : usable) {
    ValidationOutcome outcome =
        verify_dnskey_set_with_key(dnskey_set, dnskey_rrsigs, key, zone, now, budget, validated_ttl);
    if (outcome.is_secure() || budget.exhausted()) return outcome;
    if (!first_failure || first_failure->ede == ede::RRSIGS_MISSING) first_failure = std::move(outcome);
  }
  return std::move(*first_failure);
}

}  // namespace rsv
