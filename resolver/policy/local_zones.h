// Names that never leave the house: zones the resolver answers itself, from built-in
// defaults, the configuration's local data, hosts files and zone files.
//
// Built in, unless `local-zones` says otherwise:
//   localhost.                redirect: every name in it is 127.0.0.1 / ::1 (RFC 6761 6.3)
//   invalid., onion.          NXDOMAIN (RFC 6761 6.4, RFC 7686 2)
//   home.arpa.                NXDOMAIN unless local data fills it (RFC 8375 4)
//   RFC 6303 reverse zones    NXDOMAIN (10/8, 172.16/12, 192.168/16, 0/8, 127/8,
//                             169.254/16, the TEST-NETs, 255.255.255.255, ::, ::1,
//                             fd00::/8, fe80::/10, 2001:db8::/32) and RFC 7793's
//                             100.64/10, with 1.0.0.127 / ::1 PTR localhost.
// each with the SOA of RFC 6303 3 on negative answers, so a stub caches them.
//
// Zone types (as Unbound's local-zone types):
//   transparent  local data answers what it holds (the name and type); anything else
//                is resolved as usual. Setting a built-in zone transparent turns it off.
//   static       local data answers; any other name or type in the zone is NXDOMAIN or
//                NODATA with the zone's SOA.
//   redirect     the zone apex's data answers for every name in the zone.
//   refuse       REFUSED (EDE 18, Prohibited).
//   deny         dropped without an answer.
// A zone file (`auth-zones`) is served like a static zone, authoritatively, with
// wildcards (RFC 4592) and referrals for its delegations. Local data outside every
// zone gets a transparent zone of its own (as in Unbound). An A or AAAA record of
// local data or a hosts file brings its PTR record in the reverse zone.
//
// Local answers carry AA, are not validated (never AD) and are never sent upstream.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "resolver/config/config.h"  // LocalZoneType
#include "resolver/wire/message.h"

namespace rsv {

struct LocalAnswer {
  enum class Kind { answer, referral, nxdomain, nodata, refuse, drop };
  Kind kind = Kind::answer;
  uint16_t rcode = rcode::NOERROR;
  bool authoritative = true;
  std::vector<ResourceRecord> answer, authority, additional;
  std::optional<ExtendedError> error;
  Name zone;  // the local zone that answered
};

class LocalZones {
public:
  // The built-in zones only.
  LocalZones();

  // `local-zones`: NAME -> type, replacing a built-in zone of the same name.
  void set_zone(const Name &name, LocalZoneType type);
  // One record of local data (`local-data`, hosts files); with `make_ptr`, an A or
  // AAAA record also gets its PTR record (unless the reverse name has one already).
  void add_record(const ResourceRecord &record, bool make_ptr);
  // A whole zone served authoritatively (`auth-zones`). Throws std::runtime_error
  // when the records have no SOA at `apex` or lie outside it.
  void add_auth_zone(const Name &apex, const std::vector<ResourceRecord> &records);

  // The local answer to `question`, or nullopt when it is resolved as usual.
  std::optional<LocalAnswer> answer(const Question &question) const;

  // Every zone apex and name with data, for the fast path's check (policy.h).
  std::vector<Name> zone_names() const;
  std::vector<Name> data_names() const;
  size_t zone_count() const { return zones_.size(); }
  size_t record_count() const { return record_count_; }

private:
  struct Zone {
    Name apex;
    LocalZoneType type = LocalZoneType::static_zone;
    bool authoritative_file = false;  // from auth-zones: served with referrals
    ResourceRecord soa;
  };
  using Records = std::vector<ResourceRecord>;

  const Zone *enclosing_zone(const Name &name) const;
  const Records *records_at(const Name &name) const;
  bool name_exists(const Name &name) const;  // data at it, or below it (an empty non-terminal)
  void add_builtin(const std::string &apex, LocalZoneType type);
  LocalAnswer negative(const Zone &zone, bool nxdomain) const;
  void answer_in_zone(const Zone &zone, const Question &question, LocalAnswer &out) const;

  std::unordered_map<std::string, Zone> zones_;       // by the apex's lowered wire form
  std::unordered_map<std::string, Records> records_;  // by the owner's lowered wire form
  std::unordered_set<std::string> existing_;          // owners and their ancestors
  size_t record_count_ = 0;
};

// The SOA of a locally served zone (RFC 6303 3): "ZONE 10800 IN SOA ZONE.
// nobody.invalid. 1 3600 1200 604800 10800".
ResourceRecord local_zone_soa(const Name &apex);
// "192.168.1.10" -> "10.1.168.192.in-addr.arpa."; IPv6 in nibbles under ip6.arpa.
std::optional<Name> reverse_name(const ResourceRecord &address_record);

}  // namespace rsv
