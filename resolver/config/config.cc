// Reading conf/resolver.yaml: every mapping is read against a table of the keys
// valid at that level, every value is checked where it stands so that an error can
// name its file, line and key, and a setting given replaces its default outright.
#include "resolver/config/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <system_error>

#include <yaml-cpp/yaml.h>

#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

// Whether a control character starts at text[at] (valid UTF-8). YAML 1.2 5.1 allows
// none of the C0 controls but tab, line feed and carriage return, nor DEL or the C1
// controls (U+0080..U+009F); and yaml-cpp, a YAML 1.1 reader, takes NEL, LS and PS
// (U+0085, U+2028, U+2029) for line breaks, folding one inside a quoted value into a
// space when it reads the dumped file, so --check-config would print another setting
// than the one in force. None of them belongs in a path, a name or a number.
// `carriage_return` says whether CR passes (in the file's text it ends lines; in a
// value it is a control like the others).
bool is_control_character_at(std::string_view text, size_t at, bool carriage_return) {
  const auto c = static_cast<unsigned char>(text[at]);
  if (c == '\t' || c == '\n' || (c == '\r' && carriage_return)) return false;
  if (c < 0x20 || c == 0x7F) return true;
  const auto next = [&](size_t k) {
    return at + k < text.size() ? static_cast<unsigned char>(text[at + k]) : 0;
  };
  if (c == 0xC2) return next(1) >= 0x80 && next(1) <= 0x9F;                       // C1, NEL among them
  if (c == 0xE2) return next(1) == 0x80 && (next(2) == 0xA8 || next(2) == 0xA9);  // LS, PS
  return false;
}

std::optional<size_t> first_invalid_utf8_line(std::string_view text);  // below

// One value in the document: its node, the dotted key that holds it and where it is.
struct Item {
  YAML::Node node;
  std::string key;  // "network.edns-buffer-size"
  YAML::Mark mark;
};

struct Field {
  const char *key;
  std::function<void(const Item &)> read;
};

const char *describe(const YAML::Node &node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "a single value";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "an undefined value";
  }
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

std::string join_path(const std::string &parent, const std::string &key) {
  return parent.empty() ? key : parent + "." + key;
}

// Walks the document, filling a Config that starts from the defaults.
class ConfigReader {
public:
  explicit ConfigReader(std::string source) : source_(std::move(source)) {}

  Config read(const YAML::Node &root) {
    config_ = default_config();
    config_.source_file = source_;
    read_mapping(Item{root, "", root.Mark()}, top_level_fields());
    check_combinations();
    return config_;
  }

private:
  [[noreturn]] void fail_at(const YAML::Mark &mark, const std::string &message) const {
    std::string line = mark.is_null() ? "1" : std::to_string(mark.line + 1);
    throw ConfigError(source_ + ":" + line + ": " + message);
  }
  [[noreturn]] void fail(const Item &item, const std::string &reason) const {
    fail_at(item.mark, "key '" + item.key + "': " + reason);
  }

  // Reads a mapping against the keys valid at its level. A key left empty
  // ("network:" with every line below commented out) counts as an empty mapping.
  void read_mapping(const Item &item, const std::vector<Field> &fields) {
    if (item.node.IsNull()) return;
    if (!item.node.IsMap()) {
      if (item.key.empty())
        fail_at(item.mark, std::string("expected a mapping of keys, got ") + describe(item.node));
      fail(item, std::string("expected a mapping of keys, got ") + describe(item.node));
    }
    std::vector<std::string> seen;
    for (const auto &entry : item.node) {
      const YAML::Node key_node = entry.first;
      const YAML::Node value = entry.second;
      if (!key_node.IsScalar()) fail_at(key_node.Mark(), "a key must be a plain word");
      const std::string &key = key_node.Scalar();
      const std::string full_key = join_path(item.key, key);
      auto field = std::find_if(fields.begin(), fields.end(), [&](const Field &f) { return key == f.key; });
      if (field == fields.end()) fail_at(key_node.Mark(), unknown_key_message(full_key, key, fields));
      if (std::find(seen.begin(), seen.end(), key) != seen.end())
        fail_at(key_node.Mark(), "key '" + full_key + "' is given more than once");
      seen.push_back(key);
      // A key with no value is marked where the next token starts; point at the key.
      YAML::Mark mark = value.IsNull() || value.Mark().is_null() ? key_node.Mark() : value.Mark();
      marks_[full_key] = mark;
      field->read(Item{value, full_key, mark});
    }
  }

  static std::string unknown_key_message(const std::string &full_key, const std::string &key,
                                         const std::vector<Field> &fields) {
    std::string message = "unknown key '" + full_key + "'";
    // A key cut short ("max-cname") is best completed when only one key starts so.
    const Field *completion = nullptr;
    size_t completions = 0;
    for (const Field &f : fields)
      if (std::string_view(f.key).starts_with(key)) completion = &f, ++completions;
    if (completions == 1) return message + " (did you mean '" + completion->key + "'?)";
    const Field *best = nullptr;
    size_t best_distance = 0;
    for (const Field &f : fields) {
      size_t d = edit_distance(key, f.key);
      if (!best || d < best_distance) best = &f, best_distance = d;
    }
    // A third of the key's length catches typos and British/American spellings
    // without suggesting unrelated keys for short words.
    size_t tolerance = std::max<size_t>(2, key.size() / 3);
    if (best && best_distance <= tolerance) return message + " (did you mean '" + best->key + "'?)";
    message += " (expected one of:";
    for (const Field &f : fields) message += std::string(" ") + f.key;
    return message + ")";
  }

  // --- scalar readers -------------------------------------------------------

  std::string scalar(const Item &item) const {
    if (!item.node.IsScalar()) fail(item, std::string("expected a single value, got ") + describe(item.node));
    // The file's text holds no raw control character (first_control_character_line),
    // but a double-quoted scalar can still spell one as an escape ("\0", "\x01", "\e",
    // "\L"), which yaml-cpp decodes: the value in force is checked too. Tab and line
    // feed (a block scalar's lines) are text. yaml-cpp decodes "\N" and "\_" to one
    // octet (0x85, 0xA0), not to UTF-8, which its emitter would write back as U+FFFD.
    const std::string &value = item.node.Scalar();
    if (first_invalid_utf8_line(value))
      fail(item,
           "the value is not UTF-8 (the escapes \\N and \\_ in a quoted string give a lone octet; "
           "\\u00A0 spells a no-break space)");
    for (size_t at = 0; at < value.size(); ++at) {
      if (is_control_character_at(value, at, false))
        fail(item,
             "a control character in the value (an escape such as \\0, \\x01 or \\L in a quoted string)");
    }
    return value;
  }

  bool read_bool(const Item &item) const {
    std::string text = scalar(item);
    std::transform(text.begin(), text.end(), text.begin(), [](char c) { return dns_tolower(c); });
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
    fail(item, "expected true or false, got '" + item.node.Scalar() + "'");
  }

  uint32_t read_uint(const Item &item, uint32_t min, uint32_t max) const {
    const std::string text = scalar(item);
    uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
      fail(item, "expected a whole number, got '" + text + "'");
    if (value < min || value > max)
      fail(item, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return static_cast<uint32_t>(value);
  }

  std::string read_path(const Item &item) const {
    std::string path = scalar(item);
    if (path.empty()) fail(item, "expected a file path, got an empty string");
    return path;
  }

  Name read_name(const Item &item) const {
    std::string text = scalar(item);
    std::optional<Name> name = Name::from_text(text);
    if (!name) fail(item, "'" + text + "' is not a valid domain name");
    return *name;
  }

  SocketAddress read_address(const Item &item, uint16_t default_port = 53) const {
    std::string text = scalar(item);
    std::optional<SocketAddress> address = SocketAddress::parse(text, default_port);
    if (!address)
      fail(item, "'" + text + "' is not an address (expected e.g. 192.0.2.1@" + std::to_string(default_port) +
                     " or ::1@" + std::to_string(default_port) + ")");
    return *address;
  }

  // A file the daemon writes: absolute, since it may chdir, and not a directory.
  std::string read_file_path(const Item &item) const {
    std::string path = read_path(item);
    if (path.front() != '/') fail(item, "'" + path + "' must be an absolute path");
    if (path.back() == '/') fail(item, "'" + path + "' names a directory, not a file");
    return path;
  }

  // A Unix socket's path must fit sockaddr_un (108 octets with the final NUL).
  std::string read_socket_path(const Item &item) const {
    std::string path = read_path(item);
    if (path.size() > 107) fail(item, "a Unix socket path is at most 107 characters long");
    return path;
  }

  SocketAddress read_source_address(const Item &item) const {
    std::string text = scalar(item);
    std::optional<SocketAddress> address = SocketAddress::parse(text, 0);
    if (!address) fail(item, "'" + text + "' is not an IPv4 or IPv6 address");
    if (address->port() != 0) fail(item, "'" + text + "': a source address takes no port");
    return *address;
  }

  Prefix read_prefix(const Item &item) const {
    std::string text = scalar(item);
    std::optional<Prefix> prefix = Prefix::parse(text);
    if (!prefix) fail(item, "'" + text + "' is not a network prefix (expected e.g. 127.0.0.0/8 or ::1/128)");
    return *prefix;
  }

  AclRule read_acl_rule(const Item &item) const {
    std::istringstream words(scalar(item));
    std::string prefix_text, action_text, extra;
    words >> prefix_text >> action_text;
    if (prefix_text.empty() || action_text.empty() || (words >> extra))
      fail(item, "expected 'PREFIX ACTION', e.g. '127.0.0.0/8 allow'");
    std::optional<Prefix> prefix = Prefix::parse(prefix_text);
    if (!prefix) fail(item, "'" + prefix_text + "' is not a network prefix (expected e.g. 192.0.2.0/24)");
    AclRule rule{*prefix, AclAction::allow};
    if (action_text == "allow")
      rule.action = AclAction::allow;
    else if (action_text == "allow-snoop")
      rule.action = AclAction::allow_snoop;
    else if (action_text == "allow_snoop")
      fail(item, "action 'allow_snoop' is spelled allow-snoop here");
    else if (action_text == "refuse")
      rule.action = AclAction::refuse;
    else if (action_text == "deny")
      rule.action = AclAction::deny;
    else
      fail(item, "action '" + action_text + "' must be allow, allow-snoop, refuse or deny");
    return rule;
  }

  uint64_t read_size(const Item &item) const {
    std::string text = scalar(item);
    std::optional<uint64_t> size = parse_size(text);
    if (!size) fail(item, "'" + text + "' is not a size (expected e.g. 123, 64k, 64M or 1G)");
    if (*size == 0 || *size > (1ull << 40)) fail(item, "must be between 1 and 1T");
    return *size;
  }

  // A socket buffer size: 0 (the system default) or a size up to 1G (the kernel takes
  // an int and doubles it).
  uint64_t read_buffer_size(const Item &item) const {
    std::string text = scalar(item);
    std::optional<uint64_t> size = parse_size(text);
    if (!size) fail(item, "'" + text + "' is not a size (expected e.g. 0, 212992, 256k or 4M)");
    if (*size > (1ull << 30)) fail(item, "must be between 0 (the system default) and 1G");
    return *size;
  }

  // A duration in seconds ("3600", "1h", "30d"), between min and max seconds.
  uint32_t read_seconds(const Item &item, uint32_t min, uint32_t max) const {
    std::string text = scalar(item);
    std::optional<uint64_t> seconds = parse_seconds(text);
    if (!seconds) fail(item, "'" + text + "' is not a duration (expected e.g. 90, 90s, 30m, 12h, 30d)");
    if (*seconds < min || *seconds > max)
      fail(item, "must be between " + format_seconds(min) + " and " + format_seconds(max));
    return static_cast<uint32_t>(*seconds);
  }

  // Reads a list, element by element. A key left empty counts as an empty list, as
  // does "[]": either way the list replaces the default with nothing.
  template <typename Read>
  auto read_list(const Item &item, Read read_element) const {
    using Element = decltype(read_element(item));
    std::vector<Element> out;
    if (item.node.IsNull()) return out;
    if (!item.node.IsSequence()) fail(item, std::string("expected a list, got ") + describe(item.node));
    for (const YAML::Node &element : item.node)
      out.push_back(
          read_element(Item{element, item.key, element.Mark().is_null() ? item.mark : element.Mark()}));
    return out;
  }

  // --- the key tables -------------------------------------------------------

  std::vector<Field> top_level_fields() {
    Config &c = config_;
    return {
        {"listen",
         [&](const Item &i) { c.listen = read_list(i, [&](const Item &e) { return read_address(e); }); }},
        {"access-control",
         [&](const Item &i) {
           c.access_control = read_list(i, [&](const Item &e) { return read_acl_rule(e); });
         }},
        {"threads", [&](const Item &i) { c.threads = read_uint(i, 1, 64); }},
        {"log-level", [&](const Item &i) { c.log_level = read_log_level(i); }},
        {"username", [&](const Item &i) { c.username = scalar(i); }},
        {"chroot", [&](const Item &i) { c.chroot = scalar(i); }},
        {"network", [&](const Item &i) { read_mapping(i, network_fields()); }},
        {"resolver", [&](const Item &i) { read_mapping(i, resolver_fields()); }},
        {"forward-zones",
         [&](const Item &i) {
           c.forward_zones = read_list(i, [&](const Item &e) { return read_forward_zone(e); });
         }},
        {"cache", [&](const Item &i) { read_mapping(i, cache_fields()); }},
        {"dnssec", [&](const Item &i) { read_mapping(i, dnssec_fields()); }},
        {"control", [&](const Item &i) { read_mapping(i, control_fields()); }},
        {"http", [&](const Item &i) { read_mapping(i, http_fields()); }},
        {"tls", [&](const Item &i) { read_mapping(i, tls_fields()); }},
        {"local-zones", [&](const Item &i) { config_.policy.local_zones = read_local_zones(i); }},
        {"local-data",
         [&](const Item &i) {
           config_.policy.local_data = read_list(i, [&](const Item &e) { return read_local_data(e); });
         }},
        {"hosts-files",
         [&](const Item &i) {
           config_.policy.hosts_files = read_list(i, [&](const Item &e) { return read_path(e); });
         }},
        {"auth-zones",
         [&](const Item &i) {
           config_.policy.auth_zones = read_list(i, [&](const Item &e) { return read_auth_zone(e); });
         }},
        {"blocklists",
         [&](const Item &i) {
           config_.policy.blocklists = read_list(i, [&](const Item &e) { return read_blocklist(e); });
         }},
        {"allowlist",
         [&](const Item &i) {
           config_.policy.allowlist = read_list(i, [&](const Item &e) { return read_allow_entry(e); });
         }},
        {"blocklist-memory", [&](const Item &i) { config_.policy.blocklist_memory = read_size(i); }},
        {"blocked-ttl", [&](const Item &i) { config_.policy.blocked_ttl = read_uint(i, 0, 86400); }},
    };
  }

  // `local-zones: {home.lan: static, 10.in-addr.arpa: transparent}`
  std::vector<LocalZoneRule> read_local_zones(const Item &item) {
    std::vector<LocalZoneRule> rules;
    if (item.node.IsNull()) return rules;
    if (!item.node.IsMap())
      fail(item, std::string("expected a mapping of NAME: TYPE, got ") + describe(item.node));
    for (const auto &entry : item.node) {
      const Item name_item{entry.first, item.key, entry.first.Mark()};
      const Item type_item{entry.second, item.key,
                           entry.second.Mark().is_null() ? entry.first.Mark() : entry.second.Mark()};
      LocalZoneRule rule{read_name(name_item), LocalZoneType::static_zone};
      const std::string type = scalar(type_item);
      auto parsed = local_zone_type_from_string(type);
      if (!parsed) fail(type_item, "'" + type + "' must be transparent, static, redirect, refuse or deny");
      rule.type = *parsed;
      for (const auto &earlier : rules)
        if (earlier.name == rule.name) fail(name_item, "'" + rule.name.to_text() + "' is listed twice");
      rules.push_back(rule);
    }
    return rules;
  }

  // One record in zone-file syntax with an absolute owner: checked now, so that a
  // typo is reported with its line at start (and on reload) rather than ignored.
  std::string read_local_data(const Item &item) const {
    std::string text = scalar(item);
    try {
      auto records = parse_zone_text(text + "\n", "local-data");
      if (records.size() != 1) fail(item, "'" + text + "': expected exactly one record");
      if (records[0].record.rclass != rrclass::IN) fail(item, "'" + text + "': only class IN");
    } catch (const ConfigError &) {
      throw;
    } catch (const std::exception &e) {
      // "local-data:1: reason" -> "reason"
      std::string why = e.what();
      if (why.rfind("local-data:", 0) == 0)
        if (auto space = why.find(": "); space != std::string::npos) why = why.substr(space + 2);
      fail(item, "'" + text + "': " + why);
    }
    return text;
  }

  AuthZone read_auth_zone(const Item &item) {
    if (!item.node.IsMap())
      fail(item,
           std::string(
               "expected a mapping such as {name: lab.home.arpa, file: /etc/resolverd/lab.zone}, got ") +
               describe(item.node));
    AuthZone zone;
    bool has_name = false;
    read_mapping(item, {{"name",
                         [&](const Item &i) {
                           zone.name = read_name(i);
                           has_name = true;
                         }},
                        {"file", [&](const Item &i) { zone.file = read_path(i); }}});
    if (!has_name || zone.file.empty()) fail(item, "each auth zone needs a 'name' and a 'file'");
    return zone;
  }

  BlocklistSource read_blocklist(const Item &item) {
    if (!item.node.IsMap())
      fail(item,
           std::string("expected a mapping such as {file: /etc/resolverd/ads.txt, format: hosts}, got ") +
               describe(item.node));
    BlocklistSource list;
    read_mapping(item, {{"file", [&](const Item &i) { list.file = read_path(i); }},
                        {"format",
                         [&](const Item &i) {
                           auto f = list_format_from_string(scalar(i));
                           if (!f) fail(i, "'" + scalar(i) + "' must be hosts, domains, adblock or rpz");
                           list.format = *f;
                         }},
                        {"action",
                         [&](const Item &i) {
                           // YAML reads a bare `null` as no value at all: that is the null action.
                           if (i.node.IsNull()) {
                             list.action = BlockAction::null_address;
                             return;
                           }
                           auto a = block_action_from_string(scalar(i));
                           if (!a) fail(i, "'" + scalar(i) + "' must be nxdomain, nodata, null or refuse");
                           list.action = *a;
                         }},
                        {"name", [&](const Item &i) { list.name = scalar(i); }}});
    if (list.file.empty()) fail(item, "each blocklist needs a 'file'");
    if (list.name.empty()) list.name = list.file.substr(list.file.rfind('/') + 1);
    for (const auto &earlier : blocklist_names_)
      if (earlier == list.name) fail(item, "two blocklists are named '" + list.name + "'; give one a 'name'");
    blocklist_names_.push_back(list.name);
    if (blocklist_names_.size() > 63) fail(item, "at most 63 blocklists");
    return list;
  }

  // A name, or a file of names when it has a '/'.
  std::string read_allow_entry(const Item &item) const {
    std::string text = scalar(item);
    const bool host_name = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '*';
    });
    if (text.find('/') == std::string::npos && (!host_name || !Name::from_text(text)))
      fail(item, "'" + text + "' is neither a domain name nor a file path");
    return text;
  }

  std::vector<std::string> blocklist_names_;

  std::vector<Field> tls_fields() {
    TlsConfig &t = config_.tls;
    return {
        // An empty string: none (what --check-config shows when unset).
        {"certificate", [&](const Item &i) { t.certificate = scalar(i).empty() ? "" : read_readable_file(i); }},
        {"key", [&](const Item &i) { t.key = scalar(i).empty() ? "" : read_readable_file(i); }},
    };
  }

  // A file the daemon reads at start-up: it must be there and readable now.
  std::string read_readable_file(const Item &item) const {
    std::string path = read_path(item);
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) fail(item, "'" + path + "' is a directory, not a file");
    std::ifstream in(path, std::ios::binary);
    if (!in)
      fail(item, "cannot read '" + path + "': " + std::error_code(errno, std::generic_category()).message());
    return path;
  }

  std::vector<Field> control_fields() {
    ControlConfig &c = config_.control;
    return {
        // An empty string turns the control channel off.
        {"socket", [&](const Item &i) { c.socket = scalar(i).empty() ? std::string() : read_socket_path(i); }},
    };
  }

  std::vector<Field> http_fields() {
    HttpConfig &h = config_.http;
    return {
        {"listen",
         [&](const Item &i) { h.listen = read_list(i, [&](const Item &e) { return read_address(e, 8053); }); }},
        {"recent-queries", [&](const Item &i) { h.recent_queries = read_uint(i, 0, 1000000); }},
        {"access-control",
         [&](const Item &i) { h.access_control = read_list(i, [&](const Item &e) { return read_prefix(e); }); }},
    };
  }

  LogLevel read_log_level(const Item &item) const {
    std::string text = scalar(item);
    std::optional<LogLevel> level = log_level_from_string(text);
    if (!level) fail(item, "'" + text + "' must be error, warning, info, debug or trace");
    return *level;
  }

  std::vector<Field> network_fields() {
    NetworkConfig &n = config_.network;
    return {
        {"do-ip4", [&](const Item &i) { n.do_ip4 = read_bool(i); }},
        {"do-ip6", [&](const Item &i) { n.do_ip6 = read_bool(i); }},
        {"outgoing-interface",
         [&](const Item &i) {
           n.outgoing_interface = read_list(i, [&](const Item &e) { return read_source_address(e); });
         }},
        // RFC 6891 6.2.5: values below 512 are treated as 512; 4096 is the
        // practical ceiling, and the DNS Flag Day 2020 default is 1232.
        {"edns-buffer-size",
         [&](const Item &i) { n.edns_buffer_size = static_cast<uint16_t>(read_uint(i, 512, 4096)); }},
        {"do-not-query-localhost", [&](const Item &i) { n.do_not_query_localhost = read_bool(i); }},
        {"tcp-idle-timeout", [&](const Item &i) { n.tcp_idle_timeout_ms = read_uint(i, 1, 3600000); }},
        {"max-tcp-connections", [&](const Item &i) { n.max_tcp_connections = read_uint(i, 1, 1000000); }},
        {"max-tcp-queries-per-connection",
         [&](const Item &i) { n.max_tcp_queries_per_connection = read_uint(i, 1, 65535); }},
        {"upstream-timeout", [&](const Item &i) { n.upstream_timeout_ms = read_uint(i, 10, 60000); }},
        {"use-caps-for-id", [&](const Item &i) { n.use_caps_for_id = read_bool(i); }},
        {"so-rcvbuf", [&](const Item &i) { n.so_rcvbuf = read_buffer_size(i); }},
        {"so-sndbuf", [&](const Item &i) { n.so_sndbuf = read_buffer_size(i); }},
        {"udp-coalesce-usecs", [&](const Item &i) { n.udp_coalesce_usecs = read_uint(i, 0, 1000); }},
        {"listen-tls",
         [&](const Item &i) {
           n.listen_tls = read_list(i, [&](const Item &e) { return read_address(e, 853); });
         }},
        {"listen-https",
         [&](const Item &i) {
           n.listen_https = read_list(i, [&](const Item &e) { return read_address(e, 443); });
         }},
    };
  }

  std::vector<Field> resolver_fields() {
    ResolverConfig &r = config_.resolver;
    return {
        {"root-hints", [&](const Item &i) { r.root_hints = read_path(i); }},
        {"qname-minimisation", [&](const Item &i) { r.qname_minimisation = read_bool(i); }},
        {"harden-glue", [&](const Item &i) { r.harden_glue = read_bool(i); }},
        {"prime-root", [&](const Item &i) { r.prime_root = read_bool(i); }},
        {"max-queries-in-flight", [&](const Item &i) { r.max_queries_in_flight = read_uint(i, 1, 1000000); }},
        {"jostle-timeout", [&](const Item &i) { r.jostle_timeout_ms = read_uint(i, 0, 600000); }},
        {"wait-limit", [&](const Item &i) { r.wait_limit = read_uint(i, 0, 1000000); }},
        {"max-clients-per-question", [&](const Item &i) { r.max_clients_per_question = read_uint(i, 1, 1000000); }},
        {"discard-timeout", [&](const Item &i) { r.discard_timeout_ms = read_uint(i, 0, 600000); }},
        {"budgets", [&](const Item &i) { read_mapping(i, budget_fields()); }},
    };
  }

  std::vector<Field> budget_fields() {
    BudgetConfig &b = config_.resolver.budgets;
    return {
        {"max-upstream-queries", [&](const Item &i) { b.max_upstream_queries = read_uint(i, 1, 100000); }},
        {"max-queries-per-name", [&](const Item &i) { b.max_queries_per_name = read_uint(i, 1, 100000); }},
        {"max-cname-chain", [&](const Item &i) { b.max_cname_chain = read_uint(i, 1, 1000); }},
        {"max-subquery-depth", [&](const Item &i) { b.max_subquery_depth = read_uint(i, 1, 1000); }},
        // 0 is allowed: never resolve the addresses of glueless name servers.
        {"max-glueless-per-delegation",
         [&](const Item &i) { b.max_glueless_per_delegation = read_uint(i, 0, 1000); }},
        {"max-ns-per-delegation", [&](const Item &i) { b.max_ns_per_delegation = read_uint(i, 1, 1000); }},
        {"max-time", [&](const Item &i) { b.max_time_ms = read_uint(i, 1, 3600000); }},
    };
  }

  std::vector<Field> cache_fields() {
    CacheConfig &c = config_.cache;
    // RFC 2181 8: TTLs are at most 2^31 - 1.
    constexpr uint32_t kMaxTtl = 2147483647;
    return {
        {"size", [&](const Item &i) { c.size_bytes = read_size(i); }},
        {"min-ttl", [&](const Item &i) { c.min_ttl = read_uint(i, 0, kMaxTtl); }},
        {"max-ttl", [&](const Item &i) { c.max_ttl = read_uint(i, 0, kMaxTtl); }},
        {"max-negative-ttl", [&](const Item &i) { c.max_negative_ttl = read_uint(i, 0, kMaxTtl); }},
        {"serve-stale", [&](const Item &i) { c.serve_stale = read_bool(i); }},
        // RFC 8767 5 suggests 1 to 3 days; a week is the most that makes sense.
        {"max-stale", [&](const Item &i) { c.max_stale = read_uint(i, 1, 7 * 86400); }},
        {"stale-client-timeout", [&](const Item &i) { c.stale_client_timeout_ms = read_uint(i, 0, 60000); }},
        {"stale-refresh-time", [&](const Item &i) { c.stale_refresh_time = read_uint(i, 0, 3600); }},
        {"prefetch", [&](const Item &i) { c.prefetch = read_bool(i); }},
        // An empty string turns the snapshot off.
        {"snapshot", [&](const Item &i) { c.snapshot = scalar(i).empty() ? std::string() : read_file_path(i); }},
        {"snapshot-interval", [&](const Item &i) { c.snapshot_interval = read_uint(i, 0, 7 * 86400); }},
    };
  }

  std::vector<Field> dnssec_fields() {
    DnssecConfig &d = config_.dnssec;
    return {
        {"validation", [&](const Item &i) { d.validation = read_bool(i); }},
        {"trust-anchor-files",
         [&](const Item &i) {
           d.trust_anchor_files = read_list(i, [&](const Item &e) { return read_path(e); });
         }},
        // RFC 7646: names below which validation is switched off.
        {"negative-trust-anchors",
         [&](const Item &i) {
           d.negative_trust_anchors = read_list(i, [&](const Item &e) { return read_name(e); });
         }},
        // RFC 4035 4.7: bogus data may be cached, but only briefly.
        {"bogus-ttl", [&](const Item &i) { d.bogus_ttl = read_uint(i, 0, 86400); }},
        {"max-rrsigs-per-rrset", [&](const Item &i) { d.max_rrsigs_per_rrset = read_uint(i, 1, 1000); }},
        {"max-keys-per-tag", [&](const Item &i) { d.max_keys_per_tag = read_uint(i, 1, 1000); }},
        {"max-ds-per-zone", [&](const Item &i) { d.max_ds_per_zone = read_uint(i, 1, 1000); }},
        {"max-verifications-per-response",
         [&](const Item &i) { d.max_verifications_per_response = read_uint(i, 1, 100000); }},
        {"max-verifications-per-query",
         [&](const Item &i) { d.max_verifications_per_query = read_uint(i, 1, 100000); }},
        {"max-nsec3-per-response", [&](const Item &i) { d.max_nsec3_per_response = read_uint(i, 1, 1000); }},
        {"max-nsec3-hashes-per-query",
         [&](const Item &i) { d.max_nsec3_hashes_per_query = read_uint(i, 1, 1000000); }},
        {"max-nsec3-iterations", [&](const Item &i) { d.max_nsec3_iterations = read_uint(i, 0, 2500); }},
        // RFC 5011 trust anchor maintenance, and where its state is kept.
        {"rfc5011", [&](const Item &i) { d.rfc5011 = read_bool(i); }},
        {"trust-anchor-state", [&](const Item &i) { d.trust_anchor_state = read_path(i); }},
        // Lab settings (RFC 5011 2.4: 30 days; 2.3: 1 hour), at most the RFC's values.
        {"rfc5011-hold-down", [&](const Item &i) { d.rfc5011_hold_down = read_seconds(i, 1, 30 * 86400); }},
        {"rfc5011-min-refresh", [&](const Item &i) { d.rfc5011_min_refresh = read_seconds(i, 1, 3600); }},
        // RFC 8145 key tag signalling.
        {"trust-anchor-signaling", [&](const Item &i) { d.trust_anchor_signaling = read_bool(i); }},
    };
  }

  ForwardZone read_forward_zone(const Item &item) {
    if (!item.node.IsMap())
      fail(item,
           std::string("expected a mapping such as {name: example.org, servers: [192.0.2.1@53]}, got ") +
               describe(item.node));
    ForwardZone zone;
    bool has_name = false;
    read_mapping(item, {
                           {"name",
                            [&](const Item &i) {
                              zone.name = read_name(i);
                              has_name = true;
                            }},
                           {"servers",
                            [&](const Item &i) {
                              zone.endpoints = read_list(i, [&](const Item &e) { return read_upstream(e); });
                              if (zone.endpoints.empty()) fail(i, "a forward zone needs at least one server");
                              for (const auto &endpoint : zone.endpoints) zone.servers.push_back(endpoint.address);
                            }},
                           {"tls-cert-bundle", [&](const Item &i) { zone.tls_cert_bundle = read_readable_file(i); }},
                           {"tls-pin-sha256",
                            [&](const Item &i) {
                              zone.tls_pins_sha256 = read_list(i, [&](const Item &e) { return read_pin(e); });
                            }},
                       });
    if (!has_name) fail(item, "each forward zone needs a 'name'");
    if (zone.servers.empty()) fail(item, "forward zone '" + zone.name.to_text() + "' needs 'servers'");
    for (const ForwardZone &earlier : forward_zones_seen_)
      if (earlier.name == zone.name) fail(item, "forward zone '" + zone.name.to_text() + "' is listed twice");
    // The transport picks an encrypted server by its address: one address, one way in.
    for (const UpstreamServer &endpoint : zone.endpoints) {
      for (const ForwardZone &earlier : forward_zones_seen_)
        for (const UpstreamServer &other : earlier.endpoints)
          if (other.address == endpoint.address && (endpoint.encrypted() || other.encrypted()) &&
              (!(other == endpoint) || earlier.tls_cert_bundle != zone.tls_cert_bundle ||
               earlier.tls_pins_sha256 != zone.tls_pins_sha256))
            fail(item, "server " + endpoint.address.to_string() + " is reached differently by forward zone '" +
                           earlier.name.to_text() + "'");
    }
    forward_zones_seen_.push_back(zone);
    return zone;
  }

  UpstreamServer read_upstream(const Item &item) const {
    std::string text = scalar(item);
    std::string error;
    auto server = parse_upstream_server(text, &error);
    if (!server) fail(item, error);
    return *server;
  }

  std::string read_pin(const Item &item) const {
    std::string pin = scalar(item);
    // RFC 7469 2.4: base64 of a SHA-256 digest: 44 characters ending in '='.
    bool base64 = pin.size() == 44 && pin[43] == '=' && pin[42] != '=';
    for (size_t k = 0; base64 && k < 43; ++k)
      base64 = std::isalnum(static_cast<unsigned char>(pin[k])) || pin[k] == '+' || pin[k] == '/';
    if (!base64) fail(item, "'" + pin + "' is not a base64 SHA-256 digest (44 characters ending in '=')");
    return pin;
  }

  // Rules that involve more than one key, reported at the later key's line.
  void check_combinations() const {
    const NetworkConfig &n = config_.network;
    if (!n.do_ip4 && !n.do_ip6) {
      std::string key = marks_.count("network.do-ip6") ? "network.do-ip6" : "network.do-ip4";
      fail(Item{{}, key, mark_of(key)}, "do-ip4 and do-ip6 cannot both be false");
    }
    for (const char *key : {"network.listen-tls", "network.listen-https"}) {
      const bool used = std::string(key) == "network.listen-tls" ? !n.listen_tls.empty() : !n.listen_https.empty();
      if (used && (config_.tls.certificate.empty() || config_.tls.key.empty()))
        fail(Item{{}, key, mark_of(key)}, "needs a certificate: tls: {certificate: FILE, key: FILE}");
    }
    const CacheConfig &c = config_.cache;
    if (c.min_ttl > c.max_ttl) {
      std::string key = marks_.count("cache.max-ttl") ? "cache.max-ttl" : "cache.min-ttl";
      fail(Item{{}, key, mark_of(key)}, "min-ttl (" + std::to_string(c.min_ttl) + ") is above max-ttl (" +
                                            std::to_string(c.max_ttl) + ")");
    }
  }

  YAML::Mark mark_of(const std::string &key) const {
    auto it = marks_.find(key);
    return it == marks_.end() ? YAML::Mark::null_mark() : it->second;
  }

  std::string source_;
  Config config_;
  std::map<std::string, YAML::Mark> marks_;  // where each key given was written
  std::vector<ForwardZone> forward_zones_seen_;
};

// --- dumping ------------------------------------------------------------------

void emit_string_list(YAML::Emitter &out, const char *key, const std::vector<std::string> &values) {
  out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string &v : values) out << YAML::DoubleQuoted << v;
  out << YAML::EndSeq;
}

template <typename T, typename ToText>
std::vector<std::string> texts(const std::vector<T> &values, ToText to_text) {
  std::vector<std::string> out;
  out.reserve(values.size());
  for (const T &v : values) out.push_back(to_text(v));
  return out;
}

void emit_network(YAML::Emitter &out, const NetworkConfig &n) {
  out << YAML::Key << "network" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "do-ip4" << YAML::Value << n.do_ip4;
  out << YAML::Key << "do-ip6" << YAML::Value << n.do_ip6;
  emit_string_list(out, "outgoing-interface",
                   texts(n.outgoing_interface, [](const SocketAddress &a) { return a.host_text(); }));
  out << YAML::Key << "edns-buffer-size" << YAML::Value << n.edns_buffer_size;
  out << YAML::Key << "do-not-query-localhost" << YAML::Value << n.do_not_query_localhost;
  out << YAML::Key << "tcp-idle-timeout" << YAML::Value << n.tcp_idle_timeout_ms;
  out << YAML::Key << "max-tcp-connections" << YAML::Value << n.max_tcp_connections;
  out << YAML::Key << "max-tcp-queries-per-connection" << YAML::Value << n.max_tcp_queries_per_connection;
  out << YAML::Key << "upstream-timeout" << YAML::Value << n.upstream_timeout_ms;
  out << YAML::Key << "use-caps-for-id" << YAML::Value << n.use_caps_for_id;
  out << YAML::Key << "so-rcvbuf" << YAML::Value << format_size(n.so_rcvbuf);
  out << YAML::Key << "so-sndbuf" << YAML::Value << format_size(n.so_sndbuf);
  out << YAML::Key << "udp-coalesce-usecs" << YAML::Value << n.udp_coalesce_usecs;
  emit_string_list(out, "listen-tls", texts(n.listen_tls, [](const SocketAddress &a) { return a.to_string(); }));
  emit_string_list(out, "listen-https", texts(n.listen_https, [](const SocketAddress &a) { return a.to_string(); }));
  out << YAML::EndMap;
}

void emit_resolver(YAML::Emitter &out, const ResolverConfig &r) {
  const BudgetConfig &b = r.budgets;
  out << YAML::Key << "resolver" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "root-hints" << YAML::Value << YAML::DoubleQuoted << r.root_hints;
  out << YAML::Key << "qname-minimisation" << YAML::Value << r.qname_minimisation;
  out << YAML::Key << "harden-glue" << YAML::Value << r.harden_glue;
  out << YAML::Key << "prime-root" << YAML::Value << r.prime_root;
  out << YAML::Key << "max-queries-in-flight" << YAML::Value << r.max_queries_in_flight;
  out << YAML::Key << "jostle-timeout" << YAML::Value << r.jostle_timeout_ms;
  out << YAML::Key << "wait-limit" << YAML::Value << r.wait_limit;
  out << YAML::Key << "max-clients-per-question" << YAML::Value << r.max_clients_per_question;
  out << YAML::Key << "discard-timeout" << YAML::Value << r.discard_timeout_ms;
  out << YAML::Key << "budgets" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "max-upstream-queries" << YAML::Value << b.max_upstream_queries;
  out << YAML::Key << "max-queries-per-name" << YAML::Value << b.max_queries_per_name;
  out << YAML::Key << "max-cname-chain" << YAML::Value << b.max_cname_chain;
  out << YAML::Key << "max-subquery-depth" << YAML::Value << b.max_subquery_depth;
  out << YAML::Key << "max-glueless-per-delegation" << YAML::Value << b.max_glueless_per_delegation;
  out << YAML::Key << "max-ns-per-delegation" << YAML::Value << b.max_ns_per_delegation;
  out << YAML::Key << "max-time" << YAML::Value << b.max_time_ms;
  out << YAML::EndMap << YAML::EndMap;
}

void emit_forward_zones(YAML::Emitter &out, const std::vector<ForwardZone> &zones) {
  out << YAML::Key << "forward-zones" << YAML::Value;
  if (zones.empty()) {
    out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
    return;
  }
  out << YAML::BeginSeq;
  for (const ForwardZone &zone : zones) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << zone.name.to_text();
    emit_string_list(out, "servers",
                     texts(zone.endpoints, [](const UpstreamServer &s) { return s.to_string(); }));
    if (!zone.tls_cert_bundle.empty())
      out << YAML::Key << "tls-cert-bundle" << YAML::Value << YAML::DoubleQuoted << zone.tls_cert_bundle;
    if (!zone.tls_pins_sha256.empty()) emit_string_list(out, "tls-pin-sha256", zone.tls_pins_sha256);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

}  // namespace

Config default_config() {
  Config config;
  config.listen = {*SocketAddress::parse("127.0.0.1@53"), *SocketAddress::parse("::1@53")};
  // The host's own clients may also look into the cache (RD=0), as the shipped
  // conf/resolver.yaml says.
  config.access_control = {AclRule{*Prefix::parse("127.0.0.0/8"), AclAction::allow_snoop},
                           AclRule{*Prefix::parse("::1/128"), AclAction::allow_snoop}};
  config.http.listen = {*SocketAddress::parse("127.0.0.1@8053")};
  config.http.access_control = {*Prefix::parse("127.0.0.0/8"), *Prefix::parse("::1/128")};
  return config;
}

namespace {

// YAML is Unicode text (YAML 1.2 5.2); yaml-cpp passes stray bytes through when
// parsing but replaces them when emitting, so --check-config would show another
// path than the daemon uses. Refused, therefore: octets that are not UTF-8 (RFC 3629
// 4: no overlong forms, UTF-16 surrogates or code points past U+10FFFF), and the
// Unicode noncharacters U+FDD0-U+FDEF and U+xFFFE/U+xFFFF, which yaml-cpp's emitter
// replaces too (YAML 1.2 5.1 excludes U+FFFE and U+FFFF anyway). Returns the 1-based
// line of the first such octet.
std::optional<size_t> first_invalid_utf8_line(std::string_view text) {
  static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};  // per number of continuation octets
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c == '\n') ++line;
      ++i;
      continue;
    }
    const size_t extra = (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 0;
    if (extra == 0 || i + extra >= text.size()) return line;
    uint32_t code = c & (0x3Fu >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return line;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < kSmallest[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return line;
    if ((code >= 0xFDD0 && code <= 0xFDEF) || (code & 0xFFFE) == 0xFFFE) return line;
    i += 1 + extra;
  }
  return std::nullopt;
}

// YAML 1.2 5.1: of the ASCII control characters only tab, line feed and carriage
// return may appear. yaml-cpp reads the others into a scalar (a NUL in a chroot path
// would cut it short for the kernel) and writes them back as something else, so
// --check-config would print another setting than the one in force; the C1 controls
// and Unicode's line breaks likewise (is_control_character_at). Returns the
// 1-based line of the first one.
std::optional<size_t> first_control_character_line(std::string_view text) {
  size_t line = 1;
  for (size_t at = 0; at < text.size(); ++at) {
    if (text[at] == '\n') ++line;
    if (is_control_character_at(text, at, true)) return line;
  }
  return std::nullopt;
}

}  // namespace

Config parse_config_text(const std::string &yaml_text, const std::string &source_name) {
  if (auto line = first_invalid_utf8_line(yaml_text))
    throw ConfigError(source_name + ":" + std::to_string(*line) + ": the file is not valid UTF-8 text");
  if (auto line = first_control_character_line(yaml_text))
    throw ConfigError(source_name + ":" + std::to_string(*line) +
                      ": a control character (YAML allows only tab, line feed and carriage return)");
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception &e) {
    std::string line = e.mark.is_null() ? "1" : std::to_string(e.mark.line + 1);
    throw ConfigError(source_name + ":" + line + ": YAML syntax error: " + e.msg);
  }
  try {
    return ConfigReader(source_name).read(root);
  } catch (const YAML::Exception &e) {  // e.g. an alias to a missing anchor
    std::string line = e.mark.is_null() ? "1" : std::to_string(e.mark.line + 1);
    throw ConfigError(source_name + ":" + line + ": " + e.msg);
  }
}

Config load_config(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(path + ": cannot read: " + std::error_code(errno, std::generic_category()).message());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    throw ConfigError(path + ": cannot read: " + std::error_code(errno, std::generic_category()).message());
  return parse_config_text(text.str(), path);
}

std::string dump_config(const Config &c) {
  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::Comment("resolverd effective configuration, defaults included" +
                       (c.source_file.empty() ? std::string() : " (read from " + c.source_file + ")"));
  out << YAML::BeginMap;
  emit_string_list(out, "listen", texts(c.listen, [](const SocketAddress &a) { return a.to_string(); }));
  emit_string_list(out, "access-control", texts(c.access_control, [](const AclRule &r) {
                     return r.prefix.to_string() + " " + to_string(r.action);
                   }));
  out << YAML::Key << "threads" << YAML::Value << c.threads;
  out << YAML::Key << "log-level" << YAML::Value << to_string(c.log_level);
  out << YAML::Key << "username" << YAML::Value << YAML::DoubleQuoted << c.username;
  out << YAML::Key << "chroot" << YAML::Value << YAML::DoubleQuoted << c.chroot;
  emit_network(out, c.network);
  emit_resolver(out, c.resolver);
  emit_forward_zones(out, c.forward_zones);

  out << YAML::Key << "cache" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "size" << YAML::Value << format_size(c.cache.size_bytes);
  out << YAML::Key << "min-ttl" << YAML::Value << c.cache.min_ttl;
  out << YAML::Key << "max-ttl" << YAML::Value << c.cache.max_ttl;
  out << YAML::Key << "max-negative-ttl" << YAML::Value << c.cache.max_negative_ttl;
  out << YAML::Key << "serve-stale" << YAML::Value << c.cache.serve_stale;
  out << YAML::Key << "max-stale" << YAML::Value << c.cache.max_stale;
  out << YAML::Key << "stale-client-timeout" << YAML::Value << c.cache.stale_client_timeout_ms;
  out << YAML::Key << "stale-refresh-time" << YAML::Value << c.cache.stale_refresh_time;
  out << YAML::Key << "prefetch" << YAML::Value << c.cache.prefetch;
  out << YAML::Key << "snapshot" << YAML::Value << YAML::DoubleQuoted << c.cache.snapshot;
  out << YAML::Key << "snapshot-interval" << YAML::Value << c.cache.snapshot_interval;
  out << YAML::EndMap;

  out << YAML::Key << "dnssec" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "validation" << YAML::Value << c.dnssec.validation;
  emit_string_list(out, "trust-anchor-files", c.dnssec.trust_anchor_files);
  emit_string_list(out, "negative-trust-anchors",
                   texts(c.dnssec.negative_trust_anchors, [](const Name &n) { return n.to_text(); }));
  out << YAML::Key << "bogus-ttl" << YAML::Value << c.dnssec.bogus_ttl;
  out << YAML::Key << "max-rrsigs-per-rrset" << YAML::Value << c.dnssec.max_rrsigs_per_rrset;
  out << YAML::Key << "max-keys-per-tag" << YAML::Value << c.dnssec.max_keys_per_tag;
  out << YAML::Key << "max-ds-per-zone" << YAML::Value << c.dnssec.max_ds_per_zone;
  out << YAML::Key << "max-verifications-per-response" << YAML::Value << c.dnssec.max_verifications_per_response;
  out << YAML::Key << "max-verifications-per-query" << YAML::Value << c.dnssec.max_verifications_per_query;
  out << YAML::Key << "max-nsec3-per-response" << YAML::Value << c.dnssec.max_nsec3_per_response;
  out << YAML::Key << "max-nsec3-hashes-per-query" << YAML::Value << c.dnssec.max_nsec3_hashes_per_query;
  out << YAML::Key << "max-nsec3-iterations" << YAML::Value << c.dnssec.max_nsec3_iterations;
  out << YAML::Key << "rfc5011" << YAML::Value << c.dnssec.rfc5011;
  out << YAML::Key << "trust-anchor-state" << YAML::Value << YAML::DoubleQuoted
      << c.dnssec.trust_anchor_state;
  out << YAML::Key << "rfc5011-hold-down" << YAML::Value << format_seconds(c.dnssec.rfc5011_hold_down);
  out << YAML::Key << "rfc5011-min-refresh" << YAML::Value << format_seconds(c.dnssec.rfc5011_min_refresh);
  out << YAML::Key << "trust-anchor-signaling" << YAML::Value << c.dnssec.trust_anchor_signaling;
  out << YAML::EndMap;

  out << YAML::Key << "control" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "socket" << YAML::Value << YAML::DoubleQuoted << c.control.socket;
  out << YAML::EndMap;

  out << YAML::Key << "http" << YAML::Value << YAML::BeginMap;
  emit_string_list(out, "listen", texts(c.http.listen, [](const SocketAddress &a) { return a.to_string(); }));
  out << YAML::Key << "recent-queries" << YAML::Value << c.http.recent_queries;
  emit_string_list(out, "access-control", texts(c.http.access_control, [](const Prefix &p) { return p.to_string(); }));
  out << YAML::EndMap;

  const PolicyConfig &p = c.policy;
  out << YAML::Key << "local-zones" << YAML::Value << YAML::Flow << YAML::BeginMap;
  for (const auto &rule : p.local_zones)
    out << YAML::Key << YAML::DoubleQuoted << rule.name.to_text() << YAML::Value << to_string(rule.type);
  out << YAML::EndMap;
  emit_string_list(out, "local-data", p.local_data);
  emit_string_list(out, "hosts-files", p.hosts_files);
  out << YAML::Key << "auth-zones" << YAML::Value << YAML::BeginSeq;
  for (const auto &zone : p.auth_zones) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << zone.name.to_text();
    out << YAML::Key << "file" << YAML::Value << YAML::DoubleQuoted << zone.file;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "blocklists" << YAML::Value << YAML::BeginSeq;
  for (const auto &list : p.blocklists) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "file" << YAML::Value << YAML::DoubleQuoted << list.file;
    out << YAML::Key << "format" << YAML::Value << to_string(list.format);
    out << YAML::Key << "action" << YAML::Value << to_string(list.action);
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << list.name;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  emit_string_list(out, "allowlist", p.allowlist);
  out << YAML::Key << "blocklist-memory" << YAML::Value << format_size(p.blocklist_memory);
  out << YAML::Key << "blocked-ttl" << YAML::Value << p.blocked_ttl;

  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "certificate" << YAML::Value << YAML::DoubleQuoted << c.tls.certificate;
  out << YAML::Key << "key" << YAML::Value << YAML::DoubleQuoted << c.tls.key;
  out << YAML::EndMap;

  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

const char *to_string(LogLevel level) {
  switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warning: return "warning";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
    case LogLevel::trace: return "trace";
  }
  return "info";
}

const char *to_string(LocalZoneType type) {
  switch (type) {
    case LocalZoneType::transparent: return "transparent";
    case LocalZoneType::static_zone: return "static";
    case LocalZoneType::redirect: return "redirect";
    case LocalZoneType::refuse: return "refuse";
    case LocalZoneType::deny: return "deny";
  }
  return "static";
}

std::optional<LocalZoneType> local_zone_type_from_string(std::string_view text) {
  for (LocalZoneType t : {LocalZoneType::transparent, LocalZoneType::static_zone, LocalZoneType::redirect,
                          LocalZoneType::refuse, LocalZoneType::deny})
    if (text == to_string(t)) return t;
  return std::nullopt;
}

std::optional<ListFormat> list_format_from_string(std::string_view text) {
  for (ListFormat f : {ListFormat::hosts, ListFormat::domains, ListFormat::adblock, ListFormat::rpz})
    if (text == to_string(f)) return f;
  return std::nullopt;
}

const char *to_string(ListFormat format) {
  switch (format) {
    case ListFormat::hosts: return "hosts";
    case ListFormat::domains: return "domains";
    case ListFormat::adblock: return "adblock";
    case ListFormat::rpz: return "rpz";
  }
  return "domains";
}

std::optional<BlockAction> block_action_from_string(std::string_view text) {
  for (BlockAction a :
       {BlockAction::nxdomain, BlockAction::nodata, BlockAction::null_address, BlockAction::refuse})
    if (text == to_string(a)) return a;
  return std::nullopt;
}

const char *to_string(BlockAction action) {
  switch (action) {
    case BlockAction::nxdomain: return "nxdomain";
    case BlockAction::nodata: return "nodata";
    case BlockAction::null_address: return "null";
    case BlockAction::refuse: return "refuse";
  }
  return "nxdomain";
}

const char *to_string(AclAction action) {
  switch (action) {
    case AclAction::allow: return "allow";
    case AclAction::allow_snoop: return "allow-snoop";
    case AclAction::refuse: return "refuse";
    case AclAction::deny: return "deny";
  }
  return "deny";
}

std::optional<LogLevel> log_level_from_string(std::string_view text) {
  for (LogLevel level :
       {LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug, LogLevel::trace})
    if (text == to_string(level)) return level;
  return std::nullopt;
}

std::optional<uint64_t> parse_size(std::string_view text) {
  uint64_t multiplier = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K': multiplier = 1ull << 10; break;
      case 'm':
      case 'M': multiplier = 1ull << 20; break;
      case 'g':
      case 'G': multiplier = 1ull << 30; break;
      default: break;
    }
    if (multiplier != 1) text.remove_suffix(1);
  }
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value > UINT64_MAX / multiplier) return std::nullopt;
  return value * multiplier;
}

std::string format_size(uint64_t bytes) {
  static constexpr std::pair<uint64_t, char> kUnits[] = {
      {1ull << 30, 'G'}, {1ull << 20, 'M'}, {1ull << 10, 'K'}};
  for (const auto &[unit, suffix] : kUnits)
    if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + suffix;
  return std::to_string(bytes);
}

std::optional<uint64_t> parse_seconds(std::string_view text) {
  uint64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      case 'w': unit = 7 * 86400; break;
      default: unit = 0; break;
    }
    if (unit != 0)
      text.remove_suffix(1);
    else
      unit = 1;
  }
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value > UINT64_MAX / unit) return std::nullopt;
  return value * unit;
}

std::string format_seconds(uint64_t seconds) {
  static constexpr std::pair<uint64_t, char> kUnits[] = {
      {7 * 86400, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}};
  for (const auto &[unit, suffix] : kUnits)
    if (seconds != 0 && seconds % unit == 0) return std::to_string(seconds / unit) + suffix;
  return std::to_string(seconds) + "s";
}

}  // namespace rsv
