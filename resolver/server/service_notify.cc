#include "resolver/server/service_notify.h"

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>

#include <systemd/sd-daemon.h>

#include "resolver/base/log.h"

namespace rsv {
namespace {

uint64_t monotonic_now_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

std::string status_line(const std::string &text) {
  std::string line = text;
  for (char &c : line)
    if (c == '\n' || c == '\r') c = ' ';
  return line;
}

ServiceNotifier::ServiceNotifier() : monotonic_usec_(monotonic_now_usec) {
  const char *socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket != nullptr && *socket != '\0';
  auto failure_reported = std::make_shared<bool>(false);
  send_ = [failure_reported](const std::string &message) {
    // sd_notify: < 0 an error, 0 no socket, > 0 sent. unset_environment = 0: every
    // later notification (reloads, the shutdown) goes to the same socket.
    const int rc = sd_notify(0, message.c_str());
    if (rc < 0 && !*failure_reported) {
      *failure_reported = true;
      RSV_LOG(warning, "cannot notify the service manager (NOTIFY_SOCKET): %s%s", std::strerror(-rc),
              rc == -ENOENT ? "; after a chroot the socket must be reachable inside it" : "");
    }
  };
}

ServiceNotifier::ServiceNotifier(Send send, std::function<uint64_t()> monotonic_usec)
    : send_(std::move(send)), monotonic_usec_(std::move(monotonic_usec)), active_(true) {}

void ServiceNotifier::send(const std::string &message) {
  if (active_ && send_) send_(message);
}

void ServiceNotifier::ready(const std::string &status) {
  send("READY=1\nSTATUS=" + status_line(status));
}

void ServiceNotifier::reloading(const std::string &status) {
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec_()) +
       "\nSTATUS=" + status_line(status));
}

void ServiceNotifier::stopping(const std::string &status) {
  send("STOPPING=1\nSTATUS=" + status_line(status));
}

void ServiceNotifier::status(const std::string &status) {
  send("STATUS=" + status_line(status));
}

}  // namespace rsv
