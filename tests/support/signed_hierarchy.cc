// Builds the signed test hierarchy: see signed_hierarchy.h.
#include "tests/support/signed_hierarchy.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "tests/unit/test_records.h"

namespace rsv::testing {
namespace {

Name parse_name(const std::string &text) {
  auto name = Name::from_text(text);
  if (!name) throw std::runtime_error("signed hierarchy: bad name " + text);
  return *name;
}

ResourceRecord record(const Name &owner, uint16_t type, const std::string &rdata_text, const Name &origin) {
  auto parsed = records(owner.to_text() + " " + type_to_text(type) + " " + rdata_text, origin.to_text());
  if (parsed.size() != 1) throw std::runtime_error("signed hierarchy: cannot build " + rdata_text);
  return parsed.front();
}

ResourceRecord address_record(const Name &owner, const std::string &address) {
  auto parsed = SocketAddress::parse(address);
  if (!parsed) throw std::runtime_error("signed hierarchy: bad address " + address);
  return record(owner, parsed->is_ipv6() ? rrtype::AAAA : rrtype::A, parsed->host_text(), Name::root());
}

// The zone data the standard leaves share: names for every kind of answer.
constexpr const char *kLeafData = R"(
www A 192.0.2.1
www AAAA 2001:db8::1
@ MX 10 mail
mail A 192.0.2.2
alias CNAME www
*.wild A 192.0.2.3
host.ent A 192.0.2.4
wildalias CNAME x.wild
*.cwild CNAME www
)";

}  // namespace

std::vector<ZoneSpec> SignedHierarchy::standard_specs() {
  std::vector<ZoneSpec> specs;
  specs.push_back({".", "127.10.0.1", "", Denial::nsec, {}, true, 13, ""});
  specs.push_back({"test.", "127.10.1.1", "www A 192.0.2.100\n", Denial::nsec, {}, true, 13, ""});
  specs.push_back({"nsec.test.",
                   "127.10.2.1",
                   std::string(kLeafData) + "out CNAME www.nsec3.test.\n",
                   Denial::nsec,
                   {},
                   true,
                   13,
                   ""});
  specs.push_back(
      {"nsec3.test.", "127.10.2.2", kLeafData, Denial::nsec3, Nsec3Params{0, "", false}, true, 13, ""});
  specs.push_back({"optout.test.", "127.10.2.3", "www A 192.0.2.1\n*.wild A 192.0.2.3\n", Denial::nsec3,
                   Nsec3Params{0, "", true}, true, 13, ""});
  specs.push_back(
      {"unsigned.optout.test.", "127.10.3.1", "www A 192.0.2.10\n", Denial::none, {}, false, 13, ""});
  specs.push_back({"insecure.test.", "127.10.2.4", "www A 192.0.2.20\n", Denial::none, {}, false, 13, ""});
  specs.push_back({"apexonly.test.", "127.10.2.5", "", Denial::nsec, {}, true, 13, "ns-apexonly.test."});
  specs.push_back(
      {"island.nsec3.test.", "127.10.3.2", "www A 192.0.2.30\n", Denial::nsec, {}, false, 13, ""});
  return specs;
}

SignedHierarchy SignedHierarchy::standard(const SignatureWindow &window) {
  return build(standard_specs(), window);
}

SignedHierarchy SignedHierarchy::build(const std::vector<ZoneSpec> &specs, const SignatureWindow &window) {
  SignedHierarchy hierarchy;
  for (const auto &spec : specs) {
    HierarchyZone zone;
    zone.origin = parse_name(spec.origin);
    zone.address = spec.address;
    zone.server_name = !spec.server_name.empty() ? parse_name(spec.server_name)
                       : zone.origin.is_root()   ? parse_name("a.root.")
                                                 : *zone.origin.prepend("ns");
    zone.spec = spec;
    if (spec.denial != Denial::none) {
      zone.keys.push_back(SigningKey::generate(zone.origin, KeyRole::ksk, spec.algorithm));
      zone.keys.push_back(SigningKey::generate(zone.origin, KeyRole::zsk, spec.algorithm));
    }
    hierarchy.zones_.push_back(std::move(zone));
  }
  for (const auto &zone : hierarchy.zones_) {
    bool has_parent =
        std::any_of(hierarchy.zones_.begin(), hierarchy.zones_.end(), [&](const HierarchyZone &other) {
          return zone.origin != other.origin && zone.origin.is_subdomain_of(other.origin);
        });
    if (!zone.origin.is_root() && !has_parent)
      throw std::runtime_error("signed hierarchy: no parent zone for " + zone.origin.to_text());
  }
  for (const auto &zone : hierarchy.zones_)
    hierarchy.authorities_[zone.address].add_zone(hierarchy.sign(zone, window));
  return hierarchy;
}

// The zone's own records plus what the hierarchy puts in it: apex SOA and NS, the
// addresses of the servers whose names it holds, and each child's NS, glue and DS.
std::vector<ResourceRecord> SignedHierarchy::zone_records(const HierarchyZone &zone) const {
  // The zone that holds `name`: the deepest one whose origin is above or at it.
  auto holder = [&](const Name &name) {
    const HierarchyZone *best = nullptr;
    for (const auto &z : zones_)
      if (name.is_subdomain_of(z.origin) && (!best || z.origin.label_count() > best->origin.label_count()))
        best = &z;
    return best;
  };
  auto parent_of = [&](const HierarchyZone &child) {
    return child.origin.is_root() ? nullptr : holder(child.origin.parent());
  };

  std::vector<ResourceRecord> out;
  const Name hostmaster =
      zone.origin.is_root() ? parse_name("hostmaster.root.") : *zone.origin.prepend("hostmaster");
  out.push_back(record(zone.origin, rrtype::SOA,
                       zone.server_name.to_text() + " " + hostmaster.to_text() + " 1 3600 600 86400 300",
                       zone.origin));
  out.push_back(record(zone.origin, rrtype::NS, zone.server_name.to_text(), zone.origin));
  auto own = testing::records(zone.spec.records, zone.origin.to_text());
  out.insert(out.end(), own.begin(), own.end());

  for (const auto &other : zones_) {
    // A server's address lives in the zone holding its name; if that is the zone
    // it serves, its parent carries a copy as glue (RFC 1034 4.2.1).
    const HierarchyZone *home = holder(other.server_name);
    if (home == &zone || (home == &other && parent_of(other) == &zone))
      out.push_back(address_record(other.server_name, other.address));
    if (&other == &zone || parent_of(other) != &zone) continue;
    // A child: the delegation NS and, for a secure delegation, its KSK's DS.
    out.push_back(record(other.origin, rrtype::NS, other.server_name.to_text(), zone.origin));
    if (!other.keys.empty() && other.spec.ds_in_parent) out.push_back(other.ksk().ds());
  }
  return out;
}

SignedZone SignedHierarchy::sign(const HierarchyZone &zone, const SignatureWindow &window) const {
  auto data = zone_records(zone);
  if (zone.spec.denial == Denial::none) return SignedZone::unsigned_zone(zone.origin, std::move(data));
  ZoneSigningOptions options;
  options.window = window;
  if (zone.spec.denial == Denial::nsec3) options.nsec3 = zone.spec.nsec3;
  return sign_zone(zone.origin, data, {&zone.ksk(), &zone.zsk()}, options);
}

const HierarchyZone &SignedHierarchy::zone(const Name &origin) const {
  for (const auto &zone : zones_)
    if (zone.origin == origin) return zone;
  throw std::runtime_error("signed hierarchy: no zone " + origin.to_text());
}

const SignedZone &SignedHierarchy::records(const Name &origin) const {
  auto served = authorities_.find(zone(origin).address);
  if (served != authorities_.end())
    for (const auto &signed_zone : served->second.zones())
      if (signed_zone.origin == origin) return signed_zone;
  throw std::runtime_error("signed hierarchy: zone not served: " + origin.to_text());
}

SignedZone &SignedHierarchy::records(const Name &origin) {
  return const_cast<SignedZone &>(std::as_const(*this).records(origin));
}

SignedAuthority &SignedHierarchy::authority(const std::string &address) {
  auto it = authorities_.find(address);
  if (it == authorities_.end()) throw std::runtime_error("signed hierarchy: no server at " + address);
  return it->second;
}

void SignedHierarchy::resign(const Name &origin, const SignatureWindow &window) {
  records(origin) = sign(zone(origin), window);
}

TrustAnchor SignedHierarchy::trust_anchor() const {
  const HierarchyZone &root = zone(Name::root());
  TrustAnchor anchor;
  anchor.zone = Name::root();
  anchor.ds.push_back(root.ksk().ds());
  return anchor;
}

DelegationPoint SignedHierarchy::root_hints() const {
  const HierarchyZone &root = zone(Name::root());
  DelegationPoint hints;
  hints.zone = Name::root();
  NameServer server;
  server.name = root.server_name;
  server.addresses.push_back(*SocketAddress::parse(root.address));
  server.no_lookups_needed();
  hints.servers.push_back(server);
  return hints;
}

}  // namespace rsv::testing
