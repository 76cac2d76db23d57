// "Strict on security, tolerant on form": the iterator fed the carelessly shaped
// replies real authoritative servers send (no AA, repeated records, odd TTLs, other
// letter case, missing glue, errors to minimised queries) must answer as Unbound and
// Knot Resolver do, and must still refuse what an attacker would send (upward and
// sideways referrals, data off the CNAME chain or out of bailiwick, replies to another
// question). Cases already covered in iterator_scenario_test.cc are not repeated here.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "cache/infra_cache.h"
#include "cache/rrset_cache.h"
#include "resolver/engine/engine.h"
#include "tests/scenario/fake_network.h"

namespace rsv {
namespace {

using testing::FakeNetwork;
using testing::n;
using testing::records;
using testing::ServerBehaviour;
using testing::zone_records;

constexpr const char *kEvil = "127.6.6.6";  // answers everything with 6.6.6.6

struct Harness {
  ManualClock clock;
  SeededRandom random{7};
  Config config;
  RRsetCache rrsets{clock, 16u << 20, TtlPolicy{}};
  InfraCache infra{clock};
  NonCutCache non_cuts{clock, 1u << 20};
  FakeNetwork net{clock};
  DelegationPoint hints;
  std::unique_ptr<Engine> engine;

  static Config make_config() {
    Config c = default_config();
    c.network.do_not_query_localhost = false;
    c.network.do_ip6 = false;
    return c;
  }

  Harness() : config(make_config()) {
    hints = testing::single_root_hint("a.root.", "127.1.0.1");
    add_zone("127.1.0.1", ".", R"(
. SOA a.root. hostmaster.root. 1 3600 600 86400 300
. NS a.root.
a.root. A 127.1.0.1
test. NS ns.test.
ns.test. A 127.2.0.1
example. NS ns.example.
ns.example. A 127.2.0.2
)");
    add_zone("127.2.0.1", "test.", R"(
test. SOA ns.test. hostmaster.test. 1 3600 600 86400 60
test. NS ns.test.
ns.test. A 127.2.0.1
alpha.test. NS ns.alpha.test.
ns.alpha.test. A 127.3.0.1
beta.test. NS ns.beta.test.
ns.beta.test. A 127.3.0.2
two.test. NS ns1.two.test.
two.test. NS ns2.two.test.
ns1.two.test. A 127.3.0.10
ns2.two.test. A 127.3.0.11
)");
    add_zone("127.2.0.2", "example.", R"(
example. SOA ns.example. hostmaster.example. 1 3600 600 86400 60
example. NS ns.example.
ns.example. A 127.2.0.2
far.example. NS ns.far.example.
ns.far.example. A 127.3.0.3
)");
    add_zone("127.3.0.1", "alpha.test.", R"(
alpha.test. SOA ns.alpha.test. hostmaster.alpha.test. 1 3600 600 86400 30
alpha.test. NS ns.alpha.test.
ns.alpha.test. A 127.3.0.1
www.alpha.test. A 192.0.2.1
alias.alpha.test. CNAME www.alpha.test.
out.alpha.test. CNAME www.beta.test.
a.b.c.deep.alpha.test. A 192.0.2.9
)");
    add_zone("127.3.0.2", "beta.test.", R"(
beta.test. SOA ns.beta.test. hostmaster.beta.test. 1 3600 600 86400 30
beta.test. NS ns.beta.test.
ns.beta.test. A 127.3.0.2
www.beta.test. A 192.0.2.2
)");
    for (const char *address : {"127.3.0.10", "127.3.0.11"})
      add_zone(address, "two.test.", R"(
two.test. SOA ns1.two.test. hostmaster.two.test. 1 3600 600 86400 30
two.test. NS ns1.two.test.
two.test. NS ns2.two.test.
ns1.two.test. A 127.3.0.10
ns2.two.test. A 127.3.0.11
www.two.test. A 192.0.2.5
)");
    add_zone("127.3.0.3", "far.example.", R"(
far.example. SOA ns.far.example. hostmaster.far.example. 1 3600 600 86400 30
far.example. NS ns.far.example.
ns.far.example. A 127.3.0.3
www.far.example. A 192.0.2.3
)");
    // The attacker's server: authoritative, it says, for everything.
    add_zone(kEvil, ".", R"(
. SOA ns.evil.test. h.evil.test. 1 3600 600 86400 300
www.two.test. A 6.6.6.6
www.alpha.test. A 6.6.6.6
www.beta.test. A 6.6.6.6
www.cross.test. A 6.6.6.6
)");
    rebuild();
  }

  void rebuild() {
    engine = std::make_unique<Engine>(
        EngineEnv{rrsets, infra, clock, random, config, hints, nullptr, &non_cuts}, net);
  }

  void add_zone(const std::string &address, const std::string &origin, const std::string &text) {
    net.server(address).zones.push_back({*Name::from_text(origin), zone_records(text, origin)});
  }

  // Adds records to the zone `origin` that the server at `address` already serves.
  void add_records(const std::string &address, const std::string &origin, const std::string &text) {
    for (auto &zone : net.server(address).zones)
      if (zone.origin == n(origin.c_str())) {
        auto more = zone_records(text, origin);
        zone.records.insert(zone.records.end(), more.begin(), more.end());
        return;
      }
    ADD_FAILURE() << address << " does not serve " << origin;
  }

  Resolution resolve(const std::string &name, uint16_t type) {
    std::optional<Resolution> out;
    engine->resolve(Question{*Name::from_text(name), type, rrclass::IN}, false,
                    [&](const Resolution &r) { out = r; });
    net.run();
    EXPECT_TRUE(out.has_value()) << "no completion for " << name;
    return out.value_or(Resolution{});
  }

  // What the server at `address` would answer honestly, for a forge to reshape.
  Message honest(const std::string &address, const Message &query) {
    return net.server(address).answer(query);
  }
};

// A reply to `query` built by a test: same ID and question, EDNS if the query had it.
Message reply_to(const Message &query, bool aa, uint16_t code = rcode::NOERROR) {
  Message m;
  m.id = query.id;
  m.qr = true;
  m.aa = aa;
  m.rcode = code;
  m.questions = query.questions;
  if (query.edns) m.edns = Edns{};
  return m;
}

void append(std::vector<ResourceRecord> &section, const std::string &text) {
  auto more = records(text);
  section.insert(section.end(), more.begin(), more.end());
}

std::string a_rdata(const char *address) {
  return records(std::string("x. A ") + address + "\n")[0].rdata;
}

// An A record's address as dotted text.
std::string dotted(const std::string &rdata) {
  std::string out;
  for (unsigned char octet : rdata) out += (out.empty() ? "" : ".") + std::to_string(octet);
  return out;
}

// The addresses the answer gives for owner/A, as text.
std::vector<std::string> addresses_of(const Resolution &r, const char *owner) {
  std::vector<std::string> out;
  for (const auto &rr : r.answer)
    if (rr.type == rrtype::A && rr.owner == n(owner)) out.push_back(dotted(rr.rdata));
  return out;
}

size_t count(const Resolution &r, const char *owner, uint16_t type) {
  size_t c = 0;
  for (const auto &rr : r.answer) c += rr.owner == n(owner) && rr.type == type;
  return c;
}

bool cached_address_is(const Harness &h, const char *owner, const char *address) {
  auto cached = h.rrsets.lookup(n(owner), rrtype::A);
  if (!cached) return false;
  for (const auto &rdata : cached->rrset.rdatas)
    if (rdata == a_rdata(address)) return true;
  return false;
}

bool has_edns(const OutgoingQuery &query) {
  auto parsed =
      parse_message(reinterpret_cast<const uint8_t *>(query.wire.data()), query.wire.size(), nullptr);
  return parsed && parsed->edns.has_value();
}

// The first query for www.two.test. that reaches either server of two.test. gets
// `bad` (so the bad reply is always seen first, whichever server is picked); the
// other server answers honestly. `bad_server` receives the address that sent it.
void first_reply_bad(Harness &h, std::function<Message(const Message &)> bad, std::string *bad_server) {
  auto seen = std::make_shared<int>(0);
  for (std::string address : {"127.3.0.10", "127.3.0.11"})
    h.net.server(address).forge = [seen, bad, bad_server,
                                   address](const Message &q) -> std::optional<Message> {
      if (q.questions.at(0).name != n("www.two.test.") || (*seen)++ != 0) return std::nullopt;
      *bad_server = address;
      return bad(q);
    };
}

// --- tolerance: accepted, as Unbound does ---------------------------------------------

// Cases 1 and 7. Unbound (iter_resptype.c) takes an answer to the question as an
// answer whether or not AA is set; the zone's own NS set in the answer or authority
// section and additional records nobody asked for are scrubbed, not a reason to reject.
TEST(Tolerance, AnAnswerWithoutAaCarryingTheZonesNsAndStrayAdditionalsIsAccepted) {
  Harness h;
  h.net.server("127.3.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    if (q.questions.at(0).name != n("www.alpha.test.")) return std::nullopt;
    Message m = reply_to(q, false);
    append(m.answer, "www.alpha.test. 300 A 192.0.2.1\nalpha.test. 300 NS ns.alpha.test.\n");
    append(m.authority, "alpha.test. 300 NS ns.alpha.test.\n");
    append(m.additional,
           "ns.alpha.test. 300 A 127.3.0.1\nunrelated.alpha.test. 300 A 192.0.2.250\n"
           "www.beta.test. 300 A 6.6.6.6\nalpha.test. 300 MX 10 mail.alpha.test.\n");
    return m;
  };
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(addresses_of(r, "www.alpha.test."), std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(r.answer.size(), 1u) << "the NS set in the answer section is not part of the answer";
  EXPECT_FALSE(h.infra.is_lame(*SocketAddress::parse("127.3.0.1"), n("alpha.test.")));
  EXPECT_FALSE(h.rrsets.lookup(n("unrelated.alpha.test."), rrtype::A));
  EXPECT_FALSE(h.rrsets.lookup(n("www.beta.test."), rrtype::A));
}

// Case 3, for a data RRset (iterator_scenario_test covers a repeated CNAME): RFC 2181
// 5 says an RRset holds each record once; Unbound's parser merges duplicates.
TEST(Tolerance, DuplicateRecordsInAnRRsetAreAnsweredOnce) {
  Harness h;
  h.add_records("127.3.0.1", "alpha.test.",
                "dup.alpha.test. A 192.0.2.7\ndup.alpha.test. A 192.0.2.7\n"
                "dup.alpha.test. A 192.0.2.8\n");
  auto r = h.resolve("dup.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(count(r, "dup.alpha.test.", rrtype::A), 2u);
  auto cached = h.rrsets.lookup(n("dup.alpha.test."), rrtype::A);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->rrset.rdatas.size(), 2u);
}

// Case 4. RFC 2181 5.2: the records of an RRset with different TTLs are treated as
// having the lowest of them (Unbound's parser does the same); a client never sees
// one RRset with several TTLs.
TEST(Tolerance, RecordsOfOneRRsetWithDifferentTtlsTakeTheLowest) {
  Harness h;
  h.add_records("127.3.0.1", "alpha.test.",
                "ttl.alpha.test. 300 A 192.0.2.11\nttl.alpha.test. 100 A 192.0.2.12\n"
                "ttl.alpha.test. 200 A 192.0.2.13\n");
  auto r = h.resolve("ttl.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  ASSERT_EQ(count(r, "ttl.alpha.test.", rrtype::A), 3u);
  for (const auto &rr : r.answer)
    EXPECT_EQ(rr.ttl, 100u) << type_to_text(rr.type) << " " << rr.owner.to_text();
  EXPECT_EQ(r.cache_ttl, 100u);
  auto cached = h.rrsets.lookup(n("ttl.alpha.test."), rrtype::A);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->rrset.ttl, 100u);
}

// Case 5, beyond the answer section (covered in iterator_scenario_test): RFC 2181 8,
// a TTL with the top bit set is 0. A referral whose NS set and glue carry such a TTL
// is still followed; the question is answered.
TEST(Tolerance, ATopBitTtlOnAReferralIsReadAsZeroAndTheReferralStillFollowed) {
  Harness h;
  for (auto &rr : h.net.server("127.2.0.1").zones[0].records)
    if (rr.owner.is_subdomain_of(n("alpha.test."))) rr.ttl = 0x80000100u;
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(addresses_of(r, "www.alpha.test."), std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(h.net.queries_to("127.3.0.1"), 1u);
  auto ns = h.rrsets.lookup(n("alpha.test."), rrtype::NS);
  EXPECT_TRUE(!ns || ns->rrset.ttl == 0u) << "never cached for 2^31 seconds";
}

// Case 6. RFC 4343: names compare without regard to case. A server that echoes the
// question in upper case and writes owner names and CNAME targets in yet another case
// is answered (0x20 off, so the question's case is not checked at all).
TEST(Tolerance, ReplyNamesInAnotherCaseThanTheQuestionAreMatched) {
  Harness h;
  h.net.server("127.3.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    if (q.questions.at(0).name != n("alias.alpha.test.")) return std::nullopt;
    Message m = reply_to(q, true);
    m.questions[0].name = n("ALIAS.ALPHA.TEST.");
    append(m.answer, "Alias.Alpha.Test. 300 CNAME WWW.alpha.TEST.\nwWw.AlPhA.tEsT. 300 A 192.0.2.1\n");
    return m;
  };
  auto r = h.resolve("alias.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(count(r, "alias.alpha.test.", rrtype::CNAME), 1u);
  EXPECT_EQ(addresses_of(r, "www.alpha.test."), std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(h.net.queries_to("127.3.0.1"), 1u) << "the CNAME target in the same reply is used";
}

// Case 6 with 0x20 on: the question must come back in the exact case sent (RFC 5452
// 9.1), but the records' owner names may be in any case (most servers write them from
// zone data): Unbound compares only the question section.
TEST(Tolerance, WithCapsForIdOnlyTheQuestionsCaseIsCompared) {
  Harness h;
  h.config.network.use_caps_for_id = true;
  h.rebuild();
  h.net.server("127.3.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    Message m = h.honest("127.3.0.1", q);
    for (auto *section : {&m.answer, &m.authority, &m.additional})
      for (auto &rr : *section) rr.owner = rr.owner.lowered();
    return m;
  };
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(addresses_of(r, "www.alpha.test."), std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(h.engine->stats().caps_mismatches, 0u);
}

// Case 8, some glue: RFC 1034 5.3.3 step 4. partial.test. has an in-bailiwick server
// with glue (silent) and one whose name lies in the parent zone but arrives without
// glue; the resolver looks that name up itself and is answered by it.
TEST(Tolerance, AReferralWithOnlySomeGlueLooksUpTheRest) {
  Harness h;
  h.add_records("127.2.0.1", "test.",
                "partial.test. NS ns1.partial.test.\npartial.test. NS ns.alpha.test.\n"
                "ns1.partial.test. A 127.3.0.20\n");
  h.net.server("127.3.0.20").behaviour = ServerBehaviour::silent;
  h.add_zone("127.3.0.1", "partial.test.",
             "partial.test. SOA ns.alpha.test. h.partial.test. 1 3600 600 86400 30\n"
             "partial.test. NS ns1.partial.test.\npartial.test. NS ns.alpha.test.\n"
             "www.partial.test. A 192.0.2.20\n");
  // The parent leaves out the glue for ns.alpha.test. (it holds it, for alpha.test.).
  h.net.server("127.2.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    Message m = h.honest("127.2.0.1", q);
    if (m.authority.empty() || m.authority[0].owner != n("partial.test.")) return std::nullopt;
    std::erase_if(m.additional, [](const ResourceRecord &rr) { return rr.owner == n("ns.alpha.test."); });
    return m;
  };
  auto r = h.resolve("www.partial.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(addresses_of(r, "www.partial.test."), std::vector<std::string>{"192.0.2.20"});
  EXPECT_GE(h.net.queries_to("127.3.0.1"), 1u);
}

// Case 8, no usable glue at all: the only server's name lies inside the child and the
// parent sends no glue. Nothing can reach it; Unbound answers SERVFAIL. The resolver
// must not loop looking up a name that only the unreachable server can answer.
TEST(Tolerance, AReferralToInChildServersWithoutAnyGlueFailsWithoutLooping) {
  Harness h;
  h.add_records("127.2.0.1", "test.", "noglue.test. NS ns.noglue.test.\n");
  auto r = h.resolve("www.noglue.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_LE(h.net.sent.size(), 20u);
}

// Case 9: one server of the zone refuses (or fails), the other answers: Unbound marks
// a REFUSED server lame for the zone and only skips one that sent SERVFAIL.
TEST(Tolerance, RefusedOrServfailFromOneServerThenAnAnswerFromAnother) {
  for (uint16_t code : {rcode::REFUSED, rcode::SERVFAIL}) {
    SCOPED_TRACE(rcode_to_text(code));
    Harness h;
    std::string bad;
    first_reply_bad(
        h, [code](const Message &q) { return reply_to(q, false, code); }, &bad);
    auto r = h.resolve("www.two.test.", rrtype::A);
    EXPECT_EQ(r.rcode, rcode::NOERROR);
    EXPECT_EQ(addresses_of(r, "www.two.test."), std::vector<std::string>{"192.0.2.5"});
    ASSERT_FALSE(bad.empty()) << "the bad reply was sent";
    EXPECT_EQ(h.net.queries_to("127.3.0.10") + h.net.queries_to("127.3.0.11"), 2u);
    EXPECT_EQ(h.infra.is_lame(*SocketAddress::parse(bad), n("two.test.")), code == rcode::REFUSED);
  }
}

// Case 10, NOTIMP carrying the question (iterator_scenario_test covers a questionless
// FORMERR): RFC 6891 7, the query is repeated without EDNS, and the server is then
// known not to support it.
TEST(Tolerance, NotimpWithTheQuestionToAnEdnsQueryIsRetriedWithoutEdns) {
  Harness h;
  h.net.server("127.3.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    if (!q.edns) return std::nullopt;
    Message m = reply_to(q, false, rcode::NOTIMP);
    m.edns.reset();  // an old server: no OPT in its reply
    return m;
  };
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(addresses_of(r, "www.alpha.test."), std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(h.infra.get(*SocketAddress::parse("127.3.0.1")).edns, EdnsSupport::unsupported);
  ASSERT_FALSE(h.net.sent.empty());
  EXPECT_FALSE(has_edns(h.net.sent.back()));
}

// Case 11: a CNAME without AA is followed, whether the server includes the in-zone
// target's records (used at once) or leaves them out (asked for). Unbound classifies
// a CNAME answer by its content, not by AA.
TEST(Tolerance, ACnameWithoutAaIsFollowedWithOrWithoutTheTargetsRecords) {
  for (bool include_target : {true, false}) {
    SCOPED_TRACE(include_target ? "target included" : "target left out");
    Harness h;
    h.net.server("127.3.0.1").forge = [&, include_target](const Message &q) -> std::optional<Message> {
      Message m = h.honest("127.3.0.1", q);
      m.aa = false;
      if (!include_target && q.questions.at(0).name == n("alias.alpha.test."))
        std::erase_if(m.answer, [](const ResourceRecord &rr) { return rr.type != rrtype::CNAME; });
      return m;
    };
    auto r = h.resolve("alias.alpha.test.", rrtype::A);
    EXPECT_EQ(r.rcode, rcode::NOERROR);
    EXPECT_EQ(count(r, "alias.alpha.test.", rrtype::CNAME), 1u);
    EXPECT_EQ(addresses_of(r, "www.alpha.test."), std::vector<std::string>{"192.0.2.1"});
    EXPECT_EQ(h.net.queries_to("127.3.0.1"), include_target ? 1u : 2u);
  }
}

// Case 12: RFC 9156 3 / Unbound without qname-minimisation-strict: a server that says
// NXDOMAIN for an empty non-terminal (deep.alpha.test. and the names between it and
// the data) is asked the full name, and the data below is answered.
TEST(Tolerance, NxdomainForAnEmptyNonTerminalUnderMinimisationFallsBackToTheFullName) {
  Harness h;
  ASSERT_TRUE(h.config.resolver.qname_minimisation);
  h.net.server("127.3.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    const Name &name = q.questions.at(0).name;
    if (name == n("a.b.c.deep.alpha.test.") || !name.is_subdomain_of(n("deep.alpha.test.")))
      return std::nullopt;
    Message m = reply_to(q, true, rcode::NXDOMAIN);
    append(m.authority, "alpha.test. 300 SOA ns.alpha.test. hostmaster.alpha.test. 1 3600 600 86400 30\n");
    return m;
  };
  auto r = h.resolve("a.b.c.deep.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(addresses_of(r, "a.b.c.deep.alpha.test."), std::vector<std::string>{"192.0.2.9"});
  bool minimised_sent = false;
  for (const auto &q : h.net.sent) minimised_sent |= q.question.name == n("deep.alpha.test.");
  EXPECT_TRUE(minimised_sent) << "the test needs the minimised query to have been asked";
}

// Case 12: NOTIMP or FORMERR to a minimised query (the server keeps EDNS, its reply
// carries an OPT record): the full name is asked and answered (RFC 9156 3).
TEST(Tolerance, NotimpOrFormerrToAMinimisedQueryFallsBackToTheFullName) {
  for (uint16_t code : {rcode::NOTIMP, rcode::FORMERR}) {
    SCOPED_TRACE(rcode_to_text(code));
    Harness h;
    h.net.server("127.3.0.1").forge = [&, code](const Message &q) -> std::optional<Message> {
      if (q.questions.at(0).name == n("a.b.c.deep.alpha.test.")) return std::nullopt;
      return reply_to(q, false, code);
    };
    auto r = h.resolve("a.b.c.deep.alpha.test.", rrtype::A);
    EXPECT_EQ(r.rcode, rcode::NOERROR);
    EXPECT_EQ(addresses_of(r, "a.b.c.deep.alpha.test."), std::vector<std::string>{"192.0.2.9"});
    EXPECT_NE(h.infra.get(*SocketAddress::parse("127.3.0.1")).edns, EdnsSupport::unsupported);
  }
}

// Case 12 with case 10: a server that answers a minimised query with FORMERR and no
// OPT record, with or without EDNS in the query. The EDNS fallback is tried first
// (RFC 6891 7), but the query without EDNS fails the same way: the question, not
// EDNS, upset it. Unbound records "no EDNS" only when the plain query is answered
// (NOERROR or NXDOMAIN); the server must keep EDNS, and with it DNSSEC.
TEST(Tolerance, FormerrToAMinimisedQueryDoesNotTurnEdnsOff) {
  Harness h;
  h.net.server("127.3.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    if (q.questions.at(0).name == n("a.b.c.deep.alpha.test.")) return std::nullopt;
    Message m = reply_to(q, false, rcode::FORMERR);
    m.edns.reset();
    return m;
  };
  auto r = h.resolve("a.b.c.deep.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(addresses_of(r, "a.b.c.deep.alpha.test."), std::vector<std::string>{"192.0.2.9"});
  EXPECT_NE(h.infra.get(*SocketAddress::parse("127.3.0.1")).edns, EdnsSupport::unsupported);
  ASSERT_FALSE(h.net.sent.empty());
  EXPECT_TRUE(has_edns(h.net.sent.back())) << "the full name is asked with EDNS";
}

// --- security: rejected ------------------------------------------------------------

// Case 13: RFC 1034 5.3.3 / Unbound's RESPONSE_TYPE_LAME for a referral upward (to
// test. or to the root, no AA, no answer). The server is marked lame; the other server
// answers. When every server refers upward the question fails without looping.
TEST(Tolerance, AnUpwardReferralIsLameAndNeverLoops) {
  for (const char *up : {"test. 300 NS ns.test.\n", ". 300 NS a.root.\n"}) {
    SCOPED_TRACE(up);
    Harness h;
    std::string bad;
    first_reply_bad(
        h,
        [up](const Message &q) {
          Message m = reply_to(q, false);
          append(m.authority, up);
          append(m.additional, "ns.test. 300 A 127.2.0.1\na.root. 300 A 127.1.0.1\n");
          return m;
        },
        &bad);
    auto r = h.resolve("www.two.test.", rrtype::A);
    EXPECT_EQ(r.rcode, rcode::NOERROR);
    EXPECT_EQ(addresses_of(r, "www.two.test."), std::vector<std::string>{"192.0.2.5"});
    ASSERT_FALSE(bad.empty());
    EXPECT_TRUE(h.infra.is_lame(*SocketAddress::parse(bad), n("two.test.")));
  }

  Harness all;
  for (const char *address : {"127.3.0.10", "127.3.0.11"})
    all.net.server(address).forge = [](const Message &q) -> std::optional<Message> {
      Message m = reply_to(q, false);
      append(m.authority, "test. 300 NS ns.test.\n");
      append(m.additional, "ns.test. 300 A 127.2.0.1\n");
      return m;
    };
  auto r = all.resolve("www.two.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_TRUE(r.answer.empty());
  EXPECT_LE(all.net.sent.size(), 20u) << "a referral loop must not be followed";
  EXPECT_LE(all.net.queries_to("127.2.0.1"), 3u);
}

// Case 14: an answer section holding records for names off the question's CNAME
// chain (in the zone or not), and out-of-bailiwick records in the authority and
// additional sections. Unbound's scrubber drops them; they are never served or cached,
// and the delegation of beta.test. is not replaced.
TEST(Tolerance, RecordsOffTheChainOrOutOfBailiwickAreNeverServedOrCached) {
  Harness h;
  h.net.server("127.3.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    if (q.questions.at(0).name != n("www.alpha.test.")) return std::nullopt;
    Message m = reply_to(q, true);
    append(m.answer,
           "www.alpha.test. 300 A 192.0.2.1\nns.alpha.test. 300 A 6.6.6.6\nwww.beta.test. 300 A 6.6.6.6\n"
           "beta.test. 300 NS ns.evil.test.\n");
    append(m.authority, "beta.test. 300 NS ns.evil.test.\ntest. 300 NS ns.evil.test.\n");
    append(m.additional, "ns.evil.test. 300 A 127.6.6.6\nns.beta.test. 300 A 127.6.6.6\n");
    return m;
  };
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  ASSERT_EQ(r.answer.size(), 1u);
  EXPECT_EQ(addresses_of(r, "www.alpha.test."), std::vector<std::string>{"192.0.2.1"});
  EXPECT_FALSE(cached_address_is(h, "ns.alpha.test.", "6.6.6.6"));
  EXPECT_FALSE(h.rrsets.lookup(n("www.beta.test."), rrtype::A));
  EXPECT_FALSE(h.rrsets.lookup(n("beta.test."), rrtype::NS));
  EXPECT_FALSE(h.rrsets.lookup(n("ns.evil.test."), rrtype::A));
  EXPECT_FALSE(cached_address_is(h, "ns.beta.test.", "127.6.6.6"));

  auto beta = h.resolve("www.beta.test.", rrtype::A);
  EXPECT_EQ(addresses_of(beta, "www.beta.test."), std::vector<std::string>{"192.0.2.2"});
  EXPECT_EQ(h.net.queries_to(kEvil), 0u);
}

// Case 15: RFC 5452 9.1 / Unbound's outside_network: a reply is taken only if its ID
// and its question (name, type and class) are those of the query. Anything else,
// however plausible its content, is ignored like a lost datagram; the other server
// answers.
TEST(Tolerance, AReplyForAnotherQuestionOrWithAnotherIdIsIgnored) {
  struct Variant {
    const char *what;
    std::function<void(Message &)> change;
  };
  const Variant variants[] = {
      {"other name", [](Message &m) { m.questions[0].name = n("www.alpha.test."); }},
      {"other type", [](Message &m) { m.questions[0].qtype = rrtype::AAAA; }},
      {"other class", [](Message &m) { m.questions[0].qclass = rrclass::CH; }},
      {"other ID", [](Message &m) { m.id = static_cast<uint16_t>(m.id + 1); }},
  };
  for (const auto &variant : variants) {
    SCOPED_TRACE(variant.what);
    Harness h;
    std::string bad;
    first_reply_bad(
        h,
        [&variant](const Message &q) {
          Message m = reply_to(q, true);
          variant.change(m);
          append(m.answer, "www.two.test. 300 A 6.6.6.6\nwww.alpha.test. 300 A 6.6.6.6\n");
          return m;
        },
        &bad);
    auto r = h.resolve("www.two.test.", rrtype::A);
    EXPECT_EQ(r.rcode, rcode::NOERROR);
    EXPECT_EQ(addresses_of(r, "www.two.test."), std::vector<std::string>{"192.0.2.5"});
    ASSERT_FALSE(bad.empty());
    EXPECT_FALSE(cached_address_is(h, "www.two.test.", "6.6.6.6"));
    EXPECT_FALSE(h.rrsets.lookup(n("www.alpha.test."), rrtype::A));
  }
}

// Case 16: a referral to a zone that is not below the zone of the server asked
// (sideways, beta.test. from a server of two.test.) or not on the way to the question
// (other.two.test. for www.two.test.). RFC 1034 5.3.3 / Unbound's scrubber and
// RESPONSE_TYPE_LAME: not followed, and the attacker's server is never asked.
TEST(Tolerance, AReferralOutsideTheZoneOrOffThePathIsNotFollowed) {
  for (const char *child : {"beta.test.", "other.two.test."}) {
    SCOPED_TRACE(child);
    Harness h;
    std::string bad;
    first_reply_bad(
        h,
        [child](const Message &q) {
          Message m = reply_to(q, false);
          append(m.authority, std::string(child) + " 300 NS ns.evil.test.\n");
          append(m.additional, "ns.evil.test. 300 A 127.6.6.6\n");
          return m;
        },
        &bad);
    auto r = h.resolve("www.two.test.", rrtype::A);
    EXPECT_EQ(r.rcode, rcode::NOERROR);
    EXPECT_EQ(addresses_of(r, "www.two.test."), std::vector<std::string>{"192.0.2.5"});
    ASSERT_FALSE(bad.empty());
    EXPECT_FALSE(h.rrsets.lookup(n(child), rrtype::NS));
    auto beta = h.resolve("www.beta.test.", rrtype::A);
    EXPECT_EQ(addresses_of(beta, "www.beta.test."), std::vector<std::string>{"192.0.2.2"});
    EXPECT_EQ(h.net.queries_to(kEvil), 0u);
  }
}

// --- more from the classifier and the scrubber -------------------------------------

// harden-glue (Unbound's default): the parent test. hands out an address for
// ns.far.example., a name it has no authority over. It is not believed; the name is
// looked up in its own zone, and the poisoned address is never asked.
TEST(Tolerance, GlueOutsideTheParentsBailiwickIsNotUsed) {
  Harness h;
  ASSERT_TRUE(h.config.resolver.harden_glue);
  h.add_records("127.2.0.1", "test.", "cross.test. NS ns.far.example.\nns.far.example. A 127.6.6.6\n");
  h.add_zone("127.3.0.3", "cross.test.",
             "cross.test. SOA ns.far.example. h.cross.test. 1 3600 600 86400 30\n"
             "cross.test. NS ns.far.example.\nwww.cross.test. A 192.0.2.30\n");
  auto r = h.resolve("www.cross.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(addresses_of(r, "www.cross.test."), std::vector<std::string>{"192.0.2.30"});
  EXPECT_EQ(h.net.queries_to(kEvil), 0u);
  EXPECT_FALSE(cached_address_is(h, "ns.far.example.", "127.6.6.6"));
}

// Unbound's rule (iter_resptype.c): data without AA next to a delegation below the
// zone is a referral from a parent that also sent what it had cached. The referral is
// followed and the child's own answer served, never the parent's copy.
TEST(Tolerance, DataWithoutAaNextToADelegationIsFollowedAsAReferral) {
  Harness h;
  h.config.resolver.qname_minimisation = false;
  h.rebuild();
  h.net.server("127.2.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    Message m = h.honest("127.2.0.1", q);
    if (q.questions.at(0).name != n("www.alpha.test.")) return std::nullopt;
    append(m.answer, "www.alpha.test. 300 A 6.6.6.6\n");
    return m;
  };
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(addresses_of(r, "www.alpha.test."), std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(h.net.queries_to("127.3.0.1"), 1u);
  EXPECT_FALSE(cached_address_is(h, "www.alpha.test.", "6.6.6.6"));
}

// RFC 6604 3: the rcode speaks of the last name of the chain. A server of alpha.test.
// that says NXDOMAIN after a CNAME into beta.test. (a zone it does not serve) is not
// believed about beta.test.: the target is asked of beta.test.'s own server.
TEST(Tolerance, AnNxdomainForACnameTargetInAnotherZoneIsNotBelieved) {
  Harness h;
  h.net.server("127.3.0.1").forge = [&](const Message &q) -> std::optional<Message> {
    if (q.questions.at(0).name != n("out.alpha.test.")) return std::nullopt;
    Message m = reply_to(q, true, rcode::NXDOMAIN);
    append(m.answer, "out.alpha.test. 300 CNAME www.beta.test.\n");
    append(m.authority, "beta.test. 300 SOA ns.beta.test. h.beta.test. 1 3600 600 86400 30\n");
    return m;
  };
  auto r = h.resolve("out.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(count(r, "out.alpha.test.", rrtype::CNAME), 1u);
  EXPECT_EQ(addresses_of(r, "www.beta.test."), std::vector<std::string>{"192.0.2.2"});
  EXPECT_EQ(h.net.queries_to("127.3.0.2"), 1u);
}

// An NXDOMAIN whose SOA is another zone's, without AA: nothing says the server speaks
// for the zone (Unbound: lame). The other server's answer is taken.
TEST(Tolerance, AnNxdomainWithAnotherZonesSoaAndNoAaIsLame) {
  Harness h;
  std::string bad;
  first_reply_bad(
      h,
      [](const Message &q) {
        Message m = reply_to(q, false, rcode::NXDOMAIN);
        append(m.authority, "test. 300 SOA ns.test. h.test. 1 3600 600 86400 60\n");
        return m;
      },
      &bad);
  auto r = h.resolve("www.two.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_EQ(addresses_of(r, "www.two.test."), std::vector<std::string>{"192.0.2.5"});
  ASSERT_FALSE(bad.empty());
  EXPECT_TRUE(h.infra.is_lame(*SocketAddress::parse(bad), n("two.test.")));
}

}  // namespace
}  // namespace rsv
