// TcpFrameReader: RFC 1035 4.2.2 framing of a byte stream, split anywhere, with the
// minimum message size and the buffering bound enforced.
#include "resolver/net/tcp_framing.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rsv {
namespace {

std::string message(uint16_t id, size_t size) {
  std::string m(size, 'm');
  m[0] = static_cast<char>(id >> 8);
  m[1] = static_cast<char>(id & 0xFF);
  return m;
}

std::string frame(const std::string &m) {
  std::string f;
  f.push_back(static_cast<char>(m.size() >> 8));
  f.push_back(static_cast<char>(m.size() & 0xFF));
  return f + m;
}

const uint8_t *bytes(const std::string &s) {
  return reinterpret_cast<const uint8_t *>(s.data());
}
std::string text(std::span<const uint8_t> span) {
  return std::string(span.begin(), span.end());
}

constexpr size_t kRoomy = 4 * TcpFrameReader::kMaxFrameSize;

TEST(TcpFrameReader, HandsOutWholeMessagesFromOnePush) {
  TcpFrameReader reader(kRoomy);
  const std::string a = message(1, 12), b = message(2, 300);
  const std::string input = frame(a) + frame(b);
  reader.push(bytes(input), input.size());
  auto first = reader.next();
  EXPECT_EQ(text(first), a);
  EXPECT_EQ(first.data(), bytes(input) + 2) << "no copy: straight from the caller's bytes";
  EXPECT_EQ(text(reader.next()), b);
  EXPECT_TRUE(reader.next().empty());
  EXPECT_FALSE(reader.failed());
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(TcpFrameReader, ReassemblesAcrossEverySplit) {
  const std::string a = message(1, 40), b = message(2, 17);
  const std::string input = frame(a) + frame(b);
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    TcpFrameReader reader(kRoomy);
    std::vector<std::string> got;
    for (auto [from, to] : {std::pair<size_t, size_t>{0, cut}, {cut, input.size()}}) {
      // A fresh copy per push, destroyed after keep_rest(): nothing may point into it.
      std::string chunk = input.substr(from, to - from);
      reader.push(bytes(chunk), chunk.size());
      while (true) {
        auto m = reader.next();
        if (m.empty()) break;
        got.push_back(text(m));
      }
      reader.keep_rest();
      chunk.assign(chunk.size(), '\0');
    }
    EXPECT_EQ(got, (std::vector<std::string>{a, b})) << "cut at " << cut;
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(TcpFrameReader, MessagesLeftForLaterSurviveKeepRest) {
  TcpFrameReader reader(kRoomy);
  const std::string a = message(1, 20), b = message(2, 30), c = message(3, 25);
  std::string input = frame(a) + frame(b) + frame(c).substr(0, 10);
  reader.push(bytes(input), input.size());
  EXPECT_EQ(text(reader.next()), a);  // the caller takes one and stops (at its cap)
  reader.keep_rest();
  input.assign(input.size(), 'X');  // the caller's buffer is reused
  EXPECT_EQ(reader.buffered(), 2 + b.size() + 10);
  EXPECT_EQ(text(reader.next()), b);
  EXPECT_TRUE(reader.next().empty());
  const std::string rest = frame(c).substr(10);
  reader.push(bytes(rest), rest.size());
  EXPECT_EQ(text(reader.next()), c);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(TcpFrameReader, ALengthShorterThanAHeaderFailsTheStream) {
  for (uint16_t length : {0, 1, 11}) {
    TcpFrameReader reader(kRoomy);
    const std::string good = message(1, 12);
    std::string input = frame(good);
    input.push_back(0);
    input.push_back(static_cast<char>(length));
    input += std::string(length, 'z') + frame(message(2, 12));
    reader.push(bytes(input), input.size());
    EXPECT_EQ(text(reader.next()), good);
    EXPECT_TRUE(reader.next().empty());
    EXPECT_TRUE(reader.failed()) << length;
    EXPECT_EQ(reader.state(), TcpFrameReader::State::short_message);
    EXPECT_TRUE(reader.next().empty()) << "nothing after the bad length is believed";
  }
  // Twelve octets, a bare header, is the smallest message.
  TcpFrameReader reader(kRoomy);
  const std::string input = frame(message(1, 12));
  reader.push(bytes(input), input.size());
  EXPECT_EQ(reader.next().size(), 12u);
}

TEST(TcpFrameReader, TheLargestMessageIsAccepted) {
  TcpFrameReader reader(TcpFrameReader::kMaxFrameSize);
  const std::string big = message(7, TcpFrameReader::kMaxMessageSize);
  const std::string input = frame(big);
  reader.push(bytes(input), 1000);
  reader.keep_rest();
  reader.push(bytes(input) + 1000, input.size() - 1000);
  EXPECT_EQ(text(reader.next()), big);
}

TEST(TcpFrameReader, MoreThanTheBufferingBoundFailsTheStream) {
  TcpFrameReader reader(TcpFrameReader::kMaxFrameSize);
  std::string input;
  while (input.size() <= TcpFrameReader::kMaxFrameSize) input += frame(message(1, 1000));
  reader.push(bytes(input), input.size());
  EXPECT_EQ(reader.state(), TcpFrameReader::State::overflow);
  EXPECT_TRUE(reader.next().empty());
  // Taking messages as they come keeps a stream of any length within the bound.
  TcpFrameReader steady(TcpFrameReader::kMaxFrameSize);
  const std::string one = frame(message(2, 1000));
  for (int i = 0; i < 1000; ++i) {
    steady.push(bytes(one), one.size());
    ASSERT_EQ(steady.next().size(), 1000u);
    steady.keep_rest();
  }
  EXPECT_FALSE(steady.failed());
}

}  // namespace
}  // namespace rsv
