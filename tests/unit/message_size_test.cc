// encode_message keeping a reply within the client's buffer: the Extended DNS Errors
// give way (their text first, then the errors, RFC 8914 3) before any record does,
// and the OPT record is never left out (RFC 6891 7).
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "resolver/wire/message.h"

namespace rsv {
namespace {

std::optional<Message> parse(const std::string &wire) {
  return parse_message(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), nullptr);
}

Name name(std::string_view text) {
  return *Name::from_text(text);
}

// A SERVFAIL with an Extended DNS Error whose extra text is `text`, for the size tests.
Message failure_with_error(const std::string &text) {
  Message m;
  m.id = 9;
  m.qr = m.rd = m.ra = true;
  m.rcode = rcode::SERVFAIL;
  m.questions.push_back({name("www.bogus.example"), rrtype::A, rrclass::IN});
  m.edns = Edns{};
  m.add_extended_error({ede::DNSSEC_BOGUS, text});
  return m;
}

TEST(EncodeMessage, ShortensALongExtendedErrorTextToFit) {
  const std::string text(1000, 'x');
  const Message m = failure_with_error(text);
  auto encoded = encode_message(m, 512);
  EXPECT_EQ(encoded.wire.size(), 512u) << "the text is cut to exactly what fits";
  EXPECT_FALSE(encoded.truncated) << "an error's text never costs the client a retry over TCP";
  auto back = parse(encoded.wire);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->tc);
  ASSERT_TRUE(back->edns) << "RFC 6891 7: the OPT record is never dropped";
  auto errors = back->extended_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].info_code, ede::DNSSEC_BOGUS);
  EXPECT_FALSE(errors[0].extra_text.empty());
  EXPECT_EQ(errors[0].extra_text, text.substr(0, errors[0].extra_text.size()));
  // A text that fits is left whole.
  auto whole = parse(encode_message(failure_with_error("short"), 512).wire);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->extended_errors().at(0).extra_text, "short");
}

TEST(EncodeMessage, CutsExtendedErrorTextOnlyBetweenUtf8Characters) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "\xE2\x82\xAC";  // U+20AC, three octets each
  auto back = parse(encode_message(failure_with_error(text), 512).wire);
  ASSERT_TRUE(back);
  auto errors = back->extended_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_FALSE(errors[0].extra_text.empty());
  EXPECT_EQ(errors[0].extra_text.size() % 3, 0u) << "a character was split";
  EXPECT_EQ(errors[0].extra_text, text.substr(0, errors[0].extra_text.size()));
}

TEST(EncodeMessage, AnswerRecordsComeBeforeTheExtendedErrorText) {
  // The answer fits in 512 octets only without the error's text: the text goes, the
  // answer stays, and TC stays clear.
  Message m = failure_with_error(std::string(300, 't'));
  m.rcode = rcode::NOERROR;
  for (int i = 0; i < 3; ++i)
    m.answer.push_back({name("www.bogus.example"), rrtype::TXT, rrclass::IN, 60,
                        std::string(1, char(99)) + std::string(99, char('a' + i))});
  auto encoded = encode_message(m, 512);
  EXPECT_FALSE(encoded.truncated);
  EXPECT_LE(encoded.wire.size(), 512u);
  auto back = parse(encoded.wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->answer.size(), 3u);
  ASSERT_TRUE(back->edns);
  auto errors = back->extended_errors();
  ASSERT_EQ(errors.size(), 1u) << "the error itself still fits, with less text";
  EXPECT_LT(errors[0].extra_text.size(), 300u);
}

TEST(EncodeMessage, DropsExtendedErrorsThatDoNotFitButKeepsTheOpt) {
  // A truncated reply leaves room for every error with its text cut to nothing; a
  // reply whose answer leaves less than an option header drops the errors.
  Message m = failure_with_error(std::string(2000, 'e'));
  m.add_extended_error({ede::NO_REACHABLE_AUTHORITY, std::string(2000, 'n')});
  m.rcode = rcode::NOERROR;
  // 12 header + 23 question + 11 OPT = 46; the answer fills all but 5 octets, less
  // than an error needs (4 octets of option header, 2 of info code).
  const size_t rdata = 512 - 46 - 5 - (2 + 10);
  m.answer.push_back({name("www.bogus.example"), 65280, rrclass::IN, 60, std::string(rdata, 'r')});
  auto encoded = encode_message(m, 512);
  EXPECT_FALSE(encoded.truncated) << "no record was left out";
  EXPECT_EQ(encoded.wire.size(), 507u);
  auto back = parse(encoded.wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->answer.size(), 1u);
  EXPECT_TRUE(back->tc) << "RFC 8914 3: dropping an error sets TC, so the client can ask over TCP";
  ASSERT_TRUE(back->edns) << "RFC 6891 7: an EDNS reply keeps its OPT record";
  EXPECT_TRUE(back->edns->options.empty());

  // Without the answer, both errors fit with their texts shortened to share the room.
  m.answer.clear();
  auto bare = encode_message(m, 512);
  EXPECT_EQ(bare.wire.size(), 512u);
  EXPECT_FALSE(parse(bare.wire)->tc) << "shortened texts alone do not set TC";
  auto errors = parse(bare.wire)->extended_errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].extra_text, std::string(2000, 'e').substr(0, errors[0].extra_text.size()));
  EXPECT_TRUE(errors[1].extra_text.empty()) << "the last error's text goes first";
}

TEST(EncodeMessage, ExtendedErrorTextIsCutToTheTcpMaximumToo) {
  Message m = failure_with_error(std::string(65000, 'x'));
  m.add_extended_error({ede::OTHER, std::string(65000, 'y')});
  auto encoded = encode_message(m, 65535);
  EXPECT_LE(encoded.wire.size(), 65535u);
  auto back = parse(encoded.wire);
  ASSERT_TRUE(back);
  auto errors = back->extended_errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].extra_text.size(), 65000u);
}

}  // namespace
}  // namespace rsv
