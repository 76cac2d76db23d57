// EDNS Padding (RFC 7830) of replies to 468-octet blocks (RFC 8467 4.1).
#include "resolver/wire/edns_padding.h"

#include <gtest/gtest.h>

#include "resolver/wire/message.h"
#include "resolver/wire/record_walk.h"

namespace rsv {
namespace {

Question question() { return Question{*Name::from_text("www.example."), rrtype::A, rrclass::IN}; }

std::string query(std::vector<EdnsOption> options, bool edns = true) {
  std::optional<Edns> e;
  if (edns) {
    e.emplace();
    e->options = std::move(options);
  }
  return encode_query(0x1234, question(), true, e, false);
}

const uint8_t *bytes(const std::string &s) { return reinterpret_cast<const uint8_t *>(s.data()); }

TEST(EdnsPadding, DetectsThePaddingOptionOfAQuery) {
  EXPECT_TRUE(has_padding_option(bytes(query({{edns_option::PADDING, std::string(20, '\0')}})), query({{edns_option::PADDING, std::string(20, '\0')}}).size()));
  const std::string cookie_only = query({{edns_option::COOKIE, std::string(8, 'c')}});
  EXPECT_FALSE(has_padding_option(bytes(cookie_only), cookie_only.size()));
  const std::string plain = query({}, false);
  EXPECT_FALSE(has_padding_option(bytes(plain), plain.size()));
  EXPECT_FALSE(has_padding_option(nullptr, 0));
  EXPECT_FALSE(has_padding_option(bytes(plain), 5));
}

TEST(EdnsPadding, PadsToTheBlockAndKeepsOtherOptions) {
  const std::string wire = query({{edns_option::COOKIE, std::string(8, 'c')}});
  const std::string padded = padded_message(wire);
  ASSERT_EQ(padded.size(), kResponsePaddingBlock);
  auto message = parse_message(bytes(padded), padded.size(), nullptr);
  ASSERT_TRUE(message);
  ASSERT_TRUE(message->edns);
  ASSERT_EQ(message->edns->options.size(), 2u);
  EXPECT_EQ(message->edns->options[0].code, edns_option::COOKIE);
  EXPECT_EQ(message->edns->options[1].code, edns_option::PADDING);
  EXPECT_EQ(message->edns->options[1].data, std::string(message->edns->options[1].data.size(), '\0'));
  EXPECT_TRUE(has_padding_option(bytes(padded), padded.size()));
}

TEST(EdnsPadding, ReplacesExistingPadding) {
  const std::string wire = query({{edns_option::PADDING, std::string(500, '\0')}});
  ASSERT_GT(wire.size(), kResponsePaddingBlock);
  const std::string padded = padded_message(wire);
  EXPECT_EQ(padded.size(), kResponsePaddingBlock);  // the old padding is gone
  auto message = parse_message(bytes(padded), padded.size(), nullptr);
  ASSERT_TRUE(message && message->edns);
  ASSERT_EQ(message->edns->options.size(), 1u);
  EXPECT_EQ(message->edns->options[0].code, edns_option::PADDING);
}

TEST(EdnsPadding, ReachesTheNextBlockWhenNeeded) {
  const std::string wire = query({{65001, std::string(500, 'x')}});
  ASSERT_GT(wire.size(), kResponsePaddingBlock);
  const std::string padded = padded_message(wire);
  EXPECT_EQ(padded.size(), 2 * kResponsePaddingBlock);
  auto message = parse_message(bytes(padded), padded.size(), nullptr);
  ASSERT_TRUE(message && message->edns);
  EXPECT_EQ(message->edns->options.size(), 2u);
  // Already a multiple of the block: padded once more to exactly the same size.
  EXPECT_EQ(padded_message(padded).size(), padded.size());
}

TEST(EdnsPadding, LeavesMessagesWithoutOptOrRoomAlone) {
  const std::string plain = query({}, false);
  EXPECT_EQ(padded_message(plain), plain);
  std::string wire = query({});
  std::string buffer = wire;
  buffer.resize(wire.size() + 10);
  EXPECT_EQ(pad_message(reinterpret_cast<uint8_t *>(buffer.data()), wire.size(), buffer.size()), wire.size());
  EXPECT_EQ(buffer.substr(0, wire.size()), wire);
}

TEST(EdnsPadding, MalformedMessagesAreLeftUnchanged) {
  std::string wire = query({{edns_option::COOKIE, std::string(8, 'c')}});
  // The OPT RDLENGTH claims more than there is.
  std::string truncated = wire.substr(0, wire.size() - 3);
  EXPECT_EQ(padded_message(truncated), truncated);
  // An option whose length runs past the OPT RDATA.
  std::string bad_option = wire;
  bad_option[bad_option.size() - 9] = 0x7F;
  EXPECT_EQ(padded_message(bad_option), bad_option);
  // Arbitrary bytes.
  std::string junk(40, '\xC0');
  EXPECT_EQ(padded_message(junk), junk);
}

TEST(RecordWalk, SkipsCompressedNamesAndRejectsLoopsOfLabels) {
  const uint8_t pointer[] = {0xC0, 0x0C};
  EXPECT_EQ(skip_wire_name(pointer, 2, 0), 2u);
  const uint8_t cut[] = {0xC0};
  EXPECT_EQ(skip_wire_name(cut, 1, 0), 0u);
  const uint8_t reserved[] = {0x40, 0x00};
  EXPECT_EQ(skip_wire_name(reserved, 2, 0), 0u);
  const uint8_t name[] = {3, 'w', 'w', 'w', 0};
  EXPECT_EQ(skip_wire_name(name, 5, 0), 5u);
  EXPECT_EQ(skip_wire_name(name, 4, 0), 0u);
}

}  // namespace
}  // namespace rsv
