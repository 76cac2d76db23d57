#include "resolver/base/log.h"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace rsv {

namespace {
std::atomic<int> g_severity{static_cast<int>(LogSeverity::info)};
std::mutex g_write_mutex;  // keeps lines from different loop threads whole

const char *severity_name(LogSeverity s) {
  switch (s) {
    case LogSeverity::error: return "error";
    case LogSeverity::warning: return "warning";
    case LogSeverity::info: return "info";
    case LogSeverity::debug: return "debug";
    case LogSeverity::trace: return "trace";
  }
  return "?";
}
}  // namespace

void set_log_severity(LogSeverity severity) { g_severity.store(static_cast<int>(severity), std::memory_order_relaxed); }

LogSeverity log_severity() { return static_cast<LogSeverity>(g_severity.load(std::memory_order_relaxed)); }

void log_line(LogSeverity severity, const char *format, ...) {
  char message[2048];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard lock(g_write_mutex);
  std::fprintf(stderr, "%s %s: %s\n", stamp, severity_name(severity), message);
}

}  // namespace rsv
