#include "resolver/server/daemon.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>

#include "resolver/base/log.h"
#include "resolver/net/control_listener.h"
#include "resolver/server/control.h"

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

std::string anchors_text(const std::vector<TrustAnchor> &anchors) {
  std::string text;
  for (const auto &anchor : anchors) {
    text += anchor.zone.to_text() + "\n";
    for (const auto &rr : anchor.ds) text += rr.to_text() + "\n";
    for (const auto &rr : anchor.dnskey) text += rr.to_text() + "\n";
  }
  return text;
}

// The DNSSEC settings apart from negative trust anchors (those flush only their names).
bool same_validation(const Generation &a, const Generation &b) {
  DnssecConfig x = a.config.dnssec, y = b.config.dnssec;
  x.negative_trust_anchors.clear();
  y.negative_trust_anchors.clear();
  return x == y && anchors_text(a.anchors) == anchors_text(b.anchors);
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
}

Daemon::~Daemon() {
  stop();
  for (auto &t : threads_)
    if (t.joinable()) t.join();
  control_listener_.reset();
  control_.reset();
  snapshots_.reset();
  workers_.clear();
}

int Daemon::run() {
  const Config &config = generation_->config;
  drop_privileges(config);
  auto terminate = SignalWatcher::on_termination(loop_, [this](int signal_number) {
    RSV_LOG(info, "signal %d: shutting down", signal_number);
    stop();
  });
  SignalWatcher hangup(loop_, {SIGHUP}, [this](int) {
    RSV_LOG(info, "SIGHUP: reloading the configuration");
    reload();
  });
  for (auto &worker : workers_) threads_.emplace_back([w = worker.get()] { w->run(); });
  snapshots_->start(generation());
  RSV_LOG(info, "resolverd %s ready: %u thread(s), root hints from %s", kResolverdVersion, config.threads,
          generation_->hints.source.c_str());
  loop_.run();
  // The control channel closes first (no new commands), then the workers finish.
  control_listener_.reset();
  control_.reset();
  for (auto &worker : workers_) worker->request_stop();
  for (auto &t : threads_) t.join();
  threads_.clear();
  // Everything the workers learnt is in the caches now.
  snapshots_->write_final();
  return 0;
}

void Daemon::stop() {
  loop_.stop();
  for (auto &worker : workers_) worker->request_stop();
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
  sources.generation = generation()->number;
  sources.negative_trust_anchors = caches_->negative_anchors.list(caches_->clock.now_seconds()).size();
  sources.version = kResolverdVersion;
  return sources;
}

ReloadResult Daemon::reload() {
  ReloadResult result;
  std::shared_ptr<Generation> running = generation();
  std::shared_ptr<Generation> next;
  try {
    next = Generation::load(source_, *caches_, next_generation_);
  } catch (const std::exception &e) {
    result.error = e.what();
    result.generation = running->number;
    RSV_LOG(error, "reload refused, the running configuration stays: %s", e.what());
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
  caches_->apply(next->config.cache);
  caches_->negative_anchors.set_configured(next->config.dnssec.negative_trust_anchors);
  set_log_severity(severity_of(next->config.log_level));
  {
    std::lock_guard lock(generation_mutex_);
    generation_ = next;
  }
  for (auto &worker : workers_) worker->adopt(next);
  snapshots_->apply(next);
  RSV_LOG(info, "configuration %llu loaded from %s", static_cast<unsigned long long>(next->number),
          next->config.source_file.empty() ? "built-in defaults" : next->config.source_file.c_str());
  return result;
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
