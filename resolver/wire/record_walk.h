// Walking the records of a DNS message in wire form without decoding it.
//
// For the few places that need one field of a message already built (the EDNS
// padding of a reply, the smallest TTL of a DoH answer) and must not pay for, or
// trust, a full parse: every length is checked against the message size, names are
// skipped without following compression pointers, and a malformed message ends the
// walk with an error instead of reading past the end. Pure; fuzzed through its
// callers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace rsv {

enum class WireSection { answer, authority, additional };

struct WireRecord {
  WireSection section = WireSection::answer;
  size_t offset = 0;         // where the record (its owner name) starts
  size_t rdlength_offset = 0;  // where its 2-octet RDLENGTH is
  uint16_t type = 0;
  uint16_t rrclass = 0;
  uint32_t ttl = 0;
  uint16_t rdlength = 0;
  size_t rdata_offset = 0;
  size_t end() const { return rdata_offset + rdlength; }
};

// Calls `visit` for each record after the question section, in order; `visit`
// returns false to stop early. Returns false if the message is malformed (short
// header, a name or record running past the end); records before the fault have
// been visited.
bool walk_records(const uint8_t *wire, size_t size, const std::function<bool(const WireRecord &)> &visit);

// Octets taken by the (possibly compressed) name at `offset`, or 0 if malformed.
size_t skip_wire_name(const uint8_t *wire, size_t size, size_t offset);

inline uint16_t read_be16(const uint8_t *p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t read_be32(const uint8_t *p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline void write_be16(uint8_t *p, uint16_t value) {
  p[0] = static_cast<uint8_t>(value >> 8);
  p[1] = static_cast<uint8_t>(value & 0xFF);
}

}  // namespace rsv
