// DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): a byte stream in, whole DNS
// messages out.
//
// Every message on the stream is preceded by its length, two octets in network order.
// TcpFrameReader takes the bytes as they arrive, split anywhere, and hands out the
// complete messages one at a time; the caller decides how many it takes now (a
// connection at its in-flight cap leaves the rest for later, RFC 7766 6.2.1.1).
//
// Limits, enforced here so that every caller has them:
//  - a length shorter than a DNS header (RFC 1035 4.1.1: 12 octets; 0 included) means
//    the peer is not speaking DNS: the reader fails and hands out nothing more;
//  - at most max_buffered octets wait in the reader; a push beyond that fails it too.
//
// No copy in the common case: push() borrows the caller's bytes, and only what is left
// when the caller calls keep_rest() (a partial message, or messages not taken yet) is
// copied into the reader's own buffer. Pure: no I/O, no libuv. Used by TcpListener and
// fuzzed by tests/fuzz/tcp_framing_fuzz.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace rsv {

class TcpFrameReader {
public:
  static constexpr size_t kMinMessageSize = 12;     // RFC 1035 4.1.1: the header
  static constexpr size_t kMaxMessageSize = 65535;  // what a two-octet length can say
  static constexpr size_t kMaxFrameSize = 2 + kMaxMessageSize;

  enum class State {
    ok,
    short_message,  // a length below kMinMessageSize
    overflow,       // more than max_buffered octets waiting
  };

  // A max_buffered below one whole frame (kMaxFrameSize) is raised to that.
  explicit TcpFrameReader(size_t max_buffered);

  // Adds received bytes. They are borrowed: the caller keeps them valid and unchanged
  // until it calls keep_rest() or push() again. Does nothing once failed().
  void push(const uint8_t *data, size_t size);

  // The next complete message, without its length prefix; empty when more bytes are
  // needed or the stream has failed. The span stays valid until the next push() or
  // keep_rest().
  std::span<const uint8_t> next();

  // Copies whatever of the borrowed bytes was not handed out into the reader's own
  // buffer, so the caller may reuse its buffer.
  void keep_rest();

  State state() const { return state_; }
  bool failed() const { return state_ != State::ok; }
  // Octets received and not yet handed out (partial frames included).
  size_t buffered() const;

private:
  // The unconsumed input: borrowed bytes, or the tail of owned_ from owned_start_.
  const uint8_t *input() const { return borrowed_ ? borrowed_ : owned_.data() + owned_start_; }
  void compact();

  size_t max_buffered_;
  State state_ = State::ok;
  std::vector<uint8_t> owned_;
  size_t owned_start_ = 0;
  const uint8_t *borrowed_ = nullptr;  // when set, owned_ holds nothing unconsumed
  size_t borrowed_size_ = 0;
};

}  // namespace rsv
