// What the signed test hierarchy really holds, so that validator_fuzz can tell a
// "secure" verdict that is true from one an attacker talked the validator into.
//
// The fuzzer cannot forge a signature (it has no private key), but it can replay
// genuinely signed records in the wrong place: another name's NSEC, a child's SOA, a
// wildcard where a name exists, a DS denial from before a key roll. Sanitizers see
// none of that. This oracle does: given the zones' data (made by the corpus generator
// from the same hierarchy that signed the seeds, tests/fuzz/hierarchy_data.h), it
// answers like an authoritative server would (RFC 1034 4.3.2, RFC 4592 wildcards,
// RFC 6672 DNAME) and checks that everything a secure verdict vouches for is so:
//  - each answer RRset the validator judged (not one the input says it took from the
//    cache with a status) exists with exactly that data, at its name or by wildcard
//    expansion at the closest encloser, in a zone with a chain of trust from the
//    anchor (not an unsigned zone, not an island, not below a negative trust anchor);
//  - a secure NXDOMAIN: the name the rcode speaks of (RFC 6604 3) does not exist, no
//    wildcard would match it, and no DNAME above it redirects it;
//  - a secure NODATA: the name exists (or a wildcard matches it) and has neither the
//    type nor a CNAME, and no DNAME above it.
// And an insecure verdict is a downgrade unless something it covers lies where no
// chain of trust reaches: an unsigned zone, an island, a zone under a negative trust
// anchor, or an opt-out zone, whose NSEC3 chain may skip an unsigned delegation that
// the attacker invents (RFC 5155 6). Replayed denials (a sibling's DS NODATA, a
// child's NSEC) that talk the validator into "insecure" for signed data are caught.
// Types the oracle does not model (NSEC3 and RRSIG records; ANY and NSEC questions)
// are not judged.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "dnssec/resolution.h"
#include "dnssec/rrsig.h"
#include "resolver/wire/message.h"

namespace rsv::fuzz {

class HierarchyTruth {
public:
  struct Zone {
    Name origin;
    bool secure_chain = false;  // signed, with a DS at a parent that has one too, up to the anchor
    bool opt_out = false;       // NSEC3 with the opt-out flag (RFC 5155 6)
    std::vector<ResourceRecord> records;  // everything but RRSIG and NSEC3
  };

  HierarchyTruth() = default;
  explicit HierarchyTruth(std::vector<Zone> zones) : zones_(std::move(zones)) {}

  bool empty() const { return zones_.empty(); }
  const std::vector<Zone> &zones() const { return zones_; }

  // True when every RRset of `answer` that a source vouches for as judged already (a
  // security from the resolver's own caches) deserves it: secure only as the zone's
  // real data under a chain of trust, insecure only where a downgrade is possible.
  // The caches hold nothing else, so an answer to a sub-question whose claim is false
  // puts the validator in a state the resolver cannot reach, and nothing it concludes
  // from there is judged against the truth.
  bool cache_claims_hold(const Resolution &answer, const std::vector<Name> &untrusted) const {
    if (zones_.empty()) return true;
    const auto sets = group_rrsets(answer.answer);
    for (const auto &source : answer.sources) {
      if (source.security != Security::secure && source.security != Security::insecure) continue;
      for (const auto &set : sets) {
        if (set.owner != source.owner || set.type != source.type) continue;
        const Zone &zone = holder(set.owner, set.type);
        const bool holds = source.security == Security::secure
                               ? judge_rrset(zone, set, untrusted).empty()
                               : !trusted(zone, untrusted) || in_opt_out_span(zone, set.owner);
        if (!holds) return false;
      }
    }
    return true;
  }

  // "" when every claim of a secure `result` holds; else the first one that does not.
  // `input` is what the validator was given (for the sources it took on trust), and
  // `untrusted` names zones under a negative trust anchor.
  std::string check(const Question &question, const Resolution &input, const Resolution &result,
                    const std::vector<Name> &untrusted = {}) const {
    if (zones_.empty()) return "";
    if (result.security == Security::insecure) return check_insecure(question, input, result, untrusted);
    if (result.security != Security::secure) return "";
    const auto sets = group_rrsets(result.answer);
    for (const auto &set : sets) {
      if (set.type == rrtype::RRSIG || set.type == rrtype::NSEC3 || synthesized_cname(set, sets)) continue;
      if (const AnswerSource *source = input.source_of(set.owner, set.type);
          source && source->security != Security::unchecked)
        continue;
      // At a zone cut both sides have an NSEC RRset (the parent's at the delegation,
      // RFC 4035 2.3, and a signed child's at its apex): either may be the one vouched for.
      std::vector<const Zone *> candidates = {&holder(set.owner, set.type)};
      if (set.type == rrtype::NSEC && candidates.front()->origin == set.owner && !set.owner.is_root())
        candidates.push_back(&holder(set.owner, rrtype::DS));
      std::string lie;
      for (const Zone *zone : candidates) {
        lie = judge_rrset(*zone, set, untrusted);
        if (lie.empty()) break;
      }
      if (!lie.empty()) return lie;
    }

    // Not modelled: ANY, RRSIG and NSEC3 questions, and NSEC ones (at a cut, either
    // side's NSEC answers them).
    if (unmodelled(question.qtype)) return "";
    const Name final_name = last_name(question, result);
    const bool nxdomain = result.rcode == rcode::NXDOMAIN;
    const bool answered = std::any_of(sets.begin(), sets.end(), [&](const RRset &s) {
      return s.owner == final_name && s.type == question.qtype;
    });
    if (!nxdomain && answered) return "";
    if (question.qtype == rrtype::DS && final_name.is_root()) return "";
    const Zone &zone = holder(final_name, question.qtype);
    const std::string what = std::string("secure ") + (nxdomain ? "NXDOMAIN" : "NODATA") + " for " +
                             final_name.to_text() + " " + type_to_text(question.qtype);
    if (!trusted(zone, untrusted)) return what + " in " + zone.origin.to_text() + ", which has no chain of trust";
    if (dname_above(zone, final_name)) return what + ": a DNAME above it redirects it";
    // A name of 255 octets has no room for a wildcard label above it: nothing matches.
    const Name wildcard = closest_encloser(zone, final_name).prepend("*").value_or(final_name);
    const bool name_exists = exists(zone, final_name);
    const bool wildcard_matches = !name_exists && wildcard != final_name && exists_exactly(zone, wildcard);
    if (nxdomain) {
      if (name_exists) return what + ": the name exists";
      if (wildcard_matches) return what + ": the wildcard " + wildcard.to_text() + " matches it";
      return "";
    }
    if (!name_exists && !wildcard_matches) return what + ": the name does not exist (that is NXDOMAIN)";
    const Name &at = name_exists ? final_name : wildcard;
    if (!rdatas(zone, at, question.qtype).empty()) return what + ": the type exists";
    if (question.qtype != rrtype::CNAME && !rdatas(zone, at, rrtype::CNAME).empty())
      return what + ": the name has a CNAME";
    return "";
  }

  // The zone that holds owner/type: the deepest one at or above the owner, except
  // that a DS at a zone's apex is the parent's (RFC 4035 2.4).
  const Zone &holder(const Name &owner, uint16_t type) const {
    const Zone *best = nullptr;
    for (const auto &zone : zones_) {
      if (!owner.is_subdomain_of(zone.origin)) continue;
      if (type == rrtype::DS && zone.origin == owner && !owner.is_root()) continue;
      if (!best || zone.origin.label_count() > best->origin.label_count()) best = &zone;
    }
    return best ? *best : zones_.front();  // the generator always includes the root
  }

private:
  static bool unmodelled(uint16_t qtype) {
    return qtype == rrtype::ANY || qtype == rrtype::RRSIG || qtype == rrtype::NSEC3 || qtype == rrtype::NSEC;
  }

  // RFC 6604 3: the rcode speaks of the last name of the CNAME chain (as the validator reads it).
  static Name last_name(const Question &question, const Resolution &result) {
    Name final_name = question.name;
    if (question.qtype == rrtype::CNAME) return final_name;
    for (int hops = 0; hops < 32; ++hops) {
      auto link = std::find_if(result.answer.begin(), result.answer.end(), [&](const ResourceRecord &rr) {
        return rr.type == rrtype::CNAME && rr.owner == final_name;
      });
      if (link == result.answer.end()) break;
      auto target = link->rdata_target();
      if (!target) break;
      final_name = *target;
    }
    return final_name;
  }

  // "" when an insecure verdict is possible: something it covers (an answer RRset, or
  // the name the rcode speaks of) lies where no chain of trust reaches, or where an
  // opt-out span may hide an unsigned delegation, or the input took it on trust from
  // the cache as insecure. Whatever is excused, an answer RRset of a zone that a
  // chain of trust does reach must be that zone's data: one record from an unsigned
  // zone does not excuse a forged one beside it.
  std::string check_insecure(const Question &question, const Resolution &input, const Resolution &result,
                             const std::vector<Name> &untrusted) const {
    if (unmodelled(question.qtype)) return "";
    auto downgrade_possible = [&](const Name &owner, uint16_t type) {
      const Zone &zone = holder(owner, type);
      return !trusted(zone, untrusted) || in_opt_out_span(zone, owner);
    };
    bool excused = false;
    const auto sets = group_rrsets(result.answer);
    for (const auto &set : sets) {
      if (set.type == rrtype::RRSIG || synthesized_cname(set, sets)) continue;
      if (const AnswerSource *source = input.source_of(set.owner, set.type);
          source && source->security != Security::unchecked) {
        excused = excused || source->security == Security::insecure;
        continue;
      }
      // Any RRset of a zone without a chain of trust (below a negative trust anchor, say)
      // makes the answer insecure as a whole, an NSEC or NSEC3 one as much as any.
      if (downgrade_possible(set.owner, set.type)) {
        excused = true;
        continue;
      }
      // Denial records prove something only with the rest of the answer: judged below.
      if (set.type == rrtype::NSEC || set.type == rrtype::NSEC3) continue;
      if (std::string lie = judge_rrset(holder(set.owner, set.type), set, untrusted); !lie.empty())
        return "insecure answer with forged data: " + lie;
    }
    if (excused) return "";
    const Name final_name = last_name(question, result);
    if (downgrade_possible(final_name, question.qtype)) return "";
    return "insecure " + rcode_to_text(result.rcode) + " for " + question.name.to_text() + " " +
           type_to_text(question.qtype) + ", all of it in zones with a chain of trust (a downgrade)";
  }

  // RFC 5155 6: an opt-out NSEC3 chain leaves out unsigned delegations, so below a
  // name it does not cover (one that holds no records of its own in the zone, or a
  // delegation without DS) an attacker can invent an unsigned delegation that no
  // proof rules out. A name of the zone's own, like www, has its NSEC3 and no such span.
  static bool in_opt_out_span(const Zone &zone, const Name &name) {
    if (!zone.opt_out) return false;
    for (Name at = name; at != zone.origin && at.is_subdomain_of(zone.origin); at = at.parent()) {
      if (!exists_exactly(zone, at)) return true;
      if (!rdatas(zone, at, rrtype::NS).empty() && rdatas(zone, at, rrtype::DS).empty()) return true;
    }
    return false;
  }

  // "" when `zone` is trusted and holds exactly `set`, at its name or by wildcard expansion.
  static std::string judge_rrset(const Zone &zone, const RRset &set, const std::vector<Name> &untrusted) {
    const std::string what = "secure " + set.owner.to_text() + " " + type_to_text(set.type);
    if (!trusted(zone, untrusted)) return what + " in " + zone.origin.to_text() + ", which has no chain of trust";
    auto expected = rdatas(zone, set.owner, set.type);
    if (expected.empty() && !exists(zone, set.owner))
      if (auto wildcard = closest_encloser(zone, set.owner).prepend("*")) expected = rdatas(zone, *wildcard, set.type);
    if (expected != canonical(set)) return what + ": " + zone.origin.to_text() + " holds no such RRset";
    return "";
  }

  static bool trusted(const Zone &zone, const std::vector<Name> &untrusted) {
    if (!zone.secure_chain) return false;
    return std::none_of(untrusted.begin(), untrusted.end(), [&](const Name &n) { return zone.origin.is_subdomain_of(n); });
  }

  // A record at or below `name` in the zone (an empty non-terminal exists, RFC 4592 2.2.2).
  static bool exists(const Zone &zone, const Name &name) {
    return std::any_of(zone.records.begin(), zone.records.end(),
                       [&](const ResourceRecord &rr) { return rr.owner.is_subdomain_of(name); });
  }
  static bool exists_exactly(const Zone &zone, const Name &name) {
    return std::any_of(zone.records.begin(), zone.records.end(),
                       [&](const ResourceRecord &rr) { return rr.owner == name; });
  }
  // RFC 4592 3.3.1: the deepest existing ancestor of `name` in the zone.
  static Name closest_encloser(const Zone &zone, const Name &name) {
    for (Name at = name; at.is_subdomain_of(zone.origin) && at != zone.origin; at = at.parent())
      if (exists(zone, at)) return at;
    return zone.origin;
  }
  static bool dname_above(const Zone &zone, const Name &name) {
    if (name == zone.origin) return false;
    for (Name at = name.parent(); at.is_subdomain_of(zone.origin); at = at.parent()) {
      if (!rdatas(zone, at, rrtype::DNAME).empty()) return true;
      if (at == zone.origin) break;
    }
    return false;
  }
  // The RDATA of owner/type in canonical form (RFC 4034 6.2), sorted: what a
  // signature covers, so case changes in names inside RDATA do not count.
  static std::vector<std::string> rdatas(const Zone &zone, const Name &owner, uint16_t type) {
    std::vector<std::string> out;
    for (const auto &rr : zone.records)
      if (rr.owner == owner && rr.type == type) out.push_back(canonical_rdata(type, rr.rdata));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  static std::vector<std::string> canonical(const RRset &set) {
    std::vector<std::string> out;
    for (const auto &rdata : set.rdatas) out.push_back(canonical_rdata(set.type, rdata));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  // RFC 6672 3.2: an unsigned CNAME that a DNAME of the same answer gives exactly; the
  // validator checks the DNAME instead, and so does this oracle.
  static bool synthesized_cname(const RRset &cname, const std::vector<RRset> &sets) {
    if (cname.type != rrtype::CNAME || !cname.signatures.empty() || cname.rdatas.size() != 1) return false;
    auto target = Name::from_wire(cname.rdatas[0]);
    if (!target) return false;
    for (const auto &dname : sets) {
      if (dname.type != rrtype::DNAME || dname.rdatas.size() != 1 || dname.owner == cname.owner ||
          !cname.owner.is_subdomain_of(dname.owner))
        continue;
      auto dname_target = Name::from_wire(dname.rdatas[0]);
      if (dname_target && cname.owner.replace_suffix(dname.owner, *dname_target) == target) return true;
    }
    return false;
  }

  std::vector<Zone> zones_;
};

}  // namespace rsv::fuzz
