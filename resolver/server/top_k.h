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
// Cost per add: a hash, a probe of an open-addressing index (at most half full), and
// a step of a binary min-heap of the counters (O(log K)): the least counted key, the
// one a new key replaces, is always at its root. Measured for QueryLog::record (both
// sketches, K = 128): ~70 ns when the key is monitored, ~220 ns when it replaces
// another (a scan of the K counts for the minimum instead cost ~520 ns, mostly branch
// mispredictions). No allocation after construction.
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

  explicit SpaceSaving(size_t capacity)
      : keys_(capacity), hashes_(capacity, 0), counts_(capacity, 0), errors_(capacity, 0), heap_(capacity, 0), heap_position_(capacity, 0) {
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
      if (hashes_[slot] == hash && keys_[slot].view() == key) {
        ++counts_[slot];
        sift_down(heap_position_[slot]);
        return;
      }
      position = next(position);
    }
    if (used_ < counts_.size()) {
      const uint32_t slot = static_cast<uint32_t>(used_++);
      keys_[slot].assign(key);
      hashes_[slot] = hash;
      counts_[slot] = 1;
      errors_[slot] = 0;
      index_[position] = slot;
      heap_[slot] = slot;
      heap_position_[slot] = slot;
      sift_up(slot);
      return;
    }
    // Full: the least counted key (the heap's root) gives its counter to the new one.
    const uint32_t victim = heap_[0];
    unindex(victim);
    keys_[victim].assign(key);
    hashes_[victim] = hash;
    errors_[victim] = counts_[victim];
    ++counts_[victim];
    sift_down(0);
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
    std::string_view view() const { return std::string_view(bytes.data(), length); }
    void assign(std::string_view key) {
      std::memcpy(bytes.data(), key.data(), key.size());
      length = static_cast<uint16_t>(key.size());
    }
  };

  static uint32_t hash_of(std::string_view key) {
    return static_cast<uint32_t>(std::hash<std::string_view>{}(key));
  }
  size_t home(uint32_t hash) const { return hash & (index_.size() - 1); }
  size_t next(size_t position) const { return (position + 1) & (index_.size() - 1); }

  // The min-heap of slots by count: a parent's count is at most its children's.
  void place(size_t position, uint32_t slot) {
    heap_[position] = slot;
    heap_position_[slot] = static_cast<uint32_t>(position);
  }
  void sift_down(size_t position) {
    const uint32_t slot = heap_[position];
    const uint64_t count = counts_[slot];
    for (;;) {
      size_t child = 2 * position + 1;
      if (child >= used_) break;
      if (child + 1 < used_ && counts_[heap_[child + 1]] < counts_[heap_[child]]) ++child;
      if (counts_[heap_[child]] >= count) break;
      place(position, heap_[child]);
      position = child;
    }
    place(position, slot);
  }
  void sift_up(size_t position) {
    const uint32_t slot = heap_[position];
    const uint64_t count = counts_[slot];
    while (position > 0) {
      const size_t parent = (position - 1) / 2;
      if (counts_[heap_[parent]] <= count) break;
      place(position, heap_[parent]);
      position = parent;
    }
    place(position, slot);
  }

  // Removes `slot` from the linear-probing index, shifting later entries of the same
  // probe run back so that every key stays reachable from its home position.
  void unindex(uint32_t slot) {
    size_t hole = home(hashes_[slot]);
    while (index_[hole] != slot) hole = next(hole);
    for (size_t j = next(hole); index_[j] != kEmpty; j = next(j)) {
      const size_t j_home = home(hashes_[index_[j]]);
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
  std::vector<uint32_t> hashes_;  // apart from keys_: probing reads only these
  std::vector<uint64_t> counts_;
  std::vector<uint64_t> errors_;
  std::vector<uint32_t> heap_;           // slots, a min-heap by count
  std::vector<uint32_t> heap_position_;  // where each slot is in heap_
  std::vector<uint32_t> index_;   // slot numbers by hash, kEmpty where free
  size_t used_ = 0;
  uint64_t total_ = 0;
};

}  // namespace rsv
