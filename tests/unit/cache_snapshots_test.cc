// The daemon's side of the cache snapshot (resolver/server/cache_snapshots.h): which
// settings a snapshot's security statuses depend on, and where the file is with a
// chroot. (Reading and writing it, and the daemon doing so at start and shutdown, are
// tested in snapshot_test.cc and tests/system/test_stale.py.)
#include "resolver/server/cache_snapshots.h"

#include <unistd.h>

#include <memory>

#include <gtest/gtest.h>

#include "tests/unit/test_records.h"

namespace rsv {
namespace {

class ValidationContext : public ::testing::Test {
protected:
  std::string context_of(const Config &config, std::vector<TrustAnchor> anchors = {}) {
    Generation generation(config, RootHints{}, std::move(anchors), caches, 1);
    return validation_context(generation);
  }
  Caches caches{CacheConfig{}};
};

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
  Config forwarding = base;
  forwarding.forward_zones = {ForwardZone{testing::n("example."), {*SocketAddress::parse("192.0.2.1@53")}}};
  EXPECT_NE(context_of(forwarding), context);

  TrustAnchor anchor{testing::n("."), testing::records(". DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"), {}};
  const std::string anchored = context_of(base, {anchor});
  EXPECT_NE(anchored, context) << "another trust anchor";
  anchor.ds = testing::records(". DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16\n");
  EXPECT_NE(context_of(base, {anchor}), anchored) << "another key for the same zone";
}

TEST(SnapshotFile, ItsLimitFollowsTheCacheSizeAndItsOwners) {
  CacheConfig cache;
  cache.size_bytes = 64u << 20;
  EXPECT_EQ(snapshot_file_limit(cache), (128u << 20) + (1u << 20));
  Config config = default_config();
  config.username.clear();
  EXPECT_EQ(snapshot_owners(config), (std::vector<uid_t>{::geteuid(), 0}));
  config.username = "root";  // a user every system has
  EXPECT_EQ(snapshot_owners(config), (std::vector<uid_t>{::geteuid(), 0, 0}));
  config.username = "no-such-user-here";
  EXPECT_EQ(snapshot_owners(config).size(), 2u);
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
