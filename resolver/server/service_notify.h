// Telling the service manager how the daemon is doing: systemd's notify protocol
// (sd_notify(3), Type=notify in conf/resolverd.service), through libsystemd.
//
// The daemon says READY=1 once every listener is bound and the workers run,
// RELOADING=1 when a reload (SIGHUP or `resolverctl reload`) starts and READY=1 when
// it is over (whether the new configuration was taken or refused), and STOPPING=1 at
// shutdown; each with a STATUS= line that `systemctl status resolverd` shows. Without
// NOTIFY_SOCKET in the environment (not started by systemd) nothing is sent and
// nothing fails.
//
// The seam for tests: a ServiceNotifier built with a Send function receives the
// messages instead of libsystemd (tests/unit/service_notify_test.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace rsv {

class ServiceNotifier {
public:
  // One notification: newline-separated VARIABLE=value assignments.
  using Send = std::function<void(const std::string &message)>;

  // libsystemd's sd_notify: to $NOTIFY_SOCKET, or nowhere when it is not set.
  ServiceNotifier();
  // Messages go to `send`; `monotonic_usec` is the clock RELOADING=1 is stamped with.
  ServiceNotifier(Send send, std::function<uint64_t()> monotonic_usec);

  void ready(const std::string &status);
  // RELOADING=1 with MONOTONIC_USEC= (systemd 253 and later need it; older ones
  // ignore it), to be followed by ready().
  void reloading(const std::string &status);
  void stopping(const std::string &status);
  void status(const std::string &status);

  // True when notifications go somewhere: $NOTIFY_SOCKET was set, or a test's Send.
  bool active() const { return active_; }

private:
  void send(const std::string &message);

  Send send_;
  std::function<uint64_t()> monotonic_usec_;
  bool active_ = false;
};

// STATUS= text on one line: newlines (which would start a new assignment) become spaces.
std::string status_line(const std::string &text);

}  // namespace rsv
