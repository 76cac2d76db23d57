// A bounded, sharded least-recently-used map from byte-string keys to values.
//
// Every cache of the resolver (RRsets, whole messages, the infrastructure cache) is
// one of these. A query's key (for example a lower-cased name, type and class, built
// in a stack buffer) is hashed once; the hash picks a shard, and only that shard's
// mutex is taken, so worker threads rarely contend. Each shard keeps its own byte
// budget (the total divided by the number of shards) and evicts from the cold end of
// its recency list until a new entry fits. Lookups take a std::string_view, so the
// hot path never allocates.
//
// Memory per entry is what a cache of a million names is made of, so an entry is one
// allocation: a node holding the recency links, the hash, the value and the key's
// bytes after it. A shard finds its nodes through an open-addressing table of node
// pointers (linear probing, at most four fifths full). Compared with a
// std::unordered_map<std::string, ...>, that saves the map node's own links and
// cached hash, the std::string object and, for keys over 15 bytes, its separate heap
// buffer: about 60 bytes an entry.
//
// Memory accounting is meant to be honest: an entry is charged for its node as glibc's
// allocator rounds it, its worst-case share of the table, and whatever heap memory the
// value says it owns. The sum stays within the configured bound (each shard's first
// table of kInitialSlots pointers aside).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <cstring>
#include <new>
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
  // Longest key and tail an entry may have (a key is a name with a few bytes more; a
  // tail is at most an encoded 64 KiB message with its TTL offsets). Longer ones are
  // refused, like an entry over a shard's budget.
  static constexpr unsigned kKeySizeBits = 12;
  static constexpr size_t kMaxKeyBytes = (size_t{1} << kKeySizeBits) - 1;
  static constexpr size_t kMaxTailBytes = (size_t{1} << (32 - kKeySizeBits)) - 1;

  // `shard_count` is rounded up to a power of two (at least 1).
  explicit ShardedLru(uint64_t max_bytes, size_t shard_count = kDefaultShards)
      : shard_count_(round_up_to_power_of_two(shard_count)),
        shard_budget_(max_bytes / shard_count_),
        shards_(std::make_unique<PaddedShard[]>(shard_count_)) {}

  ShardedLru(const ShardedLru &) = delete;
  ShardedLru &operator=(const ShardedLru &) = delete;

  // The bytes one entry is charged: node, key, bucket share, plus the value's own heap.
  // `tail_bytes`: the size of the entry's tail (see store()), kept in the node too.
  static size_t entry_bytes(std::string_view key, size_t value_heap_bytes, size_t tail_bytes = 0) {
    return allocation_bytes(sizeof(Node) + key.size() + tail_bytes) + kTableBytesPerEntry + value_heap_bytes;
  }

  ~ShardedLru() { clear(); }

  // Calls visit(Value &) (or visit(Value &, std::string_view tail)) on the entry for
  // `key` under the shard's lock and marks it most recently used. Returns false
  // (without calling visit) when absent. Allocates nothing; keep `visit` short, the
  // shard is locked while it runs.
  template <typename Visit>
  bool find(std::string_view key, Visit &&visit) {
    const size_t hash = hash_key(key);
    auto shard = shard_for(hash).lock();
    Node *node = locate(*shard, key, hash);
    if (node == nullptr) return false;
    make_newest(*shard, node);
    if constexpr (std::is_invocable_v<Visit, Value &, std::string_view>)
      visit(node->value, node->tail());
    else
      visit(node->value);
    return true;
  }

  // Stores `value` with `tail`: bytes kept in the entry's own node, after the key, for
  // the variable part of what a cache keeps (an encoded reply, a packed RRset), so that
  // an entry stays one allocation. The tail never changes; storing again replaces the
  // entry (unless keep_existing(const Value &old) says to keep it). Returns true when
  // stored; false when kept, or when the entry alone exceeds a shard's budget.
  template <typename KeepExisting>
  bool store(std::string_view key, Value value, std::string_view tail, KeepExisting &&keep_existing) {
    const size_t charge = entry_bytes(key, 0, tail.size());
    if (charge > shard_budget_ || key.size() > kMaxKeyBytes || tail.size() > kMaxTailBytes) return false;
    const size_t hash = hash_key(key);
    auto shard = shard_for(hash).lock();
    const size_t slot = find_slot(*shard, key, hash);
    Node *node;
    if (slot != kNotFound) {
      Node *old = shard->table[slot];
      if (keep_existing(std::as_const(old->value))) return false;
      node = make_node(key, hash, charge, std::move(value), tail);
      shard->table[slot] = node;
      shard->bytes = shard->bytes - old->charge + charge;
      unlink(*shard, old);
      destroy(old);
      link_newest(*shard, node);
    } else {
      node = add(*shard, key, hash, charge, std::move(value), tail);
    }
    evict_to_budget(*shard, node);
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
    if (charge > shard_budget_ || key.size() > kMaxKeyBytes) return false;
    const size_t hash = hash_key(key);
    auto shard = shard_for(hash).lock();
    Node *node = locate(*shard, key, hash);
    if (node != nullptr) {
      if (keep_existing(std::as_const(node->value))) return false;
      node->value = std::move(value);
      shard->bytes = shard->bytes - node->charge + charge;
      node->charge = charge;
      make_newest(*shard, node);
    } else {
      node = add(*shard, key, hash, charge, std::move(value), {});
    }
    evict_to_budget(*shard, node);
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
    if (charge > shard_budget_ || key.size() > kMaxKeyBytes) return false;
    const size_t hash = hash_key(key);
    auto shard = shard_for(hash).lock();
    Node *node = locate(*shard, key, hash);
    if (node != nullptr) {
      shard->bytes = shard->bytes - node->charge + charge;
      node->charge = charge;
      make_newest(*shard, node);
    } else {
      node = add(*shard, key, hash, charge, Value{}, {});
    }
    update(node->value);
    evict_to_budget(*shard, node);
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
      // Removing from slot i may shift a later node of its run into slot i (never one
      // into a slot before i but across the table's end, already checked): look again.
      for (size_t slot = 0; slot < shard->capacity; ++slot) {
        while (shard->table[slot] != nullptr && pred(shard->table[slot]->key())) {
          remove_at(*shard, slot);
          ++erased;
        }
      }
    }
    return erased;
  }

  // Calls visit(std::string_view key, const Value &) (or visit(key, value,
  // std::string_view tail)) for every entry of shard `index`,
  // from the least to the most recently used, under that shard's lock and without
  // changing recency. Keep `visit` short (copy out, work later): the shard's lookups
  // wait meanwhile. For the cache snapshot, which walks one shard at a time so that
  // the workers are never held up by more than one shard.
  template <typename Visit>
  void for_each_in_shard(size_t index, Visit &&visit) const {
    if (index >= shard_count_) return;
    auto shard = shards_[index].guarded.lock();
    for (const Node *node = shard->oldest; node; node = node->newer) {
      if constexpr (std::is_invocable_v<Visit, std::string_view, const Value &, std::string_view>)
        visit(node->key(), node->value, node->tail());
      else
        visit(node->key(), node->value);
    }
  }

  // Every entry, shard by shard (see for_each_in_shard).
  template <typename Visit>
  void for_each(Visit &&visit) const {
    for (size_t i = 0; i < shard_count_; ++i) for_each_in_shard(i, visit);
  }

  bool erase(std::string_view key) {
    const size_t hash = hash_key(key);
    auto shard = shard_for(hash).lock();
    const size_t slot = find_slot(*shard, key, hash);
    if (slot == kNotFound) return false;
    remove_at(*shard, slot);
    return true;
  }

  void clear() {
    for (size_t i = 0; i < shard_count_; ++i) {
      auto shard = shards_[i].guarded.lock();
      for (Node *node = shard->oldest; node != nullptr;) {
        Node *newer = node->newer;
        destroy(node);
        node = newer;
      }
      shard->table.reset();
      shard->capacity = shard->count = 0;
      shard->newest = shard->oldest = nullptr;
      shard->bytes = 0;
    }
  }

  size_t size() const {
    size_t total = 0;
    for (size_t i = 0; i < shard_count_; ++i) total += shards_[i].guarded.lock()->count;
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
  // One entry, in one allocation: the node, then the key's bytes, then the tail's.
  struct Node {
    Node *newer = nullptr;
    Node *older = nullptr;
    uint32_t hash = 0;  // the low half of the key's hash: the table's slots use no more
    uint32_t charge = 0;
    // The key's size in the low kKeySizeBits, the tail's above: with the links, 28
    // bytes, so a value of 4-byte alignment (an RRset entry's 12 bytes) makes a
    // 40-byte node where separate fields made 48.
    uint32_t sizes = 0;
    Value value;

    explicit Node(Value v) : value(std::move(v)) {}
    size_t key_size() const { return sizes & kMaxKeyBytes; }
    size_t tail_size() const { return sizes >> kKeySizeBits; }
    char *bytes() { return reinterpret_cast<char *>(this) + sizeof(Node); }
    const char *bytes() const { return reinterpret_cast<const char *>(this) + sizeof(Node); }
    std::string_view key() const { return {bytes(), key_size()}; }
    std::string_view tail() const { return {bytes() + key_size(), tail_size()}; }
  };
  static_assert(alignof(Node) <= alignof(std::max_align_t));

  static size_t hash_key(std::string_view key) { return std::hash<std::string_view>{}(key); }

  struct Shard {
    std::unique_ptr<Node *[]> table;  // open addressing, linear probing; nullptr = empty
    size_t capacity = 0;              // a power of two, or 0 before the first entry
    size_t count = 0;
    Node *newest = nullptr;
    Node *oldest = nullptr;
    uint64_t bytes = 0;
  };
  // One cache line per shard at least, so two threads on two shards do not share one.
  struct alignas(64) PaddedShard {
    mutable LockGuarded<Shard> guarded;
  };

  static constexpr size_t kInitialSlots = 16;
  static constexpr size_t kNotFound = ~size_t{0};
  // The table grows by doubling once it is four fifths full (linear probing then looks
  // at 3 slots on average for a hit), so it holds at least two entries for every five
  // pointers: at most 5 * 8 / 2 bytes an entry.
  static constexpr size_t kTableBytesPerEntry = (5 * sizeof(void *) + 1) / 2;

  static size_t round_up_to_power_of_two(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }

  LockGuarded<Shard> &shard_for(size_t hash) const {
    // The top bits choose the shard; the table's slot uses the low ones.
    return shards_[(hash >> 40) & (shard_count_ - 1)].guarded;
  }

  static size_t find_slot(const Shard &shard, std::string_view key, size_t hash) {
    if (shard.capacity == 0 || key.size() > kMaxKeyBytes) return kNotFound;
    const size_t mask = shard.capacity - 1;
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      const Node *node = shard.table[slot];
      if (node == nullptr) return kNotFound;
      if (node->hash == static_cast<uint32_t>(hash) && node->key() == key) return slot;
    }
  }

  static Node *locate(Shard &shard, std::string_view key, size_t hash) {
    const size_t slot = find_slot(shard, key, hash);
    return slot == kNotFound ? nullptr : shard.table[slot];
  }

  static void place(Shard &shard, Node *node) {
    const size_t mask = shard.capacity - 1;
    size_t slot = node->hash & mask;
    while (shard.table[slot] != nullptr) slot = (slot + 1) & mask;
    shard.table[slot] = node;
  }

  static void grow_if_needed(Shard &shard) {
    if (shard.capacity != 0 && (shard.count + 1) * 5 <= shard.capacity * 4) return;
    const size_t capacity = shard.capacity == 0 ? kInitialSlots : shard.capacity * 2;
    auto old_table = std::move(shard.table);
    const size_t old_capacity = shard.capacity;
    shard.table = std::make_unique<Node *[]>(capacity);  // value-initialised: all empty
    shard.capacity = capacity;
    for (size_t i = 0; i < old_capacity; ++i)
      if (old_table[i] != nullptr) place(shard, old_table[i]);
  }

  // A new node for `key`, in the table and newest in the recency list. The key was
  // checked absent (and to fit a node: entry_bytes refuses nothing smaller than 64 KiB).
  static Node *make_node(std::string_view key, size_t hash, size_t charge, Value value, std::string_view tail) {
    void *memory = ::operator new(sizeof(Node) + key.size() + tail.size());
    Node *node = new (memory) Node(std::move(value));
    node->hash = static_cast<uint32_t>(hash);
    node->charge = static_cast<uint32_t>(charge);
    node->sizes = static_cast<uint32_t>(key.size() | (tail.size() << kKeySizeBits));
    if (!key.empty()) std::memcpy(node->bytes(), key.data(), key.size());
    if (!tail.empty()) std::memcpy(node->bytes() + key.size(), tail.data(), tail.size());
    return node;
  }

  static Node *add(Shard &shard, std::string_view key, size_t hash, size_t charge, Value value,
                   std::string_view tail) {
    grow_if_needed(shard);
    Node *node = make_node(key, hash, charge, std::move(value), tail);
    place(shard, node);
    ++shard.count;
    shard.bytes += charge;
    link_newest(shard, node);
    return node;
  }

  static void destroy(Node *node) {
    node->~Node();
    ::operator delete(static_cast<void *>(node));
  }

  // Empties `slot` and closes the gap (backward-shift deletion: every later node of
  // the run that may live closer to its home slot moves back), then frees the node.
  static void remove_at(Shard &shard, size_t slot) {
    Node *node = shard.table[slot];
    const size_t mask = shard.capacity - 1;
    size_t hole = slot;
    for (size_t next = (hole + 1) & mask; shard.table[next] != nullptr; next = (next + 1) & mask) {
      const size_t home = shard.table[next]->hash & mask;
      // The node at `next` may fill the hole unless its home lies cyclically in (hole, next].
      const bool home_after_hole = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
      if (home_after_hole) continue;
      shard.table[hole] = shard.table[next];
      hole = next;
    }
    shard.table[hole] = nullptr;
    --shard.count;
    shard.bytes -= node->charge;
    unlink(shard, node);
    destroy(node);
  }

  static void unlink(Shard &shard, Node *node) {
    (node->newer ? node->newer->older : shard.newest) = node->older;
    (node->older ? node->older->newer : shard.oldest) = node->newer;
    node->newer = node->older = nullptr;
  }

  static void link_newest(Shard &shard, Node *node) {
    node->newer = nullptr;
    node->older = shard.newest;
    if (shard.newest) shard.newest->newer = node;
    shard.newest = node;
    if (!shard.oldest) shard.oldest = node;
  }

  static void make_newest(Shard &shard, Node *node) {
    if (shard.newest == node) return;
    unlink(shard, node);
    link_newest(shard, node);
  }

  // Drops least recently used entries until the shard is within budget; never the
  // entry just stored.
  void evict_to_budget(Shard &shard, const Node *keep) {
    while (shard.bytes > shard_budget_ && shard.oldest && shard.oldest != keep) {
      Node *victim = shard.oldest;
      remove_at(shard, find_slot(shard, victim->key(), victim->hash));
    }
  }

  size_t shard_count_;
  uint64_t shard_budget_;
  std::unique_ptr<PaddedShard[]> shards_;
};

}  // namespace rsv
