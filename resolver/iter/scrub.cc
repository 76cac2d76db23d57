#include "resolver/iter/scrub.h"

#include <algorithm>
#include <map>

namespace rsv {

namespace {

template <typename Pred>
size_t remove_records(std::vector<ResourceRecord> &section, Pred should_remove) {
  size_t before = section.size();
  section.erase(std::remove_if(section.begin(), section.end(), should_remove), section.end());
  return before - section.size();
}

bool in_zone(const ResourceRecord &rr, const Name &zone) { return rr.owner.is_subdomain_of(zone); }

// The type an RRSIG covers, or the record's own type.
uint16_t effective_type(const ResourceRecord &rr) {
  return rr.type == rrtype::RRSIG ? rr.rrsig_type_covered() : rr.type;
}

size_t remove_oversized(std::vector<ResourceRecord> &section, size_t limit) {
  std::map<std::tuple<std::string, uint16_t, uint16_t>, size_t> counts;
  for (const auto &rr : section) counts[{rr.owner.lowered().wire(), rr.type, rr.rclass}]++;
  return remove_records(section, [&](const ResourceRecord &rr) {
    auto key = std::make_tuple(rr.owner.lowered().wire(), effective_type(rr), rr.rclass);
    auto it = counts.find(key);
    return it != counts.end() && it->second > limit;
  });
}

}  // namespace

ScrubReport scrub_response(Message &reply, const ScrubPolicy &policy) {
  ScrubReport report;
  for (auto *section : {&reply.answer, &reply.authority, &reply.additional})
    report.removed_oversized += remove_oversized(*section, policy.max_rrset_records);

  // Out of bailiwick: the servers of `zone` cannot speak for other names.
  for (auto *section : {&reply.answer, &reply.authority})
    report.removed_out_of_zone +=
        remove_records(*section, [&](const ResourceRecord &rr) { return !in_zone(rr, policy.zone); });

  // RFC 2181 5.4.1 / Unbound's scrubber: NS in the authority section must be the
  // zone's own NS or a delegation on the way to the question name.
  report.removed_unrequested_ns += remove_records(reply.authority, [&](const ResourceRecord &rr) {
    if (effective_type(rr) != rrtype::NS) return false;
    return !policy.question_name.is_subdomain_of(rr.owner);
  });

  // Names whose addresses may legitimately appear in the additional section.
  std::vector<Name> wanted;
  for (const auto *section : {&reply.answer, &reply.authority})
    for (const auto &rr : *section)
      if (auto target = rr.rdata_target()) wanted.push_back(*target);
  report.removed_additional += remove_records(reply.additional, [&](const ResourceRecord &rr) {
    uint16_t type = effective_type(rr);
    if (type != rrtype::A && type != rrtype::AAAA) return true;
    if (std::find(wanted.begin(), wanted.end(), rr.owner) == wanted.end()) return true;
    // harden-glue: addresses are believed only inside the bailiwick of the zone whose
    // servers sent them (the delegating zone), as Unbound's harden-glue does.
    return policy.harden_glue && !rr.owner.is_subdomain_of(policy.zone);
  });
  return report;
}

}  // namespace rsv
