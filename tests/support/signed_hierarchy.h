// A signed DNS hierarchy for in-process tests: root, TLD and leaf zones, keys made
// and zones signed by ldns at test time (tests/support/zone_signer.h), each zone
// answered by a SignedAuthority on its own 127.x address, with the root's DS as
// trust anchor and root hints pointing at the root server.
//
// The builder writes the glue of the hierarchy itself: every zone gets an SOA, an
// apex NS naming its server and that server's address; every parent gets the
// child's NS, glue (or the server's address when it lies in the parent) and DS
// records for the child's KSK unless the spec asks for an insecure delegation.
//
// Scenario tests attach it to a FakeNetwork with serve() from
// tests/scenario/signed_fake_server.h; unit tests can ask its authorities directly.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dnssec/trust_anchor.h"
#include "resolver/iter/delegation.h"
#include "tests/support/signed_authority.h"
#include "tests/support/zone_signer.h"

namespace rsv::testing {

struct ZoneSpec {
  std::string origin;   // "nsec.test."
  std::string address;  // where its server answers, e.g. "127.10.2.1"
  // Zone-file text for everything but the apex SOA and NS and the server's
  // address; relative names are completed with the origin.
  std::string records;
  Denial denial = Denial::nsec;  // Denial::none: the zone is served unsigned
  Nsec3Params nsec3;             // with Denial::nsec3
  // False: the parent has no DS (an insecure delegation, RFC 4035 5.2) even if
  // this zone is signed (an "island of security").
  bool ds_in_parent = true;
  uint8_t algorithm = 13;
  // Default "ns.<origin>" ("a.root." for the root). A name outside the zone puts
  // its address record in the hierarchy zone that holds that name.
  std::string server_name;
};

struct HierarchyZone {
  Name origin;
  std::string address;
  Name server_name;
  std::vector<SigningKey> keys;  // KSK then ZSK; empty for an unsigned zone
  ZoneSpec spec;

  const SigningKey &ksk() const { return keys.at(0); }
  const SigningKey &zsk() const { return keys.at(1); }
};

class SignedHierarchy {
public:
  // Zones in any order; each zone but the root needs its parent among them.
  // Throws std::runtime_error on a spec that cannot be built.
  static SignedHierarchy build(const std::vector<ZoneSpec> &specs,
                               const SignatureWindow &window = SignatureWindow::around(kPinnedNow));

  // The standard layout (standard_specs()).
  static SignedHierarchy standard(const SignatureWindow &window = SignatureWindow::around(kPinnedNow));
  // .                     NSEC     127.10.0.1  a.root.
  // test.                 NSEC     127.10.1.1  ns.test.
  // nsec.test.            NSEC     127.10.2.1  data, wildcard, empty non-terminal, CNAMEs
  // nsec3.test.           NSEC3    127.10.2.2  same data; 0 iterations, no salt
  // optout.test.          NSEC3    127.10.2.3  Opt-Out, with an unsigned delegation:
  // unsigned.optout.test. unsigned 127.10.3.1
  // insecure.test.        unsigned 127.10.2.4  no DS in test.
  // apexonly.test.        NSEC     127.10.2.5  only SOA, NS, DNSKEY; its server is ns-apexonly.test.
  // island.nsec3.test.    NSEC     127.10.3.2  signed, but no DS in nsec3.test.
  static std::vector<ZoneSpec> standard_specs();

  const std::vector<HierarchyZone> &zones() const { return zones_; }
  const HierarchyZone &zone(const Name &origin) const;
  // The signed records of a zone as its server holds them. Changing them changes
  // what the server answers from then on.
  SignedZone &records(const Name &origin);
  const SignedZone &records(const Name &origin) const;

  // The authority for one server address (every zone served there).
  SignedAuthority &authority(const std::string &address);
  const std::map<std::string, SignedAuthority> &authorities() const { return authorities_; }

  // Re-signs one zone's records with a new window (same keys, same DS), e.g. to
  // make its signatures expired.
  void resign(const Name &origin, const SignatureWindow &window);

  // The root's KSK as a DS trust anchor (RFC 4033 3).
  TrustAnchor trust_anchor() const;
  std::vector<TrustAnchor> trust_anchors() const { return {trust_anchor()}; }
  // Root hints naming the root zone's server.
  DelegationPoint root_hints() const;

private:
  std::vector<ResourceRecord> zone_records(const HierarchyZone &zone) const;
  SignedZone sign(const HierarchyZone &zone, const SignatureWindow &window) const;

  std::vector<HierarchyZone> zones_;
  std::map<std::string, SignedAuthority> authorities_;
};

}  // namespace rsv::testing
