#include "resolver/net/event_loop.h"

#include <sys/prctl.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <utility>

#include "resolver/net/uv_box.h"

namespace rsv {

// The loop's wake-up handle: post() and stop() from other threads signal it.
struct LoopAsyncBox {
  uv_async_t handle{};
  EventLoop *owner = nullptr;
};

struct TimerBox {
  uv_timer_t handle{};
  std::function<void()> callback;
};

struct SignalBox {
  uv_signal_t handle{};
  std::shared_ptr<std::function<void(int)>> callback;
};

struct TurnPrepareBox {
  uv_prepare_t handle{};
  EndOfTurn *owner = nullptr;
};

struct TurnCheckBox {
  uv_check_t handle{};
  EndOfTurn *owner = nullptr;
};

// ---------------------------------------------------------------------------------
// EventLoop

EventLoop::EventLoop() {
  // A write to a TCP peer that has gone must come back as EPIPE, not kill the daemon.
  // libuv does not do this for us; ignoring SIGPIPE is process-wide and idempotent.
  std::signal(SIGPIPE, SIG_IGN);
  auto loop = std::make_unique<uv_loop_t>();
  if (int rc = uv_loop_init(loop.get()); rc != 0)
    throw std::runtime_error("cannot create an event loop: " + uvbox::error_text(rc));
  loop_ = loop.release();

  auto *box = new LoopAsyncBox;
  box->owner = this;
  int rc = uv_async_init(loop_, &box->handle, [](uv_async_t *handle) {
    auto *async_box = static_cast<LoopAsyncBox *>(handle->data);
    if (async_box->owner) async_box->owner->on_wake_up();
  });
  if (rc != 0) {
    uvbox::delete_unregistered_box(box);
    uv_loop_close(loop_);
    delete loop_;
    throw std::runtime_error("cannot create an event loop wake-up: " + uvbox::error_text(rc));
  }
  box->handle.data = box;
  wake_up_ = box;
}

EventLoop::~EventLoop() {
  wake_up_->owner = nullptr;
  uvbox::close_box(wake_up_);
  // Close callbacks (ours and those of objects destroyed earlier) run at the end of an
  // iteration; a few non-blocking iterations free every box.
  for (int i = 0; i < 16 && uv_loop_alive(loop_); ++i) uv_run(loop_, UV_RUN_NOWAIT);
  if (uv_loop_close(loop_) == 0) {
    delete loop_;
  } else {
    // A handle's owner outlived the loop (a bug elsewhere). Its memory still points
    // at the loop, so leaking the loop is the only safe choice.
    std::fputs("resolverd: event loop destroyed with handles still open\n", stderr);
  }
}

void EventLoop::run() {
  // One turn at a time, so that the coalescing pause falls between turns: after the
  // turn's check handles (EndOfTurn has sent its deferred replies) and before the
  // next poll.
  stopped_ = false;
  while (!stopped_) {
    uv_run(loop_, UV_RUN_ONCE);
    end_turn();
  }
}

void EventLoop::end_turn() {
  const size_t datagrams = turn_datagrams_;
  turn_datagrams_ = 0;
  if (stopped_) return;
  const uint32_t pause_us = coalescing_.after_turn(datagrams, uv_now(loop_));
  if (pause_us == 0) return;
  if (!timer_slack_set_) {
    // The kernel may stretch a sleep by the thread's timer slack, 50 us by default:
    // as long as a typical window. 1 us keeps the pause the length asked for.
    ::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    timer_slack_set_ = true;
  }
  ++coalescing_pauses_;
  const timespec pause{0, static_cast<long>(pause_us) * 1000L};
  // A signal only shortens the pause.
  ::clock_nanosleep(CLOCK_MONOTONIC, 0, &pause, nullptr);
}

bool EventLoop::run_until(const std::function<bool()> &done, uint32_t timeout_ms) {
  uv_update_time(loop_);
  const uint64_t deadline = uv_now(loop_) + timeout_ms;
  // The timer bounds each blocking iteration, so `done` is re-checked even when the
  // condition is changed by another thread that does not wake the loop.
  Timer tick(*this);
  while (!done()) {
    uv_update_time(loop_);
    uint64_t now = uv_now(loop_);
    if (now >= deadline) return false;
    tick.start(std::min<uint64_t>(10, deadline - now), [] {});
    uv_run(loop_, UV_RUN_ONCE);
    end_turn();
  }
  return true;
}

void EventLoop::stop() {
  stop_requested_.store(true);
  uv_async_send(&wake_up_->handle);
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.push_back(std::move(task));
  }
  uv_async_send(&wake_up_->handle);
}

uint64_t EventLoop::now_ms() const { return uv_now(loop_); }

void EventLoop::update_clock() {
  uv_update_time(loop_);
}

void EventLoop::on_wake_up() {
  // uv_async_send coalesces signals, so drain everything queued so far.
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(tasks_mutex_);
    ready.swap(tasks_);
  }
  for (auto &task : ready) task();
  if (stop_requested_.exchange(false)) {
    stopped_ = true;
    uv_stop(loop_);
  }
}

// ---------------------------------------------------------------------------------
// Timer

Timer::Timer(EventLoop &loop) {
  auto *box = new TimerBox;
  // uv_timer_init cannot fail on a valid loop.
  uv_timer_init(loop.uv_loop(), &box->handle);
  box->handle.data = box;
  box_ = box;
}

Timer::~Timer() {
  uv_timer_stop(&box_->handle);
  box_->callback = nullptr;
  uvbox::close_box(box_);
}

void Timer::start(uint64_t delay_ms, std::function<void()> callback) {
  box_->callback = std::move(callback);
  uv_timer_start(
      &box_->handle,
      [](uv_timer_t *handle) {
        auto *box = static_cast<TimerBox *>(handle->data);
        // Moved out first: the callback may destroy the Timer or start it again.
        auto callback = std::move(box->callback);
        box->callback = nullptr;
        if (callback) callback();
      },
      delay_ms, 0);
}

void Timer::stop() {
  uv_timer_stop(&box_->handle);
  box_->callback = nullptr;
}

bool Timer::active() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t *>(&box_->handle)) != 0;
}

// ---------------------------------------------------------------------------------
// EndOfTurn

EndOfTurn::EndOfTurn(EventLoop &loop, std::function<void()> callback) : callback_(std::move(callback)) {
  // uv_prepare_init and uv_check_init cannot fail on a valid loop.
  prepare_ = new TurnPrepareBox;
  uv_prepare_init(loop.uv_loop(), &prepare_->handle);
  prepare_->handle.data = prepare_;
  prepare_->owner = this;
  check_ = new TurnCheckBox;
  uv_check_init(loop.uv_loop(), &check_->handle);
  check_->handle.data = check_;
  check_->owner = this;
}

EndOfTurn::~EndOfTurn() {
  uv_prepare_stop(&prepare_->handle);
  uv_check_stop(&check_->handle);
  prepare_->owner = nullptr;
  check_->owner = nullptr;
  uvbox::close_box(prepare_);
  uvbox::close_box(check_);
}

void EndOfTurn::arm() {
  if (armed_) return;
  armed_ = true;
  uv_prepare_start(&prepare_->handle, [](uv_prepare_t *handle) {
    auto *box = static_cast<TurnPrepareBox *>(handle->data);
    if (box->owner != nullptr) box->owner->fire();
  });
  uv_check_start(&check_->handle, [](uv_check_t *handle) {
    auto *box = static_cast<TurnCheckBox *>(handle->data);
    if (box->owner != nullptr) box->owner->fire();
  });
}

void EndOfTurn::fire() {
  // Disarmed first: the callback may arm again for work it starts itself.
  uv_prepare_stop(&prepare_->handle);
  uv_check_stop(&check_->handle);
  armed_ = false;
  callback_();
}

// ---------------------------------------------------------------------------------
// SignalWatcher

SignalWatcher::SignalWatcher(EventLoop &loop, std::initializer_list<int> signal_numbers,
                             std::function<void(int)> callback)
    : callback_(std::make_shared<std::function<void(int)>>(std::move(callback))) {
  for (int signal_number : signal_numbers) {
    auto *box = new SignalBox;
    box->callback = callback_;
    uv_signal_init(loop.uv_loop(), &box->handle);
    box->handle.data = box;
    boxes_.push_back(box);
    int rc = uv_signal_start(
        &box->handle,
        [](uv_signal_t *handle, int signum) {
          auto *signal_box = static_cast<SignalBox *>(handle->data);
          // Hold a reference: the callback may destroy the watcher.
          auto keep = signal_box->callback;
          if (keep && *keep) (*keep)(signum);
        },
        signal_number);
    if (rc != 0) {
      for (auto *b : boxes_) uvbox::close_box(b);
      boxes_.clear();
      throw std::runtime_error("cannot watch signal " + std::to_string(signal_number) + ": " +
                               uvbox::error_text(rc));
    }
  }
}

SignalWatcher::~SignalWatcher() {
  for (auto *box : boxes_) {
    uv_signal_stop(&box->handle);
    box->callback = nullptr;
    uvbox::close_box(box);
  }
}

std::unique_ptr<SignalWatcher> SignalWatcher::on_termination(EventLoop &loop,
                                                             std::function<void(int)> callback) {
  return std::make_unique<SignalWatcher>(loop, std::initializer_list<int>{SIGTERM, SIGINT},
                                         std::move(callback));
}

}  // namespace rsv
