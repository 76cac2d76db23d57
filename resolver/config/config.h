// The daemon's configuration: what conf/resolver.yaml says, with defaults filled in.
//
// load_config reads YAML (yaml-cpp) and checks every key and value; any error is a
// ConfigError naming the file, line and key (and, for a misspelled key, the key that
// was probably meant). A setting given in the file replaces its default; lists are
// never merged with built-in values (an empty list means none).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "resolver/config/upstream_server.h"
#include "resolver/wire/address.h"
#include "resolver/wire/name.h"

namespace rsv {

// Debian's dns-root-data paths. When a configuration leaves these defaults in place
// and the files are absent, the daemon uses compiled-in copies; a path the
// operator chose must exist (see uses_default_root_hints below).
inline constexpr const char *kDefaultRootHintsPath = "/usr/share/dns/root.hints";
inline constexpr const char *kDefaultTrustAnchorFile = "/usr/share/dns/root.ds";
// Where RFC 5011 trust anchor maintenance keeps what it learned (dnssec.trust-anchor-state).
inline constexpr const char *kDefaultTrustAnchorState = "/var/lib/resolverd/trust-anchors.state";

enum class LogLevel { error, warning, info, debug, trace };
// allow: recursive queries (RD=1) only; RD=0 is REFUSED, as cache snooping tells a
// client what others asked. allow_snoop: RD=0 too, answered from the cache only
// (Unbound's allow_snoop). refuse: REFUSED. deny: dropped without an answer.
enum class AclAction { allow, allow_snoop, refuse, deny };

struct AclRule {
  Prefix prefix;
  AclAction action = AclAction::allow;

  friend bool operator==(const AclRule &a, const AclRule &b) {
    return a.action == b.action && a.prefix.to_string() == b.prefix.to_string();
  }
};

struct ForwardZone {
  Name name;
  std::vector<SocketAddress> servers;  // each server's address: what the iterator asks
  // How each of `servers` is reached, in the same order: plain DNS, or DNS over TLS
  // or HTTPS (upstream_server.h), with the zone's certificate checks for the latter.
  // (Initialised here so that ForwardZone{name, servers} stays a complete initialiser.)
  std::vector<UpstreamServer> endpoints = {};
  std::string tls_cert_bundle = {};               // PEM CA file; empty: the system's CAs
  std::vector<std::string> tls_pins_sha256 = {};  // SPKI pins (RFC 7469 2.4); alone, they replace the CAs

  bool operator==(const ForwardZone &) const = default;
};

struct NetworkConfig {
  bool do_ip4 = true;
  bool do_ip6 = true;
  std::vector<SocketAddress> outgoing_interface;  // port 0: source addresses only
  uint16_t edns_buffer_size = 1232;
  bool do_not_query_localhost = true;
  uint32_t tcp_idle_timeout_ms = 10000;          // RFC 7766 6.2.3
  uint32_t max_tcp_connections = 256;            // per event loop
  uint32_t max_tcp_queries_per_connection = 64;  // in flight at once on one connection
  uint32_t upstream_timeout_ms = 800;            // first timeout before the RTT estimate takes over
  bool use_caps_for_id = false;                  // 0x20 randomisation of upstream query names
  // Kernel buffers of the client-facing UDP sockets, in bytes (0: the system's
  // default, net.core.rmem_default / wmem_default). The receive buffer is what holds
  // queries while the event loop is busy or off the CPU: the system default (208 KiB
  // on Linux, about 250 small queries) overflows after ~50 ms at 5000 queries/s, and
  // every query that does not fit is lost without a trace (UdpRcvbufErrors).
  uint64_t so_rcvbuf = 1ull << 20;
  uint64_t so_sndbuf = 0;
  // Receive coalescing (resolver/net/receive_coalescing.h): after a loop turn that read
  // a few client datagrams (2..15) while they arrive fast enough for a window to
  // gather 4 or more, wait this many microseconds before polling again, so that under
  // load each wake answers a batch. 0: off. Applied by a reload.
  uint32_t udp_coalesce_usecs = 100;
  // Encrypted client transports, with the certificate of TlsConfig: DNS over TLS
  // (RFC 7858, port 853) and DNS over HTTPS (RFC 8484, port 443). Off by default.
  std::vector<SocketAddress> listen_tls;
  std::vector<SocketAddress> listen_https;

  bool operator==(const NetworkConfig &) const = default;
};

struct BudgetConfig {
  uint32_t max_upstream_queries = 200;
  uint32_t max_queries_per_name = 32;
  uint32_t max_cname_chain = 11;
  uint32_t max_subquery_depth = 6;
  uint32_t max_glueless_per_delegation = 5;
  uint32_t max_ns_per_delegation = 13;
  uint32_t max_time_ms = 10000;

  bool operator==(const BudgetConfig &) const = default;
};

struct ResolverConfig {
  std::string root_hints = kDefaultRootHintsPath;  // falls back to a built-in copy
  bool qname_minimisation = true;
  bool harden_glue = true;
  bool prime_root = true;
  // Distinct client questions being resolved at once per event loop; past it, new
  // questions are dropped (as Unbound's num-queries-per-thread) so a flood of unique
  // names cannot grow memory without bound.
  uint32_t max_queries_in_flight = 1024;
  // DNSBomb and friends (Unbound 1.20's figures): at most this many queries of one
  // client address wait for an answer at once (0: no limit); at most this many
  // clients wait on one question being resolved; a client that has waited longer than
  // discard-timeout gets no reply at all, rather than one late in a burst (0: off).
  // Over max-queries-in-flight, the oldest question that has run longer than this
  // (ms) is given up for the new one (Unbound's jostle-timeout); 0: never.
  uint32_t jostle_timeout_ms = 200;
  uint32_t wait_limit = 1000;
  uint32_t max_clients_per_question = 100;
  uint32_t discard_timeout_ms = 1900;
  BudgetConfig budgets;

  bool operator==(const ResolverConfig &) const = default;
};

struct CacheConfig {
  uint64_t size_bytes = 64ull << 20;
  uint32_t min_ttl = 0;
  uint32_t max_ttl = 86400;
  uint32_t max_negative_ttl = 3600;
  // Serve-stale (RFC 8767): when the authorities cannot be reached, answers up to
  // max-stale seconds past their expiry are served (TTL 30, EDE 3 / 19): at once when
  // the resolution fails, or after stale-client-timeout ms while it goes on (0: only on
  // failure). After a failed refresh, stale answers are served without trying again
  // for stale-refresh-time seconds (RFC 8767 5's failure recheck timer; 0: always try).
  bool serve_stale = true;
  uint32_t max_stale = 86400;
  uint32_t stale_client_timeout_ms = 1800;
  uint32_t stale_refresh_time = 30;
  // An answer asked for in the last tenth of its TTL is refreshed in the background.
  bool prefetch = true;
  // The cache snapshot (cache/snapshot.h): written at shutdown and every
  // snapshot-interval seconds (0: at shutdown only), read at start. "": none.
  std::string snapshot;
  uint32_t snapshot_interval = 600;

  bool operator==(const CacheConfig &) const = default;
};

struct DnssecConfig {
  bool validation = true;
  std::vector<std::string> trust_anchor_files = {kDefaultTrustAnchorFile};
  std::vector<Name> negative_trust_anchors;
  uint32_t bogus_ttl = 60;
  // Bounds on validation work against hostile zones (KeyTrap, CVE-2023-50387, and
  // NSEC3 hashing, CVE-2023-50868). Past one, the answer is SERVFAIL with an EDE.
  uint32_t max_rrsigs_per_rrset = 8;
  uint32_t max_keys_per_tag = 2;  // DNSKEYs with the same key tag and algorithm tried
  uint32_t max_ds_per_zone = 8;
  uint32_t max_verifications_per_response = 16;
  uint32_t max_verifications_per_query = 64;
  uint32_t max_nsec3_per_response = 8;
  uint32_t max_nsec3_hashes_per_query = 600;
  uint32_t max_nsec3_iterations = 50;  // RFC 9276 3.2: more makes the answer insecure (EDE 27)
  // RFC 5011: follow the key rollovers of every anchored zone (off: the configured
  // anchors are used as they are). What was learned is kept in trust_anchor_state,
  // which then takes precedence over trust-anchor-files for the zones it covers.
  bool rfc5011 = false;
  std::string trust_anchor_state = kDefaultTrustAnchorState;
  // Lab settings, so that a rollover can be watched in seconds: the add and remove
  // hold-down (RFC 5011 2.4: 30 days) and the floor of the refresh and retry
  // intervals (RFC 5011 2.3: 1 hour), in seconds.
  uint32_t rfc5011_hold_down = 30 * 86400;
  uint32_t rfc5011_min_refresh = 3600;
  // RFC 8145: tell the anchored zones' servers which key tags this resolver trusts
  // (the _ta-XXXX query of 5.1 and the edns-key-tag option of 4).
  bool trust_anchor_signaling = true;

  bool operator==(const DnssecConfig &) const = default;
};

// The control channel of `resolverctl` (resolver/server/control.h).
inline constexpr const char *kDefaultControlSocket = "/run/resolverd/control.sock";
struct ControlConfig {
  std::string socket = kDefaultControlSocket;  // a Unix socket path; empty: no control channel

  bool operator==(const ControlConfig &) const = default;
};

// The HTTP listener: /metrics (Prometheus) and the dashboard (resolver/server/http_server.h).
struct HttpConfig {
  std::vector<SocketAddress> listen;  // default 127.0.0.1@8053 (default_config); empty: off
  uint32_t recent_queries = 1000;     // the dashboard's query log, a ring buffer; 0: off
  // Clients that may use it; others get 403. Default (default_config): loopback only.
  std::vector<Prefix> access_control;

  bool operator==(const HttpConfig &) const = default;
};

// The server certificate for network.listen-tls and listen-https (PEM files).
struct TlsConfig {
  std::string certificate;  // the chain, leaf first
  std::string key;

  bool operator==(const TlsConfig &) const = default;
};

// Locally served zones and blocklists (resolver/policy).
enum class LocalZoneType : uint8_t { transparent, static_zone, redirect, refuse, deny };
enum class ListFormat : uint8_t { hosts, domains, adblock, rpz };
// What a blocked name gets (each with RFC 8914 EDE 15, Blocked): NXDOMAIN, NODATA,
// 0.0.0.0 / :: for A / AAAA (NODATA for other types), or REFUSED.
enum class BlockAction : uint8_t { nxdomain, nodata, null_address, refuse };

struct LocalZoneRule {
  Name name;
  LocalZoneType type = LocalZoneType::static_zone;
  bool operator==(const LocalZoneRule &) const = default;
};

struct AuthZone {
  Name name;
  std::string file;
  bool operator==(const AuthZone &) const = default;
};

struct BlocklistSource {
  std::string file;
  ListFormat format = ListFormat::domains;
  BlockAction action = BlockAction::nxdomain;
  std::string name;  // shown in EDE 15 and the metrics; default: the file's base name
  bool operator==(const BlocklistSource &) const = default;
};

struct PolicyConfig {
  std::vector<LocalZoneRule> local_zones;  // overrides of the built-in zones, and new ones
  std::vector<std::string> local_data;     // zone-file lines, checked when read
  std::vector<std::string> hosts_files;
  std::vector<AuthZone> auth_zones;
  std::vector<BlocklistSource> blocklists;
  std::vector<std::string> allowlist;        // names, or files of names (a path has a '/')
  uint64_t blocklist_memory = 256ull << 20;  // past this, a list is refused
  uint32_t blocked_ttl = 10;                 // TTL of null (0.0.0.0) answers

  bool operator==(const PolicyConfig &) const = default;
};

// Equality compares every setting and also source_file.
struct Config {
  std::string source_file;  // where it was read from, for messages
  std::vector<SocketAddress> listen;
  std::vector<AclRule> access_control;
  uint32_t threads = 1;
  LogLevel log_level = LogLevel::info;
  std::string username;  // empty: never change user
  std::string chroot;    // empty: never change root directory
  NetworkConfig network;
  ResolverConfig resolver;
  std::vector<ForwardZone> forward_zones;
  CacheConfig cache;
  DnssecConfig dnssec;
  ControlConfig control;
  HttpConfig http;
  TlsConfig tls;
  PolicyConfig policy;

  bool operator==(const Config &) const = default;
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The defaults as if the file were empty, listening on 127.0.0.1@53 and ::1@53 and
// allowing loopback only.
Config default_config();
// Throws ConfigError("FILE:LINE: key 'x': reason").
Config load_config(const std::string &path);
Config parse_config_text(const std::string &yaml_text, const std::string &source_name);
// The effective configuration, defaults included, as YAML (for --check-config).
std::string dump_config(const Config &config);

const char *to_string(LogLevel level);
const char *to_string(LocalZoneType type);
const char *to_string(ListFormat format);
const char *to_string(BlockAction action);
std::optional<LocalZoneType> local_zone_type_from_string(std::string_view text);
std::optional<ListFormat> list_format_from_string(std::string_view text);
std::optional<BlockAction> block_action_from_string(std::string_view text);
const char *to_string(AclAction action);
std::optional<LogLevel> log_level_from_string(std::string_view text);

// Byte sizes as the configuration writes them: "123", "64k"/"64K" (KiB), "64M"
// (MiB), "1G" (GiB). nullopt for anything else or on overflow.
std::optional<uint64_t> parse_size(std::string_view text);
// The shortest exact form parse_size accepts ("64M" rather than "67108864").
std::string format_size(uint64_t bytes);

// Durations as the configuration writes them, in seconds: "90", "90s", "30m", "12h",
// "30d", "1w". nullopt for anything else or on overflow.
std::optional<uint64_t> parse_seconds(std::string_view text);
// The shortest exact form parse_seconds accepts ("30d" rather than "2592000").
std::string format_seconds(uint64_t seconds);

// True when the configuration leaves root-hints or trust-anchor-files at their
// defaults, which permits falling back to the built-in copies at start-up
// (effective_root_hints / effective_trust_anchors take the negation).
inline bool uses_default_root_hints(const ResolverConfig &resolver) {
  return resolver.root_hints == kDefaultRootHintsPath;
}
inline bool uses_default_trust_anchors(const DnssecConfig &dnssec) {
  return dnssec.trust_anchor_files.size() == 1 &&
         dnssec.trust_anchor_files.front() == kDefaultTrustAnchorFile;
}

}  // namespace rsv
