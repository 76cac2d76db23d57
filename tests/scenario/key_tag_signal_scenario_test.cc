// RFC 8145 4 through the engine: the DNSKEY query for an anchored zone carries the
// edns-key-tag option with the anchor's key tags; other queries carry none.
#include <gtest/gtest.h>

#include "dnssec/trust_anchor_signal.h"
#include "tests/scenario/signed_fake_server.h"

namespace rsv::testing {
namespace {

const SignedHierarchy &standard() {
  static const SignedHierarchy kStandard = SignedHierarchy::standard();
  return kStandard;
}

// The edns-key-tag options of every query sent for (name, type).
std::vector<std::optional<std::string>> key_tag_options(const SignedNetwork &h, const Name &name,
                                                        uint16_t type) {
  std::vector<std::optional<std::string>> out;
  for (const OutgoingQuery &q : h.net.sent) {
    if (q.question.qtype != type || !(q.question.name == name)) continue;
    ParseError error;
    auto message = parse_message(reinterpret_cast<const uint8_t *>(q.wire.data()), q.wire.size(), &error);
    std::optional<std::string> found;
    if (message && message->edns)
      for (const EdnsOption &option : message->edns->options)
        if (option.code == edns_option_extra::EDNS_KEY_TAG) found = option.data;
    out.push_back(found);
  }
  return out;
}

TEST(KeyTagSignal, TheAnchoredZonesDnskeyQueryCarriesTheAnchorsKeyTags) {
  SignedNetwork h(standard());
  ASSERT_EQ(h.resolve("www.nsec.test.", rrtype::A).security, Security::secure);
  const TrustAnchor *anchor = anchor_for_zone(h.anchors, Name::root());
  ASSERT_NE(anchor, nullptr);
  const std::string expected = edns_key_tag_option(anchor_key_tags(*anchor)).data;
  ASSERT_FALSE(expected.empty());
  auto root = key_tag_options(h, Name::root(), rrtype::DNSKEY);
  ASSERT_FALSE(root.empty());
  for (const auto &option : root) EXPECT_EQ(option, expected);
  // Not for the zones below (no anchor there), nor for other questions.
  auto below = key_tag_options(h, *Name::from_text("test."), rrtype::DNSKEY);
  ASSERT_FALSE(below.empty());
  for (const auto &option : below) EXPECT_EQ(option, std::nullopt);
  for (const auto &option : key_tag_options(h, *Name::from_text("www.nsec.test."), rrtype::A))
    EXPECT_EQ(option, std::nullopt);
}

TEST(KeyTagSignal, SwitchedOffNoQueryCarriesTheOption) {
  SignedNetwork h(standard());
  h.config.dnssec.trust_anchor_signaling = false;
  ASSERT_EQ(h.resolve("www.nsec.test.", rrtype::A).security, Security::secure);
  auto root = key_tag_options(h, Name::root(), rrtype::DNSKEY);
  ASSERT_FALSE(root.empty());
  for (const auto &option : root) EXPECT_EQ(option, std::nullopt);
}

}  // namespace
}  // namespace rsv::testing
