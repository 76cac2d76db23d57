// RFC 8145 key tag signalling: the _ta query name and the edns-key-tag option.
#include "dnssec/trust_anchor_signal.h"

#include <gtest/gtest.h>

#include "dnssec/rrsig.h"
#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

Name name(const char *text) {
  return *Name::from_text(text);
}

TEST(TrustAnchorSignal, TheKeyTagQueryNameFollowsRfc8145Section5_1) {
  // RFC 8145 5.1's example: tags 20326 and 19036 as "_ta-4a5c-4f66".
  EXPECT_EQ(key_tag_query_name(Name::root(), {19036, 20326})->to_text(), "_ta-4a5c-4f66.");
  EXPECT_EQ(key_tag_query_name(Name::root(), {20326})->to_text(), "_ta-4f66.");
  // Four lowercase hex digits each, zero-padded.
  EXPECT_EQ(key_tag_query_name(Name::root(), {1, 0xabcd})->to_text(), "_ta-0001-abcd.");
  // For another anchored zone the label goes in front of its name.
  EXPECT_EQ(key_tag_query_name(name("example.com."), {38696})->to_text(), "_ta-9728.example.com.");
  EXPECT_EQ(key_tag_query_name(Name::root(), {}), std::nullopt);
  // 12 tags fill 63 octets; 13 do not fit in a label.
  std::vector<uint16_t> twelve;
  for (uint16_t t = 1; t <= 12; ++t) twelve.push_back(t);
  ASSERT_TRUE(key_tag_query_name(Name::root(), twelve));
  EXPECT_EQ(key_tag_query_name(Name::root(), twelve)->first_label().size(), 63u);
  twelve.push_back(13);
  EXPECT_EQ(key_tag_query_name(Name::root(), twelve), std::nullopt);
}

TEST(TrustAnchorSignal, TheEdnsKeyTagOptionIsCode14WithTagsInNetworkOrder) {
  EdnsOption option = edns_key_tag_option({19036, 20326});
  EXPECT_EQ(option.code, 14);
  EXPECT_EQ(option.data, std::string("\x4a\x5c\x4f\x66", 4));
}

TEST(TrustAnchorSignal, AnAnchorsKeyTagsComeFromItsDsAndDnskeyRecordsAscending) {
  auto records = parse_zone_text(
      ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16\n"
      ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
      ". IN DS 20326 8 1 0000000000000000000000000000000000000000\n",
      "test");
  TrustAnchor anchor{Name::root(), {}, {}};
  for (auto &entry : records) anchor.ds.push_back(entry.record);
  EXPECT_EQ(anchor_key_tags(anchor), (std::vector<uint16_t>{20326, 38696}));
  ResourceRecord key{Name::root(), rrtype::DNSKEY, rrclass::IN, 3600,
                     std::string("\x01\x01\x03\x0d"
                                 "abcd",
                                 8)};
  anchor.dnskey.push_back(key);
  std::vector<uint16_t> tags = anchor_key_tags(anchor);
  EXPECT_EQ(tags.size(), 3u);
  EXPECT_TRUE(std::is_sorted(tags.begin(), tags.end()));
  EXPECT_NE(std::find(tags.begin(), tags.end(), key_tag(key.rdata)), tags.end());
  std::vector<TrustAnchor> anchors = {TrustAnchor{name("example."), {}, {}}, anchor};
  EXPECT_EQ(anchor_for_zone(anchors, Name::root()), &anchors[1]);
  EXPECT_EQ(anchor_for_zone(anchors, name("EXAMPLE.")), &anchors[0]);
  EXPECT_EQ(anchor_for_zone(anchors, name("com.")), nullptr);
}

}  // namespace
}  // namespace rsv
