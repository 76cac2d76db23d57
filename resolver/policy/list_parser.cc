#include "resolver/policy/list_parser.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "resolver/policy/name_set.h"

namespace rsv {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Splits off the next whitespace-separated token.
std::string_view next_token(std::string_view &s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  size_t end = 0;
  while (end < s.size() && !is_space(s[end])) ++end;
  std::string_view token = s.substr(0, end);
  s.remove_prefix(end);
  return token;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool looks_like_address(std::string_view s) {
  if (s.empty()) return false;
  bool colon = false;
  for (char c : s) {
    if (c == ':') colon = true;
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '%')) return false;
  }
  return colon || std::count(s.begin(), s.end(), '.') == 3;
}

// Names that hosts files list for the machine itself, not to block (StevenBlack's
// and most others start with them).
constexpr std::array<std::string_view, 12> kHostsFileLocalNames = {
    "localhost",     "localhost.localdomain", "local",        "broadcasthost",
    "ip6-localhost", "ip6-loopback",          "ip6-localnet", "ip6-mcastprefix",
    "ip6-allnodes",  "ip6-allrouters",        "ip6-allhosts", "0.0.0.0"};

class Parser {
public:
  Parser(ListFormat format, const std::string &source, const ListSink &sink)
      : format_(format), source_(source), sink_(sink) {}

  ListReport run(std::string_view text) {
    size_t line_number = 0;
    while (!text.empty()) {
      const size_t end = text.find('\n');
      std::string_view line = text.substr(0, end);
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
      ++line_number;
      ++report_.lines;
      line_ = line_number;
      switch (format_) {
        case ListFormat::hosts: hosts_line(line); break;
        case ListFormat::domains: domains_line(line); break;
        case ListFormat::adblock: adblock_line(line); break;
        case ListFormat::rpz: rpz_line(line); break;
      }
    }
    return std::move(report_);
  }

private:
  void malformed(std::string_view why) {
    ++report_.malformed;
    if (report_.first_errors.size() < ListReport::kMaxReported)
      report_.first_errors.push_back(source_ + ":" + std::to_string(line_) + ": " + std::string(why));
  }

  bool emit(std::string_view name, uint8_t coverage, bool allow = false,
            std::optional<BlockAction> action = std::nullopt) {
    if (!host_name_to_wire(name, wire_)) {
      malformed("'" + std::string(name.substr(0, 80)) + "' is not a domain name");
      return false;
    }
    if (wire_.size() == 1) {
      malformed("the root cannot be listed");
      return false;
    }
    ++report_.rules;
    sink_(ListRule{wire_, coverage, allow, action});
    return true;
  }

  // "*.name" lists the names below `name` only; anything else the whole subtree.
  void emit_domain(std::string_view name, bool allow = false) {
    if (name.size() > 2 && name[0] == '*' && name[1] == '.')
      emit(name.substr(2), NameSet::kBelow, allow);
    else
      emit(name, NameSet::kSubtree, allow);
  }

  static std::string_view strip_comment(std::string_view line, char marker) {
    const size_t at = line.find(marker);
    return trim(at == std::string_view::npos ? line : line.substr(0, at));
  }

  void hosts_line(std::string_view line) {
    line = strip_comment(line, '#');
    if (line.empty()) return;
    std::string_view address = next_token(line);
    if (!looks_like_address(address)) {
      malformed("expected 'ADDRESS NAME...', got '" + std::string(address.substr(0, 80)) + "'");
      return;
    }
    bool any = false;
    for (std::string_view name = next_token(line); !name.empty(); name = next_token(line)) {
      any = true;
      bool local = false;
      for (auto known : kHostsFileLocalNames) local = local || iequals(name, known);
      if (!local) emit(name, NameSet::kSubtree);
    }
    if (!any) malformed("an address without a name");
  }

  void domains_line(std::string_view line) {
    line = strip_comment(line, '#');
    if (line.empty()) return;
    std::string_view name = next_token(line);
    if (!trim(line).empty()) {
      malformed("more than one word on the line");
      return;
    }
    emit_domain(name);
  }

  void adblock_line(std::string_view line) {
    line = trim(line);
    if (line.empty() || line[0] == '!' || line[0] == '[' || line[0] == '#') return;
    bool allow = false;
    if (line.substr(0, 2) == "@@") {
      allow = true;
      line.remove_prefix(2);
    }
    // Modifiers after '$': only $important (which changes nothing here) keeps the rule.
    if (const size_t dollar = line.find('$'); dollar != std::string_view::npos) {
      std::string_view modifiers = line.substr(dollar + 1);
      line = line.substr(0, dollar);
      if (!iequals(modifiers, "important")) {
        ++report_.unsupported;
        return;
      }
    }
    if (line.empty() || line.front() == '/' || line.find("##") != std::string_view::npos ||
        line.find("#@#") != std::string_view::npos) {
      ++report_.unsupported;  // regular expressions, cosmetic rules
      return;
    }
    if (line.substr(0, 2) == "||") {
      line.remove_prefix(2);
      if (!line.empty() && line.back() == '|') line.remove_suffix(1);
      if (line.empty() || line.back() != '^') {
        ++report_.unsupported;  // "||example.com/path": a URL rule
        return;
      }
      line.remove_suffix(1);
      if (line.find_first_of("/|^?=&:") != std::string_view::npos) {
        ++report_.unsupported;  // a URL rule: only the host part names a domain
        return;
      }
      emit_domain(line, allow);
      return;
    }
    if (line.find_first_of("|^/*?=&") != std::string_view::npos) {
      ++report_.unsupported;
      return;
    }
    emit_domain(line, allow);  // a bare domain, as AdGuard's lists also carry
  }

  // The owner written in an RPZ record, as an absolute name text.
  std::string rpz_owner(std::string_view owner) const {
    if (owner == "@") return origin_;
    if (!owner.empty() && owner.back() == '.') {
      // Absolute: it must lie in the policy zone; the zone's own name is cut off.
      std::string absolute(owner);
      if (!origin_.empty() && absolute.size() > origin_.size() + 1 &&
          iequals(std::string_view(absolute).substr(absolute.size() - origin_.size()), origin_) &&
          absolute[absolute.size() - origin_.size() - 1] == '.')
        return absolute.substr(0, absolute.size() - origin_.size() - 1);
      return {};
    }
    return std::string(owner);  // relative to the origin: the trigger name itself
  }

  void rpz_line(std::string_view raw) {
    // A line that starts with blanks continues the previous owner (RFC 1035 5.1).
    const bool continuation = !raw.empty() && is_space(raw.front());
    std::string_view line = strip_comment(raw, ';');
    if (line.empty()) return;
    if (line[0] == '$') {
      std::string_view directive = next_token(line);
      std::string_view value = next_token(line);
      if (iequals(directive, "$ORIGIN")) {
        origin_ = std::string(value);
        if (!origin_.empty() && origin_.back() != '.') origin_.push_back('.');
      } else if (!iequals(directive, "$TTL")) {
        malformed("unknown directive '" + std::string(directive) + "'");
      }
      return;
    }
    std::string_view owner = continuation ? std::string_view(last_owner_) : next_token(line);
    if (!continuation) last_owner_ = std::string(owner);
    // [TTL] [CLASS] TYPE RDATA, in either order for TTL and class (RFC 1035 5.1).
    std::string_view type = next_token(line);
    for (int i = 0; i < 2 && !type.empty(); ++i)
      if (std::isdigit(static_cast<unsigned char>(type[0])) || iequals(type, "IN")) type = next_token(line);
    std::string_view target = next_token(line);
    if (type.empty()) {
      malformed("a record without a type");
      return;
    }
    if (iequals(type, "SOA")) {
      // The policy zone's own name: later absolute owners are cut down by it.
      if (origin_.empty() && owner != "@") origin_ = std::string(owner);
      return;
    }
    if (iequals(type, "NS")) return;
    if (!iequals(type, "CNAME")) {
      ++report_.unsupported;  // local data (A, AAAA, TXT...) in the policy zone
      return;
    }
    std::string name = rpz_owner(owner);
    if (name.empty()) {
      malformed("'" + std::string(owner) + "' is outside the policy zone " + origin_);
      return;
    }
    // Triggers other than the query name (RFC-draft RPZ: rpz-ip, rpz-nsdname, ...).
    for (std::string_view trigger : {".rpz-ip", ".rpz-nsip", ".rpz-nsdname", ".rpz-client-ip"})
      if (name.size() > trigger.size() &&
          iequals(std::string_view(name).substr(name.size() - trigger.size()), trigger)) {
        ++report_.unsupported;
        return;
      }
    std::optional<BlockAction> action;
    bool allow = false;
    if (target == ".")
      action = BlockAction::nxdomain;
    else if (target == "*.")
      action = BlockAction::nodata;
    else if (iequals(target, "rpz-passthru."))
      allow = true;
    else if (iequals(target, "rpz-drop."))
      action = BlockAction::refuse;
    else {
      ++report_.unsupported;  // a redirect to another name, rpz-tcp-only.
      return;
    }
    if (name.size() > 2 && name[0] == '*' && name[1] == '.')
      emit(std::string_view(name).substr(2), NameSet::kBelow, allow, action);
    else
      emit(name, NameSet::kSelf, allow, action);
  }

  ListFormat format_;
  const std::string &source_;
  const ListSink &sink_;
  ListReport report_;
  size_t line_ = 0;
  std::string wire_;
  std::string origin_;
  std::string last_owner_;
};

}  // namespace

bool host_name_to_wire(std::string_view text, std::string &out) {
  out.clear();
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty()) {
    out.push_back('\0');
    return true;
  }
  size_t label_start = 0;
  out.push_back('\0');
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      const size_t length = i - label_start;
      if (length == 0 || length > 63) return false;
      out[out.size() - length - 1] = static_cast<char>(length);
      if (i < text.size()) out.push_back('\0');
      label_start = i + 1;
      continue;
    }
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    out.push_back(c);
  }
  out.push_back('\0');
  return out.size() <= 255;
}

ListReport parse_list(std::string_view text, ListFormat format, const std::string &source,
                      const ListSink &sink) {
  return Parser(format, source, sink).run(text);
}

}  // namespace rsv
