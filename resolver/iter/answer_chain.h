// Following an answer section from the question name to its data.
//
// An authoritative answer may hold a chain: CNAMEs (RFC 1034 4.3.2) and DNAMEs
// whose substitution yields a CNAME (RFC 6672 3.2). follow_answer_chain walks it
// link by link from `name`, taking only records of the chain (anything else in the
// section is ignored), and stops at the data, at the end of the chain, at a loop,
// or when the chain grows past the budget.
#pragma once

#include <vector>

#include "resolver/wire/rr.h"

namespace rsv {

struct AnswerChain {
  enum class End {
    data,             // `records` ends with the data asked for
    open,             // the chain ends at `final_name` without data in this answer
    loop,             // a name appeared twice
    too_long,         // more links than the budget allows
    dname_overflow,   // RFC 6672 2.2: the substituted name would exceed 255 octets (YXDOMAIN)
  };
  End end = End::open;
  std::vector<ResourceRecord> records;    // links and data, with their RRSIGs, in chain order
  std::vector<ResourceRecord> cacheable;  // the same minus CNAMEs synthesized from DNAMEs
  Name final_name;                        // the last name reached
};

// Records of `type` at `owner` in `section`, with the RRSIGs covering them.
std::vector<ResourceRecord> rrset_with_signatures(const std::vector<ResourceRecord> &section, const Name &owner,
                                                  uint16_t type);

// `visited` holds the names of the chain so far (the question name first); the
// names reached are appended. `max_links` is the CNAME chain budget for the whole
// chain, `visited` included.
AnswerChain follow_answer_chain(const std::vector<ResourceRecord> &answer, const Name &name, uint16_t qtype,
                                std::vector<Name> &visited, size_t max_links);

}  // namespace rsv
