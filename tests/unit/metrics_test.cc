// The three renderings of the metrics: Prometheus text (HELP and TYPE before the
// samples, escaped label values, cumulative histogram buckets), JSON and flat text.
#include "resolver/server/metrics.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "resolver/policy/policy.h"
#include "resolver/server/caches.h"

namespace rsv {
namespace {

std::vector<MetricFamily> sample_families() {
  MetricFamily counter{"resolverd_things_total", "Things.", MetricType::counter, {}};
  counter.samples.push_back({{{"kind", "a\"b\\c\nd"}}, 3, {}});
  counter.samples.push_back({{{"kind", "plain"}}, 1.5, {}});
  MetricFamily gauge{"resolverd_level", "A level.", MetricType::gauge, {{{}, 7, {}}}};
  MetricFamily histogram{"resolverd_wait_seconds", "Waits.", MetricType::histogram, {}};
  histogram.samples.push_back({{{"le", "0.001"}}, 2, "_bucket"});
  histogram.samples.push_back({{{"le", "+Inf"}}, 5, "_bucket"});
  histogram.samples.push_back({{}, 0.25, "_sum"});
  histogram.samples.push_back({{}, 5, "_count"});
  return {counter, gauge, histogram};
}

TEST(Metrics, PrometheusTextFormat) {
  const std::string text = to_prometheus(sample_families());
  EXPECT_EQ(text,
            "# HELP resolverd_things_total Things.\n"
            "# TYPE resolverd_things_total counter\n"
            "resolverd_things_total{kind=\"a\\\"b\\\\c\\nd\"} 3\n"
            "resolverd_things_total{kind=\"plain\"} 1.5\n"
            "# HELP resolverd_level A level.\n"
            "# TYPE resolverd_level gauge\n"
            "resolverd_level 7\n"
            "# HELP resolverd_wait_seconds Waits.\n"
            "# TYPE resolverd_wait_seconds histogram\n"
            "resolverd_wait_seconds_bucket{le=\"0.001\"} 2\n"
            "resolverd_wait_seconds_bucket{le=\"+Inf\"} 5\n"
            "resolverd_wait_seconds_sum 0.25\n"
            "resolverd_wait_seconds_count 5\n");
}

TEST(Metrics, JsonAndFlatText) {
  const auto families = sample_families();
  const nlohmann::json json = to_json(families);
  EXPECT_EQ(json["things_total"]["plain"].get<double>(), 1.5);
  EXPECT_EQ(json["level"].get<int>(), 7);
  EXPECT_EQ(json["wait_seconds"]["buckets"]["+Inf"].get<int>(), 5);
  EXPECT_EQ(json["wait_seconds"]["count"].get<int>(), 5);
  const std::string flat = to_text(families);
  EXPECT_NE(flat.find("things_total.plain=1.5\n"), std::string::npos) << flat;
  EXPECT_NE(flat.find("level=7\n"), std::string::npos) << flat;
  EXPECT_NE(flat.find("wait_seconds_bucket.+Inf=5\n"), std::string::npos) << flat;
}

TEST(Metrics, EveryFamilyHasHelpTypeAndTheDaemonFigures) {
  CacheConfig config;
  config.size_bytes = 1 << 20;
  Caches caches(config);
  MetricsSources sources;
  sources.caches = &caches;
  sources.started_at = 0;
  sources.generation = 3;
  sources.version = "1.2.3";
  const auto families = collect_metrics(sources);
  ASSERT_FALSE(families.empty());
  for (const auto &family : families) {
    EXPECT_EQ(family.name.rfind("resolverd_", 0), 0u) << family.name;
    EXPECT_FALSE(family.help.empty()) << family.name;
    EXPECT_FALSE(family.samples.empty()) << family.name;
  }
  const nlohmann::json json = to_json(families);
  EXPECT_EQ(json["config_generation"].get<int>(), 3);
  for (const char *cache : {"messages", "rrsets", "keys", "aggressive-nsec", "non-cuts", "infra"})
    EXPECT_TRUE(json["cache_bytes"].contains(cache)) << cache;
  for (const char *family : {"queries_received_total", "answers_by_rcode_total", "answers_by_security_total",
                             "answers_by_ede_total", "answer_latency_seconds", "cache_hits_total",
                             "cache_misses_total", "upstream_queries_total", "upstream_timeouts_total",
                             "retries_total", "budget_exhausted_total", "clients_waiting", "queries_shed_total"})
    EXPECT_TRUE(json.contains(family)) << family;
}

// Families that are filled while later ones are added (a blocklist's names and skipped
// lines, the caches' bytes and entries) keep their samples: before, the collector held
// references into a vector that the next family reallocated, and blocklist_names came
// out empty (found by test_policy.py once the metrics had one family more).
TEST(Metrics, FamiliesFilledTogetherKeepTheirSamples) {
  std::string dir = (std::filesystem::temp_directory_path() / "metrics_test_XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string hosts = dir + "/hosts.txt", domains = dir + "/domains.txt";
  std::ofstream(hosts) << "0.0.0.0 ads.example.com\n0.0.0.0 tracker.example.net\nnot a line\n";
  std::ofstream(domains) << "www.example.org\n";
  PolicyConfig policy_config;
  policy_config.blocklists.push_back({hosts, ListFormat::hosts, BlockAction::nxdomain, "hosts"});
  policy_config.blocklists.push_back({domains, ListFormat::domains, BlockAction::nodata, "domains"});
  CacheConfig cache_config;
  cache_config.size_bytes = 1 << 20;
  Caches caches(cache_config);
  MetricsSources sources;
  sources.caches = &caches;
  sources.policy = Policy::build(policy_config, 1);
  sources.version = "test";
  const nlohmann::json json = to_json(collect_metrics(sources));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(json["blocklist_names"], (nlohmann::json{{"hosts", 2}, {"domains", 1}})) << json.dump();
  EXPECT_EQ(json["blocklist_lines_skipped"], (nlohmann::json{{"hosts", 1}, {"domains", 0}})) << json.dump();
  for (const char *cache : {"messages", "rrsets", "keys", "aggressive-nsec", "non-cuts", "infra"}) {
    EXPECT_TRUE(json["cache_bytes"].contains(cache)) << cache;
    EXPECT_TRUE(json["cache_entries"].contains(cache)) << cache;
  }
}

TEST(Caches, FlushByNameSubtreeAndAll) {
  CacheConfig config;
  config.size_bytes = 1 << 20;
  Caches caches(config);
  auto rrset = [](const char *owner) {
    RRset set;
    set.owner = *Name::from_text(owner);
    set.type = rrtype::A;
    set.ttl = 300;
    set.add(std::string("\xc0\x00\x02\x01", 4), 300);
    return set;
  };
  for (const char *owner : {"example.com.", "www.example.com.", "a.b.example.com.", "example.org."})
    ASSERT_TRUE(caches.rrsets.store(rrset(owner), Trust::answer, Security::insecure));
  caches.infra.record_rtt(*SocketAddress::parse("192.0.2.1"), 10);

  EXPECT_EQ(caches.flush(*Name::from_text("example.com."), false).rrsets, 1u);  // the name only
  EXPECT_TRUE(caches.rrsets.lookup(*Name::from_text("www.example.com."), rrtype::A));
  EXPECT_EQ(caches.flush(*Name::from_text("example.com."), true).rrsets, 2u);  // and below
  EXPECT_FALSE(caches.rrsets.lookup(*Name::from_text("a.b.example.com."), rrtype::A));
  EXPECT_TRUE(caches.rrsets.lookup(*Name::from_text("example.org."), rrtype::A));
  EXPECT_EQ(caches.infra.server_count(), 1u);  // a flush by name keeps what servers taught us

  FlushCounts all = caches.flush_all();
  EXPECT_EQ(all.rrsets, 1u);
  EXPECT_TRUE(all.infra);
  EXPECT_EQ(caches.infra.server_count(), 0u);
  EXPECT_EQ(caches.rrsets.entry_count(), 0u);
}

TEST(Caches, AReloadReplacesTheTtlPolicy) {
  CacheConfig config;
  config.size_bytes = 1 << 20;
  Caches caches(config);
  config.min_ttl = 600;
  caches.apply(config);
  EXPECT_EQ(caches.rrsets.policy().min_ttl, 600u);
  RRset set;
  set.owner = *Name::from_text("short.example.");
  set.type = rrtype::A;
  set.ttl = 5;
  set.add(std::string("\xc0\x00\x02\x01", 4), 5);
  ASSERT_TRUE(caches.rrsets.store(set, Trust::answer, Security::insecure));
  EXPECT_EQ(caches.rrsets.lookup(set.owner, rrtype::A)->rrset.ttl, 600u);
}

}  // namespace
}  // namespace rsv
