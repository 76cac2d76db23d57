// State kept between runs: atomic replacement of files, their directory handed to the
// daemon's user, and the RFC 5011 state taking precedence over configured anchors.
#include "resolver/server/state_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "dnssec/rfc5011_state.h"
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

TEST_F(StateFiles, ReadingASmallFile) {
  EXPECT_EQ(read_small_file(dir_ + "/absent", 10), std::nullopt);
  write_file_atomically(dir_ + "/f", "0123456789", 0644);
  EXPECT_EQ(read_small_file(dir_ + "/f", 10), "0123456789");
  EXPECT_THROW(read_small_file(dir_ + "/f", 9), std::runtime_error);
  EXPECT_THROW(read_small_file(dir_, 10), std::runtime_error);  // a directory
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
        loop, caches, config, [] { return std::shared_ptr<Generation>(); },
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
