// TcpListener on real loopback sockets: framing, pipelining, limits and clients that
// misbehave. Clients are plain non-blocking sockets; the loop runs in the test's
// thread with every wait bounded by EventLoop::run_until.
#include "resolver/net/tcp_listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <gtest/gtest.h>

#include "resolver/net/event_loop.h"
#include "resolver/wire/message.h"

namespace rsv {
namespace {

constexpr uint32_t kWaitMs = 3000;

SocketAddress loopback() {
  auto address = SocketAddress::parse("127.0.0.1");
  address->set_port(0);
  return *address;
}

std::string make_query(uint16_t id) {
  Question question{*Name::from_text("www.example."), rrtype::A, rrclass::IN};
  return encode_query(id, question, true, std::nullopt, false);
}

std::string frame(std::string_view message) {
  std::string framed;
  framed.push_back(static_cast<char>(message.size() >> 8));
  framed.push_back(static_cast<char>(message.size() & 0xFF));
  framed += message;
  return framed;
}

uint16_t id_of(std::string_view message) {
  return static_cast<uint16_t>((static_cast<uint8_t>(message[0]) << 8) | static_cast<uint8_t>(message[1]));
}

class TestHandler : public QueryHandler {
public:
  bool defer = false;
  size_t reply_padding = 0;  // makes synchronous replies this much longer
  int calls = 0;
  std::vector<std::pair<std::shared_ptr<ReplyChannel>, std::string>> deferred;

  // Replies sent from a channel may dispatch more queries and so grow `deferred`
  // while an element is in use: never reallocate during a test.
  TestHandler() { deferred.reserve(64); }

  Disposition handle(QueryContext &context) override {
    ++calls;
    EXPECT_TRUE(context.tcp);
    std::string reply(reinterpret_cast<const char *>(context.query), context.query_size);
    reply[2] = static_cast<char>(reply[2] | 0x80);
    if (defer) {
      deferred.emplace_back(context.defer(), reply);
      return Disposition::deferred;
    }
    reply.append(reply_padding, '\0');
    std::memcpy(context.reply_buffer, reply.data(), reply.size());
    context.reply_size = reply.size();
    return Disposition::reply;
  }
};

// A non-blocking TCP client with an inbox of received bytes.
class TcpClient {
public:
  explicit TcpClient(const SocketAddress &server, int receive_buffer = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    // The listener's backlog completes the handshake even before the loop accepts.
    EXPECT_EQ(connect(fd_, server.sockaddr_ptr(), server.length()), 0) << std::strerror(errno);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int flags = fcntl(fd_, F_GETFL);
    fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  }
  ~TcpClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  void write(std::string_view data) {
    ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
  }
  void half_close() { shutdown(fd_, SHUT_WR); }
  // Closes with a reset (SO_LINGER 0), so the server sees an error at once.
  void reset() {
    linger hard{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(fd_);
    fd_ = -1;
  }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }

  // Reads what is available; notes end of stream.
  void pump() {
    char buffer[65536];
    for (;;) {
      ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        inbox_.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) closed_ = true;
      return;
    }
  }
  std::optional<std::string> next_frame() {
    pump();
    if (inbox_.size() < 2) return std::nullopt;
    size_t length = (static_cast<uint8_t>(inbox_[0]) << 8) | static_cast<uint8_t>(inbox_[1]);
    if (inbox_.size() < 2 + length) return std::nullopt;
    std::string message = inbox_.substr(2, length);
    inbox_.erase(0, 2 + length);
    return message;
  }
  bool closed_by_server() {
    pump();
    return closed_;
  }

private:
  int fd_ = -1;
  std::string inbox_;
  bool closed_ = false;
};

// Runs the loop until `count` frames arrived at `client`.
std::vector<std::string> receive_frames(EventLoop &loop, TcpClient &client, size_t count) {
  std::vector<std::string> frames;
  loop.run_until(
      [&] {
        while (auto message = client.next_frame()) frames.push_back(*message);
        return frames.size() >= count;
      },
      kWaitMs);
  return frames;
}

TcpLimits test_limits() {
  TcpLimits limits;
  limits.idle_timeout_ms = 2000;
  limits.max_connections = 8;
  limits.max_queries_per_connection = 16;
  return limits;
}

TEST(TcpListener, AnswersOneQuery) {
  EventLoop loop;
  TestHandler handler;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  TcpClient client(listener->local_address());
  std::string query = make_query(0x4242);
  client.write(frame(query));
  auto frames = receive_frames(loop, client, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(id_of(frames[0]), 0x4242);
  EXPECT_EQ(listener->connection_count(), 1u);
  EXPECT_EQ(listener->stats().queries_received, 1u);
  EXPECT_EQ(listener->stats().replies_sent, 1u);
}

TEST(TcpListener, PipelinedQueriesAreAnsweredInCompletionOrder) {
  EventLoop loop;
  TestHandler handler;
  handler.defer = true;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  TcpClient client(listener->local_address());
  std::string burst;
  for (uint16_t id = 1; id <= 5; ++id) burst += frame(make_query(id));
  client.write(burst);
  // RFC 7766 6.2.1.1: all five reach the handler before any is answered.
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 5; }, kWaitMs));
  for (auto it = handler.deferred.rbegin(); it != handler.deferred.rend(); ++it) it->first->send(it->second);
  auto frames = receive_frames(loop, client, 5);
  ASSERT_EQ(frames.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(id_of(frames[i]), 5 - i);
}

TEST(TcpListener, ReassemblesAFrameSentByteByByte) {
  EventLoop loop;
  TestHandler handler;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  TcpClient client(listener->local_address());
  std::string framed = frame(make_query(77));
  for (char byte : framed) {
    client.write(std::string_view(&byte, 1));
    loop.run_until([] { return false; }, 2);
  }
  auto frames = receive_frames(loop, client, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(id_of(frames[0]), 77);
  EXPECT_EQ(handler.calls, 1);
}

TEST(TcpListener, ZeroLengthFrameClosesTheConnection) {
  EventLoop loop;
  TestHandler handler;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  TcpClient client(listener->local_address());
  client.write(std::string("\0\0", 2));
  ASSERT_TRUE(loop.run_until([&] { return client.closed_by_server(); }, kWaitMs));
  EXPECT_EQ(handler.calls, 0);
  EXPECT_EQ(listener->stats().connections_bad_frame, 1u);
  EXPECT_EQ(listener->connection_count(), 0u);
}

TEST(TcpListener, GarbageShorterThanAHeaderClosesTheConnection) {
  EventLoop loop;
  TestHandler handler;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  TcpClient client(listener->local_address());
  client.write(std::string("\x00\x03GET / HTTP/1.0\r\n\r\n", 20));
  ASSERT_TRUE(loop.run_until([&] { return client.closed_by_server(); }, kWaitMs));
  EXPECT_EQ(handler.calls, 0);
}

TEST(TcpListener, HalfAFrameThenCloseIsForgotten) {
  EventLoop loop;
  TestHandler handler;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  {
    TcpClient client(listener->local_address());
    client.write(frame(make_query(5)).substr(0, 9));
    ASSERT_TRUE(loop.run_until([&] { return listener->connection_count() == 1; }, kWaitMs));
  }
  ASSERT_TRUE(loop.run_until([&] { return listener->connection_count() == 0; }, kWaitMs));
  EXPECT_EQ(handler.calls, 0);
}

TEST(TcpListener, IdleConnectionTimesOutButNotWhileAQueryIsOutstanding) {
  EventLoop loop;
  TestHandler handler;
  handler.defer = true;
  TcpLimits limits = test_limits();
  limits.idle_timeout_ms = 100;
  auto listener = TcpListener::create(loop, loopback(), handler, limits);

  TcpClient idle(listener->local_address());
  ASSERT_TRUE(loop.run_until([&] { return idle.closed_by_server(); }, kWaitMs));
  EXPECT_EQ(listener->stats().connections_timed_out, 1u);

  TcpClient busy(listener->local_address());
  busy.write(frame(make_query(3)));
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 1; }, kWaitMs));
  EXPECT_FALSE(loop.run_until([&] { return busy.closed_by_server(); }, 300));
  handler.deferred[0].first->send(handler.deferred[0].second);
  EXPECT_EQ(receive_frames(loop, busy, 1).size(), 1u);
  // Idle again once answered: closed after the timeout.
  ASSERT_TRUE(loop.run_until([&] { return busy.closed_by_server(); }, kWaitMs));
  EXPECT_EQ(listener->stats().connections_timed_out, 2u);
}

TEST(TcpListener, ConnectionCapEvictsTheOldestIdleOrRefuses) {
  EventLoop loop;
  TestHandler handler;
  handler.defer = true;
  TcpLimits limits = test_limits();
  limits.max_connections = 2;
  auto listener = TcpListener::create(loop, loopback(), handler, limits);

  TcpClient oldest(listener->local_address());
  ASSERT_TRUE(loop.run_until([&] { return listener->connection_count() == 1; }, kWaitMs));
  TcpClient busy(listener->local_address());
  busy.write(frame(make_query(1)));
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 1; }, kWaitMs));

  // Full: the oldest idle connection makes room for the newcomer.
  TcpClient newcomer(listener->local_address());
  ASSERT_TRUE(loop.run_until([&] { return oldest.closed_by_server(); }, kWaitMs));
  EXPECT_EQ(listener->stats().connections_evicted, 1u);
  EXPECT_EQ(listener->connection_count(), 2u);
  newcomer.write(frame(make_query(2)));
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 2; }, kWaitMs));

  // Full of busy connections: a new client is refused.
  TcpClient refused(listener->local_address());
  ASSERT_TRUE(loop.run_until([&] { return refused.closed_by_server(); }, kWaitMs));
  EXPECT_EQ(listener->stats().connections_refused, 1u);
  EXPECT_FALSE(busy.closed_by_server());
  EXPECT_FALSE(newcomer.closed_by_server());
}

TEST(TcpListener, StopsReadingAtTheOutstandingCapUntilRepliesDrain) {
  EventLoop loop;
  TestHandler handler;
  handler.defer = true;
  TcpLimits limits = test_limits();
  limits.max_queries_per_connection = 2;
  auto listener = TcpListener::create(loop, loopback(), handler, limits);
  TcpClient client(listener->local_address());
  std::string burst;
  for (uint16_t id = 1; id <= 4; ++id) burst += frame(make_query(id));
  client.write(burst);
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 2; }, kWaitMs));
  EXPECT_FALSE(loop.run_until([&] { return handler.deferred.size() > 2; }, 50));
  handler.deferred[0].first->send(handler.deferred[0].second);
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 3; }, kWaitMs));
  // A channel dropped without a reply frees its slot too.
  handler.deferred[1].first.reset();
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 4; }, kWaitMs));
  handler.deferred[2].first->send(handler.deferred[2].second);
  handler.deferred[3].first->send(handler.deferred[3].second);
  auto frames = receive_frames(loop, client, 3);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(id_of(frames[0]), 1);
  EXPECT_EQ(id_of(frames[1]), 3);
  EXPECT_EQ(id_of(frames[2]), 4);
}

TEST(TcpListener, ReplyAfterTheClientResetIsDropped) {
  EventLoop loop;
  TestHandler handler;
  handler.defer = true;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  TcpClient client(listener->local_address());
  client.write(frame(make_query(8)));
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 1; }, kWaitMs));
  client.reset();
  ASSERT_TRUE(loop.run_until([&] { return listener->connection_count() == 0; }, kWaitMs));
  handler.deferred[0].first->send(handler.deferred[0].second);  // a no-op now
  EXPECT_EQ(listener->stats().replies_dropped, 1u);
}

TEST(TcpListener, ClientClosingWithQueriesOutstandingIsSafe) {
  EventLoop loop;
  TestHandler handler;
  handler.defer = true;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  TcpClient client(listener->local_address());
  client.write(frame(make_query(8)) + frame(make_query(9)));
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 2; }, kWaitMs));
  client.close();
  loop.run_until([] { return false; }, 20);
  for (auto &[channel, reply] : handler.deferred) channel->send(reply);
  // Writing to a socket the peer closed fails; the connection goes away quietly.
  ASSERT_TRUE(loop.run_until([&] { return listener->connection_count() == 0; }, kWaitMs));
}

TEST(TcpListener, HalfClosedClientStillGetsItsAnswer) {
  EventLoop loop;
  TestHandler handler;
  handler.defer = true;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  TcpClient client(listener->local_address());
  client.write(frame(make_query(10)));
  client.half_close();
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 1; }, kWaitMs));
  loop.run_until([] { return false; }, 20);  // let the listener see the EOF first
  handler.deferred[0].first->send(handler.deferred[0].second);
  auto frames = receive_frames(loop, client, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(id_of(frames[0]), 10);
  ASSERT_TRUE(loop.run_until([&] { return client.closed_by_server(); }, kWaitMs));
}

TEST(TcpListener, QueuesLargeRepliesForASlowReader) {
  EventLoop loop;
  TestHandler handler;
  handler.reply_padding = 30000;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  TcpClient client(listener->local_address(), 4096);
  std::string burst;
  for (uint16_t id = 1; id <= 12; ++id) burst += frame(make_query(id));
  client.write(burst);
  ASSERT_TRUE(loop.run_until([&] { return handler.calls == 12; }, kWaitMs));
  auto frames = receive_frames(loop, client, 12);
  ASSERT_EQ(frames.size(), 12u);
  for (uint16_t i = 0; i < 12; ++i) {
    EXPECT_EQ(id_of(frames[i]), i + 1);
    EXPECT_GT(frames[i].size(), 30000u);
  }
}

TEST(TcpListener, HalfClosedClientThatNeverReadsLosesItsSlotAtTheIdleTimeout) {
  EventLoop loop;
  TestHandler handler;
  handler.defer = true;
  handler.deferred.reserve(256);
  TcpLimits limits = test_limits();
  limits.idle_timeout_ms = 200;
  limits.max_queries_per_connection = 256;    // still reading when the EOF comes
  limits.max_pending_write_bytes = 64 << 20;  // only the timer may end this one
  auto listener = TcpListener::create(loop, loopback(), handler, limits);
  TcpClient client(listener->local_address(), 4096);
  std::string burst;
  for (uint16_t id = 1; id <= 200; ++id) burst += frame(make_query(id));
  client.write(burst);
  client.half_close();
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 200; }, kWaitMs));
  loop.run_until([] { return false; }, 20);  // the listener sees the EOF while queries are outstanding
  // The answers come: 12 MB, more than any socket buffers hold, so some wait in the
  // listener's write queue for a client that has finished sending and never reads.
  for (auto &[channel, reply] : handler.deferred) channel->send(reply + std::string(60000, '\0'));
  ASSERT_TRUE(loop.run_until([&] { return listener->connection_count() == 0; }, kWaitMs))
      << "a half-closed client that does not read kept its slot";
  EXPECT_EQ(listener->stats().connections_timed_out, 1u);
  EXPECT_EQ(listener->stats().connections_not_reading, 1u);
}

TEST(TcpListener, ClientThatStopsReadingIsDisconnectedAtTheWriteQueueBound) {
  EventLoop loop;
  TestHandler handler;
  handler.reply_padding = 60000;
  TcpLimits limits = test_limits();
  limits.idle_timeout_ms = 60000;  // the byte bound acts, not the timer
  limits.max_pending_write_bytes = 1 << 20;
  auto listener = TcpListener::create(loop, loopback(), handler, limits);
  TcpClient client(listener->local_address(), 4096);
  std::string burst;
  for (uint16_t id = 1; id <= 200; ++id) burst += frame(make_query(id));
  client.write(burst);  // and keeps its connection open, never reading
  ASSERT_TRUE(loop.run_until([&] { return listener->stats().connections_not_reading == 1; }, kWaitMs));
  EXPECT_EQ(listener->connection_count(), 0u);
  EXPECT_EQ(listener->stats().connections_timed_out, 0u);
}

TEST(TcpListener, ClientDribblingAFrameThatNeverCompletesTimesOut) {
  EventLoop loop;
  TestHandler handler;
  TcpLimits limits = test_limits();
  limits.idle_timeout_ms = 150;
  auto listener = TcpListener::create(loop, loopback(), handler, limits);
  TcpClient client(listener->local_address());
  // A byte every 40 ms, each well within the idle timeout, of a frame that would
  // take more than a second to complete: bytes without a query are not activity.
  const std::string framed = frame(make_query(1));
  for (size_t i = 0; i + 1 < framed.size() && !client.closed_by_server(); ++i) {
    client.write(std::string_view(&framed[i], 1));
    loop.run_until([] { return false; }, 40);
  }
  ASSERT_TRUE(loop.run_until([&] { return client.closed_by_server(); }, 50))
      << "a client dribbling bytes kept its slot past the idle timeout";
  EXPECT_EQ(handler.calls, 0);
  EXPECT_EQ(listener->stats().connections_timed_out, 1u);
  EXPECT_EQ(listener->connection_count(), 0u);
}

TEST(TcpListener, FramesHeldBackAtTheCapSurviveTheNextRead) {
  // Whole frames left in the shared read buffer at the cap must be copied before
  // the next read (of another connection) overwrites that buffer.
  EventLoop loop;
  TestHandler handler;
  handler.defer = true;
  TcpLimits limits = test_limits();
  limits.max_queries_per_connection = 1;
  auto listener = TcpListener::create(loop, loopback(), handler, limits);
  TcpClient first(listener->local_address());
  first.write(frame(make_query(1)) + frame(make_query(2)) + frame(make_query(3)));
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 1; }, kWaitMs));
  TcpClient second(listener->local_address());
  second.write(frame(make_query(0x5555)) + std::string(200, '\x5A'));
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 2; }, kWaitMs));
  EXPECT_EQ(id_of(handler.deferred[1].second), 0x5555);
  // Each answer frees the slot, and the next held-back frame is dispatched at once.
  handler.deferred[0].first->send(handler.deferred[0].second);
  ASSERT_EQ(handler.deferred.size(), 3u);
  EXPECT_EQ(id_of(handler.deferred[2].second), 2);
  handler.deferred[2].first->send(handler.deferred[2].second);
  ASSERT_EQ(handler.deferred.size(), 4u);
  EXPECT_EQ(id_of(handler.deferred[3].second), 3);
  handler.deferred[3].first->send(handler.deferred[3].second);
  auto frames = receive_frames(loop, first, 3);
  ASSERT_EQ(frames.size(), 3u);
  for (uint16_t i = 0; i < 3; ++i) EXPECT_EQ(id_of(frames[i]), i + 1);
}

TEST(TcpListener, CloseDropsEveryConnection) {
  EventLoop loop;
  TestHandler handler;
  handler.defer = true;
  auto listener = TcpListener::create(loop, loopback(), handler, test_limits());
  TcpClient client(listener->local_address());
  client.write(frame(make_query(1)));
  ASSERT_TRUE(loop.run_until([&] { return handler.deferred.size() == 1; }, kWaitMs));
  listener->close();
  EXPECT_EQ(listener->connection_count(), 0u);
  handler.deferred[0].first->send(handler.deferred[0].second);
  ASSERT_TRUE(loop.run_until([&] { return client.closed_by_server(); }, kWaitMs));
}

}  // namespace
}  // namespace rsv
