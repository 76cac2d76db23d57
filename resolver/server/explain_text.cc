#include "resolver/server/explain_text.h"

#include <cstdio>

namespace rsv {

namespace {

// The report is read defensively: a field that is missing or of another type reads
// as empty, so a partial report still renders.
const nlohmann::json &field(const nlohmann::json &object, const char *key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string str(const nlohmann::json &value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}
std::string str(const nlohmann::json &object, const char *key) { return str(field(object, key)); }
bool flag(const nlohmann::json &object, const char *key) {
  const auto &value = field(object, key);
  return value.is_boolean() && value.get<bool>();
}
double number(const nlohmann::json &object, const char *key) {
  const auto &value = field(object, key);
  return value.is_number() ? value.get<double>() : 0.0;
}
const nlohmann::json &list(const nlohmann::json &object, const char *key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const auto &value = field(object, key);
  return value.is_array() ? value : kEmpty;
}

std::string pad(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string ede_text(const nlohmann::json &ede, bool with_text = true) {
  if (!ede.is_object()) return "";
  std::string text = "EDE " + str(ede, "code") + " (" + str(ede, "name") + ")";
  if (with_text && !str(ede, "text").empty()) text += ": " + str(ede, "text");
  return text;
}

std::string count_text(size_t n, const char *one, const char *many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string key_list(const nlohmann::json &keys) {
  std::string out;
  for (const auto &key : keys) {
    if (!out.empty()) out += "; ";
    if (key.contains("text")) {
      out += str(key, "text");
      continue;
    }
    out += str(key, "key_tag") + " ";
    if (key.contains("role")) out += str(key, "role") + " ";
    out += str(key, "algorithm_name");
    if (key.contains("digest_name")) out += " " + str(key, "digest_name");
    if (key.contains("bits")) out += " " + str(key, "bits") + " bits";
  }
  return out;
}

std::string signature_list(const nlohmann::json &signatures) {
  std::string out;
  for (const auto &sig : signatures) {
    if (!out.empty()) out += "; ";
    if (sig.contains("text")) {
      out += str(sig, "text");
      continue;
    }
    out += "by " + str(sig, "signer") + " key " + str(sig, "key_tag") + " " + str(sig, "algorithm_name") + ", " +
           str(sig, "inception") + " .. " + str(sig, "expiration");
    if (str(sig, "timing") != "valid") out += " (" + str(sig, "timing") + ")";
  }
  return out;
}

std::string status_word(const std::string &status) { return status == "bogus" ? "BOGUS" : status; }

std::string format_ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f ms", ms);
  return text;
}

void render_chain(std::string &out, const nlohmann::json &chain) {
  out += ";; CHAIN OF TRUST (each zone cut, from the trust anchor down)\n";
  bool off_path_header = false;
  for (const auto &zone : chain) {
    if (!flag(zone, "on_path") && !off_path_header) {
      out += ";; other zones consulted (name servers' names, not the answer's)\n";
      off_path_header = true;
    }
    std::string summary;
    if (flag(zone, "trust_anchor"))
      summary = "trust anchor";
    else if (flag(zone, "from_cache"))
      summary = "known from the key cache";
    if (!str(zone, "reason").empty()) summary += (summary.empty() ? "" : "; ") + str(zone, "reason");
    out += pad(str(zone, "zone"), 24) + " " + pad(status_word(str(zone, "status")), 11) + summary + "\n";
    if (field(zone, "ede").is_object()) out += "      " + ede_text(field(zone, "ede"), false) + "\n";
    if (!list(zone, "ds").empty()) {
      out += "      DS      " + key_list(list(zone, "ds")) + "\n";
      if (!list(zone, "ds_signatures").empty())
        out += "      RRSIG   DS " + signature_list(list(zone, "ds_signatures")) + "\n";
    }
    for (const auto &denial : list(zone, "denial")) out += "      no DS   " + str(denial) + "\n";
    if (!list(zone, "dnskeys").empty()) out += "      DNSKEY  " + key_list(list(zone, "dnskeys")) + "\n";
    if (!list(zone, "dnskey_signatures").empty())
      out += "      RRSIG   DNSKEY " + signature_list(list(zone, "dnskey_signatures")) + "\n";
    for (const auto &server : list(zone, "servers")) {
      std::string rtts;
      for (const auto &rtt : list(server, "rtt_ms")) rtts += (rtts.empty() ? "" : ",") + str(rtt);
      const double failures = number(server, "failures");
      out += "      server  " + str(server, "address") + ": " + str(server, "queries") + " queries, " +
             str(server, "replies") + " replies" + (failures > 0 ? ", " + str(server, "failures") + " failed" : "") +
             (rtts.empty() ? "" : ", rtt " + rtts + " ms") + "\n";
    }
  }
}

void render_steps(std::string &out, const nlohmann::json &steps) {
  out += ";; STEPS (time since start, servers asked and what they answered)\n";
  for (const auto &step : steps) {
    const std::string indent(2 + static_cast<size_t>(number(step, "depth")) * 4, ' ');
    const std::string continuation = std::string(9, ' ') + indent + "  ";
    char time[16];
    std::snprintf(time, sizeof time, "%6.0f ms", number(step, "t_ms"));
    const std::string kind = str(step, "kind");
    std::string line;
    if (kind == "query") {
      line = str(step, "question") + " -> " + str(step, "server") + " (" + str(step, "zone") + ", " +
             str(step, "transport") + ")";
      if (step.contains("failure"))
        line += ": " + str(step, "failure");
      else if (step.contains("rcode"))
        line += ": " + str(step, "rcode") + " [" + str(step, "flags") + "] " + str(step, "size") + " bytes in " +
                str(step, "rtt_ms") + " ms";
      if (step.contains("verdict")) line += "\n" + continuation + "= " + str(step, "verdict");
      if (step.contains("ede")) line += "\n" + continuation + "server said " + ede_text(field(step, "ede"));
    } else if (kind == "subquery") {
      line = "sub-question " + str(step, "question") + " (" + str(step, "why") + ")";
    } else if (kind == "subquery-done") {
      line = "sub-question " + str(step, "question") + " done: " + str(step, "rcode") + ", " +
             str(step, "security") + ", " +
             count_text(static_cast<size_t>(number(step, "answers")), "answer record", "answer records");
      if (step.contains("ede")) line += ", " + ede_text(field(step, "ede"));
    } else {
      line = str(step, "text");
    }
    out += std::string(time) + indent + line + "\n";
  }
}

void render_cache(std::string &out, const nlohmann::json &cache) {
  if (!cache.is_object() || cache.empty()) return;
  out += ";; CACHE BEFORE THIS EXPLAIN (the answer cache was not used):\n";
  const auto &message = field(cache, "message");
  out += ";;   answer: " +
         (message.is_object() ? str(message, "rcode") + ", " + str(message, "security") + ", " +
                                    str(message, "ttl_left") + " s left"
                              : std::string("not cached")) +
         "\n";
  const auto &rrset = field(cache, "rrset");
  if (rrset.is_object())
    out += ";;   RRset: " + str(rrset, "security") + ", trust " + str(rrset, "trust") + ", " +
           str(rrset, "ttl_left") + " s left\n";
  const auto &zones = field(cache, "zones");
  if (zones.is_object())
    for (const auto &[zone, status] : zones.items()) out += ";;   zone " + zone + ": " + str(status) + "\n";
  if (flag(cache, "negative_trust_anchor")) out += ";;   under a negative trust anchor: not validated\n";
}

}  // namespace

std::string render_explain_text(const nlohmann::json &report) {
  const auto &question = field(report, "question");
  const auto &verdict = field(report, "verdict");
  std::string out;
  out += "; explain " + str(question, "name") + " " + str(question, "type") +
         (flag(question, "cd") ? " (CD: not validated)" : "") + "\n";
  if (report.contains("daemon")) out += "; " + str(report, "daemon") + "\n";
  out += ";; VERDICT: " + str(verdict, "rcode") + ", " + status_word(str(verdict, "security")) + ", " +
         count_text(list(verdict, "answer").size(), "answer record", "answer records") + ", " +
         format_ms(number(verdict, "duration_ms")) + ", " +
         count_text(static_cast<size_t>(number(report, "upstream_queries")), "upstream query", "upstream queries") +
         "\n";
  if (field(verdict, "ede").is_object()) out += ";; " + ede_text(field(verdict, "ede")) + "\n";
  out += "\n";
  if (!list(verdict, "answer").empty()) {
    out += ";; ANSWER\n";
    for (const auto &rr : list(verdict, "answer")) out += str(rr) + "\n";
    out += "\n";
  }
  if (!list(verdict, "authority").empty()) {
    out += ";; AUTHORITY\n";
    for (const auto &rr : list(verdict, "authority")) out += str(rr) + "\n";
    out += "\n";
  }
  render_chain(out, list(report, "chain"));
  out += "\n";
  if (!list(report, "rrsets").empty()) {
    out += ";; RRSETS JUDGED\n";
    for (const auto &set : list(report, "rrsets")) {
      out += pad(str(set, "owner") + " " + str(set, "type"), 32) + " " + pad(status_word(str(set, "security")), 10) +
             "in " + str(set, "zone");
      if (!list(set, "signatures").empty()) out += "  RRSIG " + signature_list(list(set, "signatures"));
      out += "\n";
      if (!str(set, "reason").empty())
        out += "      " +
               (field(set, "ede").is_object() ? ede_text(field(set, "ede"), false) + ": " : std::string()) +
               str(set, "reason") + "\n";
    }
    out += "\n";
  }
  const auto &denial = field(report, "denial");
  if (denial.is_object()) {
    out += ";; DENIAL OF EXISTENCE: " + status_word(str(denial, "security")) + " in " + str(denial, "zone");
    if (!str(denial, "reason").empty()) out += ": " + str(denial, "reason");
    out += "\n\n";
  }
  render_steps(out, list(report, "steps"));
  out += "\n;; BUDGETS: " + str(report, "budgets") + "\n";
  render_cache(out, field(report, "cache_before"));
  return out;
}

}  // namespace rsv
