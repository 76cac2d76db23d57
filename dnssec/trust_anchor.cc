#include "dnssec/trust_anchor.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

constexpr const char *kBuiltinRootAnchor =
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16\n";

// DNSKEY flag bits, numbered from the most significant bit of the 16-bit field.
constexpr uint16_t kZoneKeyFlag = 0x0100;  // bit 7, RFC 4034 2.1.1
constexpr uint16_t kRevokeFlag = 0x0080;   // bit 8, RFC 5011 7
constexpr uint8_t kDnskeyProtocol = 3;     // RFC 4034 2.1.2

// Anchors being collected, with where each zone was first seen for messages.
class AnchorCollector {
 public:
  void add(const RecordAtLine &entry, const std::string &source_name) {
    const ResourceRecord &rr = entry.record;
    const std::string where = source_name + ":" + std::to_string(entry.line);
    auto fail = [&](const std::string &reason) { throw std::runtime_error(where + ": " + reason); };
    if (rr.rclass != rrclass::IN) fail("trust anchors must be class IN");
    if (rr.type != rrtype::DS && rr.type != rrtype::DNSKEY)
      fail("unexpected " + type_to_text(rr.type) + " record: a trust anchor is a DS or DNSKEY record");
    Group &group = group_for(rr.owner, where);
    if (rr.type == rrtype::DS) {
      // RFC 4034 5.1: key tag (2), algorithm (1), digest type (1), digest.
      if (rr.rdata.size() < 5) fail("DS record without a digest");
      insert_once(group.anchor.ds, rr);
      return;
    }
    // RFC 4034 2.1: flags (2), protocol (1), algorithm (1), public key.
    if (rr.rdata.size() < 5) fail("DNSKEY record without a public key");
    const uint16_t flags =
        static_cast<uint16_t>((static_cast<uint8_t>(rr.rdata[0]) << 8) | static_cast<uint8_t>(rr.rdata[1]));
    if (static_cast<uint8_t>(rr.rdata[2]) != kDnskeyProtocol)
      fail("DNSKEY protocol field must be 3 (RFC 4034 2.1.2)");
    if (!(flags & kZoneKeyFlag))
      fail("DNSKEY without the Zone Key flag cannot verify signatures (RFC 4034 2.1.1)");
    // A revoked key must not be trusted (RFC 5011 2.1); files kept by RFC 5011
    // tools may still list it, so it is skipped rather than refused.
    if (flags & kRevokeFlag) return;
    insert_once(group.anchor.dnskey, rr);
  }

  std::vector<TrustAnchor> take() {
    std::vector<TrustAnchor> anchors;
    for (Group &group : groups_) {
      if (group.anchor.ds.empty() && group.anchor.dnskey.empty())
        throw std::runtime_error(group.first_seen + ": every trust anchor for '" +
                                 group.anchor.zone.to_text() + "' is a revoked key");
      anchors.push_back(std::move(group.anchor));
    }
    groups_.clear();
    return anchors;
  }

 private:
  struct Group {
    TrustAnchor anchor;
    std::string first_seen;
  };

  Group &group_for(const Name &zone, const std::string &where) {
    for (Group &group : groups_)
      if (group.anchor.zone == zone) return group;
    groups_.push_back(Group{TrustAnchor{zone, {}, {}}, where});
    return groups_.back();
  }

  static void insert_once(std::vector<ResourceRecord> &records, const ResourceRecord &rr) {
    // RFC 2181 5: an RRset holds no duplicate records.
    bool present = std::any_of(records.begin(), records.end(),
                               [&](const ResourceRecord &r) { return r.rdata == rr.rdata; });
    if (!present) records.push_back(rr);
  }

  std::vector<Group> groups_;
};

}  // namespace

std::vector<TrustAnchor> load_trust_anchor_files(const std::vector<std::string> &paths) {
  AnchorCollector collector;
  for (const std::string &path : paths)
    for (const RecordAtLine &entry : read_zone_file(path)) collector.add(entry, path);
  return collector.take();
}

std::vector<TrustAnchor> parse_trust_anchor_text(const std::string &text, const std::string &source_name) {
  AnchorCollector collector;
  for (const RecordAtLine &entry : parse_zone_text(text, source_name)) collector.add(entry, source_name);
  return collector.take();
}

TrustAnchor builtin_root_trust_anchor() {
  return parse_trust_anchor_text(kBuiltinRootAnchor, "built-in root trust anchor").front();
}

std::vector<TrustAnchor> effective_trust_anchors(const std::vector<std::string> &configured_paths,
                                                 bool paths_were_given_explicitly) {
  if (paths_were_given_explicitly) return load_trust_anchor_files(configured_paths);
  bool all_present =
      std::all_of(configured_paths.begin(), configured_paths.end(), [](const std::string &path) {
        std::error_code error;
        return std::filesystem::exists(path, error);
      });
  if (all_present && !configured_paths.empty()) return load_trust_anchor_files(configured_paths);
  return {builtin_root_trust_anchor()};
}

}  // namespace rsv
