// Cache keys built in a stack buffer: the lower-cased owner name in wire form, then
// type and class (and, for the message cache, a flags octet), so that lookups are
// case-insensitive (RFC 4343) and allocate nothing.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "resolver/wire/name.h"

namespace rsv {

class CacheKey {
public:
  // A name of up to 255 octets, type, class and one flags octet.
  static constexpr size_t kMaxSize = Name::kMaxWireLength + 2 + 2 + 1;

  // `lowered_name_wire` must already be lower-case (the message cache's hot path).
  CacheKey(std::string_view lowered_name_wire, uint16_t type, uint16_t rclass) {
    if (lowered_name_wire.size() > Name::kMaxWireLength) {
      valid_ = false;
      return;
    }
    std::memcpy(bytes_, lowered_name_wire.data(), lowered_name_wire.size());
    size_ = lowered_name_wire.size();
    append_u16(type);
    append_u16(rclass);
  }

  // Lower-cases `name` on the way in. Length octets are at most 63, below 'A', so
  // folding the whole wire form touches only label characters.
  CacheKey(const Name &name, uint16_t type, uint16_t rclass) {
    const std::string &wire = name.wire();
    for (char c : wire) bytes_[size_++] = dns_tolower(c);
    append_u16(type);
    append_u16(rclass);
  }

  void append_u8(uint8_t value) { bytes_[size_++] = static_cast<char>(value); }
  // False only for a name longer than the DNS allows (never a cache hit).
  bool valid() const { return valid_; }
  std::string_view view() const { return {bytes_, size_}; }

private:
  void append_u16(uint16_t value) {
    bytes_[size_++] = static_cast<char>(value >> 8);
    bytes_[size_++] = static_cast<char>(value & 0xFF);
  }

  char bytes_[kMaxSize];
  size_t size_ = 0;
  bool valid_ = true;
};

// Whether a cache key that starts with a lower-cased name in wire form names `name`
// (lower-cased wire form too) or, with `subtree`, a name at or below it. The key's
// labels are walked so that only whole labels match.
inline bool key_starts_with_name(std::string_view key, std::string_view lowered_name_wire, bool subtree) {
  size_t pos = 0;
  while (pos < key.size()) {
    if (key.compare(pos, lowered_name_wire.size(), lowered_name_wire) == 0) return subtree || pos == 0;
    const size_t length = static_cast<uint8_t>(key[pos]);
    if (length == 0) return false;  // the root label ends the key's name
    pos += 1 + length;
  }
  return false;
}

}  // namespace rsv
