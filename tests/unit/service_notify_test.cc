// What the daemon tells systemd (sd_notify), seen through ServiceNotifier's seam: the
// message format, and the sequence a real Daemon sends from start to shutdown.
#include "resolver/server/service_notify.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "resolver/server/daemon.h"

namespace rsv {
namespace {

struct Recorder {
  std::vector<std::string> messages;
  ServiceNotifier notifier() {
    return ServiceNotifier([this](const std::string &m) { messages.push_back(m); },
                           [] { return uint64_t{4242}; });
  }
};

TEST(ServiceNotifier, MessagesFollowSdNotify) {
  Recorder recorder;
  ServiceNotifier notifier = recorder.notifier();
  EXPECT_TRUE(notifier.active());
  notifier.ready("serving on 127.0.0.1@53");
  notifier.reloading("reloading the configuration");
  notifier.status("trust anchors changed");
  notifier.stopping("shutting down");
  ASSERT_EQ(recorder.messages.size(), 4u);
  EXPECT_EQ(recorder.messages[0], "READY=1\nSTATUS=serving on 127.0.0.1@53");
  // systemd 253's Type=notify-reload needs MONOTONIC_USEC beside RELOADING=1.
  EXPECT_EQ(recorder.messages[1], "RELOADING=1\nMONOTONIC_USEC=4242\nSTATUS=reloading the configuration");
  EXPECT_EQ(recorder.messages[2], "STATUS=trust anchors changed");
  EXPECT_EQ(recorder.messages[3], "STOPPING=1\nSTATUS=shutting down");
}

TEST(ServiceNotifier, AStatusCannotStartAnotherAssignment) {
  Recorder recorder;
  ServiceNotifier notifier = recorder.notifier();
  notifier.status("bad\nREADY=1\r\nx");
  ASSERT_EQ(recorder.messages.size(), 1u);
  EXPECT_EQ(recorder.messages[0], "STATUS=bad READY=1  x");
  EXPECT_EQ(status_line("a\nb"), "a b");
}

TEST(ServiceNotifier, WithoutNotifySocketNothingIsSentAndNothingFails) {
  const char *saved = std::getenv("NOTIFY_SOCKET");
  std::string saved_value = saved ? saved : "";
  unsetenv("NOTIFY_SOCKET");
  ServiceNotifier notifier;
  EXPECT_FALSE(notifier.active());
  notifier.ready("x");
  notifier.reloading("x");
  notifier.stopping("x");
  if (saved) setenv("NOTIFY_SOCKET", saved_value.c_str(), 1);
}

TEST(ServiceNotifier, LibsystemdReachesANotifySocket) {
  // A datagram socket standing in for systemd's, as the system test does.
  std::string dir = ::testing::TempDir() + "notify_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string path = dir + "/notify";
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
  const char *saved = std::getenv("NOTIFY_SOCKET");
  std::string saved_value = saved ? saved : "";
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ServiceNotifier notifier;
  EXPECT_TRUE(notifier.active());
  notifier.ready("up");
  char buffer[512];
  const ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(n)), "READY=1\nSTATUS=up");
  ::close(fd);
  if (saved)
    setenv("NOTIFY_SOCKET", saved_value.c_str(), 1);
  else
    unsetenv("NOTIFY_SOCKET");
  std::filesystem::remove_all(dir);
}

uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// A Daemon on a loopback port with a configuration file, its notifications recorded.
class DaemonNotifications : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "daemon_notify_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    config_path_ = dir_ + "/resolver.yaml";
    text_ = "listen: [127.0.0.1@" + std::to_string(free_port()) +
            "]\naccess-control: []\nlog-level: error\ndnssec: {validation: false, trust-anchor-files: []}\n"
            "control: {socket: \"\"}\n";
    std::ofstream(config_path_) << text_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs the daemon, does `while_running` on its control loop, stops it.
  std::vector<std::string> run(const std::function<void(Daemon &)> &while_running) {
    ConfigSource source{config_path_, true};
    Config config = load_config(config_path_);
    auto caches = std::make_unique<Caches>(config.cache);
    auto first = Generation::load(source, *caches, 1);
    Recorder recorder;
    {
      Daemon daemon(source, first, std::move(caches));
      daemon.set_service_notifier(recorder.notifier());
      daemon.loop().post([&] {
        while_running(daemon);
        daemon.stop();
      });
      std::thread thread([&] { EXPECT_EQ(daemon.run(), 0); });
      thread.join();
    }
    return recorder.messages;
  }

  static std::string first_line(const std::string &message) { return message.substr(0, message.find('\n')); }

  std::string dir_, config_path_, text_;
};

TEST_F(DaemonNotifications, ReadyThenReloadingAndReadyThenStopping) {
  std::vector<std::string> messages = run([](Daemon &daemon) { EXPECT_TRUE(daemon.reload().ok); });
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(first_line(messages[0]), "READY=1");
  EXPECT_NE(messages[0].find("STATUS=serving on 127.0.0.1@"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find("configuration 1"), std::string::npos) << messages[0];
  EXPECT_EQ(first_line(messages[1]), "RELOADING=1");
  EXPECT_NE(messages[1].find("MONOTONIC_USEC="), std::string::npos);
  EXPECT_EQ(first_line(messages[2]), "READY=1");
  EXPECT_NE(messages[2].find("STATUS=configuration 2 loaded"), std::string::npos) << messages[2];
  EXPECT_EQ(messages[3], "STOPPING=1\nSTATUS=shutting down");
}

TEST_F(DaemonNotifications, ARefusedReloadStillEndsWithReady) {
  std::vector<std::string> messages = run([this](Daemon &daemon) {
    std::ofstream(config_path_) << "threads: many\n";
    EXPECT_FALSE(daemon.reload().ok);
  });
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(first_line(messages[1]), "RELOADING=1");
  EXPECT_EQ(first_line(messages[2]), "READY=1");
  EXPECT_NE(messages[2].find("STATUS=reload refused ("), std::string::npos) << messages[2];
  EXPECT_NE(messages[2].find("configuration 1"), std::string::npos) << messages[2];
  EXPECT_EQ(first_line(messages[3]), "STOPPING=1");
}

}  // namespace
}  // namespace rsv
