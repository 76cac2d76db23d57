// Whether a reply answers the query sent: the check every upstream transport (UDP,
// TCP, DoT, DoH) makes before a reply reaches the iterator. A pure function of the
// wire bytes, so the DoH response check (doh_message.h) and its fuzz target use it too.
#pragma once

#include <cstdint>
#include <string_view>

#include "resolver/wire/message.h"

namespace rsv {

// True if `wire` is a response to the query with `id` and `question` (RFC 5452 9.1):
// QR set, the same ID, exactly one question equal to ours (name compared
// case-insensitively; the engine checks 0x20 case itself), same type and class.
bool response_matches_query(std::string_view wire, uint16_t id, const Question &question);

}  // namespace rsv
