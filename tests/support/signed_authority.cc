// The DNSSEC-aware fake authority: see signed_authority.h.
#include "tests/support/signed_authority.h"

#include <algorithm>
#include <optional>

namespace rsv::testing {
namespace {

bool is_denial_or_signature(uint16_t type) {
  return type == rrtype::RRSIG || type == rrtype::NSEC || type == rrtype::NSEC3;
}

// Builds one reply from one zone, following RFC 1034 4.3.2's lookup with the
// DNSSEC additions of RFC 4035 3.1 and RFC 5155 7.2.
class ZoneResponder {
public:
  ZoneResponder(const SignedZone &zone, Message &reply) : zone_(zone), reply_(reply) {}

  void answer(const Question &question) {
    // RFC 1034 4.3.2 step 3b: a zone cut on the way to the name means a referral,
    // except for DS at the cut itself, which the parent holds (RFC 4035 3.1.4.1).
    if (auto cut = cut_above(question.name, question.qtype)) {
      referral(*cut);
      return;
    }
    reply_.aa = true;
    Name name = question.name;
    // A CNAME chain inside the zone is followed (RFC 1034 4.3.2 step 3a); bounded
    // so that a loop in a test zone ends.
    for (int hops = 0; hops < 8; ++hops) {
      std::optional<Name> next = lookup(name, question.qtype);
      if (!next) return;
      if (!next->is_subdomain_of(zone_.origin) || cut_above(*next, question.qtype)) return;
      name = *next;
    }
  }

private:
  // Answers `name` inside the zone; returns the CNAME target when the lookup has to
  // go on there.
  std::optional<Name> lookup(const Name &name, uint16_t qtype) {
    if (has_records_at(name)) {
      auto data = zone_.rrset_with_sigs(name, qtype);
      if (!data.empty()) {
        add(reply_.answer, data);
        return std::nullopt;
      }
      auto cname = zone_.rrset_with_sigs(name, rrtype::CNAME);
      if (!cname.empty() && qtype != rrtype::CNAME) {
        add(reply_.answer, cname);
        return cname.front().rdata_target();
      }
      nodata(name);
      return std::nullopt;
    }
    if (zone_.name_exists(name)) {  // an empty non-terminal (RFC 4592 2.2.2)
      nodata(name);
      return std::nullopt;
    }
    // RFC 4592 3.3.1: the wildcard at the closest encloser, if there is one, answers.
    const Name encloser = closest_encloser(name);
    const Name wildcard = *encloser.prepend("*");
    if (!has_records_at(wildcard)) {
      nxdomain(name, encloser);
      return std::nullopt;
    }
    auto data = zone_.rrset_with_sigs(wildcard, qtype);
    auto cname = zone_.rrset_with_sigs(wildcard, rrtype::CNAME);
    if (data.empty() && (cname.empty() || qtype == rrtype::CNAME)) {
      wildcard_nodata(name, encloser, wildcard);
      return std::nullopt;
    }
    const bool is_cname = data.empty();
    add(reply_.answer, expanded(is_cname ? cname : data, name));
    wildcard_answer_proof(name, encloser);
    if (is_cname) return cname.front().rdata_target();
    return std::nullopt;
  }

  // The highest delegation strictly below the origin on the way to `name`.
  std::optional<Name> cut_above(const Name &name, uint16_t qtype) const {
    for (size_t labels = zone_.origin.label_count() + 1; labels <= name.label_count(); ++labels) {
      Name cut = name.suffix(labels);
      if (zone_.rrset(cut, rrtype::NS).empty()) continue;
      if (cut == name && qtype == rrtype::DS) return std::nullopt;
      return cut;
    }
    return std::nullopt;
  }

  // RFC 4035 3.1.4: NS set (never signed at a cut), then DS with RRSIGs or the
  // proof that there is none; glue for name servers inside the zone.
  void referral(const Name &cut) {
    auto ns = zone_.rrset(cut, rrtype::NS);
    add(reply_.authority, ns);
    auto ds = zone_.rrset_with_sigs(cut, rrtype::DS);
    if (!ds.empty())
      add(reply_.authority, ds);
    else
      no_ds_proof(cut);
    for (const auto &rr : ns) {
      auto target = rr.rdata_target();
      if (!target || !target->is_subdomain_of(zone_.origin)) continue;
      for (uint16_t type : {rrtype::A, rrtype::AAAA}) add(reply_.additional, zone_.rrset(*target, type));
    }
  }

  void no_ds_proof(const Name &cut) {
    switch (zone_.denial) {
      case Denial::none: return;
      // RFC 4035 3.1.4.1 / 5.2: the NSEC at the cut, listing NS but not DS.
      case Denial::nsec: add(reply_.authority, zone_.nsec_matching(cut)); return;
      case Denial::nsec3: {
        // RFC 5155 7.2.7: the NSEC3 matching the cut, else (Opt-Out) the closest
        // provable encloser proof whose next closer NSEC3 has the Opt-Out bit.
        auto match = zone_.nsec3_matching(cut);
        if (!match.empty())
          add(reply_.authority, match);
        else
          closest_encloser_proof(cut);
        return;
      }
    }
  }

  void add_soa() { add(reply_.authority, zone_.rrset_with_sigs(zone_.origin, rrtype::SOA)); }

  // NODATA: RFC 4035 3.1.3.1 (the NSEC at the name) and 3.1.3.2 (an empty
  // non-terminal: the NSEC covering it); RFC 5155 7.2.3 / 7.2.4 (the NSEC3
  // matching the name, else the closest provable encloser proof, as for a DS
  // query at an opted-out delegation or an empty non-terminal that only opted-out
  // delegations create, RFC 5155 7.2.4 and erratum 3441).
  void nodata(const Name &name) {
    add_soa();
    switch (zone_.denial) {
      case Denial::none: return;
      case Denial::nsec: {
        auto match = zone_.nsec_matching(name);
        add(reply_.authority, match.empty() ? zone_.nsec_covering(name) : match);
        return;
      }
      case Denial::nsec3: {
        auto match = zone_.nsec3_matching(name);
        if (!match.empty())
          add(reply_.authority, match);
        else
          closest_encloser_proof(name);
        return;
      }
    }
  }

  // NXDOMAIN: RFC 4035 3.1.3.2 (NSEC covering the name, NSEC covering the
  // wildcard at the closest encloser); RFC 5155 7.2.2 (closest encloser proof,
  // NSEC3 covering the wildcard at the closest encloser).
  void nxdomain(const Name &name, const Name &encloser) {
    reply_.rcode = rcode::NXDOMAIN;
    add_soa();
    switch (zone_.denial) {
      case Denial::none: return;
      case Denial::nsec:
        add(reply_.authority, zone_.nsec_covering(name));
        add(reply_.authority, zone_.nsec_covering(*encloser.prepend("*")));
        return;
      case Denial::nsec3: {
        Name provable = closest_encloser_proof(name);
        add(reply_.authority, zone_.nsec3_covering(*provable.prepend("*")));
        return;
      }
    }
  }

  // Wildcard NODATA: RFC 4035 3.1.3.4 (NSEC covering the name, NSEC matching the
  // wildcard); RFC 5155 7.2.5 (closest encloser proof, NSEC3 matching the wildcard).
  void wildcard_nodata(const Name &name, const Name &encloser, const Name &wildcard) {
    add_soa();
    switch (zone_.denial) {
      case Denial::none: return;
      case Denial::nsec:
        add(reply_.authority, zone_.nsec_covering(name));
        add(reply_.authority, zone_.nsec_matching(wildcard));
        return;
      case Denial::nsec3:
        closest_encloser_proof(name, encloser);
        add(reply_.authority, zone_.nsec3_matching(wildcard));
        return;
    }
  }

  // A wildcard expansion: RFC 4035 3.1.3.3 (the NSEC covering the name);
  // RFC 5155 7.2.6 (the NSEC3 covering the next closer name).
  void wildcard_answer_proof(const Name &name, const Name &encloser) {
    switch (zone_.denial) {
      case Denial::none: return;
      case Denial::nsec: add(reply_.authority, zone_.nsec_covering(name)); return;
      case Denial::nsec3: add(reply_.authority, zone_.nsec3_covering(next_closer(name, encloser))); return;
    }
  }

  // RFC 5155 7.2.1: the NSEC3 matching the closest provable encloser and the one
  // covering the next closer name. The search starts at `start` (default: the
  // name's parent) and goes up to the first ancestor that has an NSEC3, since
  // with Opt-Out a name may exist without one. Returns that encloser.
  Name closest_encloser_proof(const Name &name, const std::optional<Name> &start = std::nullopt) {
    Name encloser = start.value_or(name.parent());
    while (zone_.nsec3_matching(encloser).empty() && encloser != zone_.origin) encloser = encloser.parent();
    add(reply_.authority, zone_.nsec3_matching(encloser));
    add(reply_.authority, zone_.nsec3_covering(next_closer(name, encloser)));
    return encloser;
  }

  static Name next_closer(const Name &name, const Name &encloser) {
    return name.suffix(encloser.label_count() + 1);
  }

  // RFC 4592 3.3.1: the longest existing ancestor of a name that does not exist.
  Name closest_encloser(const Name &name) const {
    Name encloser = name.parent();
    while (!zone_.name_exists(encloser) && encloser != zone_.origin) encloser = encloser.parent();
    return encloser;
  }

  bool has_records_at(const Name &name) const {
    return std::any_of(zone_.records.begin(), zone_.records.end(), [&](const ResourceRecord &rr) {
      return rr.owner == name && rr.type != rrtype::NSEC3 &&
             !(rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == rrtype::NSEC3);
    });
  }

  // RFC 4592 3.3.1 / RFC 4035 5.3.2: the expansion takes the query name as owner;
  // the RRSIGs keep their labels field, which tells a validator it was a wildcard.
  static std::vector<ResourceRecord> expanded(std::vector<ResourceRecord> records, const Name &name) {
    for (auto &rr : records) rr.owner = name;
    return records;
  }

  // Appends records that are not in the section yet (one NSEC can prove two things).
  static void add(std::vector<ResourceRecord> &section, const std::vector<ResourceRecord> &records) {
    for (const auto &rr : records) {
      bool present = std::any_of(section.begin(), section.end(), [&](const ResourceRecord &other) {
        return other.owner == rr.owner && other.type == rr.type && other.rdata == rr.rdata;
      });
      if (!present) section.push_back(rr);
    }
  }

  const SignedZone &zone_;
  Message &reply_;
};

// RFC 4035 3.1: without DO, no RRSIG, NSEC or NSEC3 unless asked for by type, and
// no DS in a referral (3.1.4).
void strip_dnssec(Message &reply, uint16_t qtype) {
  auto unwanted = [&](const ResourceRecord &rr) {
    return is_denial_or_signature(rr.type) && rr.type != qtype;
  };
  std::erase_if(reply.answer, unwanted);
  std::erase_if(reply.authority,
                [&](const ResourceRecord &rr) { return unwanted(rr) || rr.type == rrtype::DS; });
  std::erase_if(reply.additional, unwanted);
}

}  // namespace

SignedZone *SignedAuthority::zone(const Name &origin) {
  for (auto &zone : zones_)
    if (zone.origin == origin) return &zone;
  return nullptr;
}

const SignedZone *SignedAuthority::zone_for(const Question &question) const {
  auto deepest = [&](bool parent_side_for_ds) {
    const SignedZone *best = nullptr;
    for (const auto &zone : zones_) {
      if (!question.name.is_subdomain_of(zone.origin)) continue;
      // RFC 4035 3.1.4.1: DS lives on the parent's side of the cut.
      if (parent_side_for_ds && question.qtype == rrtype::DS && zone.origin == question.name) continue;
      if (!best || zone.origin.label_count() > best->origin.label_count()) best = &zone;
    }
    return best;
  };
  // A server holding only the child answers a DS query from the child's apex, as
  // real servers do (with NODATA).
  const SignedZone *parent_side = deepest(true);
  return parent_side ? parent_side : deepest(false);
}

Message SignedAuthority::answer(const Message &query) const {
  Message reply;
  reply.id = query.id;
  reply.qr = true;
  reply.opcode = query.opcode;
  reply.rd = query.rd;
  reply.cd = query.cd;  // RFC 4035 3.1.6
  reply.questions = query.questions;
  const bool dnssec_ok = query.edns && query.edns->dnssec_ok;
  if (query.edns) {
    reply.edns = Edns{};
    reply.edns->dnssec_ok = dnssec_ok;  // RFC 3225 3: DO is copied into the reply
  }
  const Question *question = query.question();
  if (!question) {
    reply.rcode = rcode::FORMERR;
    return reply;
  }
  const SignedZone *zone = question->qclass == rrclass::IN ? zone_for(*question) : nullptr;
  if (!zone) {
    reply.rcode = rcode::REFUSED;
    return reply;
  }
  ZoneResponder(*zone, reply).answer(*question);
  if (!dnssec_ok) strip_dnssec(reply, question->qtype);
  return reply;
}

}  // namespace rsv::testing
