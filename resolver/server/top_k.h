// The most frequent keys of an unbounded stream in bounded memory: the Space-Saving
// sketch (Metwally, Agrawal and El Abbadi, "Efficient Computation of Frequent and
// Top-k Elements in Data Streams", ICDT 2005).
//
// The dashboard's "top names" and "top clients" come from one of these per worker,
// fed from the reply path. A resolver sees a flood of distinct names (random
// subdomains) as readily as a few popular ones, so a map of every name would grow
// without bound; this keeps exactly `capacity` counters, whatever the stream.
//
// add(key): a key already monitored gets +1. A new key takes a free counter, or,
// when all are taken, the counter with the smallest count: it inherits that count
// (+1) and records it as its possible overestimation (`error`). Guarantees, for a
// stream of N additions and capacity K:
//   - every key seen more than N/K times is monitored;
//   - for a monitored key, count - error <= true frequency <= count;
//   - with at most K distinct keys, every count is exact (error 0).
// Cost per add: a hash, a probe of an open-addressing index (at most half full), and,
// only for a new key when full, a scan of the K counts (kept apart from the keys, so
// the scan touches K * 8 bytes). No allocation after construction.
//
// Not thread-safe: the owner (resolver/server/query_log.h) holds a lock.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rsv {

template <size_t MaxKeyLength>
class SpaceSaving {
public:
  struct Item {
    std::string key;
    uint64_t count = 0;
    uint64_t error = 0;  // how much of count may belong to keys it replaced
  };

  explicit SpaceSaving(size_t capacity) : keys_(capacity), counts_(capacity, 0), errors_(capacity, 0) {
    size_t slots = 1;
    while (slots < 2 * capacity) slots <<= 1;
    index_.assign(slots, kEmpty);
  }

  size_t capacity() const { return counts_.size(); }
  size_t size() const { return used_; }
  uint64_t total() const { return total_; }

  // Keys longer than MaxKeyLength are cut to it (callers pass names and addresses,
  // which never are).
  void add(std::string_view key) {
    if (counts_.empty()) return;
    if (key.size() > MaxKeyLength) key = key.substr(0, MaxKeyLength);
    ++total_;
    const uint32_t hash = hash_of(key);
    size_t position = home(hash);
    while (index_[position] != kEmpty) {
      const uint32_t slot = index_[position];
      if (keys_[slot].hash == hash && keys_[slot].view() == key) {
        ++counts_[slot];
        return;
      }
      position = next(position);
    }
    if (used_ < counts_.size()) {
      const uint32_t slot = static_cast<uint32_t>(used_++);
      keys_[slot].assign(key, hash);
      counts_[slot] = 1;
      errors_[slot] = 0;
      index_[position] = slot;
      return;
    }
    // Full: the least counted key gives its counter to the new one.
    const uint32_t victim =
        static_cast<uint32_t>(std::min_element(counts_.begin(), counts_.end()) - counts_.begin());
    unindex(victim);
    keys_[victim].assign(key, hash);
    errors_[victim] = counts_[victim];
    ++counts_[victim];
    position = home(hash);
    while (index_[position] != kEmpty) position = next(position);
    index_[position] = victim;
  }

  // The `n` largest counts, largest first (ties: by key, for a stable display).
  std::vector<Item> top(size_t n) const {
    std::vector<Item> items;
    items.reserve(used_);
    for (size_t i = 0; i < used_; ++i) items.push_back(Item{std::string(keys_[i].view()), counts_[i], errors_[i]});
    std::sort(items.begin(), items.end(), [](const Item &a, const Item &b) {
      return a.count != b.count ? a.count > b.count : a.key < b.key;
    });
    if (items.size() > n) items.resize(n);
    return items;
  }

  void clear() {
    used_ = 0;
    total_ = 0;
    std::fill(index_.begin(), index_.end(), kEmpty);
  }

private:
  static constexpr uint32_t kEmpty = UINT32_MAX;

  struct Key {
    std::array<char, MaxKeyLength> bytes{};
    uint16_t length = 0;
    uint32_t hash = 0;
    std::string_view view() const { return std::string_view(bytes.data(), length); }
    void assign(std::string_view key, uint32_t key_hash) {
      std::memcpy(bytes.data(), key.data(), key.size());
      length = static_cast<uint16_t>(key.size());
      hash = key_hash;
    }
  };

  static uint32_t hash_of(std::string_view key) {
    return static_cast<uint32_t>(std::hash<std::string_view>{}(key));
  }
  size_t home(uint32_t hash) const { return hash & (index_.size() - 1); }
  size_t next(size_t position) const { return (position + 1) & (index_.size() - 1); }

  // Removes `slot` from the linear-probing index, shifting later entries of the same
  // probe run back so that every key stays reachable from its home position.
  void unindex(uint32_t slot) {
    size_t hole = home(keys_[slot].hash);
    while (index_[hole] != slot) hole = next(hole);
    for (size_t j = next(hole); index_[j] != kEmpty; j = next(j)) {
      const size_t j_home = home(keys_[index_[j]].hash);
      // An entry may fill the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (hole < j_home && j_home <= j) : (hole < j_home || j_home <= j);
      if (!stays) {
        index_[hole] = index_[j];
        hole = j;
      }
    }
    index_[hole] = kEmpty;
  }

  std::vector<Key> keys_;
  std::vector<uint64_t> counts_;  // apart from keys_: the eviction scan reads only these
  std::vector<uint64_t> errors_;
  std::vector<uint32_t> index_;   // slot numbers by hash, kEmpty where free
  size_t used_ = 0;
  uint64_t total_ = 0;
};

}  // namespace rsv
