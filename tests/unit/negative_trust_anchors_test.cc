// Negative trust anchors (dnssec/negative_trust_anchors.h): configured ones never
// lapse; run-time ones stop covering at their time but stay, for the daemon to take
// and flush what was judged under them, and every change is counted.
#include "dnssec/negative_trust_anchors.h"

#include <gtest/gtest.h>

namespace rsv {
namespace {

Name n(const char *text) {
  return *Name::from_text(text);
}

std::vector<std::string> names(const std::vector<NegativeTrustAnchors::Entry> &entries) {
  std::vector<std::string> out;
  for (const auto &e : entries) out.push_back(e.name.to_text());
  return out;
}

TEST(NegativeTrustAnchors, ConfiguredAndRunTimeAnchorsCoverTheirSubtrees) {
  NegativeTrustAnchors anchors;
  anchors.set_configured({n("broken.example.")});
  anchors.add(n("lapsing.example."), 1000);
  EXPECT_TRUE(anchors.covers(n("www.broken.example."), 5000)) << "configured: never lapses";
  EXPECT_TRUE(anchors.covers(n("lapsing.example."), 999));
  EXPECT_FALSE(anchors.covers(n("lapsing.example."), 1000)) << "lapsed at its time, by itself";
  EXPECT_FALSE(anchors.covers(n("example."), 0)) << "not above it";
  EXPECT_EQ(names(anchors.list(999)), (std::vector<std::string>{"broken.example.", "lapsing.example."}));
  EXPECT_EQ(names(anchors.list(1000)), (std::vector<std::string>{"broken.example."}));
}

TEST(NegativeTrustAnchors, ALapsedAnchorStaysUntilTakenSoItsAnswersCanBeFlushed) {
  NegativeTrustAnchors anchors;
  anchors.set_configured({n("configured.example.")});
  anchors.add(n("B.example."), 2000);
  anchors.add(n("a.example."), 1000);
  EXPECT_EQ(anchors.next_lapse(), 1000);
  const uint64_t before = anchors.changes();
  EXPECT_TRUE(anchors.take_lapsed(999).empty());
  EXPECT_EQ(anchors.changes(), before) << "nothing taken, nothing changed";
  anchors.list(1500);  // listing takes nothing
  ASSERT_EQ(anchors.runtime_names().size(), 2u) << "lapsed, but its answers may still be cached";
  EXPECT_EQ(anchors.runtime_names()[0].to_text(), "a.example.");
  EXPECT_EQ(anchors.runtime_names()[1].to_text(), "b.example.") << "lower case, sorted";
  const std::vector<Name> lapsed = anchors.take_lapsed(1500);
  ASSERT_EQ(lapsed.size(), 1u);
  EXPECT_EQ(lapsed[0].to_text(), "a.example.");
  EXPECT_EQ(anchors.changes(), before + 1);
  EXPECT_EQ(anchors.next_lapse(), 2000);
  ASSERT_EQ(anchors.runtime_names().size(), 1u);
  EXPECT_EQ(anchors.take_lapsed(2000).size(), 1u);
  EXPECT_EQ(anchors.next_lapse(), std::nullopt) << "configured anchors never lapse";
  EXPECT_TRUE(anchors.runtime_names().empty());
  EXPECT_TRUE(anchors.covers(n("configured.example."), 1 << 30));
}

TEST(NegativeTrustAnchors, EveryRunTimeChangeIsCounted) {
  NegativeTrustAnchors anchors;
  EXPECT_EQ(anchors.changes(), 0u);
  anchors.add(n("a.example."), 1000);
  EXPECT_EQ(anchors.changes(), 1u);
  anchors.add(n("a.example."), 3000);  // renewed
  EXPECT_EQ(anchors.changes(), 2u);
  EXPECT_EQ(anchors.next_lapse(), 3000);
  EXPECT_FALSE(anchors.remove(n("b.example.")));
  EXPECT_EQ(anchors.changes(), 2u);
  EXPECT_TRUE(anchors.remove(n("a.example.")));
  EXPECT_EQ(anchors.changes(), 3u);
  anchors.set_configured({n("c.example.")});
  EXPECT_FALSE(anchors.remove(n("c.example."))) << "those of the configuration go with a reload";
}

}  // namespace
}  // namespace rsv
