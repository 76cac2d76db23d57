// The daemon's side of the cache snapshot (resolver/server/cache_snapshots.h): which
// settings a snapshot's security statuses depend on, and where the file is with a
// chroot. (Reading and writing it, and the daemon doing so at start and shutdown, are
// tested in snapshot_test.cc and tests/system/test_stale.py.)
#include "resolver/server/cache_snapshots.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include <gtest/gtest.h>

#include "resolver/wire/message.h"
#include "tests/unit/test_records.h"

namespace rsv {
namespace {

class ValidationContext : public ::testing::Test {
protected:
  std::string context_of(const Config &config, std::vector<TrustAnchor> anchors = {}) {
    Generation generation(config, RootHints{}, std::move(anchors), caches, 1);
    return validation_context(generation, {});
  }
  std::string settings_of(const Config &config) {
    Generation generation(config, RootHints{}, {}, caches, 1);
    return validation_settings(generation);
  }
  Caches caches{CacheConfig{}};
};

TEST_F(ValidationContext, RunTimeNegativeAnchorsAreInIt) {
  Generation generation(default_config(), RootHints{}, {}, caches, 1);
  const std::string none = validation_context(generation, {});
  const std::string one = validation_context(generation, {testing::n("broken.example.")});
  EXPECT_NE(one, none) << "a restart, which has none, does not use a file written under one";
  EXPECT_NE(validation_context(generation, {testing::n("other.example.")}), one);
}

TEST_F(ValidationContext, AReloadAndTheSnapshotJudgeWithTheSameSettings) {
  // validation_settings is what a reload compares before it flushes everything; the
  // snapshot's context is it and what a reload flushes name by name.
  const Config base = default_config();
  const std::string settings = settings_of(base);
  Config limits = base;
  limits.dnssec.max_rrsigs_per_rrset = 3;
  EXPECT_NE(settings_of(limits), settings);
  EXPECT_NE(context_of(limits), context_of(base));
  Config maintenance = base;
  maintenance.dnssec.rfc5011 = !base.dnssec.rfc5011;
  maintenance.dnssec.rfc5011_hold_down = 60;
  maintenance.dnssec.trust_anchor_files = {"/elsewhere/root.key"};
  EXPECT_EQ(settings_of(maintenance), settings) << "neither flushes for how anchors are kept";
  EXPECT_EQ(context_of(maintenance), context_of(base));
  Config by_name = base;
  by_name.dnssec.negative_trust_anchors = {testing::n("broken.example.")};
  by_name.forward_zones = {ForwardZone{testing::n("example."), {*SocketAddress::parse("192.0.2.1@53")}}};
  EXPECT_EQ(settings_of(by_name), settings) << "a reload flushes only their names";
  EXPECT_NE(context_of(by_name), context_of(base)) << "a snapshot holds them all";
}

TEST(SnapshotFile, ItsLimitFollowsTheCacheSize) {
  // (Who may own it: daemon_file_owners, in private_file_test.cc.)
  CacheConfig cache;
  cache.size_bytes = 64u << 20;
  EXPECT_EQ(snapshot_file_limit(cache), (128u << 20) + (1u << 20));
}

TEST_F(ValidationContext, ChangesWithWhatStatusesDependOnAndNothingElse) {
  const Config base = default_config();
  const std::string context = context_of(base);
  EXPECT_EQ(context_of(base), context) << "the same settings read the same";

  Config other_cache = base;
  other_cache.cache.size_bytes = 1 << 20;
  other_cache.cache.max_stale = 60;
  other_cache.listen.clear();
  other_cache.threads = 4;
  EXPECT_EQ(context_of(other_cache), context) << "cache sizes, listeners and threads judge nothing";

  Config no_validation = base;
  no_validation.dnssec.validation = false;
  EXPECT_NE(context_of(no_validation), context);
  Config nta = base;
  nta.dnssec.negative_trust_anchors = {testing::n("broken.example.")};
  EXPECT_NE(context_of(nta), context);
  Config limits = base;
  limits.dnssec.max_nsec3_iterations = 10;
  EXPECT_NE(context_of(limits), context);
  Config maintenance = base;  // how anchors are kept up to date (RFC 5011, RFC 8145) judges nothing
  maintenance.dnssec.rfc5011 = !base.dnssec.rfc5011;
  maintenance.dnssec.rfc5011_hold_down = 3600;
  maintenance.dnssec.rfc5011_min_refresh = 60;
  maintenance.dnssec.trust_anchor_state = "/elsewhere/anchors.state";
  maintenance.dnssec.trust_anchor_signaling = !base.dnssec.trust_anchor_signaling;
  EXPECT_EQ(context_of(maintenance), context) << "the anchors themselves count, not how they are maintained";
  Config forwarding = base;
  forwarding.forward_zones = {ForwardZone{testing::n("example."), {*SocketAddress::parse("192.0.2.1@53")}}};
  EXPECT_NE(context_of(forwarding), context);

  TrustAnchor anchor{testing::n("."), testing::records(". DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"), {}};
  const std::string anchored = context_of(base, {anchor});
  EXPECT_NE(anchored, context) << "another trust anchor";
  anchor.ds = testing::records(". DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16\n");
  EXPECT_NE(context_of(base, {anchor}), anchored) << "another key for the same zone";
}

// The daemon's write and read of the file, with run-time negative trust anchors.
class SnapshotAcrossARestart : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "cache_snapshots_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    config_ = default_config();
    config_.cache.snapshot = dir_ + "/cache.db";
    config_.cache.snapshot_interval = 0;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // An answer judged insecure under a run-time anchor for broken.example.
  static void judge_under_the_anchor(Caches &caches) {
    Message m;
    m.qr = m.rd = m.ra = true;
    m.questions.push_back(Question{testing::n("www.broken.example."), rrtype::A, rrclass::IN});
    m.answer.push_back(ResourceRecord{testing::n("www.broken.example."), rrtype::A, rrclass::IN, 300,
                                      std::string("\xC0\x00\x02\x07", 4)});
    EncodeResult reply = encode_message(m);
    caches.messages.store(testing::n("www.broken.example."), rrtype::A, rrclass::IN, 0, reply.wire,
                          reply.ttl_offsets, 300, Security::insecure, rcode::NOERROR);
  }
  // Writes at shutdown from `caches`; then what a fresh start restores.
  size_t restored_after_restart(Caches &caches) {
    EventLoop loop;
    {
      auto generation =
          std::make_shared<Generation>(config_, RootHints{}, std::vector<TrustAnchor>{}, caches, 1);
      CacheSnapshots snapshots(caches, loop);  // the daemon that writes (what it read at its start aside)
      snapshots.start(generation);
      snapshots.write_final();
    }
    Caches fresh{CacheConfig{}};
    Generation generation(config_, RootHints{}, {}, fresh, 1);
    CacheSnapshots snapshots(fresh, loop);
    snapshots.load_at_start(generation);
    return fresh.messages.entry_count();
  }

  std::string dir_;
  Config config_;
};

TEST_F(SnapshotAcrossARestart, AnAnchorThatLapsedButWasNotFlushedYetKeepsTheFileFromBeingUsed) {
  Caches caches{CacheConfig{}};
  const int64_t now = caches.clock.now_seconds();
  caches.negative_anchors.add(testing::n("broken.example."), now + 3600);
  judge_under_the_anchor(caches);
  EXPECT_EQ(restored_after_restart(caches), 0u) << "written while the anchor was in force";
  // It lapses; until the daemon flushes its names, the answer judged under it is cached.
  caches.negative_anchors.add(testing::n("broken.example."), now - 1);
  ASSERT_EQ(caches.messages.entry_count(), 1u);
  EXPECT_EQ(restored_after_restart(caches), 0u) << "lapsed, but what it judged is still in the cache";
  // Ended and its names flushed (as Daemon::end_lapsed_negative_anchors does): the
  // file is good again.
  caches.negative_anchors.remove(testing::n("broken.example."));
  caches.flush(testing::n("broken.example."), true);
  EncodeResult other = encode_message([] {
    Message m;
    m.qr = m.rd = m.ra = true;
    m.questions.push_back(Question{testing::n("www.example."), rrtype::A, rrclass::IN});
    return m;
  }());
  caches.messages.store(testing::n("www.example."), rrtype::A, rrclass::IN, 0, other.wire, other.ttl_offsets,
                        300, Security::insecure, rcode::NOERROR);
  EXPECT_EQ(restored_after_restart(caches), 1u) << "only what was judged outside any run-time anchor";
}

TEST_F(SnapshotAcrossARestart, AStartRemovesWhatACrashedWriteLeftBesideTheFile) {
  const std::string leftover = config_.cache.snapshot + ".tmp.x0Y1z2";
  const std::string not_ours = dir_ + "/other.db.tmp.x0Y1z2";
  std::ofstream(leftover) << "RSVDSNAP, cut short";
  std::ofstream(not_ours) << "someone's";
  Caches caches{CacheConfig{}};
  EventLoop loop;
  Generation generation(config_, RootHints{}, {}, caches, 1);
  CacheSnapshots snapshots(caches, loop);
  snapshots.load_at_start(generation);
  EXPECT_FALSE(std::filesystem::exists(leftover));
  EXPECT_TRUE(std::filesystem::exists(not_ours)) << "a temporary file of another target";
}

TEST(SnapshotWriterCheck, AChangeOfTheValidationContextOrOfTheRunTimeAnchorsIsSeen) {
  // What a periodic write asks before its file replaces the old one: did anything the
  // statuses depend on change since it began reading the caches?
  Caches caches{CacheConfig{}};
  EventLoop loop;
  Config config = default_config();
  config.cache.snapshot.clear();  // no timer: the writes are not what is tested here
  CacheSnapshots snapshots(caches, loop);
  snapshots.start(std::make_shared<Generation>(config, RootHints{}, std::vector<TrustAnchor>{}, caches, 1));
  const int64_t now = caches.clock.now_seconds();

  std::function<bool()> unchanged = snapshots.unchanged_since_now();
  EXPECT_TRUE(unchanged()) << "nothing happened yet";
  Config other_cache = config;
  other_cache.cache.max_stale = 60;
  other_cache.threads = config.threads + 1;
  snapshots.apply(
      std::make_shared<Generation>(other_cache, RootHints{}, std::vector<TrustAnchor>{}, caches, 2));
  EXPECT_TRUE(unchanged()) << "a reload of settings no status depends on";

  caches.negative_anchors.add(testing::n("broken.example."), now + 3600);
  EXPECT_FALSE(unchanged()) << "a negative trust anchor added (resolverctl nta add)";

  unchanged = snapshots.unchanged_since_now();
  EXPECT_TRUE(unchanged());
  caches.negative_anchors.remove(testing::n("broken.example."));
  EXPECT_FALSE(unchanged()) << "and removed";

  unchanged = snapshots.unchanged_since_now();
  Config stricter = other_cache;
  stricter.dnssec.max_nsec3_iterations = 10;
  snapshots.apply(std::make_shared<Generation>(stricter, RootHints{}, std::vector<TrustAnchor>{}, caches, 3));
  EXPECT_FALSE(unchanged()) << "a reload that changes the validation context";

  unchanged = snapshots.unchanged_since_now();
  Config anchored = stricter;
  anchored.dnssec.negative_trust_anchors = {testing::n("broken.example.")};
  snapshots.apply(std::make_shared<Generation>(anchored, RootHints{}, std::vector<TrustAnchor>{}, caches, 4));
  EXPECT_FALSE(unchanged()) << "a configured negative trust anchor is part of the context too";
}

TEST(SnapshotPath, WithAndWithoutChroot) {
  Config config = default_config();
  config.cache.snapshot = "/var/lib/resolverd/cache.db";
  EXPECT_EQ(snapshot_path_at_start(config), "/var/lib/resolverd/cache.db");
  EXPECT_EQ(snapshot_path_when_running(config), "/var/lib/resolverd/cache.db");
  config.chroot = "/srv/jail/";
  EXPECT_EQ(snapshot_path_at_start(config), "/srv/jail/var/lib/resolverd/cache.db") << "read before entering it";
  EXPECT_EQ(snapshot_path_when_running(config), "/var/lib/resolverd/cache.db") << "written inside it";
  config.cache.snapshot = "/srv/jail/var/cache.db";  // given with the chroot's prefix
  EXPECT_EQ(snapshot_path_at_start(config), "/srv/jail/var/cache.db");
  EXPECT_EQ(snapshot_path_when_running(config), "/var/cache.db");
  config.cache.snapshot = "/srv/jailbird/cache.db";  // a prefix of the name is not the directory
  EXPECT_EQ(snapshot_path_at_start(config), "/srv/jail/srv/jailbird/cache.db");
  config.chroot = "/";
  EXPECT_EQ(snapshot_path_at_start(config), "/srv/jailbird/cache.db");
  EXPECT_EQ(snapshot_path_when_running(config), "/srv/jailbird/cache.db");
}

}  // namespace
}  // namespace rsv
