// Authenticated denial of existence with NSEC records (RFC 4034 4, RFC 4035 5.4,
// RFC 6840 4).
//
// How one negative answer passes through here: the validator has already verified
// the RRSIGs over the NSEC RRsets of a response and knows the zone (the signer name)
// they belong to. It then asks one of the prove_* functions below whether those
// records prove what the response claims (the name does not exist, the type does not
// exist, a wildcard answer is the right one, a delegation is unsigned). These are
// pure functions over already-authenticated records: they do set logic in canonical
// order (RFC 4034 6.1) and no cryptography.
//
// Records are ignored when they cannot be part of a proof for `zone`: not NSEC, an
// owner or next name outside the zone ("NSEC from above the zone"), or malformed
// rdata. A proof that cannot be completed is bogus with EDE 12 (NSEC Missing) and a
// reason naming the name that was not proven.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec/outcome.h"
#include "resolver/wire/name.h"
#include "resolver/wire/rr.h"

namespace rsv {

// True when `bitmap` is a well-formed Type Bit Maps field (RFC 4034 4.1.2): windows
// in strictly increasing order, each with a bitmap length of 1..32 octets, and no
// trailing octets. An empty field is valid (an NSEC3 for an empty non-terminal).
bool nsec_bitmap_valid(std::string_view bitmap);

// True when `type` is listed in the Type Bit Maps field. Scanning stops at the first
// malformed window, so a malformed field never reports types beyond the damage.
bool nsec_bitmap_has(std::string_view bitmap, uint16_t type);

struct NsecRdata {
  Name next;           // Next Domain Name (RFC 4034 4.1.1)
  std::string bitmap;  // Type Bit Maps (RFC 4034 4.1.2), still encoded
};

// Parses NSEC rdata (uncompressed wire form); nullopt when malformed.
std::optional<NsecRdata> parse_nsec_rdata(std::string_view rdata);

// True when the NSEC proves that no name exists strictly between its owner and its
// next name and `name` falls in that gap (owner < name < next, RFC 4034 6.1 order).
// The last NSEC of a zone points back to the apex (next <= owner); its gap runs from
// the owner to the end of the zone, so it covers every name after the owner.
bool nsec_covers(const ResourceRecord &nsec, const Name &name);

// NXDOMAIN (RFC 4035 5.4, 3.1.3.2): an NSEC covers qname, and an NSEC covers the
// wildcard "*.<closest encloser>", the closest encloser being the longer common
// ancestor of qname with the covering NSEC's owner or next name.
ValidationOutcome prove_nxdomain_nsec(const Name &qname, const std::vector<ResourceRecord> &nsecs,
                                      const Name &zone);

// NODATA (RFC 4035 5.4, 3.1.3.1): an NSEC at qname without qtype and without CNAME.
// For qtype DS the NSEC must come from the parent side of the delegation: its bitmap
// may list NS but must not list SOA (a child apex NSEC cannot deny the DS). For other
// types an NSEC at a delegation point (NS without SOA) cannot deny the child's data.
// Also accepted: an empty non-terminal (an NSEC whose owner < qname and whose next
// name lies below qname, RFC 4035 3.1.3.2), and wildcard NODATA (an NSEC covering
// qname plus the NSEC at "*.<closest encloser>" without qtype and CNAME, 3.1.3.4).
ValidationOutcome prove_nodata_nsec(const Name &qname, uint16_t qtype,
                                    const std::vector<ResourceRecord> &nsecs, const Name &zone);

// A positive answer synthesised from the wildcard "*.<wildcard_closest_encloser>"
// (the caller learns the encloser from the RRSIG labels field, RFC 4035 5.3.2): an
// NSEC must cover qname and show that no name closer than the encloser exists
// (RFC 4035 5.3.4), i.e. the closest encloser derived from it is exactly that name.
ValidationOutcome prove_wildcard_answer_nsec(const Name &qname, const Name &wildcard_closest_encloser,
                                             const std::vector<ResourceRecord> &nsecs, const Name &zone);

// An unsigned delegation (RFC 4035 5.2, RFC 6840 4.4): the parent's NSEC at `child`
// lists NS but neither DS nor SOA. Proven -> insecure; otherwise bogus.
ValidationOutcome prove_insecure_delegation_nsec(const Name &child, const std::vector<ResourceRecord> &nsecs,
                                                 const Name &zone);

}  // namespace rsv
