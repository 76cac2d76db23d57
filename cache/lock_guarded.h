// A value that can only be reached while its mutex is held.
//
// The caches are shared by every worker thread; each shard of a cache is one
// LockGuarded<Shard>, so the only way to touch a shard's map is through lock(),
// and forgetting the lock is a compile error rather than a data race.
#pragma once

#include <mutex>

namespace rsv {

template <typename T>
class LockGuarded {
public:
  // Holds the lock for as long as it lives; dereferences to the guarded value.
  class Holder {
  public:
    Holder(std::mutex &mutex, T &value) : lock_(mutex), value_(&value) {}
    T *operator->() const { return value_; }
    T &operator*() const { return *value_; }

  private:
    std::unique_lock<std::mutex> lock_;
    T *value_;
  };

  template <typename... Args>
  explicit LockGuarded(Args &&...args) : value_(std::forward<Args>(args)...) {}
  LockGuarded(const LockGuarded &) = delete;
  LockGuarded &operator=(const LockGuarded &) = delete;

  Holder lock() { return Holder(mutex_, value_); }

private:
  std::mutex mutex_;
  T value_;
};

}  // namespace rsv
