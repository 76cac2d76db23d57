// Which name server of a delegation to ask next.
//
// How one query passes through it: the iterator has a delegation (a zone cut and the
// addresses of its name servers) and calls select_server each time it needs to send;
// it passes the indices it has already tried for this question, and after the reply or
// timeout the engine reports the outcome to the InfraCache, which this reads.
//
// The rule is Unbound's: skip servers that are held down after repeated timeouts or
// lame for this zone, and, while others are left, those that sent data of the zone
// that failed DNSSEC validation; among the rest, pick at random among those whose smoothed RTT is
// within 400 ms of the best, so load spreads over servers that are about as fast; and
// now and then (about one pick in 20) pick any usable server, so the RTT estimates of
// the others do not go stale. A server never measured counts with the infra cache's
// default RTT (376 ms), which always lies inside the best server's band, so new
// servers get measured soon.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "cache/infra_cache.h"
#include "cache/random.h"
#include "resolver/wire/address.h"
#include "resolver/wire/name.h"

namespace rsv {

struct ServerChoice {
  size_t index;    // into `candidates`
  bool exploring;  // chosen at random to refresh its RTT, not because it is fast
};

// Servers whose RTT is within this of the best one are chosen among at random.
inline constexpr uint32_t kServerSelectionBandMs = 400;
// One selection in this many explores a random usable server.
inline constexpr uint32_t kServerExplorationOneIn = 20;

// Picks which of `candidates` (addresses of one delegation's name servers) to ask next.
// Skips indices in `already_tried`, held-down servers and servers lame for `zone`,
// unless nothing else is left (then the least bad one: held down before lame, then the
// lowest RTT); prefers the lowest smoothed RTT, choosing at random among those within
// 400 ms of the best, and with probability ~1/20 explores a random usable server. When
// the pick is a server whose hold-down just ended, it claims that server's single probe
// (InfraCache::claim_probe). Returns nullopt when every candidate was tried.
std::optional<ServerChoice> select_server(const std::vector<SocketAddress> &candidates, const Name &zone,
                                          const std::vector<size_t> &already_tried, const InfraCache &infra,
                                          RandomSource &random);

}  // namespace rsv
