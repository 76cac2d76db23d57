// The policy as the query handler sees it: local names first, then blocklists with
// the allowlist's exceptions, files read with their errors reported, and the memory
// bound of blocklist-memory.
#include "resolver/policy/policy.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace rsv {
namespace {

class PolicyTest : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "policy_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string &name, const std::string &text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  static std::string wire(const char *name) { return Name::from_text(name)->lowered().wire(); }
  static Name name(const char *text) { return *Name::from_text(text); }
  std::string dir_;
};

TEST_F(PolicyTest, BuiltInsWithoutConfiguration) {
  Policy policy;
  EXPECT_TRUE(policy.intercepts(wire("localhost.")));
  EXPECT_TRUE(policy.intercepts(wire("www.localhost.")));
  EXPECT_TRUE(policy.intercepts(wire("4.3.2.10.in-addr.arpa.")));
  EXPECT_FALSE(policy.intercepts(wire("www.example.com.")));
  EXPECT_FALSE(policy.blocked(name("www.example.com.")));
  EXPECT_TRUE(policy.local_answer(Question{name("localhost."), rrtype::A, rrclass::IN}));
}

TEST_F(PolicyTest, ListsAllowlistAndLocalData) {
  PolicyConfig config;
  config.blocklists.push_back(
      {write("hosts.txt", "0.0.0.0 ads.example.com\n0.0.0.0 tracker.example.net\nbad line\n"),
       ListFormat::hosts, BlockAction::nxdomain, "hosts"});
  config.blocklists.push_back({write("adguard.txt", "||metrics.example.org^\n@@||ok.metrics.example.org^\n"),
                               ListFormat::adblock, BlockAction::null_address, "adguard"});
  config.blocklists.push_back({write("policy.rpz", "$ORIGIN rpz.\nnodata.example CNAME *.\n"),
                               ListFormat::rpz, BlockAction::nxdomain, "rpz"});
  config.allowlist = {"fine.ads.example.com", write("allow.txt", "good.tracker.example.net\n")};
  config.local_data = {"ads.example.com. 300 IN A 192.168.1.99"};  // local data wins
  config.hosts_files = {
      write("hosts", "192.168.1.10 nas nas.home.arpa\n::1 ip6-localhost\nnot-an-address x\n")};
  std::vector<std::string> warnings;
  auto policy = Policy::build(config, 1234, &warnings);

  auto block = policy->blocked(name("www.tracker.example.net."));
  ASSERT_TRUE(block);
  EXPECT_EQ(policy->lists()[block->list].source.name, "hosts");
  EXPECT_EQ(block->action, BlockAction::nxdomain);
  EXPECT_FALSE(policy->blocked(name("good.tracker.example.net.")));  // allowlist file
  EXPECT_FALSE(policy->blocked(name("x.fine.ads.example.com.")));    // allowlist name and below
  block = policy->blocked(name("a.metrics.example.org."));
  ASSERT_TRUE(block);
  EXPECT_EQ(block->action, BlockAction::null_address);
  EXPECT_FALSE(policy->blocked(name("ok.metrics.example.org.")));  // the list's own @@ exception
  block = policy->blocked(name("nodata.example."));
  ASSERT_TRUE(block);
  EXPECT_EQ(block->action, BlockAction::nodata);             // RPZ "CNAME *." whatever the list's action
  EXPECT_FALSE(policy->blocked(name("x.nodata.example.")));  // RPZ names are exact

  // The handler asks for local answers first.
  auto local = policy->local_answer(Question{name("ads.example.com."), rrtype::A, rrclass::IN});
  ASSERT_TRUE(local);
  EXPECT_EQ(local->answer.at(0).rdata, std::string("\xc0\xa8\x01\x63", 4));
  auto nas = policy->local_answer(Question{name("nas."), rrtype::A, rrclass::IN});
  ASSERT_TRUE(nas);
  EXPECT_TRUE(policy->local_answer(Question{name("10.1.168.192.in-addr.arpa."), rrtype::PTR, rrclass::IN}));
  EXPECT_TRUE(policy->intercepts(wire("nas.")));
  EXPECT_TRUE(policy->intercepts(wire("tracker.example.net.")));

  ASSERT_EQ(policy->lists().size(), 3u);
  EXPECT_EQ(policy->lists()[0].names, 2u);
  EXPECT_EQ(policy->lists()[0].report.malformed, 1u);
  ASSERT_EQ(warnings.size(), 2u);
  // The hosts file (local data) is read before the lists.
  EXPECT_NE(warnings[0].find("/hosts:3: 'not-an-address' is not an address"), std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[1].find("/hosts.txt:3: expected 'ADDRESS NAME...', got 'bad'"), std::string::npos)
      << warnings[1];
}

// Allow and block nested either way: the closest listed name decides. Each name
// below would come out the other way if the nesting were ignored.
TEST_F(PolicyTest, TheClosestListedNameDecidesBetweenBlockAndAllow) {
  PolicyConfig config;
  config.blocklists.push_back({write("list.txt", "blocked.test\nevil.good.test\n*.below.good.test\n"),
                               ListFormat::domains, BlockAction::nxdomain, "list"});
  config.allowlist = {"a.b.blocked.test", "good.test"};
  auto policy = Policy::build(config, 5);
  // An allow under a block: that name and its subtree only.
  EXPECT_FALSE(policy->blocked(name("a.b.blocked.test.")));
  EXPECT_FALSE(policy->blocked(name("x.a.b.blocked.test.")));
  EXPECT_FALSE(policy->blocked(name("X.A.B.Blocked.Test.")));
  EXPECT_TRUE(policy->blocked(name("blocked.test.")));
  EXPECT_TRUE(policy->blocked(name("b.blocked.test.")));  // the allow's parent
  EXPECT_TRUE(policy->blocked(name("c.blocked.test.")));  // its sibling
  EXPECT_TRUE(policy->blocked(name("x.b.blocked.test.")));
  EXPECT_TRUE(policy->blocked(name("ab.b.blocked.test.")));
  // A block under an allow still blocks, with its subtree.
  EXPECT_FALSE(policy->blocked(name("good.test.")));
  EXPECT_FALSE(policy->blocked(name("www.good.test.")));
  EXPECT_TRUE(policy->blocked(name("evil.good.test.")));
  EXPECT_TRUE(policy->blocked(name("x.evil.good.test.")));
  EXPECT_TRUE(policy->blocked(name("EVIL.Good.Test.")));
  EXPECT_FALSE(policy->blocked(name("notevil.good.test.")));
  // "*.name" blocks below the name only; the name itself stays under the allow.
  EXPECT_FALSE(policy->blocked(name("below.good.test.")));
  EXPECT_TRUE(policy->blocked(name("x.below.good.test.")));
}

// The same nesting inside one adblock list: its @@ exceptions are allows too.
TEST_F(PolicyTest, AdblockExceptionsNestTheSameWay) {
  PolicyConfig config;
  config.blocklists.push_back(
      {write("adguard.txt", "||blocked.test^\n@@||a.b.blocked.test^\n@@||good.test^\n||evil.good.test^\n"),
       ListFormat::adblock, BlockAction::nxdomain, "adguard"});
  auto policy = Policy::build(config, 6);
  EXPECT_FALSE(policy->blocked(name("a.b.blocked.test.")));
  EXPECT_TRUE(policy->blocked(name("b.blocked.test.")));
  EXPECT_TRUE(policy->blocked(name("c.blocked.test.")));
  EXPECT_FALSE(policy->blocked(name("www.good.test.")));
  EXPECT_TRUE(policy->blocked(name("evil.good.test.")));
}

TEST_F(PolicyTest, MissingFilesAndTheMemoryBound) {
  PolicyConfig config;
  config.blocklists.push_back({dir_ + "/missing.txt", ListFormat::domains, BlockAction::nxdomain, "missing"});
  try {
    Policy::build(config, 1);
    FAIL() << "no error";
  } catch (const std::runtime_error &e) {
    EXPECT_EQ(std::string(e.what()).rfind(dir_ + "/missing.txt: cannot read:", 0), 0u) << e.what();
  }
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "n" + std::to_string(i) + ".example\n";
  config.blocklists = {{write("big.txt", big), ListFormat::domains, BlockAction::nxdomain, "big"}};
  config.blocklist_memory = 64 * 1024;
  try {
    Policy::build(config, 1);
    FAIL() << "no error";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("need more than blocklist-memory (64K)"), std::string::npos)
        << e.what();
  }
  config.blocklist_memory = 1 << 20;
  EXPECT_EQ(Policy::build(config, 1)->blocked_names(), 20000u);
}

TEST_F(PolicyTest, BlockedAnswers) {
  Question a{name("ads.example.com."), rrtype::A, rrclass::IN};
  auto nx = blocked_answer(a, BlockAction::nxdomain, "hosts", 10);
  EXPECT_EQ(nx.rcode, rcode::NXDOMAIN);
  EXPECT_EQ(nx.error.info_code, ede::BLOCKED);
  EXPECT_EQ(nx.error.extra_text, "blocked by list hosts");
  auto null_a = blocked_answer(a, BlockAction::null_address, "hosts", 10);
  ASSERT_EQ(null_a.answer.size(), 1u);
  EXPECT_EQ(null_a.answer[0].rdata, std::string(4, '\0'));
  EXPECT_EQ(null_a.answer[0].ttl, 10u);
  Question mx{name("ads.example.com."), rrtype::MX, rrclass::IN};
  EXPECT_TRUE(blocked_answer(mx, BlockAction::null_address, "hosts", 10).answer.empty());
  Name target = name("tracker.example.net.");
  auto cloaked = blocked_answer(a, BlockAction::refuse, "hosts", 10, &target);
  EXPECT_EQ(cloaked.rcode, rcode::REFUSED);
  EXPECT_EQ(cloaked.error.extra_text, "blocked by list hosts (tracker.example.net., behind a CNAME)");
}

}  // namespace
}  // namespace rsv
