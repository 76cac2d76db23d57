#include "resolver/server/explain_trace.h"

#include <algorithm>

#include "dnssec/rrsig.h"
#include "resolver/wire/message.h"

namespace rsv {

namespace {

std::string algorithm_name(uint8_t algorithm) {
  switch (algorithm) {
    case 5: return "RSASHA1";
    case 7: return "RSASHA1-NSEC3-SHA1";
    case 8: return "RSASHA256";
    case 10: return "RSASHA512";
    case 13: return "ECDSAP256SHA256";
    case 14: return "ECDSAP384SHA384";
    case 15: return "ED25519";
    case 16: return "ED448";
    default: return "algorithm " + std::to_string(algorithm);
  }
}

std::string digest_name(uint8_t digest_type) {
  switch (digest_type) {
    case 1: return "SHA-1";
    case 2: return "SHA-256";
    case 4: return "SHA-384";
    default: return "digest " + std::to_string(digest_type);
  }
}

// "20261201164012" (RFC 4034 3.2) -> "2026-12-01 16:40:12"
std::string readable_time(const std::string &compact) {
  if (compact.size() != 14) return compact;
  return compact.substr(0, 4) + "-" + compact.substr(4, 2) + "-" + compact.substr(6, 2) + " " +
         compact.substr(8, 2) + ":" + compact.substr(10, 2) + ":" + compact.substr(12, 2);
}

const char *status_name(ZoneKeys::Status status) {
  switch (status) {
    case ZoneKeys::Status::secure: return "secure";
    case ZoneKeys::Status::insecure: return "insecure";
    case ZoneKeys::Status::bogus: return "bogus";
    case ZoneKeys::Status::not_a_cut: return "not-a-cut";
  }
  return "bogus";
}

std::string flags_text(const Message &reply) {
  std::string flags;
  auto add = [&](bool on, const char *name) {
    if (!on) return;
    if (!flags.empty()) flags += ' ';
    flags += name;
  };
  add(reply.aa, "aa");
  add(reply.tc, "tc");
  add(reply.rd, "rd");
  add(reply.ra, "ra");
  add(reply.ad, "ad");
  add(reply.cd, "cd");
  return flags;
}

std::string question_text(const Question &q) { return q.name.to_text() + " " + type_to_text(q.qtype); }

nlohmann::json records_text(const std::vector<ResourceRecord> &records) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto &rr : records) out.push_back(rr.to_text());
  return out;
}

nlohmann::json ede_json(uint16_t code, const std::string &text) {
  return {{"code", code}, {"name", ede_name(code)}, {"text", text}};
}

}  // namespace

nlohmann::json describe_ds(const ResourceRecord &ds) {
  auto fields = parse_ds(ds.rdata);
  if (!fields) return {{"text", ds.to_text()}};
  return {{"key_tag", fields->key_tag},
          {"algorithm", fields->algorithm},
          {"algorithm_name", algorithm_name(fields->algorithm)},
          {"digest_type", fields->digest_type},
          {"digest_name", digest_name(fields->digest_type)}};
}

nlohmann::json describe_dnskey(const ResourceRecord &dnskey) {
  auto fields = parse_dnskey(dnskey.rdata);
  if (!fields) return {{"text", dnskey.to_text()}};
  std::string role = (fields->flags & dnskey_flag::SEP) ? "KSK" : "ZSK";
  if (fields->flags & dnskey_flag::REVOKE) role += ", revoked";
  if (!(fields->flags & dnskey_flag::ZONE)) role = "not a zone key";
  return {{"key_tag", fields->key_tag},
          {"algorithm", fields->algorithm},
          {"algorithm_name", algorithm_name(fields->algorithm)},
          {"flags", fields->flags},
          {"role", role},
          {"bits", fields->public_key.size() * 8}};
}

nlohmann::json describe_rrsig(const ResourceRecord &rrsig, int64_t now) {
  auto fields = parse_rrsig(rrsig);
  if (!fields) return {{"text", rrsig.to_text()}};
  const char *timing = "valid";
  switch (check_signature_time(*fields, now)) {
    case SignatureTime::valid: break;
    case SignatureTime::not_yet_valid: timing = "not yet valid"; break;
    case SignatureTime::expired: timing = "expired"; break;
  }
  return {{"covers", type_to_text(fields->type_covered)},
          {"key_tag", fields->key_tag},
          {"algorithm", fields->algorithm},
          {"algorithm_name", algorithm_name(fields->algorithm)},
          {"signer", fields->signer.to_text()},
          {"inception", readable_time(signature_time_text(fields->inception, now))},
          {"expiration", readable_time(signature_time_text(fields->expiration, now))},
          {"timing", timing}};
}

ExplainTrace::ExplainTrace(const Clock &clock, const Question &question, bool checking_disabled)
    : clock_(clock), started_ms_(clock.now_monotonic_ms()), now_seconds_(clock.now_seconds()) {
  question_ = {{"name", question.name.to_text()}, {"type", type_to_text(question.qtype)}, {"cd", checking_disabled}};
  path_names_.push_back(question.name);
}

double ExplainTrace::elapsed_ms() const { return static_cast<double>(clock_.now_monotonic_ms() - started_ms_); }

ExplainTrace::ZoneEntry &ExplainTrace::zone_entry(const Name &zone) {
  for (auto &entry : zones_)
    if (entry.name == zone) return entry;
  zones_.push_back(ZoneEntry{zone,
                             {{"zone", zone.to_text()},
                              {"status", "unvalidated"},
                              {"reason", ""},
                              {"ede", nullptr},
                              {"trust_anchor", false},
                              {"from_cache", false},
                              {"ds", nlohmann::json::array()},
                              {"ds_signatures", nlohmann::json::array()},
                              {"denial", nlohmann::json::array()},
                              {"dnskeys", nlohmann::json::array()},
                              {"dnskey_signatures", nlohmann::json::array()},
                              {"servers", nlohmann::json::array()}}});
  return zones_.back();
}

nlohmann::json &ExplainTrace::server_entry(const Name &zone, const SocketAddress &server) {
  auto &servers = zone_entry(zone).data["servers"];
  const std::string address = server.to_string();
  for (auto &entry : servers)
    if (entry["address"] == address) return entry;
  servers.push_back({{"address", address},
                     {"queries", 0},
                     {"replies", 0},
                     {"failures", 0},
                     {"rtt_ms", nlohmann::json::array()}});
  return servers.back();
}

void ExplainTrace::subquery_started(const Question &question, size_t depth, std::string_view why) {
  depth_ = depth;
  steps_.push_back({{"t_ms", elapsed_ms()},
                    {"depth", depth},
                    {"kind", "subquery"},
                    {"question", question_text(question)},
                    {"why", std::string(why)}});
}

void ExplainTrace::subquery_finished(const Question &question, size_t depth, const Resolution &result) {
  nlohmann::json step = {{"t_ms", elapsed_ms()},
                         {"depth", depth},
                         {"kind", "subquery-done"},
                         {"question", question_text(question)},
                         {"rcode", rcode_to_text(result.rcode)},
                         {"security", to_string(result.security)},
                         {"answers", result.answer.size()}};
  if (result.error) step["ede"] = ede_json(result.error->info_code, result.error->extra_text);
  steps_.push_back(std::move(step));
  depth_ = depth > 0 ? depth - 1 : 0;
}

void ExplainTrace::query_sent(const Name &zone, const SocketAddress &server, const Question &question, bool tcp,
                              size_t depth) {
  depth_ = depth;
  ++upstream_queries_;
  auto &entry = server_entry(zone, server);
  entry["queries"] = entry["queries"].get<int>() + 1;
  last_query_zone_ = zone;
  last_query_step_ = steps_.size();
  steps_.push_back({{"t_ms", elapsed_ms()},
                    {"depth", depth},
                    {"kind", "query"},
                    {"zone", zone.to_text()},
                    {"server", server.to_string()},
                    {"question", question_text(question)},
                    {"transport", tcp ? "tcp" : "udp"}});
}

void ExplainTrace::reply_received(const SocketAddress &server, uint32_t rtt_ms, const Message &reply,
                                  size_t wire_size) {
  auto &entry = server_entry(last_query_zone_, server);
  entry["replies"] = entry["replies"].get<int>() + 1;
  entry["rtt_ms"].push_back(rtt_ms);
  if (last_query_step_ >= steps_.size()) return;
  auto &step = steps_[last_query_step_];
  step["rtt_ms"] = rtt_ms;
  step["rcode"] = rcode_to_text(reply.rcode);
  step["flags"] = flags_text(reply);
  step["size"] = wire_size;
  step["sections"] = {reply.answer.size(), reply.authority.size(), reply.additional.size()};
  std::vector<ExtendedError> errors = reply.extended_errors();
  if (!errors.empty()) step["ede"] = ede_json(errors.front().info_code, errors.front().extra_text);
}

void ExplainTrace::no_reply(const SocketAddress &server, std::string_view why) {
  auto &entry = server_entry(last_query_zone_, server);
  entry["failures"] = entry["failures"].get<int>() + 1;
  if (last_query_step_ < steps_.size()) steps_[last_query_step_]["failure"] = std::string(why);
}

void ExplainTrace::reply_classified(const SocketAddress &, const Name &, std::string_view verdict) {
  if (last_query_step_ < steps_.size()) steps_[last_query_step_]["verdict"] = std::string(verdict);
}

void ExplainTrace::note(std::string_view text) {
  steps_.push_back({{"t_ms", elapsed_ms()}, {"depth", depth_}, {"kind", "note"}, {"text", std::string(text)}});
}

void ExplainTrace::zone_settled(const Name &zone, const ZoneKeys &keys, const ZoneEvidence &evidence) {
  auto &data = zone_entry(zone).data;
  // A zone established earlier in this resolution and read back from the (private)
  // key cache: the first report, with its DS and signatures, says more.
  if (evidence.from_cache && data["status"] != "unvalidated") return;
  data["status"] = status_name(keys.status);
  data["reason"] = keys.status == ZoneKeys::Status::secure ? std::string() : keys.outcome.reason;
  if (keys.status == ZoneKeys::Status::bogus)
    data["ede"] = ede_json(keys.outcome.ede, keys.outcome.reason);
  data["trust_anchor"] = evidence.trust_anchor;
  data["from_cache"] = evidence.from_cache;
  auto &ds = data["ds"], &ds_signatures = data["ds_signatures"];
  ds = nlohmann::json::array();
  ds_signatures = nlohmann::json::array();
  for (const auto &rr : evidence.ds) {
    if (rr.type == rrtype::DS) ds.push_back(describe_ds(rr));
    if (rr.type == rrtype::DNSKEY) ds.push_back(describe_dnskey(rr));  // an anchor given as DNSKEY
    if (rr.type == rrtype::RRSIG) ds_signatures.push_back(describe_rrsig(rr, now_seconds_));
  }
  data["denial"] = nlohmann::json::array();
  for (const auto &rr : evidence.denial)
    if (rr.type != rrtype::RRSIG) data["denial"].push_back(rr.to_text());
  const RRset &dnskeys = !evidence.dnskeys.empty() ? evidence.dnskeys : keys.dnskeys;
  data["dnskeys"] = nlohmann::json::array();
  for (const auto &rr : dnskeys.records()) data["dnskeys"].push_back(describe_dnskey(rr));
  // Key-signing keys first: the order the chain is read in (DS -> KSK -> ZSK).
  std::stable_sort(data["dnskeys"].begin(), data["dnskeys"].end(), [](const nlohmann::json &a, const nlohmann::json &b) {
    return a.value("role", std::string()).rfind("KSK", 0) == 0 && b.value("role", std::string()).rfind("KSK", 0) != 0;
  });
  data["dnskey_signatures"] = nlohmann::json::array();
  for (const auto &sig : dnskeys.signatures) data["dnskey_signatures"].push_back(describe_rrsig(sig, now_seconds_));
  if (keys.status == ZoneKeys::Status::secure) data["reason"] = secure_link(data);
}

// How a secure zone's keys were reached, in one line: the DS (or anchor) key tags that
// match a DNSKEY which also signs the DNSKEY set (RFC 4035 5.2).
std::string ExplainTrace::secure_link(const nlohmann::json &data) {
  std::vector<int> ds_tags, key_tags, signing_tags, linked;
  for (const auto &ds : data["ds"]) ds_tags.push_back(ds.value("key_tag", -1));
  for (const auto &key : data["dnskeys"]) key_tags.push_back(key.value("key_tag", -1));
  for (const auto &sig : data["dnskey_signatures"]) signing_tags.push_back(sig.value("key_tag", -1));
  auto has = [](const std::vector<int> &v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  for (int tag : ds_tags)
    if (tag >= 0 && has(key_tags, tag) && has(signing_tags, tag) && !has(linked, tag)) linked.push_back(tag);
  if (data.value("from_cache", false) && ds_tags.empty()) return "validated earlier";
  if (linked.empty()) return "";
  std::string tags;
  for (int tag : linked) tags += (tags.empty() ? "" : ", ") + std::to_string(tag);
  return std::string(data.value("trust_anchor", false) ? "anchor" : "DS") + " " + tags + " -> DNSKEY " + tags +
         ", which signs the DNSKEY set";
}

void ExplainTrace::rrset_judged(const RRset &set, const Name &zone, const ValidationOutcome &outcome) {
  nlohmann::json signatures = nlohmann::json::array();
  for (const auto &sig : set.signatures) signatures.push_back(describe_rrsig(sig, now_seconds_));
  nlohmann::json entry = {{"owner", set.owner.to_text()},
                          {"type", type_to_text(set.type)},
                          {"zone", zone.to_text()},
                          {"security", to_string(outcome.security)},
                          {"reason", outcome.reason},
                          {"ede", nullptr},
                          {"signatures", signatures},
                          {"records", records_text(set.records())}};
  if (outcome.is_bogus()) entry["ede"] = ede_json(outcome.ede, outcome.reason);
  // The same RRset judged again (a retry after a bogus answer) replaces the first verdict.
  for (auto &old : rrsets_)
    if (old["owner"] == entry["owner"] && old["type"] == entry["type"]) {
      old = std::move(entry);
      return;
    }
  rrsets_.push_back(std::move(entry));
}

void ExplainTrace::denial_judged(const Name &zone, const ValidationOutcome &outcome) {
  denial_ = {{"zone", zone.to_text()}, {"security", to_string(outcome.security)}, {"reason", outcome.reason}};
  if (outcome.is_bogus()) denial_["ede"] = ede_json(outcome.ede, outcome.reason);
}

void ExplainTrace::finished(const Resolution &result, std::string_view budgets) {
  done_ = true;
  budgets_ = std::string(budgets);
  verdict_ = {{"rcode", rcode_to_text(result.rcode)},
              {"security", to_string(result.security)},
              {"ede", nullptr},
              {"answer", records_text(result.answer)},
              {"authority", records_text(result.authority)},
              {"duration_ms", elapsed_ms()}};
  if (result.error) verdict_["ede"] = ede_json(result.error->info_code, result.error->extra_text);
  // The names the answer speaks of: the question's, then each alias target.
  for (const auto &rr : result.answer)
    if (rr.type == rrtype::CNAME || rr.type == rrtype::DNAME)
      if (auto target = rr.rdata_target()) path_names_.push_back(*target);
}

std::vector<Name> ExplainTrace::zones() const {
  std::vector<Name> out;
  for (const auto &entry : zones_) out.push_back(entry.name);
  return out;
}

nlohmann::json ExplainTrace::report(nlohmann::json cache_before) const {
  std::vector<const ZoneEntry *> order;
  for (const auto &entry : zones_) order.push_back(&entry);
  auto on_path = [&](const Name &zone) {
    return std::any_of(path_names_.begin(), path_names_.end(), [&](const Name &n) { return n.is_subdomain_of(zone); });
  };
  std::stable_sort(order.begin(), order.end(), [&](const ZoneEntry *a, const ZoneEntry *b) {
    bool pa = on_path(a->name), pb = on_path(b->name);
    if (pa != pb) return pa;
    return a->name.label_count() < b->name.label_count();
  });
  nlohmann::json chain = nlohmann::json::array();
  for (const ZoneEntry *entry : order) {
    nlohmann::json data = entry->data;
    data["on_path"] = on_path(entry->name);
    chain.push_back(std::move(data));
  }
  return {{"question", question_},
          {"verdict", verdict_},
          {"chain", chain},
          {"rrsets", rrsets_},
          {"denial", denial_},
          {"steps", steps_},
          {"upstream_queries", upstream_queries_},
          {"budgets", budgets_},
          {"cache_before", std::move(cache_before)}};
}

}  // namespace rsv
