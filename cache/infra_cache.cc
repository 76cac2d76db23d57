#include "cache/infra_cache.h"

#include <algorithm>
#include <cstring>

namespace rsv {

const char *to_string(EdnsSupport support) {
  switch (support) {
    case EdnsSupport::unknown: return "unknown";
    case EdnsSupport::supported: return "supported";
    case EdnsSupport::unsupported: return "unsupported";
  }
  return "?";
}

// Address octets (4 or 16) then the port, in a stack buffer.
class InfraCache::ServerKey {
public:
  explicit ServerKey(const SocketAddress &server) {
    std::string_view address = server.address_bytes();
    std::memcpy(bytes_, address.data(), address.size());
    size_ = address.size();
    bytes_[size_++] = static_cast<char>(server.port() >> 8);
    bytes_[size_++] = static_cast<char>(server.port() & 0xFF);
  }
  std::string_view view() const { return {bytes_, size_}; }

protected:
  char bytes_[16 + 2 + Name::kMaxWireLength];
  size_t size_ = 0;
};

// The server's key followed by the lower-cased zone name.
class InfraCache::LameKey : public InfraCache::ServerKey {
public:
  LameKey(const SocketAddress &server, const Name &zone) : ServerKey(server) {
    for (char c : zone.wire()) bytes_[size_++] = dns_tolower(c);
  }
};

namespace {

constexpr size_t kServerKeySize = 16 + 2;    // IPv6 address and port
constexpr size_t kTypicalZoneWireSize = 24;  // a name like "example.co.uk."

// The caches are bounded in bytes; these turn an entry count into a byte budget.
uint64_t budget_for(size_t max_entries, size_t key_size) {
  return static_cast<uint64_t>(max_entries) * ShardedLru<int>::entry_bytes(std::string(key_size, 'x'), 0);
}

}  // namespace

InfraCache::InfraCache(const Clock &clock, size_t max_entries, size_t shards)
    : clock_(clock),
      servers_(budget_for(max_entries, kServerKeySize), shards),
      lame_until_(budget_for(max_entries, kServerKeySize + kTypicalZoneWireSize), shards),
      bogus_until_(budget_for(max_entries / 4, kServerKeySize + kTypicalZoneWireSize), shards) {}

void InfraCache::age(ServerEntry &entry, uint64_t now_ms) {
  // A server in a hold-down cycle keeps it (its probe schedule is its own expiry).
  if (entry.refreshed_ms != 0 && now_ms - entry.refreshed_ms >= kHostTtlMs && entry.held_until_ms == 0) {
    entry = ServerEntry{};
    return;
  }
  if (entry.edns == EdnsSupport::unsupported && now_ms >= entry.edns_until_ms) entry.edns = EdnsSupport::unknown;
}

InfraCache::HoldState InfraCache::hold_state(const ServerEntry &entry, uint64_t now_ms) const {
  if (entry.held_until_ms == 0) return HoldState::free;
  if (now_ms < entry.held_until_ms) return HoldState::held;
  if (entry.probe_in_flight && now_ms < entry.probe_claimed_ms + kProbeWindowMs) return HoldState::probing;
  return HoldState::probe_due;
}

ServerInfo InfraCache::info_of(const ServerEntry &entry, uint64_t now_ms) const {
  const HoldState state = hold_state(entry, now_ms);
  const unsigned doublings = std::min<uint32_t>(entry.consecutive_timeouts, 20);
  const uint64_t selection_rtt = static_cast<uint64_t>(entry.srtt_ms) << doublings;
  return ServerInfo{entry.srtt_ms,
                    entry.rttvar_ms,
                    entry.consecutive_timeouts,
                    state == HoldState::held || state == HoldState::probing,
                    entry.edns,
                    entry.measured,
                    static_cast<uint32_t>(std::min<uint64_t>(selection_rtt, kMaxSelectionRttMs)),
                    state == HoldState::probe_due,
                    entry.no_caps};
}

ServerInfo InfraCache::get(const SocketAddress &server) const {
  const uint64_t now_ms = clock_.now_monotonic_ms();
  ServerInfo info = info_of(ServerEntry{}, now_ms);
  servers_.find(ServerKey(server).view(), [&](ServerEntry &entry) {
    age(entry, now_ms);
    info = info_of(entry, now_ms);
  });
  return info;
}

void InfraCache::record_rtt(const SocketAddress &server, uint32_t rtt_ms) {
  const uint64_t now_ms = clock_.now_monotonic_ms();
  servers_.upsert(ServerKey(server).view(), 0, [&](ServerEntry &entry) {
    age(entry, now_ms);
    entry.refreshed_ms = now_ms;
    if (!entry.measured) {
      // RFC 6298 2.2: the first measurement R sets SRTT = R, RTTVAR = R/2.
      entry.srtt_ms = rtt_ms;
      entry.rttvar_ms = rtt_ms / 2;
      entry.measured = true;
    } else {
      // RFC 6298 2.3 with alpha = 1/8, beta = 1/4; RTTVAR uses the old SRTT.
      const uint32_t deviation = entry.srtt_ms > rtt_ms ? entry.srtt_ms - rtt_ms : rtt_ms - entry.srtt_ms;
      entry.rttvar_ms = static_cast<uint32_t>((3ull * entry.rttvar_ms + deviation) / 4);
      entry.srtt_ms = static_cast<uint32_t>((7ull * entry.srtt_ms + rtt_ms) / 8);
    }
    // An answer ends any backing off (RFC 6298 5.7) and any hold-down.
    entry.consecutive_timeouts = 0;
    entry.held_until_ms = 0;
    entry.hold_down_ms = 0;
    entry.probe_in_flight = false;
  });
}

void InfraCache::record_timeout(const SocketAddress &server) {
  const uint64_t now_ms = clock_.now_monotonic_ms();
  servers_.upsert(ServerKey(server).view(), 0, [&](ServerEntry &entry) {
    age(entry, now_ms);
    entry.refreshed_ms = now_ms;
    if (entry.consecutive_timeouts < UINT32_MAX) ++entry.consecutive_timeouts;
    if (entry.consecutive_timeouts < kTimeoutsBeforeHoldDown) return;
    switch (hold_state(entry, now_ms)) {
      case HoldState::free: entry.hold_down_ms = kFirstHoldDownMs; break;
      case HoldState::held:
        // A query sent before the hold-down began timed out late: already counted.
        return;
      case HoldState::probe_due:
      case HoldState::probing:
        // The probe failed: the server is still dead, wait twice as long.
        entry.hold_down_ms = std::min(entry.hold_down_ms * 2, kMaxHoldDownMs);
        break;
    }
    entry.held_until_ms = now_ms + entry.hold_down_ms;
    entry.probe_in_flight = false;
  });
}

uint32_t InfraCache::timeout_ms(const SocketAddress &server, uint32_t initial_timeout_ms) const {
  const ServerInfo info = get(server);
  // RFC 6298 5.5: each timeout doubles the RTO ("backing off the timer").
  const unsigned doublings = std::min<uint32_t>(info.consecutive_timeouts, 16);
  if (!info.measured) {
    const uint64_t backed_off = static_cast<uint64_t>(initial_timeout_ms) << doublings;
    return static_cast<uint32_t>(std::min<uint64_t>(backed_off, std::max(initial_timeout_ms, kMaxTimeoutMs)));
  }
  // RFC 6298 2.3: RTO = SRTT + max(G, K * RTTVAR) with K = 4; the clock granularity G
  // (1 ms) is below the floor applied next.
  const uint64_t rto = (static_cast<uint64_t>(info.srtt_ms) + 4ull * info.rttvar_ms) << doublings;
  return static_cast<uint32_t>(std::clamp<uint64_t>(rto, kMinTimeoutMs, kMaxTimeoutMs));
}

bool InfraCache::is_held_down(const SocketAddress &server) const {
  return get(server).held_down;
}

bool InfraCache::claim_probe(const SocketAddress &server) const {
  const uint64_t now_ms = clock_.now_monotonic_ms();
  bool may_send = true;
  servers_.find(ServerKey(server).view(), [&](ServerEntry &entry) {
    age(entry, now_ms);
    switch (hold_state(entry, now_ms)) {
      case HoldState::free: break;
      case HoldState::held:
      case HoldState::probing: may_send = false; break;
      case HoldState::probe_due:
        entry.probe_in_flight = true;
        entry.probe_claimed_ms = now_ms;
        break;
    }
  });
  return may_send;
}

void InfraCache::set_edns(const SocketAddress &server, EdnsSupport support) {
  const uint64_t now_ms = clock_.now_monotonic_ms();
  servers_.upsert(ServerKey(server).view(), 0, [&](ServerEntry &entry) {
    age(entry, now_ms);
    entry.refreshed_ms = now_ms;
    entry.edns = support;
    if (support == EdnsSupport::unsupported) entry.edns_until_ms = now_ms + kEdnsProbeAfterMs;
  });
}

void InfraCache::set_no_caps(const SocketAddress &server) {
  const uint64_t now_ms = clock_.now_monotonic_ms();
  servers_.upsert(ServerKey(server).view(), 0, [&](ServerEntry &entry) {
    age(entry, now_ms);
    entry.refreshed_ms = now_ms;
    entry.no_caps = true;
  });
}

void InfraCache::mark_lame(const SocketAddress &server, const Name &zone, uint32_t seconds) {
  lame_until_.insert(LameKey(server, zone).view(), clock_.now_seconds() + seconds, 0);
}

void InfraCache::mark_bogus(const SocketAddress &server, const Name &zone, uint32_t seconds) {
  bogus_until_.insert(LameKey(server, zone).view(), clock_.now_seconds() + seconds, 0);
}

bool InfraCache::gave_bogus(const SocketAddress &server, const Name &zone) const {
  const int64_t now = clock_.now_seconds();
  bool bogus = false;
  bogus_until_.find(LameKey(server, zone).view(), [&](int64_t until) { bogus = now < until; });
  return bogus;
}

bool InfraCache::is_lame(const SocketAddress &server, const Name &zone) const {
  const int64_t now = clock_.now_seconds();
  bool lame = false;
  lame_until_.find(LameKey(server, zone).view(), [&](int64_t until) { lame = now < until; });
  return lame;
}

}  // namespace rsv
