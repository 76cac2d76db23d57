// The control channel's Unix socket: one request line in, one reply line out, the
// file's mode, stale sockets replaced, live ones left alone, and clients that send
// too much or nothing at all, or never read their reply.
#include "resolver/net/control_listener.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

namespace rsv {
namespace {

constexpr uint32_t kWaitMs = 3000;

class ControlListenerTest : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "control_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/sub/control.sock";  // the directory is created on the way
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int connect_client() const {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0) << std::strerror(errno);
    return fd;
  }

  // Reads until the peer closes or the loop gives up.
  std::string read_all(EventLoop &loop, int fd, bool *closed) {
    std::string got;
    *closed = false;
    loop.run_until(
        [&] {
          char buffer[4096];
          for (;;) {
            ssize_t n = recv(fd, buffer, sizeof buffer, 0);
            if (n > 0) {
              got.append(buffer, static_cast<size_t>(n));
              continue;
            }
            if (n == 0) *closed = true;
            break;
          }
          return *closed;
        },
        kWaitMs);
    return got;
  }

  std::string dir_, path_;
};

TEST_F(ControlListenerTest, AnswersOneLineAndCloses) {
  EventLoop loop;
  std::string seen;
  ControlListener listener(loop, path_, [&](const std::string &request, ControlListener::Respond respond) {
    seen = request;
    respond("{\"ok\":true}");
  });
  struct stat info {};
  ASSERT_EQ(stat(path_.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0660u);  // owner and group only

  int fd = connect_client();
  const std::string request = "{\"args\":[\"status\"]}\n";
  ASSERT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  bool closed = false;
  EXPECT_EQ(read_all(loop, fd, &closed), "{\"ok\":true}\n");
  EXPECT_TRUE(closed);
  EXPECT_EQ(seen, "{\"args\":[\"status\"]}");
  close(fd);
}

TEST_F(ControlListenerTest, ARequestAnsweredLaterStillReachesTheClient) {
  EventLoop loop;
  std::optional<ControlListener::Respond> pending;
  ControlListener listener(loop, path_, [&](const std::string &, ControlListener::Respond respond) {
    pending = std::move(respond);
  });
  int fd = connect_client();
  ASSERT_EQ(send(fd, "explain\n", 8, 0), 8);
  loop.run_until([&] { return pending.has_value(); }, kWaitMs);
  ASSERT_TRUE(pending);
  (*pending)("later");
  (*pending)("twice");  // a second reply is ignored
  bool closed = false;
  EXPECT_EQ(read_all(loop, fd, &closed), "later\n");
  close(fd);
}

TEST_F(ControlListenerTest, AnOverlongRequestIsCutOff) {
  EventLoop loop;
  int calls = 0;
  ControlListener listener(loop, path_, [&](const std::string &, ControlListener::Respond) { ++calls; });
  int fd = connect_client();
  std::string junk(ControlListener::kMaxRequestBytes + 4096, 'x');  // no newline, ever
  size_t sent = 0;
  bool closed = false;
  loop.run_until(
      [&] {
        while (sent < junk.size()) {
          ssize_t n = send(fd, junk.data() + sent, junk.size() - sent, MSG_NOSIGNAL);
          if (n <= 0) break;
          sent += static_cast<size_t>(n);
        }
        char c;
        ssize_t n = recv(fd, &c, 1, 0);
        closed = n == 0 || (n < 0 && errno != EAGAIN);
        return closed;
      },
      kWaitMs);
  EXPECT_TRUE(closed);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(listener.connection_count(), 0u);
  close(fd);
}

// A reply far larger than the socket's buffers (as `explain --json` or `stats` can
// be) to a client that never reads it: the write can never finish, and without a
// deadline the connection held its slot for good (kMaxConnections such clients shut
// everyone out of the control channel).
TEST_F(ControlListenerTest, AClientThatNeverReadsItsReplyIsDisconnected) {
  EventLoop loop;
  const std::string huge(8 << 20, 'x');
  ControlListener listener(
      loop, path_, [&](const std::string &, ControlListener::Respond respond) { respond(huge); },
      std::nullopt, ControlTimeouts{ControlTimeouts{}.request_ms, /*reply_ms=*/100});
  int fd = connect_client();
  ASSERT_EQ(send(fd, "stats\n", 6, 0), 6);
  ASSERT_TRUE(loop.run_until([&] { return listener.connection_count() == 1; }, kWaitMs));
  EXPECT_TRUE(loop.run_until([&] { return listener.connection_count() == 0; }, kWaitMs))
      << "the connection still holds its slot";
  // What the client finds when it reads at last: part of the reply, then the end.
  bool closed = false;
  const std::string got = read_all(loop, fd, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(got.size(), huge.size());
  close(fd);
}

// The deadline is for taking the reply, not a limit on its size: a client that reads
// gets all of a reply larger than the socket's buffers.
TEST_F(ControlListenerTest, AClientThatReadsGetsAReplyLargerThanTheSocketBuffers) {
  EventLoop loop;
  const std::string huge(4 << 20, 'y');
  ControlListener listener(loop, path_,
                           [&](const std::string &, ControlListener::Respond respond) { respond(huge); });
  int fd = connect_client();
  ASSERT_EQ(send(fd, "stats\n", 6, 0), 6);
  bool closed = false;
  const std::string got = read_all(loop, fd, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(got, huge + "\n");
  close(fd);
}

TEST_F(ControlListenerTest, AStaleSocketIsReplacedALiveOneIsNot) {
  EventLoop loop;
  {
    ControlListener first(loop, path_, [](const std::string &, ControlListener::Respond) {});
    // A second daemon on the same path must not steal it.
    EXPECT_THROW(ControlListener(loop, path_, [](const std::string &, ControlListener::Respond) {}),
                 std::runtime_error);
  }
  // A socket file left behind (a daemon that was killed): bind one by hand, close it.
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
  close(fd);
  ASSERT_TRUE(std::filesystem::exists(path_));
  EXPECT_NO_THROW(ControlListener(loop, path_, [](const std::string &, ControlListener::Respond) {}));
  // Removed when the listener goes.
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ControlListenerTest, ARegularFileInTheWayIsAnError) {
  EventLoop loop;
  std::filesystem::create_directories(dir_ + "/sub");
  std::ofstream(path_) << "not a socket";
  try {
    ControlListener listener(loop, path_, [](const std::string &, ControlListener::Respond) {});
    FAIL() << "no error";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("is not a socket"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));  // left alone
}

}  // namespace
}  // namespace rsv
