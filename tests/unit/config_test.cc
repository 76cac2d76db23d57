#include "resolver/config/config.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace rsv {
namespace {

Config parse(const std::string &text) {
  return parse_config_text(text, "t.yaml");
}

// The ConfigError message for `text`, or "" if it parses.
std::string error_of(const std::string &text) {
  try {
    parse(text);
  } catch (const ConfigError &e) {
    return e.what();
  }
  return "";
}

SocketAddress address(const char *text) {
  return *SocketAddress::parse(text);
}
Name name(const char *text) {
  return *Name::from_text(text);
}

std::vector<std::string> acl_texts(const Config &c) {
  std::vector<std::string> out;
  for (const AclRule &rule : c.access_control)
    out.push_back(rule.prefix.to_string() + " " + to_string(rule.action));
  return out;
}

const char *const kEveryKey = R"(listen: [192.0.2.53@5353, "2001:db8::53@53", 198.51.100.1]
access-control: [10.0.0.0/8 allow, 10.1.0.0/16 refuse, "2001:db8::/32 deny", 192.0.2.0/24 allow-snoop]
threads: 4
log-level: debug
username: resolverd
chroot: /var/lib/resolverd
network:
  do-ip4: true
  do-ip6: false
  outgoing-interface: [192.0.2.7, "2001:db8::7"]
  edns-buffer-size: 1400
  do-not-query-localhost: false
  tcp-idle-timeout: 5000
  max-tcp-connections: 100
  max-tcp-queries-per-connection: 16
  upstream-timeout: 400
  use-caps-for-id: yes
  so-rcvbuf: 4m
  so-sndbuf: 256k
  udp-coalesce-usecs: 40
resolver:
  root-hints: /etc/resolverd/root.hints
  qname-minimisation: false
  harden-glue: false
  prime-root: false
  budgets: {max-upstream-queries: 100, max-queries-per-name: 10, max-cname-chain: 8, max-subquery-depth: 3, max-glueless-per-delegation: 0, max-ns-per-delegation: 7, max-time: 3000}
forward-zones:
  - {name: example.org, servers: [192.0.2.1@53, "2001:db8::1@5300"]}
  - name: .
    servers: [192.0.2.2]
cache: {size: 16M, min-ttl: 5, max-ttl: 3600, max-negative-ttl: 600, serve-stale: false, max-stale: 7200,
        stale-client-timeout: 0, stale-refresh-time: 5, prefetch: off, snapshot: /var/cache/r/cache.db,
        snapshot-interval: 60}
dnssec:
  validation: false
  trust-anchor-files: [/etc/a.ds, /etc/b.key]
  negative-trust-anchors: [broken.example, test.]
  bogus-ttl: 30
  rfc5011: true
  trust-anchor-state: /var/lib/resolverd/anchors.json
  rfc5011-hold-down: 90s
  rfc5011-min-refresh: 2
  trust-anchor-signaling: false
http:
  listen: [192.0.2.53, "[2001:db8::53]:9000"]
  recent-queries: 0
  access-control: [192.0.2.0/24, "2001:db8::/32"]
)";

TEST(Config, EmptyTextGivesTheDefaults) {
  Config c = parse("");
  Config defaults = default_config();
  defaults.source_file = "t.yaml";
  EXPECT_EQ(c, defaults);
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.listen[0].to_string(), "127.0.0.1@53");
  EXPECT_EQ(c.listen[1].to_string(), "::1@53");
  EXPECT_EQ(acl_texts(c), (std::vector<std::string>{"127.0.0.0/8 allow-snoop", "::1/128 allow-snoop"}));
  EXPECT_EQ(c.threads, 1u);
  EXPECT_EQ(c.log_level, LogLevel::info);
  EXPECT_EQ(c.network.edns_buffer_size, 1232);
  EXPECT_EQ(c.resolver.root_hints, kDefaultRootHintsPath);
  EXPECT_EQ(c.dnssec.trust_anchor_files, std::vector<std::string>{kDefaultTrustAnchorFile});
  EXPECT_TRUE(c.dnssec.validation);
  EXPECT_EQ(c.cache.size_bytes, 64ull << 20);
  // RFC 8767 5's suggested timers; prefetch on; no snapshot without a configuration.
  EXPECT_TRUE(c.cache.serve_stale);
  EXPECT_EQ(c.cache.max_stale, 86400u);
  EXPECT_EQ(c.cache.stale_client_timeout_ms, 1800u);
  EXPECT_EQ(c.cache.stale_refresh_time, 30u);
  EXPECT_TRUE(c.cache.prefetch);
  EXPECT_EQ(c.cache.snapshot, "");
  EXPECT_EQ(c.cache.snapshot_interval, 600u);
  EXPECT_TRUE(uses_default_root_hints(c.resolver));
  EXPECT_TRUE(uses_default_trust_anchors(c.dnssec));
  // A comment-only file and empty sections mean the same as an empty file.
  EXPECT_EQ(parse("# nothing\nnetwork:\n  # do-ip4: false\ncache: {}\n"), c);
}

TEST(Config, ReadsEveryKey) {
  Config c = parse(kEveryKey);
  ASSERT_EQ(c.listen.size(), 3u);
  EXPECT_EQ(c.listen[0], address("192.0.2.53@5353"));
  EXPECT_EQ(c.listen[1], address("2001:db8::53@53"));
  EXPECT_EQ(c.listen[2], address("198.51.100.1@53"));  // port 53 when none is given
  EXPECT_EQ(acl_texts(c), (std::vector<std::string>{"10.0.0.0/8 allow", "10.1.0.0/16 refuse",
                                                    "2001:db8::/32 deny", "192.0.2.0/24 allow-snoop"}));
  EXPECT_EQ(c.access_control[3].action, AclAction::allow_snoop);
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.log_level, LogLevel::debug);
  EXPECT_EQ(c.username, "resolverd");
  EXPECT_EQ(c.chroot, "/var/lib/resolverd");

  EXPECT_TRUE(c.network.do_ip4);
  EXPECT_FALSE(c.network.do_ip6);
  ASSERT_EQ(c.network.outgoing_interface.size(), 2u);
  EXPECT_EQ(c.network.outgoing_interface[0], *SocketAddress::parse("192.0.2.7", 0));
  EXPECT_EQ(c.network.outgoing_interface[1], *SocketAddress::parse("2001:db8::7", 0));
  EXPECT_EQ(c.network.edns_buffer_size, 1400);
  EXPECT_FALSE(c.network.do_not_query_localhost);
  EXPECT_EQ(c.network.tcp_idle_timeout_ms, 5000u);
  EXPECT_EQ(c.network.max_tcp_connections, 100u);
  EXPECT_EQ(c.network.max_tcp_queries_per_connection, 16u);
  EXPECT_EQ(c.network.upstream_timeout_ms, 400u);
  EXPECT_TRUE(c.network.use_caps_for_id);
  EXPECT_EQ(c.network.so_rcvbuf, 4ull << 20);
  EXPECT_EQ(c.network.so_sndbuf, 256ull << 10);
  EXPECT_EQ(c.network.udp_coalesce_usecs, 40u);

  EXPECT_EQ(c.resolver.root_hints, "/etc/resolverd/root.hints");
  EXPECT_FALSE(uses_default_root_hints(c.resolver));
  EXPECT_FALSE(c.resolver.qname_minimisation);
  EXPECT_FALSE(c.resolver.harden_glue);
  EXPECT_FALSE(c.resolver.prime_root);
  const BudgetConfig &b = c.resolver.budgets;
  EXPECT_EQ(b.max_upstream_queries, 100u);
  EXPECT_EQ(b.max_queries_per_name, 10u);
  EXPECT_EQ(b.max_cname_chain, 8u);
  EXPECT_EQ(b.max_subquery_depth, 3u);
  EXPECT_EQ(b.max_glueless_per_delegation, 0u);
  EXPECT_EQ(b.max_ns_per_delegation, 7u);
  EXPECT_EQ(b.max_time_ms, 3000u);

  ASSERT_EQ(c.forward_zones.size(), 2u);
  EXPECT_EQ(c.forward_zones[0].name, name("example.org."));
  EXPECT_EQ(c.forward_zones[0].servers,
            (std::vector<SocketAddress>{address("192.0.2.1@53"), address("2001:db8::1@5300")}));
  EXPECT_TRUE(c.forward_zones[1].name.is_root());
  EXPECT_EQ(c.forward_zones[1].servers, std::vector<SocketAddress>{address("192.0.2.2@53")});

  EXPECT_EQ(c.cache.size_bytes, 16ull << 20);
  EXPECT_EQ(c.cache.min_ttl, 5u);
  EXPECT_EQ(c.cache.max_ttl, 3600u);
  EXPECT_EQ(c.cache.max_negative_ttl, 600u);
  EXPECT_FALSE(c.cache.serve_stale);
  EXPECT_EQ(c.cache.max_stale, 7200u);
  EXPECT_EQ(c.cache.stale_client_timeout_ms, 0u);
  EXPECT_EQ(c.cache.stale_refresh_time, 5u);
  EXPECT_FALSE(c.cache.prefetch);
  EXPECT_EQ(c.cache.snapshot, "/var/cache/r/cache.db");
  EXPECT_EQ(c.cache.snapshot_interval, 60u);

  EXPECT_FALSE(c.dnssec.validation);
  EXPECT_EQ(c.dnssec.trust_anchor_files, (std::vector<std::string>{"/etc/a.ds", "/etc/b.key"}));
  EXPECT_FALSE(uses_default_trust_anchors(c.dnssec));
  EXPECT_EQ(c.dnssec.negative_trust_anchors, (std::vector<Name>{name("broken.example"), name("test")}));
  EXPECT_EQ(c.dnssec.bogus_ttl, 30u);
}

TEST(Config, HttpSettings) {
  Config defaults = parse("");
  ASSERT_EQ(defaults.http.listen.size(), 1u);
  EXPECT_EQ(defaults.http.listen[0].to_string(), "127.0.0.1@8053");
  EXPECT_EQ(defaults.http.recent_queries, 1000u);
  ASSERT_EQ(defaults.http.access_control.size(), 2u);
  EXPECT_EQ(defaults.http.access_control[0].to_string(), "127.0.0.0/8");
  EXPECT_EQ(defaults.http.access_control[1].to_string(), "::1/128");

  Config c = parse(kEveryKey);
  ASSERT_EQ(c.http.listen.size(), 2u);
  EXPECT_EQ(c.http.listen[0].to_string(), "192.0.2.53@8053") << "the HTTP port is the default";
  EXPECT_EQ(c.http.listen[1].to_string(), "2001:db8::53@9000");
  EXPECT_EQ(c.http.recent_queries, 0u);
  ASSERT_EQ(c.http.access_control.size(), 2u);
  EXPECT_EQ(c.http.access_control[1].to_string(), "2001:db8::/32");

  Config off = parse("http: {listen: [], access-control: []}\n");
  EXPECT_TRUE(off.http.listen.empty());
  EXPECT_TRUE(off.http.access_control.empty());
  Config only_listen = parse("http: {listen: [127.0.0.2@8080]}\n");
  EXPECT_EQ(only_listen.http.access_control, defaults.http.access_control) << "loopback unless configured";

  EXPECT_EQ(error_of("http: {access-control: [127.0.0.0/33]}\n"),
            "t.yaml:1: key 'http.access-control': '127.0.0.0/33' is not a network prefix (expected e.g. "
            "127.0.0.0/8 or ::1/128)");
  EXPECT_EQ(error_of("http: {access-control: [127.0.0.0/8 allow]}\n"),
            "t.yaml:1: key 'http.access-control': '127.0.0.0/8 allow' is not a network prefix (expected e.g. "
            "127.0.0.0/8 or ::1/128)");
  EXPECT_NE(error_of("http: {recent-queries: 1000001}\n"), "");
}

TEST(Config, ListsReplaceTheirDefaultsAndAreNeverMerged) {
  Config c = parse("listen: [192.0.2.1@5353]\naccess-control: []\ndnssec: {trust-anchor-files: []}\n");
  EXPECT_EQ(c.listen, std::vector<SocketAddress>{address("192.0.2.1@5353")});
  EXPECT_TRUE(c.access_control.empty());
  EXPECT_TRUE(c.dnssec.trust_anchor_files.empty());
  EXPECT_FALSE(uses_default_trust_anchors(c.dnssec));
  // A key left empty is an empty list, too.
  EXPECT_TRUE(parse("listen:\n").listen.empty());
  // Settings not given keep their defaults, key by key inside a section.
  Config partial = parse("network: {do-ip6: false}\n");
  EXPECT_FALSE(partial.network.do_ip6);
  EXPECT_EQ(partial.network.edns_buffer_size, 1232);
  EXPECT_EQ(partial.listen, default_config().listen);
}

TEST(Config, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("threads: 1\nnetwork:\n  edns-buffer-size: 100\n"),
            "t.yaml:3: key 'network.edns-buffer-size': must be between 512 and 4096");
  EXPECT_EQ(error_of("network: {edns-buffer-size: 8192}\n"),
            "t.yaml:1: key 'network.edns-buffer-size': must be between 512 and 4096");
  EXPECT_EQ(error_of("threads: 0\n"), "t.yaml:1: key 'threads': must be between 1 and 64");
  EXPECT_EQ(error_of("\nthreads: 65\n"), "t.yaml:2: key 'threads': must be between 1 and 64");
  EXPECT_EQ(error_of("threads: -1\n"), "t.yaml:1: key 'threads': expected a whole number, got '-1'");
  EXPECT_EQ(error_of("threads: many\n"), "t.yaml:1: key 'threads': expected a whole number, got 'many'");
  EXPECT_EQ(error_of("log-level: loud\n"),
            "t.yaml:1: key 'log-level': 'loud' must be error, warning, info, debug or trace");
  EXPECT_EQ(error_of("network:\n  do-ip4: maybe\n"),
            "t.yaml:2: key 'network.do-ip4': expected true or false, got 'maybe'");
}

TEST(Config, WrongTypesAreErrors) {
  EXPECT_EQ(error_of("threads: [1, 2]\n"), "t.yaml:1: key 'threads': expected a single value, got a list");
  EXPECT_EQ(error_of("listen: 127.0.0.1@53\n"),
            "t.yaml:1: key 'listen': expected a list, got a single value");
  EXPECT_EQ(error_of("network: [do-ip4]\n"),
            "t.yaml:1: key 'network': expected a mapping of keys, got a list");
  EXPECT_EQ(error_of("resolver:\n  root-hints: [a, b]\n"),
            "t.yaml:2: key 'resolver.root-hints': expected a single value, got a list");
  EXPECT_EQ(error_of("dnssec:\n  trust-anchor-files:\n    - /a.ds\n    - {file: /b.ds}\n"),
            "t.yaml:4: key 'dnssec.trust-anchor-files': expected a single value, got a mapping");
  EXPECT_EQ(error_of("resolver: {root-hints: \"\"}\n"),
            "t.yaml:1: key 'resolver.root-hints': expected a file path, got an empty string");
  EXPECT_EQ(error_of("threads:\n"), "t.yaml:1: key 'threads': expected a single value, got nothing");
  EXPECT_EQ(error_of("- listen\n"), "t.yaml:1: expected a mapping of keys, got a list");
}

TEST(Config, BadValuesAreErrors) {
  EXPECT_EQ(error_of("listen:\n  - 127.0.0.1@53\n  - 127.0.0.300@53\n"),
            "t.yaml:3: key 'listen': '127.0.0.300@53' is not an address (expected e.g. "
            "192.0.2.1@53 or ::1@53)");
  EXPECT_EQ(error_of("listen: [127.0.0.1@0]\n"),
            "t.yaml:1: key 'listen': '127.0.0.1@0' is not an address (expected e.g. 192.0.2.1@53 "
            "or ::1@53)");
  EXPECT_EQ(error_of("access-control: [10.0.0.0/33 allow]\n"),
            "t.yaml:1: key 'access-control': '10.0.0.0/33' is not a network prefix (expected e.g. "
            "192.0.2.0/24)");
  EXPECT_EQ(error_of("access-control: [10.0.0.0/8 permit]\n"),
            "t.yaml:1: key 'access-control': action 'permit' must be allow, allow-snoop, refuse or deny");
  EXPECT_EQ(error_of("access-control: [10.0.0.0/8 allow_snoop]\n"),
            "t.yaml:1: key 'access-control': action 'allow_snoop' is spelled allow-snoop here");
  EXPECT_EQ(error_of("access-control: [10.0.0.0/8]\n"),
            "t.yaml:1: key 'access-control': expected 'PREFIX ACTION', e.g. '127.0.0.0/8 allow'");
  EXPECT_EQ(error_of("dnssec: {negative-trust-anchors: [\"a..b\"]}\n"),
            "t.yaml:1: key 'dnssec.negative-trust-anchors': 'a..b' is not a valid domain name");
  EXPECT_EQ(error_of("network:\n  outgoing-interface: [192.0.2.1@53]\n"),
            "t.yaml:2: key 'network.outgoing-interface': '192.0.2.1@53': a source address takes no port");
  EXPECT_EQ(error_of("cache:\n  size: 64T\n"),
            "t.yaml:2: key 'cache.size': '64T' is not a size (expected e.g. 123, 64k, 64M or 1G)");
  EXPECT_EQ(error_of("cache: {min-ttl: 100, max-ttl: 50}\n"),
            "t.yaml:1: key 'cache.max-ttl': min-ttl (100) is above max-ttl (50)");
  EXPECT_EQ(error_of("network:\n  do-ip4: false\n  do-ip6: false\n"),
            "t.yaml:3: key 'network.do-ip6': do-ip4 and do-ip6 cannot both be false");
}

TEST(Config, ServeStaleAndSnapshotErrors) {
  EXPECT_EQ(error_of("cache:\n  max-stale: 0\n"), "t.yaml:2: key 'cache.max-stale': must be between 1 and 604800");
  EXPECT_EQ(error_of("cache:\n  stale-client-timeout: 1.8s\n"),
            "t.yaml:2: key 'cache.stale-client-timeout': expected a whole number, got '1.8s'");
  EXPECT_EQ(error_of("cache:\n  serve-stale: sometimes\n"),
            "t.yaml:2: key 'cache.serve-stale': expected true or false, got 'sometimes'");
  EXPECT_EQ(error_of("cache:\n  snapshot: cache.db\n"),
            "t.yaml:2: key 'cache.snapshot': 'cache.db' must be an absolute path");
  EXPECT_EQ(error_of("cache:\n  snapshot: /var/lib/resolverd/\n"),
            "t.yaml:2: key 'cache.snapshot': '/var/lib/resolverd/' names a directory, not a file");
  EXPECT_EQ(error_of("cache:\n  snapshot: [/a]\n"),
            "t.yaml:2: key 'cache.snapshot': expected a single value, got a list");
  EXPECT_EQ(error_of("cache:\n\n  snapshot-interval: -1\n"),
            "t.yaml:3: key 'cache.snapshot-interval': expected a whole number, got '-1'");
  EXPECT_EQ(parse("cache: {snapshot: \"\"}\n").cache.snapshot, "");
}

TEST(Config, ForwardZoneErrors) {
  EXPECT_EQ(error_of("forward-zones:\n  - {servers: [192.0.2.1]}\n"),
            "t.yaml:2: key 'forward-zones': each forward zone needs a 'name'");
  EXPECT_EQ(error_of("forward-zones:\n  - {name: example.org}\n"),
            "t.yaml:2: key 'forward-zones': forward zone 'example.org.' needs 'servers'");
  EXPECT_EQ(error_of("forward-zones:\n  - {name: example.org, servers: []}\n"),
            "t.yaml:2: key 'forward-zones.servers': a forward zone needs at least one server");
  EXPECT_EQ(error_of("forward-zones:\n  - {name: a.org, servers: [192.0.2.1]}\n  - {name: A.org., "
                     "servers: [192.0.2.2]}\n"),
            "t.yaml:3: key 'forward-zones': forward zone 'A.org.' is listed twice");
  EXPECT_EQ(error_of("forward-zones:\n  - {name: a.org, server: [192.0.2.1]}\n"),
            "t.yaml:2: unknown key 'forward-zones.server' (did you mean 'servers'?)");
  EXPECT_EQ(error_of("forward-zones: [example.org]\n"),
            "t.yaml:1: key 'forward-zones': expected a mapping such as {name: example.org, servers: "
            "[192.0.2.1@53]}, got a single value");
}

TEST(Config, UnknownKeysSuggestTheClosestValidKey) {
  EXPECT_EQ(error_of("resolver:\n  qname-minimization: true\n"),
            "t.yaml:2: unknown key 'resolver.qname-minimization' (did you mean 'qname-minimisation'?)");
  EXPECT_EQ(error_of("thread: 2\n"), "t.yaml:1: unknown key 'thread' (did you mean 'threads'?)");
  EXPECT_EQ(error_of("resolver:\n  budgets:\n    max-cname: 3\n"),
            "t.yaml:3: unknown key 'resolver.budgets.max-cname' (did you mean 'max-cname-chain'?)");
  // Keys valid elsewhere are not suggested at the wrong level.
  EXPECT_EQ(error_of("cache:\n  validation: true\n"),
            "t.yaml:2: unknown key 'cache.validation' (expected one of: size min-ttl max-ttl "
            "max-negative-ttl serve-stale max-stale stale-client-timeout stale-refresh-time prefetch snapshot "
            "snapshot-interval)");
  EXPECT_EQ(error_of("cache:\n  serve-stael: true\n"),
            "t.yaml:2: unknown key 'cache.serve-stael' (did you mean 'serve-stale'?)");
  EXPECT_EQ(error_of("threads: 2\nthreads: 3\n"), "t.yaml:2: key 'threads' is given more than once");
}

TEST(Config, YamlSyntaxErrorsHaveALine) {
  std::string error = error_of("threads: 1\nlisten: [127.0.0.1@53\nlog-level: info\n");
  EXPECT_EQ(error.rfind("t.yaml:", 0), 0u) << error;
  EXPECT_NE(error.find("YAML syntax error"), std::string::npos) << error;
  EXPECT_EQ(error_of("a: b\n  c: d\n").rfind("t.yaml:2: YAML syntax error: ", 0), 0u);
}

TEST(Config, SizesAcceptSuffixes) {
  EXPECT_EQ(parse_size("123"), 123u);
  EXPECT_EQ(parse_size("64k"), 64u << 10);
  EXPECT_EQ(parse_size("64K"), 64u << 10);
  EXPECT_EQ(parse_size("64M"), 64u << 20);
  EXPECT_EQ(parse_size("64m"), 64u << 20);
  EXPECT_EQ(parse_size("1G"), 1ull << 30);
  for (const char *bad : {"", "k", "64T", "64KB", "1.5M", "-1", " 64M", "99999999999999999999"})
    EXPECT_FALSE(parse_size(bad)) << bad;
  EXPECT_FALSE(parse_size("17179869184G"));  // 2^34 GiB overflows 64 bits
  EXPECT_EQ(format_size(64ull << 20), "64M");
  EXPECT_EQ(format_size(1ull << 30), "1G");
  EXPECT_EQ(format_size(65536), "64K");
  EXPECT_EQ(format_size(1000), "1000");
  EXPECT_EQ(parse("cache: {size: 123}\n").cache.size_bytes, 123u);
  EXPECT_EQ(parse("cache: {size: 64k}\n").cache.size_bytes, 65536u);
  EXPECT_EQ(parse("cache: {size: 1G}\n").cache.size_bytes, 1ull << 30);
  EXPECT_EQ(error_of("cache: {size: 0}\n"), "t.yaml:1: key 'cache.size': must be between 1 and 1T");
}

TEST(Config, SocketBufferSizes) {
  // Default: 1 MiB for the listening UDP sockets' receive buffer (the system's 208 KiB
  // overflows during a 50 ms stall at 5000 queries/s), the system's send buffer.
  EXPECT_EQ(default_config().network.so_rcvbuf, 1ull << 20);
  EXPECT_EQ(default_config().network.so_sndbuf, 0u);
  EXPECT_EQ(parse("network: {so-rcvbuf: 0, so-sndbuf: 0}\n").network.so_rcvbuf, 0u);  // the system default
  EXPECT_EQ(parse("network: {so-rcvbuf: 212992}\n").network.so_rcvbuf, 212992u);
  EXPECT_EQ(parse("network: {so-sndbuf: 1G}\n").network.so_sndbuf, 1ull << 30);
  EXPECT_EQ(error_of("network:\n  so-rcvbuf: 2G\n"),
            "t.yaml:2: key 'network.so-rcvbuf': must be between 0 (the system default) and 1G");
  EXPECT_EQ(error_of("network:\n  so-sndbuf: lots\n"),
            "t.yaml:2: key 'network.so-sndbuf': 'lots' is not a size (expected e.g. 0, 212992, 256k or 4M)");
  EXPECT_EQ(error_of("network: {so-rcvbuf: -1}\n"),
            "t.yaml:1: key 'network.so-rcvbuf': '-1' is not a size (expected e.g. 0, 212992, 256k or 4M)");
  std::string dumped = dump_config(parse("network: {so-rcvbuf: 4m, so-sndbuf: 0}\n"));
  EXPECT_NE(dumped.find("so-rcvbuf: 4M"), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("so-sndbuf: 0"), std::string::npos) << dumped;
}

TEST(Config, UdpCoalescingWindow) {
  EXPECT_EQ(default_config().network.udp_coalesce_usecs, 100u);
  EXPECT_EQ(parse("network: {udp-coalesce-usecs: 0}\n").network.udp_coalesce_usecs, 0u);  // off
  EXPECT_EQ(parse("network: {udp-coalesce-usecs: 1000}\n").network.udp_coalesce_usecs, 1000u);
  // More than a millisecond would hold clients up for longer than a LAN round trip.
  EXPECT_EQ(error_of("network:\n  udp-coalesce-usecs: 1001\n"),
            "t.yaml:2: key 'network.udp-coalesce-usecs': must be between 0 and 1000");
  EXPECT_EQ(error_of("network: {udp-coalesce-usecs: 50us}\n"),
            "t.yaml:1: key 'network.udp-coalesce-usecs': expected a whole number, got '50us'");
  EXPECT_NE(dump_config(parse("network: {udp-coalesce-usecs: 0}\n")).find("udp-coalesce-usecs: 0"),
            std::string::npos);
}

TEST(Config, TrustAnchorMaintenanceKeys) {
  Config defaults = parse("");
  EXPECT_FALSE(defaults.dnssec.rfc5011);
  EXPECT_EQ(defaults.dnssec.trust_anchor_state, kDefaultTrustAnchorState);
  EXPECT_EQ(defaults.dnssec.rfc5011_hold_down, 30u * 86400u);  // RFC 5011 2.4.1
  EXPECT_EQ(defaults.dnssec.rfc5011_min_refresh, 3600u);       // RFC 5011 2.3
  EXPECT_TRUE(defaults.dnssec.trust_anchor_signaling);         // RFC 8145, as Unbound
  Config c = parse(kEveryKey);
  EXPECT_TRUE(c.dnssec.rfc5011);
  EXPECT_EQ(c.dnssec.trust_anchor_state, "/var/lib/resolverd/anchors.json");
  EXPECT_EQ(c.dnssec.rfc5011_hold_down, 90u);
  EXPECT_EQ(c.dnssec.rfc5011_min_refresh, 2u);
  EXPECT_FALSE(c.dnssec.trust_anchor_signaling);
  EXPECT_EQ(parse("dnssec: {rfc5011-hold-down: 30d}\n").dnssec.rfc5011_hold_down, 30u * 86400u);
  EXPECT_EQ(error_of("dnssec:\n  rfc5011-hold-down: 31d\n"),
            "t.yaml:2: key 'dnssec.rfc5011-hold-down': must be between 1s and 30d");
  EXPECT_EQ(error_of("dnssec: {rfc5011-min-refresh: 0}\n"),
            "t.yaml:1: key 'dnssec.rfc5011-min-refresh': must be between 1s and 1h");
  EXPECT_EQ(error_of("dnssec: {rfc5011-min-refresh: soon}\n"),
            "t.yaml:1: key 'dnssec.rfc5011-min-refresh': 'soon' is not a duration (expected e.g. 90, 90s, "
            "30m, 12h, 30d)");
  EXPECT_EQ(error_of("dnssec: {trust-anchor-state: \"\"}\n"),
            "t.yaml:1: key 'dnssec.trust-anchor-state': expected a file path, got an empty string");
  const std::string dumped = dump_config(c);
  EXPECT_NE(dumped.find("rfc5011-hold-down: 90s"), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("rfc5011-min-refresh: 2s"), std::string::npos) << dumped;
  EXPECT_NE(dump_config(defaults).find("rfc5011-hold-down: 30d"), std::string::npos);
}

TEST(Config, SecondsParseAndFormat) {
  EXPECT_EQ(parse_seconds("90"), 90u);
  EXPECT_EQ(parse_seconds("90s"), 90u);
  EXPECT_EQ(parse_seconds("30m"), 1800u);
  EXPECT_EQ(parse_seconds("12h"), 43200u);
  EXPECT_EQ(parse_seconds("30d"), 2592000u);
  EXPECT_EQ(parse_seconds("1w"), 604800u);
  for (const char *bad : {"", "s", "1x", "-1", "1.5h", "h1", "99999999999999999999d"})
    EXPECT_EQ(parse_seconds(bad), std::nullopt) << bad;
  EXPECT_EQ(format_seconds(0), "0s");
  EXPECT_EQ(format_seconds(61), "61s");
  EXPECT_EQ(format_seconds(120), "2m");
  EXPECT_EQ(format_seconds(3600), "1h");
  EXPECT_EQ(format_seconds(30 * 86400), "30d");
  EXPECT_EQ(format_seconds(14 * 86400), "2w");
  for (uint64_t s : {1ull, 59ull, 60ull, 3599ull, 86400ull, 2592000ull})
    EXPECT_EQ(parse_seconds(format_seconds(s)), s);
}

TEST(Config, DumpRoundTripsToAnEqualConfig) {
  for (const std::string &text :
       {std::string(), std::string(kEveryKey),
        std::string("listen: []\naccess-control: []\ndnssec: {trust-anchor-files: []}\n"
                    "username: \"odd \\\"name\\\" here\"\ncache: {size: 1000}\n")}) {
    Config original = parse(text);
    std::string dumped = dump_config(original);
    Config reparsed = parse_config_text(dumped, "dumped.yaml");
    reparsed.source_file = original.source_file;
    EXPECT_EQ(reparsed, original) << dumped;
    EXPECT_EQ(dump_config(reparsed), dumped);
  }
}

TEST(Config, DumpShowsTheAccessControlActions) {
  // --check-config prints the effective rules: the defaults let loopback snoop.
  const std::string defaults = dump_config(default_config());
  EXPECT_NE(defaults.find("127.0.0.0/8 allow-snoop"), std::string::npos) << defaults;
  EXPECT_NE(defaults.find("::1/128 allow-snoop"), std::string::npos) << defaults;
  const std::string dumped =
      dump_config(parse("access-control: [10.0.0.0/8 allow, 10.1.0.0/16 allow-snoop]\n"));
  EXPECT_NE(dumped.find("10.0.0.0/8 allow"), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("10.1.0.0/16 allow-snoop"), std::string::npos) << dumped;
  EXPECT_EQ(std::string(to_string(AclAction::allow_snoop)), "allow-snoop");
}

TEST(Config, DumpShowsEveryKey) {
  std::string dumped = dump_config(default_config());
  for (const char *key : {"listen:",
                          "access-control:",
                          "threads:",
                          "log-level:",
                          "username:",
                          "chroot:",
                          "network:",
                          "do-ip4:",
                          "do-ip6:",
                          "outgoing-interface:",
                          "edns-buffer-size:",
                          "do-not-query-localhost:",
                          "tcp-idle-timeout:",
                          "max-tcp-connections:",
                          "max-tcp-queries-per-connection:",
                          "upstream-timeout:",
                          "use-caps-for-id:",
                          "so-rcvbuf:",
                          "so-sndbuf:",
                          "udp-coalesce-usecs:",
                          "resolver:",
                          "root-hints:",
                          "qname-minimisation:",
                          "harden-glue:",
                          "prime-root:",
                          "budgets:",
                          "max-upstream-queries:",
                          "max-queries-per-name:",
                          "max-cname-chain:",
                          "max-subquery-depth:",
                          "max-glueless-per-delegation:",
                          "max-ns-per-delegation:",
                          "max-time:",
                          "forward-zones:",
                          "cache:",
                          "size:",
                          "min-ttl:",
                          "max-ttl:",
                          "max-negative-ttl:",
                          "serve-stale:",
                          "max-stale:",
                          "stale-client-timeout:",
                          "stale-refresh-time:",
                          "prefetch:",
                          "snapshot:",
                          "snapshot-interval:",
                          "dnssec:",
                          "validation:",
                          "trust-anchor-files:",
                          "negative-trust-anchors:",
                          "bogus-ttl:",
                          "rfc5011:",
                          "trust-anchor-state:",
                          "rfc5011-hold-down:",
                          "rfc5011-min-refresh:",
                          "trust-anchor-signaling:",

                          "http:",
                          "recent-queries:"})
    EXPECT_NE(dumped.find(key), std::string::npos) << key << "\n" << dumped;
  EXPECT_NE(dumped.find("\"::1@53\""), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("size: 64M"), std::string::npos) << dumped;
}

class ConfigFile : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "config_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string &file, const std::string &text) {
    std::string path = dir_ + "/" + file;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(ConfigFile, LoadsAFileAndNamesItInErrors) {
  std::string good = write("good.yaml", "threads: 3\n");
  Config c = load_config(good);
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.source_file, good);
  std::string bad = write("bad.yaml", "# comment\nthreads: 3\nnetwork:\n  bogus: 1\n");
  try {
    load_config(bad);
    FAIL() << "no error";
  } catch (const ConfigError &e) {
    EXPECT_EQ(std::string(e.what()),
              bad +
                  ":4: unknown key 'network.bogus' (expected one of: do-ip4 do-ip6 "
                  "outgoing-interface edns-buffer-size do-not-query-localhost "
                  "tcp-idle-timeout max-tcp-connections max-tcp-queries-per-connection "
                  "upstream-timeout use-caps-for-id so-rcvbuf so-sndbuf udp-coalesce-usecs listen-tls "
                  "listen-https)");
  }
  EXPECT_THROW(load_config(dir_ + "/absent.yaml"), ConfigError);
}

TEST_F(ConfigFile, ShippedConfigurationsParse) {
  Config shipped = load_config(std::string(RESOLVER_SOURCE_DIR) + "/conf/resolver.yaml");
  EXPECT_EQ(shipped.listen, default_config().listen);
  EXPECT_EQ(acl_texts(shipped), acl_texts(default_config()));
  EXPECT_TRUE(shipped.dnssec.validation);
  EXPECT_TRUE(uses_default_trust_anchors(shipped.dnssec));
  EXPECT_EQ(shipped.network, default_config().network) << "conf/resolver.yaml shows the defaults";
  EXPECT_EQ(shipped.resolver.max_queries_in_flight, default_config().resolver.max_queries_in_flight);
  EXPECT_EQ(shipped.http, default_config().http) << "conf/resolver.yaml shows the defaults";
  Config forwarding = load_config(std::string(RESOLVER_SOURCE_DIR) + "/conf/example-forwarding.yaml");
  ASSERT_FALSE(forwarding.forward_zones.empty());
  EXPECT_TRUE(forwarding.forward_zones.front().name.is_root());
}

TEST(Config, ControlSocketAndHttpListener) {
  Config defaults = parse("");
  EXPECT_EQ(defaults.control.socket, kDefaultControlSocket);
  ASSERT_EQ(defaults.http.listen.size(), 1u);
  EXPECT_EQ(defaults.http.listen[0].to_string(), "127.0.0.1@8053");
  EXPECT_EQ(defaults.http.recent_queries, 1000u);

  Config c = parse("control: {socket: /tmp/r.sock}\nhttp: {listen: [127.0.0.2, \"::1@9000\"], recent-queries: 0}\n");
  EXPECT_EQ(c.control.socket, "/tmp/r.sock");
  ASSERT_EQ(c.http.listen.size(), 2u);
  EXPECT_EQ(c.http.listen[0].to_string(), "127.0.0.2@8053");  // the HTTP port when none is given
  EXPECT_EQ(c.http.listen[1].to_string(), "::1@9000");
  EXPECT_EQ(c.http.recent_queries, 0u);
  // Off switches: an empty socket path, an empty listen list.
  EXPECT_EQ(parse("control: {socket: \"\"}\n").control.socket, "");
  EXPECT_TRUE(parse("http: {listen: []}\n").http.listen.empty());

  EXPECT_EQ(error_of("control:\n  socket: /" + std::string(120, 'x') + "\n"),
            "t.yaml:2: key 'control.socket': a Unix socket path is at most 107 characters long");
  EXPECT_EQ(error_of("http:\n  listen: [nowhere]\n"),
            "t.yaml:2: key 'http.listen': 'nowhere' is not an address (expected e.g. 192.0.2.1@8053 or ::1@8053)");
  const std::string dumped = dump_config(c);
  EXPECT_NE(dumped.find("socket: \"/tmp/r.sock\""), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("recent-queries: 0"), std::string::npos) << dumped;
  Config reparsed = parse_config_text(dumped, "t.yaml");
  EXPECT_EQ(reparsed, c);
}

TEST(Config, LocalZonesDataAndBlocklists) {
  Config c = parse(
      "local-zones: {lan: static, 10.in-addr.arpa: transparent, ads.example: refuse}\n"
      "local-data: [\"nas.home.arpa. 3600 IN A 192.168.1.10\", \"printer.lan. AAAA fd00::5\"]\n"
      "hosts-files: [/etc/hosts]\n"
      "auth-zones: [{name: lab.home.arpa, file: /etc/resolverd/lab.zone}]\n"
      "blocklists:\n"
      "  - {file: /var/lib/lists/hosts.txt, format: hosts}\n"
      "  - {file: /var/lib/lists/ads.txt, format: adblock, action: null, name: adguard}\n"
      "allowlist: [good.example.com, /etc/resolverd/allow.txt]\n"
      "blocklist-memory: 64M\n"
      "blocked-ttl: 5\n");
  const PolicyConfig &p = c.policy;
  ASSERT_EQ(p.local_zones.size(), 3u);
  EXPECT_EQ(p.local_zones[1].type, LocalZoneType::transparent);
  EXPECT_EQ(p.local_zones[2].type, LocalZoneType::refuse);
  EXPECT_EQ(p.local_data.size(), 2u);
  EXPECT_EQ(p.hosts_files, std::vector<std::string>{"/etc/hosts"});
  ASSERT_EQ(p.auth_zones.size(), 1u);
  EXPECT_EQ(p.auth_zones[0].name.to_text(), "lab.home.arpa.");
  ASSERT_EQ(p.blocklists.size(), 2u);
  EXPECT_EQ(p.blocklists[0].name, "hosts.txt");  // the file's base name by default
  EXPECT_EQ(p.blocklists[0].action, BlockAction::nxdomain);
  EXPECT_EQ(p.blocklists[1].format, ListFormat::adblock);
  EXPECT_EQ(p.blocklists[1].action, BlockAction::null_address);
  EXPECT_EQ(p.blocklists[1].name, "adguard");
  EXPECT_EQ(p.allowlist.size(), 2u);
  EXPECT_EQ(p.blocklist_memory, 64ull << 20);
  EXPECT_EQ(p.blocked_ttl, 5u);
  const std::string dumped = dump_config(c);
  Config reparsed = parse_config_text(dumped, "t.yaml");
  EXPECT_EQ(reparsed, c) << dumped;

  EXPECT_EQ(error_of("local-zones:\n  lan: open\n"),
            "t.yaml:2: key 'local-zones': 'open' must be transparent, static, redirect, refuse or deny");
  EXPECT_EQ(
      error_of("local-data:\n  - \"nas.home.arpa. A 999.1.1.1\"\n").rfind("t.yaml:2: key 'local-data': ", 0),
      0u);
  EXPECT_EQ(error_of("blocklists:\n  - {file: a.txt, format: csv}\n"),
            "t.yaml:2: key 'blocklists.format': 'csv' must be hosts, domains, adblock or rpz");
  EXPECT_EQ(error_of("blocklists:\n  - {format: hosts}\n"),
            "t.yaml:2: key 'blocklists': each blocklist needs a 'file'");
  EXPECT_EQ(error_of("blocklists: [{file: /a/x.txt}, {file: /b/x.txt}]\n"),
            "t.yaml:1: key 'blocklists': two blocklists are named 'x.txt'; give one a 'name'");
  EXPECT_EQ(error_of("allowlist: [\"not a name\"]\n"),
            "t.yaml:1: key 'allowlist': 'not a name' is neither a domain name nor a file path");
}

}  // namespace
}  // namespace rsv
