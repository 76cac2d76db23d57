#include "resolver/iter/scrub.h"

#include <gtest/gtest.h>

#include "tests/unit/test_records.h"

namespace rsv {
namespace {

using testing::n;
using testing::records;

TEST(Scrub, RemovesOutOfBailiwickRecords) {
  Message m;
  m.answer = records("www.example. A 192.0.2.1\nwww.victim. A 6.6.6.6\n");
  auto report = scrub_response(m, ScrubPolicy{n("example."), n("www.example."), true, 100});
  ASSERT_EQ(m.answer.size(), 1u);
  EXPECT_EQ(m.answer[0].owner, n("www.example."));
  EXPECT_EQ(report.removed_out_of_zone, 1u);
}

TEST(Scrub, KeepsReferralAndInBailiwickGlueOnly) {
  Message m;
  m.authority = records("child.example. NS ns.child.example.\nchild.example. NS ns.other.\n");
  m.additional =
      records("ns.child.example. A 192.0.2.53\nns.other. A 6.6.6.6\nunrelated.example. A 192.0.2.99\n");
  scrub_response(m, ScrubPolicy{n("example."), n("www.child.example."), true, 100});
  EXPECT_EQ(m.authority.size(), 2u);
  ASSERT_EQ(m.additional.size(), 1u) << "glue outside the zone and addresses nobody named are dropped";
  EXPECT_EQ(m.additional[0].owner, n("ns.child.example."));
}

TEST(Scrub, KeepsOutOfZoneGlueWhenNotHardened) {
  Message m;
  m.authority = records("child.example. NS ns.other.\n");
  m.additional = records("ns.other. A 192.0.2.7\n");
  scrub_response(m, ScrubPolicy{n("example."), n("www.child.example."), false, 100});
  EXPECT_EQ(m.additional.size(), 1u);
}

TEST(Scrub, RemovesUnrequestedNs) {
  Message m;
  m.answer = records("www.example. A 192.0.2.1\n");
  m.authority = records("example. NS ns.example.\nsibling.example. NS ns.evil.example.\n");
  auto report = scrub_response(m, ScrubPolicy{n("example."), n("www.example."), true, 100});
  ASSERT_EQ(m.authority.size(), 1u);
  EXPECT_EQ(m.authority[0].owner, n("example."));
  EXPECT_EQ(report.removed_unrequested_ns, 1u);
}

TEST(Scrub, DropsOversizedRrsets) {
  Message m;
  std::string text;
  for (int i = 0; i < 101; ++i) text += "big.example. A 192.0.2." + std::to_string(i % 250) + "\n";
  m.answer = records(text + "small.example. A 192.0.2.1\n");
  auto report = scrub_response(m, ScrubPolicy{n("example."), n("big.example."), true, 100});
  EXPECT_EQ(m.answer.size(), 1u);
  EXPECT_GT(report.removed_oversized, 0u);
}

}  // namespace
}  // namespace rsv
