// An in-process DNS hierarchy for scenario tests: fake authoritative servers
// answering from zone text, reached through a Transport that never touches a
// socket, with time taken from a ManualClock.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cache/clock.h"
#include "resolver/engine/transport.h"
#include "resolver/iter/delegation.h"
#include "resolver/wire/ldns_convert.h"
#include "resolver/wire/message.h"
#include "tests/unit/test_records.h"

namespace rsv::testing {

inline std::vector<ResourceRecord> zone_records(const std::string &text, const std::string &origin) {
  return records(text, origin);
}

// Whether `query` asks for `name` (presentation form) and `type`.
inline bool asks(const Message &query, const char *name, uint16_t type) {
  const Question *q = query.question();
  return q && q->qtype == type && q->name == *Name::from_text(name);
}

// An authoritative reply to `query` with nothing in it yet: its ID and question, and
// EDNS with the query's DO bit when the query had EDNS. Forge hooks fill it in.
inline Message empty_reply(const Message &query, uint8_t code) {
  Message reply;
  reply.id = query.id;
  reply.qr = true;
  reply.aa = true;
  reply.rcode = code;
  reply.questions = query.questions;
  if (query.edns) {
    reply.edns = Edns{};
    reply.edns->dnssec_ok = query.edns->dnssec_ok;
  }
  return reply;
}

inline void append(std::vector<ResourceRecord> &section, const std::vector<ResourceRecord> &records) {
  section.insert(section.end(), records.begin(), records.end());
}

// Root hints naming one server at `address`.
inline DelegationPoint single_root_hint(const char *server_name, const char *address) {
  DelegationPoint hints;
  hints.zone = Name::root();
  NameServer root;
  root.name = *Name::from_text(server_name);
  root.addresses.push_back(*SocketAddress::parse(address));
  root.no_lookups_needed();
  hints.servers.push_back(root);
  return hints;
}

struct FakeZone {
  Name origin;
  std::vector<ResourceRecord> records;
};

enum class ServerBehaviour {
  normal,
  silent,
  refused,
  servfail,
  no_aa,
  truncate_udp,
  formerr_on_edns,       // every query with EDNS: FORMERR without a question (an old server)
  formerr_once_on_edns,  // only the first such query (what a spoofer can land)
  lowercases_question,
  refers_ds_to_child,    // answers a DS question with a referral into the child
  no_aa_bare_negative,   // AA clear, and negative replies lose their authority section
  drops_first_query,     // the first query it gets is lost (one dropped datagram)
};

// Answers like an authoritative server (RFC 1034 4.3.2) from its zones.
class FakeServer {
public:
  std::vector<FakeZone> zones;
  ServerBehaviour behaviour = ServerBehaviour::normal;
  uint32_t rtt_ms = 10;
  mutable unsigned formerr_sent = 0;
  // When set, answers instead of `zones`: e.g. a SignedAuthority
  // (tests/support/signed_authority.h) for a signed hierarchy.
  std::function<Message(const Message &query)> responder;
  // When it returns a message, that message is sent as it is, in place of the
  // answer and after `behaviour`: forged or broken replies built by a test.
  std::function<std::optional<Message>(const Message &query)> forge;
  // When it returns true for a query, the query is lost (a timeout), like a server or
  // a middlebox that drops what it does not like.
  std::function<bool(const Message &query)> drop;

  Message answer(const Message &query) const {
    if (responder) return responder(query);
    Message reply;
    reply.id = query.id;
    reply.qr = true;
    reply.rd = query.rd;
    reply.questions = query.questions;
    if (query.edns) reply.edns = Edns{};
    const Question &q = query.questions.at(0);
    const FakeZone *zone = nullptr;
    for (const auto &z : zones)
      if (q.name.is_subdomain_of(z.origin) && (!zone || z.origin.label_count() > zone->origin.label_count())) zone = &z;
    if (!zone) {
      reply.rcode = rcode::REFUSED;
      return reply;
    }
    // Delegations: the highest NS set strictly below the origin on the path to the name.
    for (size_t labels = zone->origin.label_count() + 1; labels <= q.name.label_count(); ++labels) {
      Name cut = q.name.suffix(labels);
      auto ns = find(*zone, cut, rrtype::NS);
      if (ns.empty()) continue;
      // The parent answers DS itself (RFC 4035 3.1.4.1), unless told to misbehave.
      if (q.qtype == rrtype::DS && cut == q.name && behaviour != ServerBehaviour::refers_ds_to_child) break;
      reply.authority = ns;
      for (const auto &rr : ns)
        if (auto target = rr.rdata_target())
          for (uint16_t t : {rrtype::A, rrtype::AAAA})
            for (auto &glue : find(*zone, *target, t)) reply.additional.push_back(glue);
      return reply;
    }
    reply.aa = true;
    Name name = q.name;
    for (int hops = 0; hops < 16; ++hops) {
      auto data = find(*zone, name, q.qtype);
      if (!data.empty()) {
        reply.answer.insert(reply.answer.end(), data.begin(), data.end());
        return reply;
      }
      auto cname = find(*zone, name, rrtype::CNAME);
      if (!cname.empty()) {
        reply.answer.push_back(cname[0]);
        name = *cname[0].rdata_target();
        if (!name.is_subdomain_of(zone->origin)) return reply;
        continue;
      }
      for (const auto &rr : zone->records) {
        if (rr.type == rrtype::DNAME && name.is_subdomain_of(rr.owner) && name != rr.owner) {
          reply.answer.push_back(rr);
          auto target = *name.replace_suffix(rr.owner, *rr.rdata_target());
          reply.answer.push_back(ResourceRecord{name, rrtype::CNAME, rrclass::IN, rr.ttl, target.wire()});
          return reply;
        }
      }
      bool exists = false;
      for (const auto &rr : zone->records)
        if (rr.owner.is_subdomain_of(name)) exists = true;
      if (!exists && reply.answer.empty()) reply.rcode = rcode::NXDOMAIN;
      if (!exists && !reply.answer.empty()) reply.rcode = rcode::NXDOMAIN;
      reply.authority = find(*zone, zone->origin, rrtype::SOA);
      return reply;
    }
    return reply;
  }

private:
  static std::vector<ResourceRecord> find(const FakeZone &zone, const Name &owner, uint16_t type) {
    std::vector<ResourceRecord> out;
    for (const auto &rr : zone.records)
      if ((rr.type == type || (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == type)) && rr.owner == owner)
        out.push_back(rr);
    return out;
  }
};

class FakeNetwork final : public Transport {
public:
  explicit FakeNetwork(ManualClock &clock) : clock_(clock) {}

  std::map<std::string, FakeServer> servers;  // keyed by SocketAddress::to_string()
  std::vector<OutgoingQuery> sent;

  FakeServer &server(const std::string &address) {
    return servers[SocketAddress::parse(address)->to_string()];
  }

  void send(const OutgoingQuery &query, std::function<void(TransportResult)> done) override {
    sent.push_back(query);
    pending_.push_back({query, std::move(done)});
  }

  // Delivers replies and timeouts in order until nothing is pending (bounded).
  void run(size_t max_events = 10000) {
    for (size_t i = 0; i < max_events && !pending_.empty(); ++i) {
      auto [query, done] = std::move(pending_.front());
      pending_.pop_front();
      done(deliver(query));
    }
  }

  size_t queries_to(const std::string &address) const {
    auto key = SocketAddress::parse(address)->to_string();
    size_t n = 0;
    for (const auto &q : sent)
      if (q.server.to_string() == key) ++n;
    return n;
  }

private:
  TransportResult deliver(const OutgoingQuery &query) {
    TransportResult result;
    auto it = servers.find(query.server.to_string());
    if (it != servers.end() && it->second.behaviour == ServerBehaviour::drops_first_query &&
        it->second.formerr_sent++ == 0) {
      clock_.advance_ms(query.timeout_ms);
      result.status = TransportStatus::timeout;
      return result;
    }
    if (it == servers.end() || it->second.behaviour == ServerBehaviour::silent) {
      clock_.advance_ms(query.timeout_ms);
      result.status = TransportStatus::timeout;
      return result;
    }
    const FakeServer &server = it->second;
    ParseError error;
    auto parsed = parse_message(reinterpret_cast<const uint8_t *>(query.wire.data()), query.wire.size(), &error);
    if (!parsed) {
      // The resolver wrote this query: one that does not parse is a fault of the code
      // under test, reported as such (and lost, as a server would lose it).
      ADD_FAILURE() << "the resolver sent a query that does not parse to " << query.server.to_string();
      clock_.advance_ms(query.timeout_ms);
      result.status = TransportStatus::timeout;
      return result;
    }
    if (server.drop && server.drop(*parsed)) {
      clock_.advance_ms(query.timeout_ms);
      result.status = TransportStatus::timeout;
      return result;
    }
    clock_.advance_ms(server.rtt_ms);
    Message reply = server.answer(*parsed);
    switch (server.behaviour) {
      case ServerBehaviour::refused:
        reply = Message{};
        reply.id = parsed->id;
        reply.qr = true;
        reply.questions = parsed->questions;
        reply.rcode = rcode::REFUSED;
        break;
      case ServerBehaviour::servfail:
        reply.answer.clear();
        reply.authority.clear();
        reply.additional.clear();
        reply.rcode = rcode::SERVFAIL;
        break;
      case ServerBehaviour::no_aa: reply.aa = false; break;
      case ServerBehaviour::no_aa_bare_negative:
        reply.aa = false;
        if (reply.answer.empty()) reply.authority.clear();
        break;
      case ServerBehaviour::truncate_udp:
        if (!query.tcp) {
          reply.answer.clear();
          reply.tc = true;
        }
        break;
      case ServerBehaviour::formerr_once_on_edns:
      case ServerBehaviour::formerr_on_edns:
        if (parsed->edns &&
            (server.behaviour == ServerBehaviour::formerr_on_edns || server.formerr_sent++ == 0)) {
          reply = Message{};
          reply.id = parsed->id;
          reply.qr = true;
          reply.rcode = rcode::FORMERR;  // like old servers: no question section
        }
        break;
      case ServerBehaviour::lowercases_question: reply.questions[0].name = reply.questions[0].name.lowered(); break;
      default: break;
    }
    if (server.forge)
      if (auto forged = server.forge(*parsed)) reply = std::move(*forged);
    result.status = TransportStatus::reply;
    result.wire = encode_message(reply, 65535).wire;
    result.rtt_ms = server.rtt_ms;
    return result;
  }

  struct Pending {
    OutgoingQuery query;
    std::function<void(TransportResult)> done;
  };
  ManualClock &clock_;
  std::deque<Pending> pending_;
};

}  // namespace rsv::testing
