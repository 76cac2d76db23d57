// A DNSSEC-aware authoritative server for in-process tests: answers queries from
// zones signed by tests/support/zone_signer.h the way a real signed authority does
// (RFC 4035 3.1, RFC 5155 7.2), so that the validator meets complete, correctly
// assembled proofs. Tests that want a wrong answer start from this one and change
// it (see FakeServer::forge in tests/scenario/fake_network.h).
//
// With DO=1 a reply carries:
//  - positive answers with their RRSIGs; a CNAME inside the zone is followed;
//  - wildcard expansions with the RRSIG as signed (labels field untouched) and the
//    proof that the query name itself does not exist (RFC 4035 3.1.3.3, RFC 5155 7.2.6);
//  - NODATA with the SOA, its RRSIGs and the NSEC/NSEC3 matching the name, or the
//    empty non-terminal / wildcard NODATA proofs (RFC 4035 3.1.3.1, 3.1.3.4;
//    RFC 5155 7.2.3, 7.2.5);
//  - NXDOMAIN with the SOA and the NSECs covering the name and the wildcard, or
//    the NSEC3 closest encloser proof plus the NSEC3 covering the wildcard
//    (RFC 4035 3.1.3.2, RFC 5155 7.2.2);
//  - referrals with the NS set, glue, and the DS RRset with its RRSIGs, or the
//    NSEC/NSEC3 proving there is no DS (RFC 4035 3.1.4, RFC 5155 7.2.7);
//  - DS queries answered by the parent's side of the cut (RFC 4035 3.1.4.1).
// With DO=0 (or no EDNS) no RRSIG, NSEC, NSEC3 or referral DS is sent
// (RFC 4035 3.1), unless the query asked for that type.
#pragma once

#include <vector>

#include "resolver/wire/message.h"
#include "tests/support/zone_signer.h"

namespace rsv::testing {

class SignedAuthority {
public:
  SignedAuthority() = default;
  explicit SignedAuthority(std::vector<SignedZone> zones) : zones_(std::move(zones)) {}

  void add_zone(SignedZone zone) { zones_.push_back(std::move(zone)); }
  const std::vector<SignedZone> &zones() const { return zones_; }
  // The served zone with this origin, or null. Changing it changes later answers.
  SignedZone *zone(const Name &origin);

  // The reply to `query`: same ID and question, QR set, EDNS echoed with the DO bit
  // copied (RFC 3225 3). A name outside every zone is REFUSED.
  Message answer(const Message &query) const;

private:
  // The zone that answers `question`: the deepest one holding the name, except that
  // a DS query for a zone's apex goes to its parent when that is served here too.
  const SignedZone *zone_for(const Question &question) const;

  std::vector<SignedZone> zones_;
};

}  // namespace rsv::testing
