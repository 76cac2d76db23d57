// The commands of the control channel (`resolverctl`), run on the daemon's control
// loop.
//
// A request is one JSON object: {"args": ["flush", "example.com", "--subtree"]}, the
// command line after resolverctl's own options. The reply is one JSON object:
//   {"ok": true,  "text": "what resolverctl prints", "data": {... the same as data}}
//   {"ok": false, "error": "why", "text": "why"}
// so that resolverctl stays a thin client and every command's output is written here
// once. Commands:
//   status                      version, uptime, threads, configuration, trust anchors (and
//                               their RFC 5011 state), cache fill
//   stats                       every counter (resolver/server/metrics.h)
//   flush NAME [--subtree]      forget NAME (and with --subtree everything below it)
//   flush --all                 forget everything, the server (infra) cache included
//   reload                      re-read the configuration, root hints, trust anchors
//   nta add NAME [--for SECS]   a negative trust anchor, 1 day unless said (max 1 week)
//   nta remove NAME | nta list
//   log-level [LEVEL]           show or set error, warning, info, debug, trace
//   explain NAME [TYPE] [--cd]  resolve now and show every step (resolver/server/explain.h)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "resolver/server/explain.h"

namespace rsv {

class Daemon;

class ControlService {
public:
  using Respond = std::function<void(const std::string &reply)>;

  explicit ControlService(Daemon &daemon);
  ~ControlService();

  // Parses and runs one request; `respond` gets the reply (a JSON text), now or later.
  void handle(const std::string &request, Respond respond);
  // The same with the arguments already split (the HTTP listener's explain form).
  void run(const std::vector<std::string> &args, std::function<void(nlohmann::json)> reply);

private:
  nlohmann::json status() const;
  nlohmann::json stats() const;
  void flush(const std::vector<std::string> &args, std::function<void(nlohmann::json)> reply);
  nlohmann::json reload();
  void nta(const std::vector<std::string> &args, std::function<void(nlohmann::json)> reply);
  nlohmann::json log_level(const std::vector<std::string> &args);
  void explain(const std::vector<std::string> &args, std::function<void(nlohmann::json)> reply);

  Daemon &daemon_;
  Explainer explainer_;
};

// Replies for the commands' helpers (also used by tests).
nlohmann::json control_ok(std::string text, nlohmann::json data = nlohmann::json::object());
nlohmann::json control_error(const std::string &error);

// `nta add NAME --for TEXT`: TEXT is read as the configuration reads a duration
// (parse_seconds, resolver/config/config.h: "3600", "90s", "30m", "12h", "2d", "1w";
// a typo is an error, never a duration of another length), and must be more than
// zero and at most a week (RFC 7646 2: a negative trust anchor is temporary). Either
// `seconds`, or `error`, the reply's text.
struct NtaDuration {
  uint64_t seconds = 0;
  std::string error;
};
NtaDuration nta_duration(std::string_view text);

}  // namespace rsv
