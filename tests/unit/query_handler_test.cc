// The server's query handling, driven with raw packets and a fake network.
#include "resolver/server/query_handler.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "cache/infra_cache.h"
#include "resolver/base/log.h"
#include "tests/scenario/fake_network.h"

namespace rsv {
namespace {

using testing::FakeNetwork;
using testing::ServerBehaviour;

class CapturingChannel final : public ReplyChannel {
public:
  void send(std::string_view wire) override { replies.emplace_back(wire); }
  std::vector<std::string> replies;
};

class TestContext final : public QueryContext {
public:
  TestContext(const std::string &wire, const char *client, bool over_tcp) : packet(wire) {
    query = reinterpret_cast<const uint8_t *>(packet.data());
    query_size = packet.size();
    this->client = *SocketAddress::parse(client);
    tcp = over_tcp;
    reply_buffer = buffer;
    reply_capacity = sizeof buffer;
  }
  std::shared_ptr<ReplyChannel> defer() override {
    channel = std::make_shared<CapturingChannel>();
    return channel;
  }
  std::string packet;
  uint8_t buffer[65535];
  std::shared_ptr<CapturingChannel> channel;
};

// Serve-stale's client response timer, fired by hand.
class FakeScheduler final : public Scheduler {
public:
  struct Call {
    uint64_t delay_ms;
    std::function<void()> fire;
    bool cancelled = false;
  };
  std::unique_ptr<Scheduled> after(uint64_t delay_ms, std::function<void()> fire) override {
    calls.push_back(std::make_shared<Call>(Call{delay_ms, std::move(fire)}));
    return std::make_unique<Handle>(calls.back());
  }
  // Fires every call not cancelled; returns how many.
  size_t fire_all() {
    size_t fired = 0;
    auto pending = std::move(calls);
    for (auto &call : pending)
      if (!call->cancelled) {
        ++fired;
        call->fire();
      }
    return fired;
  }
  std::vector<std::shared_ptr<Call>> calls;

private:
  struct Handle final : Scheduled {
    explicit Handle(std::shared_ptr<Call> c) : call(std::move(c)) {}
    ~Handle() override { call->cancelled = true; }
    std::shared_ptr<Call> call;
  };
};

struct ServerHarness {
  ManualClock clock;
  FakeScheduler scheduler;
  SeededRandom random{7};
  Config config;
  RRsetCache rrsets{clock, 8u << 20,
                    TtlPolicy{config.cache.min_ttl, config.cache.max_ttl, config.cache.max_negative_ttl}};
  MessageCache messages{clock, 8u << 20};
  InfraCache infra{clock};
  FakeNetwork net{clock};
  DelegationPoint hints;
  std::unique_ptr<Engine> engine;
  QueryLog log{16};
  std::shared_ptr<const Policy> policy;  // null: none
  BlockedCounts blocked;
  std::unique_ptr<ClientQueryHandler> handler;

  static Config make_config() {
    Config c = default_config();
    c.network.do_not_query_localhost = false;
    c.network.do_ip6 = false;
    c.access_control = {AclRule{*Prefix::parse("127.0.0.0/8"), AclAction::allow_snoop},
                        AclRule{*Prefix::parse("198.51.100.0/24"), AclAction::allow},
                        AclRule{*Prefix::parse("10.0.0.0/8"), AclAction::refuse},
                        AclRule{*Prefix::parse("192.168.0.0/16"), AclAction::deny}};
    return c;
  }

  explicit ServerHarness(Config with = make_config()) : config(std::move(with)) {
    hints = testing::single_root_hint("a.root.", "127.1.0.1");
    auto &server = net.server("127.1.0.1");
    std::string text =
        ". SOA a.root. h.root. 1 3600 600 86400 300\n. NS a.root.\na.root. A 127.1.0.1\n"
        "www.example. A 192.0.2.1\n"
        "cloak.example. CNAME www.tracker.example.\nwww.tracker.example. A 192.0.2.9\n";
    for (int i = 0; i < 40; ++i)
      text += "big.example. TXT \"" + std::string(100, 'a' + i % 26) + std::to_string(i) + "\"\n";
    server.zones.push_back({Name::root(), testing::zone_records(text, ".")});
    rebuild();
  }

  void rebuild() {
    engine = std::make_unique<Engine>(EngineEnv{rrsets, infra, clock, random, config, hints}, net);
    handler = std::make_unique<ClientQueryHandler>(config, messages, rrsets, *engine, hints, clock, nullptr, nullptr,
                                                   &log, &scheduler, policy.get(), &blocked);
  }

  // Sends `wire`; returns the reply (empty when dropped).
  std::string ask(const std::string &wire, const char *client = "127.0.0.1@5353", bool tcp = false) {
    TestContext context(wire, client, tcp);
    Disposition d = handler->handle(context);
    if (d == Disposition::reply)
      return std::string(reinterpret_cast<char *>(context.buffer), context.reply_size);
    if (d == Disposition::drop) return {};
    net.run();
    EXPECT_TRUE(context.channel && context.channel->replies.size() == 1);
    return context.channel && !context.channel->replies.empty() ? context.channel->replies[0] : std::string();
  }
};

std::string query_wire(const char *name, uint16_t type, uint16_t id = 0x1234, bool rd = true,
                       std::optional<Edns> edns = Edns{}) {
  return encode_query(id, Question{*Name::from_text(name), type, rrclass::IN}, rd, edns, false);
}

Message parse(const std::string &wire) {
  ParseError e;
  auto m = parse_message(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), &e);
  EXPECT_TRUE(m) << to_string(e);
  return m.value_or(Message{});
}

TEST(QueryHandler, ResolvesThenAnswersRepeatsFromTheFastPath) {
  ServerHarness h;
  auto first = parse(h.ask(query_wire("www.example.", rrtype::A)));
  EXPECT_EQ(first.rcode, rcode::NOERROR);
  ASSERT_EQ(first.answer.size(), 1u);
  size_t sent = h.net.sent.size();
  h.clock.advance_seconds(5);
  auto wire = h.ask(query_wire("WWW.Example.", rrtype::A, 0x4321));
  auto second = parse(wire);
  EXPECT_EQ(h.net.sent.size(), sent) << "no upstream query for a cached answer";
  EXPECT_EQ(h.handler->stats().cache_hits, 1u);
  EXPECT_EQ(second.id, 0x4321);
  EXPECT_TRUE(second.qr && second.ra && second.rd);
  EXPECT_EQ(second.questions[0].name.to_text(), "WWW.Example.") << "the client's case is echoed";
  ASSERT_EQ(second.answer.size(), 1u);
  EXPECT_EQ(second.answer[0].ttl, first.answer[0].ttl - 5) << "TTLs count down";
  ASSERT_TRUE(second.edns);
  EXPECT_EQ(second.edns->udp_size, 1232);
}

TEST(QueryHandler, EveryReplyIsNotedInTheQueryLog) {
  ServerHarness h;
  h.ask(query_wire("www.example.", rrtype::A), "127.0.0.7@5353");
  h.ask(query_wire("WWW.Example.", rrtype::A, 0x4321), "127.0.0.8@5353");  // the fast path
  h.ask(query_wire("www.example.", rrtype::A), "10.1.2.3@53");              // refused
  auto recent = h.log.recent(10);
  ASSERT_EQ(recent.size(), 3u);
  // Newest first: the refusal, the cache hit, the resolution.
  EXPECT_EQ(recent[0].rcode, rcode::REFUSED);
  EXPECT_FALSE(recent[0].has_security) << "a refusal has no DNSSEC outcome";
  EXPECT_FALSE(recent[0].cache_hit);
  EXPECT_TRUE(recent[1].cache_hit);
  EXPECT_TRUE(recent[1].has_security) << "the status the answer was cached with";
  EXPECT_FALSE(recent[2].cache_hit);
  EXPECT_TRUE(recent[2].has_security);
  EXPECT_EQ(recent[1].security, recent[2].security);
  EXPECT_EQ(recent[2].qtype, rrtype::A);
  EXPECT_EQ(recent[2].transport, ClientTransport::udp);

  nlohmann::json top = top_json({&h.log}, 10);
  ASSERT_EQ(top["names"].size(), 1u);
  EXPECT_EQ(top["names"][0]["name"], "www.example.");
  EXPECT_EQ(top["names"][0]["count"], 3);
  EXPECT_EQ(top["clients"].size(), 3u);
  nlohmann::json log = recent_json({&h.log}, 10);
  EXPECT_EQ(log["queries"][1]["client"], "127.0.0.8");
  EXPECT_EQ(log["queries"][1]["name"], "www.example.") << "lower-cased";
}

TEST(QueryHandler, MalformedQueriesGetFormerr) {
  ServerHarness h;
  std::string garbage = query_wire("www.example.", rrtype::A);
  garbage.resize(garbage.size() - 3);
  EXPECT_EQ(parse(h.ask(garbage)).rcode, rcode::FORMERR);
  std::string two_questions = query_wire("www.example.", rrtype::A, 1, true, std::nullopt);
  two_questions[5] = 2;
  EXPECT_EQ(parse(h.ask(two_questions)).rcode, rcode::FORMERR);
  EXPECT_TRUE(h.ask(std::string("\x12\x34\x01", 3)).empty()) << "shorter than a header: dropped";
}

TEST(QueryHandler, UnknownOpcodeGetsNotimp) {
  ServerHarness h;
  std::string q = query_wire("www.example.", rrtype::A);
  q[2] = static_cast<char>(q[2] | (2 << 3));  // opcode STATUS
  EXPECT_EQ(parse(h.ask(q)).rcode, rcode::NOTIMP);
}

TEST(QueryHandler, UnknownEdnsVersionGetsBadvers) {
  ServerHarness h;
  Edns edns;
  edns.version = 1;
  auto reply = parse(h.ask(query_wire("www.example.", rrtype::A, 1, true, edns)));
  EXPECT_EQ(reply.rcode, rcode::BADVERS);
  EXPECT_TRUE(h.net.sent.empty());
}

TEST(QueryHandler, AnyGetsAMinimalAnswer) {
  ServerHarness h;
  auto reply = parse(h.ask(query_wire("www.example.", rrtype::ANY)));
  EXPECT_EQ(reply.rcode, rcode::NOERROR);
  ASSERT_EQ(reply.answer.size(), 1u);
  EXPECT_EQ(reply.answer[0].type, 13) << "RFC 8482 HINFO";
  EXPECT_TRUE(h.net.sent.empty());
}

TEST(QueryHandler, AccessControlRefusesAndDrops) {
  ServerHarness h;
  EXPECT_EQ(parse(h.ask(query_wire("www.example.", rrtype::A), "10.1.2.3@999")).rcode, rcode::REFUSED);
  EXPECT_TRUE(h.ask(query_wire("www.example.", rrtype::A), "192.168.1.1@999").empty());
  EXPECT_EQ(parse(h.ask(query_wire("www.example.", rrtype::A), "172.16.0.1@999")).rcode, rcode::REFUSED)
      << "no matching rule: refused";
  EXPECT_TRUE(h.net.sent.empty());
}

TEST(QueryHandler, RecursionNotDesiredAnswersFromCacheOnly) {
  ServerHarness h;
  auto reply = parse(h.ask(query_wire("www.example.", rrtype::A, 1, false)));
  EXPECT_TRUE(h.net.sent.empty()) << "RD=0 must not cause upstream queries";
  EXPECT_TRUE(reply.answer.empty());
  EXPECT_FALSE(reply.authority.empty()) << "a referral to the closest known servers";
  h.ask(query_wire("www.example.", rrtype::A));
  size_t sent = h.net.sent.size();
  auto cached = parse(h.ask(query_wire("www.example.", rrtype::A, 2, false)));
  EXPECT_EQ(cached.answer.size(), 1u);
  EXPECT_EQ(h.net.sent.size(), sent);
}

TEST(QueryHandler, MinTtlIsAppliedOnceAndThenCountsDown) {
  // cache.min-ttl raises a TTL when the data enters the cache; answers built later
  // from the cached RRset show it counting down, not raised again (it reaches zero
  // and the data is fetched anew).
  Config config = ServerHarness::make_config();
  config.cache.min_ttl = 600;
  ServerHarness h(config);
  auto &zone = h.net.server("127.1.0.1").zones[0].records;
  auto alias = testing::zone_records("alias.example. 300 CNAME www.example.\n", ".");
  zone.insert(zone.end(), alias.begin(), alias.end());
  auto first = parse(h.ask(query_wire("alias.example.", rrtype::A)));
  ASSERT_EQ(first.answer.size(), 2u);
  for (const auto &rr : first.answer) EXPECT_EQ(rr.ttl, 600u) << rr.to_text();
  h.clock.advance_seconds(200);
  // www.example. A was never asked itself: its answer comes from the RRset cache.
  auto later = parse(h.ask(query_wire("www.example.", rrtype::A)));
  ASSERT_EQ(later.answer.size(), 1u);
  EXPECT_EQ(later.answer[0].ttl, 400u);
}

TEST(QueryHandler, OneClientMayHaveOnlyWaitLimitQueriesWaiting) {
  // DNSBomb: queries of one address pile up while their answers are slow to come;
  // past resolver.wait-limit they are dropped (Unbound 1.20's wait-limit).
  Config config = ServerHarness::make_config();
  config.resolver.wait_limit = 2;
  ServerHarness h(config);
  std::vector<std::unique_ptr<TestContext>> contexts;
  auto send = [&](const char *name, const char *client) {
    contexts.push_back(std::make_unique<TestContext>(query_wire(name, rrtype::A), client, false));
    return h.handler->handle(*contexts.back());
  };
  EXPECT_EQ(send("a.example.", "127.0.0.1@1000"), Disposition::deferred);
  EXPECT_EQ(send("b.example.", "127.0.0.1@1001"), Disposition::deferred);
  EXPECT_EQ(send("c.example.", "127.0.0.1@1002"), Disposition::drop) << "the same address, another port";
  EXPECT_EQ(send("c.example.", "127.0.0.2@1000"), Disposition::deferred) << "another client";
  EXPECT_EQ(h.handler->stats().wait_limit_dropped, 1u);
  h.net.run();
  EXPECT_EQ(send("d.example.", "127.0.0.1@1003"), Disposition::deferred) << "answered queries no longer count";
  h.net.run();
}

TEST(QueryHandler, OverCapacityTheOldestSlowQuestionMakesRoom) {
  // Unbound's jostle: with every slot taken, a question that has run longer than
  // jostle-timeout is given up (its client gets nothing) for the new one; younger
  // ones are not, and then the new query is dropped.
  Config config = ServerHarness::make_config();
  config.resolver.max_queries_in_flight = 1;
  config.resolver.jostle_timeout_ms = 200;
  ServerHarness h(config);
  TestContext slow(query_wire("www.example.", rrtype::A), "127.0.0.1@1", false);
  ASSERT_EQ(h.handler->handle(slow), Disposition::deferred);
  TestContext early(query_wire("other.example.", rrtype::A), "127.0.0.2@1", false);
  EXPECT_EQ(h.handler->handle(early), Disposition::drop) << "the question in flight is young";
  h.clock.advance_ms(250);
  TestContext later(query_wire("other.example.", rrtype::A), "127.0.0.3@1", false);
  EXPECT_EQ(h.handler->handle(later), Disposition::deferred);
  EXPECT_EQ(h.engine->stats().jostled, 1u);
  EXPECT_TRUE(slow.channel->replies.empty()) << "the question given up gets no reply";
  h.net.run();
  EXPECT_EQ(later.channel->replies.size(), 1u);
  EXPECT_TRUE(slow.channel->replies.empty());
}

TEST(QueryHandler, OnlySoManyClientsWaitOnOneQuestion) {
  Config config = ServerHarness::make_config();
  config.resolver.max_clients_per_question = 2;
  ServerHarness h(config);
  std::vector<std::unique_ptr<TestContext>> contexts;
  for (const char *client : {"127.0.0.1@1", "127.0.0.2@1", "127.0.0.3@1"})
    contexts.push_back(std::make_unique<TestContext>(query_wire("www.example.", rrtype::A), client, false));
  EXPECT_EQ(h.handler->handle(*contexts[0]), Disposition::deferred);
  EXPECT_EQ(h.handler->handle(*contexts[1]), Disposition::deferred);
  EXPECT_EQ(h.handler->handle(*contexts[2]), Disposition::drop);
  EXPECT_EQ(h.handler->stats().crowd_dropped, 1u);
  h.net.run();
  EXPECT_EQ(contexts[0]->channel->replies.size(), 1u);
  EXPECT_EQ(contexts[1]->channel->replies.size(), 1u);
}

TEST(QueryHandler, RepliesAfterTheDiscardTimeoutAreNotSent) {
  // A UDP client that waited longer than discard-timeout has given up; a burst of such
  // late replies is what DNSBomb aims. TCP clients still get theirs.
  Config config = ServerHarness::make_config();
  config.resolver.discard_timeout_ms = 100;
  ServerHarness h(config);
  h.net.server("127.1.0.1").rtt_ms = 150;
  TestContext udp(query_wire("www.example.", rrtype::A), "127.0.0.1@1", false);
  ASSERT_EQ(h.handler->handle(udp), Disposition::deferred);
  h.net.run();
  EXPECT_TRUE(udp.channel->replies.empty());
  EXPECT_EQ(h.handler->stats().discarded_late, 1u);
  TestContext tcp(query_wire("mail.example.", rrtype::A), "127.0.0.1@2", true);
  ASSERT_EQ(h.handler->handle(tcp), Disposition::deferred);
  h.net.run();
  EXPECT_EQ(tcp.channel->replies.size(), 1u);
}

TEST(QueryHandler, ErrorRepliesToEdnsQueriesKeepTheOpt) {
  // RFC 6891 7: REFUSED (access control), NOTIMP and FORMERR to a query with an OPT
  // record carry one too, with our buffer size and the client's DO bit.
  ServerHarness h;
  Edns with_do;
  with_do.dnssec_ok = true;
  auto refused = parse(h.ask(query_wire("www.example.", rrtype::A, 1, true, with_do), "10.1.2.3@999"));
  EXPECT_EQ(refused.rcode, rcode::REFUSED);
  ASSERT_TRUE(refused.edns);
  EXPECT_EQ(refused.edns->udp_size, 1232);
  EXPECT_TRUE(refused.edns->dnssec_ok);
  ASSERT_EQ(refused.questions.size(), 1u);
  EXPECT_FALSE(
      parse(h.ask(query_wire("www.example.", rrtype::A, 2, true, std::nullopt), "10.1.2.3@999")).edns)
      << "no OPT record for a query without one";

  std::string status = query_wire("www.example.", rrtype::A, 3);
  status[2] = static_cast<char>(status[2] | (2 << 3));  // opcode STATUS
  auto notimp = parse(h.ask(status));
  EXPECT_EQ(notimp.rcode, rcode::NOTIMP);
  ASSERT_TRUE(notimp.edns);
  EXPECT_FALSE(notimp.edns->dnssec_ok);

  std::string two_questions = query_wire("www.example.", rrtype::A, 4);
  two_questions[5] = 2;
  two_questions.insert(12 + Name::from_text("www.example.")->wire().size() + 4,
                       Name::from_text("example.")->wire() + std::string("\x00\x01\x00\x01", 4));
  auto formerr = parse(h.ask(two_questions));
  EXPECT_EQ(formerr.rcode, rcode::FORMERR);
  EXPECT_TRUE(formerr.edns);
  EXPECT_TRUE(h.net.sent.empty());
}

TEST(QueryHandler, RecursionNotDesiredIsRefusedForAllowClients) {
  // As Unbound: `allow` serves RD=1 only; RD=0 (cache snooping) needs allow-snoop.
  ServerHarness h;
  const char *client = "198.51.100.7@5353";
  auto recursive = parse(h.ask(query_wire("www.example.", rrtype::A), client));
  EXPECT_EQ(recursive.rcode, rcode::NOERROR);
  ASSERT_EQ(recursive.answer.size(), 1u);
  size_t sent = h.net.sent.size();
  size_t refused = h.handler->stats().refused;
  for (bool tcp : {false, true}) {
    auto snoop = parse(h.ask(query_wire("www.example.", rrtype::A, 2, false), client, tcp));
    EXPECT_EQ(snoop.rcode, rcode::REFUSED);
    EXPECT_TRUE(snoop.answer.empty()) << "the cached answer must not leak to RD=0";
    EXPECT_TRUE(snoop.authority.empty());
    EXPECT_FALSE(snoop.rd);
    ASSERT_TRUE(snoop.edns) << "RFC 6891 7: an EDNS query gets an OPT record back";
    auto errors = snoop.extended_errors();
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].info_code, ede::PROHIBITED);
  }
  // Without EDNS, and for a name never asked: REFUSED all the same.
  auto plain = parse(h.ask(query_wire("nothing.example.", rrtype::A, 3, false, std::nullopt), client));
  EXPECT_EQ(plain.rcode, rcode::REFUSED);
  EXPECT_FALSE(plain.edns);
  EXPECT_EQ(h.net.sent.size(), sent) << "RD=0 never causes upstream queries";
  EXPECT_EQ(h.handler->stats().refused, refused + 3);
  // The same client with RD=1 is still answered, from the cache.
  EXPECT_EQ(parse(h.ask(query_wire("www.example.", rrtype::A, 4), client)).answer.size(), 1u);
}

TEST(QueryHandler, RecursionNotDesiredIsAnsweredForAllowSnoopClients) {
  ServerHarness h;
  h.ask(query_wire("www.example.", rrtype::A));
  for (const char *client : {"127.0.0.1@5353", "127.9.9.9@53"}) {
    auto snoop = parse(h.ask(query_wire("www.example.", rrtype::A, 2, false), client));
    EXPECT_EQ(snoop.rcode, rcode::NOERROR) << client;
    EXPECT_EQ(snoop.answer.size(), 1u) << client;
    EXPECT_FALSE(snoop.rd);
  }
}

// RFC 6891 6.2.5 and 7: a UDP reply fits min(client's size, edns-buffer-size), at
// least 512, and 512 without EDNS; an EDNS query's reply always has its OPT record.
void expect_fits(const std::string &wire, size_t limit, bool edns, const std::string &what) {
  EXPECT_LE(wire.size(), limit) << what;
  auto reply = parse(wire);
  EXPECT_EQ(reply.edns.has_value(), edns) << what;
}

TEST(QueryHandler, LongExtendedErrorTextIsShortenedToTheClientsBuffer) {
  ServerHarness h;
  // A name of 255 octets whose CNAME points at itself: SERVFAIL, with an EDE whose
  // text names the loop, too long for 512 octets next to the question.
  const std::string long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                                std::string(63, 'c') + "." + std::string(53, 'd') + ".example.";
  const Name looped = *Name::from_text(long_name);
  ASSERT_EQ(looped.wire().size(), 255u);
  auto &zone = h.net.server("127.1.0.1").zones[0].records;
  zone.push_back(ResourceRecord{looped, rrtype::CNAME, rrclass::IN, 300, looped.wire()});
  Edns small;
  small.udp_size = 512;
  auto udp = h.ask(query_wire(long_name.c_str(), rrtype::A, 1, true, small));
  expect_fits(udp, 512, true, "UDP, 512");
  auto reply = parse(udp);
  EXPECT_EQ(reply.rcode, rcode::SERVFAIL);
  EXPECT_FALSE(reply.tc) << "nothing the client needs was left out";
  auto errors = reply.extended_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_FALSE(errors[0].extra_text.empty());

  // Over TCP the same error keeps its whole text.
  auto tcp = parse(h.ask(query_wire(long_name.c_str(), rrtype::A, 2, true, small), "127.0.0.1@5353", true));
  ASSERT_EQ(tcp.extended_errors().size(), 1u);
  EXPECT_GT(tcp.extended_errors()[0].extra_text.size(), errors[0].extra_text.size());
  EXPECT_NE(tcp.extended_errors()[0].extra_text.find(std::string(53, 'd')), std::string::npos);
}

TEST(QueryHandler, RepliesNearTheLimitFitOnTheFastAndTheSlowPath) {
  ServerHarness h;
  // Answers whose reply is a few octets either side of 512 with the OPT record.
  auto &zone = h.net.server("127.1.0.1").zones[0].records;
  std::vector<std::string> names;
  for (size_t rdata = 440; rdata <= 475; rdata += 5) {
    names.push_back("n" + std::to_string(rdata) + ".example.");
    std::string txt = "\xFF" + std::string(255, 't');
    txt += static_cast<char>(rdata - 257);
    txt += std::string(rdata - 257, 'u');
    ASSERT_EQ(txt.size(), rdata);
    zone.push_back(ResourceRecord{*Name::from_text(names.back()), rrtype::TXT, rrclass::IN, 300, txt});
  }
  Edns tiny;
  tiny.udp_size = 100;  // below 512: 512 applies
  Edns exact;
  exact.udp_size = 512;
  uint16_t id = 1;
  for (const auto &name : names) {
    for (int round = 0; round < 2; ++round) {  // the slow path, then the message cache
      const std::string what = name + (round ? " (cached)" : "");
      expect_fits(h.ask(query_wire(name.c_str(), rrtype::TXT, id++, true, exact)), 512, true,
                  what + " EDNS 512");
      expect_fits(h.ask(query_wire(name.c_str(), rrtype::TXT, id++, true, tiny)), 512, true,
                  what + " EDNS 100");
      expect_fits(h.ask(query_wire(name.c_str(), rrtype::TXT, id++, true, std::nullopt)), 512, false,
                  what + " no EDNS");
    }
  }
  EXPECT_GT(h.handler->stats().cache_hits, 0u) << "some answers were small enough for the fast path";
}

TEST(QueryHandler, TruncatesForSmallBuffersAndAnswersInFullOverTcp) {
  ServerHarness h;
  Edns small;
  small.udp_size = 512;
  auto udp = parse(h.ask(query_wire("big.example.", rrtype::TXT, 1, true, small)));
  EXPECT_TRUE(udp.tc);
  EXPECT_TRUE(udp.answer.empty());
  auto cached_udp = parse(h.ask(query_wire("big.example.", rrtype::TXT, 2, true, small)));
  EXPECT_TRUE(cached_udp.tc) << "a cached answer too big for the client is truncated too";
  auto tcp = parse(h.ask(query_wire("big.example.", rrtype::TXT, 3, true, small), "127.0.0.1@5353", true));
  EXPECT_FALSE(tcp.tc);
  EXPECT_EQ(tcp.answer.size(), 40u);
}

TEST(QueryHandler, DropsNewQuestionsBeyondTheInFlightLimit) {
  ServerHarness h;
  h.config.resolver.max_queries_in_flight = 1;
  h.rebuild();
  TestContext first(query_wire("www.example.", rrtype::A), "127.0.0.1@1", false);
  EXPECT_EQ(h.handler->handle(first), Disposition::deferred);
  TestContext same(query_wire("www.example.", rrtype::A, 9), "127.0.0.1@2", false);
  EXPECT_EQ(h.handler->handle(same), Disposition::deferred) << "joins the question in flight";
  TestContext other(query_wire("other.example.", rrtype::A), "127.0.0.1@3", false);
  EXPECT_EQ(h.handler->handle(other), Disposition::drop);
  h.net.run();
  EXPECT_EQ(first.channel->replies.size(), 1u);
  EXPECT_EQ(same.channel->replies.size(), 1u);
  EXPECT_EQ(h.handler->stats().overload_dropped, 1u) << "what is shed is counted";
}

TEST(QueryHandler, SheddingIsCountedAndWarnedAboutAtMostOnceInTenSeconds) {
  ServerHarness h;
  h.config.resolver.max_queries_in_flight = 1;
  h.rebuild();
  LogSeverity before = log_severity();
  set_log_severity(LogSeverity::warning);
  ::testing::internal::CaptureStderr();
  TestContext first(query_wire("www.example.", rrtype::A), "127.0.0.1@1", false);
  EXPECT_EQ(h.handler->handle(first), Disposition::deferred);
  for (int i = 0; i < 5; ++i) {
    TestContext other(query_wire(("n" + std::to_string(i) + ".example.").c_str(), rrtype::A), "127.0.0.1@3", false);
    EXPECT_EQ(h.handler->handle(other), Disposition::drop);
  }
  std::string log = ::testing::internal::GetCapturedStderr();
  set_log_severity(before);
  EXPECT_EQ(h.handler->stats().overload_dropped, 5u);
  size_t first_warning = log.find("warning: over capacity: 1 questions in flight on this thread "
                                  "(resolver.max-queries-in-flight 1); new questions are dropped unanswered, "
                                  "1 since the last warning (1 in all)");
  EXPECT_NE(first_warning, std::string::npos) << log;
  size_t warnings = 0;
  for (size_t at = log.find("over capacity"); at != std::string::npos; at = log.find("over capacity", at + 1))
    ++warnings;
  EXPECT_EQ(warnings, 1u) << "one warning, not five:\n" << log;
  h.net.run();
}

TEST(QueryHandler, NonInClassIsRefused) {
  ServerHarness h;
  std::string q = encode_query(1, Question{*Name::from_text("id.server."), rrtype::TXT, rrclass::CH}, true,
                               Edns{}, false);
  EXPECT_EQ(parse(h.ask(q)).rcode, rcode::REFUSED);
}

TEST(QueryHandler, WithoutDoDnssecRecordsAreLeftOut) {
  ServerHarness h;
  auto &zone = h.net.server("127.1.0.1").zones[0].records;
  ResourceRecord sig{
      *Name::from_text("www.example."), rrtype::RRSIG, rrclass::IN, 300,
      std::string("\x00\x01\x08\x02\x00\x00\x01\x2c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00", 19) +
          std::string("\x00", 1) + std::string(64, 'x')};
  zone.push_back(sig);
  auto plain = parse(h.ask(query_wire("www.example.", rrtype::A)));
  for (const auto &rr : plain.answer) EXPECT_NE(rr.type, rrtype::RRSIG);
  Edns with_do;
  with_do.dnssec_ok = true;
  auto dnssec = parse(h.ask(query_wire("www.example.", rrtype::A, 2, true, with_do)));
  bool has_sig = false;
  for (const auto &rr : dnssec.answer) has_sig |= rr.type == rrtype::RRSIG;
  EXPECT_TRUE(has_sig) << "DO set: RRSIGs are included";
}


// --- serve-stale (RFC 8767) -----------------------------------------------------------

ExtendedError only_ede(const Message &m) {
  auto errors = m.extended_errors();
  EXPECT_EQ(errors.size(), 1u);
  return errors.empty() ? ExtendedError{} : errors[0];
}

// A root zone with short-lived names, and no discard-timeout in the way: the fake
// network's timeouts advance the clock by whole seconds.
struct StaleHarness : ServerHarness {
  static Config stale_config() {
    Config c = make_config();
    c.resolver.discard_timeout_ms = 0;
    c.cache.stale_refresh_time = 30;
    return c;
  }
  explicit StaleHarness(Config c = stale_config()) : ServerHarness(std::move(c)) {
    auto &zone = net.server("127.1.0.1").zones[0].records;
    auto extra = testing::zone_records("stale.example. 60 A 192.0.2.9\npre.example. 100 A 192.0.2.10\n", ".");
    zone.insert(zone.end(), extra.begin(), extra.end());
  }
  void authority(ServerBehaviour behaviour) { net.server("127.1.0.1").behaviour = behaviour; }
};

TEST(QueryHandlerStale, AFailedRefreshIsAnsweredWithTheStaleAnswer) {
  StaleHarness h;
  auto fresh = parse(h.ask(query_wire("stale.example.", rrtype::A)));
  ASSERT_EQ(fresh.answer.size(), 1u);
  EXPECT_TRUE(fresh.extended_errors().empty());
  h.clock.advance_seconds(61);
  h.authority(ServerBehaviour::silent);
  auto stale = parse(h.ask(query_wire("stale.example.", rrtype::A, 2)));
  EXPECT_EQ(stale.rcode, rcode::NOERROR);
  ASSERT_EQ(stale.answer.size(), 1u);
  EXPECT_EQ(stale.answer[0].rdata, std::string("\xC0\x00\x02\x09", 4));
  EXPECT_EQ(stale.answer[0].ttl, 30u) << "RFC 8767 4";
  EXPECT_EQ(only_ede(stale).info_code, ede::STALE_ANSWER);
  EXPECT_FALSE(stale.ad);
  EXPECT_EQ(h.handler->stats().stale_on_failure, 1u);
  EXPECT_EQ(h.handler->metrics().by_ede[ede::STALE_ANSWER], 1u);

  // RFC 8767 5: the failure recheck timer. For stale-refresh-time the stale answer is
  // given at once, with no new resolution.
  const size_t sent = h.net.sent.size();
  TestContext recheck(query_wire("stale.example.", rrtype::A, 3), "127.0.0.1@7", false);
  ASSERT_EQ(h.handler->handle(recheck), Disposition::reply);
  auto again = parse(std::string(reinterpret_cast<char *>(recheck.buffer), recheck.reply_size));
  EXPECT_EQ(only_ede(again).info_code, ede::STALE_ANSWER);
  EXPECT_EQ(h.net.sent.size(), sent) << "not tried again while the last failure is recent";
  EXPECT_EQ(h.handler->stats().stale_in_recheck, 1u);

  // The authority is back; once the recheck time has passed, the answer is fresh again.
  h.authority(ServerBehaviour::normal);
  h.clock.advance_seconds(31);
  auto back = parse(h.ask(query_wire("stale.example.", rrtype::A, 4)));
  ASSERT_EQ(back.answer.size(), 1u);
  EXPECT_EQ(back.answer[0].ttl, 60u);
  EXPECT_TRUE(back.extended_errors().empty());
}

TEST(QueryHandlerStale, ASlowResolutionGivesTheStaleAnswerAfterTheClientTimeoutAndStillRefreshes) {
  StaleHarness h;
  h.ask(query_wire("stale.example.", rrtype::A));
  h.clock.advance_seconds(61);
  TestContext client(query_wire("stale.example.", rrtype::A, 5), "127.0.0.1@9", false);
  ASSERT_EQ(h.handler->handle(client), Disposition::deferred);
  ASSERT_EQ(h.scheduler.calls.size(), 1u);
  EXPECT_EQ(h.scheduler.calls[0]->delay_ms, 1800u) << "cache.stale-client-timeout";
  EXPECT_EQ(h.scheduler.fire_all(), 1u);  // the authority has not answered yet
  ASSERT_EQ(client.channel->replies.size(), 1u);
  auto stale = parse(client.channel->replies[0]);
  EXPECT_EQ(only_ede(stale).info_code, ede::STALE_ANSWER);
  EXPECT_EQ(h.handler->stats().stale_on_client_timeout, 1u);
  h.net.run();  // the resolution completes: no second reply, and the cache is fresh
  EXPECT_EQ(client.channel->replies.size(), 1u);
  auto hit = parse(h.ask(query_wire("stale.example.", rrtype::A, 6)));
  EXPECT_EQ(h.handler->stats().cache_hits, 1u);
  ASSERT_EQ(hit.answer.size(), 1u);
  EXPECT_GT(hit.answer[0].ttl, 30u);
  EXPECT_TRUE(hit.extended_errors().empty());
}

TEST(QueryHandlerStale, AFastResolutionCancelsTheTimerAndNothingStaleIsSent) {
  StaleHarness h;
  h.ask(query_wire("stale.example.", rrtype::A));
  h.clock.advance_seconds(61);
  TestContext client(query_wire("stale.example.", rrtype::A, 5), "127.0.0.1@9", false);
  ASSERT_EQ(h.handler->handle(client), Disposition::deferred);
  h.net.run();
  EXPECT_EQ(h.scheduler.fire_all(), 0u) << "the timer went with the answer";
  ASSERT_EQ(client.channel->replies.size(), 1u);
  EXPECT_TRUE(parse(client.channel->replies[0]).extended_errors().empty());
  EXPECT_EQ(h.handler->stats().stale_on_client_timeout + h.handler->stats().stale_on_failure, 0u);
}

TEST(QueryHandlerStale, ZeroClientTimeoutServesStaleOnlyOnFailure) {
  Config config = StaleHarness::stale_config();
  config.cache.stale_client_timeout_ms = 0;
  StaleHarness h(config);
  h.ask(query_wire("stale.example.", rrtype::A));
  h.clock.advance_seconds(61);
  h.authority(ServerBehaviour::silent);
  TestContext client(query_wire("stale.example.", rrtype::A, 5), "127.0.0.1@9", true);
  ASSERT_EQ(h.handler->handle(client), Disposition::deferred);
  EXPECT_TRUE(h.scheduler.calls.empty());
  h.net.run();
  ASSERT_EQ(client.channel->replies.size(), 1u);
  EXPECT_EQ(only_ede(parse(client.channel->replies[0])).info_code, ede::STALE_ANSWER);
}

TEST(QueryHandlerStale, AStaleNxdomainCarriesEde19) {
  StaleHarness h;
  auto first = parse(h.ask(query_wire("nothing.example.", rrtype::A)));
  ASSERT_EQ(first.rcode, rcode::NXDOMAIN);
  h.clock.advance_seconds(301);
  h.authority(ServerBehaviour::silent);
  auto stale = parse(h.ask(query_wire("nothing.example.", rrtype::A, 2)));
  EXPECT_EQ(stale.rcode, rcode::NXDOMAIN);
  EXPECT_EQ(only_ede(stale).info_code, ede::STALE_NXDOMAIN);
  for (const auto &rr : stale.authority) EXPECT_EQ(rr.ttl, 30u) << rr.to_text();
}

TEST(QueryHandlerStale, OffMeansSERVFAILAndNothingPastMaxStale) {
  Config off = StaleHarness::stale_config();
  off.cache.serve_stale = false;
  StaleHarness h(off);
  h.ask(query_wire("stale.example.", rrtype::A));
  h.clock.advance_seconds(61);
  h.authority(ServerBehaviour::silent);
  EXPECT_EQ(parse(h.ask(query_wire("stale.example.", rrtype::A, 2))).rcode, rcode::SERVFAIL);
  EXPECT_TRUE(h.scheduler.calls.empty());

  Config short_stale = StaleHarness::stale_config();
  short_stale.cache.max_stale = 100;
  StaleHarness g(short_stale);
  g.ask(query_wire("stale.example.", rrtype::A));
  g.clock.advance_seconds(60 + 100);
  g.authority(ServerBehaviour::silent);
  EXPECT_EQ(parse(g.ask(query_wire("stale.example.", rrtype::A, 2))).rcode, rcode::SERVFAIL)
      << "max-stale past its expiry: no longer served";
}

TEST(QueryHandlerStale, OverCapacityAStaleAnswerIsGivenInsteadOfNothing) {
  Config config = StaleHarness::stale_config();
  config.resolver.max_queries_in_flight = 1;
  config.resolver.jostle_timeout_ms = 0;
  StaleHarness h(config);
  h.ask(query_wire("stale.example.", rrtype::A));
  h.clock.advance_seconds(61);
  TestContext busy(query_wire("www.example.", rrtype::A), "127.0.0.1@1", false);
  ASSERT_EQ(h.handler->handle(busy), Disposition::deferred);
  TestContext client(query_wire("stale.example.", rrtype::A, 2), "127.0.0.1@2", false);
  ASSERT_EQ(h.handler->handle(client), Disposition::reply);
  auto stale = parse(std::string(reinterpret_cast<char *>(client.buffer), client.reply_size));
  EXPECT_EQ(only_ede(stale).info_code, ede::STALE_ANSWER);
  EXPECT_EQ(h.handler->stats().stale_over_capacity, 1u);
  EXPECT_EQ(h.handler->stats().overload_dropped, 0u);
  h.net.run();
}

// --- prefetch ---------------------------------------------------------------------------

TEST(QueryHandlerPrefetch, AHitInTheLastTenthOfTheTtlRefreshesTheAnswer) {
  StaleHarness h;
  h.ask(query_wire("pre.example.", rrtype::A));
  h.clock.advance_seconds(89);
  const size_t sent = h.net.sent.size();
  EXPECT_EQ(parse(h.ask(query_wire("pre.example.", rrtype::A, 2))).answer.at(0).ttl, 11u);
  EXPECT_EQ(h.handler->stats().prefetches, 0u) << "11 s of 100 left: not yet";
  h.clock.advance_seconds(1);
  auto hit = parse(h.ask(query_wire("pre.example.", rrtype::A, 3)));
  EXPECT_EQ(hit.answer.at(0).ttl, 10u) << "the client is answered from the cache at once";
  EXPECT_EQ(h.handler->stats().prefetches, 1u);
  parse(h.ask(query_wire("pre.example.", rrtype::A, 4)));
  EXPECT_EQ(h.handler->stats().prefetches, 1u) << "one prefetch per entry at a time";
  EXPECT_EQ(h.engine->in_flight(), 1u);
  h.net.run();
  EXPECT_GT(h.net.sent.size(), sent) << "the refresh asked the authority, not the cached RRset";
  EXPECT_EQ(h.net.sent.back().question.name.lowered(), Name::from_text("pre.example.")->lowered());
  auto refreshed = parse(h.ask(query_wire("pre.example.", rrtype::A, 5)));
  EXPECT_EQ(refreshed.answer.at(0).ttl, 100u) << "the entry was replaced before it expired";
  EXPECT_EQ(h.handler->stats().cache_hits, 4u) << "every client question was a hit";
  EXPECT_EQ(h.engine->stats().requests, 1u) << "prefetches are not client questions";
}

TEST(QueryHandlerPrefetch, OffMeansNoPrefetch) {
  Config config = StaleHarness::stale_config();
  config.cache.prefetch = false;
  StaleHarness h(config);
  h.ask(query_wire("pre.example.", rrtype::A));
  h.clock.advance_seconds(95);
  h.ask(query_wire("pre.example.", rrtype::A, 2));
  EXPECT_EQ(h.handler->stats().prefetches, 0u);
  EXPECT_EQ(h.engine->in_flight(), 0u);
}

TEST(QueryHandlerPrefetch, APrefetchNeverTakesAClientsPlace) {
  Config config = StaleHarness::stale_config();
  config.resolver.max_queries_in_flight = 1;
  config.resolver.jostle_timeout_ms = 0;  // no client question is ever given up
  StaleHarness h(config);
  h.ask(query_wire("pre.example.", rrtype::A));
  h.clock.advance_seconds(91);
  h.ask(query_wire("pre.example.", rrtype::A, 2));
  ASSERT_EQ(h.handler->stats().prefetches, 1u);
  ASSERT_EQ(h.engine->in_flight(), 1u);
  // A client's question arrives while the prefetch holds the only place: the
  // prefetch is given up, the client is served.
  TestContext client(query_wire("www.example.", rrtype::A), "127.0.0.1@1", false);
  ASSERT_EQ(h.handler->handle(client), Disposition::deferred);
  EXPECT_EQ(h.handler->stats().overload_dropped, 0u);
  h.net.run();
  ASSERT_EQ(client.channel->replies.size(), 1u);
  EXPECT_EQ(parse(client.channel->replies[0]).rcode, rcode::NOERROR);

  // The prefetch given up let go of the entry: with a client's question holding the
  // place now, the next due hit skips its prefetch (and says so).
  h.clock.advance_seconds(1);
  h.authority(ServerBehaviour::silent);
  TestContext slow(query_wire("mail.example.", rrtype::A), "127.0.0.1@2", true);
  ASSERT_EQ(h.handler->handle(slow), Disposition::deferred);
  parse(h.ask(query_wire("pre.example.", rrtype::A, 3)));
  EXPECT_EQ(h.handler->stats().prefetches_skipped, 1u);
  h.net.run();
}

// A policy whose one list ("trackers") blocks tracker.example and its subtree (and
// whatever else `more` lists, one name a line).
std::shared_ptr<const Policy> tracker_policy(const std::string &more = "") {
  const auto path = std::filesystem::temp_directory_path() / "query_handler_test_trackers.txt";
  std::ofstream(path) << "tracker.example\n" << more;
  PolicyConfig config;
  config.blocklists.push_back(BlocklistSource{path.string(), ListFormat::domains, BlockAction::nxdomain, "trackers"});
  auto policy = Policy::build(config, 99);
  std::filesystem::remove(path);
  return policy;
}

bool blocked_by_trackers(const Message &m) {
  const auto errors = m.extended_errors();
  return m.rcode == rcode::NXDOMAIN && m.answer.empty() && errors.size() == 1 &&
         errors[0].info_code == ede::BLOCKED && errors[0].extra_text.find("trackers") != std::string::npos;
}

TEST(QueryHandlerPolicy, ACnameToABlockedNameIsBlockedAndNeverCached) {
  ServerHarness h;
  h.policy = tracker_policy();
  h.rebuild();
  for (int i = 0; i < 2; ++i) {
    const Message m = parse(h.ask(query_wire("cloak.example.", rrtype::A)));
    EXPECT_TRUE(blocked_by_trackers(m)) << i;
  }
  EXPECT_EQ(h.handler->stats().cache_hits, 0u) << "the cloaked answer must not be served from the fast path";
  EXPECT_FALSE(h.messages.lookup(*Name::from_text("cloak.example."), rrtype::A, rrclass::IN, 0));
  EXPECT_EQ(h.blocked.read(), (std::vector<std::pair<std::string, uint64_t>>{{"trackers", 2}}));
  // The name itself: blocked before the engine is asked.
  const size_t sent = h.net.sent.size();
  EXPECT_TRUE(blocked_by_trackers(parse(h.ask(query_wire("www.tracker.example.", rrtype::A)))));
  EXPECT_EQ(h.net.sent.size(), sent);
}

// Found in review: a refresh that no client gets (here the fresh answer after a stale
// one was sent) went through the same reply building, so a cloaked refresh counted as
// a block although nothing was blocked for anyone. It is simply not stored.
TEST(QueryHandlerPolicy, ARefreshNoClientGetsIsNeitherStoredNorCountedWhenCloaked) {
  StaleHarness h;
  ASSERT_EQ(parse(h.ask(query_wire("stale.example.", rrtype::A))).answer.size(), 1u);
  h.clock.advance_seconds(61);
  // The name has become a CNAME to a tracker since, and the tracker list is in force.
  auto &zone = h.net.server("127.1.0.1").zones[0].records;
  std::erase_if(zone,
                [](const ResourceRecord &rr) { return rr.owner == *Name::from_text("stale.example."); });
  auto cname = testing::zone_records("stale.example. 60 CNAME www.tracker.example.\n", ".");
  zone.insert(zone.end(), cname.begin(), cname.end());
  h.policy = tracker_policy();
  h.rebuild();
  TestContext client(query_wire("stale.example.", rrtype::A, 5), "127.0.0.1@9", false);
  ASSERT_EQ(h.handler->handle(client), Disposition::deferred);
  EXPECT_EQ(h.scheduler.fire_all(), 1u);  // the stale answer goes out first
  h.net.run();                            // then the cloaked refresh arrives
  ASSERT_EQ(client.channel->replies.size(), 1u);
  EXPECT_EQ(only_ede(parse(client.channel->replies[0])).info_code, ede::STALE_ANSWER);
  EXPECT_TRUE(h.blocked.read().empty() || h.blocked.read()[0].second == 0)
      << "nothing was blocked for anyone";
  // Nor stored: the next client's question is resolved, and blocked then.
  EXPECT_TRUE(blocked_by_trackers(parse(h.ask(query_wire("stale.example.", rrtype::A, 6)))));
  EXPECT_EQ(h.blocked.read(), (std::vector<std::pair<std::string, uint64_t>>{{"trackers", 1}}));
}

// The cloaking check is on every reply that is built, not only on the engine's: an
// answer put together from the RRset cache (RD=0 for an allow-snoop client) carries
// the same CNAME and is blocked the same way.
TEST(QueryHandlerPolicy, ACachedCnameToABlockedNameIsBlockedWithoutRecursionToo) {
  Config config = ServerHarness::make_config();
  config.dnssec.validation = false;  // the RRset cache serves RD=0 only judged data otherwise
  ServerHarness h(config);
  // Learn the chain with no lists, so that the RRset cache holds it.
  EXPECT_EQ(parse(h.ask(query_wire("cloak.example.", rrtype::A))).answer.size(), 2u);
  h.policy = tracker_policy();
  h.rebuild();
  h.messages.flush(Name::root(), true);  // as a reload that changes the lists does
  const Message m = parse(h.ask(query_wire("cloak.example.", rrtype::CNAME, 0x1234, /*rd=*/false)));
  EXPECT_TRUE(blocked_by_trackers(m)) << m.answer.size() << " answer records, rcode " << m.rcode;
}

void add_root_zone_records(ServerHarness &h, const std::string &text) {
  auto &zone = h.net.server("127.1.0.1").zones.at(0);
  for (auto &record : testing::zone_records(text, ".")) zone.records.push_back(std::move(record));
}

// The blocked name in the middle of the chain: the question and the final name are
// both innocent, so only a check of every link finds it.
TEST(QueryHandlerPolicy, ABlockedNameInTheMiddleOfACnameChainIsBlocked) {
  ServerHarness h;
  add_root_zone_records(h,
                        "chain.example. CNAME mid.tracker.example.\nmid.tracker.example. CNAME end.example.\n"
                        "end.example. A 192.0.2.10\n");
  // Without lists the chain resolves: the blocked answer below is the policy's doing.
  EXPECT_EQ(parse(h.ask(query_wire("chain.example.", rrtype::A))).answer.size(), 3u);
  h.policy = tracker_policy();
  h.rebuild();
  h.messages.flush(Name::root(), true);
  for (int i = 0; i < 2; ++i) {
    const Message m = parse(h.ask(query_wire("chain.example.", rrtype::A)));
    EXPECT_TRUE(blocked_by_trackers(m))
        << i << ": " << m.answer.size() << " answer records, rcode " << m.rcode;
    ASSERT_EQ(m.extended_errors().size(), 1u);
    EXPECT_NE(m.extended_errors()[0].extra_text.find("mid.tracker.example."), std::string::npos)
        << m.extended_errors()[0].extra_text;
  }
  EXPECT_EQ(parse(h.ask(query_wire("end.example.", rrtype::A))).answer.size(), 1u)
      << "the end itself is not blocked";
}

// RFC 6672 2.2: a DNAME makes a CNAME to a name under its target. The DNAME's target
// is blocked with its subtree; and with a "*." entry only the names below it are,
// so only the synthesized CNAME's target shows the blocked name.
TEST(QueryHandlerPolicy, ANameReachedThroughADnameIsCheckedToo) {
  ServerHarness h;
  add_root_zone_records(h,
                        "old.example. DNAME tracker.example.\n"
                        "renamed.example. DNAME hidden.example.\nwww.hidden.example. A 192.0.2.11\n");
  EXPECT_EQ(parse(h.ask(query_wire("www.renamed.example.", rrtype::A))).rcode, rcode::NOERROR);
  h.policy = tracker_policy("*.hidden.example\n");
  h.rebuild();
  h.messages.flush(Name::root(), true);
  const Message to_blocked_zone = parse(h.ask(query_wire("www.old.example.", rrtype::A)));
  EXPECT_TRUE(blocked_by_trackers(to_blocked_zone))
      << to_blocked_zone.answer.size() << " answer records, rcode " << to_blocked_zone.rcode;
  const Message under_blocked_name = parse(h.ask(query_wire("www.renamed.example.", rrtype::A)));
  EXPECT_TRUE(blocked_by_trackers(under_blocked_name))
      << under_blocked_name.answer.size() << " answer records, rcode " << under_blocked_name.rcode;
  ASSERT_EQ(under_blocked_name.extended_errors().size(), 1u);
  EXPECT_NE(under_blocked_name.extended_errors()[0].extra_text.find("www.hidden.example."), std::string::npos)
      << under_blocked_name.extended_errors()[0].extra_text;
  // hidden.example itself is not listed: its own DNAME question is answered.
  EXPECT_EQ(parse(h.ask(query_wire("renamed.example.", rrtype::DNAME))).answer.size(), 1u);
}

}  // namespace
}  // namespace rsv
