// The engine and iterator driven through a fake hierarchy with a manual clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "cache/infra_cache.h"
#include "cache/rrset_cache.h"
#include "resolver/engine/engine.h"
#include "tests/scenario/fake_network.h"

namespace rsv {
namespace {

using testing::FakeNetwork;
using testing::ServerBehaviour;
using testing::zone_records;

struct Harness {
  ManualClock clock;
  SeededRandom random{42};
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

  explicit Harness(Config with = make_config()) : config(std::move(with)) {
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
glueless.test. NS ns.alpha.test.
lame.test. NS ns1.lame.test.
lame.test. NS ns2.lame.test.
ns1.lame.test. A 127.3.0.10
ns2.lame.test. A 127.3.0.11
)");
    add_zone("127.2.0.2", "example.", R"(
example. SOA ns.example. hostmaster.example. 1 3600 600 86400 60
example. NS ns.example.
ns.example. A 127.2.0.2
gamma.example. NS ns.gamma.example.
ns.gamma.example. A 127.3.0.3
)");
    add_zone("127.3.0.1", "alpha.test.", R"(
alpha.test. SOA ns.alpha.test. hostmaster.alpha.test. 1 3600 600 86400 30
alpha.test. NS ns.alpha.test.
ns.alpha.test. A 127.3.0.1
www.alpha.test. A 192.0.2.1
www.alpha.test. AAAA 2001:db8::1
alpha.test. MX 10 mail.alpha.test.
start.alpha.test. CNAME mid.beta.test.
loop1.alpha.test. CNAME loop2.alpha.test.
loop2.alpha.test. CNAME loop1.alpha.test.
old.alpha.test. DNAME new.beta.test.
a.b.c.deep.alpha.test. A 192.0.2.9
)");
    add_zone("127.3.0.2", "beta.test.", R"(
beta.test. SOA ns.beta.test. hostmaster.beta.test. 1 3600 600 86400 30
beta.test. NS ns.beta.test.
mid.beta.test. CNAME end.gamma.example.
www.new.beta.test. A 192.0.2.2
)");
    add_zone("127.3.0.3", "gamma.example.", R"(
gamma.example. SOA ns.gamma.example. hostmaster.gamma.example. 1 3600 600 86400 30
gamma.example. NS ns.gamma.example.
end.gamma.example. A 192.0.2.33
)");
    // glueless.test is served by ns.alpha.test's address too.
    net.server("127.3.0.1").zones.push_back(
        {*Name::from_text("glueless.test."),
         zone_records("glueless.test. SOA ns.alpha.test. h.glueless.test. 1 3600 600 86400 30\n"
                      "glueless.test. NS ns.alpha.test.\nwww.glueless.test. A 192.0.2.7\n",
                      "glueless.test.")});
    for (const char *addr : {"127.3.0.10", "127.3.0.11"})
      add_zone(addr, "lame.test.",
               "lame.test. SOA ns1.lame.test. h.lame.test. 1 3600 600 86400 30\nlame.test. NS ns1.lame.test.\n"
               "lame.test. NS ns2.lame.test.\nwww.lame.test. A 192.0.2.5\n");
    engine = std::make_unique<Engine>(EngineEnv{rrsets, infra, clock, random, config, hints, nullptr, &non_cuts}, net);
  }

  void add_zone(const std::string &address, const std::string &origin, const std::string &text) {
    net.server(address).zones.push_back({*Name::from_text(origin), zone_records(text, origin)});
  }

  Resolution resolve(const std::string &name, uint16_t type) {
    std::optional<Resolution> out;
    engine->resolve(Question{*Name::from_text(name), type, rrclass::IN}, false, [&](const Resolution &r) { out = r; });
    net.run();
    EXPECT_TRUE(out.has_value()) << "no completion for " << name;
    return out.value_or(Resolution{});
  }
};

std::vector<std::string> answer_texts(const Resolution &r) {
  std::vector<std::string> out;
  for (const auto &rr : r.answer) out.push_back(type_to_text(rr.type) + " " + rr.owner.to_text());
  return out;
}

bool has_record(const Resolution &r, const std::string &owner, uint16_t type) {
  for (const auto &rr : r.answer)
    if (rr.owner == *Name::from_text(owner) && rr.type == type) return true;
  return false;
}

TEST(IteratorScenario, ResolvesFromTheRootAndAnswersRepeatsFromCache) {
  Harness h;
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  ASSERT_TRUE(has_record(r, "www.alpha.test.", rrtype::A));
  size_t sent = h.net.sent.size();
  auto again = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_EQ(again.rcode, rcode::NOERROR);
  EXPECT_EQ(h.net.sent.size(), sent) << "a repeated question must not go upstream";
}

TEST(IteratorScenario, PrimesTheRootFirst) {
  Harness h;
  h.resolve("www.alpha.test.", rrtype::A);
  ASSERT_FALSE(h.net.sent.empty());
  EXPECT_TRUE(h.net.sent[0].question.name.is_root());
  EXPECT_EQ(h.net.sent[0].question.qtype, rrtype::NS);
}

TEST(IteratorScenario, MinimisesQueryNames) {
  Harness h;
  h.resolve("a.b.c.deep.alpha.test.", rrtype::A);
  for (const auto &q : h.net.sent) {
    if (q.server.to_string() == "127.1.0.1@53" && !q.question.name.is_root()) {
      EXPECT_EQ(q.question.name.to_text(), "test.") << "the root must only see the TLD";
    }
    if (q.server.to_string() == "127.2.0.1@53") {
      EXPECT_EQ(q.question.name.to_text(), "alpha.test.") << "the TLD must only see the next label";
    }
  }
  EXPECT_TRUE(has_record(h.resolve("a.b.c.deep.alpha.test.", rrtype::A), "a.b.c.deep.alpha.test.", rrtype::A));
}

TEST(IteratorScenario, NamesKnownInsideTheZoneAreNotAskedAgain) {
  // RFC 9156: c.deep.alpha.test. and deep.alpha.test. are empty non-terminals of
  // alpha.test.; once a minimised query has shown that, the next name below them is
  // asked in full at once: one upstream query.
  Harness h;
  ASSERT_TRUE(has_record(h.resolve("a.b.c.deep.alpha.test.", rrtype::A), "a.b.c.deep.alpha.test.", rrtype::A));
  EXPECT_TRUE(h.non_cuts.inside(*Name::from_text("deep.alpha.test."), *Name::from_text("alpha.test.")));
  size_t before = h.net.queries_to("127.3.0.1");
  h.resolve("x.b.c.deep.alpha.test.", rrtype::A);
  EXPECT_EQ(h.net.queries_to("127.3.0.1"), before + 1);
  EXPECT_EQ(h.net.sent.back().question.name.to_text(), "x.b.c.deep.alpha.test.");
}

// RFC 9156 3: a server that answers a minimised query with an error is asked the
// full name, which it answers. alpha.test.'s server refuses every name but the one
// asked (it sees deep.alpha.test. first, an empty non-terminal).
TEST(IteratorScenario, AnErrorToAMinimisedQueryIsFollowedByTheFullName) {
  const Name full = *Name::from_text("a.b.c.deep.alpha.test.");
  for (uint8_t error : {rcode::SERVFAIL, rcode::REFUSED, rcode::NOTIMP, rcode::FORMERR}) {
    Harness h;
    h.net.server("127.3.0.1").forge = [&](const Message &query) -> std::optional<Message> {
      if (query.questions.at(0).name == full) return std::nullopt;
      Message reply;
      reply.id = query.id;
      reply.qr = true;
      reply.questions = query.questions;  // with the question: not an EDNS complaint alone
      reply.rcode = error;
      return reply;
    };
    auto r = h.resolve("a.b.c.deep.alpha.test.", rrtype::A);
    EXPECT_EQ(r.rcode, rcode::NOERROR) << rcode_to_text(error);
    EXPECT_TRUE(has_record(r, "a.b.c.deep.alpha.test.", rrtype::A)) << rcode_to_text(error);
    ASSERT_FALSE(h.net.sent.empty());
    EXPECT_EQ(h.net.sent.back().question.name, full) << rcode_to_text(error);
  }
}

// RFC 9156 3: a server (or a middlebox before it) that drops minimised queries. After
// the first one times out, the walk asks the full name; before, every server of the
// zone timed out on the minimised name and the question failed.
TEST(IteratorScenario, AMinimisedQueryThatTimesOutIsFollowedByTheFullName) {
  const Name full = *Name::from_text("a.b.c.deep.alpha.test.");
  Harness h;
  h.net.server("127.3.0.1").drop = [&](const Message &query) { return query.questions.at(0).name != full; };
  auto r = h.resolve("a.b.c.deep.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(r, "a.b.c.deep.alpha.test.", rrtype::A));
  EXPECT_EQ(h.net.sent.back().question.name, full);
  EXPECT_EQ(h.net.queries_to("127.3.0.1"), 2u) << "one minimised query lost, then the full name";
  // The next question minimises again: the fallback lasts one walk. test.'s server
  // sees only beta.test. on the way to www.new.beta.test.
  const size_t before = h.net.sent.size();
  EXPECT_TRUE(has_record(h.resolve("www.new.beta.test.", rrtype::A), "www.new.beta.test.", rrtype::A));
  std::vector<std::string> asked_of_test;
  for (size_t i = before; i < h.net.sent.size(); ++i)
    if (h.net.sent[i].server.to_string() == "127.2.0.1@53")
      asked_of_test.push_back(h.net.sent[i].question.name.to_text());
  EXPECT_EQ(asked_of_test, std::vector<std::string>{"beta.test."});
}

TEST(IteratorScenario, SendsFullNamesWhenMinimisationIsOff) {
  Harness h;
  h.config.resolver.qname_minimisation = false;
  h.engine = std::make_unique<Engine>(EngineEnv{h.rrsets, h.infra, h.clock, h.random, h.config, h.hints}, h.net);
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  for (const auto &q : h.net.sent) {
    if (!q.question.name.is_root()) {
      EXPECT_EQ(q.question.name.to_text(), "www.alpha.test.");
    }
  }
}

TEST(IteratorScenario, FollowsCnameChainAcrossThreeZones) {
  Harness h;
  auto r = h.resolve("start.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(r, "start.alpha.test.", rrtype::CNAME));
  EXPECT_TRUE(has_record(r, "mid.beta.test.", rrtype::CNAME));
  EXPECT_TRUE(has_record(r, "end.gamma.example.", rrtype::A)) << ::testing::PrintToString(answer_texts(r));
}

TEST(IteratorScenario, SynthesizesCnameFromDname) {
  Harness h;
  auto r = h.resolve("www.old.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(r, "old.alpha.test.", rrtype::DNAME));
  EXPECT_TRUE(has_record(r, "www.old.alpha.test.", rrtype::CNAME));
  EXPECT_TRUE(has_record(r, "www.new.beta.test.", rrtype::A)) << ::testing::PrintToString(answer_texts(r));
}

TEST(IteratorScenario, NxdomainAndNodataCarryTheSoaWithNegativeTtl) {
  Harness h;
  auto nx = h.resolve("missing.alpha.test.", rrtype::A);
  EXPECT_EQ(nx.rcode, rcode::NXDOMAIN);
  ASSERT_EQ(nx.authority.size(), 1u);
  EXPECT_EQ(nx.authority[0].type, rrtype::SOA);
  EXPECT_EQ(nx.authority[0].ttl, 30u) << "min(SOA TTL 300, MINIMUM 30)";
  EXPECT_TRUE(nx.cacheable);
  auto nodata = h.resolve("www.alpha.test.", rrtype::TXT);
  EXPECT_EQ(nodata.rcode, rcode::NOERROR);
  EXPECT_TRUE(nodata.answer.empty());
  ASSERT_EQ(nodata.authority.size(), 1u);
  EXPECT_EQ(nodata.cache_ttl, 30u);
}

TEST(IteratorScenario, ResolvesGluelessDelegation) {
  Harness h;
  auto r = h.resolve("www.glueless.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(r, "www.glueless.test.", rrtype::A));
}

TEST(IteratorScenario, GluelessNameServersAreLookedUpForAThenAaaa) {
  // ns.v6.alpha.test. has only an AAAA record: with IPv6 on, the A lookup finds
  // nothing and the AAAA lookup (not the A lookup again) finds the server.
  Config config = Harness::make_config();
  config.network.do_ip6 = true;
  Harness h(config);
  auto &tld = h.net.server("127.2.0.1").zones[0].records;
  auto delegation = zone_records("v6only.test. NS ns.v6.alpha.test.\n", "test.");
  tld.insert(tld.end(), delegation.begin(), delegation.end());
  auto &alpha = h.net.server("127.3.0.1").zones[0].records;
  auto aaaa = zone_records("ns.v6.alpha.test. AAAA 2001:db8::53\n", "alpha.test.");
  alpha.insert(alpha.end(), aaaa.begin(), aaaa.end());
  h.add_zone("2001:db8::53", "v6only.test.",
             "v6only.test. SOA ns.v6.alpha.test. h.v6only.test. 1 3600 600 86400 30\n"
             "v6only.test. NS ns.v6.alpha.test.\nwww.v6only.test. A 192.0.2.66\n");
  auto r = h.resolve("www.v6only.test.", rrtype::A);
  EXPECT_TRUE(has_record(r, "www.v6only.test.", rrtype::A));
  size_t a_lookups = 0, aaaa_lookups = 0;
  for (const auto &q : h.net.sent) {
    if (q.question.name != *Name::from_text("ns.v6.alpha.test.")) continue;
    a_lookups += q.question.qtype == rrtype::A;
    aaaa_lookups += q.question.qtype == rrtype::AAAA;
  }
  EXPECT_EQ(a_lookups, 1u);
  EXPECT_EQ(aaaa_lookups, 1u);
}

TEST(IteratorScenario, WhenTheChildsAddressesFailTheParentsGlueIsTried) {
  // beta.test.'s own zone says ns.beta.test. is 127.9.9.9 (nothing answers there); the
  // parent's glue says 127.3.0.2. Once the child's address replaced the glue in the
  // cache, a new question asks the parent for its delegation again and uses its glue.
  Harness h;
  auto &beta = h.net.server("127.3.0.2").zones[0].records;
  auto moved = zone_records("ns.beta.test. A 127.9.9.9\n", "beta.test.");
  beta.insert(beta.end(), moved.begin(), moved.end());
  ASSERT_TRUE(has_record(h.resolve("ns.beta.test.", rrtype::A), "ns.beta.test.", rrtype::A));
  auto cached = h.rrsets.lookup(*Name::from_text("ns.beta.test."), rrtype::A);
  ASSERT_TRUE(cached);
  ASSERT_EQ(cached->trust, Trust::authoritative);
  auto r = h.resolve("www.new.beta.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(r, "www.new.beta.test.", rrtype::A));
  EXPECT_GE(h.net.queries_to("127.9.9.9"), 1u);
}

// An in-zone name server whose address expired before the zone's NS set: the cached
// cut cannot be used (no address, and a lookup of ns.short.test. would start at this
// very cut), so the walk goes to the parent, whose referral brings the glue again.
TEST(IteratorScenario, AnInZoneServerWhoseGlueExpiredIsReachedThroughTheParentAgain) {
  Harness h;
  for (auto &rr : zone_records("short.test. NS ns.short.test.\nns.short.test. 60 A 127.3.0.30\n", "test."))
    h.net.server("127.2.0.1").zones.at(0).records.push_back(rr);
  h.add_zone("127.3.0.30", "short.test.", R"(
short.test. SOA ns.short.test. hostmaster.short.test. 1 3600 600 86400 30
short.test. NS ns.short.test.
ns.short.test. 60 A 127.3.0.30
www.short.test. A 192.0.2.30
mail.short.test. A 192.0.2.31
)");
  ASSERT_TRUE(has_record(h.resolve("www.short.test.", rrtype::A), "www.short.test.", rrtype::A));
  ASSERT_TRUE(h.rrsets.lookup(*Name::from_text("ns.short.test."), rrtype::A));
  h.clock.advance_ms(120 * 1000);  // the address is gone; the NS set (3600 s) is not
  ASSERT_FALSE(h.rrsets.lookup(*Name::from_text("ns.short.test."), rrtype::A));
  ASSERT_TRUE(h.rrsets.lookup(*Name::from_text("short.test."), rrtype::NS));
  const size_t parent_before = h.net.queries_to("127.2.0.1");
  const size_t child_before = h.net.queries_to("127.3.0.30");
  auto r = h.resolve("mail.short.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(r, "mail.short.test.", rrtype::A));
  EXPECT_GT(h.net.queries_to("127.2.0.1"), parent_before) << "the parent is asked for the delegation again";
  EXPECT_GT(h.net.queries_to("127.3.0.30"), child_before);
}

TEST(IteratorScenario, SkipsRefusingAndSilentServers) {
  Harness h;
  h.net.server("127.3.0.10").behaviour = ServerBehaviour::refused;
  auto r = h.resolve("www.lame.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(r, "www.lame.test.", rrtype::A));

  Harness silent;
  silent.net.server("127.3.0.10").behaviour = ServerBehaviour::silent;
  uint64_t start = silent.clock.now_monotonic_ms();
  auto s = silent.resolve("www.lame.test.", rrtype::A);
  EXPECT_EQ(s.rcode, rcode::NOERROR);
  EXPECT_LT(silent.clock.now_monotonic_ms() - start, 2000u);
}

TEST(IteratorScenario, AcceptsAnswersWithoutAa) {
  // Many real servers leave AA clear on good answers; Unbound and Knot Resolver take
  // them. Neither server of lame.test. sets AA: the first one asked answers.
  Harness h;
  for (const char *addr : {"127.3.0.10", "127.3.0.11"}) h.net.server(addr).behaviour = ServerBehaviour::no_aa;
  auto r = h.resolve("www.lame.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(r, "www.lame.test.", rrtype::A));
  EXPECT_EQ(h.net.queries_to("127.3.0.10") + h.net.queries_to("127.3.0.11"), 1u);
  // NODATA and NXDOMAIN carrying the zone's SOA are accepted without AA too.
  EXPECT_EQ(h.resolve("www.lame.test.", rrtype::MX).rcode, rcode::NOERROR);
  EXPECT_EQ(h.resolve("nope.lame.test.", rrtype::A).rcode, rcode::NXDOMAIN);
  for (const char *addr : {"127.3.0.10", "127.3.0.11"})
    EXPECT_FALSE(h.infra.is_lame(*SocketAddress::parse(addr), *Name::from_text("lame.test.")));
}

TEST(IteratorScenario, ANegativeReplyWithoutAaOrSoaIsLame) {
  // Nothing in it says the server speaks for the zone: ask the other server.
  Harness h;
  h.config.resolver.qname_minimisation = false;
  h.net.server("127.3.0.10").behaviour = ServerBehaviour::no_aa_bare_negative;
  h.net.server("127.3.0.10").rtt_ms = 1;
  for (int i = 0; i < 4; ++i) {
    auto r = h.resolve("nope" + std::to_string(i) + ".lame.test.", rrtype::A);
    EXPECT_EQ(r.rcode, rcode::NXDOMAIN);
    EXPECT_FALSE(r.authority.empty()) << "the authoritative server's SOA";
  }
  EXPECT_GE(h.net.queries_to("127.3.0.11"), 1u);
}

TEST(IteratorScenario, ALameReplyDoesNotPutTheChainInTheLoopSet) {
  // The first server of lame.test. answers the CNAME chain with REFUSED-like garbage
  // after pointing at the same target: only the accepted reply's names count.
  Harness h;
  for (const char *addr : {"127.3.0.10", "127.3.0.11"}) {
    auto &zone = h.net.server(addr).zones[0].records;
    auto extra = zone_records("alias.lame.test. CNAME www.lame.test.\n", "lame.test.");
    zone.insert(zone.end(), extra.begin(), extra.end());
  }
  h.net.server("127.3.0.10").behaviour = ServerBehaviour::servfail;
  auto r = h.resolve("alias.lame.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(r, "www.lame.test.", rrtype::A));
}

TEST(IteratorScenario, RetriesTruncatedRepliesOverTcp) {
  Harness h;
  h.net.server("127.3.0.1").behaviour = ServerBehaviour::truncate_udp;
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_TRUE(has_record(r, "www.alpha.test.", rrtype::A));
  bool used_tcp = false;
  for (const auto &q : h.net.sent) used_tcp |= q.tcp;
  EXPECT_TRUE(used_tcp);
}

TEST(IteratorScenario, RetriesWithoutEdnsAfterFormerr) {
  Harness h;
  h.net.server("127.3.0.1").behaviour = ServerBehaviour::formerr_on_edns;
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_TRUE(has_record(r, "www.alpha.test.", rrtype::A));
  EXPECT_EQ(h.infra.get(*SocketAddress::parse("127.3.0.1")).edns, EdnsSupport::unsupported);
}

TEST(IteratorScenario, OneQuestionlessFormerrDoesNotTurnEdnsOff) {
  // RFC 6891 7 fallback, hardened: a FORMERR without a question section is matched by
  // ID and port only, so one of them (what an off-path spoofer can land) is not enough.
  Harness h;
  h.net.server("127.3.0.1").behaviour = ServerBehaviour::formerr_once_on_edns;
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_TRUE(has_record(r, "www.alpha.test.", rrtype::A));
  EXPECT_NE(h.infra.get(*SocketAddress::parse("127.3.0.1")).edns, EdnsSupport::unsupported);
  size_t without_edns = 0;
  for (const auto &q : h.net.sent)
    if (q.server.to_string() == "127.3.0.1@53" && q.wire.size() < 12 + q.question.name.wire().size() + 4 + 11)
      ++without_edns;
  EXPECT_EQ(without_edns, 0u) << "the second query must carry EDNS again";
}

TEST(IteratorScenario, AskedForDsAReferralIntoTheChildIsLame) {
  // RFC 4035 3.1.4.1: the parent holds the DS. A parent server that refers a DS question
  // to the child is lame; the child's servers are never asked for their own DS.
  Harness h;
  h.net.server("127.2.0.1").behaviour = ServerBehaviour::refers_ds_to_child;
  auto r = h.resolve("alpha.test.", rrtype::DS);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_EQ(h.net.queries_to("127.3.0.1"), 0u);
  EXPECT_TRUE(h.infra.is_lame(*SocketAddress::parse("127.2.0.1"), *Name::from_text("test.")));
}

TEST(IteratorScenario, ATtlWithTheTopBitSetIsReadAsZero) {
  // RFC 2181 8: such a TTL is 0: answered once, never cached.
  Harness h;
  auto &zone = h.net.server("127.3.0.1").zones[0].records;
  for (auto &rr : zone)
    if (rr.owner == *Name::from_text("www.alpha.test.") && rr.type == rrtype::A) rr.ttl = 0x80000005u;
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  ASSERT_TRUE(has_record(r, "www.alpha.test.", rrtype::A));
  for (const auto &rr : r.answer) EXPECT_EQ(rr.ttl, 0u);
  EXPECT_FALSE(h.rrsets.lookup(*Name::from_text("www.alpha.test."), rrtype::A));
}

TEST(IteratorScenario, RepeatedRecordsGoOutOnce) {
  // A server that repeats the CNAME in its answer, and a DNAME met on two hops of one
  // chain: every record once (RFC 2181 5).
  Harness h;
  auto &beta = h.net.server("127.3.0.2").zones[0].records;
  auto extra = zone_records("twice.beta.test. CNAME www.new.beta.test.\n", "beta.test.");
  beta.insert(beta.end(), extra.begin(), extra.end());
  beta.insert(beta.end(), extra.begin(), extra.end());  // the server holds (and sends) it twice
  auto r = h.resolve("twice.beta.test.", rrtype::A);
  size_t cnames = 0;
  for (const auto &rr : r.answer) cnames += rr.type == rrtype::CNAME;
  EXPECT_EQ(cnames, 1u);
  ASSERT_TRUE(has_record(r, "www.new.beta.test.", rrtype::A));

  auto &alpha = h.net.server("127.3.0.1").zones[0].records;
  auto hop = zone_records("www2.old.alpha.test. CNAME www.old.alpha.test.\n", "alpha.test.");
  alpha.insert(alpha.end(), hop.begin(), hop.end());
  auto dname = h.resolve("www2.old.alpha.test.", rrtype::A);
  size_t dnames = 0;
  for (const auto &rr : dname.answer) dnames += rr.type == rrtype::DNAME;
  EXPECT_EQ(dnames, 1u) << "the DNAME of both hops is one record";
}

TEST(IteratorScenario, CachedCnameLinksCountTowardTheChainBudget) {
  // Five links from the wire, then eleven already in the cache: sixteen in all, more
  // than the budget of eleven.
  Harness h;
  for (int i = 1; i <= 11; ++i) {
    RRset link;
    link.owner = *Name::from_text("x" + std::to_string(i) + ".gamma.example.");
    link.type = rrtype::CNAME;
    link.add(Name::from_text("x" + std::to_string(i + 1) + ".gamma.example.")->wire(), 300);
    ASSERT_TRUE(h.rrsets.store(link, Trust::authoritative, Security::unchecked));
  }
  auto &alpha = h.net.server("127.3.0.1").zones[0].records;
  auto chain = zone_records(
      "c1.alpha.test. CNAME c2.alpha.test.\nc2.alpha.test. CNAME c3.alpha.test.\nc3.alpha.test. CNAME c4.alpha.test.\n"
      "c4.alpha.test. CNAME c5.alpha.test.\nc5.alpha.test. CNAME x1.gamma.example.\n",
      "alpha.test.");
  alpha.insert(alpha.end(), chain.begin(), chain.end());
  auto r = h.resolve("c1.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->extra_text.find("CNAME chain longer than 11"), std::string::npos) << r.error->extra_text;
}

TEST(IteratorScenario, WithoutCapsForIdTheQuestionsCaseIsNotCompared) {
  // RFC 4343: names compare without regard to case; only a 0x20 query needs its case
  // back exactly. A server that lower-cases the question is fine when 0x20 is off.
  Harness h;
  ASSERT_FALSE(h.config.network.use_caps_for_id);
  h.net.server("127.3.0.1").behaviour = ServerBehaviour::lowercases_question;
  auto r = h.resolve("WWW.Alpha.TEST.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_FALSE(r.answer.empty());
  EXPECT_EQ(h.engine->stats().caps_mismatches, 0u);
}

TEST(IteratorScenario, CnameLoopFailsWithServfail) {
  Harness h;
  auto r = h.resolve("loop1.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_NE(r.error->extra_text.find("loop"), std::string::npos) << r.error->extra_text;
  EXPECT_LT(h.net.sent.size(), 20u);
}

TEST(IteratorScenario, UpwardReferralMarksServerLame) {
  Harness h;
  // ns1.lame.test refers back up to the root: a referral loop.
  h.net.server("127.3.0.10").zones.clear();
  h.add_zone("127.3.0.10", ".", ". SOA a.root. h.root. 1 3600 600 86400 300\n. NS a.root.\n"
                                "test. NS ns.test.\nns.test. A 127.2.0.1\n");
  auto r = h.resolve("www.lame.test.", rrtype::A);
  EXPECT_TRUE(has_record(r, "www.lame.test.", rrtype::A));
}

TEST(IteratorScenario, FiftyGluelessNameServersStayWithinBudget) {
  Harness h;
  std::string text = "hostile.test. SOA ns.test. h.test. 1 3600 600 86400 60\n";
  for (int i = 1; i <= 50; ++i) text += "fifty.hostile.test. NS ns" + std::to_string(i) + ".nowhere.example.\n";
  h.add_zone("127.2.0.1", "hostile.test.", text);
  h.add_zone("127.2.0.1", "test.", "hostile.test. NS ns.test.\n");
  auto r = h.resolve("www.fifty.hostile.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  EXPECT_LE(h.net.sent.size(), 60u) << "glueless lookups are capped per delegation";
}

TEST(IteratorScenario, CoalescesIdenticalQuestions) {
  Harness h;
  int completions = 0;
  Question q{*Name::from_text("www.alpha.test."), rrtype::A, rrclass::IN};
  h.engine->resolve(q, false, [&](const Resolution &) { ++completions; });
  h.engine->resolve(q, false, [&](const Resolution &) { ++completions; });
  EXPECT_EQ(h.engine->stats().coalesced, 1u);
  h.net.run();
  EXPECT_EQ(completions, 2);
}

TEST(IteratorScenario, ForwardZoneSendsRecursiveQueriesToForwarder) {
  Harness h;
  h.config.forward_zones.push_back(ForwardZone{*Name::from_text("fwd.example."), {*SocketAddress::parse("127.9.0.1")}});
  h.add_zone("127.9.0.1", "fwd.example.", "fwd.example. SOA a. b. 1 1 1 1 1\nwww.fwd.example. A 192.0.2.99\n");
  h.net.server("127.9.0.1").behaviour = ServerBehaviour::no_aa;  // recursive servers answer without AA
  h.engine = std::make_unique<Engine>(EngineEnv{h.rrsets, h.infra, h.clock, h.random, h.config, h.hints}, h.net);
  auto r = h.resolve("www.fwd.example.", rrtype::A);
  EXPECT_TRUE(has_record(r, "www.fwd.example.", rrtype::A));
  ASSERT_EQ(h.net.sent.size(), 1u);
  EXPECT_EQ(h.net.sent[0].server.to_string(), "127.9.0.1@53");
}

TEST(IteratorScenario, OneLostDatagramDoesNotFailAZoneWithOneServer) {
  // gamma.example. has a single server; its first reply is lost. The second round
  // asks it again (with a longer timeout) instead of giving up.
  Harness h;
  h.net.server("127.3.0.3").behaviour = ServerBehaviour::drops_first_query;
  auto r = h.resolve("end.gamma.example.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(r, "end.gamma.example.", rrtype::A));
  EXPECT_EQ(h.net.queries_to("127.3.0.3"), 2u);
}

TEST(IteratorScenario, AllServersSilentEndsWithNoReachableAuthority) {
  Harness h;
  for (auto &[address, server] : h.net.servers) server.behaviour = ServerBehaviour::silent;
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_EQ(r.rcode, rcode::SERVFAIL);
  ASSERT_TRUE(r.error);
  // Every server tried, or the time budget spent with no reply at all: EDE 22 either way.
  EXPECT_EQ(r.error->info_code, ede::NO_REACHABLE_AUTHORITY) << r.error->extra_text;
  EXPECT_LE(h.clock.now_monotonic_ms() - 1'000'000, 12'000u);
}

TEST(IteratorScenario, DropsOutOfBailiwickData) {
  Harness h;
  // alpha.test's server tries to poison www.beta.test.
  h.add_zone("127.3.0.1", "alpha.test.", "poison.alpha.test. CNAME www.beta.test.\n");
  h.net.server("127.3.0.1").zones[0].records.push_back(
      zone_records("www.beta.test. A 6.6.6.6\n", "beta.test.")[0]);
  h.add_zone("127.3.0.2", "beta.test.", "www.beta.test. A 192.0.2.22\n");
  auto r = h.resolve("poison.alpha.test.", rrtype::A);
  for (const auto &rr : r.answer) {
    if (rr.type == rrtype::A) {
      EXPECT_EQ(rr.rdata, std::string("\xC0\x00\x02\x16", 4)) << "must come from beta.test";
    }
  }
}

}  // namespace
}  // namespace rsv

namespace rsv {
namespace {

TEST(IteratorScenario, CapsForIdRandomisesCaseAndStillResolves) {
  Harness h;
  h.config.network.use_caps_for_id = true;
  h.engine = std::make_unique<Engine>(EngineEnv{h.rrsets, h.infra, h.clock, h.random, h.config, h.hints}, h.net);
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_TRUE(has_record(r, "www.alpha.test.", rrtype::A));
  bool mixed = false;
  for (const auto &q : h.net.sent) mixed |= q.question.name.wire() != q.question.name.lowered().wire();
  EXPECT_TRUE(mixed) << "0x20 should put upper-case letters in some query names";
}

}  // namespace
}  // namespace rsv

namespace rsv {
namespace {

TEST(IteratorScenario, CapsForIdFallsBackForServersThatLoseTheCase) {
  Harness h;
  h.config.network.use_caps_for_id = true;
  h.engine = std::make_unique<Engine>(EngineEnv{h.rrsets, h.infra, h.clock, h.random, h.config, h.hints}, h.net);
  h.net.server("127.3.0.1").behaviour = ServerBehaviour::lowercases_question;
  auto r = h.resolve("www.alpha.test.", rrtype::A);
  EXPECT_TRUE(has_record(r, "www.alpha.test.", rrtype::A));
  EXPECT_EQ(h.engine->stats().caps_mismatches, 1u);
}


// --- refresh (prefetch) and background questions -----------------------------------

TEST(IteratorScenario, ARefreshAsksTheZonesForTheAnswerButUsesTheCachedCuts) {
  Harness h;
  auto first = h.resolve("start.alpha.test.", rrtype::A);  // a CNAME chain over three zones
  ASSERT_EQ(first.rcode, rcode::NOERROR);
  const size_t sent = h.net.sent.size();
  EXPECT_EQ(h.resolve("start.alpha.test.", rrtype::A).rcode, rcode::NOERROR);
  ASSERT_EQ(h.net.sent.size(), sent) << "without refresh the cache answers";
  std::optional<Resolution> refreshed;
  h.engine->resolve(Question{*Name::from_text("start.alpha.test."), rrtype::A, rrclass::IN}, false,
                    [&](const Resolution &r) { refreshed = r; }, ResolveOptions{.refresh = true, .background = true});
  h.net.run();
  ASSERT_TRUE(refreshed);
  EXPECT_EQ(refreshed->rcode, rcode::NOERROR);
  EXPECT_TRUE(has_record(*refreshed, "end.gamma.example.", rrtype::A));
  std::vector<std::string> asked;
  for (size_t i = sent; i < h.net.sent.size(); ++i) {
    const auto &q = h.net.sent[i];
    EXPECT_TRUE(q.server.to_string().rfind("127.3.0.", 0) == 0)
        << "only the zones' own servers: the cuts come from the cache, not " << q.server.to_string();
    asked.push_back(q.question.name.lowered().to_text());
  }
  for (const char *name : {"start.alpha.test.", "mid.beta.test.", "end.gamma.example."})
    EXPECT_NE(std::find(asked.begin(), asked.end(), name), asked.end()) << "every link is asked again: " << name;
  EXPECT_EQ(h.engine->stats().requests, 2u) << "a background question is not a client's";
}

TEST(IteratorScenario, ABackgroundQuestionIsGivenUpFirstUntilAClientJoinsIt) {
  Harness h;
  const Question question{*Name::from_text("www.alpha.test."), rrtype::A, rrclass::IN};
  bool dropped = false;
  h.engine->resolve(question, false, [&](const Resolution &r) { dropped = r.dropped; },
                    ResolveOptions{.refresh = true, .background = true});
  ASSERT_EQ(h.engine->in_flight(), 1u);
  EXPECT_TRUE(h.engine->make_room(UINT64_MAX)) << "given up however young it is";
  EXPECT_TRUE(dropped);
  EXPECT_EQ(h.engine->in_flight(), 0u);

  std::optional<Resolution> background, client;
  h.engine->resolve(question, false, [&](const Resolution &r) { background = r; },
                    ResolveOptions{.refresh = true, .background = true});
  h.engine->resolve(question, false, [&](const Resolution &r) { client = r; });
  EXPECT_EQ(h.engine->in_flight(), 1u) << "the client joined the question in flight";
  EXPECT_FALSE(h.engine->make_room(UINT64_MAX)) << "a client waits on it now: it is not given up";
  h.net.run();
  ASSERT_TRUE(client && background);
  EXPECT_EQ(client->rcode, rcode::NOERROR);
  EXPECT_FALSE(client->dropped);
}

}  // namespace
}  // namespace rsv
