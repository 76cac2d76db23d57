#include "resolver/wire/record_walk.h"

namespace rsv {

namespace {
constexpr size_t kHeaderSize = 12;  // RFC 1035 4.1.1
}

size_t skip_wire_name(const uint8_t *wire, size_t size, size_t offset) {
  const size_t start = offset;
  // RFC 1035 3.1: at most 255 octets of labels; a pointer ends the name.
  while (offset < size) {
    const uint8_t length = wire[offset];
    if ((length & 0xC0) == 0xC0) return offset + 2 <= size ? offset + 2 - start : 0;
    if ((length & 0xC0) != 0) return 0;  // the 0x40 and 0x80 label types are obsolete
    offset += 1 + length;
    if (offset - start > 255) return 0;
    if (length == 0) return offset <= size ? offset - start : 0;
  }
  return 0;
}

bool walk_records(const uint8_t *wire, size_t size, const std::function<bool(const WireRecord &)> &visit) {
  if (wire == nullptr || size < kHeaderSize) return false;
  const unsigned questions = read_be16(wire + 4);
  const unsigned counts[3] = {read_be16(wire + 6), read_be16(wire + 8), read_be16(wire + 10)};
  size_t offset = kHeaderSize;
  for (unsigned i = 0; i < questions; ++i) {
    const size_t name = skip_wire_name(wire, size, offset);
    if (name == 0 || offset + name + 4 > size) return false;
    offset += name + 4;
  }
  for (int section = 0; section < 3; ++section) {
    for (unsigned i = 0; i < counts[section]; ++i) {
      WireRecord record;
      record.section = static_cast<WireSection>(section);
      record.offset = offset;
      const size_t name = skip_wire_name(wire, size, offset);
      if (name == 0 || offset + name + 10 > size) return false;
      const uint8_t *fixed = wire + offset + name;
      record.type = read_be16(fixed);
      record.rrclass = read_be16(fixed + 2);
      record.ttl = read_be32(fixed + 4);
      record.rdlength_offset = offset + name + 8;
      record.rdlength = read_be16(fixed + 8);
      record.rdata_offset = offset + name + 10;
      if (record.end() > size) return false;
      offset = record.end();
      if (!visit(record)) return true;
    }
  }
  return true;
}

}  // namespace rsv
