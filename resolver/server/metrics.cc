#include "resolver/server/metrics.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <functional>
#include <map>

#include "cache/trust.h"
#include "resolver/policy/policy.h"
#include "resolver/server/caches.h"
#include "resolver/server/worker.h"
#include "resolver/wire/message.h"

namespace rsv {

namespace {

constexpr const char *kPrefix = "resolverd_";

class Collector {
public:
  explicit Collector(const std::vector<const Worker *> &workers) : workers_(workers) {}

  // Adds a family whose samples are the workers' sum of `read`.
  void counter(const std::string &name, const std::string &help, const std::function<uint64_t(const Worker &)> &read) {
    family(name, help, MetricType::counter).samples.push_back({{}, static_cast<double>(sum(read)), {}});
  }
  void labelled(const std::string &name, const std::string &help, MetricType type, const std::string &label,
                const std::vector<std::pair<std::string, std::function<uint64_t(const Worker &)>>> &series) {
    MetricFamily &f = family(name, help, type);
    for (const auto &[value, read] : series) f.samples.push_back({{{label, value}}, static_cast<double>(sum(read)), {}});
  }
  // The reference stays valid while later families are added (a deque never moves
  // its elements on push_back): some families are filled together.
  MetricFamily &family(const std::string &name, const std::string &help, MetricType type) {
    families.push_back(MetricFamily{kPrefix + name, help, type, {}});
    return families.back();
  }
  uint64_t sum(const std::function<uint64_t(const Worker &)> &read) const {
    uint64_t total = 0;
    for (const Worker *w : workers_) total += read(*w);
    return total;
  }

  std::deque<MetricFamily> families;

private:
  const std::vector<const Worker *> &workers_;
};

const QueryMetrics &q(const Worker &w) { return w.counters().queries; }
const ServerStats &s(const Worker &w) { return w.counters().server; }
const EngineStats &e(const Worker &w) { return w.counters().engine; }
const UpstreamStats &u(const Worker &w) { return w.counters().upstream; }

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[64];
  if (value == std::floor(value) && std::fabs(value) < 1e15)
    std::snprintf(text, sizeof text, "%.0f", value);
  else
    std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

// Prometheus label values escape backslash, double quote and newline.
std::string escape_label(const std::string &value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string short_name(const std::string &name) {
  return name.rfind(kPrefix, 0) == 0 ? name.substr(std::char_traits<char>::length(kPrefix)) : name;
}

}  // namespace

std::vector<MetricFamily> collect_metrics(const MetricsSources &sources) {
  Collector c(sources.workers);
  using Series = std::vector<std::pair<std::string, std::function<uint64_t(const Worker &)>>>;

  // --- queries in ---
  c.labelled("queries_received_total", "Client queries received, by transport.", MetricType::counter, "transport",
             Series{{"udp", [](const Worker &w) { return w.listener_totals().udp_received; }},
                    {"tcp", [](const Worker &w) { return w.listener_totals().tcp_queries; }}});
  {
    Series series;
    for (size_t i = 0; i < kTransportNames.size(); ++i)
      series.push_back({kTransportNames[i], [i](const Worker &w) { return q(w).by_transport[i].get(); }});
    c.labelled("answers_total", "Answers sent to clients, by transport.", MetricType::counter, "transport", series);
  }
  {
    Series series;
    for (size_t i = 0; i < QueryMetrics::kQtypes.size(); ++i)
      series.push_back({type_to_text(QueryMetrics::kQtypes[i]), [i](const Worker &w) { return q(w).by_qtype[i].get(); }});
    const size_t other = QueryMetrics::kQtypes.size();
    series.push_back({"other", [other](const Worker &w) { return q(w).by_qtype[other].get(); }});
    c.labelled("answers_by_qtype_total", "Answers sent, by the query type asked.", MetricType::counter, "qtype",
               series);
  }
  {
    Series series;
    for (uint16_t code = 0; code < QueryMetrics::kRcodes; ++code)
      series.push_back({rcode_to_text(code), [code](const Worker &w) { return q(w).by_rcode[code].get(); }});
    c.labelled("answers_by_rcode_total", "Answers sent, by response code.", MetricType::counter, "rcode", series);
  }
  {
    Series series;
    for (size_t i = 0; i < 5; ++i)
      series.push_back({to_string(static_cast<Security>(i)), [i](const Worker &w) { return q(w).by_security[i].get(); }});
    c.labelled("answers_by_security_total",
               "Answers the resolver worked out (not cache hits), by DNSSEC outcome; unchecked: CD set or "
               "validation off.",
               MetricType::counter, "security", series);
  }
  {
    MetricFamily &f = c.family("answers_by_ede_total",
                               "Answers carrying an Extended DNS Error (RFC 8914), by info code.",
                               MetricType::counter);
    for (uint16_t code = 0; code < QueryMetrics::kEdeCodes; ++code) {
      uint64_t value = c.sum([code](const Worker &w) { return q(w).by_ede[code].get(); });
      // Codes never seen are left out, except the common DNSSEC and reachability ones.
      if (value == 0 && code != ede::DNSSEC_BOGUS && code != ede::NO_REACHABLE_AUTHORITY && code != ede::STALE_ANSWER)
        continue;
      f.samples.push_back({{{"ede", std::to_string(code)}, {"name", ede_name(code)}}, static_cast<double>(value), {}});
    }
  }
  {
    MetricFamily &f = c.family("answer_latency_seconds",
                               "Time from a query's arrival to its answer (cache hits count as 0).",
                               MetricType::histogram);
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= QueryMetrics::kLatencyBucketsMs.size(); ++i) {
      cumulative += c.sum([i](const Worker &w) { return q(w).latency_buckets[i].get(); });
      std::string le = i < QueryMetrics::kLatencyBucketsMs.size()
                           ? format_number(QueryMetrics::kLatencyBucketsMs[i] / 1000.0)
                           : "+Inf";
      f.samples.push_back({{{"le", le}}, static_cast<double>(cumulative), "_bucket"});
    }
    f.samples.push_back({{}, c.sum([](const Worker &w) { return q(w).latency_sum_us.get(); }) / 1e6, "_sum"});
    f.samples.push_back({{}, static_cast<double>(cumulative), "_count"});
  }

  // --- the cache path ---
  c.counter("cache_hits_total", "Queries answered straight from the message cache.",
            [](const Worker &w) { return s(w).cache_hits.get(); });
  c.counter("cache_misses_total", "Client questions handed to the resolution engine.",
            [](const Worker &w) { return e(w).requests.get(); });
  c.counter("coalesced_total", "Questions that waited for an identical one already being resolved.",
            [](const Worker &w) { return e(w).coalesced.get(); });
  c.counter("aggressive_nsec_answers_total", "Negative answers synthesized from cached NSEC/NSEC3 (RFC 8198).",
            [](const Worker &w) { return e(w).aggressive_nsec_answers.get(); });

  c.labelled("stale_answers_total",
             "Answers served past their TTL (RFC 8767 serve-stale), by why: the resolution failed, took longer "
             "than cache.stale-client-timeout, was not tried again after a recent failure, or there was no room.",
             MetricType::counter, "reason",
             Series{{"failure", [](const Worker &w) { return s(w).stale_on_failure.get(); }},
                    {"client-timeout", [](const Worker &w) { return s(w).stale_on_client_timeout.get(); }},
                    {"recheck", [](const Worker &w) { return s(w).stale_in_recheck.get(); }},
                    {"over-capacity", [](const Worker &w) { return s(w).stale_over_capacity.get(); }}});
  c.labelled("prefetches_total",
             "Cached answers asked for in the last tenth of their TTL: refreshed in the background (started), or "
             "not, for want of room under max-queries-in-flight (skipped).",
             MetricType::counter, "outcome",
             Series{{"started", [](const Worker &w) { return s(w).prefetches.get(); }},
                    {"skipped", [](const Worker &w) { return s(w).prefetches_skipped.get(); }}});

  // --- refused, malformed, shed ---
  c.counter("queries_refused_total", "Queries answered REFUSED (access control, RD=0 without allow-snoop).",
            [](const Worker &w) { return s(w).refused.get(); });
  c.counter("queries_formerr_total", "Queries answered FORMERR.", [](const Worker &w) { return s(w).formerr.get(); });
  c.counter("queries_dropped_total", "Queries dropped without an answer (deny, responses, garbage).",
            [](const Worker &w) { return s(w).dropped.get(); });
  c.labelled("queries_shed_total", "Queries not answered to protect the resolver, by rule.", MetricType::counter,
             "reason",
             Series{{"over-capacity", [](const Worker &w) { return s(w).overload_dropped.get(); }},
                    {"wait-limit", [](const Worker &w) { return s(w).wait_limit_dropped.get(); }},
                    {"clients-per-question", [](const Worker &w) { return s(w).crowd_dropped.get(); }},
                    {"discard-timeout", [](const Worker &w) { return s(w).discarded_late.get(); }},
                    {"jostled", [](const Worker &w) { return e(w).jostled.get(); }}});
  {
    MetricFamily &f = c.family("clients_waiting", "Client queries waiting for an answer now.", MetricType::gauge);
    int64_t waiting = 0;
    for (const Worker *w : sources.workers) waiting += s(*w).clients_waiting.get();
    f.samples.push_back({{}, static_cast<double>(waiting), {}});
  }

  // --- upstream ---
  c.labelled("upstream_queries_total", "Queries sent to authoritative servers, by transport.", MetricType::counter,
             "transport",
             Series{{"udp", [](const Worker &w) { return u(w).udp_queries.get(); }},
                    {"tcp", [](const Worker &w) { return u(w).tcp_queries.get(); }}});
  c.counter("upstream_timeouts_total", "Upstream queries that got no reply in time.",
            [](const Worker &w) { return u(w).timeouts.get(); });
  c.counter("upstream_network_errors_total", "Upstream queries that failed to be sent or connect.",
            [](const Worker &w) { return u(w).network_errors.get(); });
  c.counter("upstream_malformed_total", "Upstream replies that were unusable (did not parse, no QR, 0x20 case).",
            [](const Worker &w) { return e(w).upstream_malformed.get(); });
  c.counter("upstream_mismatches_ignored_total",
            "Datagrams ignored while waiting for a reply (wrong ID or question: possible spoofing).",
            [](const Worker &w) { return u(w).mismatches_ignored.get(); });
  c.labelled("retries_total", "Upstream questions asked again, by reason.", MetricType::counter, "reason",
             Series{{"bogus", [](const Worker &w) { return e(w).bogus_retries.get(); }},
                    {"0x20", [](const Worker &w) { return e(w).caps_mismatches.get(); }}});
  c.counter("budget_exhausted_total", "Resolutions stopped by a budget (queries, time, per-name queries).",
            [](const Worker &w) { return e(w).budget_exhausted.get(); });

  // --- client sockets ---
  c.counter("udp_kernel_drops_total", "Queries the kernel dropped on a full listening socket (SO_MEMINFO).",
            [](const Worker &w) { return w.listener_totals().udp_kernel_drops; });
  c.counter("udp_coalescing_pauses_total",
            "Pauses of network.udp-coalesce-usecs taken after a loop turn that read a few datagrams.",
            [](const Worker &w) { return w.coalescing_pauses(); });
  c.counter("udp_reply_queue_full_total", "UDP replies dropped because the socket and its queue were full.",
            [](const Worker &w) { return w.listener_totals().udp_queue_full; });
  c.labelled("tcp_connections_total", "Client TCP connections, by what became of them.", MetricType::counter,
             "outcome",
             Series{{"accepted", [](const Worker &w) { return w.listener_totals().tcp_accepted; }},
                    {"refused", [](const Worker &w) { return w.listener_totals().tcp_refused; }},
                    {"evicted", [](const Worker &w) { return w.listener_totals().tcp_evicted; }},
                    {"timed-out", [](const Worker &w) { return w.listener_totals().tcp_timed_out; }},
                    {"not-reading", [](const Worker &w) { return w.listener_totals().tcp_not_reading; }},
                    {"bad-frame", [](const Worker &w) { return w.listener_totals().tcp_bad_frame; }}});

  // --- local names and blocklists ---
  c.counter("local_answers_total", "Queries answered from the local zones and local data.",
            [](const Worker &w) { return s(w).local_answers.get(); });
  {
    std::map<std::string, uint64_t> blocked;
    for (const Worker *w : sources.workers)
      for (const auto &[list, count] : w->counters().blocked.read()) blocked[list] += count;
    if (sources.policy)
      for (const LoadedList &list : sources.policy->lists()) blocked.try_emplace(list.source.name, 0);
    if (!blocked.empty()) {
      MetricFamily &f = c.family(
          "blocked_total", "Answers blocked, by the blocklist that blocked them (CNAME cloaking included).",
          MetricType::counter);
      for (const auto &[list, count] : blocked)
        f.samples.push_back({{{"list", list}}, static_cast<double>(count), {}});
    }
  }
  if (sources.policy && !sources.policy->lists().empty()) {
    MetricFamily &names = c.family("blocklist_names",
                                   "Names each blocklist added (a name listed earlier is not counted again).",
                                   MetricType::gauge);
    MetricFamily &skipped = c.family("blocklist_lines_skipped",
                                     "Lines of each blocklist that could not be read.", MetricType::gauge);
    for (const LoadedList &list : sources.policy->lists()) {
      names.samples.push_back({{{"list", list.source.name}}, static_cast<double>(list.names), {}});
      skipped.samples.push_back(
          {{{"list", list.source.name}}, static_cast<double>(list.report.malformed), {}});
    }
    c.family("policy_bytes", "Memory of the blocklists, allowlist and local-name index.", MetricType::gauge)
        .samples.push_back({{}, static_cast<double>(sources.policy->memory_bytes()), {}});
  }

  // --- caches ---
  if (sources.caches) {
    const auto usage = sources.caches->usage();
    MetricFamily &bytes = c.family("cache_bytes", "Memory used by each cache.", MetricType::gauge);
    for (const auto &u : usage) bytes.samples.push_back({{{"cache", u.name}}, static_cast<double>(u.bytes), {}});
    MetricFamily &entries = c.family("cache_entries", "Entries in each cache.", MetricType::gauge);
    for (const auto &u : usage) entries.samples.push_back({{{"cache", u.name}}, static_cast<double>(u.entries), {}});
  }

  // --- the daemon ---
  c.family("negative_trust_anchors", "Negative trust anchors in force (RFC 7646).", MetricType::gauge)
      .samples.push_back({{}, static_cast<double>(sources.negative_trust_anchors), {}});
  c.family("threads", "Worker threads.", MetricType::gauge)
      .samples.push_back({{}, static_cast<double>(sources.workers.size()), {}});
  c.family("config_generation", "Configurations loaded: 1 at start, +1 per reload.", MetricType::gauge)
      .samples.push_back({{}, static_cast<double>(sources.generation), {}});
  c.family("uptime_seconds", "Seconds since the daemon started.", MetricType::gauge)
      .samples.push_back({{}, static_cast<double>(static_cast<int64_t>(::time(nullptr)) - sources.started_at), {}});
  c.family("build_info", "Always 1; the version is a label.", MetricType::gauge)
      .samples.push_back({{{"version", sources.version}}, 1, {}});
  return {std::make_move_iterator(c.families.begin()), std::make_move_iterator(c.families.end())};
}

std::string to_prometheus(const std::vector<MetricFamily> &families) {
  std::string out;
  for (const auto &f : families) {
    out += "# HELP " + f.name + " " + f.help + "\n";
    out += "# TYPE " + f.name + " " +
           (f.type == MetricType::counter ? "counter" : f.type == MetricType::gauge ? "gauge" : "histogram") + "\n";
    for (const auto &sample : f.samples) {
      out += f.name + sample.suffix;
      if (!sample.labels.empty()) {
        out += "{";
        for (size_t i = 0; i < sample.labels.size(); ++i) {
          if (i) out += ",";
          out += sample.labels[i].first + "=\"" + escape_label(sample.labels[i].second) + "\"";
        }
        out += "}";
      }
      out += " " + format_number(sample.value) + "\n";
    }
  }
  return out;
}

nlohmann::json to_json(const std::vector<MetricFamily> &families) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto &f : families) {
    const std::string name = short_name(f.name);
    if (f.type == MetricType::histogram) {
      nlohmann::json h = {{"buckets", nlohmann::json::object()}};
      for (const auto &sample : f.samples) {
        if (sample.suffix == "_bucket")
          h["buckets"][sample.labels.front().second] = sample.value;
        else
          h[sample.suffix.substr(1)] = sample.value;
      }
      out[name] = h;
      continue;
    }
    if (f.samples.size() == 1 && f.samples[0].labels.empty()) {
      out[name] = f.samples[0].value;
      continue;
    }
    nlohmann::json by_label = nlohmann::json::object();
    for (const auto &sample : f.samples) {
      std::string key;
      for (size_t i = 0; i < sample.labels.size(); ++i) key += (i ? "," : "") + sample.labels[i].second;
      by_label[key] = sample.value;
    }
    out[name] = by_label;
  }
  return out;
}

std::string to_text(const std::vector<MetricFamily> &families) {
  std::string out;
  for (const auto &f : families) {
    const std::string name = short_name(f.name);
    for (const auto &sample : f.samples) {
      std::string key = name + sample.suffix;
      for (const auto &[label, value] : sample.labels) key += "." + value;
      out += key + "=" + format_number(sample.value) + "\n";
    }
  }
  return out;
}

}  // namespace rsv
