// One libuv event loop per worker thread, plus the timers and signal watchers that
// run on it.
//
// A query's life on a worker thread happens entirely inside EventLoop::run(): the
// listeners' read callbacks hand queries to the server, the upstream's sockets and
// timers deliver authorities' replies, and closures posted from other threads (a
// reload, a shutdown request) run between them. Nothing in this layer is
// thread-safe except EventLoop::post() and EventLoop::stop().
//
// Lifetime rules (for every class of resolver/net):
//  - Every object that owns a libuv handle (Timer, SignalWatcher, listeners,
//    UdpTcpUpstream) must be destroyed before its EventLoop, on the loop's thread.
//  - Destroying such an object calls uv_close; the handle's memory is freed in the close
//    callback, the next time the loop runs. ~EventLoop runs the loop until every closed
//    handle has been freed.
//  - A callback given to a Timer or SignalWatcher is never called after that object
//    is destroyed or stopped. Destroying a Timer from inside its own callback is safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <vector>

#include "resolver/base/counter.h"
#include "resolver/net/receive_coalescing.h"

struct uv_loop_s;  // libuv's loop; only resolver/net/*.cc see its definition

namespace rsv {

struct LoopAsyncBox;
struct TimerBox;
struct SignalBox;
struct TurnPrepareBox;
struct TurnCheckBox;

class EventLoop {
public:
  // Throws std::runtime_error if the loop cannot be created (start-up only). Sets
  // SIGPIPE to be ignored for the whole process (peers that leave are error values).
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop &) = delete;
  EventLoop &operator=(const EventLoop &) = delete;

  // Runs callbacks until stop() is called. The loop's internal wake-up handle keeps it
  // running even with nothing else to do.
  void run();
  // Runs until `done()` is true (checked at least every 10 ms) or `timeout_ms` passed;
  // returns whether `done()` became true. For tests and for draining at shutdown.
  // Turns are as in run(), coalescing pauses included.
  bool run_until(const std::function<bool()> &done, uint32_t timeout_ms);
  // Makes run() return. Callable from any thread, also before run() started.
  void stop();
  // Runs `task` on the loop thread, soon. Callable from any thread; tasks run in the
  // order posted. Tasks still queued when the loop is destroyed are discarded.
  void post(std::function<void()> task);

  // Milliseconds of the loop's cached monotonic clock.
  uint64_t now_ms() const;
  // Reads the clock again. The loop reads it once a turn, and timers count from that
  // reading: one started late in a long turn would otherwise be short by the time the
  // turn has taken so far.
  void update_clock();

  uv_loop_s *uv_loop() const { return loop_; }

  // Receive coalescing (resolver/net/receive_coalescing.h): after a turn that read a
  // few client datagrams while they arrive fast, the loop sleeps up to `window_us`
  // before it polls again, so the next turn finds them together. 0: off. Set on the
  // loop's thread (or before run()).
  void set_coalescing_window(uint32_t window_us) { coalescing_.set_window(window_us); }
  uint32_t coalescing_window() const { return coalescing_.window(); }
  // The UDP listeners report each read's datagrams (loop thread only).
  void note_datagrams_read(size_t datagrams) { turn_datagrams_ += datagrams; }
  // Pauses taken so far; readable from any thread.
  uint64_t coalescing_pauses() const { return coalescing_pauses_.get(); }

private:
  void on_wake_up();
  // Between two turns: the coalescing pause, when the turn that ended calls for one.
  void end_turn();

  uv_loop_s *loop_ = nullptr;
  LoopAsyncBox *wake_up_ = nullptr;
  std::mutex tasks_mutex_;
  std::vector<std::function<void()>> tasks_;
  std::atomic<bool> stop_requested_{false};
  bool stopped_ = false;  // loop thread only: run() returns after this turn
  ReceiveCoalescing coalescing_;
  size_t turn_datagrams_ = 0;
  bool timer_slack_set_ = false;
  Counter coalescing_pauses_;

  friend struct LoopAsyncBox;
};

// A one-shot timer on an EventLoop. start() replaces any earlier start().
class Timer {
public:
  explicit Timer(EventLoop &loop);
  ~Timer();
  Timer(const Timer &) = delete;
  Timer &operator=(const Timer &) = delete;

  // Calls `callback` once, after `delay_ms` (0: on the next loop iteration, never
  // from inside start()).
  void start(uint64_t delay_ms, std::function<void()> callback);
  void stop();
  bool active() const;

private:
  TimerBox *box_ = nullptr;
  friend struct TimerBox;
};

// Runs a callback once at the end of the loop's current turn, when armed: right after
// this iteration's I/O callbacks (a uv_check handle) or, when armed outside them (from
// a timer or a posted task), before the loop next waits for I/O (a uv_prepare handle),
// so armed work never waits for the next event. Work that costs a system call per item
// when done at once (a datagram per upstream query, a reply per answered question) is
// gathered during the turn and done together here: one burst of sends wakes the
// receiving process once, where sends spread over the turn wake it each time.
// Unarmed, it costs the loop nothing.
class EndOfTurn {
public:
  EndOfTurn(EventLoop &loop, std::function<void()> callback);
  ~EndOfTurn();
  EndOfTurn(const EndOfTurn &) = delete;
  EndOfTurn &operator=(const EndOfTurn &) = delete;

  // Idempotent. The callback runs once per arming; it may arm again (it then runs
  // before the next wait for I/O) but must not destroy this object.
  void arm();
  bool armed() const { return armed_; }

private:
  void fire();

  std::function<void()> callback_;
  TurnPrepareBox *prepare_ = nullptr;
  TurnCheckBox *check_ = nullptr;
  bool armed_ = false;
};

// Watches process signals (SIGTERM and SIGINT for the daemon's shutdown) on one loop.
// The callback runs on the loop thread, not in a signal handler, so it may do anything.
class SignalWatcher {
public:
  SignalWatcher(EventLoop &loop, std::initializer_list<int> signal_numbers,
                std::function<void(int signal_number)> callback);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher &) = delete;
  SignalWatcher &operator=(const SignalWatcher &) = delete;

  // The usual pair: SIGTERM (service manager) and SIGINT (Ctrl-C).
  static std::unique_ptr<SignalWatcher> on_termination(EventLoop &loop,
                                                       std::function<void(int)> callback);

private:
  std::vector<SignalBox *> boxes_;
  std::shared_ptr<std::function<void(int)>> callback_;
};

}  // namespace rsv
