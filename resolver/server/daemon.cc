#include "resolver/server/daemon.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dnssec/trust_anchor.h"
#include "resolver/base/log.h"
#include "resolver/iter/root_hints.h"
#include "resolver/server/worker.h"

namespace rsv {

namespace {

constexpr const char *kDefaultConfigPath = "/etc/resolverd/resolver.yaml";

void print_usage(FILE *out) {
  std::fprintf(out,
               "usage: resolverd [-c FILE] [--check-config]\n"
               "  -c FILE          read the configuration from FILE (default %s,\n"
               "                   or built-in defaults when it does not exist)\n"
               "  --check-config   check the configuration, print the effective settings, exit\n"
               "  -h, --help       this text\n",
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

DelegationPoint hints_delegation(const RootHints &hints) {
  DelegationPoint dp;
  dp.zone = Name::root();
  for (const auto &server : hints.servers) {
    NameServer ns;
    ns.name = server.name;
    ns.addresses = server.addresses;
    ns.no_lookups_needed();
    dp.servers.push_back(std::move(ns));
  }
  return dp;
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

}  // namespace

int daemon_main(int argc, char **argv) {
  std::string config_path;
  bool explicit_config = false;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-c" && i + 1 < argc) {
      config_path = argv[++i];
      explicit_config = true;
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "-h" || arg == "--help") {
      print_usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "resolverd: unknown argument '%s'\n", arg.c_str());
      print_usage(stderr);
      return 2;
    }
  }
  if (!explicit_config) config_path = kDefaultConfigPath;

  Config config;
  RootHints hints;
  std::vector<TrustAnchor> anchors;
  try {
    if (explicit_config || access(config_path.c_str(), F_OK) == 0)
      config = load_config(config_path);
    else
      config = default_config();
    hints = effective_root_hints(config.resolver.root_hints, !uses_default_root_hints(config.resolver));
    // Trust anchors are loaded now so a broken file is reported at start-up.
    anchors = effective_trust_anchors(config.dnssec.trust_anchor_files, !uses_default_trust_anchors(config.dnssec));
    if (check_only) {
      std::fputs(dump_config(config).c_str(), stdout);
      std::printf("# root hints: %s (%zu servers)\n# trust anchors: %zu zone(s)\n", hints.source.c_str(),
                  hints.servers.size(), anchors.size());
      return 0;
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "resolverd: %s\n", e.what());
    return 1;
  }

  set_log_severity(severity_of(config.log_level));
  DelegationPoint root_hints = hints_delegation(hints);
  try {
    if (config.dnssec.validation && anchors.empty())
      RSV_LOG(warning, "validation is on but no trust anchor is configured: every answer will be insecure");
    SharedState shared(config, root_hints, std::move(anchors));
    std::vector<std::unique_ptr<Worker>> workers;
    for (uint32_t i = 0; i < config.threads; ++i) workers.push_back(std::make_unique<Worker>(shared, i));
    for (const auto &address : config.listen)
      RSV_LOG(info, "listening on %s (udp, tcp)", address.to_string().c_str());
    drop_privileges(config);

    auto stop_all = [&workers](int signal_number) {
      RSV_LOG(info, "signal %d: shutting down", signal_number);
      for (auto &worker : workers) worker->request_stop();
    };
    auto signals = workers[0]->watch_termination(stop_all);
    std::vector<std::thread> threads;
    for (size_t i = 1; i < workers.size(); ++i) threads.emplace_back([&workers, i] { workers[i]->run(); });
    RSV_LOG(info, "resolverd ready: %u thread(s), root hints from %s", config.threads, hints.source.c_str());
    workers[0]->run();
    for (auto &t : threads) t.join();
    signals.reset();
    workers.clear();
  } catch (const std::exception &e) {
    RSV_LOG(error, "%s", e.what());
    return 1;
  }
  RSV_LOG(info, "resolverd stopped");
  return 0;
}

}  // namespace rsv
