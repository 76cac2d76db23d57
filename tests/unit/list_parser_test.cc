// Reading lists in the formats people download them in, and what a bad line costs.
#include "resolver/policy/list_parser.h"

#include <gtest/gtest.h>

#include "resolver/policy/name_set.h"
#include "resolver/wire/name.h"

namespace rsv {
namespace {

struct Collected {
  std::vector<std::tuple<std::string, uint8_t, bool, std::optional<BlockAction>>> rules;
  ListReport report;
};

Collected parse(std::string_view text, ListFormat format) {
  Collected out;
  out.report = parse_list(text, format, "list.txt", [&](const ListRule &rule) {
    out.rules.emplace_back(Name::from_wire(rule.lowered_wire)->to_text(), rule.coverage, rule.allow,
                           rule.action);
  });
  return out;
}

TEST(ListParser, HostsFiles) {
  auto c = parse(
      "# StevenBlack-style\n"
      "127.0.0.1 localhost\n"
      "::1 ip6-localhost ip6-loopback\n"
      "0.0.0.0 0.0.0.0\n"
      "0.0.0.0 Ads.Example.COM   tracker.example.net # two names\n"
      "\n"
      "0.0.0.0\n"
      "not-an-address ads.example.org\n"
      "0.0.0.0 bad..name\n",
      ListFormat::hosts);
  ASSERT_EQ(c.rules.size(), 2u);
  EXPECT_EQ(std::get<0>(c.rules[0]), "ads.example.com.");
  EXPECT_EQ(std::get<1>(c.rules[0]), NameSet::kSubtree);
  EXPECT_EQ(std::get<0>(c.rules[1]), "tracker.example.net.");
  EXPECT_EQ(c.report.malformed, 3u);
  ASSERT_EQ(c.report.first_errors.size(), 3u);
  EXPECT_EQ(c.report.first_errors[0], "list.txt:7: an address without a name");
  EXPECT_EQ(c.report.first_errors[1], "list.txt:8: expected 'ADDRESS NAME...', got 'not-an-address'");
  EXPECT_EQ(c.report.first_errors[2], "list.txt:9: 'bad..name' is not a domain name");
  EXPECT_EQ(c.report.lines, 9u);
}

TEST(ListParser, DomainLists) {
  auto c = parse("# comment\nads.example.com\n*.below.example.com\nexample.org.\ntwo words\n",
                 ListFormat::domains);
  ASSERT_EQ(c.rules.size(), 3u);
  EXPECT_EQ(std::get<1>(c.rules[1]), NameSet::kBelow);
  EXPECT_EQ(std::get<0>(c.rules[1]), "below.example.com.");
  EXPECT_EQ(std::get<0>(c.rules[2]), "example.org.");
  EXPECT_EQ(c.report.malformed, 1u);
}

TEST(ListParser, AdblockSyntax) {
  auto c = parse(
      "[Adblock Plus 2.0]\n"
      "! Title: test\n"
      "||ads.example.com^\n"
      "||important.example.com^$important\n"
      "@@||good.ads.example.com^\n"
      "||client.example.com^$client=192.168.1.1\n"
      "/ads[0-9]+\\.example/\n"
      "example.com##.banner\n"
      "||example.net/path^\n"
      "plain.example.org\n"
      "||bad..name^\n",
      ListFormat::adblock);
  ASSERT_EQ(c.rules.size(), 4u);
  EXPECT_EQ(std::get<0>(c.rules[0]), "ads.example.com.");
  EXPECT_EQ(std::get<0>(c.rules[1]), "important.example.com.");
  EXPECT_EQ(std::get<0>(c.rules[2]), "good.ads.example.com.");
  EXPECT_TRUE(std::get<2>(c.rules[2]));  // an exception: the allowlist
  EXPECT_EQ(std::get<0>(c.rules[3]), "plain.example.org.");
  EXPECT_EQ(c.report.unsupported, 4u);
  EXPECT_EQ(c.report.malformed, 1u);
}

TEST(ListParser, ResponsePolicyZones) {
  auto c = parse(
      "$TTL 300\n"
      "@ SOA localhost. root.localhost. 1 3600 600 86400 60\n"
      "  NS localhost.\n"
      "$ORIGIN rpz.example.\n"
      "ads.example.com CNAME .\n"
      "*.ads.example.com CNAME .\n"
      "empty.example.com 60 IN CNAME *.\n"
      "ok.ads.example.com CNAME rpz-passthru.\n"
      "drop.example.com.rpz.example. CNAME rpz-drop.\n"
      "redirect.example.com CNAME walled.garden.example.\n"
      "24.0.2.0.192.rpz-ip CNAME .\n"
      "local.example.com A 192.0.2.1\n"
      "outside.example. CNAME .\n",
      ListFormat::rpz);
  ASSERT_EQ(c.rules.size(), 5u);
  EXPECT_EQ(c.rules[0], std::make_tuple(std::string("ads.example.com."), uint8_t{NameSet::kSelf}, false,
                                        std::optional<BlockAction>(BlockAction::nxdomain)));
  EXPECT_EQ(std::get<1>(c.rules[1]), NameSet::kBelow);
  EXPECT_EQ(std::get<3>(c.rules[2]), BlockAction::nodata);
  EXPECT_TRUE(std::get<2>(c.rules[3]));
  EXPECT_EQ(std::get<0>(c.rules[4]), "drop.example.com.");
  EXPECT_EQ(std::get<3>(c.rules[4]), BlockAction::refuse);
  EXPECT_EQ(c.report.unsupported, 3u);
  EXPECT_EQ(c.report.malformed, 1u);
  EXPECT_NE(c.report.first_errors[0].find("outside the policy zone"), std::string::npos);
}

TEST(ListParser, OnlyTheFirstFewErrorsAreReported) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "bad name " + std::to_string(i) + "\n";
  auto c = parse(text, ListFormat::domains);
  EXPECT_EQ(c.report.malformed, 100u);
  EXPECT_EQ(c.report.first_errors.size(), ListReport::kMaxReported);
}

TEST(ListParser, HostNames) {
  std::string out;
  EXPECT_TRUE(host_name_to_wire("A-b_c.Example.", out));
  EXPECT_EQ(out, std::string("\x05"
                             "a-b_c\x07"
                             "example\x00",
                             15));
  EXPECT_FALSE(host_name_to_wire("a b.example", out));
  EXPECT_FALSE(host_name_to_wire(".example", out));
  EXPECT_FALSE(host_name_to_wire(std::string(64, 'a') + ".example", out));
  EXPECT_TRUE(host_name_to_wire(std::string(63, 'a') + ".example", out));
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  EXPECT_FALSE(host_name_to_wire(long_name, out));  // past 255 octets
}

}  // namespace
}  // namespace rsv
