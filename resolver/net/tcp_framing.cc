#include "resolver/net/tcp_framing.h"

#include <algorithm>

namespace rsv {

TcpFrameReader::TcpFrameReader(size_t max_buffered) : max_buffered_(std::max(max_buffered, kMaxFrameSize)) {}

size_t TcpFrameReader::buffered() const {
  return borrowed_ ? borrowed_size_ : owned_.size() - owned_start_;
}

// Drops the octets already handed out from the front of owned_.
void TcpFrameReader::compact() {
  if (owned_start_ == 0) return;
  owned_.erase(owned_.begin(), owned_.begin() + static_cast<std::ptrdiff_t>(owned_start_));
  owned_start_ = 0;
}

void TcpFrameReader::push(const uint8_t *data, size_t size) {
  if (failed() || size == 0) return;
  if (buffered() + size > max_buffered_) {
    state_ = State::overflow;
    return;
  }
  keep_rest();
  if (owned_.empty()) {
    // Nothing waiting: read the caller's bytes where they are.
    borrowed_ = data;
    borrowed_size_ = size;
    return;
  }
  owned_.insert(owned_.end(), data, data + size);
}

void TcpFrameReader::keep_rest() {
  if (borrowed_ != nullptr) {
    const uint8_t *rest = borrowed_;
    size_t rest_size = borrowed_size_;
    borrowed_ = nullptr;
    borrowed_size_ = 0;
    owned_.assign(rest, rest + rest_size);
    owned_start_ = 0;
    return;
  }
  compact();
  // A connection that has gone quiet should not pin a large buffer.
  if (owned_.empty() && owned_.capacity() > kMaxFrameSize) owned_.shrink_to_fit();
}

std::span<const uint8_t> TcpFrameReader::next() {
  if (failed()) return {};
  const uint8_t *data = input();
  const size_t available = buffered();
  if (available < 2) return {};
  // RFC 1035 4.2.2: the length comes first, two octets in network order.
  const size_t length = (static_cast<size_t>(data[0]) << 8) | data[1];
  if (length < kMinMessageSize) {
    state_ = State::short_message;
    return {};
  }
  if (available - 2 < length) return {};  // the rest of the message is on its way
  std::span<const uint8_t> message(data + 2, length);
  if (borrowed_) {
    borrowed_ += 2 + length;
    borrowed_size_ -= 2 + length;
    if (borrowed_size_ == 0) borrowed_ = nullptr;
  } else {
    owned_start_ += 2 + length;  // compacted by the next push() or keep_rest()
  }
  return message;
}

}  // namespace rsv
