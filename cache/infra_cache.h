// The infrastructure cache: what the resolver has learned about each authoritative
// server address, kept apart from DNS data (as Unbound does).
//
// How one query passes through it: before the iterator sends a query, server
// selection reads every candidate's smoothed RTT, hold-down state and lameness for
// the zone here and picks one; the engine asks timeout_ms() how long to wait. When the
// reply arrives the engine records the RTT (RFC 6298 smoothing); when it does not,
// record_timeout() backs the retransmission timer off (RFC 6298 5.5) and, after three
// timeouts in a row, holds the server down so no query waits on it for a while.
// When the hold-down ends, exactly one probe query may go to the server (claim_probe);
// if that fails too the hold-down doubles, up to 15 minutes. A server that answers
// with a referral upward or REFUSED for a zone it should serve is marked lame for that
// zone only.
//
// Nothing learned about a server is kept for ever (Unbound's infra-host-ttl): an
// entry that no reply or timeout has refreshed for kHostTtlMs is forgotten (RTT
// unknown again), an "EDNS unsupported" mark is probed again after kEdnsProbeAfterMs
// (so one spoofed FORMERR cannot turn EDNS, and with it DNSSEC, off for good), and
// lameness expires after its own period.
//
// Times: RTTs, hold-downs and the EDNS mark use the clock's monotonic milliseconds;
// lameness, like TTLs, uses wall-clock seconds.
#pragma once

#include <cstdint>
#include <string_view>

#include "cache/clock.h"
#include "cache/sharded_lru.h"
#include "resolver/wire/address.h"
#include "resolver/wire/name.h"

namespace rsv {

enum class EdnsSupport : uint8_t { unknown, supported, unsupported };
const char *to_string(EdnsSupport support);

struct ServerInfo {
  uint32_t srtt_ms;    // smoothed RTT; kUnknownServerRttMs while unmeasured
  uint32_t rttvar_ms;  // RTT variation
  uint32_t consecutive_timeouts;
  bool held_down;
  EdnsSupport edns;
  bool measured;  // at least one RTT sample has been recorded
  // What server selection ranks by: the smoothed RTT doubled for each consecutive
  // timeout (capped at kMaxSelectionRttMs), so a server that stopped answering sinks
  // below the ones that answer even before it is held down.
  uint32_t selection_rtt_ms;
  // The hold-down has ended and the single probe query has not been claimed yet.
  bool probe_due;
  // The server did not repeat a 0x20-randomised question's case: ask it without.
  bool no_caps;
};

class InfraCache {
public:
  // The RTT assumed for a server never measured: Unbound's UNKNOWN_SERVER_NICENESS.
  // It is less than the 400 ms band within which selection picks at random, so an
  // unknown server always falls inside the best server's band and gets tried (and
  // measured) early; from then on its real RTT decides.
  static constexpr uint32_t kUnknownServerRttMs = 376;
  // RFC 6298 2.4 asks for a floor of 1 s for TCP; DNS over UDP on today's networks
  // needs far less, and a ceiling keeps one dead server from stalling a resolution.
  static constexpr uint32_t kMinTimeoutMs = 50;
  static constexpr uint32_t kMaxTimeoutMs = 3000;
  static constexpr uint32_t kTimeoutsBeforeHoldDown = 3;
  static constexpr uint64_t kFirstHoldDownMs = 30'000;
  static constexpr uint64_t kMaxHoldDownMs = 15 * 60'000;
  // A claimed probe that never reports back (the request was abandoned) frees the
  // probe slot again after this long.
  static constexpr uint64_t kProbeWindowMs = kMaxTimeoutMs;
  static constexpr uint32_t kMaxSelectionRttMs = 120'000;
  // Unbound's infra-host-ttl: what a server taught us is forgotten after 15 minutes
  // without news from it.
  static constexpr uint64_t kHostTtlMs = 900'000;
  static constexpr uint64_t kEdnsProbeAfterMs = kHostTtlMs;

  InfraCache(const Clock &clock, size_t max_entries = 100000, size_t shards = 16);

  // For an unknown server: measured = false, srtt_ms = kUnknownServerRttMs.
  ServerInfo get(const SocketAddress &server) const;
  // RFC 6298 2.2/2.3 smoothing; resets consecutive timeouts and any hold-down.
  void record_rtt(const SocketAddress &server, uint32_t rtt_ms);
  // Backs the RTO off (RFC 6298 5.5); after 3 consecutive timeouts the server is held
  // down for 30 s, then one probe is allowed; each failed probe doubles the hold-down,
  // up to 15 minutes.
  void record_timeout(const SocketAddress &server);
  // RTO = srtt + 4 * rttvar (RFC 6298 2.3), doubled per consecutive timeout, clamped to
  // [50, 3000] ms; initial_timeout_ms (doubled likewise) for unmeasured servers.
  uint32_t timeout_ms(const SocketAddress &server, uint32_t initial_timeout_ms) const;
  // True while held down, and while the one probe after a hold-down is in flight.
  bool is_held_down(const SocketAddress &server) const;
  // Takes the single probe slot of a server whose hold-down has ended: true when the
  // caller may send (also for a server that is not held down at all), false while it
  // is held down or another probe is in flight. Selection calls this for the server it
  // picks; it changes no measurement, so it is const like the other readers.
  bool claim_probe(const SocketAddress &server) const;

  // Records whether the server answered a query with EDNS; `unsupported` is
  // forgotten after kEdnsProbeAfterMs (the next query tries EDNS again).
  void set_edns(const SocketAddress &server, EdnsSupport support);
  // The server changes the case of question names (0x20 cannot be used with it);
  // forgotten with the rest of the entry after kHostTtlMs without news.
  void set_no_caps(const SocketAddress &server);
  // RFC 1034 4.2.2 / RFC 2308 2.1 style lameness: this server does not serve `zone`.
  void mark_lame(const SocketAddress &server, const Name &zone, uint32_t seconds = 900);
  bool is_lame(const SocketAddress &server, const Name &zone) const;
  // This server sent data of `zone` that failed DNSSEC validation: it is asked last
  // for that zone (not never: it may be the only one) for `seconds`.
  void mark_bogus(const SocketAddress &server, const Name &zone, uint32_t seconds = 900);
  bool gave_bogus(const SocketAddress &server, const Name &zone) const;

  size_t server_count() const { return servers_.size(); }
  uint64_t memory_bytes() const {
    return servers_.memory_bytes() + lame_until_.memory_bytes() + bogus_until_.memory_bytes();
  }
  // Forgets everything learned about servers (`resolverctl flush --all`).
  void clear() {
    servers_.clear();
    lame_until_.clear();
    bogus_until_.clear();
  }

private:
  struct ServerEntry {
    bool measured = false;
    uint32_t srtt_ms = kUnknownServerRttMs;
    uint32_t rttvar_ms = kUnknownServerRttMs / 2;
    uint32_t consecutive_timeouts = 0;
    uint64_t held_until_ms = 0;  // 0: never held down since the last answer
    uint64_t hold_down_ms = 0;   // length of the current hold-down
    uint64_t probe_claimed_ms = 0;
    bool probe_in_flight = false;
    EdnsSupport edns = EdnsSupport::unknown;
    uint64_t edns_until_ms = 0;  // when an `unsupported` mark lapses
    bool no_caps = false;
    uint64_t refreshed_ms = 0;   // the last reply, timeout or EDNS finding
  };
  // The entry as it stands at `now_ms`: forgotten when stale, EDNS mark lapsed.
  static void age(ServerEntry &entry, uint64_t now_ms);
  enum class HoldState { free, held, probe_due, probing };
  HoldState hold_state(const ServerEntry &entry, uint64_t now_ms) const;
  ServerInfo info_of(const ServerEntry &entry, uint64_t now_ms) const;
  // Address octets then port: the family is implied by the length.
  class ServerKey;
  class LameKey;

  const Clock &clock_;
  // Bounded in entries: the byte budget is max_entries times the charge of one entry
  // with an IPv6 key. Lookups move entries in the recency list, hence mutable.
  mutable ShardedLru<ServerEntry> servers_;
  mutable ShardedLru<int64_t> lame_until_;   // wall-clock seconds
  mutable ShardedLru<int64_t> bogus_until_;  // wall-clock seconds
};

}  // namespace rsv
