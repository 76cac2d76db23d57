// The control channel's argument helpers (resolver/server/control.h). The commands
// themselves run against the real daemon in tests/system/test_control.py.
#include "resolver/server/control.h"

#include <string>

#include <gtest/gtest.h>

namespace rsv {
namespace {

TEST(ParseDuration, SecondsAndEveryUnit) {
  EXPECT_EQ(parse_duration("3600"), 3600u);
  EXPECT_EQ(parse_duration("90s"), 90u);
  EXPECT_EQ(parse_duration("30m"), 1800u);
  EXPECT_EQ(parse_duration("12h"), 43200u);
  EXPECT_EQ(parse_duration("2d"), 172800u);
  EXPECT_EQ(parse_duration("1w"), 604800u);
  EXPECT_EQ(parse_duration("0"), 0u) << "zero parses; `nta add` refuses it itself";
}

TEST(ParseDuration, AnUnknownSuffixIsAnErrorNotSeconds) {
  // "10x" was read as 10 s: a typo must not become a negative trust anchor of another length.
  EXPECT_EQ(parse_duration("10x"), std::nullopt);
  EXPECT_EQ(parse_duration("10M"), std::nullopt) << "units are lower case";
  EXPECT_EQ(parse_duration("10 h"), std::nullopt);
  EXPECT_EQ(parse_duration("1h30m"), std::nullopt);
}

TEST(ParseDuration, SaysWhatIsWrong) {
  std::string why;
  EXPECT_EQ(parse_duration("10x", &why), std::nullopt);
  EXPECT_EQ(why, "unknown unit 'x' (s, m, h, d or w)");
  EXPECT_EQ(parse_duration("h", &why), std::nullopt);
  EXPECT_EQ(why, "no number before the unit");
  EXPECT_EQ(parse_duration("1.5h", &why), std::nullopt);
  EXPECT_EQ(why, "not a whole number followed by a unit");
  EXPECT_EQ(parse_duration("1234567890", &why), std::nullopt);
  EXPECT_EQ(why, "too long");
  EXPECT_EQ(parse_duration("", &why), std::nullopt);
  EXPECT_EQ(why, "empty");
}

TEST(ParseDuration, NotANumber) {
  for (const char *text : {"", "h", "-5", "+5", "1.5h", "0x10", "1234567890", "ten"})
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
}

}  // namespace
}  // namespace rsv
