#include "resolver/wire/edns_padding.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "resolver/wire/record_walk.h"

namespace rsv {

namespace {

constexpr uint16_t kTypeOpt = 41;      // RFC 6891 6.1.1
constexpr uint16_t kOptionPadding = 12;  // RFC 7830 3
constexpr size_t kOptionHeader = 4;    // code and length

std::optional<WireRecord> find_opt(const uint8_t *wire, size_t size) {
  std::optional<WireRecord> opt;
  bool ok = walk_records(wire, size, [&](const WireRecord &record) {
    if (record.section == WireSection::additional && record.type == kTypeOpt) {
      opt = record;
      return false;
    }
    return true;
  });
  if (!ok) return std::nullopt;
  return opt;
}

}  // namespace

bool has_padding_option(const uint8_t *wire, size_t size) {
  auto opt = find_opt(wire, size);
  if (!opt) return false;
  size_t offset = opt->rdata_offset;
  while (offset + kOptionHeader <= opt->end()) {
    const uint16_t code = read_be16(wire + offset);
    const size_t length = read_be16(wire + offset + 2);
    if (offset + kOptionHeader + length > opt->end()) return false;
    if (code == kOptionPadding) return true;
    offset += kOptionHeader + length;
  }
  return false;
}

size_t pad_message(uint8_t *wire, size_t size, size_t capacity, size_t block) {
  if (block == 0) return size;
  auto opt = find_opt(wire, size);
  if (!opt) return size;
  // The options without any Padding, in their order.
  std::vector<uint8_t> options;
  size_t offset = opt->rdata_offset;
  while (offset + kOptionHeader <= opt->end()) {
    const uint16_t code = read_be16(wire + offset);
    const size_t length = read_be16(wire + offset + 2);
    if (offset + kOptionHeader + length > opt->end()) return size;  // malformed: leave it
    if (code != kOptionPadding)
      options.insert(options.end(), wire + offset, wire + offset + kOptionHeader + length);
    offset += kOptionHeader + length;
  }
  if (offset != opt->end()) return size;
  const size_t after_opt = size - opt->end();  // records after the OPT (none, usually)
  const size_t unpadded = size - opt->rdlength + options.size() + kOptionHeader;
  const size_t padding = (block - unpadded % block) % block;
  const size_t padded = unpadded + padding;
  const size_t rdlength = options.size() + kOptionHeader + padding;
  if (padded > capacity || rdlength > 0xFFFF) return size;
  // Move what follows the OPT record, then rewrite its RDATA: options, then the
  // Padding option of zero octets (RFC 7830 3 says they SHOULD be 0x00).
  const size_t new_end = opt->rdata_offset + rdlength;
  std::memmove(wire + new_end, wire + opt->end(), after_opt);
  // Empty options: no memcpy at all (its source would be null; found by doh_request_fuzz).
  if (!options.empty()) std::memcpy(wire + opt->rdata_offset, options.data(), options.size());
  uint8_t *pad = wire + opt->rdata_offset + options.size();
  write_be16(pad, kOptionPadding);
  write_be16(pad + 2, static_cast<uint16_t>(padding));
  std::memset(pad + kOptionHeader, 0, padding);
  write_be16(wire + opt->rdlength_offset, static_cast<uint16_t>(rdlength));
  return padded;
}

std::string padded_message(std::string_view wire, size_t block) {
  std::string out(wire);
  out.resize(std::min<size_t>(wire.size() + block + kOptionHeader, 65535));
  if (out.size() < wire.size()) return std::string(wire);
  const size_t size = pad_message(reinterpret_cast<uint8_t *>(out.data()), wire.size(), out.size(), block);
  out.resize(size);
  return out;
}

}  // namespace rsv
