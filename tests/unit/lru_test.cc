#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cache/sharded_lru.h"

namespace rsv {
namespace {

using Lru = ShardedLru<std::string>;

std::string value_of(Lru &lru, std::string_view key) {
  std::string out = "<absent>";
  lru.find(key, [&](const std::string &v) { out = v; });
  return out;
}

TEST(AllocationBytes, RoundsLikeMalloc) {
  EXPECT_EQ(allocation_bytes(0), 0u);
  EXPECT_EQ(allocation_bytes(1), 32u);
  EXPECT_EQ(allocation_bytes(24), 32u);
  EXPECT_EQ(allocation_bytes(25), 48u);
  EXPECT_EQ(allocation_bytes(100), 112u);
}

TEST(ShardedLru, InsertsFindsAndErases) {
  Lru lru(1 << 20);
  EXPECT_TRUE(lru.insert("alpha", "one", 0));
  EXPECT_TRUE(lru.insert("beta", "two", 0));
  EXPECT_EQ(value_of(lru, "alpha"), "one");
  EXPECT_EQ(value_of(lru, "beta"), "two");
  EXPECT_EQ(value_of(lru, "gamma"), "<absent>");
  EXPECT_EQ(lru.size(), 2u);
  EXPECT_TRUE(lru.insert("alpha", "uno", 0));  // replaces
  EXPECT_EQ(value_of(lru, "alpha"), "uno");
  EXPECT_EQ(lru.size(), 2u);
  EXPECT_TRUE(lru.erase("alpha"));
  EXPECT_FALSE(lru.erase("alpha"));
  EXPECT_EQ(value_of(lru, "alpha"), "<absent>");
  EXPECT_EQ(lru.size(), 1u);
  lru.clear();
  EXPECT_EQ(lru.size(), 0u);
  EXPECT_EQ(lru.memory_bytes(), 0u);
}

TEST(ShardedLru, LooksUpFromAStackBufferByStringView) {
  Lru lru(1 << 20);
  const std::string long_key(40, 'k');  // beyond the small-string buffer
  lru.insert(long_key, "v", 0);
  char buffer[64];
  for (size_t i = 0; i < long_key.size(); ++i) buffer[i] = 'k';
  EXPECT_EQ(value_of(lru, std::string_view(buffer, long_key.size())), "v");
  EXPECT_EQ(value_of(lru, std::string_view(buffer, long_key.size() - 1)), "<absent>");
}

TEST(ShardedLru, KeysMayHoldZeroOctets) {
  Lru lru(1 << 20);
  const std::string a("\0a\0", 3), b("\0b\0", 3);
  lru.insert(a, "A", 0);
  lru.insert(b, "B", 0);
  EXPECT_EQ(value_of(lru, a), "A");
  EXPECT_EQ(value_of(lru, b), "B");
}

TEST(ShardedLru, EvictsLeastRecentlyUsedFirst) {
  const size_t one = Lru::entry_bytes("a", 0);
  Lru lru(3 * one, 1);  // one shard, room for exactly three entries
  lru.insert("a", "A", 0);
  lru.insert("b", "B", 0);
  lru.insert("c", "C", 0);
  EXPECT_EQ(lru.memory_bytes(), 3 * one);
  EXPECT_EQ(value_of(lru, "a"), "A");  // a becomes the most recent; b is now the oldest
  lru.insert("d", "D", 0);
  EXPECT_EQ(value_of(lru, "b"), "<absent>");
  EXPECT_EQ(value_of(lru, "a"), "A");
  EXPECT_EQ(value_of(lru, "c"), "C");
  EXPECT_EQ(value_of(lru, "d"), "D");
  // Order now (oldest first): a, c, d. Replacing a makes it newest.
  lru.insert("a", "A2", 0);
  lru.insert("e", "E", 0);
  EXPECT_EQ(value_of(lru, "c"), "<absent>");
  EXPECT_EQ(value_of(lru, "a"), "A2");
  EXPECT_LE(lru.memory_bytes(), lru.capacity_bytes());
}

TEST(ShardedLru, BiggerEntryEvictsSeveral) {
  const size_t one = Lru::entry_bytes("a", 0);
  Lru lru(4 * one, 1);
  for (const char *k : {"a", "b", "c", "d"}) lru.insert(k, k, 0);
  EXPECT_TRUE(lru.insert("e", "big", 2 * one));
  EXPECT_EQ(lru.size(), 2u);  // e (three slots' worth) and d
  EXPECT_EQ(value_of(lru, "d"), "d");
  EXPECT_LE(lru.memory_bytes(), lru.capacity_bytes());
}

TEST(ShardedLru, RefusesAnEntryLargerThanAShard) {
  Lru lru(16 * 1024, 16);  // 1 KiB per shard
  EXPECT_FALSE(lru.insert("huge", "x", 2000));
  EXPECT_EQ(lru.size(), 0u);
}

TEST(ShardedLru, InsertUnlessKeepsWhatThePredicateProtects) {
  Lru lru(1 << 20);
  lru.insert("k", "precious", 0);
  auto keep_precious = [](const std::string &old) { return old == "precious"; };
  EXPECT_FALSE(lru.insert_unless("k", "junk", 0, keep_precious));
  EXPECT_EQ(value_of(lru, "k"), "precious");
  lru.insert("k", "ordinary", 0);
  EXPECT_TRUE(lru.insert_unless("k", "new", 0, keep_precious));
  EXPECT_EQ(value_of(lru, "k"), "new");
}

TEST(ShardedLru, UpsertCreatesThenUpdates) {
  ShardedLru<int> counters(1 << 20);
  for (int i = 0; i < 3; ++i) counters.upsert("n", 0, [](int &v) { ++v; });
  int seen = 0;
  EXPECT_TRUE(counters.find("n", [&](int v) { seen = v; }));
  EXPECT_EQ(seen, 3);
}

TEST(ShardedLru, ShardCountIsAPowerOfTwo) {
  EXPECT_EQ(Lru(1 << 20, 10).shard_count(), 16u);
  EXPECT_EQ(Lru(1 << 20, 1).shard_count(), 1u);
  EXPECT_EQ(Lru(1 << 20, 0).shard_count(), 1u);
  EXPECT_EQ(Lru(1 << 20).shard_count(), 16u);
}

TEST(ShardedLru, StaysWithinItsBudgetUnderChurn) {
  Lru lru(64 * 1024, 4);
  for (int i = 0; i < 20000; ++i) {
    std::string value(static_cast<size_t>(i % 200), 'v');
    const size_t heap = string_heap_bytes(value);
    lru.insert("key-" + std::to_string(i), std::move(value), heap);
    ASSERT_LE(lru.memory_bytes(), lru.capacity_bytes());
  }
  EXPECT_GT(lru.size(), 100u);
  EXPECT_EQ(value_of(lru, "key-19999").size(), 19999u % 200);
}

TEST(ShardedLru, TwoThreadsShareItSafely) {
  ShardedLru<int> lru(32 * 1024, 4);
  auto work = [&](int seed) {
    for (int i = 0; i < 20000; ++i) {
      const std::string key = "k" + std::to_string((i * 7 + seed) % 500);
      switch (i % 4) {
        case 0: lru.insert(key, i, 0); break;
        case 1: lru.upsert(key, 0, [](int &v) { ++v; }); break;
        case 2: lru.find(key, [](int &v) { v += 0; }); break;
        case 3:
          if (i % 40 == 3) lru.erase(key);
          break;
      }
    }
  };
  std::thread a(work, 1), b(work, 2);
  a.join();
  b.join();
  EXPECT_LE(lru.memory_bytes(), lru.capacity_bytes());
  EXPECT_GT(lru.size(), 0u);
}


// The open-addressing table: growth, removal from the middle of probe runs (backward
// shift) and erase_if over a whole table keep every other entry reachable.
TEST(ShardedLru, EntriesStayReachableThroughGrowthAndRemoval) {
  ShardedLru<int> lru(64 << 20, 1);
  constexpr int kCount = 5000;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(lru.insert("name-" + std::to_string(i), i, 0));
  EXPECT_EQ(lru.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; i += 3) ASSERT_TRUE(lru.erase("name-" + std::to_string(i)));
  const size_t erased = lru.erase_if([](std::string_view key) { return key.back() == '7'; });
  size_t left = 0;
  for (int i = 0; i < kCount; ++i) {
    const std::string key = "name-" + std::to_string(i);
    int seen = -1;
    const bool found = lru.find(key, [&](int v) { seen = v; });
    const bool expected = i % 3 != 0 && key.back() != '7';
    ASSERT_EQ(found, expected) << key;
    if (found) {
      EXPECT_EQ(seen, i);
      ++left;
    }
  }
  EXPECT_EQ(lru.size(), left);
  EXPECT_GT(erased, 300u);
  // Insert again over the holes, then empty it.
  for (int i = 0; i < kCount; i += 3) ASSERT_TRUE(lru.insert("name-" + std::to_string(i), -i, 0));
  int seen = 1;
  EXPECT_TRUE(lru.find("name-3", [&](int v) { seen = v; }));
  EXPECT_EQ(seen, -3);
  const size_t before = lru.size();
  EXPECT_EQ(before, left + (kCount + 2) / 3);
  EXPECT_EQ(lru.erase_if([](std::string_view) { return true; }), before);
  EXPECT_EQ(lru.size(), 0u);
  EXPECT_EQ(lru.memory_bytes(), 0u);
}

// What the budget charges an entry is what it costs: one node allocation with the key
// inside, and a share of the table.
TEST(ShardedLru, ChargesOneAllocationPerEntryWithTheKeyInside) {
  const std::string key(17, 'k');  // "n1234.bench." with type and class
  EXPECT_LE(ShardedLru<int>::entry_bytes(key, 0), 100u);  // 80 for the node, 20 for the table; was 160
  EXPECT_EQ(ShardedLru<int>::entry_bytes(key, 100) - ShardedLru<int>::entry_bytes(key, 0), 100u);
}

// A tail lives in the entry's node: found, replaced, visited and charged with it.
TEST(ShardedLru, KeepsATailInTheEntry) {
  ShardedLru<int> lru(1 << 20, 1);
  auto never = [](const int &) { return false; };
  ASSERT_TRUE(lru.store("k", 1, "first tail", never));
  std::string seen;
  int value = 0;
  EXPECT_TRUE(lru.find("k", [&](int &v, std::string_view tail) {
    value = v;
    seen.assign(tail);
  }));
  EXPECT_EQ(value, 1);
  EXPECT_EQ(seen, "first tail");
  EXPECT_EQ(lru.memory_bytes(), ShardedLru<int>::entry_bytes("k", 0, 10));
  const std::string longer(300, 'x');
  ASSERT_TRUE(lru.store("k", 2, longer, never));
  EXPECT_EQ(lru.size(), 1u);
  EXPECT_EQ(lru.memory_bytes(), ShardedLru<int>::entry_bytes("k", 0, 300));
  lru.for_each([&](std::string_view key, const int &v, std::string_view tail) {
    EXPECT_EQ(key, "k");
    EXPECT_EQ(v, 2);
    EXPECT_EQ(tail, longer);
  });
  EXPECT_FALSE(lru.store("k", 3, "kept out", [](const int &old) { return old == 2; }));
  EXPECT_TRUE(lru.find("k", [&](int &v, std::string_view tail) {
    EXPECT_EQ(v, 2);
    EXPECT_EQ(tail, longer);
  }));
  EXPECT_FALSE(ShardedLru<int>(1024, 1).store("big", 0, std::string(2000, 'y'), never)) << "over a shard's budget";
}

// Key and tail sizes share one 32-bit field of the node: the largest of each is kept
// whole, one more is refused (never stored cut short).
TEST(ShardedLru, KeepsTheLongestKeyAndTailWholeAndRefusesLonger) {
  using Lru = ShardedLru<int>;
  Lru lru(64u << 20, 1);
  auto never = [](const int &) { return false; };
  const std::string key(Lru::kMaxKeyBytes, 'k');
  const std::string tail(Lru::kMaxTailBytes, 't');
  ASSERT_TRUE(lru.store(key, 7, tail, never));
  EXPECT_TRUE(lru.find(key, [&](int &v, std::string_view found) {
    EXPECT_EQ(v, 7);
    EXPECT_EQ(found.size(), tail.size());
  }));
  size_t visited = 0;
  lru.for_each([&](std::string_view k, const int &, std::string_view t) {
    ++visited;
    EXPECT_EQ(k, key);
    EXPECT_EQ(t.size(), tail.size());
  });
  EXPECT_EQ(visited, 1u);
  EXPECT_FALSE(lru.store(key + "k", 8, "x", never));
  EXPECT_FALSE(lru.store("short", 9, tail + "t", never));
  EXPECT_FALSE(lru.insert_unless(key + "k", 10, 0, never));
  EXPECT_FALSE(lru.find(key + "k", [](int &) {}));
  EXPECT_FALSE(lru.find("short", [](int &) {}));
  EXPECT_EQ(lru.size(), 1u);
}

TEST(ShardedLru, ForEachVisitsEveryEntryFromOldestToNewestWithoutTouchingRecency) {
  ShardedLru<int> lru(1 << 20, 1);
  lru.insert("a", 1, 0);
  lru.insert("b", 2, 0);
  lru.insert("c", 3, 0);
  lru.find("a", [](int &) {});  // a is now the newest
  std::vector<std::string> seen;
  lru.for_each([&](std::string_view key, const int &) { seen.emplace_back(key); });
  EXPECT_EQ(seen, (std::vector<std::string>{"b", "c", "a"}));
  seen.clear();
  lru.for_each_in_shard(0, [&](std::string_view key, const int &) { seen.emplace_back(key); });
  EXPECT_EQ(seen, (std::vector<std::string>{"b", "c", "a"})) << "visiting moved nothing";
  lru.for_each_in_shard(7, [&](std::string_view, const int &) { ADD_FAILURE() << "no such shard"; });
}

}  // namespace
}  // namespace rsv
