#include "resolver/policy/local_zones.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace rsv {

namespace {

constexpr uint32_t kLocalSoaTtl = 10800;  // RFC 6303 3
constexpr unsigned kMaxLocalCnameHops = 8;

std::string key(const Name &name) {
  return name.lowered().wire();
}

Name parse_name(const std::string &text) {
  auto name = Name::from_text(text);
  if (!name) throw std::logic_error("bad built-in name " + text);
  return *name;
}

std::string address_rdata(std::initializer_list<uint8_t> octets) {
  return std::string(octets.begin(), octets.end());
}

// RFC 2308 5: a negative answer lives min(SOA TTL, SOA MINIMUM).
ResourceRecord negative_soa(ResourceRecord soa) {
  if (auto minimum = soa_minimum(soa.rdata)) soa.ttl = std::min(soa.ttl, *minimum);
  return soa;
}

}  // namespace

ResourceRecord local_zone_soa(const Name &apex) {
  std::string rdata = apex.lowered().wire();
  rdata += parse_name("nobody.invalid.").wire();
  for (uint32_t v : {1u, 3600u, 1200u, 604800u, 10800u})
    for (int shift = 24; shift >= 0; shift -= 8) rdata.push_back(static_cast<char>((v >> shift) & 0xFF));
  return ResourceRecord{apex, rrtype::SOA, rrclass::IN, kLocalSoaTtl, rdata};
}

std::optional<Name> reverse_name(const ResourceRecord &rr) {
  char label[8];
  std::string text;
  if (rr.type == rrtype::A && rr.rdata.size() == 4) {
    for (int i = 3; i >= 0; --i) {
      std::snprintf(label, sizeof label, "%u.", static_cast<unsigned>(static_cast<uint8_t>(rr.rdata[i])));
      text += label;
    }
    return Name::from_text(text + "in-addr.arpa.");
  }
  if (rr.type == rrtype::AAAA && rr.rdata.size() == 16) {
    for (int i = 15; i >= 0; --i) {
      const auto octet = static_cast<uint8_t>(rr.rdata[i]);
      std::snprintf(label, sizeof label, "%x.%x.", octet & 0xF, octet >> 4);
      text += label;
    }
    return Name::from_text(text + "ip6.arpa.");
  }
  return std::nullopt;
}

LocalZones::LocalZones() {
  // RFC 6761 6.3: localhost names are the loopback addresses, every one of them.
  add_builtin("localhost.", LocalZoneType::redirect);
  const Name localhost = parse_name("localhost.");
  add_record(ResourceRecord{localhost, rrtype::A, rrclass::IN, kLocalSoaTtl, address_rdata({127, 0, 0, 1})},
             false);
  add_record(ResourceRecord{localhost, rrtype::AAAA, rrclass::IN, kLocalSoaTtl,
                            address_rdata({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
             false);
  add_record(ResourceRecord{localhost, rrtype::NS, rrclass::IN, kLocalSoaTtl, localhost.wire()}, false);
  add_builtin("invalid.", LocalZoneType::static_zone);    // RFC 6761 6.4
  add_builtin("onion.", LocalZoneType::static_zone);      // RFC 7686 2
  add_builtin("home.arpa.", LocalZoneType::static_zone);  // RFC 8375 4
  // RFC 6303 4: reverse zones of addresses that are never on the Internet.
  add_builtin("10.in-addr.arpa.", LocalZoneType::static_zone);
  for (int second = 16; second <= 31; ++second)
    add_builtin(std::to_string(second) + ".172.in-addr.arpa.", LocalZoneType::static_zone);
  for (const char *zone : {"168.192.in-addr.arpa.", "0.in-addr.arpa.", "127.in-addr.arpa.",
                           "254.169.in-addr.arpa.", "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
                           "113.0.203.in-addr.arpa.", "255.255.255.255.in-addr.arpa.",
                           "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
                           "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
                           "d.f.ip6.arpa.", "8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.",
                           "b.e.f.ip6.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa."})
    add_builtin(zone, LocalZoneType::static_zone);
  // RFC 7793: the shared address space 100.64.0.0/10.
  for (int second = 64; second <= 127; ++second)
    add_builtin(std::to_string(second) + ".100.in-addr.arpa.", LocalZoneType::static_zone);
  add_record(ResourceRecord{parse_name("1.0.0.127.in-addr.arpa."), rrtype::PTR, rrclass::IN, kLocalSoaTtl,
                            localhost.wire()},
             false);
  add_record(
      ResourceRecord{parse_name("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."),
                     rrtype::PTR, rrclass::IN, kLocalSoaTtl, localhost.wire()},
      false);
}

void LocalZones::add_builtin(const std::string &apex, LocalZoneType type) {
  const Name name = parse_name(apex);
  zones_[key(name)] = Zone{name, type, false, local_zone_soa(name)};
}

void LocalZones::set_zone(const Name &name, LocalZoneType type) {
  auto it = zones_.find(key(name));
  if (it != zones_.end()) {
    it->second.type = type;
    return;
  }
  zones_[key(name)] = Zone{name, type, false, local_zone_soa(name)};
}

void LocalZones::add_record(const ResourceRecord &record, bool make_ptr) {
  if (!enclosing_zone(record.owner)) set_zone(record.owner, LocalZoneType::transparent);
  Records &at = records_[key(record.owner)];
  const bool duplicate = std::any_of(at.begin(), at.end(), [&](const ResourceRecord &r) {
    return r.type == record.type && r.rdata == record.rdata;
  });
  if (!duplicate) {
    at.push_back(record);
    ++record_count_;
  }
  for (Name name = record.owner; !name.is_root(); name = name.parent()) existing_.insert(key(name));
  if (!make_ptr) return;
  if (auto reverse = reverse_name(record)) {
    const Records *existing = records_at(*reverse);
    const bool has_ptr =
        existing && std::any_of(existing->begin(), existing->end(),
                                [](const ResourceRecord &r) { return r.type == rrtype::PTR; });
    if (!has_ptr)
      add_record(ResourceRecord{*reverse, rrtype::PTR, rrclass::IN, record.ttl, record.owner.wire()}, false);
  }
}

void LocalZones::add_auth_zone(const Name &apex, const std::vector<ResourceRecord> &records) {
  const ResourceRecord *soa = nullptr;
  for (const auto &rr : records) {
    if (!rr.owner.is_subdomain_of(apex))
      throw std::runtime_error(rr.owner.to_text() + " is outside the zone " + apex.to_text());
    if (rr.type == rrtype::SOA && rr.owner == apex) soa = &rr;
  }
  if (!soa) throw std::runtime_error("no SOA record at the apex " + apex.to_text());
  zones_[key(apex)] = Zone{apex, LocalZoneType::static_zone, true, *soa};
  for (const auto &rr : records) add_record(rr, false);
}

const LocalZones::Zone *LocalZones::enclosing_zone(const Name &name) const {
  for (Name cut = name;; cut = cut.parent()) {
    if (auto it = zones_.find(key(cut)); it != zones_.end()) return &it->second;
    if (cut.is_root()) return nullptr;
  }
}

const LocalZones::Records *LocalZones::records_at(const Name &name) const {
  auto it = records_.find(key(name));
  return it == records_.end() ? nullptr : &it->second;
}

bool LocalZones::name_exists(const Name &name) const {
  return existing_.contains(key(name));
}

std::vector<Name> LocalZones::zone_names() const {
  std::vector<Name> out;
  for (const auto &[k, zone] : zones_) out.push_back(zone.apex);
  return out;
}

std::vector<Name> LocalZones::data_names() const {
  std::vector<Name> out;
  for (const auto &[k, records] : records_)
    if (!records.empty()) out.push_back(records.front().owner);
  return out;
}

LocalAnswer LocalZones::negative(const Zone &zone, bool nxdomain) const {
  LocalAnswer out;
  out.kind = nxdomain ? LocalAnswer::Kind::nxdomain : LocalAnswer::Kind::nodata;
  out.rcode = nxdomain ? rcode::NXDOMAIN : rcode::NOERROR;
  out.authority.push_back(negative_soa(zone.soa));
  out.zone = zone.apex;
  return out;
}

std::optional<LocalAnswer> LocalZones::answer(const Question &question) const {
  const Zone *zone = enclosing_zone(question.name);
  if (!zone) return std::nullopt;
  LocalAnswer out;
  out.zone = zone->apex;
  switch (zone->type) {
    case LocalZoneType::deny: out.kind = LocalAnswer::Kind::drop; return out;
    case LocalZoneType::refuse:
      out.kind = LocalAnswer::Kind::refuse;
      out.rcode = rcode::REFUSED;
      out.error = ExtendedError{ede::PROHIBITED, "local zone " + zone->apex.to_text() + " is refused"};
      return out;
    case LocalZoneType::transparent: {
      const Records *records = records_at(question.name);
      if (!records) return std::nullopt;
      const bool match = std::any_of(records->begin(), records->end(), [&](const ResourceRecord &r) {
        return r.type == question.qtype || r.type == rrtype::CNAME;
      });
      if (!match) return std::nullopt;
      answer_in_zone(*zone, question, out);
      return out;
    }
    case LocalZoneType::redirect: {
      // Every name in the zone has the apex's data (RFC 6761 6.3 for localhost).
      const Records *records = records_at(zone->apex);
      for (const auto &rr : records ? *records : Records{})
        if (rr.type == question.qtype) {
          ResourceRecord copy = rr;
          copy.owner = question.name;
          out.answer.push_back(std::move(copy));
        }
      if (out.answer.empty()) return negative(*zone, false);
      return out;
    }
    case LocalZoneType::static_zone: answer_in_zone(*zone, question, out); return out;
  }
  return std::nullopt;
}

void LocalZones::answer_in_zone(const Zone &zone, const Question &question, LocalAnswer &out) const {
  // A delegation inside a zone file: the parent's side answers with a referral
  // (RFC 1034 4.3.2 step 3b), except the DS question at the cut itself.
  if (zone.authoritative_file) {
    std::vector<Name> path;
    for (Name n = question.name; n != zone.apex && !n.is_root(); n = n.parent()) path.push_back(n);
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      const Records *records = records_at(*it);
      if (!records) continue;
      std::vector<ResourceRecord> ns;
      for (const auto &rr : *records)
        if (rr.type == rrtype::NS) ns.push_back(rr);
      if (ns.empty() || (question.qtype == rrtype::DS && *it == question.name)) continue;
      out.kind = LocalAnswer::Kind::referral;
      out.authoritative = false;
      out.authority = ns;
      for (const auto &rr : ns)
        if (auto target = rr.rdata_target(); target && target->is_subdomain_of(zone.apex))
          if (const Records *glue = records_at(*target))
            for (const auto &g : *glue)
              if (g.type == rrtype::A || g.type == rrtype::AAAA) out.additional.push_back(g);
      return;
    }
  }
  // The apex of a zone always exists; its SOA is the zone's own (RFC 6303 3).
  if (question.name == zone.apex && !zone.authoritative_file && question.qtype == rrtype::SOA) {
    out.answer.push_back(zone.soa);
    return;
  }
  Name current = question.name;
  const Zone *in = &zone;  // the zone that holds `current`
  for (unsigned hop = 0; hop <= kMaxLocalCnameHops; ++hop) {
    const Records *records = records_at(current);
    Name owner = current;
    if (!records && !name_exists(current) && current != in->apex) {
      // RFC 4592 3.3.1: the source of synthesis is "*" at the closest encloser.
      Name encloser = current;
      while (encloser != in->apex && !encloser.is_root() && !name_exists(encloser))
        encloser = encloser.parent();
      if (auto wildcard = encloser.prepend("*")) records = records_at(*wildcard);
      if (!records) {
        if (out.answer.empty()) {
          out = negative(zone, true);
        }  // else: a CNAME chain that ends in a missing local name: the chain as it is
        return;
      }
    }
    if (!records) {  // an empty non-terminal
      if (out.answer.empty()) out = negative(zone, false);
      return;
    }
    std::optional<Name> next;
    size_t added = 0;
    for (const auto &rr : *records) {
      if (rr.type != question.qtype && !(rr.type == rrtype::CNAME && question.qtype != rrtype::CNAME))
        continue;
      ResourceRecord copy = rr;
      copy.owner = owner;  // a wildcard's records take the name asked
      if (rr.type == rrtype::CNAME && question.qtype != rrtype::CNAME) next = rr.rdata_target();
      out.answer.push_back(std::move(copy));
      ++added;
    }
    if (added == 0) {
      if (out.answer.empty()) out = negative(zone, false);
      return;
    }
    // Follow a CNAME while its target is served here too.
    if (!next) return;
    const Zone *target_zone = enclosing_zone(*next);
    if (!target_zone || target_zone->type != LocalZoneType::static_zone ||
        std::any_of(out.answer.begin(), out.answer.end(),
                    [&](const ResourceRecord &r) { return r.owner == *next; }))
      return;
    current = *next;
    in = target_zone;
  }
}

}  // namespace rsv
