// Logging to stderr with a level, shared by every layer.
//
// One line per event: "2026-11-29T22:39:53Z info: message". The level is set once
// at start-up from the configuration; checking it is a relaxed atomic load so
// disabled debug lines cost one comparison.
#pragma once

#include <atomic>
#include <cstdarg>

namespace rsv {

enum class LogSeverity : int { error = 0, warning = 1, info = 2, debug = 3, trace = 4 };

void set_log_severity(LogSeverity severity);
LogSeverity log_severity();

inline bool log_enabled(LogSeverity severity) { return static_cast<int>(severity) <= static_cast<int>(log_severity()); }

[[gnu::format(printf, 2, 3)]] void log_line(LogSeverity severity, const char *format, ...);

}  // namespace rsv

#define RSV_LOG(severity, ...)                                       \
  do {                                                               \
    if (::rsv::log_enabled(::rsv::LogSeverity::severity))            \
      ::rsv::log_line(::rsv::LogSeverity::severity, __VA_ARGS__);    \
  } while (0)
