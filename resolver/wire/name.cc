#include "resolver/wire/name.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

namespace rsv {

namespace {

// Offsets of each label's length octet, leftmost first (the root label excluded).
std::vector<size_t> label_offsets(const std::string &wire) {
  std::vector<size_t> offsets;
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != 0) {
    offsets.push_back(pos);
    pos += 1 + static_cast<uint8_t>(wire[pos]);
  }
  return offsets;
}

bool labels_equal_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (dns_tolower(a[i]) != dns_tolower(b[i])) return false;
  return true;
}

}  // namespace

size_t wire_name_length(const uint8_t *data, size_t size, size_t offset) {
  size_t pos = offset;
  while (pos < size) {
    uint8_t len = data[pos];
    if (len == 0) {
      size_t total = pos + 1 - offset;
      return total <= Name::kMaxWireLength ? total : 0;
    }
    if (len > Name::kMaxLabelLength) return 0;  // compression pointers or reserved bits
    pos += 1 + len;
    if (pos - offset >= Name::kMaxWireLength) return 0;
  }
  return 0;
}

std::optional<Name> Name::from_wire(std::string_view wire) {
  size_t len = wire_name_length(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), 0);
  if (len == 0 || len != wire.size()) return std::nullopt;
  return Name(std::string(wire));
}

std::optional<Name> Name::from_text(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text == ".") return Name();
  std::string wire;
  std::string label;
  auto finish_label = [&]() -> bool {
    if (label.empty() || label.size() > kMaxLabelLength) return false;
    wire.push_back(static_cast<char>(label.size()));
    wire += label;
    label.clear();
    return true;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (!finish_label()) return std::nullopt;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) return std::nullopt;
      if (std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
        if (i + 3 >= text.size()) return std::nullopt;
        if (!std::isdigit(static_cast<unsigned char>(text[i + 2])) ||
            !std::isdigit(static_cast<unsigned char>(text[i + 3])))
          return std::nullopt;
        int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        if (v > 255) return std::nullopt;
        label.push_back(static_cast<char>(v));
        i += 3;
      } else {
        label.push_back(text[i + 1]);
        i += 1;
      }
      continue;
    }
    label.push_back(c);
  }
  if (!label.empty() && !finish_label()) return std::nullopt;
  wire.push_back('\0');
  if (wire.size() > kMaxWireLength) return std::nullopt;
  return Name(std::move(wire));
}

std::string Name::to_text() const {
  if (is_root()) return ".";
  std::string out;
  size_t pos = 0;
  while (pos < wire_.size() && wire_[pos] != 0) {
    uint8_t len = static_cast<uint8_t>(wire_[pos]);
    for (size_t i = 1; i <= len; ++i) {
      unsigned char c = static_cast<unsigned char>(wire_[pos + i]);
      if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        char buf[5];
        std::snprintf(buf, sizeof buf, "\\%03u", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    out.push_back('.');
    pos += 1 + len;
  }
  return out;
}

size_t Name::label_count() const { return label_offsets(wire_).size(); }

Name Name::parent() const {
  if (is_root()) return *this;
  size_t first = static_cast<uint8_t>(wire_[0]);
  return Name(wire_.substr(1 + first));
}

Name Name::suffix(size_t count) const {
  auto offsets = label_offsets(wire_);
  if (count >= offsets.size()) return *this;
  if (count == 0) return Name();
  return Name(wire_.substr(offsets[offsets.size() - count]));
}

std::optional<Name> Name::prepend(std::string_view label) const {
  if (label.empty() || label.size() > kMaxLabelLength) return std::nullopt;
  if (wire_.size() + 1 + label.size() > kMaxWireLength) return std::nullopt;
  std::string wire;
  wire.reserve(wire_.size() + 1 + label.size());
  wire.push_back(static_cast<char>(label.size()));
  wire += label;
  wire += wire_;
  return Name(std::move(wire));
}

std::string_view Name::first_label() const {
  if (is_root()) return {};
  return std::string_view(wire_).substr(1, static_cast<uint8_t>(wire_[0]));
}

Name Name::lowered() const {
  std::string wire = wire_;
  for (auto &c : wire) c = dns_tolower(c);  // length octets are <= 63, never in 'A'..'Z'
  return Name(std::move(wire));
}

size_t Name::common_labels(const Name &other) const {
  auto a = label_offsets(wire_);
  auto b = label_offsets(other.wire_);
  size_t count = 0;
  while (count < a.size() && count < b.size()) {
    size_t ia = a[a.size() - 1 - count];
    size_t ib = b[b.size() - 1 - count];
    std::string_view la(wire_.data() + ia + 1, static_cast<uint8_t>(wire_[ia]));
    std::string_view lb(other.wire_.data() + ib + 1, static_cast<uint8_t>(other.wire_[ib]));
    if (!labels_equal_ci(la, lb)) break;
    ++count;
  }
  return count;
}

bool Name::is_subdomain_of(const Name &zone) const {
  if (zone.wire_.size() > wire_.size()) return false;
  size_t zone_labels = zone.label_count();
  return common_labels(zone) == zone_labels;
}

std::optional<Name> Name::replace_suffix(const Name &from, const Name &to) const {
  if (!is_subdomain_of(from)) return std::nullopt;
  size_t prefix_len = wire_.size() - from.wire_.size();
  std::string wire = wire_.substr(0, prefix_len) + to.wire_;
  if (wire.size() > kMaxWireLength) return std::nullopt;
  return Name(std::move(wire));
}

bool operator==(const Name &a, const Name &b) {
  if (a.wire_.size() != b.wire_.size()) return false;
  for (size_t i = 0; i < a.wire_.size(); ++i)
    if (dns_tolower(a.wire_[i]) != dns_tolower(b.wire_[i])) return false;
  return true;
}

bool canonical_less(const Name &a, const Name &b) {
  auto oa = label_offsets(a.wire_);
  auto ob = label_offsets(b.wire_);
  size_t i = 0;
  while (i < oa.size() && i < ob.size()) {
    size_t pa = oa[oa.size() - 1 - i];
    size_t pb = ob[ob.size() - 1 - i];
    std::string_view la(a.wire_.data() + pa + 1, static_cast<uint8_t>(a.wire_[pa]));
    std::string_view lb(b.wire_.data() + pb + 1, static_cast<uint8_t>(b.wire_[pb]));
    size_t n = std::min(la.size(), lb.size());
    for (size_t k = 0; k < n; ++k) {
      auto ca = static_cast<unsigned char>(dns_tolower(la[k]));
      auto cb = static_cast<unsigned char>(dns_tolower(lb[k]));
      if (ca != cb) return ca < cb;
    }
    if (la.size() != lb.size()) return la.size() < lb.size();
    ++i;
  }
  return oa.size() < ob.size();
}

size_t Name::hash() const {
  // FNV-1a over the lower-cased wire form.
  size_t h = 1469598103934665603ULL;
  for (char c : wire_) {
    h ^= static_cast<unsigned char>(dns_tolower(c));
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace rsv
