#include "resolver/iter/classify.h"

#include <algorithm>

namespace rsv {

namespace {

// How far the answer section leads from the question's name: the last name reached
// through CNAME and DNAME records (RFC 1034 3.6.2, RFC 6672 2.2), and whether the
// data asked for is there. Bounded: a loop in the section simply stops the walk.
struct ChainEnd {
  Name name;
  bool moved = false;
  bool data = false;
};

ChainEnd follow(const Message &reply, const Question &asked) {
  ChainEnd end{asked.name, false, false};
  for (int hops = 0; hops < 32; ++hops) {
    bool next = false;
    for (const auto &rr : reply.answer) {
      if (rr.owner != end.name || rr.rclass != asked.qclass) continue;
      if (rr.type == asked.qtype) {
        end.data = true;
        return end;
      }
    }
    for (const auto &rr : reply.answer) {
      if (next) break;
      if (asked.qtype != rrtype::CNAME && rr.type == rrtype::CNAME && rr.owner == end.name) {
        if (auto target = rr.rdata_target()) {
          end.name = *target;
          next = true;
        }
      } else if (asked.qtype != rrtype::DNAME && rr.type == rrtype::DNAME && end.name != rr.owner &&
                 end.name.is_subdomain_of(rr.owner)) {
        if (auto target = rr.rdata_target())
          if (auto substituted = end.name.replace_suffix(rr.owner, *target)) {
            end.name = *substituted;
            next = true;
          }
      }
    }
    if (!next) break;
    end.moved = true;
  }
  return end;
}

Classification lame(std::string why) { return Classification{ReplyClass::lame, {}, std::move(why)}; }

}  // namespace

const char *to_string(ReplyClass reply_class) {
  switch (reply_class) {
    case ReplyClass::answer: return "answer";
    case ReplyClass::alias: return "alias";
    case ReplyClass::referral: return "referral";
    case ReplyClass::nodata: return "nodata";
    case ReplyClass::nxdomain: return "nxdomain";
    case ReplyClass::lame: return "lame";
  }
  return "?";
}

Classification classify_reply(const Message &reply, const Question &asked, const Name &zone,
                              const std::vector<Name> &zone_servers, bool forwarding) {
  if (reply.rcode != rcode::NOERROR && reply.rcode != rcode::NXDOMAIN)
    return lame("rcode " + rcode_to_text(reply.rcode));
  const ChainEnd end = follow(reply, asked);

  // What the authority section says of the zone.
  // RFC 2308 3: a negative answer's SOA is that of the zone holding the name. A server
  // may put another zone's SOA first (a parent's it also serves, say): the zone's own
  // SOA counts wherever it stands, and only when none is there does another make the
  // reply lame.
  auto is_zone_soa = [&](const ResourceRecord &rr) {
    return rr.owner.is_subdomain_of(zone) && end.name.is_subdomain_of(rr.owner);
  };
  const ResourceRecord *soa = nullptr;
  bool zone_ns = false, foreign_zone_ns = false, stray_ns = false;
  Name child;
  for (const auto &rr : reply.authority) {
    if (rr.type == rrtype::SOA && (!soa || (!is_zone_soa(*soa) && is_zone_soa(rr)))) soa = &rr;
    if (rr.type != rrtype::NS) continue;
    if (rr.owner == zone) {
      // The zone's own NS set: the server speaks for it, unless it names servers the
      // resolver does not know for the zone (a "referral" to the zone itself, as in a
      // referral loop between two misconfigured servers).
      auto target = rr.rdata_target();
      bool known = target && std::find(zone_servers.begin(), zone_servers.end(), *target) != zone_servers.end();
      (known ? zone_ns : foreign_zone_ns) = true;
    } else if (rr.owner.is_subdomain_of(zone) && end.name.is_subdomain_of(rr.owner)) {
      if (child.is_root() || rr.owner.label_count() < child.label_count()) child = rr.owner;
    } else {
      stray_ns = true;  // upward or sideways (RFC 1034 5.3.3: lame)
    }
  }
  const bool zone_soa = soa && is_zone_soa(*soa);

  if (reply.rcode == rcode::NXDOMAIN) {
    if (forwarding || reply.aa || zone_soa) return Classification{ReplyClass::nxdomain, {}, {}};
    // A chain leaving the zone: the NXDOMAIN speaks of a name the server may not serve.
    if (end.moved) return Classification{ReplyClass::alias, {}, {}};
    return lame(soa ? "NXDOMAIN with the SOA of " + soa->owner.to_text()
                    : "NXDOMAIN neither authoritative nor with the zone's SOA");
  }
  if (end.data) {
    // Unbound's rule: data without AA next to a delegation below the zone is a
    // referral whose server also sent what it had cached.
    if (!reply.aa && !forwarding && !child.is_root()) return Classification{ReplyClass::referral, child, {}};
    return Classification{ReplyClass::answer, {}, {}};
  }
  if (end.moved) return Classification{ReplyClass::alias, {}, {}};
  if (!child.is_root()) {
    if (forwarding) return lame("a forwarder sent a referral");
    // RFC 4035 3.1.4.1: the parent holds the DS; a referral into the child is no answer.
    if (asked.qtype == rrtype::DS && child == asked.name) return lame("the DS question was referred into the child");
    return Classification{ReplyClass::referral, child, {}};
  }
  if (soa) return zone_soa ? Classification{ReplyClass::nodata, {}, {}} : lame("the SOA of " + soa->owner.to_text());
  // Records in the answer section, none of them about the question: no answer at all.
  if (!reply.answer.empty() && !zone_ns) return lame("the answer section does not answer the question");
  if (reply.aa || forwarding) return Classification{ReplyClass::nodata, {}, {}};
  if (stray_ns) return lame("a referral upward or sideways");
  if (foreign_zone_ns) return lame("a referral to the zone itself, to other servers");
  if (zone_ns) return Classification{ReplyClass::nodata, {}, {}};
  return lame("an empty non-authoritative reply");
}

}  // namespace rsv
