// The compact name set behind blocklists and locally served names: coverage of a
// name and its subtree, the closest listed name winning, the memory bound.
#include "resolver/policy/name_set.h"

#include <gtest/gtest.h>

#include "resolver/policy/list_parser.h"

namespace rsv {
namespace {

std::string wire(std::string_view text) {
  std::string out;
  EXPECT_TRUE(host_name_to_wire(text, out)) << text;
  return out;
}

TEST(NameSet, SubtreeSelfAndBelow) {
  NameSet set(42);
  ASSERT_TRUE(set.add(wire("ads.example.com"), NameSet::kSubtree, 1, 0));
  ASSERT_TRUE(set.add(wire("exact.example.net"), NameSet::kSelf, 2, 1));
  ASSERT_TRUE(set.add(wire("below.example.org"), NameSet::kBelow, 3, 2));
  EXPECT_EQ(set.size(), 3u);

  auto hit = set.match(wire("ads.example.com"));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->list, 1);
  EXPECT_EQ(hit->offset, 0u);
  hit = set.match(wire("a.b.ads.example.com"));
  ASSERT_TRUE(hit);
  EXPECT_GT(hit->offset, 0u);
  EXPECT_FALSE(set.match(wire("example.com")));
  EXPECT_FALSE(set.match(wire("xads.example.com")));  // whole labels only

  EXPECT_TRUE(set.match(wire("exact.example.net")));
  EXPECT_FALSE(set.match(wire("www.exact.example.net")));

  EXPECT_FALSE(set.match(wire("below.example.org")));
  hit = set.match(wire("x.below.example.org"));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->action, 2);
  EXPECT_FALSE(set.match(std::string(1, '\0')));  // the root
}

TEST(NameSet, TheClosestListedNameWins) {
  NameSet set(7);
  set.add(wire("example.com"), NameSet::kSubtree, 1, 0);
  set.add(wire("deep.example.com"), NameSet::kSubtree, 2, 3);
  EXPECT_EQ(set.match(wire("x.deep.example.com"))->list, 2);
  EXPECT_EQ(set.match(wire("other.example.com"))->list, 1);
  // A name listed for itself only does not hide its ancestor's subtree entry.
  set.add(wire("self.example.com"), NameSet::kSelf, 3, 0);
  EXPECT_EQ(set.match(wire("x.self.example.com"))->list, 1);
}

TEST(NameSet, AddingAgainWidensCoverageAndKeepsTheFirstList) {
  NameSet set(1);
  set.add(wire("twice.example"), NameSet::kSelf, 4, 1);
  set.add(wire("twice.example"), NameSet::kBelow, 9, 2);
  EXPECT_EQ(set.size(), 1u);
  EXPECT_EQ(set.match(wire("a.twice.example"))->list, 4);
  EXPECT_EQ(set.match(wire("twice.example"))->action, 1);
}

TEST(NameSet, AMillionNamesInAFewBytesEach) {
  NameSet set(99);
  std::string name;
  for (int i = 0; i < 1000000; ++i) {
    name = "host" + std::to_string(i) + ".tracker" + std::to_string(i % 997) + ".example";
    ASSERT_TRUE(set.add(wire(name), NameSet::kSubtree, 0, 0));
  }
  EXPECT_EQ(set.size(), 1000000u);
  EXPECT_LE(set.memory_bytes() / set.size(), 17u);
  for (int i = 0; i < 1000000; i += 9973)
    EXPECT_TRUE(
        set.match(wire("www.host" + std::to_string(i) + ".tracker" + std::to_string(i % 997) + ".example")));
  int false_hits = 0;
  for (int i = 0; i < 100000; ++i)
    false_hits += set.match(wire("clean" + std::to_string(i) + ".example.org")).has_value();
  EXPECT_EQ(false_hits, 0);
}

TEST(NameSet, RefusesToGrowPastTheMemoryBound) {
  NameSet set(5);
  size_t added = 0;
  for (int i = 0; i < 100000; ++i) {
    if (!set.add(wire("n" + std::to_string(i) + ".example"), NameSet::kSubtree, 0, 0, 64 * 1024)) break;
    ++added;
  }
  EXPECT_LT(added, 100000u);
  EXPECT_LE(set.memory_bytes(), 64u * 1024);
  EXPECT_GT(set.bytes_for(1000000), 64u * 1024);
}

}  // namespace
}  // namespace rsv
