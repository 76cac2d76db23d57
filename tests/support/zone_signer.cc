// Test-time DNSSEC signing on top of ldns: see zone_signer.h.
#include "tests/support/zone_signer.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "tests/unit/test_records.h"

namespace rsv::testing {
namespace {

using LdnsDnssecZoneShell =
    std::unique_ptr<ldns_dnssec_zone, LdnsDeleter<ldns_dnssec_zone, ldns_dnssec_zone_free>>;
// A list that owns only its array, not the records in it (ldns_rr_list_free).
using LdnsRrListShell = std::unique_ptr<ldns_rr_list, LdnsDeleter<ldns_rr_list, ldns_rr_list_free>>;

// ldns_key_list_free deep-frees the keys in the list; the keys here belong to
// SigningKey objects, so the list is emptied first. Not with ldns_key_list_pop_key:
// in ldns 1.8.3 it reads one past the end and, popping the last key, leaves the
// array it just freed (realloc to 0) in the list, which ldns_key_list_free frees
// again. Setting the count to 0 leaves only the array to free.
class BorrowedKeyList {
public:
  explicit BorrowedKeyList(const std::vector<const SigningKey *> &keys) : list_(ldns_key_list_new()) {
    if (!list_) throw std::runtime_error("out of memory");
    for (const SigningKey *key : keys)
      if (!ldns_key_list_push_key(list_, key->ldns())) throw std::runtime_error("out of memory");
  }
  ~BorrowedKeyList() {
    ldns_key_list_set_key_count(list_, 0);
    ldns_key_list_free(list_);
  }
  BorrowedKeyList(const BorrowedKeyList &) = delete;
  BorrowedKeyList &operator=(const BorrowedKeyList &) = delete;
  ldns_key_list *get() const { return list_; }

private:
  ldns_key_list *list_;
};

LdnsRdf name_rdf(const Name &name) {
  LdnsRdf rdf(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, name.wire().size(), name.wire().data()));
  if (!rdf) throw std::runtime_error("out of memory");
  return rdf;
}

Name name_from_rdf(const ldns_rdf *rdf) {
  auto name = Name::from_wire({reinterpret_cast<const char *>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf)});
  if (!name) throw std::runtime_error("ldns produced an invalid name");
  return *name;
}

void check(ldns_status status, const char *what) {
  if (status != LDNS_STATUS_OK)
    throw std::runtime_error(std::string(what) + ": " + ldns_get_errorstr_by_id(status));
}

// A deep list (it owns its records) holding copies of `records`.
LdnsRrList to_ldns_list(const std::vector<ResourceRecord> &records) {
  LdnsRrList list(ldns_rr_list_new());
  if (!list) throw std::runtime_error("out of memory");
  for (const auto &record : records) {
    LdnsRr rr = to_ldns_rr(record);
    if (!ldns_rr_list_push_rr(list.get(), rr.get())) throw std::runtime_error("out of memory");
    static_cast<void>(rr.release());  // the list owns it now
  }
  return list;
}

void set_window(const SigningKey &key, const SignatureWindow &window) {
  ldns_key_set_inception(key.ldns(), window.inception);
  ldns_key_set_expiration(key.ldns(), window.expiration);
}

bool covers_type(const ResourceRecord &rr, uint16_t type) {
  return rr.type == type || (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == type);
}

// Strictly between, in ldns's canonical order, on a chain that wraps: the last
// link (next <= owner) spans everything after its owner and before its next.
bool strictly_between(const Name &owner, const Name &name, const Name &next) {
  int owner_vs_next = ldns_canonical_compare(owner, next);
  bool after_owner = ldns_canonical_compare(owner, name) < 0;
  bool before_next = ldns_canonical_compare(name, next) < 0;
  if (owner_vs_next < 0) return after_owner && before_next;
  return after_owner || before_next;
}

// NSEC3 next hashed owner (RFC 5155 3.2: hash length octet, then the hash) as
// "<base32hex>.<zone>", converted by ldns.
Name nsec3_next_owner_name(const ResourceRecord &nsec3, const Name &zone) {
  LdnsRr rr = to_ldns_rr(nsec3);
  const ldns_rdf *next = ldns_nsec3_next_owner(rr.get());
  if (!next) throw std::runtime_error("NSEC3 without next hashed owner: " + nsec3.to_text());
  MallocString text(ldns_rdf2str(next));
  if (!text) throw std::runtime_error("out of memory");
  auto label = Name::from_text(std::string(text.get()) + "." + zone.to_text());
  if (!label) throw std::runtime_error("bad NSEC3 next hashed owner");
  return *label;
}

std::vector<ResourceRecord> with_sigs(const SignedZone &zone, const ResourceRecord &record) {
  std::vector<ResourceRecord> out{record};
  auto sigs = zone.rrsigs(record.owner, record.type);
  out.insert(out.end(), sigs.begin(), sigs.end());
  return out;
}

// Records a signer must not see: the DNSSEC records it makes itself.
bool made_by_signer(const ResourceRecord &rr) {
  return rr.type == rrtype::RRSIG || rr.type == rrtype::NSEC || rr.type == rrtype::NSEC3 ||
         rr.type == rrtype::NSEC3PARAM;
}

// Names of delegations without a DS: the unsigned delegations that NSEC3 Opt-Out
// may leave out of the chain (RFC 5155 6).
std::vector<Name> unsigned_delegations(const Name &origin, const std::vector<ResourceRecord> &records) {
  std::vector<Name> out;
  for (const auto &rr : records) {
    if (rr.type != rrtype::NS || rr.owner == origin) continue;
    bool has_ds = std::any_of(records.begin(), records.end(), [&](const ResourceRecord &other) {
      return other.type == rrtype::DS && other.owner == rr.owner;
    });
    bool listed = std::any_of(out.begin(), out.end(), [&](const Name &n) { return n == rr.owner; });
    if (!has_ds && !listed) out.push_back(rr.owner);
  }
  return out;
}

}  // namespace

SignatureWindow SignatureWindow::around(int64_t now) {
  return {static_cast<uint32_t>(now - kSecondsPerDay), static_cast<uint32_t>(now + 30 * kSecondsPerDay)};
}

SignatureWindow SignatureWindow::expired_before(int64_t now, int days_ago) {
  int64_t end = now - days_ago * kSecondsPerDay;
  return {static_cast<uint32_t>(end - kSecondsPerDay), static_cast<uint32_t>(end)};
}

SignatureWindow SignatureWindow::starting_after(int64_t now, int days_ahead) {
  int64_t start = now + days_ahead * kSecondsPerDay;
  return {static_cast<uint32_t>(start), static_cast<uint32_t>(start + 30 * kSecondsPerDay)};
}

SigningKey SigningKey::generate(const Name &owner, KeyRole role, uint8_t algorithm,
                                std::optional<uint16_t> flags, uint32_t dnskey_ttl) {
  // RSA sizes are in bits; 1024 keeps key generation in the milliseconds. The
  // elliptic-curve algorithms ignore the size.
  const bool rsa = algorithm == LDNS_SIGN_RSASHA1 || algorithm == LDNS_SIGN_RSASHA1_NSEC3 ||
                   algorithm == LDNS_SIGN_RSASHA256 || algorithm == LDNS_SIGN_RSASHA512;
  SigningKey key;
  key.key_.reset(
      ldns_key_new_frm_algorithm(static_cast<ldns_signing_algorithm>(algorithm), rsa ? 1024 : 256));
  if (!key.key_)
    throw std::runtime_error("ldns cannot generate a key of algorithm " + std::to_string(algorithm));
  key.owner_ = owner;
  key.algorithm_ = algorithm;
  key.flags_ = flags.value_or(static_cast<uint16_t>(role));
  ldns_key_set_flags(key.key_.get(), key.flags_);
  ldns_key_set_pubkey_owner(key.key_.get(), name_rdf(owner).release());  // ldns_key_deep_free frees it

  LdnsRr dnskey(ldns_key2rr(key.key_.get()));
  if (!dnskey) throw std::runtime_error("ldns_key2rr failed");
  ldns_rr_set_ttl(dnskey.get(), dnskey_ttl);
  ldns_rr_set_class(dnskey.get(), LDNS_RR_CLASS_IN);
  // RFC 4034 Appendix B, computed by ldns; ldns_create_empty_rrsig reads it from the key.
  key.key_tag_ = ldns_calc_keytag(dnskey.get());
  ldns_key_set_keytag(key.key_.get(), key.key_tag_);
  key.dnskey_ = from_ldns_rr(dnskey.get());
  return key;
}

ResourceRecord SigningKey::ds(uint8_t digest_type, uint32_t ttl) const {
  LdnsRr dnskey = to_ldns_rr(dnskey_);
  LdnsRr ds(ldns_key_rr2ds(dnskey.get(), static_cast<ldns_hash>(digest_type)));
  if (!ds) throw std::runtime_error("ldns_key_rr2ds failed for digest type " + std::to_string(digest_type));
  ldns_rr_set_ttl(ds.get(), ttl);
  return from_ldns_rr(ds.get());
}

SignedZone SignedZone::unsigned_zone(const Name &origin, std::vector<ResourceRecord> records) {
  SignedZone zone;
  zone.origin = origin;
  zone.records = std::move(records);
  zone.denial = Denial::none;
  return zone;
}

std::vector<ResourceRecord> SignedZone::rrset(const Name &owner, uint16_t type) const {
  std::vector<ResourceRecord> out;
  for (const auto &rr : records)
    if (rr.type == type && rr.owner == owner) out.push_back(rr);
  return out;
}

std::vector<ResourceRecord> SignedZone::rrsigs(const Name &owner, uint16_t type_covered) const {
  std::vector<ResourceRecord> out;
  for (const auto &rr : records)
    if (rr.type == rrtype::RRSIG && rr.owner == owner && rr.rrsig_type_covered() == type_covered)
      out.push_back(rr);
  return out;
}

std::vector<ResourceRecord> SignedZone::rrset_with_sigs(const Name &owner, uint16_t type) const {
  std::vector<ResourceRecord> out;
  for (const auto &rr : records)
    if (rr.owner == owner && covers_type(rr, type)) out.push_back(rr);
  // Data first, signatures after, whatever order the zone holds them in.
  std::stable_partition(out.begin(), out.end(),
                        [](const ResourceRecord &rr) { return rr.type != rrtype::RRSIG; });
  return out;
}

std::vector<ResourceRecord> SignedZone::nsec_matching(const Name &name) const {
  for (const auto &rr : records)
    if (rr.type == rrtype::NSEC && rr.owner == name) return with_sigs(*this, rr);
  return {};
}

std::vector<ResourceRecord> SignedZone::nsec_covering(const Name &name) const {
  for (const auto &rr : records) {
    if (rr.type != rrtype::NSEC) continue;
    LdnsRr nsec = to_ldns_rr(rr);
    const ldns_rdf *next = ldns_rr_rdf(nsec.get(), 0);  // RFC 4034 4.1.1: Next Domain Name
    if (!next) throw std::runtime_error("NSEC without next name: " + rr.to_text());
    if (strictly_between(rr.owner, name, name_from_rdf(next))) return with_sigs(*this, rr);
  }
  return {};
}

Name SignedZone::nsec3_hashed_owner(const Name &name) const {
  LdnsRdf rdf = name_rdf(name);
  LdnsRdf hashed(ldns_nsec3_hash_name(rdf.get(), LDNS_SHA1, nsec3.iterations,
                                      static_cast<uint8_t>(nsec3.salt.size()),
                                      reinterpret_cast<const uint8_t *>(nsec3.salt.data())));
  if (!hashed) throw std::runtime_error("ldns_nsec3_hash_name failed");
  LdnsRdf zone = name_rdf(origin);
  check(ldns_dname_cat(hashed.get(), zone.get()), "ldns_dname_cat");
  return name_from_rdf(hashed.get());
}

std::vector<ResourceRecord> SignedZone::nsec3_matching(const Name &name) const {
  const Name hashed = nsec3_hashed_owner(name);
  for (const auto &rr : records)
    if (rr.type == rrtype::NSEC3 && rr.owner == hashed) return with_sigs(*this, rr);
  return {};
}

std::vector<ResourceRecord> SignedZone::nsec3_covering(const Name &name) const {
  const Name hashed = nsec3_hashed_owner(name);
  for (const auto &rr : records)
    if (rr.type == rrtype::NSEC3 && strictly_between(rr.owner, hashed, nsec3_next_owner_name(rr, origin)))
      return with_sigs(*this, rr);
  return {};
}

bool SignedZone::name_exists(const Name &name) const {
  return std::any_of(records.begin(), records.end(), [&](const ResourceRecord &rr) {
    return !covers_type(rr, rrtype::NSEC3) && rr.owner.is_subdomain_of(name);
  });
}

SignedZone sign_zone(const Name &origin, const std::vector<ResourceRecord> &records,
                     const std::vector<const SigningKey *> &keys, const ZoneSigningOptions &options) {
  if (keys.empty()) throw std::runtime_error("sign_zone: no keys");
  // ldns silently drops a record equal to one it holds (ldns_dnssec_rrs_add_rr),
  // so duplicates are removed here, the first copy kept.
  std::vector<ResourceRecord> kept;
  std::set<std::tuple<std::string, uint16_t, uint16_t, std::string>> seen;
  auto take = [&](const ResourceRecord &rr) {
    if (!rr.owner.is_subdomain_of(origin))
      throw std::runtime_error("sign_zone: " + rr.to_text() + " is outside " + origin.to_text());
    if (made_by_signer(rr)) return;
    if (seen.emplace(rr.owner.lowered().wire(), rr.type, rr.rclass, rr.rdata).second) kept.push_back(rr);
  };
  for (const auto &rr : records) take(rr);
  if (options.publish_keys)
    for (const SigningKey *key : keys) take(key->dnskey());
  if (std::none_of(kept.begin(), kept.end(),
                   [&](const ResourceRecord &rr) { return rr.type == rrtype::SOA && rr.owner == origin; }))
    throw std::runtime_error("sign_zone: no SOA at " + origin.to_text());

  // RFC 5155 6: with Opt-Out, unsigned delegations (and the glue below them) need
  // no NSEC3 of their own, nor do the empty non-terminals that only they create.
  // Keeping them from ldns gives exactly that chain; they are served unsigned, as
  // a delegation's NS and glue always are.
  std::vector<ResourceRecord> opted_out;
  if (options.nsec3 && options.nsec3->opt_out) {
    auto cuts = unsigned_delegations(origin, kept);
    auto below_cut = [&](const ResourceRecord &rr) {
      return std::any_of(cuts.begin(), cuts.end(),
                         [&](const Name &cut) { return rr.owner.is_subdomain_of(cut); });
    };
    std::copy_if(kept.begin(), kept.end(), std::back_inserter(opted_out), below_cut);
    std::erase_if(kept, below_cut);
  }

  // Ownership: `inputs` owns the records handed to ldns, `made` (deep) the NSEC,
  // NSEC3, NSEC3PARAM and RRSIG records ldns creates and lists there, and `zone`
  // only the tree of names that points at both. `zone` is declared last so that it
  // goes first.
  std::vector<LdnsRr> inputs;
  inputs.reserve(kept.size());
  for (const auto &rr : kept) inputs.push_back(to_ldns_rr(rr));
  LdnsRrList made(ldns_rr_list_new());
  LdnsDnssecZoneShell zone(ldns_dnssec_zone_new());
  if (!made || !zone) throw std::runtime_error("out of memory");
  for (const auto &rr : inputs)
    check(ldns_dnssec_zone_add_rr(zone.get(), rr.get()), "ldns_dnssec_zone_add_rr");

  for (const SigningKey *key : keys) set_window(*key, options.window);
  BorrowedKeyList key_list(keys);
  SignedZone out;
  out.origin = origin;
  if (options.nsec3) {
    const Nsec3Params &p = *options.nsec3;
    if (p.salt.size() > 255) throw std::runtime_error("sign_zone: NSEC3 salt longer than 255 octets");
    std::string salt = p.salt;  // ldns wants a mutable pointer
    check(ldns_dnssec_zone_sign_nsec3_flg(
              zone.get(), made.get(), key_list.get(), ldns_dnssec_default_replace_signatures, nullptr,
              LDNS_SHA1, p.opt_out ? LDNS_NSEC3_VARS_OPTOUT_MASK : 0, p.iterations,
              static_cast<uint8_t>(salt.size()), reinterpret_cast<uint8_t *>(salt.data()), 0),
          "ldns_dnssec_zone_sign_nsec3_flg");
    out.denial = Denial::nsec3;
    out.nsec3 = p;
  } else {
    check(ldns_dnssec_zone_sign_flg(zone.get(), made.get(), key_list.get(),
                                    ldns_dnssec_default_replace_signatures, nullptr, 0),
          "ldns_dnssec_zone_sign_flg");
    out.denial = Denial::nsec;
  }

  out.records = std::move(kept);
  for (size_t i = 0; i < ldns_rr_list_rr_count(made.get()); ++i)
    out.records.push_back(from_ldns_rr(ldns_rr_list_rr(made.get(), i)));
  out.records.insert(out.records.end(), opted_out.begin(), opted_out.end());
  return out;
}

SignedZone sign_zone_text(const std::string &text, const Name &origin,
                          const std::vector<const SigningKey *> &keys, const ZoneSigningOptions &options) {
  return sign_zone(origin, testing::records(text, origin.to_text()), keys, options);
}

ResourceRecord sign_rrset(const std::vector<ResourceRecord> &rrset, const SigningKey &key,
                          const SignatureSpec &spec) {
  if (rrset.empty()) throw std::runtime_error("sign_rrset: empty RRset");
  set_window(key, spec.window);
  LdnsRrList records = to_ldns_list(rrset);

  // ldns fills in type covered, algorithm, labels, TTL, window, tag and signer
  // from the RRset and the key; the spec then overrides what a forgery needs.
  LdnsRr sig(ldns_create_empty_rrsig(records.get(), key.ldns()));
  if (!sig) throw std::runtime_error("ldns_create_empty_rrsig failed");
  // The setters free the field they replace and take `value`, unless they fail.
  auto replace = [&](bool (*setter)(ldns_rr *, ldns_rdf *), ldns_rdf *value) {
    LdnsRdf owned(value);
    if (!owned || !setter(sig.get(), owned.get())) throw std::runtime_error("cannot set an RRSIG field");
    static_cast<void>(owned.release());  // the RRSIG owns it now
  };
  if (spec.signer) {
    LdnsRdf signer = name_rdf(spec.signer->lowered());
    replace(ldns_rr_rrsig_set_signame, signer.release());
  }
  if (spec.labels) replace(ldns_rr_rrsig_set_labels, ldns_native2rdf_int8(LDNS_RDF_TYPE_INT8, *spec.labels));
  if (spec.original_ttl)
    replace(ldns_rr_rrsig_set_origttl, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, *spec.original_ttl));
  if (spec.key_tag)
    replace(ldns_rr_rrsig_set_keytag, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, *spec.key_tag));
  const uint8_t labels = ldns_rdf2native_int8(ldns_rr_rrsig_labels(sig.get()));
  const uint32_t original_ttl = ldns_rdf2native_int32(ldns_rr_rrsig_origttl(sig.get()));

  // RFC 4034 3.1.8.1 and 6.2: each record with the original TTL, in canonical form;
  // RFC 4035 5.3.2: a signature with fewer labels than the owner covers the
  // wildcard it was expanded from.
  for (size_t i = 0; i < ldns_rr_list_rr_count(records.get()); ++i) {
    ldns_rr *rr = ldns_rr_list_rr(records.get(), i);
    ldns_rr_set_ttl(rr, original_ttl);
    ldns_rr2canonical(rr);
    const Name owner = name_from_rdf(ldns_rr_owner(rr));
    if (labels < owner.label_count()) {
      LdnsRdf wildcard = name_rdf(*owner.suffix(labels).prepend("*"));
      ldns_rdf *old_owner = ldns_rr_owner(rr);
      ldns_rr_set_owner(rr, wildcard.release());
      LdnsRdf free_old(old_owner);
    }
  }
  ldns_rr_list_sort(records.get());

  LdnsBuffer to_sign(ldns_buffer_new(LDNS_MAX_PACKETLEN));
  if (!to_sign) throw std::runtime_error("out of memory");
  check(ldns_rrsig2buffer_wire(to_sign.get(), sig.get()), "ldns_rrsig2buffer_wire");
  check(ldns_rr_list2buffer_wire(to_sign.get(), records.get()), "ldns_rr_list2buffer_wire");
  ldns_rdf *signature = ldns_sign_public_buffer(to_sign.get(), key.ldns());
  if (!signature) throw std::runtime_error("ldns_sign_public_buffer failed");
  replace(ldns_rr_rrsig_set_sig, signature);
  return from_ldns_rr(sig.get());
}

std::string ldns_verify(const std::vector<ResourceRecord> &rrset, const ResourceRecord &rrsig,
                        const std::vector<ResourceRecord> &dnskeys, int64_t now) {
  LdnsRrList records = to_ldns_list(rrset);
  LdnsRrList keys = to_ldns_list(dnskeys);
  LdnsRr sig = to_ldns_rr(rrsig);
  LdnsRrListShell good_keys(ldns_rr_list_new());  // points into `keys`
  ldns_status status = ldns_verify_rrsig_keylist_time(records.get(), sig.get(), keys.get(),
                                                      static_cast<time_t>(now), good_keys.get());
  return ldns_get_errorstr_by_id(status);
}

int ldns_canonical_compare(const Name &a, const Name &b) {
  LdnsRdf left = name_rdf(a), right = name_rdf(b);
  return ldns_dname_compare(left.get(), right.get());
}

}  // namespace rsv::testing
