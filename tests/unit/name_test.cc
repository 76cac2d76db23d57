#include "resolver/wire/name.h"

#include <gtest/gtest.h>

namespace rsv {
namespace {

TEST(Name, ParsesAndPrintsPresentationFormat) {
  auto n = Name::from_text("www.Example.COM");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->to_text(), "www.Example.COM.");
  EXPECT_EQ(n->label_count(), 3u);
  EXPECT_EQ(Name::from_text(".")->to_text(), ".");
  EXPECT_TRUE(Name::from_text(".")->is_root());
}

TEST(Name, RejectsInvalidNames) {
  EXPECT_FALSE(Name::from_text(""));
  EXPECT_FALSE(Name::from_text("a..b"));
  EXPECT_FALSE(Name::from_text(std::string(64, 'a') + ".com"));
  std::string long_name;
  for (int i = 0; i < 60; ++i) long_name += "abcd.";
  EXPECT_FALSE(Name::from_text(long_name));
  EXPECT_FALSE(Name::from_text("a\\99"));
  EXPECT_FALSE(Name::from_text("a\\300"));
}

TEST(Name, HandlesEscapes) {
  auto n = Name::from_text("a\\.b.c");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->label_count(), 2u);
  EXPECT_EQ(n->to_text(), "a\\.b.c.");
  auto bin = Name::from_text("\\000x.example");
  ASSERT_TRUE(bin);
  EXPECT_EQ(bin->to_text(), "\\000x.example.");
}

TEST(Name, ComparesCaseInsensitively) {
  EXPECT_EQ(*Name::from_text("WWW.example.com"), *Name::from_text("www.EXAMPLE.com."));
  EXPECT_EQ(Name::from_text("A.b")->hash(), Name::from_text("a.B")->hash());
  EXPECT_NE(*Name::from_text("www.example.com"), *Name::from_text("ww.example.com"));
}

TEST(Name, SubdomainAndParents) {
  auto n = *Name::from_text("a.b.example.com");
  auto zone = *Name::from_text("Example.com");
  EXPECT_TRUE(n.is_subdomain_of(zone));
  EXPECT_TRUE(n.is_subdomain_of(Name::root()));
  EXPECT_TRUE(zone.is_subdomain_of(zone));
  EXPECT_FALSE(zone.is_subdomain_of(n));
  EXPECT_FALSE(Name::from_text("xexample.com")->is_subdomain_of(zone));
  EXPECT_EQ(n.parent().to_text(), "b.example.com.");
  EXPECT_EQ(n.suffix(2).to_text(), "example.com.");
  EXPECT_EQ(n.suffix(0).to_text(), ".");
  EXPECT_EQ(Name::root().parent(), Name::root());
  EXPECT_EQ(n.first_label(), "a");
  EXPECT_EQ(n.common_labels(*Name::from_text("x.example.COM")), 2u);
}

TEST(Name, ReplacesSuffixForDname) {
  auto n = *Name::from_text("www.old.example");
  auto r = n.replace_suffix(*Name::from_text("old.example"), *Name::from_text("new.test"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->to_text(), "www.new.test.");
  EXPECT_FALSE(n.replace_suffix(*Name::from_text("other"), *Name::from_text("x")));
}

TEST(Name, CanonicalOrderFollowsRfc4034) {
  // RFC 4034 6.1 example ordering.
  const char *ordered[] = {"example",         "a.example",      "yljkjljk.a.example",
                           "Z.a.example",     "zABC.a.EXAMPLE", "z.example",
                           "\\001.z.example", "*.z.example",    "\\200.z.example"};
  for (size_t i = 0; i + 1 < std::size(ordered); ++i) {
    auto a = *Name::from_text(ordered[i]);
    auto b = *Name::from_text(ordered[i + 1]);
    EXPECT_TRUE(canonical_less(a, b)) << ordered[i] << " < " << ordered[i + 1];
    EXPECT_FALSE(canonical_less(b, a)) << ordered[i + 1] << " !< " << ordered[i];
  }
}

TEST(Name, FromWireValidates) {
  EXPECT_TRUE(Name::from_wire(std::string("\x03www\x00", 5)));
  EXPECT_FALSE(Name::from_wire(std::string("\x03ww", 3)));
  EXPECT_FALSE(Name::from_wire(std::string("\xC0\x0C", 2)));
  EXPECT_FALSE(
      Name::from_wire(std::string("\x01"
                                  "a\x00"
                                  "x",
                                  4)));
}

}  // namespace
}  // namespace rsv
