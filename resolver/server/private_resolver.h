// Questions the daemon asks for itself, on the control loop: the RFC 5011 refresh of
// an anchored zone's DNSKEY RRset and the RFC 8145 key tag query.
//
// Each runs as `resolverctl explain` does (resolver/server/explain.h): its own
// upstream transport, engine and caches, empty at the start, with the running
// configuration and anchors. Not the shared caches, for three reasons: an active
// refresh must ask the zone's servers what they publish now, where a cached DNSKEY
// set would hide a new key for its TTL (RFC 5011 2.3); the refresh is made with CD
// set, because the trust point validates the set against its own keys, and data
// fetched with CD must not reach clients unjudged; and the key tag query must reach
// the authority, not be answered from cached NSEC records (RFC 8198). The cost is a
// walk from the root for each question, a few times a day in production.
#pragma once

#include <functional>
#include <list>
#include <memory>

#include "dnssec/resolution.h"
#include "resolver/net/event_loop.h"
#include "resolver/server/caches.h"
#include "resolver/server/generation.h"

namespace rsv {

class PrivateResolver {
public:
  static constexpr size_t kMaxConcurrent = 8;

  PrivateResolver(EventLoop &loop, Caches &shared);
  ~PrivateResolver();
  PrivateResolver(const PrivateResolver &) = delete;
  PrivateResolver &operator=(const PrivateResolver &) = delete;

  // Resolves `question`; `done` runs once, on the loop thread, after the resolution
  // (within the configuration's time budget), or at once with a SERVFAIL when
  // kMaxConcurrent are already running. Never after this object is destroyed.
  void resolve(std::shared_ptr<Generation> generation, const Question &question, bool checking_disabled,
               std::function<void(const Resolution &)> done);
  size_t running() const { return sessions_.size(); }

private:
  struct Session;
  void complete(Session *session, Resolution result);

  EventLoop &loop_;
  Caches &shared_;
  std::list<std::unique_ptr<Session>> sessions_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rsv
