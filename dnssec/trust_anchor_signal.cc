#include "dnssec/trust_anchor_signal.h"

#include <cstdio>
#include <set>

#include "dnssec/rrsig.h"

namespace rsv {

std::vector<uint16_t> anchor_key_tags(const TrustAnchor &anchor) {
  std::set<uint16_t> tags;
  for (const ResourceRecord &ds : anchor.ds)
    if (auto fields = parse_ds(ds.rdata)) tags.insert(fields->key_tag);
  for (const ResourceRecord &key : anchor.dnskey)
    if (key.rdata.size() >= 4) tags.insert(key_tag(key.rdata));
  return {tags.begin(), tags.end()};
}

std::optional<Name> key_tag_query_name(const Name &zone, const std::vector<uint16_t> &ascending_tags) {
  if (ascending_tags.empty()) return std::nullopt;
  // RFC 8145 5.1: "_ta-" then each key tag as four hexadecimal digits (lowercase, as
  // the RFC's examples and every implementation write them), joined by "-".
  std::string label = "_ta";
  for (uint16_t tag : ascending_tags) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "-%04x", static_cast<unsigned>(tag));
    label += hex;
  }
  if (label.size() > 63) return std::nullopt;  // RFC 1035 2.3.4
  return zone.prepend(label);
}

EdnsOption edns_key_tag_option(const std::vector<uint16_t> &ascending_tags) {
  EdnsOption option;
  option.code = edns_option_extra::EDNS_KEY_TAG;
  for (uint16_t tag : ascending_tags) {
    option.data.push_back(static_cast<char>(tag >> 8));
    option.data.push_back(static_cast<char>(tag & 0xff));
  }
  return option;
}

const TrustAnchor *anchor_for_zone(const std::vector<TrustAnchor> &anchors, const Name &zone) {
  for (const TrustAnchor &anchor : anchors)
    if (anchor.zone == zone) return &anchor;
  return nullptr;
}

}  // namespace rsv
