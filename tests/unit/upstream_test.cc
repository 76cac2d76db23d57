// UdpTcpUpstream against fake authorities: plain sockets on 127.0.0.1 that the test
// drives by hand, so each one can answer wrongly, late, or not at all. Every wait is
// bounded by EventLoop::run_until.
#include "resolver/net/upstream.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "resolver/net/event_loop.h"
#include "resolver/wire/message.h"

namespace rsv {
namespace {

constexpr uint32_t kWaitMs = 3000;

SocketAddress loopback(uint16_t port = 0) {
  auto address = SocketAddress::parse("127.0.0.1");
  address->set_port(port);
  return *address;
}

SocketAddress bound_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  getsockname(fd, reinterpret_cast<sockaddr *>(&storage), &length);
  return *SocketAddress::from_sockaddr(reinterpret_cast<sockaddr *>(&storage));
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

Question question_for(const char *name, uint16_t type = rrtype::A) {
  return Question{*Name::from_text(name), type, rrclass::IN};
}

OutgoingQuery make_query(const SocketAddress &server, uint16_t id, const char *name = "www.Example.",
                         uint32_t timeout_ms = 2000) {
  OutgoingQuery query;
  query.server = server;
  query.id = id;
  query.question = question_for(name);
  query.wire = encode_query(id, query.question, false, std::nullopt, false);
  query.timeout_ms = timeout_ms;
  return query;
}

// The answer a fake authority gives: the query with QR set, optionally altered.
std::string answer(std::string query, std::optional<uint16_t> id = std::nullopt) {
  query[2] = static_cast<char>(query[2] | 0x80);
  if (id) {
    query[0] = static_cast<char>(*id >> 8);
    query[1] = static_cast<char>(*id & 0xFF);
  }
  return query;
}

// A fake authority over UDP: receives one query at a time and answers as told.
class UdpAuthority {
public:
  UdpAuthority() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    auto local = loopback();
    EXPECT_EQ(bind(fd_, local.sockaddr_ptr(), local.length()), 0);
    address_ = bound_address(fd_);
  }
  ~UdpAuthority() { ::close(fd_); }
  const SocketAddress &address() const { return address_; }

  // Runs the loop until a query arrives; returns it and remembers its sender.
  std::string receive(EventLoop &loop) {
    if (!loop.run_until([&] { return readable(fd_); }, kWaitMs)) return {};
    char buffer[65536];
    sockaddr_storage from{};
    socklen_t from_length = sizeof from;
    ssize_t n = recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr *>(&from), &from_length);
    client_ = *SocketAddress::from_sockaddr(reinterpret_cast<sockaddr *>(&from));
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  }
  void reply(std::string_view wire) {
    ASSERT_EQ(sendto(fd_, wire.data(), wire.size(), 0, client_.sockaddr_ptr(), client_.length()),
              static_cast<ssize_t>(wire.size()));
  }
  const SocketAddress &client() const { return client_; }
  bool nothing_waiting() const { return !readable(fd_); }

private:
  int fd_ = -1;
  SocketAddress address_, client_;
};

struct Outcome {
  std::optional<TransportResult> result;
  int calls = 0;
  auto callback() {
    return [this](TransportResult r) {
      ++calls;
      result = std::move(r);
    };
  }
};

class UpstreamTest : public ::testing::Test {
protected:
  EventLoop loop;
  SeededRandom random{12345};
  SystemClock clock;
  NetworkConfig network;
};

TEST(ResponseMatching, ChecksIdQrAndQuestion) {
  Question question = question_for("www.example.");
  std::string query = encode_query(100, question, false, std::nullopt, false);
  EXPECT_FALSE(response_matches_query(query, 100, question));  // QR clear
  std::string reply = answer(query);
  EXPECT_TRUE(response_matches_query(reply, 100, question));
  EXPECT_FALSE(response_matches_query(reply, 101, question));
  EXPECT_TRUE(response_matches_query(reply, 100, question_for("WWW.eXample.")));
  EXPECT_FALSE(response_matches_query(reply, 100, question_for("www.example.com.")));
  EXPECT_FALSE(response_matches_query(reply, 100, question_for("www.example.", rrtype::AAAA)));
  EXPECT_FALSE(response_matches_query(reply.substr(0, reply.size() - 1), 100, question));
  EXPECT_FALSE(response_matches_query(reply.substr(0, 11), 100, question));
  std::string no_question = reply.substr(0, 12);
  no_question[5] = 0;
  EXPECT_FALSE(response_matches_query(no_question, 100, question));
  // RFC 6891 7: a FORMERR or NOTIMP without a question (servers that do not know EDNS).
  std::string formerr = no_question;
  formerr[3] = static_cast<char>((formerr[3] & 0xF0) | 1);
  EXPECT_TRUE(response_matches_query(formerr, 100, question));
  EXPECT_FALSE(response_matches_query(formerr, 101, question));
  formerr[3] = static_cast<char>((formerr[3] & 0xF0) | 2);  // SERVFAIL must repeat the question
  EXPECT_FALSE(response_matches_query(formerr, 100, question));
}

TEST_F(UpstreamTest, AcceptsTheAuthoritysReply) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority authority;
  Outcome outcome;
  auto query = make_query(authority.address(), 0xBEEF);
  upstream.send(query, outcome.callback());
  EXPECT_EQ(outcome.calls, 0);  // never from inside send()
  std::string received = authority.receive(loop);
  EXPECT_EQ(received, query.wire);
  // RFC 5452 10: a random source port, never a privileged one.
  EXPECT_GE(authority.client().port(), UdpTcpUpstream::kLowestSourcePort);
  authority.reply(answer(received));
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.calls, 1);
  EXPECT_EQ(outcome.result->status, TransportStatus::reply);
  EXPECT_EQ(outcome.result->wire, answer(received));
  EXPECT_LT(outcome.result->rtt_ms, kWaitMs);
  EXPECT_EQ(upstream.stats().udp_queries, 1u);
  EXPECT_EQ(upstream.stats().replies, 1u);
  EXPECT_EQ(upstream.in_flight(), 0u);
}

// The queries of one turn leave together at its end (EndOfTurn), so a burst wakes a
// sleeping authority once; each still has its own socket and random port.
TEST_F(UpstreamTest, QueriesOfOneTurnLeaveTogetherAtItsEnd) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority authority;
  Outcome outcomes[3];
  std::set<uint16_t> ports;
  for (uint16_t i = 0; i < 3; ++i)
    upstream.send(make_query(authority.address(), static_cast<uint16_t>(0x100 + i)), outcomes[i].callback());
  EXPECT_TRUE(authority.nothing_waiting()) << "nothing leaves inside send()";
  for (uint16_t i = 0; i < 3; ++i) {
    std::string received = authority.receive(loop);
    ASSERT_FALSE(received.empty()) << i;
    EXPECT_EQ(
        static_cast<uint16_t>((static_cast<uint8_t>(received[0]) << 8) | static_cast<uint8_t>(received[1])),
        0x100 + i);
    ports.insert(authority.client().port());
    authority.reply(answer(received));
  }
  EXPECT_EQ(ports.size(), 3u);
  ASSERT_TRUE(loop.run_until([&] { return outcomes[0].calls + outcomes[1].calls + outcomes[2].calls == 3; },
                             kWaitMs));
  for (auto &outcome : outcomes) EXPECT_EQ(outcome.result->status, TransportStatus::reply);
}

// A burst of kDatagramsPerBurst queued queries leaves at once, so the first queries
// of a long turn are not held back for all of it.
TEST_F(UpstreamTest, AFullBurstLeavesWithoutWaitingForTheEndOfTheTurn) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority authority;
  std::vector<Outcome> outcomes(UdpTcpUpstream::kDatagramsPerBurst);
  for (size_t i = 0; i + 1 < UdpTcpUpstream::kDatagramsPerBurst; ++i)
    upstream.send(make_query(authority.address(), static_cast<uint16_t>(0x200 + i), "www.example.", 5000),
                  outcomes[i].callback());
  EXPECT_TRUE(authority.nothing_waiting());
  upstream.send(make_query(authority.address(), 0x2FF, "www.example.", 5000), outcomes.back().callback());
  EXPECT_FALSE(authority.nothing_waiting()) << "the burst is full: it leaves inside send()";
  for (auto &outcome : outcomes)
    EXPECT_EQ(outcome.calls, 0) << "but `done` is never called from inside send()";
}

// The timeout counts from when the datagram leaves, by the clock read then: a query
// asked late in a long turn (here 60 ms of work) still gets its whole timeout, though
// the loop's clock was read when the turn began.
TEST_F(UpstreamTest, TheTimeoutCountsFromTheSendEvenLateInALongTurn) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority silent;
  Outcome outcome;
  std::chrono::steady_clock::time_point sent;
  Timer long_turn(loop);
  long_turn.start(0, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    sent = std::chrono::steady_clock::now();
    upstream.send(make_query(silent.address(), 0x300, "www.example.", 100), outcome.callback());
  });
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_EQ(outcome.result->status, TransportStatus::timeout);
  // libuv's clock counts whole milliseconds, so the timer may end up to 1 ms early.
  EXPECT_GE(waited, std::chrono::milliseconds(99));
}

// The answer arrives during a long turn and waits in the socket; the loop then runs
// the (expired) timer before it polls for I/O. The exchange must take the waiting
// answer, not report a timeout that would make the engine ask again. Forged datagrams
// waiting before it are still ignored.
TEST_F(UpstreamTest, AnAnswerWaitingUnreadWhenTheTimerFiresIsTaken) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority authority;
  Outcome outcome;
  auto query = make_query(authority.address(), 0x400, "www.example.", 50);
  upstream.send(query, outcome.callback());
  std::string received = authority.receive(loop);
  ASSERT_EQ(received, query.wire);
  // Work in the I/O phase: the datagrams are sent during it, so this turn's poll did
  // not see them, and the next turn starts with the timers.
  bool worked = false;
  loop.post([&] {
    authority.reply(answer(received, 0x401));  // a wrong ID first
    authority.reply(answer(received));
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    worked = true;
  });
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_TRUE(worked);
  EXPECT_EQ(outcome.result->status, TransportStatus::reply);
  EXPECT_EQ(outcome.result->wire, answer(received));
  EXPECT_EQ(upstream.stats().timeouts, 0u);
  EXPECT_EQ(upstream.stats().mismatches_ignored, 1u);
}

TEST_F(UpstreamTest, IgnoresAWrongIdThenAcceptsTheRightOne) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority authority;
  Outcome outcome;
  upstream.send(make_query(authority.address(), 1000), outcome.callback());
  std::string received = authority.receive(loop);
  authority.reply(answer(received, 1001));
  EXPECT_FALSE(loop.run_until([&] { return outcome.calls > 0; }, 50));
  EXPECT_EQ(upstream.stats().mismatches_ignored, 1u);
  authority.reply(answer(received));
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::reply);
  EXPECT_EQ(outcome.calls, 1);
}

TEST_F(UpstreamTest, IgnoresAWrongQuestionAndTimesOut) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority authority;
  Outcome outcome;
  upstream.send(make_query(authority.address(), 2000, "www.example.", 200), outcome.callback());
  std::string received = authority.receive(loop);
  // Same ID, different name: a forgery attempt or a confused server.
  authority.reply(answer(encode_query(2000, question_for("evil.example."), false, std::nullopt, false)));
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::timeout);
  EXPECT_EQ(upstream.stats().mismatches_ignored, 1u);
  EXPECT_EQ(upstream.stats().timeouts, 1u);
}

TEST_F(UpstreamTest, AcceptsTheQuestionInAnotherCase) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority authority;
  Outcome outcome;
  upstream.send(make_query(authority.address(), 3000, "wWw.ExAmPlE."), outcome.callback());
  authority.receive(loop);
  authority.reply(answer(encode_query(3000, question_for("www.example."), false, std::nullopt, false)));
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::reply);
}

TEST_F(UpstreamTest, DatagramsFromAnotherPortNeverArrive) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority authority, impostor;
  Outcome outcome;
  upstream.send(make_query(authority.address(), 4000), outcome.callback());
  std::string received = authority.receive(loop);
  // The impostor sends a perfect answer from the wrong port: the connected socket drops it.
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  std::string forged = answer(received);
  sendto(fd, forged.data(), forged.size(), 0, authority.client().sockaddr_ptr(), authority.client().length());
  ::close(fd);
  EXPECT_FALSE(loop.run_until([&] { return outcome.calls > 0; }, 50));
  authority.reply(forged);
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::reply);
}

TEST_F(UpstreamTest, ReportsATimeoutWhenNobodyAnswers) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority silent;
  Outcome outcome;
  upstream.send(make_query(silent.address(), 5000, "www.example.", 100), outcome.callback());
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::timeout);
  EXPECT_GE(outcome.result->rtt_ms, 90u);
  EXPECT_FALSE(loop.run_until([&] { return outcome.calls > 1; }, 30));
}

TEST_F(UpstreamTest, PortUnreachableIsANetworkErrorAtOnce) {
  // A port nobody listens on: bind, note, close.
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  auto local = loopback();
  ASSERT_EQ(bind(fd, local.sockaddr_ptr(), local.length()), 0);
  SocketAddress closed_port = bound_address(fd);
  ::close(fd);

  UdpTcpUpstream upstream(loop, random, clock, network);
  Outcome outcome;
  upstream.send(make_query(closed_port, 6000, "www.example.", 2000), outcome.callback());
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::network_error);
  EXPECT_LT(outcome.result->rtt_ms, 1000u);  // the ICMP error, not the timer
}

TEST_F(UpstreamTest, ABusySourcePortIsRedrawn) {
  // The first port the upstream will draw, from an identical random source (a seed no
  // other test uses, so tests running in parallel do not hold that port).
  SeededRandom own{777}, twin{777};
  uint16_t first_port = static_cast<uint16_t>(UdpTcpUpstream::kLowestSourcePort +
                                              twin.uniform(65536u - UdpTcpUpstream::kLowestSourcePort));
  int blocker = socket(AF_INET, SOCK_DGRAM, 0);
  auto taken = loopback(first_port);
  if (bind(blocker, taken.sockaddr_ptr(), taken.length()) != 0) {
    ::close(blocker);
    GTEST_SKIP() << "port " << first_port << " is in use already";
  }
  UdpTcpUpstream upstream(loop, own, clock, network);
  UdpAuthority authority;
  Outcome outcome;
  upstream.send(make_query(authority.address(), 7000), outcome.callback());
  std::string received = authority.receive(loop);
  EXPECT_NE(authority.client().port(), first_port);
  EXPECT_EQ(upstream.stats().port_collisions, 1u);
  authority.reply(answer(received));
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::reply);
  ::close(blocker);
}

TEST_F(UpstreamTest, BindsTheConfiguredOutgoingInterface) {
  network.outgoing_interface = {*SocketAddress::parse("127.0.0.2")};
  network.outgoing_interface[0].set_port(0);
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority authority;
  Outcome outcome;
  upstream.send(make_query(authority.address(), 7100), outcome.callback());
  std::string received = authority.receive(loop);
  EXPECT_EQ(authority.client().host_text(), "127.0.0.2");
  authority.reply(answer(received));
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::reply);
}

TEST_F(UpstreamTest, DisabledFamilyFailsLaterNotInsideSend) {
  network.do_ip6 = false;
  UdpTcpUpstream upstream(loop, random, clock, network);
  Outcome outcome;
  auto server = SocketAddress::parse("::1@53");
  upstream.send(make_query(*server, 8000), outcome.callback());
  EXPECT_EQ(outcome.calls, 0);
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::network_error);
  EXPECT_EQ(upstream.stats().network_errors, 1u);
}

TEST_F(UpstreamTest, DestroyingTheUpstreamAbandonsQueriesInFlight) {
  UdpAuthority authority;
  Outcome outcome;
  auto upstream = std::make_unique<UdpTcpUpstream>(loop, random, clock, network);
  upstream->send(make_query(authority.address(), 9000, "www.example.", 50), outcome.callback());
  OutgoingQuery tcp_query = make_query(authority.address(), 9001, "www.example.", 50);
  tcp_query.tcp = true;
  upstream->send(tcp_query, outcome.callback());
  upstream.reset();
  EXPECT_FALSE(loop.run_until([&] { return outcome.calls > 0; }, 100));
  EXPECT_TRUE(authority.nothing_waiting()) << "an abandoned query's datagram stays unsent";
}

TEST_F(UpstreamTest, DoneMaySendAgain) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  UdpAuthority silent;
  int timeouts = 0;
  std::function<void(TransportResult)> retry = [&](TransportResult result) {
    EXPECT_EQ(result.status, TransportStatus::timeout);
    if (++timeouts < 3) upstream.send(make_query(silent.address(), 9100, "www.example.", 10), retry);
  };
  upstream.send(make_query(silent.address(), 9100, "www.example.", 10), retry);
  ASSERT_TRUE(loop.run_until([&] { return timeouts == 3; }, kWaitMs));
  EXPECT_EQ(upstream.stats().udp_queries, 3u);
}

// A fake authority over TCP.
class TcpAuthority {
public:
  TcpAuthority() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    auto local = loopback();
    EXPECT_EQ(bind(listen_fd_, local.sockaddr_ptr(), local.length()), 0);
    EXPECT_EQ(listen(listen_fd_, 8), 0);
    address_ = bound_address(listen_fd_);
  }
  ~TcpAuthority() {
    if (connection_fd_ >= 0) ::close(connection_fd_);
    ::close(listen_fd_);
  }
  const SocketAddress &address() const { return address_; }

  bool accept_connection(EventLoop &loop) {
    if (!loop.run_until([&] { return readable(listen_fd_); }, kWaitMs)) return false;
    connection_fd_ = accept(listen_fd_, nullptr, nullptr);
    return connection_fd_ >= 0;
  }
  // Runs the loop until one whole frame arrived; returns the message inside.
  std::string receive_frame(EventLoop &loop) {
    std::string inbox;
    auto whole = [&] {
      if (readable(connection_fd_)) {
        char buffer[65536];
        ssize_t n = recv(connection_fd_, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) inbox.append(buffer, static_cast<size_t>(n));
      }
      return inbox.size() >= 2 &&
             inbox.size() >= 2u + ((static_cast<uint8_t>(inbox[0]) << 8) | static_cast<uint8_t>(inbox[1]));
    };
    if (!loop.run_until(whole, kWaitMs)) return {};
    return inbox.substr(2);
  }
  void send_frame(std::string_view message) {
    std::string framed;
    framed.push_back(static_cast<char>(message.size() >> 8));
    framed.push_back(static_cast<char>(message.size() & 0xFF));
    framed += message;
    ASSERT_EQ(::send(connection_fd_, framed.data(), framed.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(framed.size()));
  }

private:
  int listen_fd_ = -1;
  int connection_fd_ = -1;
  SocketAddress address_;
};

TEST_F(UpstreamTest, TcpQueryAndReply) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  TcpAuthority authority;
  Outcome outcome;
  OutgoingQuery query = make_query(authority.address(), 0x7CC7);
  query.tcp = true;
  upstream.send(query, outcome.callback());
  ASSERT_TRUE(authority.accept_connection(loop));
  std::string received = authority.receive_frame(loop);
  EXPECT_EQ(received, query.wire);
  // A stray frame first (wrong ID), then the answer, split across two writes.
  authority.send_frame(answer(received, 0x1111));
  std::string reply = answer(received);
  authority.send_frame(reply);
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::reply);
  EXPECT_EQ(outcome.result->wire, reply);
  EXPECT_EQ(upstream.stats().tcp_queries, 1u);
  EXPECT_EQ(upstream.stats().mismatches_ignored, 1u);
}

TEST_F(UpstreamTest, TcpServerThatNeverAnswersTimesOut) {
  UdpTcpUpstream upstream(loop, random, clock, network);
  TcpAuthority authority;
  Outcome outcome;
  OutgoingQuery query = make_query(authority.address(), 0x0102, "www.example.", 200);
  query.tcp = true;
  upstream.send(query, outcome.callback());
  ASSERT_TRUE(authority.accept_connection(loop));
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::timeout);
  EXPECT_EQ(outcome.calls, 1);
}

TEST_F(UpstreamTest, TcpConnectionRefusedIsANetworkError) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  auto local = loopback();
  ASSERT_EQ(bind(fd, local.sockaddr_ptr(), local.length()), 0);
  SocketAddress closed_port = bound_address(fd);
  ::close(fd);
  UdpTcpUpstream upstream(loop, random, clock, network);
  Outcome outcome;
  OutgoingQuery query = make_query(closed_port, 0x0103);
  query.tcp = true;
  upstream.send(query, outcome.callback());
  ASSERT_TRUE(loop.run_until([&] { return outcome.calls > 0; }, kWaitMs));
  EXPECT_EQ(outcome.result->status, TransportStatus::network_error);
}

}  // namespace
}  // namespace rsv
