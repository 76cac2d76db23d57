// Timers for the query handler, which otherwise only reacts to queries and to the
// engine's completions: serve-stale's client response timer (RFC 8767 5) answers a
// client with stale data when the resolution takes longer than
// cache.stale-client-timeout. A worker schedules on its event loop (libuv timers,
// resolver/net/event_loop.h); unit tests fire the callbacks by hand.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace rsv {

// A pending call; destroying it cancels the call.
class Scheduled {
public:
  virtual ~Scheduled() = default;
};

class Scheduler {
public:
  virtual ~Scheduler() = default;
  // Calls `fire` once, `delay_ms` from now, on the caller's thread, unless the
  // returned handle is destroyed first.
  virtual std::unique_ptr<Scheduled> after(uint64_t delay_ms, std::function<void()> fire) = 0;
};

}  // namespace rsv
