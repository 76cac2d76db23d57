#include "resolver/iter/root_hints.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace rsv {
namespace {

class RootHintsTest : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "root_hints_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string &file, const std::string &text) {
    std::string path = dir_ + "/" + file;
    std::ofstream(path) << text;
    return path;
  }
  // The std::runtime_error message from loading `text` as a hints file.
  std::string error_of(const std::string &text) {
    std::string path = write("bad.hints", text);
    try {
      load_root_hints(path);
    } catch (const std::runtime_error &e) {
      return e.what();
    }
    return "";
  }
  // Where error_of writes, as its messages begin.
  std::string bad_file() const { return dir_ + "/bad.hints"; }
  std::string dir_;
};

std::vector<std::string> address_texts(const RootServer &server) {
  std::vector<std::string> out;
  for (const SocketAddress &a : server.addresses) out.push_back(a.to_string());
  return out;
}

TEST_F(RootHintsTest, ParsesAHintsFile) {
  std::string path = write("test.hints",
                           "; a test root\n"
                           "$TTL 3600000\n"
                           ".            NS    ns1.test.\n"
                           ".            NS    ns2.test.\n"
                           ".            NS    ns3.test.   ; no address: skipped\n"
                           "ns1.test.    A     127.0.0.1\n"
                           "ns1.test.    AAAA  ::1\n"
                           "NS2.test.    A     127.0.0.2\n"
                           "other.test.  A     127.0.0.9   ; not a root server: ignored\n");
  RootHints hints = load_root_hints(path);
  EXPECT_EQ(hints.source, path);
  ASSERT_EQ(hints.servers.size(), 2u);
  EXPECT_EQ(hints.servers[0].name, *Name::from_text("ns1.test."));
  EXPECT_EQ(address_texts(hints.servers[0]), (std::vector<std::string>{"127.0.0.1@53", "::1@53"}));
  EXPECT_EQ(hints.servers[1].name, *Name::from_text("ns2.test."));
  EXPECT_EQ(address_texts(hints.servers[1]), std::vector<std::string>{"127.0.0.2@53"});
}

TEST_F(RootHintsTest, ErrorsNameFileAndLine) {
  EXPECT_EQ(error_of(".  NS  ns1.test.\nns1.test.  A  127.0.0.300\n"),
            bad_file() + ":2: Syntax error, could not parse the RR's rdata");
  EXPECT_EQ(error_of(".  NS  ns1.test.\nns1.test. A 127.0.0.1\ntest.  NS  ns1.test.\n"),
            bad_file() + ":3: NS record for 'test.': root hints hold NS records for '.' only");
  EXPECT_EQ(error_of(".  NS  ns1.test.\n\nns1.test. MX 10 mail.test.\n"),
            bad_file() + ":3: unexpected MX record: root hints hold only NS, A and AAAA records");
  EXPECT_EQ(error_of("; nothing useful\n.  NS  ns1.test.\n"),
            bad_file() +
                ": no usable root server (need NS records for '.' and A or AAAA records for their "
                "names)");
  EXPECT_EQ(error_of(""), bad_file() +
                              ": no usable root server (need NS records for '.' and A or AAAA "
                              "records for their names)");
  EXPECT_THROW(load_root_hints(dir_ + "/absent.hints"), std::runtime_error);
}

TEST_F(RootHintsTest, BuiltinCopyHoldsTheThirteenRootServers) {
  RootHints hints = builtin_root_hints();
  EXPECT_EQ(hints.source, "built-in root hints");
  ASSERT_EQ(hints.servers.size(), 13u);
  for (size_t i = 0; i < 13; ++i) {
    std::string expected = std::string(1, static_cast<char>('a' + i)) + ".root-servers.net.";
    EXPECT_EQ(hints.servers[i].name, *Name::from_text(expected)) << expected;
    ASSERT_EQ(hints.servers[i].addresses.size(), 2u) << expected;
    EXPECT_TRUE(hints.servers[i].addresses[0].is_ipv4());
    EXPECT_TRUE(hints.servers[i].addresses[1].is_ipv6());
  }
  EXPECT_EQ(address_texts(hints.servers[0]),
            (std::vector<std::string>{"198.41.0.4@53", "2001:503:ba3e::2:30@53"}));
  EXPECT_EQ(address_texts(hints.servers[12]),
            (std::vector<std::string>{"202.12.27.33@53", "2001:dc3::35@53"}));
}

TEST_F(RootHintsTest, ShippedCopyMatchesTheBuiltinOne) {
  RootHints shipped = load_root_hints(std::string(RESOLVER_SOURCE_DIR) + "/conf/root.hints");
  RootHints builtin = builtin_root_hints();
  ASSERT_EQ(shipped.servers.size(), builtin.servers.size());
  for (size_t i = 0; i < shipped.servers.size(); ++i) {
    EXPECT_EQ(shipped.servers[i].name, builtin.servers[i].name);
    EXPECT_EQ(shipped.servers[i].addresses, builtin.servers[i].addresses);
  }
}

TEST_F(RootHintsTest, MissingDefaultFileFallsBackToTheBuiltinCopy) {
  std::string absent = dir_ + "/absent.hints";
  EXPECT_EQ(effective_root_hints(absent, false).source, "built-in root hints");
  EXPECT_THROW(effective_root_hints(absent, true), std::runtime_error);
  // A file that exists is read whether or not it was named explicitly.
  std::string path = write("test.hints", ". NS ns1.test.\nns1.test. A 127.0.0.1\n");
  EXPECT_EQ(effective_root_hints(path, false).source, path);
  EXPECT_EQ(effective_root_hints(path, true).servers.size(), 1u);
  // An existing but broken default file is an error, not a silent fallback.
  std::string broken = write("broken.hints", ". NS\n");
  EXPECT_THROW(effective_root_hints(broken, false), std::runtime_error);
}

}  // namespace
}  // namespace rsv
