#include "resolver/server/explain_text.h"

#include <cstdio>

namespace rsv {

namespace {

std::string str(const nlohmann::json &value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

std::string pad(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string ede_text(const nlohmann::json &ede, bool with_text = true) {
  if (!ede.is_object()) return "";
  std::string text = "EDE " + str(ede["code"]) + " (" + str(ede["name"]) + ")";
  if (with_text && !str(ede["text"]).empty()) text += ": " + str(ede["text"]);
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
      out += str(key["text"]);
      continue;
    }
    out += str(key["key_tag"]) + " ";
    if (key.contains("role")) out += str(key["role"]) + " ";
    out += str(key["algorithm_name"]);
    if (key.contains("digest_name")) out += " " + str(key["digest_name"]);
    if (key.contains("bits")) out += " " + str(key["bits"]) + " bits";
  }
  return out;
}

std::string signature_list(const nlohmann::json &signatures) {
  std::string out;
  for (const auto &sig : signatures) {
    if (!out.empty()) out += "; ";
    if (sig.contains("text")) {
      out += str(sig["text"]);
      continue;
    }
    out += "by " + str(sig["signer"]) + " key " + str(sig["key_tag"]) + " " + str(sig["algorithm_name"]) + ", " +
           str(sig["inception"]) + " .. " + str(sig["expiration"]);
    if (str(sig["timing"]) != "valid") out += " (" + str(sig["timing"]) + ")";
  }
  return out;
}

std::string status_word(const std::string &status) { return status == "bogus" ? "BOGUS" : status; }

std::string format_ms(const nlohmann::json &value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f ms", value.is_number() ? value.get<double>() : 0.0);
  return text;
}

void render_chain(std::string &out, const nlohmann::json &chain) {
  out += ";; CHAIN OF TRUST (each zone cut, from the trust anchor down)\n";
  bool off_path_header = false;
  for (const auto &zone : chain) {
    if (!zone["on_path"].get<bool>() && !off_path_header) {
      out += ";; other zones consulted (name servers' names, not the answer's)\n";
      off_path_header = true;
    }
    std::string status = status_word(str(zone["status"]));
    std::string summary;
    if (zone["trust_anchor"].get<bool>())
      summary = "trust anchor";
    else if (zone["from_cache"].get<bool>())
      summary = "known from the key cache";
    if (!str(zone["reason"]).empty()) summary += (summary.empty() ? "" : "; ") + str(zone["reason"]);
    out += pad(str(zone["zone"]), 24) + " " + pad(status, 11) + summary + "\n";
    if (zone["ede"].is_object()) out += "      " + ede_text(zone["ede"], false) + "\n";
    if (!zone["ds"].empty())
      out += "      DS      " + key_list(zone["ds"]) +
             (zone["ds_signatures"].empty() ? "" : "\n      RRSIG   DS " + signature_list(zone["ds_signatures"])) + "\n";
    for (const auto &denial : zone["denial"]) out += "      no DS   " + str(denial) + "\n";
    if (!zone["dnskeys"].empty()) out += "      DNSKEY  " + key_list(zone["dnskeys"]) + "\n";
    if (!zone["dnskey_signatures"].empty())
      out += "      RRSIG   DNSKEY " + signature_list(zone["dnskey_signatures"]) + "\n";
    for (const auto &server : zone["servers"]) {
      std::string rtts;
      for (const auto &rtt : server["rtt_ms"]) rtts += (rtts.empty() ? "" : ",") + str(rtt);
      out += "      server  " + str(server["address"]) + ": " + str(server["queries"]) + " queries, " +
             str(server["replies"]) + " replies" +
             (server["failures"].get<int>() ? ", " + str(server["failures"]) + " failed" : "") +
             (rtts.empty() ? "" : ", rtt " + rtts + " ms") + "\n";
    }
  }
}

void render_steps(std::string &out, const nlohmann::json &steps) {
  out += ";; STEPS (time since start, servers asked and what they answered)\n";
  for (const auto &step : steps) {
    const size_t depth = step["depth"].get<size_t>();
    std::string indent(2 + depth * 4, ' ');
    char time[16];
    std::snprintf(time, sizeof time, "%6.0f ms", step["t_ms"].get<double>());
    const std::string kind = str(step["kind"]);
    std::string line;
    if (kind == "query") {
      line = str(step["question"]) + " -> " + str(step["server"]) + " (" + str(step["zone"]) + ", " +
             str(step["transport"]) + ")";
      if (step.contains("failure"))
        line += ": " + str(step["failure"]);
      else if (step.contains("rcode"))
        line += ": " + str(step["rcode"]) + " [" + str(step["flags"]) + "] " + str(step["size"]) + " bytes in " +
                str(step["rtt_ms"]) + " ms";
      if (step.contains("verdict")) line += "\n" + std::string(12, ' ') + indent + "  = " + str(step["verdict"]);
      if (step.contains("ede")) line += "\n" + std::string(12, ' ') + indent + "  server said " + ede_text(step["ede"]);
    } else if (kind == "subquery") {
      line = "sub-question " + str(step["question"]) + " (" + str(step["why"]) + ")";
    } else if (kind == "subquery-done") {
      line = "sub-question " + str(step["question"]) + " done: " + str(step["rcode"]) + ", " + str(step["security"]) +
             ", " + count_text(step["answers"].get<size_t>(), "answer record", "answer records");
      if (step.contains("ede")) line += ", " + ede_text(step["ede"]);
    } else {
      line = str(step["text"]);
    }
    out += std::string(time) + indent + line + "\n";
  }
}

}  // namespace

std::string render_explain_text(const nlohmann::json &report) {
  const auto &question = report["question"];
  const auto &verdict = report["verdict"];
  std::string out;
  out += "; explain " + str(question["name"]) + " " + str(question["type"]) +
         (question["cd"].get<bool>() ? " (CD: not validated)" : "") + "\n";
  if (report.contains("daemon")) out += "; " + str(report["daemon"]) + "\n";
  out += ";; VERDICT: " + str(verdict["rcode"]) + ", " + status_word(str(verdict["security"])) + ", " +
         count_text(verdict["answer"].size(), "answer record", "answer records") + ", " +
         format_ms(verdict["duration_ms"]) + ", " +
         count_text(report["upstream_queries"].get<size_t>(), "upstream query", "upstream queries") + "\n";
  if (verdict["ede"].is_object()) out += ";; " + ede_text(verdict["ede"]) + "\n";
  out += "\n";
  if (!verdict["answer"].empty()) {
    out += ";; ANSWER\n";
    for (const auto &rr : verdict["answer"]) out += str(rr) + "\n";
    out += "\n";
  }
  if (!verdict["authority"].empty()) {
    out += ";; AUTHORITY\n";
    for (const auto &rr : verdict["authority"]) out += str(rr) + "\n";
    out += "\n";
  }
  render_chain(out, report["chain"]);
  out += "\n";
  if (!report["rrsets"].empty()) {
    out += ";; RRSETS JUDGED\n";
    for (const auto &set : report["rrsets"]) {
      out += pad(str(set["owner"]) + " " + str(set["type"]), 32) + " " + pad(status_word(str(set["security"])), 10) +
             "in " + str(set["zone"]);
      if (!set["signatures"].empty()) out += "  RRSIG " + signature_list(set["signatures"]);
      out += "\n";
      if (!str(set["reason"]).empty())
        out += "      " + (set["ede"].is_object() ? ede_text(set["ede"], false) + ": " : std::string()) +
               str(set["reason"]) + "\n";
    }
    out += "\n";
  }
  if (report["denial"].is_object()) {
    const auto &denial = report["denial"];
    out += ";; DENIAL OF EXISTENCE: " + status_word(str(denial["security"])) + " in " + str(denial["zone"]);
    if (!str(denial["reason"]).empty()) out += ": " + str(denial["reason"]);
    out += "\n\n";
  }
  render_steps(out, report["steps"]);
  out += "\n;; BUDGETS: " + str(report["budgets"]) + "\n";
  const auto &cache = report["cache_before"];
  if (cache.is_object()) {
    out += ";; CACHE BEFORE THIS EXPLAIN (the answer cache was not used):\n";
    out += ";;   answer: " + (cache["message"].is_object()
                                    ? str(cache["message"]["rcode"]) + ", " + str(cache["message"]["security"]) +
                                          ", " + str(cache["message"]["ttl_left"]) + " s left"
                                    : std::string("not cached")) +
           "\n";
    if (cache["rrset"].is_object())
      out += ";;   RRset: " + str(cache["rrset"]["security"]) + ", trust " + str(cache["rrset"]["trust"]) + ", " +
             str(cache["rrset"]["ttl_left"]) + " s left\n";
    if (cache.contains("zones"))
      for (const auto &[zone, status] : cache["zones"].items()) out += ";;   zone " + zone + ": " + str(status) + "\n";
    if (cache["negative_trust_anchor"].get<bool>())
      out += ";;   under a negative trust anchor: not validated\n";
  }
  return out;
}

}  // namespace rsv
