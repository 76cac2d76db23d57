// A bounded, sharded least-recently-used map from byte-string keys to values.
//
// Every cache of the resolver (RRsets, whole messages, the infrastructure cache) is
// one of these. A query's key (for example a lower-cased name, type and class, built
// in a stack buffer) is hashed once; the hash picks a shard, and only that shard's
// mutex is taken, so worker threads rarely contend. Each shard keeps its own byte
// budget (the total divided by the number of shards) and evicts from the cold end of
// its recency list until a new entry fits. Lookups take a std::string_view, so the
// hot path never allocates; keys are stored as std::string.
//
// Memory accounting is meant to be honest: an entry is charged for the hash-table
// node (key object, value object, links), the key's heap buffer, its share of the
// bucket array and whatever heap memory the value says it owns, each rounded up the
// way glibc's allocator rounds. The sum stays within the configured bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "cache/lock_guarded.h"

namespace rsv {

// What the allocator really takes for a request of `requested` bytes: glibc's malloc
// adds an 8-byte header, rounds to 16-byte granules and never hands out less than 32.
inline constexpr size_t allocation_bytes(size_t requested) {
  if (requested == 0) return 0;
  size_t chunk = (requested + 8 + 15) & ~size_t{15};
  return chunk < 32 ? 32 : chunk;
}

// Heap memory owned by a std::string (none while it fits the small-string buffer).
inline size_t string_heap_bytes(const std::string &s) {
  constexpr size_t kSmallStringCapacity = 15;  // libstdc++
  return s.capacity() > kSmallStringCapacity ? allocation_bytes(s.capacity() + 1) : 0;
}

template <typename Value>
class ShardedLru {
public:
  static constexpr size_t kDefaultShards = 16;

  // `shard_count` is rounded up to a power of two (at least 1).
  explicit ShardedLru(uint64_t max_bytes, size_t shard_count = kDefaultShards)
      : shard_count_(round_up_to_power_of_two(shard_count)),
        shard_budget_(max_bytes / shard_count_),
        shards_(std::make_unique<PaddedShard[]>(shard_count_)) {}

  ShardedLru(const ShardedLru &) = delete;
  ShardedLru &operator=(const ShardedLru &) = delete;

  // The bytes one entry is charged: node, key, bucket share, plus the value's own heap.
  static size_t entry_bytes(std::string_view key, size_t value_heap_bytes) {
    constexpr size_t kSmallStringCapacity = 15;
    size_t key_heap = key.size() > kSmallStringCapacity ? allocation_bytes(key.size() + 1) : 0;
    return allocation_bytes(kNodeBytes) + key_heap + kBucketBytesPerEntry + value_heap_bytes;
  }

  // Calls visit(Value &) on the entry for `key` under the shard's lock and marks it
  // most recently used. Returns false (without calling visit) when absent. Allocates
  // nothing; keep `visit` short, the shard is locked while it runs.
  template <typename Visit>
  bool find(std::string_view key, Visit &&visit) {
    const size_t hash = hash_key(key);
    auto shard = shard_for(hash).lock();
    auto it = shard->map.find(KeyRef{key, hash});
    if (it == shard->map.end()) return false;
    make_newest(*shard, &it->second);
    visit(it->second.value);
    return true;
  }

  // Stores `value` under `key`, replacing any previous value unless
  // keep_existing(const Value &old) returns true. `value_heap_bytes` is the heap
  // memory the value owns. Returns true when stored; false when kept, or when the
  // entry alone exceeds a shard's budget.
  template <typename KeepExisting>
  bool insert_unless(std::string_view key, Value value, size_t value_heap_bytes,
                     KeepExisting &&keep_existing) {
    const size_t charge = entry_bytes(key, value_heap_bytes);
    if (charge > shard_budget_) return false;
    const size_t hash = hash_key(key);
    auto shard = shard_for(hash).lock();
    auto it = shard->map.find(KeyRef{key, hash});
    Slot *slot;
    if (it != shard->map.end()) {
      slot = &it->second;
      if (keep_existing(std::as_const(slot->value))) return false;
      slot->value = std::move(value);
      shard->bytes = shard->bytes - slot->charge + charge;
      slot->charge = charge;
      make_newest(*shard, slot);
    } else {
      auto [inserted, ok] = shard->map.emplace(std::string(key), Slot{std::move(value)});
      (void)ok;
      slot = &inserted->second;
      slot->key = &inserted->first;
      slot->hash = hash;
      slot->charge = charge;
      shard->bytes += charge;
      link_newest(*shard, slot);
    }
    evict_to_budget(*shard, slot);
    return true;
  }

  bool insert(std::string_view key, Value value, size_t value_heap_bytes) {
    return insert_unless(key, std::move(value), value_heap_bytes, [](const Value &) { return false; });
  }

  // Finds the entry for `key`, or creates a value-initialised one, and calls
  // update(Value &) on it under the lock. The entry is (re)charged with
  // `value_heap_bytes`. Returns false only when the entry cannot fit at all.
  template <typename Update>
  bool upsert(std::string_view key, size_t value_heap_bytes, Update &&update) {
    const size_t charge = entry_bytes(key, value_heap_bytes);
    if (charge > shard_budget_) return false;
    const size_t hash = hash_key(key);
    auto shard = shard_for(hash).lock();
    auto it = shard->map.find(KeyRef{key, hash});
    Slot *slot;
    if (it != shard->map.end()) {
      slot = &it->second;
      shard->bytes = shard->bytes - slot->charge + charge;
      make_newest(*shard, slot);
    } else {
      auto [inserted, ok] = shard->map.emplace(std::string(key), Slot{Value{}});
      (void)ok;
      slot = &inserted->second;
      slot->key = &inserted->first;
      slot->hash = hash;
      shard->bytes += charge;
      link_newest(*shard, slot);
    }
    slot->charge = charge;
    update(slot->value);
    evict_to_budget(*shard, slot);
    return true;
  }

  // Erases every entry whose key satisfies `pred` (std::string_view key), shard by
  // shard; returns how many. A scan of the whole cache: for operators' flushes, not
  // for the query path.
  template <typename Pred>
  size_t erase_if(Pred &&pred) {
    size_t erased = 0;
    for (size_t i = 0; i < shard_count_; ++i) {
      auto shard = shards_[i].guarded.lock();
      for (auto it = shard->map.begin(); it != shard->map.end();) {
        if (pred(std::string_view(it->first))) {
          auto next = std::next(it);
          remove(*shard, it);
          it = next;
          ++erased;
        } else {
          ++it;
        }
      }
    }
    return erased;
  }

  // Calls visit(std::string_view key, const Value &) for every entry of shard `index`,
  // from the least to the most recently used, under that shard's lock and without
  // changing recency. Keep `visit` short (copy out, work later): the shard's lookups
  // wait meanwhile. For the cache snapshot, which walks one shard at a time so that
  // the workers are never held up by more than one shard.
  template <typename Visit>
  void for_each_in_shard(size_t index, Visit &&visit) const {
    if (index >= shard_count_) return;
    auto shard = shards_[index].guarded.lock();
    for (const Slot *slot = shard->oldest; slot; slot = slot->newer) visit(std::string_view(*slot->key), slot->value);
  }

  // Every entry, shard by shard (see for_each_in_shard).
  template <typename Visit>
  void for_each(Visit &&visit) const {
    for (size_t i = 0; i < shard_count_; ++i) for_each_in_shard(i, visit);
  }

  bool erase(std::string_view key) {
    const size_t hash = hash_key(key);
    auto shard = shard_for(hash).lock();
    auto it = shard->map.find(KeyRef{key, hash});
    if (it == shard->map.end()) return false;
    remove(*shard, it);
    return true;
  }

  void clear() {
    for (size_t i = 0; i < shard_count_; ++i) {
      auto shard = shards_[i].guarded.lock();
      shard->map.clear();
      shard->newest = shard->oldest = nullptr;
      shard->bytes = 0;
    }
  }

  size_t size() const {
    size_t total = 0;
    for (size_t i = 0; i < shard_count_; ++i) total += shards_[i].guarded.lock()->map.size();
    return total;
  }

  uint64_t memory_bytes() const {
    uint64_t total = 0;
    for (size_t i = 0; i < shard_count_; ++i) total += shards_[i].guarded.lock()->bytes;
    return total;
  }

  uint64_t capacity_bytes() const { return shard_budget_ * shard_count_; }
  size_t shard_count() const { return shard_count_; }

private:
  struct Slot {
    Value value;
    size_t charge = 0;
    size_t hash = 0;
    const std::string *key = nullptr;  // the map node's key; nodes never move
    Slot *newer = nullptr;
    Slot *older = nullptr;
  };

  // A lookup key with its hash computed once, for shard choice and bucket alike.
  struct KeyRef {
    std::string_view text;
    size_t hash;
  };
  static size_t hash_key(std::string_view key) { return std::hash<std::string_view>{}(key); }

  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const std::string &key) const noexcept { return hash_key(key); }
    size_t operator()(const KeyRef &key) const noexcept { return key.hash; }
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(const std::string &a, const std::string &b) const noexcept { return a == b; }
    bool operator()(const KeyRef &a, const std::string &b) const noexcept { return a.text == b; }
    bool operator()(const std::string &a, const KeyRef &b) const noexcept { return a == b.text; }
  };
  using Map = std::unordered_map<std::string, Slot, KeyHash, KeyEqual>;

  struct Shard {
    Map map;
    Slot *newest = nullptr;
    Slot *oldest = nullptr;
    uint64_t bytes = 0;
  };
  // One cache line per shard at least, so two threads on two shards do not share one.
  struct alignas(64) PaddedShard {
    mutable LockGuarded<Shard> guarded;
  };

  // A node of Map: the bucket-chain link, the key and value, and (when the library
  // caches it) the hash code. Counted conservatively.
  static constexpr size_t kNodeBytes =
      sizeof(void *) + sizeof(std::pair<const std::string, Slot>) + sizeof(size_t);
  // The bucket array holds one pointer per bucket and grows by doubling at a load
  // factor of 1, so it never holds more than two pointers per entry.
  static constexpr size_t kBucketBytesPerEntry = 2 * sizeof(void *);

  static size_t round_up_to_power_of_two(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }

  LockGuarded<Shard> &shard_for(size_t hash) const {
    // The top bits choose the shard; the map's bucket index uses the whole hash.
    return shards_[(hash >> 40) & (shard_count_ - 1)].guarded;
  }

  static void unlink(Shard &shard, Slot *slot) {
    (slot->newer ? slot->newer->older : shard.newest) = slot->older;
    (slot->older ? slot->older->newer : shard.oldest) = slot->newer;
    slot->newer = slot->older = nullptr;
  }

  static void link_newest(Shard &shard, Slot *slot) {
    slot->newer = nullptr;
    slot->older = shard.newest;
    if (shard.newest) shard.newest->newer = slot;
    shard.newest = slot;
    if (!shard.oldest) shard.oldest = slot;
  }

  static void make_newest(Shard &shard, Slot *slot) {
    if (shard.newest == slot) return;
    unlink(shard, slot);
    link_newest(shard, slot);
  }

  static void remove(Shard &shard, typename Map::iterator it) {
    unlink(shard, &it->second);
    shard.bytes -= it->second.charge;
    shard.map.erase(it);
  }

  // Drops least recently used entries until the shard is within budget; never the
  // entry just stored.
  void evict_to_budget(Shard &shard, const Slot *keep) {
    while (shard.bytes > shard_budget_ && shard.oldest && shard.oldest != keep) {
      Slot *victim = shard.oldest;
      remove(shard, shard.map.find(KeyRef{*victim->key, victim->hash}));
    }
  }

  size_t shard_count_;
  uint64_t shard_budget_;
  std::unique_ptr<PaddedShard[]> shards_;
};

}  // namespace rsv
