// EDNS(0) Padding (RFC 7830) of replies on encrypted transports, with the
// Block-Length Padding policy of RFC 8467 4.1: a reply is padded to the next
// multiple of 468 octets.
//
// Policy (RFC 7830 4, as Unbound's pad-responses): only over TLS or HTTPS, and only
// when the query itself carried a Padding option; never over plain UDP or TCP, where
// padding hides nothing, and never without EDNS (the reply has no OPT record to carry
// it). The listener decides; these functions only read and rewrite the wire form.
//
// Pure: no I/O, every length checked (record_walk.h); a malformed message is left as
// it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rsv {

inline constexpr size_t kResponsePaddingBlock = 468;  // RFC 8467 4.1
inline constexpr size_t kQueryPaddingBlock = 128;     // RFC 8467 4.1, for clients

// True if the message has an OPT record holding a Padding option (code 12).
bool has_padding_option(const uint8_t *wire, size_t size);

// Pads the message in `wire` (size octets, room for `capacity`) to a multiple of
// `block`, replacing any Padding option it already has; the OPT RDLENGTH is
// adjusted. Returns the new size; the old size when the message has no OPT record,
// is malformed, or the padded form would not fit `capacity` (RFC 8467: better
// unpadded than not at all).
size_t pad_message(uint8_t *wire, size_t size, size_t capacity, size_t block = kResponsePaddingBlock);
std::string padded_message(std::string_view wire, size_t block = kResponsePaddingBlock);

}  // namespace rsv
