// What an authority's reply is, decided in one place before anything in it is used.
//
// The iterator has asked a server of zone Z the question Q (possibly minimised). When
// the reply arrives (already matched to the query, not yet scrubbed) classify_reply
// says what it is:
//   answer     the answer section holds Q's data, directly or at the end of a
//              CNAME/DNAME chain that starts at Q's name
//   alias      a CNAME/DNAME chain from Q's name without the data (the rest is asked
//              elsewhere, or the rcode speaks of the chain's last name)
//   referral   NS records of a zone strictly below Z on the way to Q's name, with no
//              answer (a delegation downward)
//   nodata     NOERROR, no data, with Z's own SOA, or Z's own NS set (the servers the
//              resolver knows for Z), or an authoritative empty reply
//   nxdomain   NXDOMAIN from the zone (AA, or Z's SOA in the authority section)
//   lame       anything else: REFUSED, SERVFAIL, NOTAUTH, NOTIMP and other error
//              rcodes, a referral upward or sideways, a non-authoritative "referral"
//              to Z itself naming other servers (a referral loop), an SOA of another
//              zone, a DS question referred into the child, a negative reply that is
//              neither authoritative nor carries the zone's SOA, or an empty
//              non-authoritative one
//
// A missing AA bit alone never makes an answer lame: many real servers leave it clear
// on perfectly good answers, and Unbound and Knot Resolver accept them. It matters only
// for negative replies without the zone's SOA or NS set (Knot Resolver's rule), where
// it is the only sign the server speaks for the zone.
#pragma once

#include <string>
#include <vector>

#include "resolver/wire/message.h"

namespace rsv {

enum class ReplyClass { answer, alias, referral, nodata, nxdomain, lame };
const char *to_string(ReplyClass reply_class);

struct Classification {
  ReplyClass reply_class = ReplyClass::lame;
  Name referral_child;  // referral: the zone delegated to
  std::string why;      // lame: the reason, for the log
};

// `asked`: the question as sent; `zone`: the zone whose server was asked, and
// `zone_servers` the names of its servers as the resolver knows them.
// `forwarding`: the server is a recursive forwarder (it answers with RA, never AA,
// for the whole tree, and never refers).
Classification classify_reply(const Message &reply, const Question &asked, const Name &zone,
                              const std::vector<Name> &zone_servers, bool forwarding);

}  // namespace rsv
