#include "resolver/policy/policy.h"

#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "resolver/wire/address.h"
#include "resolver/wire/ldns_convert.h"

namespace rsv {

namespace {

constexpr uint32_t kHostsFileTtl = 300;
constexpr size_t kMaxWarningsPerFile = 5;

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": cannot read: " + std::strerror(errno));
  return std::move(text).str();
}

// /etc/hosts: "ADDRESS NAME [ALIAS...]": an A or AAAA record for each name, and the
// PTR of the address for the first (canonical) one.
void add_hosts_file(LocalZones &zones, const std::string &path, std::vector<std::string> *warnings) {
  std::istringstream lines(read_file(path));
  std::string line;
  size_t number = 0, reported = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string address_text, name_text;
    if (!(words >> address_text)) continue;  // blank or comment
    auto warn = [&](const std::string &why) {
      if (warnings && reported++ < kMaxWarningsPerFile)
        warnings->push_back(path + ":" + std::to_string(number) + ": " + why);
    };
    auto address = SocketAddress::parse(address_text, 0);
    if (!address || address->port() != 0) {
      warn("'" + address_text + "' is not an address");
      continue;
    }
    bool first = true;
    while (words >> name_text) {
      auto name = Name::from_text(name_text);
      if (!name) {
        warn("'" + name_text + "' is not a name");
        continue;
      }
      zones.add_record(ResourceRecord{*name, address->is_ipv6() ? rrtype::AAAA : rrtype::A, rrclass::IN,
                                      kHostsFileTtl, std::string(address->address_bytes())},
                       first);
      first = false;
    }
    if (first) warn("an address without a name");
  }
}

// Folds one list (its text and how it is used) into the digest of all of them.
uint64_t mix_digest(uint64_t digest, const std::string &text, const BlocklistSource &source) {
  digest = XXH3_64bits_withSeed(text.data(), text.size(), digest);
  const std::string use = std::to_string(static_cast<int>(source.format)) + "/" +
                          std::to_string(static_cast<int>(source.action)) + "/" + source.name;
  return XXH3_64bits_withSeed(use.data(), use.size(), digest);
}

}  // namespace

Policy::Policy() : Policy(0) {
  index_local_names();
}

Policy::Policy(uint64_t seed) : local_names_(seed), blocks_(seed), allows_(seed) {}

void Policy::index_local_names() {
  for (const Name &zone : local_.zone_names())
    local_names_.add(zone.lowered().wire(), NameSet::kSubtree, 0, 0);
  for (const Name &name : local_.data_names()) local_names_.add(name.lowered().wire(), NameSet::kSelf, 0, 0);
}

std::shared_ptr<const Policy> Policy::build(const PolicyConfig &config, uint64_t seed,
                                            std::vector<std::string> *warnings) {
  std::shared_ptr<Policy> policy(new Policy(seed));
  policy->blocked_ttl_ = config.blocked_ttl;
  LocalZones &local = policy->local_;
  for (const auto &rule : config.local_zones) local.set_zone(rule.name, rule.type);
  for (const auto &zone : config.auth_zones) {
    std::vector<ResourceRecord> records;
    for (auto &r : read_zone_file(zone.file, zone.name)) records.push_back(std::move(r.record));
    try {
      local.add_auth_zone(zone.name, records);
    } catch (const std::exception &e) {
      throw std::runtime_error(zone.file + ": " + e.what());
    }
  }
  for (const auto &text : config.local_data)
    for (auto &r : parse_zone_text(text + "\n", "local-data")) local.add_record(r.record, true);
  for (const auto &path : config.hosts_files) add_hosts_file(local, path, warnings);
  policy->index_local_names();

  // Blocklists, in the order given: a name listed twice keeps its first list.
  const uint64_t limit = config.blocklist_memory;
  for (size_t index = 0; index < config.blocklists.size(); ++index) {
    const BlocklistSource &source = config.blocklists[index];
    const std::string text = read_file(source.file);
    policy->lists_digest_ = mix_digest(policy->lists_digest_, text, source);
    LoadedList loaded{source, {}, 0};
    bool full = false;
    const size_t before = policy->blocks_.size();
    loaded.report = parse_list(text, source.format, source.file, [&](const ListRule &rule) {
      if (full) return;
      const auto action = static_cast<uint8_t>(rule.action.value_or(source.action));
      NameSet &into = rule.allow ? policy->allows_ : policy->blocks_;
      if (!into.add(rule.lowered_wire, rule.coverage, static_cast<uint8_t>(index), action, limit))
        full = true;
    });
    if (full)
      throw std::runtime_error(source.file + ": the blocklists need more than blocklist-memory (" +
                               format_size(limit) + ") at " + std::to_string(policy->blocks_.size()) +
                               " names; raise blocklist-memory or load fewer lists");
    loaded.names = policy->blocks_.size() - before;
    if (warnings)
      for (const auto &error : loaded.report.first_errors) warnings->push_back(error);
    policy->lists_.push_back(std::move(loaded));
  }
  std::string wire;
  for (const auto &entry : config.allowlist) {
    policy->lists_digest_ = XXH3_64bits_withSeed(entry.data(), entry.size(), policy->lists_digest_);
    if (entry.find('/') == std::string::npos) {
      if (!host_name_to_wire(entry, wire))
        throw std::runtime_error("allowlist: '" + entry + "' is not a domain name");
      policy->allows_.add(wire, entry.rfind("*.", 0) == 0 ? NameSet::kBelow : NameSet::kSubtree, 0, 0, limit);
      continue;
    }
    const std::string text = read_file(entry);
    policy->lists_digest_ = XXH3_64bits_withSeed(text.data(), text.size(), policy->lists_digest_);
    ListReport report = parse_list(text, ListFormat::domains, entry, [&](const ListRule &rule) {
      policy->allows_.add(rule.lowered_wire, rule.coverage, 0, 0, limit);
    });
    if (warnings)
      for (const auto &error : report.first_errors) warnings->push_back(error);
  }
  return policy;
}

std::optional<Policy::Block> Policy::blocked(const Name &name) const {
  const std::string wire = name.lowered().wire();
  auto hit = blocks_.match(wire);
  if (!hit) return std::nullopt;
  // The closest listed name decides, as the closest enclosing local-zone does in
  // Unbound: an allow for a.b.example under a block of example frees a.b.example's
  // subtree only, and a block of evil.good.example under an allow of good.example
  // still blocks. The same name on both: the allow.
  if (auto allow = allows_.match(wire); allow && allow->offset <= hit->offset) return std::nullopt;
  return Block{hit->list, static_cast<BlockAction>(hit->action)};
}

BlockedAnswer blocked_answer(const Question &question, BlockAction action, const std::string &list_name,
                             uint32_t ttl, const Name *cloaked_target) {
  BlockedAnswer out;
  out.error.info_code = ede::BLOCKED;
  out.error.extra_text = "blocked by list " + list_name;
  if (cloaked_target) out.error.extra_text += " (" + cloaked_target->to_text() + ", behind a CNAME)";
  switch (action) {
    case BlockAction::nxdomain: out.rcode = rcode::NXDOMAIN; break;
    case BlockAction::nodata: out.rcode = rcode::NOERROR; break;
    case BlockAction::refuse: out.rcode = rcode::REFUSED; break;
    case BlockAction::null_address:
      out.rcode = rcode::NOERROR;
      if (question.qtype == rrtype::A)
        out.answer.push_back(
            ResourceRecord{question.name, rrtype::A, rrclass::IN, ttl, std::string(4, '\0')});
      else if (question.qtype == rrtype::AAAA)
        out.answer.push_back(
            ResourceRecord{question.name, rrtype::AAAA, rrclass::IN, ttl, std::string(16, '\0')});
      break;
  }
  return out;
}

}  // namespace rsv
