// The trace behind `resolverctl explain`: a ResolutionTrace (dnssec/trace.h) that
// records, as JSON, everything one resolution did.
//
// report() gives:
//   question    {name, type, cd}
//   verdict     {rcode, security, ede: {code, name, text} | null, answer: [...], authority: [...]}
//   chain       one entry per zone cut met, shallowest first, those the answer's names
//               lie in ("on_path") before the others: {zone, status (secure, insecure,
//               bogus, not-a-cut, unvalidated), reason, ede, trust_anchor, from_cache,
//               ds: [{key_tag, algorithm, digest_type}], ds_signatures, denial: [text],
//               dnskeys: [{key_tag, algorithm, flags, role}], dnskey_signatures:
//               [{key_tag, algorithm, signer, inception, expiration}], servers:
//               [{address, queries, replies, timeouts, rtt_ms}]}
//   rrsets      each RRset the validator judged: {owner, type, zone, security, reason,
//               ede, signatures}
//   denial      the NXDOMAIN/NODATA proof's verdict, when there was one
//   steps       in order: queries {t_ms, depth, zone, server, question, transport} with
//               their outcome (rtt_ms, rcode, flags, size, verdict) or failure; sub-
//               questions started and finished; notes (cache use, forwarding)
//   budgets     what the resolution cost, as text
// The reader is resolver/server/explain_text.h (text) and the dashboard (JSON).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache/clock.h"
#include "dnssec/trace.h"

namespace rsv {

class ExplainTrace final : public ResolutionTrace {
public:
  ExplainTrace(const Clock &clock, const Question &question, bool checking_disabled);

  void subquery_started(const Question &question, size_t depth, std::string_view why) override;
  void subquery_finished(const Question &question, size_t depth, const Resolution &result) override;
  void query_sent(const Name &zone, const SocketAddress &server, const Question &question, bool tcp,
                  size_t depth) override;
  void reply_received(const SocketAddress &server, uint32_t rtt_ms, const Message &reply,
                      size_t wire_size) override;
  void no_reply(const SocketAddress &server, std::string_view why) override;
  void reply_classified(const SocketAddress &server, const Name &zone, std::string_view verdict) override;
  void note(std::string_view text) override;
  void zone_settled(const Name &zone, const ZoneKeys &keys, const ZoneEvidence &evidence) override;
  void rrset_judged(const RRset &set, const Name &zone, const ValidationOutcome &outcome) override;
  void denial_judged(const Name &zone, const ValidationOutcome &outcome) override;
  void finished(const Resolution &result, std::string_view budgets) override;

  bool done() const { return done_; }
  // The zones met, for looking up what the shared caches knew of them.
  std::vector<Name> zones() const;
  // The whole report; `cache_before` (what the shared caches held) is added as is.
  nlohmann::json report(nlohmann::json cache_before) const;

private:
  struct ZoneEntry {
    Name name;
    nlohmann::json data;
  };
  ZoneEntry &zone_entry(const Name &zone);
  nlohmann::json &server_entry(const Name &zone, const SocketAddress &server);
  double elapsed_ms() const;
  static std::string secure_link(const nlohmann::json &zone_data);

  const Clock &clock_;
  uint64_t started_ms_;
  int64_t now_seconds_;
  nlohmann::json question_;
  std::vector<ZoneEntry> zones_;
  nlohmann::json steps_ = nlohmann::json::array();
  nlohmann::json rrsets_ = nlohmann::json::array();
  nlohmann::json denial_;
  nlohmann::json verdict_;
  std::string budgets_;
  std::vector<Name> path_names_;  // the question and every CNAME/DNAME target
  size_t depth_ = 0;
  size_t last_query_step_ = SIZE_MAX;
  Name last_query_zone_;
  uint32_t upstream_queries_ = 0;
  bool done_ = false;
};

// The presentation of a DNSSEC record's key fields, for reports.
nlohmann::json describe_ds(const ResourceRecord &ds);
nlohmann::json describe_dnskey(const ResourceRecord &dnskey);
nlohmann::json describe_rrsig(const ResourceRecord &rrsig, int64_t now);

}  // namespace rsv
