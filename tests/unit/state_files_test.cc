// State kept between runs: atomic replacement of files, their directory handed to the
// daemon's user, and the RFC 5011 state taking precedence over configured anchors.
#include "resolver/server/state_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "dnssec/rfc5011_state.h"
#include "resolver/base/log.h"
#include "resolver/server/trust_anchor_maintainer.h"
#include "tests/support/zone_signer.h"

namespace rsv {
namespace {

class StateFiles : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "state_files_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string read(const std::string &path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string dir_;
};

TEST_F(StateFiles, AnAtomicWriteReplacesTheFileWholeWithTheModeAsked) {
  const std::string path = dir_ + "/state";
  write_file_atomically(path, "first", 0644);
  EXPECT_EQ(read(path), "first");
  write_file_atomically(path, "second, longer", 0600);
  EXPECT_EQ(read(path), "second, longer");
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  // No temporary file is left behind.
  size_t entries = 0;
  for (const auto &entry : std::filesystem::directory_iterator(dir_)) entries += entry.is_regular_file();
  EXPECT_EQ(entries, 1u);
  EXPECT_THROW(write_file_atomically(dir_ + "/missing/state", "x", 0644), std::runtime_error);
}

TEST_F(StateFiles, TheStateDirectoryIsCreatedAndHandedToTheUser) {
  const std::string path = dir_ + "/var/lib/resolverd/trust-anchors.state";
  prepare_state_directory(path, std::nullopt);
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/var/lib/resolverd"));
  // Handing it to ourselves is what can be checked without root.
  std::ofstream(path) << "{}";
  prepare_state_directory(path, FileOwner{getuid(), getgid()});
  struct stat info {};
  ASSERT_EQ(stat((dir_ + "/var/lib/resolverd").c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, getuid());
  std::ofstream(dir_ + "/file") << "x";
  EXPECT_THROW(prepare_state_directory(dir_ + "/file/state", std::nullopt), std::runtime_error);
  // Shared directories are never given away (no error: a warning).
  EXPECT_NO_THROW(prepare_state_directory("/tmp/state", FileOwner{getuid() + 1, getgid() + 1}));
}

TEST(StatePaths, InsideAChroot) {
  EXPECT_EQ(path_inside_chroot("/var/lib/resolverd/ta.state", ""), "/var/lib/resolverd/ta.state");
  EXPECT_EQ(path_inside_chroot("/srv/jail/var/ta.state", "/srv/jail"), "/var/ta.state");
  EXPECT_EQ(path_inside_chroot("/srv/jail/var/ta.state", "/srv/jail/"), "/var/ta.state");
  EXPECT_EQ(path_inside_chroot("/srv/jailbreak/ta.state", "/srv/jail"), "/srv/jailbreak/ta.state");
  EXPECT_EQ(path_inside_chroot("/var/ta.state", "/"), "/var/ta.state");
}

// --- the maintainer's start: the state file and the configured anchors ---

class MaintainerState : public StateFiles {
protected:
  MaintainerState()
      : ksk1(testing::SigningKey::generate(Name::root(), testing::KeyRole::ksk)),
        ksk2(testing::SigningKey::generate(Name::root(), testing::KeyRole::ksk)),
        caches(CacheConfig{}) {}

  std::unique_ptr<TrustAnchorMaintainer> maintainer(bool rfc5011) {
    config.rfc5011 = rfc5011;
    return std::make_unique<TrustAnchorMaintainer>(
        loop, caches, config, std::vector<uid_t>{::geteuid()}, [] { return std::shared_ptr<Generation>(); },
        [](std::vector<TrustAnchor>, const std::string &) {});
  }

  void SetUp() override {
    StateFiles::SetUp();
    config.trust_anchor_state = dir_ + "/trust-anchors.state";
  }

  // A state that learned ksk2 (Valid) for the root and knows a zone not configured.
  void write_state() {
    std::vector<ManagedKey> keys;
    for (const auto *k : {&ksk1, &ksk2}) {
      ManagedKey key;
      key.rdata = k->dnskey().rdata;
      key.key_tag = k->key_tag();
      key.algorithm = k->algorithm();
      key.state = k == &ksk1 ? KeyState::revoked : KeyState::valid;
      keys.push_back(key);
    }
    std::vector<TrustPoint> points = {TrustPoint(Name::root(), {}, keys),
                                      TrustPoint(*Name::from_text("example."), {}, {})};
    write_file_atomically(config.trust_anchor_state, serialize_trust_point_state(points, 1), 0644);
  }

  std::vector<TrustAnchor> configured() const { return {TrustAnchor{Name::root(), {ksk1.ds()}, {}}}; }

  testing::SigningKey ksk1, ksk2;
  EventLoop loop;
  Caches caches;
  DnssecConfig config;
};

TEST_F(MaintainerState, WithoutAStateFileTheConfiguredAnchorsAreUsed) {
  auto m = maintainer(true);
  std::vector<TrustAnchor> anchors = m->anchors_for(configured());
  ASSERT_EQ(anchors.size(), 1u);
  EXPECT_EQ(anchors[0].ds.size(), 1u);
  EXPECT_TRUE(anchors[0].dnskey.empty());
  ASSERT_EQ(m->trust_points().size(), 1u);
}

TEST_F(MaintainerState, TheStateFileTakesPrecedenceForTheZonesItCovers) {
  write_state();
  auto m = maintainer(true);
  std::vector<TrustAnchor> anchors = m->anchors_for(configured());
  ASSERT_EQ(anchors.size(), 1u);  // example. is in the file but not configured
  EXPECT_TRUE(anchors[0].ds.empty());
  ASSERT_EQ(anchors[0].dnskey.size(), 1u);
  EXPECT_EQ(anchors[0].dnskey[0].rdata, ksk2.dnskey().rdata);
  // A reload that anchors another zone tracks it from its configuration, and keeps the root's state.
  std::vector<TrustAnchor> more = configured();
  more.push_back(TrustAnchor{*Name::from_text("example."), {}, {ksk1.dnskey()}});
  anchors = m->anchors_for(more);
  ASSERT_EQ(anchors.size(), 2u);
  EXPECT_EQ(anchors[0].dnskey[0].rdata, ksk2.dnskey().rdata);
  EXPECT_EQ(anchors[1].dnskey[0].rdata, ksk1.dnskey().rdata);
}

TEST_F(MaintainerState, ACorruptStateFileIsSetAsideAndTheConfiguredAnchorsAreUsed) {
  std::ofstream(dir_ + "/trust-anchors.state")
      << "{\"format\": \"resolverd-trust-anchors\", \"version\": 1, \"zon";
  auto m = maintainer(true);
  std::vector<TrustAnchor> anchors = m->anchors_for(configured());
  ASSERT_EQ(anchors.size(), 1u);
  EXPECT_EQ(anchors[0].ds.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/trust-anchors.state"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/trust-anchors.state.corrupt"));
}

TEST_F(MaintainerState, AtStartWhatACrashedWriteLeftIsRemoved) {
  write_state();
  const std::string leftover = config.trust_anchor_state + ".tmp.q7Rz0K";
  const std::string not_ours = config.trust_anchor_state + ".tmp.notours";
  std::ofstream(leftover) << "{\"format\": \"resolverd-trust-an";
  std::ofstream(not_ours) << "someone's";
  const LogSeverity severity = log_severity();  // the removal is an info line
  set_log_severity(LogSeverity::info);
  ::testing::internal::CaptureStderr();
  auto m = maintainer(true);
  std::vector<TrustAnchor> anchors = m->anchors_for(configured());
  const std::string log = ::testing::internal::GetCapturedStderr();
  set_log_severity(severity);
  EXPECT_FALSE(std::filesystem::exists(leftover));
  EXPECT_NE(log.find("removed " + leftover + ", left by a write of " + config.trust_anchor_state +
                     " that did not finish"),
            std::string::npos)
      << log;
  EXPECT_TRUE(std::filesystem::exists(not_ours)) << "not a name the writer makes";
  ASSERT_EQ(anchors.size(), 1u);
  EXPECT_TRUE(anchors[0].ds.empty()) << "the state file itself is read as before";
  // Without RFC 5011 the daemon never writes the file: nothing there is touched.
  std::ofstream(leftover) << "x";
  maintainer(false)->anchors_for(configured());
  EXPECT_TRUE(std::filesystem::exists(leftover));
}

TEST_F(MaintainerState, AStateFileSomeoneElseCouldHaveWrittenIsNotRead) {
  // What the file says replaces the configured anchors: a link to a file elsewhere, a
  // file others may write, or a FIFO (which would hold the start up until someone
  // writes to it) is reported and left unread.
  const std::string &path = config.trust_anchor_state;
  auto configured_anchors_are_used = [&](const std::string &why) {
    ::testing::internal::CaptureStderr();
    auto m = maintainer(true);
    std::vector<TrustAnchor> anchors = m->anchors_for(configured());
    const std::string log = ::testing::internal::GetCapturedStderr();
    ASSERT_EQ(anchors.size(), 1u) << why;
    EXPECT_EQ(anchors[0].ds.size(), 1u) << why << ": the configured DS, not the state's key";
    EXPECT_TRUE(anchors[0].dnskey.empty()) << why;
    EXPECT_NE(log.find("RFC 5011: the state file " + path + " is not read: " + why), std::string::npos)
        << log;
    EXPECT_NE(log.find("the configured trust anchors are used"), std::string::npos) << log;
  };
  write_state();
  const std::string elsewhere = dir_ + "/elsewhere.state";
  std::filesystem::rename(path, elsewhere);
  std::filesystem::create_symlink(elsewhere, path);
  configured_anchors_are_used("a symbolic link, not the file itself");
  std::filesystem::remove(path);
  write_state();
  ASSERT_EQ(::chmod(path.c_str(), 0664), 0);
  configured_anchors_are_used("writable by its group or others (mode 0664)");
  std::filesystem::remove(path);
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  configured_anchors_are_used("not a regular file");
  // Its own, as written: read.
  std::filesystem::remove(path);
  write_state();
  EXPECT_TRUE(maintainer(true)->anchors_for(configured())[0].ds.empty()) << "the state's key replaces the DS";
}

TEST_F(MaintainerState, AStateFileOfAnotherOwnerIsNotRead) {
  write_state();
  config.rfc5011 = true;
  TrustAnchorMaintainer m(
      loop, caches, config, std::vector<uid_t>{::geteuid() + 1}, [] { return std::shared_ptr<Generation>(); },
      [](std::vector<TrustAnchor>, const std::string &) {});
  ::testing::internal::CaptureStderr();
  std::vector<TrustAnchor> anchors = m.anchors_for(configured());
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(anchors.size(), 1u);
  EXPECT_EQ(anchors[0].ds.size(), 1u);
  EXPECT_NE(log.find("owned by uid " + std::to_string(::geteuid())), std::string::npos) << log;
}

TEST_F(MaintainerState, WithRfc5011OffTheStateFileIsNotRead) {
  write_state();
  auto m = maintainer(false);
  std::vector<TrustAnchor> anchors = m->anchors_for(configured());
  ASSERT_EQ(anchors.size(), 1u);
  EXPECT_EQ(anchors[0].ds.size(), 1u);
  EXPECT_TRUE(m->trust_points().empty());
}

}  // namespace
}  // namespace rsv
