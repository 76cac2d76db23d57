// A compact set of domain names for blocklists, allowlists and locally served names:
// about 12-16 bytes per name, whatever the name's length, and one memory probe per
// label of a looked-up name.
//
// Only a 54-bit keyed hash of each name is stored (xxHash XXH3 with a seed drawn at
// start), in an open-addressing table of 64-bit slots, with 10 bits beside it: which
// list the name came from, whether it matches the name itself and/or the names below
// it, and the list's action for it. Two different names share a hash with probability
// 2^-54 per pair; with a million names a looked-up name is mistaken for a listed one
// about once in 10^10 lookups, and the seed is secret, so no one can aim for it.
// Storing no names is what makes a million-entry list cost a few megabytes (Unbound
// keeps each as a full local-zone, ~470 bytes).
//
// Built once (add), then read by every worker without locks: a reload builds a new
// set and swaps it in whole.
//
// A large table lives in transparent huge pages where the kernel offers them
// (madvise): each lookup touches one random slot of a table of many megabytes, and
// with 4 KiB pages that costs a page walk as well as a cache miss on every query.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace rsv {

// Zeroed 64-bit slots in their own anonymous mapping, 2 MiB-aligned and advised for
// huge pages once the table is that large.
class SlotTable {
public:
  SlotTable() = default;
  explicit SlotTable(size_t slots);
  SlotTable(SlotTable &&other) noexcept { swap(other); }
  SlotTable &operator=(SlotTable &&other) noexcept {
    SlotTable(std::move(other)).swap(*this);
    return *this;
  }
  SlotTable(const SlotTable &) = delete;
  SlotTable &operator=(const SlotTable &) = delete;
  ~SlotTable();

  uint64_t &operator[](size_t i) { return data_[i]; }
  uint64_t operator[](size_t i) const { return data_[i]; }
  size_t size() const { return size_; }
  const uint64_t *begin() const { return data_; }
  const uint64_t *end() const { return data_ + size_; }
  uint64_t mapped_bytes() const { return mapped_bytes_; }
  void swap(SlotTable &other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(mapping_, other.mapping_);
    std::swap(mapped_bytes_, other.mapped_bytes_);
  }

private:
  uint64_t *data_ = nullptr;
  size_t size_ = 0;
  void *mapping_ = nullptr;
  uint64_t mapped_bytes_ = 0;
};

class NameSet {
public:
  enum Coverage : uint8_t { kSelf = 1, kBelow = 2, kSubtree = kSelf | kBelow };
  static constexpr unsigned kMaxLists = 64;
  static constexpr unsigned kMaxActions = 4;

  struct Hit {
    uint8_t list = 0;    // the index given to add()
    uint8_t action = 0;  // the action given to add()
    // Where the listed name begins in the looked-up name's wire form: 0 when the name
    // itself is listed. Of two hits on the same name, the one with the smaller offset
    // is the closer (the longer listed name).
    size_t offset = 0;
  };

  explicit NameSet(uint64_t seed);

  // `lowered_wire`: a lower-cased name in wire form. Adding a name that is already
  // there widens its coverage and keeps its first list and action. Returns false
  // (and adds nothing) when the table would grow past `max_bytes`.
  bool add(std::string_view lowered_wire, uint8_t coverage, uint8_t list, uint8_t action,
           uint64_t max_bytes = UINT64_MAX);

  // The closest listed name that covers `lowered_wire`: the name itself if listed with
  // kSelf, else its nearest ancestor listed with kBelow. The root is never matched.
  std::optional<Hit> match(std::string_view lowered_wire) const;

  size_t size() const { return size_; }
  uint64_t memory_bytes() const { return slots_.size() * sizeof(uint64_t); }
  // The table's size after `entries` more adds: to refuse a list before loading it.
  uint64_t bytes_for(size_t entries) const;

private:
  uint64_t fingerprint(std::string_view wire) const;
  bool grow(uint64_t max_bytes);
  void place(uint64_t slot);
  std::optional<uint64_t> find(uint64_t fingerprint) const;

  uint64_t seed_;
  SlotTable slots_;  // 0: empty; else fingerprint << 10 | action << 8 | list << 2 | coverage
  size_t size_ = 0;
};

}  // namespace rsv
