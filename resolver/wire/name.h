// Domain names in uncompressed wire format.
//
// Every name that enters the resolver (from a client query, an authority's reply,
// the configuration or root hints) becomes a Name: a length-checked sequence of
// labels ending in the root label. The original case is kept, since 0x20
// randomisation and answers to clients must echo it; comparison and hashing are
// case-insensitive (RFC 4343).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rsv {

class Name {
public:
  // RFC 1035 2.3.4: a name is at most 255 octets in wire form, a label at most 63.
  static constexpr size_t kMaxWireLength = 255;
  static constexpr size_t kMaxLabelLength = 63;

  Name() : wire_(1, '\0') {}  // the root

  // Parses presentation format ("www.example.com." or "www.example.com"), with
  // \DDD and \X escapes. Returns nullopt for an invalid name.
  static std::optional<Name> from_text(std::string_view text);
  // Takes uncompressed wire format; returns nullopt unless it is exactly one valid name.
  static std::optional<Name> from_wire(std::string_view wire);
  static Name root() { return Name(); }

  const std::string &wire() const { return wire_; }
  std::string to_text() const;
  size_t label_count() const;  // the root has 0
  bool is_root() const { return wire_.size() == 1; }

  // The name with its leftmost label removed; the root's parent is the root.
  Name parent() const;
  // The rightmost `count` labels of this name (count <= label_count()).
  Name suffix(size_t count) const;
  // This name with `label` (1..63 octets) prepended.
  std::optional<Name> prepend(std::string_view label) const;
  // The leftmost label, without its length octet ("" for the root).
  std::string_view first_label() const;
  // Lower-cased copy, used for cache keys.
  Name lowered() const;
  // True when this name equals `zone` or lies below it.
  bool is_subdomain_of(const Name &zone) const;
  // Number of labels shared from the right with `other`.
  size_t common_labels(const Name &other) const;

  // Replaces the suffix `from` of this name with `to` (DNAME substitution, RFC 6672 2.2).
  // Returns nullopt when this name is not below `from` or the result is too long.
  std::optional<Name> replace_suffix(const Name &from, const Name &to) const;

  friend bool operator==(const Name &a, const Name &b);
  friend bool operator!=(const Name &a, const Name &b) { return !(a == b); }
  // Canonical DNS order (RFC 4034 6.1).
  friend bool canonical_less(const Name &a, const Name &b);

  size_t hash() const;

private:
  explicit Name(std::string wire) : wire_(std::move(wire)) {}
  std::string wire_;
};

struct NameHash {
  size_t operator()(const Name &n) const { return n.hash(); }
};

// ASCII-only case folding as DNS requires (RFC 4343 3).
inline char dns_tolower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Validates that `data[offset..]` holds an uncompressed name; returns its length or 0.
size_t wire_name_length(const uint8_t *data, size_t size, size_t offset);

}  // namespace rsv
