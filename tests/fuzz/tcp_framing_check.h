// The property every TCP framing fuzz input is checked against, shared by the
// libFuzzer target (tcp_framing_fuzz.cc) and the deterministic replay in
// tests/unit/tcp_framing_fuzz_corpus_test.cc:
//
//   however a byte stream is split into reads, and however many messages the caller
//   takes after each read (a connection at its in-flight cap takes none), the
//   TcpFrameReader hands out exactly the messages a plain reading of the whole stream
//   finds, in order, stops for good at the first length below a DNS header, and fails
//   when more than its bound would wait in it; it never reads a caller's buffer after
//   keep_rest() (each read is a fresh heap copy, freed right after, so AddressSanitizer
//   sees a late read).
//
// Input layout: octet 0 picks the bound (bit 7: the smallest, one whole frame; else
// room for two) and the number of control octets (bits 0-4); then the control octets;
// then the stream. Control octet i shapes read i (cycling): bits 0-2 the read size
// (1, 2, 3, 7, 13, 64, 512 or 65536 octets), bits 3-4 how many messages are taken
// right after it (0, 1, 2, or all), bit 5 whether all waiting messages are taken after
// keep_rest(), from the reader's own copy.
//
// Returns an empty string when the property holds, otherwise what broke.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "resolver/net/tcp_framing.h"

namespace rsv::fuzz {

// The plain reading: the whole stream at once, a message at a time.
class FramingModel {
public:
  explicit FramingModel(size_t max_buffered) : max_buffered_(max_buffered) {}
  void push(const uint8_t *data, size_t size) {
    if (failed_ || size == 0) return;
    if (stream_.size() - consumed_ + size > max_buffered_) {
      failed_ = true;
      return;
    }
    stream_.append(reinterpret_cast<const char *>(data), size);
  }
  // Whether a message is ready; sets `out`. Fails at a short length, as the reader must.
  bool next(std::string &out) {
    if (failed_ || stream_.size() - consumed_ < 2) return false;
    const auto *p = reinterpret_cast<const uint8_t *>(stream_.data()) + consumed_;
    const size_t length = (static_cast<size_t>(p[0]) << 8) | p[1];
    if (length < TcpFrameReader::kMinMessageSize) {
      failed_ = true;
      return false;
    }
    if (stream_.size() - consumed_ - 2 < length) return false;
    out.assign(stream_, consumed_ + 2, length);
    consumed_ += 2 + length;
    return true;
  }
  bool failed() const { return failed_; }
  size_t buffered() const { return failed_ ? 0 : stream_.size() - consumed_; }

private:
  size_t max_buffered_;
  std::string stream_;
  size_t consumed_ = 0;
  bool failed_ = false;
};

inline std::string check_tcp_framing(const uint8_t *data, size_t size) {
  if (size == 0) return "";
  static constexpr size_t kReadSizes[8] = {1, 2, 3, 7, 13, 64, 512, 65536};
  const size_t max_buffered =
      (data[0] & 0x80) ? TcpFrameReader::kMaxFrameSize : 2 * TcpFrameReader::kMaxFrameSize;
  const size_t control_size = std::min<size_t>(data[0] & 0x1F, size - 1);
  const std::span<const uint8_t> control(data + 1, control_size);
  const std::span<const uint8_t> stream(data + 1 + control_size, size - 1 - control_size);

  TcpFrameReader reader(max_buffered);
  FramingModel model(max_buffered);
  size_t messages = 0;
  std::string expected;
  // Takes up to `count` messages from both; they must agree on each.
  auto take = [&](size_t count) -> std::string {
    for (size_t i = 0; i < count; ++i) {
      std::span<const uint8_t> got = reader.next();
      const bool want = model.next(expected);
      if (got.empty() != !want) return want ? "a message was not handed out" : "a message out of nowhere";
      if (!want) return reader.failed() == model.failed() ? "" : "failed at the wrong place";
      if (got.size() < TcpFrameReader::kMinMessageSize || got.size() > TcpFrameReader::kMaxMessageSize)
        return "a message of an impossible size";
      if (std::string(got.begin(), got.end()) != expected)
        return "message " + std::to_string(messages) + " differs";
      ++messages;
    }
    return "";
  };
  constexpr size_t kAll = SIZE_MAX;

  size_t offset = 0;
  for (size_t step = 0; offset < stream.size(); ++step) {
    const uint8_t c = control.empty() ? 0xFF : control[step % control.size()];
    const size_t length = std::min(kReadSizes[c & 7], stream.size() - offset);
    {
      // The read buffer: a fresh exact-size heap copy, gone after keep_rest().
      auto read = std::make_unique<uint8_t[]>(length);
      std::copy(stream.begin() + offset, stream.begin() + offset + length, read.get());
      reader.push(read.get(), length);
      model.push(read.get(), length);
      if (reader.failed() != model.failed()) return "the bound was enforced at the wrong place";
      const size_t takes = (c >> 3) & 3;
      if (auto broken = take(takes == 3 ? kAll : takes); !broken.empty()) return broken;
      reader.keep_rest();
    }
    offset += length;
    if ((c & 0x20) != 0)
      if (auto broken = take(kAll); !broken.empty()) return broken;
    if (reader.failed() != model.failed()) return "failed at the wrong place";
    if (!reader.failed() && reader.buffered() != model.buffered()) return "buffered count is wrong";
    if (reader.buffered() > max_buffered) return "more buffered than the bound";
  }
  if (auto broken = take(kAll); !broken.empty()) return broken;
  if (reader.failed() != model.failed()) return "failed state differs at the end";
  return "";
}

}  // namespace rsv::fuzz
