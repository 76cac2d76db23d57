#include "resolver/server/control.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "dnssec/trust_anchor_signal.h"
#include "resolver/base/log.h"
#include "resolver/config/config.h"
#include "resolver/server/daemon.h"
#include "resolver/server/explain_text.h"
#include "resolver/server/trust_anchor_maintainer.h"

namespace rsv {

namespace {

constexpr uint64_t kDefaultNtaSeconds = 86400;
// RFC 7646 2: a negative trust anchor is meant to be short-lived; a week at most.
constexpr uint64_t kMaxNtaSeconds = 7 * 86400;

std::string utc_text(int64_t seconds) {
  time_t t = static_cast<time_t>(seconds);
  tm parts{};
  gmtime_r(&t, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

std::string duration_text(int64_t seconds) {
  char text[48];
  if (seconds >= 86400)
    std::snprintf(text, sizeof text, "%" PRId64 "d %02" PRId64 "h %02" PRId64 "m", seconds / 86400,
                  seconds % 86400 / 3600, seconds % 3600 / 60);
  else
    std::snprintf(text, sizeof text, "%02" PRId64 "h %02" PRId64 "m %02" PRId64 "s", seconds / 3600,
                  seconds % 3600 / 60, seconds % 60);
  return text;
}

std::string bytes_text(uint64_t bytes) {
  char text[32];
  if (bytes >= (1u << 20))
    std::snprintf(text, sizeof text, "%.1f MiB", bytes / 1048576.0);
  else
    std::snprintf(text, sizeof text, "%.1f KiB", bytes / 1024.0);
  return text;
}

std::optional<Name> name_argument(const std::string &text) {
  if (text.empty() || text[0] == '-') return std::nullopt;
  return Name::from_text(text);
}

const char *const kUsage =
    "commands: status | stats | flush NAME [--subtree] | flush --all | reload | "
    "nta add NAME [--for DURATION] | nta remove NAME | nta list | log-level [LEVEL] | "
    "explain NAME [TYPE] [--cd]";

}  // namespace

nlohmann::json control_ok(std::string text, nlohmann::json data) {
  return {{"ok", true}, {"text", std::move(text)}, {"data", std::move(data)}};
}

nlohmann::json control_error(const std::string &error) {
  return {{"ok", false}, {"error", error}, {"text", error}};
}

NtaDuration nta_duration(std::string_view text) {
  NtaDuration out;
  // The configuration's reader: what a duration there may be written as, it may be here.
  const std::optional<uint64_t> seconds = parse_seconds(text);
  if (!seconds)
    out.error = "nta add: '" + std::string(text) + "' is not a duration (e.g. 3600, 90s, 30m, 12h, 2d, 1w)";
  else if (*seconds == 0)
    out.error = "nta add: a negative trust anchor for no time at all: give a duration of 1s or more";
  else if (*seconds > kMaxNtaSeconds)
    out.error = "nta add: at most one week (RFC 7646 2: a negative trust anchor is temporary)";
  else
    out.seconds = *seconds;
  return out;
}

ControlService::ControlService(Daemon &daemon) : daemon_(daemon), explainer_(daemon.loop(), daemon.caches()) {}

ControlService::~ControlService() = default;

void ControlService::handle(const std::string &request, Respond respond) {
  std::vector<std::string> args;
  try {
    nlohmann::json parsed = nlohmann::json::parse(request);
    if (!parsed.is_object() || !parsed.contains("args") || !parsed["args"].is_array())
      throw std::runtime_error("expected {\"args\": [...]}");
    for (const auto &arg : parsed["args"]) {
      if (!arg.is_string()) throw std::runtime_error("every argument must be a string");
      args.push_back(arg.get<std::string>());
    }
  } catch (const std::exception &e) {
    respond(control_error(std::string("malformed request: ") + e.what()).dump());
    return;
  }
  run(args, [respond = std::move(respond)](nlohmann::json reply) {
    // Names and reasons from the network may hold any bytes: never fail on them.
    respond(reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
}

void ControlService::run(const std::vector<std::string> &args, std::function<void(nlohmann::json)> reply) {
  if (args.empty()) {
    reply(control_error(std::string("no command; ") + kUsage));
    return;
  }
  const std::string &command = args[0];
  RSV_LOG(debug, "control: %s", command.c_str());
  try {
    if (command == "status" && args.size() == 1) return reply(status());
    if (command == "stats" && args.size() == 1) return reply(stats());
    if (command == "flush") return flush(args, std::move(reply));
    if (command == "reload" && args.size() == 1) return reply(reload());
    if (command == "nta") return nta(args, std::move(reply));
    if (command == "log-level") return reply(log_level(args));
    if (command == "explain") return explain(args, std::move(reply));
  } catch (const std::exception &e) {
    return reply(control_error(command + ": " + e.what()));
  }
  reply(control_error("unknown command or wrong arguments: '" + command + "'; " + kUsage));
}

nlohmann::json ControlService::status() const {
  auto generation = daemon_.generation();
  const Config &config = generation->config;
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  nlohmann::json caches = nlohmann::json::array();
  uint64_t cache_bytes = 0;
  std::string cache_text;
  for (const auto &usage : daemon_.caches().usage()) {
    caches.push_back({{"name", usage.name}, {"bytes", usage.bytes}, {"entries", usage.entries}});
    cache_bytes += usage.bytes;
    cache_text += "  " + usage.name + ": " + bytes_text(usage.bytes) + ", " + std::to_string(usage.entries) +
                  " entries\n";
  }
  nlohmann::json listen = nlohmann::json::array();
  std::string listen_text;
  for (const auto &address : config.listen) {
    listen.push_back(address.to_string());
    listen_text += (listen_text.empty() ? "" : ", ") + address.to_string();
  }
  uint64_t answers = 0, hits = 0;
  int64_t waiting = 0;
  for (const Worker *worker : daemon_.workers()) {
    for (const auto &c : worker->counters().queries.by_transport) answers += c.get();
    hits += worker->counters().server.cache_hits.get();
    waiting += worker->counters().server.clients_waiting.get();
  }
  const auto ntas = daemon_.caches().negative_anchors.list(now);
  nlohmann::json data = {
      {"version", kResolverdVersion},
      {"started_at", daemon_.started_at()},
      {"uptime_seconds", now - daemon_.started_at()},
      {"threads", daemon_.workers().size()},
      {"config_file", config.source_file.empty() ? "built-in defaults" : config.source_file},
      {"config_generation", generation->number},
      {"listen", listen},
      {"validation", config.dnssec.validation},
      {"trust_anchor_zones", generation->anchors.size()},
      {"negative_trust_anchors", ntas.size()},
      {"root_hints", generation->hints.source},
      {"cache_size_configured", config.cache.size_bytes},
      {"cache_bytes", cache_bytes},
      {"caches", caches},
      {"answers", answers},
      {"cache_hits", hits},
      {"clients_waiting", waiting},
  };
  // The anchors in force and, with RFC 5011, what each trust point knows.
  nlohmann::json anchors = nlohmann::json::array();
  std::string anchors_text;
  const TrustAnchorMaintainer *maintainer = daemon_.trust_anchor_maintainer();
  for (const TrustAnchor &anchor : generation->anchors) {
    nlohmann::json entry = {{"zone", anchor.zone.to_text()}, {"key_tags", anchor_key_tags(anchor)}};
    std::string tags;
    for (uint16_t tag : anchor_key_tags(anchor)) tags += " " + std::to_string(tag);
    std::string line =
        "trust anchor " + anchor.zone.to_text() + ": key tags" + (tags.empty() ? " none" : tags);
    if (maintainer && maintainer->rfc5011()) {
      for (const TrustPoint &point : maintainer->trust_points()) {
        if (!(point.zone() == anchor.zone)) continue;
        nlohmann::json keys = nlohmann::json::array();
        std::string states;
        for (const ManagedKey &key : point.keys()) {
          keys.push_back({{"tag", key.key_tag},
                          {"algorithm", key.algorithm},
                          {"state", to_string(key.state)},
                          {"since", key.changed_at},
                          {"hold_down_until", key.hold_down_until}});
          states += (states.empty() ? "" : ", ") + key.id() + " " + to_string(key.state);
          if (key.state == KeyState::add_pend) states += " until " + utc_text(key.hold_down_until);
        }
        entry["rfc5011"] = {{"keys", keys},
                            {"next_refresh", point.next_refresh},
                            {"last_success", point.last_success},
                            {"last_problem", point.last_problem}};
        line += "; RFC 5011: " + (states.empty() ? std::string("DS only") : states) + "; next refresh " +
                utc_text(point.next_refresh);
        if (!point.last_problem.empty()) line += "; last refresh failed: " + point.last_problem;
      }
    }
    anchors.push_back(std::move(entry));
    anchors_text += line + "\n";
  }
  data["trust_anchors"] = anchors;
  data["rfc5011"] = maintainer != nullptr && maintainer->rfc5011();
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.1f%%", answers ? 100.0 * static_cast<double>(hits) / answers : 0.0);
  std::string text =
      "resolverd " + std::string(kResolverdVersion) + ", up " + duration_text(now - daemon_.started_at()) +
      " (since " + utc_text(daemon_.started_at()) + ")\n" +
      "configuration: " + data["config_file"].get<std::string>() + " (generation " +
      std::to_string(generation->number) + ")\n" + "threads: " + std::to_string(daemon_.workers().size()) +
      ", listening on " + listen_text + "\n" + "validation: " + (config.dnssec.validation ? "on" : "off") +
      ", " + std::to_string(generation->anchors.size()) + " trust anchor zone(s), " +
      std::to_string(ntas.size()) + " negative trust anchor(s)\n" +
      "root hints: " + generation->hints.source + "\n" + anchors_text +
      "answers: " + std::to_string(answers) + ", " + ratio + " from the cache; " + std::to_string(waiting) +
      " client queries waiting now\n" + "cache: " + bytes_text(cache_bytes) + " used of " +
      bytes_text(config.cache.size_bytes) + " configured\n" + cache_text;
  return control_ok(text, data);
}

nlohmann::json ControlService::stats() const {
  auto families = collect_metrics(daemon_.metrics_sources());
  return control_ok(to_text(families), to_json(families));
}

void ControlService::flush(const std::vector<std::string> &args, std::function<void(nlohmann::json)> reply) {
  bool all = false, subtree = false;
  std::optional<Name> name;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--all")
      all = true;
    else if (args[i] == "--subtree")
      subtree = true;
    else if (!name && (name = name_argument(args[i])))
      continue;
    else
      return reply(control_error("flush: '" + args[i] + "' is not a domain name or option; " +
                                 "usage: flush NAME [--subtree] | flush --all"));
  }
  if (all == name.has_value())
    return reply(control_error("flush: give a NAME (optionally --subtree), or --all"));
  const std::string what = all ? std::string("everything") : (subtree ? "everything at or below " : "") + name->to_text();
  daemon_.flush(all ? Name::root() : *name, subtree, all, [reply, what](FlushCounts counts) {
    nlohmann::json data = {{"messages", counts.messages},       {"rrsets", counts.rrsets},
                           {"keys", counts.keys},               {"aggressive_nsec", counts.aggressive_nsec},
                           {"non_cuts", counts.non_cuts},       {"bogus", counts.bogus},
                           {"infra", counts.infra},             {"total", counts.total()}};
    std::string text = "flushed " + what + ": " + std::to_string(counts.total()) + " entries (" +
                       std::to_string(counts.messages) + " answers, " + std::to_string(counts.rrsets) + " RRsets, " +
                       std::to_string(counts.keys) + " zone keys, " + std::to_string(counts.aggressive_nsec) +
                       " NSEC zones, " + std::to_string(counts.non_cuts) + " non-cuts, " +
                       std::to_string(counts.bogus) + " remembered bogus answers" +
                       (counts.infra ? ", and every server's RTT, EDNS and lameness" : "") + ")";
    reply(control_ok(text, data));
  });
}

nlohmann::json ControlService::reload() {
  ReloadResult result = daemon_.reload();
  if (!result.ok) return control_error("reload refused, the running configuration stays: " + result.error);
  std::string text = "configuration reloaded (generation " + std::to_string(result.generation) + ")";
  for (const auto &key : result.restart_needed) text += "\n'" + key + "' changed: takes effect at the next restart";
  for (const auto &what : result.flushed) text += "\nflushed " + what;
  return control_ok(text, {{"generation", result.generation},
                           {"restart_needed", result.restart_needed},
                           {"flushed", result.flushed}});
}

void ControlService::nta(const std::vector<std::string> &args, std::function<void(nlohmann::json)> reply) {
  // One that lapsed a moment ago is ended (and its names flushed) before anything
  // here reads or changes the list.
  daemon_.end_lapsed_negative_anchors();
  auto &anchors = daemon_.caches().negative_anchors;
  const int64_t now = daemon_.caches().clock.now_seconds();
  const std::string sub = args.size() > 1 ? args[1] : "";
  if (sub == "list" && args.size() == 2) {
    nlohmann::json list = nlohmann::json::array();
    std::string text;
    for (const auto &entry : anchors.list(now)) {
      nlohmann::json item = {{"name", entry.name.to_text()}, {"expires_at", nullptr}, {"source", "configuration"}};
      std::string line = entry.name.to_text() + "  from the configuration";
      if (entry.expires_at) {
        item["expires_at"] = *entry.expires_at;
        item["source"] = "resolverctl";
        line = entry.name.to_text() + "  until " + utc_text(*entry.expires_at) + " (" +
               duration_text(*entry.expires_at - now) + " left)";
      }
      list.push_back(item);
      text += line + "\n";
    }
    if (text.empty()) text = "no negative trust anchors\n";
    return reply(control_ok(text, {{"anchors", list}}));
  }
  if ((sub == "add" || sub == "remove") && args.size() >= 3) {
    auto name = name_argument(args[2]);
    if (!name) return reply(control_error("nta " + sub + ": '" + args[2] + "' is not a domain name"));
    if (sub == "remove") {
      if (args.size() != 3) return reply(control_error("usage: nta remove NAME"));
      if (!anchors.remove(*name))
        return reply(control_error("nta remove: no negative trust anchor for " + name->to_text() +
                                   " was added with resolverctl (those of the configuration go with a reload)"));
      daemon_.negative_anchors_changed();
      RSV_LOG(info, "negative trust anchor for %s removed", name->to_text().c_str());
      // Answers served insecure under the anchor must not outlive it.
      const std::string text = "negative trust anchor for " + name->to_text() + " removed; " + name->to_text() +
                               " is validated again (its cached data was flushed)";
      daemon_.flush(*name, true, false, [reply, text, n = name->to_text()](FlushCounts) {
        reply(control_ok(text, {{"name", n}}));
      });
      return;
    }
    uint64_t seconds = kDefaultNtaSeconds;
    if (args.size() == 5 && args[3] == "--for") {
      const NtaDuration duration = nta_duration(args[4]);
      if (!duration.error.empty()) return reply(control_error(duration.error));
      seconds = duration.seconds;
    } else if (args.size() != 3) {
      return reply(control_error("usage: nta add NAME [--for DURATION]"));
    }
    if (name->is_root()) return reply(control_error("nta add: not for the root: that would switch validation off"));
    const int64_t expires_at = now + static_cast<int64_t>(seconds);
    anchors.add(*name, expires_at);
    daemon_.negative_anchors_changed();
    RSV_LOG(warning, "negative trust anchor for %s added for %" PRIu64 " s: validation is off below it",
            name->to_text().c_str(), seconds);
    // Answers judged before the anchor (bogus ones in particular) must not outlive it.
    const std::string text = "negative trust anchor for " + name->to_text() + " until " + utc_text(expires_at) +
                             ": names at or below it are not validated (answers are insecure, without AD)";
    daemon_.flush(*name, true, false, [reply, text, expires_at, n = name->to_text()](FlushCounts) {
      reply(control_ok(text, {{"name", n}, {"expires_at", expires_at}}));
    });
    return;
  }
  reply(control_error("usage: nta add NAME [--for DURATION] | nta remove NAME | nta list"));
}

nlohmann::json ControlService::log_level(const std::vector<std::string> &args) {
  static constexpr const char *kNames[] = {"error", "warning", "info", "debug", "trace"};
  if (args.size() == 1) {
    const char *current = kNames[static_cast<int>(log_severity())];
    return control_ok(std::string("log level: ") + current, {{"level", current}});
  }
  if (args.size() != 2) return control_error("usage: log-level [error|warning|info|debug|trace]");
  for (int i = 0; i < 5; ++i)
    if (args[1] == kNames[i]) {
      set_log_severity(static_cast<LogSeverity>(i));
      RSV_LOG(info, "log level set to %s", kNames[i]);
      return control_ok(std::string("log level set to ") + kNames[i] + " (until the next reload or restart)",
                        {{"level", kNames[i]}});
    }
  return control_error("log-level: '" + args[1] + "' must be error, warning, info, debug or trace");
}

void ControlService::explain(const std::vector<std::string> &args, std::function<void(nlohmann::json)> reply) {
  std::optional<Name> name;
  uint16_t qtype = 0;
  bool checking_disabled = false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--cd") {
      checking_disabled = true;
    } else if (!name) {
      name = name_argument(args[i]);
      if (!name) return reply(control_error("explain: '" + args[i] + "' is not a domain name"));
    } else if (qtype == 0) {
      qtype = type_from_text(args[i]);
      if (qtype == 0) return reply(control_error("explain: '" + args[i] + "' is not a record type"));
    } else {
      return reply(control_error("usage: explain NAME [TYPE] [--cd]"));
    }
  }
  if (!name) return reply(control_error("usage: explain NAME [TYPE] [--cd]"));
  if (qtype == 0) qtype = rrtype::A;
  if (qtype == rrtype::ANY || qtype == rrtype::AXFR || qtype == rrtype::IXFR || qtype == rrtype::OPT)
    return reply(control_error("explain: " + type_to_text(qtype) + " is not resolved by a resolver"));
  explainer_.explain(daemon_.generation(), Question{*name, qtype, rrclass::IN}, checking_disabled,
                     [reply](ExplainReport report) {
                       if (!report.ok) return reply(control_error("explain: " + report.error));
                       report.data["daemon"] = std::string("resolverd ") + kResolverdVersion + ", " +
                                               utc_text(static_cast<int64_t>(::time(nullptr)));
                       reply(control_ok(render_explain_text(report.data), report.data));
                     });
}

}  // namespace rsv
