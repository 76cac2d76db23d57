#include "resolver/wire/rr.h"

#include <algorithm>
#include <map>

#include "resolver/wire/ldns_handle.h"

namespace rsv {

std::string type_to_text(uint16_t type) {
  MallocString s(ldns_rr_type2str(static_cast<ldns_rr_type>(type)));
  return s ? std::string(s.get()) : "TYPE" + std::to_string(type);
}

uint16_t type_from_text(std::string_view text) {
  std::string t(text);
  return static_cast<uint16_t>(ldns_get_rr_type_by_name(t.c_str()));
}

std::string rcode_to_text(uint16_t code) {
  switch (code) {
    case rcode::NOERROR: return "NOERROR";
    case rcode::FORMERR: return "FORMERR";
    case rcode::SERVFAIL: return "SERVFAIL";
    case rcode::NXDOMAIN: return "NXDOMAIN";
    case rcode::NOTIMP: return "NOTIMP";
    case rcode::REFUSED: return "REFUSED";
    case rcode::BADVERS: return "BADVERS";
    default: return "RCODE" + std::to_string(code);
  }
}

uint16_t ResourceRecord::rrsig_type_covered() const {
  if (type != rrtype::RRSIG || rdata.size() < 2) return 0;
  return static_cast<uint16_t>((static_cast<uint8_t>(rdata[0]) << 8) | static_cast<uint8_t>(rdata[1]));
}

std::optional<Name> ResourceRecord::rdata_target() const {
  size_t skip = 0;
  switch (type) {
    case rrtype::NS:
    case rrtype::CNAME:
    case rrtype::DNAME:
    case rrtype::PTR: skip = 0; break;
    case rrtype::MX: skip = 2; break;
    case rrtype::SRV: skip = 6; break;
    default: return std::nullopt;
  }
  if (rdata.size() <= skip) return std::nullopt;
  std::string_view rest(rdata.data() + skip, rdata.size() - skip);
  size_t len = wire_name_length(reinterpret_cast<const uint8_t *>(rest.data()), rest.size(), 0);
  if (len == 0 || len != rest.size()) return std::nullopt;
  return Name::from_wire(rest);
}

std::string ResourceRecord::to_text() const {
  // Build the record's wire form and let ldns print it.
  std::string wire = owner.wire();
  auto put16 = [&](uint16_t v) {
    wire.push_back(static_cast<char>(v >> 8));
    wire.push_back(static_cast<char>(v & 0xff));
  };
  put16(type);
  put16(rclass);
  put16(static_cast<uint16_t>(ttl >> 16));
  put16(static_cast<uint16_t>(ttl & 0xffff));
  put16(static_cast<uint16_t>(rdata.size()));
  wire += rdata;
  ldns_rr *raw = nullptr;
  size_t pos = 0;
  if (ldns_wire2rr(&raw, reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), &pos,
                   LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
    return owner.to_text() + " <unprintable " + type_to_text(type) + ">";
  LdnsRr rr(raw);
  MallocString text(ldns_rr2str(rr.get()));
  std::string out = text ? text.get() : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

void RRset::add(const std::string &rdata, uint32_t record_ttl) {
  if (rdatas.empty() || record_ttl < ttl) ttl = record_ttl;
  if (std::find(rdatas.begin(), rdatas.end(), rdata) == rdatas.end()) rdatas.push_back(rdata);
}

std::vector<ResourceRecord> RRset::records() const {
  std::vector<ResourceRecord> out;
  out.reserve(rdatas.size());
  for (const auto &rd : rdatas) out.push_back(ResourceRecord{owner, type, rclass, ttl, rd});
  return out;
}

size_t RRset::wire_size_estimate() const {
  size_t size = 0;
  for (const auto &rd : rdatas) size += owner.wire().size() + 10 + rd.size();
  for (const auto &sig : signatures) size += sig.owner.wire().size() + 10 + sig.rdata.size();
  return size;
}

std::vector<RRset> group_rrsets(const std::vector<ResourceRecord> &records) {
  std::vector<RRset> sets;
  auto find_set = [&](const Name &owner, uint16_t type, uint16_t rclass) -> RRset * {
    for (auto &s : sets)
      if (s.type == type && s.rclass == rclass && s.owner == owner) return &s;
    return nullptr;
  };
  for (const auto &rr : records) {
    if (rr.type == rrtype::RRSIG) continue;
    RRset *set = find_set(rr.owner, rr.type, rr.rclass);
    if (!set) {
      sets.push_back(RRset{rr.owner, rr.type, rr.rclass, rr.ttl, {}, {}});
      set = &sets.back();
    }
    set->add(rr.rdata, rr.ttl);
  }
  for (const auto &rr : records) {
    if (rr.type != rrtype::RRSIG) continue;
    uint16_t covered = rr.rrsig_type_covered();
    RRset *set = find_set(rr.owner, covered, rr.rclass);
    if (!set) {
      // Signatures without their data are kept as an RRSIG set of their own.
      set = find_set(rr.owner, rrtype::RRSIG, rr.rclass);
      if (!set) {
        sets.push_back(RRset{rr.owner, rrtype::RRSIG, rr.rclass, rr.ttl, {}, {}});
        set = &sets.back();
      }
      set->add(rr.rdata, rr.ttl);
      continue;
    }
    // RFC 2181 5: a repeated record is one record; a repeated RRSIG would otherwise be
    // verified (and counted against the validation budget) twice.
    auto same_signature = [&](const ResourceRecord &sig) { return sig.rdata == rr.rdata; };
    if (std::none_of(set->signatures.begin(), set->signatures.end(), same_signature))
      set->signatures.push_back(rr);
  }
  return sets;
}

std::optional<uint32_t> soa_minimum(const std::string &rdata) {
  const auto *data = reinterpret_cast<const uint8_t *>(rdata.data());
  size_t mname = wire_name_length(data, rdata.size(), 0);
  if (mname == 0) return std::nullopt;
  size_t rname = wire_name_length(data, rdata.size(), mname);
  if (rname == 0) return std::nullopt;
  size_t pos = mname + rname + 16;
  if (pos + 4 != rdata.size()) return std::nullopt;
  return (uint32_t(data[pos]) << 24) | (uint32_t(data[pos + 1]) << 16) | (uint32_t(data[pos + 2]) << 8) |
         uint32_t(data[pos + 3]);
}

}  // namespace rsv
