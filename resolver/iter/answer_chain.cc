#include "resolver/iter/answer_chain.h"

#include <algorithm>

namespace rsv {

namespace {

const ResourceRecord *first_of_type(const std::vector<ResourceRecord> &records, uint16_t type) {
  for (const auto &rr : records)
    if (rr.type == type) return &rr;
  return nullptr;
}

// The DNAME whose owner is a proper ancestor of `name`, if the answer holds one.
const ResourceRecord *covering_dname(const std::vector<ResourceRecord> &answer, const Name &name) {
  const ResourceRecord *best = nullptr;
  for (const auto &rr : answer)
    if (rr.type == rrtype::DNAME && name.is_subdomain_of(rr.owner) && name != rr.owner &&
        (!best || rr.owner.label_count() > best->owner.label_count()))
      best = &rr;
  return best;
}

}  // namespace

std::vector<ResourceRecord> rrset_with_signatures(const std::vector<ResourceRecord> &section, const Name &owner,
                                                  uint16_t type) {
  std::vector<ResourceRecord> out;
  for (const auto &rr : section) {
    bool matches = rr.type == type || (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == type);
    if (matches && rr.owner == owner) out.push_back(rr);
  }
  return out;
}

AnswerChain follow_answer_chain(const std::vector<ResourceRecord> &answer, const Name &start, uint16_t qtype,
                                std::vector<Name> &visited, size_t max_links) {
  AnswerChain chain;
  chain.final_name = start;
  auto add = [&](const std::vector<ResourceRecord> &records, bool cacheable) {
    chain.records.insert(chain.records.end(), records.begin(), records.end());
    if (cacheable) chain.cacheable.insert(chain.cacheable.end(), records.begin(), records.end());
  };
  // Returns false (and sets chain.end) when the new name ends the walk.
  auto move_to = [&](const Name &next) {
    chain.final_name = next;
    if (std::find(visited.begin(), visited.end(), next) != visited.end()) {
      chain.end = AnswerChain::End::loop;
      return false;
    }
    visited.push_back(next);
    if (visited.size() > max_links + 1) {
      chain.end = AnswerChain::End::too_long;
      return false;
    }
    return true;
  };

  Name name = start;
  for (;;) {
    auto data = rrset_with_signatures(answer, name, qtype);
    if (first_of_type(data, qtype)) {
      add(data, true);
      chain.end = AnswerChain::End::data;
      return chain;
    }
    // RFC 6672 3.2: a DNAME above the name wins over any CNAME the server synthesized.
    const ResourceRecord *dname = qtype == rrtype::DNAME ? nullptr : covering_dname(answer, name);
    if (dname) {
      auto target = dname->rdata_target();
      if (!target) break;
      add(rrset_with_signatures(answer, dname->owner, rrtype::DNAME), true);
      auto synthesized = name.replace_suffix(dname->owner, *target);
      if (!synthesized) {
        chain.end = AnswerChain::End::dname_overflow;
        return chain;
      }
      // RFC 6672 3.1: the synthesized CNAME carries the DNAME's TTL.
      add({ResourceRecord{name, rrtype::CNAME, rrclass::IN, dname->ttl, synthesized->wire()}}, false);
      if (!move_to(*synthesized)) return chain;
      name = *synthesized;
      continue;
    }
    if (qtype != rrtype::CNAME) {
      auto cname = rrset_with_signatures(answer, name, rrtype::CNAME);
      if (const ResourceRecord *link = first_of_type(cname, rrtype::CNAME)) {
        auto target = link->rdata_target();
        if (!target) break;
        add(cname, true);
        if (!move_to(*target)) return chain;
        name = *target;
        continue;
      }
    }
    break;
  }
  chain.end = AnswerChain::End::open;
  chain.final_name = name;
  return chain;
}

}  // namespace rsv
