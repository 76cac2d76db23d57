// Scrubbing: what an authority may tell us, before anything is believed or cached.
//
// A reply from the servers of zone Z is trusted only for names at or below Z
// (its bailiwick). scrub_response removes everything else, so later stages can
// assume every record in the message is one the server had the right to say:
//  - records whose owner is outside Z, in any section;
//  - NS records in the authority section that are not a delegation toward the
//    question name (unrequested NS, a classic cache-poisoning vector);
//  - additional records that are not addresses of a name server or target named
//    in the answer or authority section;
//  - glue outside the sending zone's bailiwick when harden-glue is on;
//  - any RRset with more than max_rrset_records records.
#pragma once

#include "resolver/wire/message.h"

namespace rsv {

struct ScrubPolicy {
  Name zone;             // the zone whose servers sent the reply
  Name question_name;    // the name asked (possibly minimised)
  bool harden_glue = true;
  size_t max_rrset_records = 100;
};

struct ScrubReport {
  size_t removed_out_of_zone = 0;
  size_t removed_unrequested_ns = 0;
  size_t removed_additional = 0;
  size_t removed_oversized = 0;
  size_t total() const {
    return removed_out_of_zone + removed_unrequested_ns + removed_additional + removed_oversized;
  }
};

ScrubReport scrub_response(Message &reply, const ScrubPolicy &policy);

}  // namespace rsv
