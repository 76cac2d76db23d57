// The input format shared by the fuzz targets that take a conversation rather than
// one packet (upstream_reply_fuzz, validator_fuzz): a few header octets, then
// chunks, each a 16-bit big-endian length and that many octets. A length that runs
// past the end takes what is left, so every byte string is a valid input and a
// mutation that breaks one length still leaves the rest usable.
//
// The corpus generator (tests/fuzz/make_corpus.cc) writes inputs with append_chunk;
// the targets and their replay tests read them with ChunkReader.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rsv::fuzz {

class ChunkReader {
public:
  ChunkReader(const uint8_t *data, size_t size) : data_(data), size_(size) {}

  // The next header octet; 0 once the input is used up (inputs that are too short
  // still run, with every option off).
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

  // The next chunk, or nullopt at the end of the input.
  std::optional<std::string_view> chunk() {
    if (pos_ >= size_) return std::nullopt;
    size_t length = data_[pos_++];
    if (pos_ < size_) length = (length << 8) | data_[pos_++];
    else length = 0;
    length = std::min(length, size_ - pos_);
    std::string_view out(reinterpret_cast<const char *>(data_ + pos_), length);
    pos_ += length;
    return out;
  }

  bool at_end() const { return pos_ >= size_; }

private:
  const uint8_t *data_;
  size_t size_;
  size_t pos_ = 0;
};

// Appends one chunk; a chunk longer than 65535 octets is cut (nothing written by
// the generator comes near it).
inline void append_chunk(std::string &input, std::string_view chunk) {
  const size_t length = std::min<size_t>(chunk.size(), 0xFFFF);
  input.push_back(static_cast<char>(length >> 8));
  input.push_back(static_cast<char>(length & 0xFF));
  input.append(chunk.substr(0, length));
}

}  // namespace rsv::fuzz
