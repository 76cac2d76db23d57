// The daemon's numbers, gathered once and shown three ways: the Prometheus text
// format (GET /metrics), JSON (`resolverctl stats --json`, the dashboard) and plain
// `key=value` lines (`resolverctl stats`).
//
// collect_metrics() sums the workers' counters (each written by its own thread and
// read here with relaxed loads, so a figure may be a moment old), the listeners'
// totals and the caches' sizes into a list of metric families. Every family has a
// fixed, small set of label values (transports, query types, rcodes, DNSSEC states,
// EDE codes, caches), so the number of Prometheus series is bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rsv {

class Worker;
class Caches;
class Policy;

enum class MetricType { counter, gauge, histogram };

struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
  std::string suffix;  // histograms: "_bucket", "_sum", "_count"
};

struct MetricFamily {
  std::string name;  // with the resolverd_ prefix
  std::string help;
  MetricType type = MetricType::counter;
  std::vector<MetricSample> samples;
};

struct MetricsSources {
  std::vector<const Worker *> workers;
  const Caches *caches = nullptr;
  int64_t started_at = 0;  // wall-clock seconds
  uint64_t generation = 0;
  size_t negative_trust_anchors = 0;
  std::string version;
  std::shared_ptr<const Policy> policy;  // the running generation's: its lists' sizes and memory
};

std::vector<MetricFamily> collect_metrics(const MetricsSources &sources);

// The Prometheus text exposition format 0.0.4: HELP and TYPE lines, then samples.
std::string to_prometheus(const std::vector<MetricFamily> &families);
// {"queries_received_total": {"udp": 12, "tcp": 0}, "uptime_seconds": 30, ...}: the
// prefix is dropped; a family without labels is a number, one label a mapping by its
// value, more labels a mapping by "value1,value2"; a histogram gives its buckets
// (cumulative, keyed by `le`), sum and count.
nlohmann::json to_json(const std::vector<MetricFamily> &families);
// One "name.label-value=number" line per sample, as unbound-control stats prints.
std::string to_text(const std::vector<MetricFamily> &families);

}  // namespace rsv
