#include "dnssec/nsec.h"

#include <algorithm>

namespace rsv {

bool nsec_bitmap_valid(std::string_view bitmap) {
  int previous_window = -1;
  size_t pos = 0;
  while (pos < bitmap.size()) {
    if (bitmap.size() - pos < 2) return false;
    int window = static_cast<uint8_t>(bitmap[pos]);
    size_t length = static_cast<uint8_t>(bitmap[pos + 1]);
    // RFC 4034 4.1.2: windows appear in increasing order, each at most once, and a
    // window's bitmap is 1 to 32 octets long.
    if (window <= previous_window || length < 1 || length > 32) return false;
    if (bitmap.size() - pos - 2 < length) return false;
    previous_window = window;
    pos += 2 + length;
  }
  return true;
}

bool nsec_bitmap_has(std::string_view bitmap, uint16_t type) {
  const int wanted_window = type >> 8;
  const size_t wanted_octet = (type & 0xff) / 8;
  const auto wanted_mask = static_cast<uint8_t>(0x80 >> (type & 0x07));
  int previous_window = -1;
  size_t pos = 0;
  while (pos + 2 <= bitmap.size()) {
    int window = static_cast<uint8_t>(bitmap[pos]);
    size_t length = static_cast<uint8_t>(bitmap[pos + 1]);
    if (window <= previous_window || length < 1 || length > 32 || bitmap.size() - pos - 2 < length)
      return false;
    if (window == wanted_window) {
      if (wanted_octet >= length) return false;
      return (static_cast<uint8_t>(bitmap[pos + 2 + wanted_octet]) & wanted_mask) != 0;
    }
    if (window > wanted_window) return false;  // windows are ordered; ours is absent
    previous_window = window;
    pos += 2 + length;
  }
  return false;
}

std::optional<NsecRdata> parse_nsec_rdata(std::string_view rdata) {
  size_t name_length =
      wire_name_length(reinterpret_cast<const uint8_t *>(rdata.data()), rdata.size(), 0);  // RFC 4034 4.1.1
  if (name_length == 0) return std::nullopt;
  auto next = Name::from_wire(rdata.substr(0, name_length));
  if (!next) return std::nullopt;
  std::string_view bitmap = rdata.substr(name_length);
  if (!nsec_bitmap_valid(bitmap)) return std::nullopt;
  return NsecRdata{*next, std::string(bitmap)};
}

namespace {

// owner < name < next, or, for the last NSEC of the zone (next <= owner, the next
// name being the apex, RFC 4034 4.1.1), every name after the owner.
bool gap_contains(const Name &owner, const Name &next, const Name &name) {
  if (canonical_less(owner, next)) return canonical_less(owner, name) && canonical_less(name, next);
  return canonical_less(owner, name) || canonical_less(name, next);
}

bool is_proper_subdomain(const Name &name, const Name &ancestor) {
  return name != ancestor && name.is_subdomain_of(ancestor);
}

// An NSEC that can take part in a proof for `zone`, its rdata parsed once.
struct UsableNsec {
  Name owner;
  NsecRdata rdata;

  bool has(uint16_t type) const { return nsec_bitmap_has(rdata.bitmap, type); }
  // RFC 6840 4.1: an NSEC at a delegation point (NS without SOA) or at a DNAME says
  // nothing about names below its owner: they belong to another zone or are
  // redirected. Such an NSEC cannot deny names under its owner.
  bool may_deny_names_below() const { return !has(rrtype::DNAME) && !(has(rrtype::NS) && !has(rrtype::SOA)); }
  // The gap holds `name` and the NSEC may speak for it.
  bool covers(const Name &name) const {
    if (!gap_contains(owner, rdata.next, name)) return false;
    return !is_proper_subdomain(name, owner) || may_deny_names_below();
  }
  // Covers `name`, and no name below `name` exists either (else `name` would be an
  // empty non-terminal, RFC 4035 3.1.3.2): the name does not exist at all.
  bool denies_existence_of(const Name &name) const {
    return covers(name) && !is_proper_subdomain(rdata.next, name);
  }
  // The deepest ancestor of `name` known to exist: the longer common ancestor of
  // `name` with the owner or the next name (RFC 4035 5.4).
  Name closest_encloser_of(const Name &name) const {
    size_t shared = std::max(name.common_labels(owner), name.common_labels(rdata.next));
    return name.suffix(shared);
  }
};

// RFC 4035 5.4 uses only NSECs of the zone being answered for: an NSEC whose owner
// or next name lies outside `zone` (for instance one from a parent zone) is ignored.
std::vector<UsableNsec> usable_nsecs(const std::vector<ResourceRecord> &records, const Name &zone) {
  std::vector<UsableNsec> usable;
  for (const auto &record : records) {
    if (record.type != rrtype::NSEC || !record.owner.is_subdomain_of(zone)) continue;
    auto rdata = parse_nsec_rdata(record.rdata);
    if (!rdata || !rdata->next.is_subdomain_of(zone)) continue;
    usable.push_back(UsableNsec{record.owner, std::move(*rdata)});
  }
  return usable;
}

ValidationOutcome not_proven(const std::string &what) {
  return ValidationOutcome::bogus(ede::NSEC_MISSING, what);
}

std::string in_zone(const Name &zone) {
  return " (zone " + zone.to_text() + ")";
}

// Checks the NSEC proving that the wildcard at `closest_encloser` does not exist.
// Returns nullopt when proven, else the reason.
std::optional<std::string> wildcard_absence_problem(const Name &closest_encloser,
                                                    const std::vector<UsableNsec> &usable) {
  auto wildcard = closest_encloser.prepend("*");
  if (!wildcard) return std::nullopt;  // too long to exist at all
  for (const auto &nsec : usable) {
    if (nsec.owner == *wildcard) return "wildcard " + wildcard->to_text() + " exists";
  }
  for (const auto &nsec : usable) {
    if (nsec.covers(*wildcard)) return std::nullopt;
  }
  return "no NSEC proves that wildcard " + wildcard->to_text() + " does not exist";
}

// The bitmap of an NSEC matching the name denies `qtype`; nullopt when it does,
// else why not (RFC 4035 5.4, RFC 6840 4.3 and 4.4).
std::optional<std::string> type_denial_problem(const UsableNsec &nsec, uint16_t qtype) {
  std::string at = " at " + nsec.owner.to_text();
  if (nsec.has(qtype)) return "NSEC" + at + " lists " + type_to_text(qtype);
  if (nsec.has(rrtype::CNAME)) return "NSEC" + at + " lists CNAME";
  if (qtype == rrtype::DS) {
    // The DS lives in the parent; a child apex NSEC (with SOA) cannot deny it.
    if (nsec.has(rrtype::SOA) && !nsec.owner.is_root())
      return "NSEC" + at + " is from the child zone (SOA set)";
  } else if (nsec.has(rrtype::NS) && !nsec.has(rrtype::SOA)) {
    // The parent's NSEC at a delegation speaks only for the parent's data there.
    return "NSEC" + at + " is a delegation point and cannot deny " + type_to_text(qtype);
  }
  return std::nullopt;
}

}  // namespace

bool nsec_covers(const ResourceRecord &nsec, const Name &name) {
  if (nsec.type != rrtype::NSEC) return false;
  auto rdata = parse_nsec_rdata(nsec.rdata);
  if (!rdata) return false;
  return gap_contains(nsec.owner, rdata->next, name);
}

ValidationOutcome prove_nxdomain_nsec(const Name &qname, const std::vector<ResourceRecord> &nsecs,
                                      const Name &zone) {
  if (!qname.is_subdomain_of(zone)) return not_proven(qname.to_text() + " is outside" + in_zone(zone));
  auto usable = usable_nsecs(nsecs, zone);
  std::optional<std::string> problem;
  for (const auto &nsec : usable) {
    if (nsec.owner == qname) return not_proven("NSEC at " + qname.to_text() + " shows the name exists");
  }
  for (const auto &nsec : usable) {
    if (!nsec.denies_existence_of(qname)) continue;
    // RFC 4035 5.4: the name is absent; now no wildcard may match it either.
    problem = wildcard_absence_problem(nsec.closest_encloser_of(qname), usable);
    if (!problem) return ValidationOutcome::secure();
  }
  if (!problem) problem = "no NSEC proves that " + qname.to_text() + " does not exist";
  return not_proven(*problem + in_zone(zone));
}

ValidationOutcome prove_nodata_nsec(const Name &qname, uint16_t qtype,
                                    const std::vector<ResourceRecord> &nsecs, const Name &zone) {
  if (!qname.is_subdomain_of(zone)) return not_proven(qname.to_text() + " is outside" + in_zone(zone));
  auto usable = usable_nsecs(nsecs, zone);
  std::optional<std::string> problem;

  // RFC 4035 3.1.3.1: the NSEC at qname itself.
  for (const auto &nsec : usable) {
    if (nsec.owner != qname) continue;
    problem = type_denial_problem(nsec, qtype);
    if (!problem) return ValidationOutcome::secure();
  }
  if (problem) return not_proven(*problem + in_zone(zone));

  for (const auto &nsec : usable) {
    // RFC 4035 3.1.3.2: qname is an empty non-terminal when the NSEC covering it
    // points to a name below it; such a name owns no RRset at all.
    if (nsec.covers(qname) && is_proper_subdomain(nsec.rdata.next, qname)) return ValidationOutcome::secure();
  }

  // RFC 4035 3.1.3.4: wildcard NODATA. qname does not exist, the wildcard at its
  // closest encloser does, without qtype.
  for (const auto &covering : usable) {
    if (!covering.denies_existence_of(qname)) continue;
    auto wildcard = covering.closest_encloser_of(qname).prepend("*");
    if (!wildcard) continue;
    for (const auto &at_wildcard : usable) {
      if (at_wildcard.owner != *wildcard) continue;
      problem = type_denial_problem(at_wildcard, qtype);
      if (!problem) return ValidationOutcome::secure();
    }
    if (!problem) problem = "no NSEC at wildcard " + wildcard->to_text() + " for " + qname.to_text();
  }
  if (!problem) problem = "no NSEC proves that " + qname.to_text() + " has no " + type_to_text(qtype);
  return not_proven(*problem + in_zone(zone));
}

ValidationOutcome prove_wildcard_answer_nsec(const Name &qname, const Name &wildcard_closest_encloser,
                                             const std::vector<ResourceRecord> &nsecs, const Name &zone) {
  if (!qname.is_subdomain_of(zone) || !wildcard_closest_encloser.is_subdomain_of(zone) ||
      !is_proper_subdomain(qname, wildcard_closest_encloser)) {
    return not_proven("wildcard answer for " + qname.to_text() + " from " +
                      wildcard_closest_encloser.to_text() + " is not possible" + in_zone(zone));
  }
  for (const auto &nsec : usable_nsecs(nsecs, zone)) {
    // RFC 4035 5.3.4: qname itself does not exist and no name between qname and the
    // wildcard's encloser does either, or that name would have been the match.
    if (nsec.denies_existence_of(qname) && nsec.closest_encloser_of(qname) == wildcard_closest_encloser)
      return ValidationOutcome::secure();
  }
  return not_proven("no NSEC proves that no closer match than *." + wildcard_closest_encloser.to_text() +
                    " exists for " + qname.to_text() + in_zone(zone));
}

ValidationOutcome prove_insecure_delegation_nsec(const Name &child, const std::vector<ResourceRecord> &nsecs,
                                                 const Name &zone) {
  if (!is_proper_subdomain(child, zone)) return not_proven(child.to_text() + " is not below" + in_zone(zone));
  std::optional<std::string> problem;
  for (const auto &nsec : usable_nsecs(nsecs, zone)) {
    if (nsec.owner != child) continue;
    std::string at = "NSEC at " + child.to_text();
    // RFC 4035 5.2 and RFC 6840 4.4: NS present, DS and SOA absent.
    if (!nsec.has(rrtype::NS)) {
      problem = at + " does not list NS";
    } else if (nsec.has(rrtype::DS)) {
      problem = at + " lists DS: the delegation is signed";
    } else if (nsec.has(rrtype::SOA)) {
      problem = at + " is from the child zone (SOA set)";
    } else {
      return ValidationOutcome::insecure(
          ede::OTHER, "delegation to " + child.to_text() + " is unsigned (NSEC" + in_zone(zone) + ")");
    }
  }
  if (!problem) problem = "no NSEC at " + child.to_text() + " proves the delegation unsigned";
  return not_proven(*problem + in_zone(zone));
}

}  // namespace rsv
