// `resolverctl explain NAME [TYPE]`: resolve a question now and report every step.
//
// Each explain runs on the control loop, with its own upstream transport, engine and
// caches (RRsets, zone keys, servers' RTTs), empty at the start: so the walk goes from
// the root hints and the trust anchor down, and every zone cut, server, DS, DNSKEY
// and RRSIG of the answer shows in the trace, and nothing it fetches changes what
// clients are served. The shared caches are only read, to record what they held for
// the question and for each zone met (the answer cache is reported, never used).
// The configuration (trust anchors, forwarding, budgets) is the running one, and the
// negative trust anchors in force apply. At most kMaxConcurrent explains run at once.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "resolver/net/event_loop.h"
#include "resolver/server/caches.h"
#include "resolver/server/generation.h"

namespace rsv {

struct ExplainReport {
  bool ok = false;
  std::string error;   // !ok: why nothing was resolved
  nlohmann::json data;  // explain_trace.h describes it; explain_text.h renders it
};

class Explainer {
public:
  static constexpr size_t kMaxConcurrent = 4;

  Explainer(EventLoop &loop, Caches &shared);
  ~Explainer();
  Explainer(const Explainer &) = delete;
  Explainer &operator=(const Explainer &) = delete;

  // Calls `done` once, on the loop thread, when the resolution has finished (within
  // the configuration's time budget), or at once when too many explains are running.
  void explain(std::shared_ptr<Generation> generation, const Question &question, bool checking_disabled,
               std::function<void(ExplainReport)> done);
  size_t running() const { return sessions_.size(); }

private:
  struct Session;
  nlohmann::json cache_before(const Session &session) const;
  void complete(Session *session);

  EventLoop &loop_;
  Caches &shared_;
  std::list<std::unique_ptr<Session>> sessions_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rsv
