// The per-worker query log: top names and clients, and the recent-queries ring.
#include "resolver/server/query_log.h"

#include <gtest/gtest.h>

namespace rsv {
namespace {

struct Reply {
  SocketAddress client;
  std::string wire;
  ReplyRecord record;

  Reply(const char *name, const char *client_address, uint16_t qtype = rrtype::A) {
    client = *SocketAddress::parse(client_address);
    wire = Name::from_text(name)->wire();
    record.client = &client;
    record.qname_wire = wire;
    record.qtype = qtype;
  }
};

TEST(QueryLog, RecentQueriesAreKeptNewestFirstUpToTheRingSize) {
  QueryLog log(3);
  for (const char *name : {"one.example.", "two.example.", "three.example.", "four.example."}) {
    Reply reply(name, "192.0.2.1@5353");
    log.record(reply.record);
  }
  auto recent = log.recent(10);
  ASSERT_EQ(recent.size(), 3u);
  auto name = [](const RecentQuery &q) { return Name::from_wire(std::string_view(q.name.data(), q.name_length))->to_text(); };
  EXPECT_EQ(name(recent[0]), "four.example.");
  EXPECT_EQ(name(recent[1]), "three.example.");
  EXPECT_EQ(name(recent[2]), "two.example.");
  EXPECT_EQ(log.recent(2).size(), 2u);
}

TEST(QueryLog, AnEntryHoldsWhatTheDashboardShows) {
  QueryLog log(4);
  Reply reply("WWW.Example.COM.", "2001:db8::7@4444", rrtype::AAAA);
  reply.record.transport = ClientTransport::tcp;
  reply.record.rcode = 2;
  reply.record.has_security = true;
  reply.record.security = Security::bogus;
  reply.record.latency_us = 1500;
  log.record(reply.record);
  Reply refused("refused.example.", "192.0.2.9@53");
  refused.record.rcode = 5;
  refused.record.cache_hit = false;
  log.record(refused.record);
  Reply hit("www.example.com.", "192.0.2.9@53");
  hit.record.cache_hit = true;
  hit.record.has_security = true;
  hit.record.security = Security::secure;
  log.record(hit.record);

  nlohmann::json json = recent_json({&log}, 10);
  EXPECT_EQ(json["capacity"], 4);
  ASSERT_EQ(json["queries"].size(), 3u);
  // Entries of the same millisecond keep their order: the newest first.
  nlohmann::json first = json["queries"][2];
  EXPECT_EQ(first["name"], "www.example.com.") << "names are shown lower-cased";
  EXPECT_EQ(first["client"], "2001:db8::7");
  EXPECT_EQ(first["type"], "AAAA");
  EXPECT_EQ(first["rcode"], "SERVFAIL");
  EXPECT_EQ(first["security"], "bogus");
  EXPECT_EQ(first["transport"], "tcp");
  EXPECT_EQ(first["latency_ms"], 1.5);
  EXPECT_EQ(first["cache_hit"], false);
  EXPECT_GT(first["time"].get<double>(), 1.6e9) << "wall-clock seconds";
  EXPECT_TRUE(json["queries"][1]["security"].is_null()) << "a refusal has no DNSSEC outcome";
  EXPECT_EQ(json["queries"][1]["rcode"], "REFUSED");
  EXPECT_EQ(json["queries"][0]["cache_hit"], true);
  EXPECT_EQ(json["queries"][0]["security"], "secure");
}

TEST(QueryLog, TopNamesAndClientsCountEveryReplyAndMergeWorkers) {
  QueryLog a(0), b(0);
  for (int i = 0; i < 5; ++i) {
    Reply r("popular.example.", "192.0.2.1@1000");
    a.record(r.record);
  }
  for (int i = 0; i < 4; ++i) {
    Reply r("Popular.Example.", "192.0.2.2@1000");
    b.record(r.record);
  }
  Reply rare("rare.example.", "192.0.2.3@1000");
  b.record(rare.record);

  nlohmann::json top = top_json({&a, &b}, 10);
  EXPECT_EQ(top["counted"], 10);
  EXPECT_EQ(top["counters"], QueryLog::kTopCounters);
  ASSERT_EQ(top["names"].size(), 2u);
  EXPECT_EQ(top["names"][0]["name"], "popular.example.");
  EXPECT_EQ(top["names"][0]["count"], 9) << "one name however it is spelled, summed over workers";
  EXPECT_EQ(top["names"][1]["name"], "rare.example.");
  ASSERT_EQ(top["clients"].size(), 3u);
  EXPECT_EQ(top["clients"][0]["address"], "192.0.2.1");
  EXPECT_EQ(top["clients"][0]["count"], 5);
  EXPECT_EQ(top["clients"][1]["address"], "192.0.2.2");
  EXPECT_EQ(top["clients"][1]["count"], 4);
  EXPECT_EQ(top["clients"][2]["address"], "192.0.2.3");
  EXPECT_EQ(top_json({&a, &b}, 1)["names"].size(), 1u);
}

TEST(QueryLog, ARingOfZeroKeepsNothingButTopStillCounts) {
  QueryLog log(0);
  Reply r("a.example.", "192.0.2.1@1");
  log.record(r.record);
  EXPECT_TRUE(log.recent(10).empty());
  EXPECT_EQ(log.recent_capacity(), 0u);
  EXPECT_EQ(log.top(10).names.size(), 1u);
  EXPECT_EQ(recent_json({&log}, 10)["queries"].size(), 0u);
}

TEST(QueryLog, ResizingTheRingStartsItEmpty) {
  QueryLog log(2);
  Reply r("a.example.", "192.0.2.1@1");
  log.record(r.record);
  log.resize_recent(5);
  EXPECT_EQ(log.recent_capacity(), 5u);
  EXPECT_TRUE(log.recent(10).empty());
  for (int i = 0; i < 7; ++i) log.record(r.record);
  EXPECT_EQ(log.recent(10).size(), 5u);
  EXPECT_EQ(log.top(1).names.front().count, 8u) << "the sketches are kept";
  log.resize_recent(0);
  log.record(r.record);
  EXPECT_TRUE(log.recent(10).empty());
}

}  // namespace
}  // namespace rsv
