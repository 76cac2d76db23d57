#include "resolver/server/daemon.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>

#include "resolver/base/log.h"
#include "resolver/net/control_listener.h"
#include "resolver/server/control.h"
#include "resolver/server/http_server.h"
#include "resolver/server/state_files.h"
#include "resolver/server/trust_anchor_maintainer.h"

namespace rsv {

#ifndef RESOLVERD_VERSION
#define RESOLVERD_VERSION "unknown"
#endif
const char *const kResolverdVersion = RESOLVERD_VERSION;

namespace {

constexpr const char *kDefaultConfigPath = "/etc/resolverd/resolver.yaml";

void print_usage(FILE *out) {
  std::fprintf(out,
               "usage: resolverd [-c FILE] [--check-config]\n"
               "  -c FILE          read the configuration from FILE (default %s,\n"
               "                   or built-in defaults when it does not exist)\n"
               "  --check-config   check the configuration, print the effective settings, exit\n"
               "  -h, --help       this text\n"
               "  --version        print the version\n"
               "Send SIGHUP (or run `resolverctl reload`) to re-read the configuration.\n",
               kDefaultConfigPath);
}

LogSeverity severity_of(LogLevel level) {
  switch (level) {
    case LogLevel::error: return LogSeverity::error;
    case LogLevel::warning: return LogSeverity::warning;
    case LogLevel::info: return LogSeverity::info;
    case LogLevel::debug: return LogSeverity::debug;
    case LogLevel::trace: return LogSeverity::trace;
  }
  return LogSeverity::info;
}

// Applies the optional chroot and user change, after every socket is bound.
void drop_privileges(const Config &config) {
  if (config.username.empty() && config.chroot.empty()) return;
  const passwd *user = nullptr;
  if (!config.username.empty()) {
    user = getpwnam(config.username.c_str());
    if (!user) throw std::runtime_error("unknown user '" + config.username + "'");
  }
  if (!config.chroot.empty()) {
    if (chroot(config.chroot.c_str()) != 0 || chdir("/") != 0)
      throw std::runtime_error("chroot to " + config.chroot + " failed: " + std::strerror(errno));
  }
  if (user) {
    if (setgroups(0, nullptr) != 0 || setgid(user->pw_gid) != 0 || setuid(user->pw_uid) != 0)
      throw std::runtime_error("cannot change to user " + config.username + ": " + std::strerror(errno));
  }
}

// The group that may use the control socket: the daemon user's, when it has one.
std::optional<gid_t> control_group(const Config &config) {
  if (config.username.empty()) return std::nullopt;
  const passwd *user = getpwnam(config.username.c_str());
  if (!user) return std::nullopt;
  return user->pw_gid;
}

// The statuses in the caches still hold (generation.h: what they were judged under).
// Negative trust anchors and forwarding are compared apart: they flush only their names.
bool same_validation(const Generation &a, const Generation &b) {
  return validation_settings(a) == validation_settings(b);
}

// Names in one list and not the other.
std::vector<Name> changed_names(const std::vector<Name> &a, const std::vector<Name> &b) {
  std::set<std::string> x, y;
  std::vector<Name> out;
  for (const auto &n : a) x.insert(n.lowered().to_text());
  for (const auto &n : b) y.insert(n.lowered().to_text());
  for (const auto &n : a)
    if (!y.contains(n.lowered().to_text())) out.push_back(n);
  for (const auto &n : b)
    if (!x.contains(n.lowered().to_text())) out.push_back(n);
  return out;
}

std::vector<Name> changed_forward_zones(const std::vector<ForwardZone> &a, const std::vector<ForwardZone> &b) {
  std::vector<Name> out;
  auto find = [](const std::vector<ForwardZone> &list, const Name &name) -> const ForwardZone * {
    for (const auto &z : list)
      if (z.name == name) return &z;
    return nullptr;
  };
  for (const auto &z : a)
    if (const ForwardZone *other = find(b, z.name); !other || !(*other == z)) out.push_back(z.name);
  for (const auto &z : b)
    if (!find(a, z.name)) out.push_back(z.name);
  return out;
}

}  // namespace

Daemon::Daemon(ConfigSource source, std::shared_ptr<Generation> first, std::unique_ptr<Caches> caches)
    : source_(std::move(source)),
      caches_(std::move(caches)),
      generation_(std::move(first)),
      started_at_(static_cast<int64_t>(::time(nullptr))) {
  if (generation_->config.dnssec.validation &&
      (generation_->config.dnssec.rfc5011 || generation_->config.dnssec.trust_anchor_signaling)) {
    maintainer_ = std::make_unique<TrustAnchorMaintainer>(
        loop_, *caches_, generation_->config.dnssec, daemon_file_owners(generation_->config.username),
        [this] { return generation(); },
        [this](std::vector<TrustAnchor> anchors, const std::string &why) {
          adopt_trust_anchors(std::move(anchors), why);
        });
    // RFC 5011: what the state file learned takes precedence over the configuration.
    std::vector<TrustAnchor> anchors = maintainer_->anchors_for(generation_->anchors);
    if (trust_anchors_text(anchors) != trust_anchors_text(generation_->anchors))
      generation_ = Generation::with_anchors(*generation_, std::move(anchors), *caches_, generation_->number);
  }
  const Config &config = generation_->config;
  caches_->negative_anchors.set_configured(config.dnssec.negative_trust_anchors);
  // Before any worker exists, and while the daemon may still create its directory.
  snapshots_ = std::make_unique<CacheSnapshots>(*caches_, loop_);
  snapshots_->load_at_start(*generation_);
  for (uint32_t i = 0; i < config.threads; ++i)
    workers_.push_back(std::make_unique<Worker>(*caches_, generation_, i));
  for (const auto &address : config.listen)
    RSV_LOG(info, "listening on %s (udp, tcp)", address.to_string().c_str());
  control_ = std::make_unique<ControlService>(*this);
  if (!config.control.socket.empty()) {
    control_listener_ = std::make_unique<ControlListener>(
        loop_, config.control.socket,
        [this](const std::string &request, ControlListener::Respond respond) {
          control_->handle(request, std::move(respond));
        },
        control_group(config));
    RSV_LOG(info, "control channel on %s", config.control.socket.c_str());
  }
  start_http(config);
}

void Daemon::start_http(const Config &config) {
  if (config.http.listen.empty()) return;
  HttpServer::Backend backend;
  backend.metrics = [this] { return to_prometheus(collect_metrics(metrics_sources())); };
  backend.stats = [this] { return to_json(collect_metrics(metrics_sources())); };
  backend.series = [this] {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return series_.to_json(static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000, traffic_totals());
  };
  auto logs = [this] {
    std::vector<const QueryLog *> out;
    for (const auto &w : workers_) out.push_back(&w->query_log());
    return out;
  };
  backend.top = [logs](size_t n) { return top_json(logs(), n); };
  backend.recent = [logs](size_t limit) { return recent_json(logs(), limit); };
  backend.command = [this](std::vector<std::string> args, std::function<void(nlohmann::json)> done) {
    run_command(std::move(args), std::move(done));
  };
  // An explain ends within the time budget; a little more for the walk's last replies.
  backend.explain_timeout_ms = [this] { return generation()->config.resolver.budgets.max_time_ms + 5000; };
  // Bound now, with the other sockets, before privileges are dropped.
  http_ = std::make_unique<HttpServer>(config.http, std::move(backend));
}

Daemon::~Daemon() {
  stop();
  http_.reset();
  for (auto &t : threads_)
    if (t.joinable()) t.join();
  series_timer_.reset();
  control_listener_.reset();
  control_.reset();
  snapshots_.reset();
  workers_.clear();
}

std::string Daemon::serving_status() const {
  std::shared_ptr<Generation> running = generation();
  std::string listening;
  for (const auto &address : running->config.listen)
    listening += (listening.empty() ? "" : ", ") + address.to_string();
  std::string text = "serving on " + (listening.empty() ? std::string("nothing") : listening) + "; " +
                     std::to_string(running->config.threads) + " thread(s); configuration " +
                     std::to_string(running->number);
  if (!running->config.dnssec.validation)
    text += "; DNSSEC validation off";
  else
    text += "; " + std::to_string(running->anchors.size()) + " trust anchor zone(s)" +
            (maintainer_ && maintainer_->rfc5011() ? " (RFC 5011)" : "");
  return text;
}

int Daemon::run() {
  const Config &config = generation_->config;
  // State files are written after the privileges are dropped: their directory is
  // handed to the daemon's user first.
  if (maintainer_ && maintainer_->rfc5011()) {
    std::optional<FileOwner> owner;
    if (!config.username.empty()) {
      const passwd *user = getpwnam(config.username.c_str());
      if (!user) throw std::runtime_error("unknown user '" + config.username + "'");
      owner = FileOwner{user->pw_uid, user->pw_gid};
    }
    prepare_state_directory(maintainer_->state_path(), owner);
  }
  drop_privileges(config);
  if (maintainer_ && !config.chroot.empty()) maintainer_->entered_chroot(config.chroot);
  auto terminate = SignalWatcher::on_termination(loop_, [this](int signal_number) {
    RSV_LOG(info, "signal %d: shutting down", signal_number);
    stop();
  });
  SignalWatcher hangup(loop_, {SIGHUP}, [this](int) {
    RSV_LOG(info, "SIGHUP: reloading the configuration");
    reload();
  });
  for (auto &worker : workers_) threads_.emplace_back([w = worker.get()] { w->run(); });
  series_timer_ = std::make_unique<Timer>(loop_);
  sample_traffic();
  lapse_timer_ = std::make_unique<Timer>(loop_);
  negative_anchors_changed();
  if (http_) http_->start();
  snapshots_->start(generation());
  RSV_LOG(info, "resolverd %s ready: %u thread(s), root hints from %s", kResolverdVersion, config.threads,
          generation_->hints.source.c_str());
  if (maintainer_) maintainer_->start();
  notifier_.ready(serving_status());
  loop_.run();
  notifier_.stopping("shutting down");
  maintainer_.reset();  // its own resolutions end before the workers do
  // The HTTP server stops first (it reads the workers and posts commands), then the
  // control channel closes (no new commands), then the workers finish.
  if (http_) http_->stop();
  series_timer_.reset();
  lapse_timer_.reset();
  control_listener_.reset();
  control_.reset();
  for (auto &worker : workers_) worker->request_stop();
  for (auto &t : threads_) t.join();
  threads_.clear();
  // Everything the workers learnt is in the caches now; what an anchor that lapsed
  // since the last look judged goes before it could be written. (The workers have
  // stopped: their bogus lists go with them, and no lapse timer is set again.)
  end_lapsed_negative_anchors();
  snapshots_->write_final();
  return 0;
}

void Daemon::stop() {
  loop_.stop();
  for (auto &worker : workers_) worker->request_stop();
}

void Daemon::run_command(std::vector<std::string> args, std::function<void(nlohmann::json)> done) {
  loop_.post([this, args = std::move(args), done = std::move(done)] {
    if (!control_) return done(control_error("the daemon is stopping"));
    control_->run(args, done);
  });
}

TrafficSeries::Totals Daemon::traffic_totals() const {
  TrafficSeries::Totals totals;
  for (const auto &w : workers_) {
    for (const Counter &c : w->counters().queries.by_transport) totals.answers += c.get();
    totals.cache_hits += w->counters().server.cache_hits.get();
  }
  return totals;
}

std::vector<SocketAddress> Daemon::http_addresses() const {
  return http_ ? http_->addresses() : std::vector<SocketAddress>{};
}

void Daemon::sample_traffic() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  series_.sample(static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000, traffic_totals());
  series_timer_->start(TrafficSeries::kIntervalSeconds * 1000ull, [this] { sample_traffic(); });
}

std::shared_ptr<Generation> Daemon::generation() const {
  std::lock_guard lock(generation_mutex_);
  return generation_;
}

std::vector<const Worker *> Daemon::workers() const {
  std::vector<const Worker *> out;
  for (const auto &w : workers_) out.push_back(w.get());
  return out;
}

MetricsSources Daemon::metrics_sources() const {
  MetricsSources sources;
  sources.workers = workers();
  sources.caches = caches_.get();
  sources.started_at = started_at_;
  const std::shared_ptr<Generation> running = generation();
  sources.generation = running->number;
  sources.policy = running->policy;
  sources.negative_trust_anchors = caches_->negative_anchors.list(caches_->clock.now_seconds()).size();
  sources.version = kResolverdVersion;
  return sources;
}

ReloadResult Daemon::reload() {
  ReloadResult result;
  std::shared_ptr<Generation> running = generation();
  std::shared_ptr<Generation> next;
  notifier_.reloading("reloading the configuration");
  try {
    next = Generation::load(source_, *caches_, next_generation_);
    if (maintainer_) {
      // Zones anchored anew are tracked from their configuration; the others keep what
      // RFC 5011 learned.
      std::vector<TrustAnchor> anchors = maintainer_->anchors_for(next->anchors);
      if (trust_anchors_text(anchors) != trust_anchors_text(next->anchors))
        next = Generation::with_anchors(*next, std::move(anchors), *caches_, next->number);
    }
  } catch (const std::exception &e) {
    result.error = e.what();
    result.generation = running->number;
    RSV_LOG(error, "reload refused, the running configuration stays: %s", e.what());
    notifier_.ready("reload refused (" + std::string(e.what()) + "); " + serving_status());
    return result;
  }
  ++next_generation_;
  result.ok = true;
  result.generation = next->number;
  result.restart_needed = settings_needing_restart(running->config, next->config);
  for (const auto &key : result.restart_needed)
    RSV_LOG(warning, "reload: '%s' changed; it takes effect at the next restart", key.c_str());

  // What the cache holds was judged under the old settings: what they change goes.
  if (!same_validation(*running, *next)) {
    caches_->flush(Name::root(), true);
    result.flushed.push_back("everything: the DNSSEC settings or trust anchors changed");
  } else {
    for (const Name &name : changed_names(running->config.dnssec.negative_trust_anchors,
                                          next->config.dnssec.negative_trust_anchors)) {
      caches_->flush(name, true);
      result.flushed.push_back(name.to_text() + ": a negative trust anchor was added or removed");
    }
  }
  for (const Name &name : changed_forward_zones(running->config.forward_zones, next->config.forward_zones)) {
    caches_->flush(name, true);
    result.flushed.push_back(name.to_text() + ": its forwarding changed");
  }
  if (running->policy->lists_digest() != next->policy->lists_digest()) {
    // Cached answers had their CNAME chains checked against the old lists (the names
    // themselves are checked before the cache): the answer cache goes, the RRsets stay.
    caches_->messages.flush(Name::root(), true);
    result.flushed.push_back("cached answers: the blocklists or the allowlist changed");
  }
  caches_->apply(next->config.cache);
  caches_->negative_anchors.set_configured(next->config.dnssec.negative_trust_anchors);
  set_log_severity(severity_of(next->config.log_level));
  install(next);
  RSV_LOG(info, "configuration %llu loaded from %s", static_cast<unsigned long long>(next->number),
          next->config.source_file.empty() ? "built-in defaults" : next->config.source_file.c_str());
  notifier_.ready("configuration " + std::to_string(next->number) + " loaded; " + serving_status());
  return result;
}

void Daemon::install(std::shared_ptr<Generation> next) {
  {
    std::lock_guard lock(generation_mutex_);
    generation_ = next;
  }
  // Before any worker judges anything under it: a snapshot being written under the
  // old one learns of it first (cache_snapshots.h).
  snapshots_->apply(next);
  for (auto &worker : workers_) worker->adopt(next);
}

void Daemon::adopt_trust_anchors(std::vector<TrustAnchor> anchors, const std::string &why) {
  std::shared_ptr<Generation> running = generation();
  // Keys validated with an anchor that is gone must be checked again; data validated
  // before stays (it was validated when it was trusted).
  for (const TrustAnchor &anchor : running->anchors) caches_->keys.flush(anchor.zone, false);
  for (const TrustAnchor &anchor : anchors) caches_->keys.flush(anchor.zone, false);
  std::shared_ptr<Generation> next =
      Generation::with_anchors(*running, std::move(anchors), *caches_, next_generation_++);
  install(next);
  RSV_LOG(info, "trust anchors changed (%s): configuration %llu", why.c_str(),
          static_cast<unsigned long long>(next->number));
  notifier_.status("trust anchors changed; " + serving_status());
}

void Daemon::end_lapsed_negative_anchors() {
  // RFC 7646 2: a negative trust anchor is temporary; once it lapses, the answers
  // judged insecure under it must not outlive it, exactly as with `nta remove`.
  for (const Name &name : caches_->negative_anchors.take_lapsed(caches_->clock.now_seconds())) {
    flush(name, true, false, [](FlushCounts) {});  // the shared caches at once, the workers' bogus lists soon
    RSV_LOG(info, "negative trust anchor for %s lapsed; %s is validated again (its cached data was flushed)",
            name.to_text().c_str(), name.to_text().c_str());
  }
  negative_anchors_changed();
}

void Daemon::negative_anchors_changed() {
  if (!lapse_timer_) return;
  lapse_timer_->stop();
  const std::optional<int64_t> next = caches_->negative_anchors.next_lapse();
  if (!next) return;
  // Whole seconds of the wall clock: at worst a second late, never early (a timer
  // that fires before the anchor lapses finds nothing to take and waits again).
  const int64_t now = caches_->clock.now_seconds();
  const uint64_t delay_ms = *next > now ? static_cast<uint64_t>(*next - now) * 1000 : 0;
  lapse_timer_->start(delay_ms, [this] { end_lapsed_negative_anchors(); });
}

void Daemon::flush(const Name &name, bool subtree, bool all, std::function<void(FlushCounts)> done) {
  struct Gathering {
    FlushCounts counts;
    size_t pending = 0;
    std::function<void(FlushCounts)> done;
  };
  auto gathering = std::make_shared<Gathering>();
  gathering->counts = all ? caches_->flush_all() : caches_->flush(name, subtree);
  gathering->done = std::move(done);
  gathering->pending = workers_.size();
  if (workers_.empty()) {
    gathering->done(gathering->counts);
    return;
  }
  for (auto &worker : workers_)
    worker->forget_bogus(all ? Name::root() : name, all || subtree, [this, gathering](size_t forgotten) {
      loop_.post([gathering, forgotten] {
        gathering->counts.bogus += forgotten;
        if (--gathering->pending == 0) gathering->done(gathering->counts);
      });
    });
}

int daemon_main(int argc, char **argv) {
  ConfigSource source{kDefaultConfigPath, false};
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-c" && i + 1 < argc) {
      source.path = argv[++i];
      source.explicit_path = true;
      // Reloads read it again, perhaps after a chroot or chdir: keep it absolute.
      if (!source.path.empty() && source.path[0] != '/') {
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd)) source.path = std::string(cwd) + "/" + source.path;
      }
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "-h" || arg == "--help") {
      print_usage(stdout);
      return 0;
    } else if (arg == "--version") {
      std::printf("resolverd %s\n", kResolverdVersion);
      return 0;
    } else {
      std::fprintf(stderr, "resolverd: unknown argument '%s'\n", arg.c_str());
      print_usage(stderr);
      return 2;
    }
  }

  std::unique_ptr<Caches> caches;
  std::shared_ptr<Generation> first;
  try {
    // Read once for the cache size, then for real with caches to refer to.
    Config config = source.explicit_path || access(source.path.c_str(), F_OK) == 0 ? load_config(source.path)
                                                                                     : default_config();
    caches = std::make_unique<Caches>(config.cache);
    first = Generation::load(source, *caches, 1);
    if (check_only) {
      std::fputs(dump_config(first->config).c_str(), stdout);
      std::printf("# root hints: %s (%zu servers)\n# trust anchors: %zu zone(s)\n", first->hints.source.c_str(),
                  first->hints.servers.size(), first->anchors.size());
      const Policy &policy = *first->policy;
      std::printf("# local zones: %zu\n", policy.local_zones().zone_names().size());
      for (const LoadedList &list : policy.lists())
        std::printf("# blocklist %s: %zu names from %s (%zu lines, %zu skipped)\n", list.source.name.c_str(),
                    list.names, list.source.file.c_str(), list.report.lines, list.report.malformed);
      if (!policy.lists().empty())
        std::printf("# blocklists: %zu names, %zu allowed, %llu bytes\n", policy.blocked_names(),
                    policy.allowed_names(), static_cast<unsigned long long>(policy.memory_bytes()));
      return 0;
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "resolverd: %s\n", e.what());
    return 1;
  }

  set_log_severity(severity_of(first->config.log_level));
  try {
    if (first->config.dnssec.validation && first->anchors.empty())
      RSV_LOG(warning, "validation is on but no trust anchor is configured: every answer will be insecure");
    Daemon daemon(source, first, std::move(caches));
    first.reset();
    daemon.run();
  } catch (const std::exception &e) {
    RSV_LOG(error, "%s", e.what());
    return 1;
  }
  RSV_LOG(info, "resolverd stopped");
  return 0;
}

}  // namespace rsv
