#include "resolver/iter/server_selection.h"

#include <algorithm>
#include <tuple>

namespace rsv {

namespace {

struct Candidate {
  size_t index;
  uint32_t rtt_ms;
  bool held_down;
  bool lame;
  bool probe_due;
  bool gave_bogus;
};

// Nothing usable is left: ask the least bad server rather than give up. A held-down
// server may have come back; a lame one has told us it does not serve the zone.
ServerChoice least_bad(const std::vector<Candidate> &untried) {
  auto badness = [](const Candidate &c) { return std::tuple(c.lame, c.held_down, c.rtt_ms); };
  auto it = std::min_element(untried.begin(), untried.end(),
                             [&](const Candidate &a, const Candidate &b) { return badness(a) < badness(b); });
  return ServerChoice{it->index, false};
}

// Position in `usable` of a random server within the band of the fastest.
size_t pick_within_band(const std::vector<Candidate> &usable, RandomSource &random) {
  uint32_t best = UINT32_MAX;
  for (const auto &c : usable) best = std::min(best, c.rtt_ms);
  const uint64_t limit = static_cast<uint64_t>(best) + kServerSelectionBandMs;
  size_t in_band = 0;
  for (const auto &c : usable) in_band += c.rtt_ms <= limit;
  auto nth = random.uniform(static_cast<uint32_t>(in_band));
  for (size_t i = 0; i < usable.size(); ++i) {
    if (usable[i].rtt_ms > limit) continue;
    if (nth-- == 0) return i;
  }
  return 0;  // not reached: the best server is always in its own band
}

}  // namespace

std::optional<ServerChoice> select_server(const std::vector<SocketAddress> &candidates, const Name &zone,
                                          const std::vector<size_t> &already_tried, const InfraCache &infra,
                                          RandomSource &random) {
  std::vector<Candidate> untried;
  untried.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (std::find(already_tried.begin(), already_tried.end(), i) != already_tried.end()) continue;
    const ServerInfo info = infra.get(candidates[i]);
    untried.push_back(Candidate{i, info.selection_rtt_ms, info.held_down, infra.is_lame(candidates[i], zone),
                                info.probe_due, infra.gave_bogus(candidates[i], zone)});
  }
  if (untried.empty()) return std::nullopt;

  std::vector<Candidate> usable;
  usable.reserve(untried.size());
  for (const auto &c : untried)
    if (!c.held_down && !c.lame && !c.gave_bogus) usable.push_back(c);
  // Servers that sent bogus data for the zone come last, but before the bad ones.
  if (usable.empty())
    for (const auto &c : untried)
      if (!c.held_down && !c.lame) usable.push_back(c);

  while (!usable.empty()) {
    const bool exploring = usable.size() > 1 && random.uniform(kServerExplorationOneIn) == 0;
    const size_t pos =
        exploring ? random.uniform(static_cast<uint32_t>(usable.size())) : pick_within_band(usable, random);
    const Candidate chosen = usable[pos];
    // A server just out of hold-down takes one probe at a time; if another request
    // holds it, this one must look elsewhere.
    if (!chosen.probe_due || infra.claim_probe(candidates[chosen.index]))
      return ServerChoice{chosen.index, exploring};
    usable.erase(usable.begin() + static_cast<std::ptrdiff_t>(pos));
  }
  return least_bad(untried);
}

}  // namespace rsv
