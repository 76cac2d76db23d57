// The Space-Saving sketch behind the dashboard's top names and clients.
#include "resolver/server/top_k.h"

#include <map>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace rsv {
namespace {

using Sketch = SpaceSaving<32>;

std::map<std::string, uint64_t> as_map(const std::vector<Sketch::Item> &items) {
  std::map<std::string, uint64_t> out;
  for (const auto &item : items) out[item.key] = item.count;
  return out;
}

TEST(SpaceSaving, CountsExactlyWhileThereAreFewerKeysThanCounters) {
  Sketch sketch(8);
  for (int i = 0; i < 5; ++i) sketch.add("a");
  for (int i = 0; i < 3; ++i) sketch.add("b");
  sketch.add("c");
  auto top = sketch.top(10);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].key, "a");
  EXPECT_EQ(top[0].count, 5u);
  EXPECT_EQ(top[1].key, "b");
  EXPECT_EQ(top[1].count, 3u);
  EXPECT_EQ(top[2].key, "c");
  for (const auto &item : top) EXPECT_EQ(item.error, 0u);
  EXPECT_EQ(sketch.total(), 9u);
  EXPECT_EQ(sketch.top(1).size(), 1u);
}

TEST(SpaceSaving, NeverHoldsMoreThanItsCapacity) {
  Sketch sketch(16);
  for (int i = 0; i < 100000; ++i) sketch.add("name-" + std::to_string(i));
  EXPECT_EQ(sketch.size(), 16u);
  EXPECT_EQ(sketch.top(1000).size(), 16u);
  EXPECT_EQ(sketch.total(), 100000u);
}

TEST(SpaceSaving, FindsTheHeavyHittersInAFloodOfDistinctKeys) {
  // Random subdomains (each asked once) mixed with three popular names: every key
  // seen more than N/K times must be monitored, with count - error <= true <= count.
  Sketch sketch(64);
  std::map<std::string, uint64_t> truth;
  std::mt19937 random(42);
  const int kQueries = 200000;
  for (int i = 0; i < kQueries; ++i) {
    std::string key;
    const uint32_t r = random() % 100;
    if (r < 10)
      key = "popular-a";
    else if (r < 15)
      key = "popular-b";
    else if (r < 17)
      key = "popular-c";
    else
      key = std::to_string(random()) + ".random";
    ++truth[key];
    sketch.add(key);
  }
  auto top = sketch.top(64);
  auto found = as_map(top);
  for (const char *heavy : {"popular-a", "popular-b", "popular-c"}) {
    ASSERT_GT(truth[heavy], static_cast<uint64_t>(kQueries / 64)) << heavy;
    ASSERT_TRUE(found.contains(heavy)) << heavy;
  }
  EXPECT_EQ(top[0].key, "popular-a");
  EXPECT_EQ(top[1].key, "popular-b");
  EXPECT_EQ(top[2].key, "popular-c");
  for (const auto &item : top) {
    EXPECT_LE(item.count - item.error, truth[item.key]) << item.key;
    EXPECT_GE(item.count, truth[item.key]) << item.key;
  }
}

TEST(SpaceSaving, EvictedKeysCanComeBackAndStayFindable) {
  // Many evictions shuffle the probe runs of the index; every monitored key must
  // still be found (a lost one would appear twice).
  Sketch sketch(4);
  std::mt19937 random(7);
  for (int i = 0; i < 50000; ++i) sketch.add("k" + std::to_string(random() % 40));
  auto top = sketch.top(10);
  ASSERT_EQ(top.size(), 4u);
  std::map<std::string, int> seen;
  for (const auto &item : top) EXPECT_EQ(++seen[item.key], 1) << "key twice: " << item.key;
  uint64_t counted = 0;
  for (const auto &item : top) counted += item.count;
  EXPECT_EQ(counted, sketch.total()) << "Space-Saving's counts always add up to the stream's length";
}

TEST(SpaceSaving, LongKeysAreCutAndClearForgetsEverything) {
  Sketch sketch(4);
  sketch.add(std::string(100, 'x'));
  EXPECT_EQ(sketch.top(1).front().key, std::string(32, 'x'));
  sketch.clear();
  EXPECT_EQ(sketch.size(), 0u);
  EXPECT_EQ(sketch.total(), 0u);
  EXPECT_TRUE(sketch.top(4).empty());
  sketch.add("again");
  EXPECT_EQ(sketch.top(4).front().count, 1u);
}

TEST(SpaceSaving, ZeroCapacityCountsNothing) {
  Sketch sketch(0);
  sketch.add("a");
  EXPECT_TRUE(sketch.top(4).empty());
}

}  // namespace
}  // namespace rsv
