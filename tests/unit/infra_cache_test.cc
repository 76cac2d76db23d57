#include "cache/infra_cache.h"

#include <gtest/gtest.h>

namespace rsv {
namespace {

SocketAddress address(const char *text) {
  return *SocketAddress::parse(text);
}
Name name(const char *text) {
  return *Name::from_text(text);
}

class InfraCacheTest : public ::testing::Test {
protected:
  ManualClock clock;
  InfraCache infra{clock};
  SocketAddress server = address("192.0.2.1");
};

TEST_F(InfraCacheTest, UnknownServerUsesTheDefaults) {
  ServerInfo info = infra.get(server);
  EXPECT_FALSE(info.measured);
  EXPECT_EQ(info.srtt_ms, InfraCache::kUnknownServerRttMs);
  EXPECT_EQ(info.selection_rtt_ms, InfraCache::kUnknownServerRttMs);
  EXPECT_EQ(info.consecutive_timeouts, 0u);
  EXPECT_FALSE(info.held_down);
  EXPECT_EQ(info.edns, EdnsSupport::unknown);
  EXPECT_EQ(infra.timeout_ms(server, 800), 800u);
  EXPECT_EQ(infra.server_count(), 0u);  // reading creates nothing
}

TEST_F(InfraCacheTest, RttIsSmoothedAsRfc6298Says) {
  infra.record_rtt(server, 100);
  ServerInfo info = infra.get(server);
  EXPECT_TRUE(info.measured);
  EXPECT_EQ(info.srtt_ms, 100u);                   // first sample: SRTT = R
  EXPECT_EQ(info.rttvar_ms, 50u);                  // RTTVAR = R/2
  EXPECT_EQ(infra.timeout_ms(server, 800), 300u);  // SRTT + 4 * RTTVAR

  infra.record_rtt(server, 200);
  info = infra.get(server);
  EXPECT_EQ(info.rttvar_ms, (3 * 50 + 100) / 4u);  // 3/4 RTTVAR + 1/4 |SRTT - R|
  EXPECT_EQ(info.srtt_ms, (7 * 100 + 200) / 8u);   // 7/8 SRTT + 1/8 R

  for (int i = 0; i < 100; ++i) infra.record_rtt(server, 40);
  info = infra.get(server);
  EXPECT_NEAR(info.srtt_ms, 40u, 8u);
  EXPECT_LE(info.rttvar_ms, 3u);
}

TEST_F(InfraCacheTest, TimeoutIsClamped) {
  infra.record_rtt(server, 4);
  EXPECT_EQ(infra.timeout_ms(server, 800), InfraCache::kMinTimeoutMs);
  SocketAddress slow = address("192.0.2.2");
  infra.record_rtt(slow, 2500);
  EXPECT_EQ(infra.timeout_ms(slow, 800), InfraCache::kMaxTimeoutMs);
}

TEST_F(InfraCacheTest, TimeoutsBackOffThenHoldDownThenProbe) {
  infra.record_rtt(server, 100);
  infra.record_timeout(server);
  EXPECT_EQ(infra.timeout_ms(server, 800), 600u);  // RFC 6298 5.5: doubled
  EXPECT_EQ(infra.get(server).selection_rtt_ms, 200u);
  EXPECT_FALSE(infra.is_held_down(server));
  infra.record_timeout(server);
  EXPECT_EQ(infra.timeout_ms(server, 800), 1200u);
  EXPECT_FALSE(infra.is_held_down(server));
  infra.record_timeout(server);
  EXPECT_TRUE(infra.is_held_down(server));
  EXPECT_EQ(infra.get(server).consecutive_timeouts, 3u);
  EXPECT_FALSE(infra.claim_probe(server));

  clock.advance_ms(29'999);
  EXPECT_TRUE(infra.is_held_down(server));
  clock.advance_ms(1);
  // The 30 s are over: one probe may go.
  EXPECT_FALSE(infra.is_held_down(server));
  EXPECT_TRUE(infra.get(server).probe_due);
  EXPECT_TRUE(infra.claim_probe(server));
  EXPECT_TRUE(infra.is_held_down(server));  // while the probe is out, nobody else
  EXPECT_FALSE(infra.claim_probe(server));

  // The probe fails: held down again, for twice as long.
  infra.record_timeout(server);
  EXPECT_TRUE(infra.is_held_down(server));
  clock.advance_ms(59'999);
  EXPECT_TRUE(infra.is_held_down(server));
  clock.advance_ms(1);
  EXPECT_TRUE(infra.claim_probe(server));

  // This probe gets an answer: back to normal.
  infra.record_rtt(server, 120);
  ServerInfo info = infra.get(server);
  EXPECT_FALSE(info.held_down);
  EXPECT_FALSE(info.probe_due);
  EXPECT_EQ(info.consecutive_timeouts, 0u);
  EXPECT_TRUE(infra.claim_probe(server));
  infra.record_timeout(server);
  EXPECT_FALSE(infra.is_held_down(server));  // the count starts again from zero
}

TEST_F(InfraCacheTest, HoldDownDoublesUpToFifteenMinutes) {
  for (int i = 0; i < 3; ++i) infra.record_timeout(server);
  uint64_t expected = 30'000;
  for (int round = 0; round < 10; ++round) {
    clock.advance_ms(expected - 1);
    ASSERT_TRUE(infra.is_held_down(server)) << round;
    clock.advance_ms(1);
    ASSERT_TRUE(infra.claim_probe(server)) << round;
    infra.record_timeout(server);
    expected = std::min<uint64_t>(expected * 2, 15 * 60'000);
  }
  EXPECT_EQ(expected, 15u * 60'000);
  clock.advance_ms(expected - 1);
  EXPECT_TRUE(infra.is_held_down(server));
  clock.advance_ms(1);
  EXPECT_FALSE(infra.is_held_down(server));
}

TEST_F(InfraCacheTest, LateTimeoutsDuringAHoldDownDoNotExtendIt) {
  for (int i = 0; i < 5; ++i) infra.record_timeout(server);  // three queries were already out
  clock.advance_ms(30'000);
  EXPECT_FALSE(infra.is_held_down(server));
}

TEST_F(InfraCacheTest, AnAbandonedProbeFreesTheSlot) {
  for (int i = 0; i < 3; ++i) infra.record_timeout(server);
  clock.advance_ms(30'000);
  EXPECT_TRUE(infra.claim_probe(server));
  EXPECT_FALSE(infra.claim_probe(server));
  clock.advance_ms(InfraCache::kProbeWindowMs);
  EXPECT_TRUE(infra.claim_probe(server));
}

TEST_F(InfraCacheTest, UnmeasuredServerBacksOffFromTheInitialTimeout) {
  infra.record_timeout(server);
  EXPECT_EQ(infra.timeout_ms(server, 800), 1600u);
  infra.record_timeout(server);
  EXPECT_EQ(infra.timeout_ms(server, 800), 3000u);
  EXPECT_FALSE(infra.get(server).measured);
}

TEST_F(InfraCacheTest, LamenessIsPerZoneAndExpires) {
  infra.mark_lame(server, name("Example.COM"), 900);
  EXPECT_TRUE(infra.is_lame(server, name("example.com")));
  EXPECT_FALSE(infra.is_lame(server, name("example.net")));
  EXPECT_FALSE(infra.is_lame(server, name("sub.example.com")));
  EXPECT_FALSE(infra.is_lame(address("192.0.2.1@5353"), name("example.com")));
  EXPECT_FALSE(infra.is_held_down(server));  // lameness is not an outage
  clock.advance_seconds(899);
  EXPECT_TRUE(infra.is_lame(server, name("example.com")));
  clock.advance_seconds(1);
  EXPECT_FALSE(infra.is_lame(server, name("example.com")));
}

TEST_F(InfraCacheTest, RemembersEdnsSupport) {
  infra.set_edns(server, EdnsSupport::unsupported);
  EXPECT_EQ(infra.get(server).edns, EdnsSupport::unsupported);
  EXPECT_FALSE(infra.get(server).measured);
  infra.record_rtt(server, 10);
  EXPECT_EQ(infra.get(server).edns, EdnsSupport::unsupported);
  EXPECT_STREQ(to_string(EdnsSupport::supported), "supported");
}

TEST_F(InfraCacheTest, EdnsUnsupportedIsProbedAgainLater) {
  // One FORMERR (perhaps a spoof) must not turn EDNS, and so DNSSEC, off for good.
  infra.set_edns(server, EdnsSupport::unsupported);
  clock.advance_ms(InfraCache::kEdnsProbeAfterMs - 1);
  infra.record_rtt(server, 10);  // the server is in use all along
  EXPECT_EQ(infra.get(server).edns, EdnsSupport::unsupported);
  clock.advance_ms(1);
  EXPECT_EQ(infra.get(server).edns, EdnsSupport::unknown);
  EXPECT_TRUE(infra.get(server).measured) << "only the EDNS mark lapses";
}

TEST_F(InfraCacheTest, WhatAServerTaughtIsForgottenAfterTheHostTtl) {
  infra.record_rtt(server, 700);
  infra.set_edns(server, EdnsSupport::supported);
  clock.advance_ms(InfraCache::kHostTtlMs - 1);
  EXPECT_TRUE(infra.get(server).measured);
  EXPECT_EQ(infra.get(server).srtt_ms, 700u);
  clock.advance_ms(1);
  ServerInfo info = infra.get(server);
  EXPECT_FALSE(info.measured);
  EXPECT_EQ(info.srtt_ms, InfraCache::kUnknownServerRttMs);
  EXPECT_EQ(info.edns, EdnsSupport::unknown);
  // Fresh news starts a fresh entry.
  infra.record_rtt(server, 20);
  EXPECT_EQ(infra.get(server).srtt_ms, 20u);
}

TEST_F(InfraCacheTest, AddressesOfBothFamiliesAndPortsAreDistinct) {
  SocketAddress v6 = address("2001:db8::1");
  SocketAddress other_port = address("192.0.2.1@5353");
  infra.record_rtt(server, 10);
  infra.record_rtt(v6, 20);
  infra.record_rtt(other_port, 30);
  EXPECT_EQ(infra.get(server).srtt_ms, 10u);
  EXPECT_EQ(infra.get(v6).srtt_ms, 20u);
  EXPECT_EQ(infra.get(other_port).srtt_ms, 30u);
  EXPECT_EQ(infra.server_count(), 3u);
}

TEST(InfraCacheBound, KeepsAtMostRoughlyMaxEntries) {
  ManualClock clock;
  InfraCache infra(clock, 1000, 4);
  for (uint32_t i = 0; i < 10000; ++i) {
    const std::string text = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    infra.record_rtt(address(text.c_str()), 10);
  }
  EXPECT_LE(infra.server_count(), 1000u);
  EXPECT_GT(infra.server_count(), 500u);
  EXPECT_TRUE(infra.get(address("10.0.39.15")).measured);  // the last one
}

}  // namespace
}  // namespace rsv
