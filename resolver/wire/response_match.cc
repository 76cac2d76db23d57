#include "resolver/wire/response_match.h"

#include "resolver/wire/name.h"
#include "resolver/wire/record_walk.h"

namespace rsv {

namespace {

constexpr size_t kDnsHeaderSize = 12;

}  // namespace

bool response_matches_query(std::string_view wire, uint16_t id, const Question &question) {
  const auto *data = reinterpret_cast<const uint8_t *>(wire.data());
  const size_t size = wire.size();
  if (size < kDnsHeaderSize) return false;
  if (read_be16(data) != id) return false;
  if ((data[2] & 0x80) == 0) return false;    // QR: a query is not an answer
  const uint16_t qdcount = read_be16(data + 4);
  // RFC 6891 7: servers that do not know EDNS may answer FORMERR (or NOTIMP) without
  // repeating the question; the ID and the connected socket still vouch for it, and
  // the iterator needs it to fall back to plain DNS quickly.
  const unsigned rcode = data[3] & 0x0F;
  if (qdcount == 0 && (rcode == 1 || rcode == 4)) return true;
  if (qdcount != 1) return false;
  // The question name follows the header and cannot be compressed (there is nothing
  // before it to point at).
  const size_t name_length = wire_name_length(data, size, kDnsHeaderSize);
  const std::string &ours = question.name.wire();
  if (name_length == 0 || name_length != ours.size()) return false;
  if (size < kDnsHeaderSize + name_length + 4) return false;
  // Byte-wise comparison after ASCII folding is exact for two valid uncompressed names
  // of equal length: length octets (<= 63) are never changed by folding.
  for (size_t i = 0; i < name_length; ++i) {
    if (dns_tolower(static_cast<char>(data[kDnsHeaderSize + i])) != dns_tolower(ours[i]))
      return false;
  }
  const uint8_t *type_and_class = data + kDnsHeaderSize + name_length;
  return read_be16(type_and_class) == question.qtype && read_be16(type_and_class + 2) == question.qclass;
}

}  // namespace rsv
