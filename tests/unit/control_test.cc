// The control channel's argument helpers (resolver/server/control.h). The commands
// themselves run against the real daemon in tests/system/test_control.py.
#include "resolver/server/control.h"

#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "resolver/config/config.h"

namespace rsv {
namespace {

TEST(NtaDuration, SecondsAndEveryUnit) {
  EXPECT_EQ(nta_duration("3600").seconds, 3600u);
  EXPECT_EQ(nta_duration("90s").seconds, 90u);
  EXPECT_EQ(nta_duration("30m").seconds, 1800u);
  EXPECT_EQ(nta_duration("12h").seconds, 43200u);
  EXPECT_EQ(nta_duration("2d").seconds, 172800u);
  EXPECT_EQ(nta_duration("1w").seconds, 604800u);
}

TEST(NtaDuration, AcceptsExactlyWhatTheConfigurationAccepts) {
  // The control channel had a reader of its own, which refused what the configuration
  // takes ("0000000003600": more than 9 digits); both now read with parse_seconds.
  constexpr uint64_t kWeek = 7 * 86400;
  for (const char *text : {"3600",
                           "90s",
                           "30m",
                           "12h",
                           "2d",
                           "1w",
                           "0000000003600",
                           "0000000001w",
                           "604800",
                           "604801",
                           "8d",
                           "2w",
                           "1234567890",
                           "0",
                           "0s",
                           "00",
                           "10x",
                           "10M",
                           "10 h",
                           " 10",
                           "10 ",
                           "1h30m",
                           "",
                           "h",
                           "s",
                           "-5",
                           "+5",
                           "1.5h",
                           "0x10",
                           "ten",
                           "99999999999999999999",
                           "30500568904943w",
                           "18446744073709551615"}) {
    const std::optional<uint64_t> configured = parse_seconds(text);
    const NtaDuration nta = nta_duration(text);
    if (configured && *configured > 0 && *configured <= kWeek) {
      EXPECT_EQ(nta.error, "") << text;
      EXPECT_EQ(nta.seconds, *configured) << text;
    } else {
      EXPECT_NE(nta.error, "") << text;
      EXPECT_EQ(nta.seconds, 0u) << text;
    }
  }
  EXPECT_EQ(nta_duration("0000000003600").seconds, 3600u);
}

TEST(NtaDuration, SaysWhatIsWrong) {
  // A unit it does not know is an error, not seconds ("10x" was once 10 s).
  EXPECT_EQ(nta_duration("10x").error, "nta add: '10x' is not a duration (e.g. 3600, 90s, 30m, 12h, 2d, 1w)");
  EXPECT_EQ(nta_duration("10M").error, "nta add: '10M' is not a duration (e.g. 3600, 90s, 30m, 12h, 2d, 1w)")
      << "units are lower case";
  EXPECT_EQ(nta_duration("0").error,
            "nta add: a negative trust anchor for no time at all: give a duration of 1s or more");
  EXPECT_EQ(nta_duration("8d").error,
            "nta add: at most one week (RFC 7646 2: a negative trust anchor is temporary)");
}

}  // namespace
}  // namespace rsv
