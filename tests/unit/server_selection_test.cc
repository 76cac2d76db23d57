#include "resolver/iter/server_selection.h"

#include <map>

#include <gtest/gtest.h>

namespace rsv {
namespace {

SocketAddress address(const char *text) {
  return *SocketAddress::parse(text);
}

class ServerSelectionTest : public ::testing::Test {
protected:
  ManualClock clock;
  InfraCache infra{clock};
  SeededRandom random{42};
  Name zone = *Name::from_text("example.com");
  std::vector<SocketAddress> servers = {address("192.0.2.1"), address("192.0.2.2"), address("192.0.2.3")};

  // Picks `rounds` times with nothing tried; counts picks per index, and explorations.
  std::map<size_t, int> tally(int rounds, int *explorations = nullptr) {
    std::map<size_t, int> counts;
    for (int i = 0; i < rounds; ++i) {
      auto choice = select_server(servers, zone, {}, infra, random);
      EXPECT_TRUE(choice);
      if (!choice) break;
      ++counts[choice->index];
      if (explorations && choice->exploring) ++*explorations;
    }
    return counts;
  }
};

TEST_F(ServerSelectionTest, ServersThatGaveBogusDataComeLast) {
  // The fastest server sent data that failed validation for this zone: the others
  // are asked first; it is still asked when nothing else is left, and for other zones.
  infra.record_rtt(servers[0], 5);
  infra.record_rtt(servers[1], 300);
  infra.record_rtt(servers[2], 300);
  infra.mark_bogus(servers[0], zone);
  auto counts = tally(200);
  EXPECT_EQ(counts[0], 0);
  auto last = select_server(servers, zone, {1, 2}, infra, random);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->index, 0u);
  EXPECT_FALSE(infra.gave_bogus(servers[0], *Name::from_text("other.example.")));
  clock.advance_seconds(901);
  EXPECT_FALSE(infra.gave_bogus(servers[0], zone)) << "the mark expires";
}

TEST_F(ServerSelectionTest, PrefersTheFastServerAndExploresSometimes) {
  infra.record_rtt(servers[0], 900);
  infra.record_rtt(servers[1], 20);
  infra.record_rtt(servers[2], 1500);
  int explorations = 0;
  auto counts = tally(1000, &explorations);
  // Exploration happens about one time in 20.
  EXPECT_GT(explorations, 20);
  EXPECT_LT(explorations, 90);
  // Outside exploration only the fast one is chosen; exploring spreads over all three.
  EXPECT_GE(counts[1], 1000 - explorations);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[2], 0);
  EXPECT_EQ(counts[0] + counts[2], 1000 - counts[1]);
}

TEST_F(ServerSelectionTest, NonExploringPicksNeverLeaveTheBand) {
  infra.record_rtt(servers[0], 900);
  infra.record_rtt(servers[1], 20);
  infra.record_rtt(servers[2], 1500);
  for (int i = 0; i < 1000; ++i) {
    auto choice = select_server(servers, zone, {}, infra, random);
    ASSERT_TRUE(choice);
    if (!choice->exploring) {
      ASSERT_EQ(choice->index, 1u);
    }
  }
}

TEST_F(ServerSelectionTest, SpreadsLoadOverServersWithinFourHundredMilliseconds) {
  infra.record_rtt(servers[0], 30);
  infra.record_rtt(servers[1], 400);  // within 400 ms of 30
  infra.record_rtt(servers[2], 450);  // not
  auto counts = tally(1000);
  EXPECT_GT(counts[0], 350);
  EXPECT_GT(counts[1], 350);
  EXPECT_LT(counts[2], 60);
}

TEST_F(ServerSelectionTest, UnmeasuredServersCountWithTheDefaultRtt) {
  infra.record_rtt(servers[0], 20);
  infra.record_rtt(servers[1], 800);
  // servers[2] is unknown (376 ms): inside the band of the 20 ms server.
  auto counts = tally(1000);
  EXPECT_GT(counts[2], 350);
  EXPECT_GT(counts[0], 350);
  EXPECT_LT(counts[1], 60);
}

TEST_F(ServerSelectionTest, SkipsTriedServersAndEndsWhenAllWereTried) {
  infra.record_rtt(servers[0], 10);
  for (int i = 0; i < 200; ++i) {
    auto choice = select_server(servers, zone, {0}, infra, random);
    ASSERT_TRUE(choice);
    ASSERT_NE(choice->index, 0u);
  }
  auto last = select_server(servers, zone, {0, 2}, infra, random);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->index, 1u);
  EXPECT_FALSE(select_server(servers, zone, {0, 1, 2}, infra, random));
  EXPECT_FALSE(select_server({}, zone, {}, infra, random));
}

TEST_F(ServerSelectionTest, SkipsHeldDownAndLameServers) {
  infra.record_rtt(servers[0], 10);
  infra.record_rtt(servers[1], 15);
  infra.record_rtt(servers[2], 900);
  for (int i = 0; i < 3; ++i) infra.record_timeout(servers[0]);
  infra.mark_lame(servers[1], zone);
  for (int i = 0; i < 300; ++i) {
    auto choice = select_server(servers, zone, {}, infra, random);
    ASSERT_TRUE(choice);
    ASSERT_EQ(choice->index, 2u);
  }
  // Lameness is for one zone only.
  auto other = select_server(servers, *Name::from_text("example.net"), {2}, infra, random);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->index, 1u);
}

TEST_F(ServerSelectionTest, WhenNothingIsUsableTakesTheLeastBad) {
  for (int i = 0; i < 3; ++i) infra.record_timeout(servers[0]);
  infra.mark_lame(servers[1], zone);
  // servers[0] is held down, servers[1] lame, servers[2] tried: held down beats lame.
  auto choice = select_server(servers, zone, {2}, infra, random);
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->index, 0u);
  EXPECT_FALSE(choice->exploring);
  choice = select_server(servers, zone, {0, 2}, infra, random);
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->index, 1u);
}

TEST_F(ServerSelectionTest, AServerOutOfHoldDownGetsOneProbeAtATime) {
  servers.resize(2);
  infra.record_rtt(servers[0], 10);
  infra.record_rtt(servers[1], 2000);
  for (int i = 0; i < 3; ++i) infra.record_timeout(servers[0]);
  EXPECT_EQ(select_server(servers, zone, {}, infra, random)->index, 1u);
  clock.advance_ms(30'000);
  // Held no longer, and 10 ms backed off three times (80 ms) still beats 2000 ms.
  // Find a non-exploring pick; the first pick of servers[0] claims its probe.
  std::optional<ServerChoice> probe;
  for (int i = 0; i < 50 && !(probe && probe->index == 0); ++i)
    probe = select_server(servers, zone, {}, infra, random);
  ASSERT_TRUE(probe);
  ASSERT_EQ(probe->index, 0u);
  EXPECT_TRUE(infra.is_held_down(servers[0]));
  // While the probe is out, every other request goes elsewhere.
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(select_server(servers, zone, {}, infra, random)->index, 1u);
  }
  infra.record_rtt(servers[0], 12);
  int fast = 0;
  for (int i = 0; i < 100; ++i) fast += select_server(servers, zone, {}, infra, random)->index == 0;
  EXPECT_GT(fast, 80);
}

TEST_F(ServerSelectionTest, SameSeedSameChoices) {
  infra.record_rtt(servers[0], 30);
  infra.record_rtt(servers[1], 40);
  SeededRandom a(7), b(7);
  for (int i = 0; i < 100; ++i) {
    auto x = select_server(servers, zone, {}, infra, a);
    auto y = select_server(servers, zone, {}, infra, b);
    ASSERT_EQ(x->index, y->index);
    ASSERT_EQ(x->exploring, y->exploring);
  }
}

}  // namespace
}  // namespace rsv
