#include "dnssec/rfc5011_state.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "dnssec/rrsig.h"
#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

using nlohmann::json;

constexpr const char *kFormat = "resolverd-trust-anchors";
constexpr int kVersion = 1;

[[noreturn]] void fail(const std::string &where, const std::string &why) {
  throw std::runtime_error(where + ": " + why);
}

const json &member(const json &object, const char *key, const std::string &where) {
  auto it = object.find(key);
  if (it == object.end()) fail(where, std::string("'") + key + "' is missing");
  return *it;
}

int64_t read_time(const json &object, const char *key, const std::string &where) {
  const json &value = member(object, key, where);
  if (!value.is_number_integer()) fail(where + "." + key, "expected a whole number of seconds");
  const int64_t seconds = value.get<int64_t>();
  // 0 means "never"; anything else must be a plausible time (after 1970, before 2^40).
  if (seconds < 0 || seconds > (int64_t{1} << 40)) fail(where + "." + key, "not a time");
  return seconds;
}

std::string read_string(const json &object, const char *key, const std::string &where) {
  const json &value = member(object, key, where);
  if (!value.is_string()) fail(where + "." + key, "expected a string");
  return value.get<std::string>();
}

const json &read_array(const json &object, const char *key, const std::string &where, size_t max) {
  const json &value = member(object, key, where);
  if (!value.is_array()) fail(where + "." + key, "expected a list");
  if (value.size() > max) fail(where + "." + key, "more than " + std::to_string(max) + " entries");
  return value;
}

// One DS or DNSKEY zone-file line, which must belong to `zone`.
ResourceRecord read_record(const json &value, uint16_t type, const Name &zone, const std::string &where) {
  if (!value.is_string()) fail(where, "expected a zone-file line");
  std::vector<RecordAtLine> records;
  try {
    records = parse_zone_text(value.get<std::string>() + "\n", where);
  } catch (const std::exception &e) {
    fail(where, e.what());
  }
  if (records.size() != 1) fail(where, "expected exactly one record");
  const ResourceRecord &rr = records.front().record;
  if (rr.type != type || rr.rclass != rrclass::IN || rr.owner != zone)
    fail(where, "expected an IN " + type_to_text(type) + " record of " + zone.to_text());
  return rr;
}

ManagedKey read_key(const json &entry, const Name &zone, const std::string &where) {
  if (!entry.is_object()) fail(where, "expected an object");
  ManagedKey key;
  const ResourceRecord rr =
      read_record(member(entry, "dnskey", where), rrtype::DNSKEY, zone, where + ".dnskey");
  key.rdata = without_revoke_bit(rr.rdata);
  auto fields = parse_dnskey(key.rdata);
  if (!fields) fail(where + ".dnskey", "malformed DNSKEY");
  key.key_tag = fields->key_tag;
  key.algorithm = fields->algorithm;
  const std::string state = read_string(entry, "state", where);
  auto parsed = key_state_from_string(state);
  if (!parsed) fail(where + ".state", "'" + state + "' is not a key state");
  key.state = *parsed;
  key.first_seen = read_time(entry, "first_seen", where);
  key.changed_at = read_time(entry, "changed_at", where);
  key.hold_down_until = read_time(entry, "hold_down_until", where);
  for (const json &tag : read_array(entry, "vouched_by", where, kMaxKeysPerTrustPoint)) {
    if (!tag.is_number_unsigned() || tag.get<uint64_t>() > 0xffff)
      fail(where + ".vouched_by", "expected key tags");
    key.vouched_by.push_back(static_cast<uint16_t>(tag.get<uint64_t>()));
  }
  return key;
}

TrustPoint read_point(const json &entry, const std::string &where) {
  if (!entry.is_object()) fail(where, "expected an object");
  const std::string zone_text = read_string(entry, "zone", where);
  auto zone = Name::from_text(zone_text);
  if (!zone) fail(where + ".zone", "'" + zone_text + "' is not a domain name");
  std::vector<ResourceRecord> ds;
  const json &ds_list = read_array(entry, "ds", where, kMaxKeysPerTrustPoint);
  for (size_t i = 0; i < ds_list.size(); ++i)
    ds.push_back(read_record(ds_list[i], rrtype::DS, *zone, where + ".ds[" + std::to_string(i) + "]"));
  std::vector<ManagedKey> keys;
  const json &key_list = read_array(entry, "keys", where, kMaxKeysPerTrustPoint);
  for (size_t i = 0; i < key_list.size(); ++i) {
    const std::string key_where = where + ".keys[" + std::to_string(i) + "]";
    ManagedKey key = read_key(key_list[i], *zone, key_where);
    if (key.state == KeyState::start) continue;
    for (const ManagedKey &earlier : keys)
      if (earlier.rdata == key.rdata) fail(key_where, "key " + key.id() + " is listed twice");
    keys.push_back(std::move(key));
  }
  TrustPoint point(*zone, std::move(ds), std::move(keys));
  point.next_refresh = read_time(entry, "next_refresh", where);
  point.last_refresh = read_time(entry, "last_refresh", where);
  point.last_success = read_time(entry, "last_success", where);
  point.signatures_expire = read_time(entry, "signatures_expire", where);
  const int64_t ttl = read_time(entry, "original_ttl", where);
  if (ttl > 0x7fffffff) fail(where + ".original_ttl", "above 2^31 - 1 (RFC 2181 8)");
  point.original_ttl = static_cast<uint32_t>(ttl);
  point.last_problem = read_string(entry, "last_problem", where);
  return point;
}

}  // namespace

std::string serialize_trust_point_state(const std::vector<TrustPoint> &points, int64_t written_at) {
  json zones = json::array();
  for (const TrustPoint &point : points) {
    json ds = json::array();
    for (const ResourceRecord &rr : point.ds()) ds.push_back(rr.to_text());
    json keys = json::array();
    for (const ManagedKey &key : point.keys()) {
      ResourceRecord rr{point.zone(), rrtype::DNSKEY, rrclass::IN, 3600, key.rdata};
      keys.push_back({{"dnskey", rr.to_text()},
                      {"tag", key.key_tag},
                      {"algorithm", key.algorithm},
                      {"state", to_string(key.state)},
                      {"first_seen", key.first_seen},
                      {"changed_at", key.changed_at},
                      {"hold_down_until", key.hold_down_until},
                      {"vouched_by", key.vouched_by}});
    }
    zones.push_back({{"zone", point.zone().to_text()},
                     {"ds", std::move(ds)},
                     {"keys", std::move(keys)},
                     {"next_refresh", point.next_refresh},
                     {"last_refresh", point.last_refresh},
                     {"last_success", point.last_success},
                     {"original_ttl", point.original_ttl},
                     {"signatures_expire", point.signatures_expire},
                     {"last_problem", point.last_problem}});
  }
  json document = {
      {"format", kFormat}, {"version", kVersion}, {"written", written_at}, {"zones", std::move(zones)}};
  // Invalid UTF-8 (a problem text quoting a hostile name) is replaced, never thrown on.
  return document.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::vector<TrustPoint> parse_trust_point_state(const std::string &text) {
  if (text.size() > kMaxTrustPointStateBytes)
    fail("state", "larger than " + std::to_string(kMaxTrustPointStateBytes) + " bytes");
  json document;
  try {
    // nlohmann's parser and destructor are iterative: deep nesting costs heap, not stack.
    document = json::parse(text);
  } catch (const json::exception &e) {
    fail("state", std::string("not valid JSON: ") + e.what());
  }
  if (!document.is_object()) fail("state", "expected a JSON object");
  if (read_string(document, "format", "state") != kFormat)
    fail("state.format", "not a resolverd trust anchor state");
  const json &version = member(document, "version", "state");
  if (!version.is_number_integer() || version.get<int64_t>() != kVersion)
    fail("state.version",
         "version " + version.dump() + " is not supported (expected " + std::to_string(kVersion) + ")");
  std::vector<TrustPoint> points;
  const json &zones = read_array(document, "zones", "state", kMaxTrustPoints);
  for (size_t i = 0; i < zones.size(); ++i) {
    TrustPoint point = read_point(zones[i], "zones[" + std::to_string(i) + "]");
    for (const TrustPoint &earlier : points)
      if (earlier.zone() == point.zone())
        fail("zones[" + std::to_string(i) + "]", "zone " + point.zone().to_text() + " is listed twice");
    points.push_back(std::move(point));
  }
  return points;
}

}  // namespace rsv
