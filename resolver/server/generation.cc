#include "resolver/server/generation.h"

#include <unistd.h>

#include <ctime>

#include "cache/random.h"
#include "resolver/base/log.h"

namespace rsv {

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

std::string trust_anchors_text(const std::vector<TrustAnchor> &anchors) {
  std::string text;
  for (const auto &anchor : anchors) {
    text += anchor.zone.to_text() + "\n";
    for (const auto &rr : anchor.ds) text += rr.to_text() + "\n";
    for (const auto &rr : anchor.dnskey) text += rr.to_text() + "\n";
  }
  return text;
}

std::string validation_settings(const Generation &generation) {
  Config settings;  // the DNSSEC section alone, every other setting at its default
  settings.dnssec = generation.config.dnssec;
  DnssecConfig &d = settings.dnssec;
  const DnssecConfig defaults;
  d.negative_trust_anchors.clear();
  d.trust_anchor_files = defaults.trust_anchor_files;
  d.rfc5011 = defaults.rfc5011;
  d.trust_anchor_state = defaults.trust_anchor_state;
  d.rfc5011_hold_down = defaults.rfc5011_hold_down;
  d.rfc5011_min_refresh = defaults.rfc5011_min_refresh;
  d.trust_anchor_signaling = defaults.trust_anchor_signaling;
  return dump_config(settings) + "trust anchors in force:\n" + trust_anchors_text(generation.anchors);
}

namespace {

// The blocklists' fingerprints are keyed with a secret seed, so that nobody can
// craft names whose fingerprints collide with a listed one (or with each other, to
// slow the table down).
uint64_t random_seed() {
  SystemRandom random;
  return uint64_t{random.next_u32()} << 32 | random.next_u32();
}

std::shared_ptr<const Policy> build_policy(const PolicyConfig &config) {
  std::vector<std::string> warnings;
  auto policy = Policy::build(config, random_seed(), &warnings);
  for (const auto &warning : warnings) RSV_LOG(warning, "skipped: %s", warning.c_str());
  for (const auto &list : policy->lists())
    RSV_LOG(info, "blocklist %s: %zu names from %s (%zu lines, %zu skipped)", list.source.name.c_str(),
            list.names, list.source.file.c_str(), list.report.lines, list.report.malformed);
  return policy;
}

}  // namespace

Generation::Generation(Config config_in, RootHints hints_in, std::vector<TrustAnchor> anchors_in,
                       Caches &caches, uint64_t generation_number, std::shared_ptr<const Policy> policy_in)
    : config(std::move(config_in)),
      hints(std::move(hints_in)),
      root_hints(hints_delegation(hints)),
      anchors(std::move(anchors_in)),
      validator_env{caches.keys,
                    anchors,
                    config.dnssec,
                    caches.clock,
                    &caches.aggressive_nsec,
                    &caches.rrsets,
                    &caches.negative_anchors},
      policy(policy_in ? std::move(policy_in) : build_policy(config.policy)),
      number(generation_number),
      loaded_at(static_cast<int64_t>(::time(nullptr))) {}

std::shared_ptr<Generation> Generation::load(const ConfigSource &source, Caches &caches, uint64_t number) {
  Config config = source.explicit_path || access(source.path.c_str(), F_OK) == 0 ? load_config(source.path)
                                                                                   : default_config();
  RootHints hints =
      effective_root_hints(config.resolver.root_hints, !uses_default_root_hints(config.resolver));
  std::vector<TrustAnchor> anchors =
      effective_trust_anchors(config.dnssec.trust_anchor_files, !uses_default_trust_anchors(config.dnssec));
  return std::make_shared<Generation>(std::move(config), std::move(hints), std::move(anchors), caches, number);
}

std::shared_ptr<Generation> Generation::with_anchors(const Generation &base, std::vector<TrustAnchor> anchors,
                                                     Caches &caches, uint64_t number) {
  return std::make_shared<Generation>(base.config, base.hints, std::move(anchors), caches, number,
                                      base.policy);
}

std::vector<std::string> settings_needing_restart(const Config &running, const Config &loaded) {
  std::vector<std::string> keys;
  auto check = [&](bool same, const char *key) {
    if (!same) keys.emplace_back(key);
  };
  check(running.listen == loaded.listen, "listen");
  check(running.threads == loaded.threads, "threads");
  check(running.username == loaded.username, "username");
  check(running.chroot == loaded.chroot, "chroot");
  check(running.cache.size_bytes == loaded.cache.size_bytes, "cache.size");
  check(running.network.so_rcvbuf == loaded.network.so_rcvbuf, "network.so-rcvbuf");
  check(running.network.so_sndbuf == loaded.network.so_sndbuf, "network.so-sndbuf");
  check(running.network.tcp_idle_timeout_ms == loaded.network.tcp_idle_timeout_ms, "network.tcp-idle-timeout");
  check(running.network.max_tcp_connections == loaded.network.max_tcp_connections, "network.max-tcp-connections");
  check(running.network.max_tcp_queries_per_connection == loaded.network.max_tcp_queries_per_connection,
        "network.max-tcp-queries-per-connection");
  check(running.network.listen_tls == loaded.network.listen_tls, "network.listen-tls");
  check(running.network.listen_https == loaded.network.listen_https, "network.listen-https");
  check(running.tls == loaded.tls, "tls");  // the certificate is read once, at start-up
  check(running.control == loaded.control, "control");
  // The maintenance of trust anchors is set up once, at start.
  check(running.dnssec.rfc5011 == loaded.dnssec.rfc5011, "dnssec.rfc5011");
  check(running.dnssec.trust_anchor_state == loaded.dnssec.trust_anchor_state, "dnssec.trust-anchor-state");
  check(running.dnssec.rfc5011_hold_down == loaded.dnssec.rfc5011_hold_down, "dnssec.rfc5011-hold-down");
  check(running.dnssec.rfc5011_min_refresh == loaded.dnssec.rfc5011_min_refresh,
        "dnssec.rfc5011-min-refresh");
  check(running.dnssec.trust_anchor_signaling == loaded.dnssec.trust_anchor_signaling,
        "dnssec.trust-anchor-signaling");
  // http.recent-queries is applied by a reload (Worker::adopt); the rest needs a restart.
  check(running.http.listen == loaded.http.listen, "http.listen");
  check(running.http.access_control == loaded.http.access_control, "http.access-control");
  return keys;
}

}  // namespace rsv
