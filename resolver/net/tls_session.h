// One TLS connection as an I/O-free state machine: OpenSSL over two memory BIOs.
//
// The caller owns the socket. Bytes received from the peer go in with feed();
// whatever TLS wants sent (handshake messages, records, alerts) comes out of
// take_output() and is written to the socket by the caller, after every call that
// may produce it (feed, read, write, shutdown). Application data is written with
// write() and read with read(). Nothing blocks and nothing touches a socket, so a
// client and a server session can be run against each other in memory (tests).
//
// States:  handshaking -> open -> closed (we shut down)
//                     \-> failed (handshake or record error, pin mismatch; error())
// A client may write() while handshaking: the data waits (at most
// kMaxPendingPlaintext octets) and is sent once the peer is authenticated, never
// before. For a client with pins (TlsContext::pins), the peer's certificate chain
// must contain a matching SubjectPublicKeyInfo (RFC 7469 2.4) before that happens.
//
// Bounds: feed() refuses more than kMaxBufferedInput unread octets (the caller
// stops reading from its socket well before). Output is bounded by what the caller
// writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "resolver/net/tls_context.h"

struct ssl_st;

namespace rsv {

class TlsSession {
public:
  enum class State { handshaking, open, closed, failed };
  static constexpr size_t kMaxBufferedInput = 256 * 1024;
  static constexpr size_t kMaxPendingPlaintext = 256 * 1024;

  // Server: `context` from TlsContext::server. Client: `server_name` goes in SNI
  // (unless it is an IP address) and, when the context verifies chains, must match
  // the certificate (RFC 6125). Throws TlsError when OpenSSL cannot allocate.
  TlsSession(std::shared_ptr<const TlsContext> context, std::string_view server_name = {});
  ~TlsSession();
  TlsSession(const TlsSession &) = delete;
  TlsSession &operator=(const TlsSession &) = delete;

  // Network side.
  // Adds received ciphertext and advances the handshake. False if it cannot be
  // taken (too much unread input, or the session has failed).
  bool feed(const uint8_t *data, size_t size);
  // Starts a client's handshake (the ClientHello is then in take_output()).
  void start();
  bool has_output() const;
  // Ciphertext to send, appended to `out`; returns how many octets.
  size_t take_output(std::string &out);

  // Application side.
  // Decrypted application data into `buffer`: >0 octets, 0 when nothing is ready
  // (see state() for closed or failed).
  size_t read(uint8_t *buffer, size_t capacity);
  // True if application data may be waiting inside the session (call read()).
  bool readable() const;
  // Queues plaintext; false (and nothing queued) once closed or failed, or when a
  // handshaking client already holds kMaxPendingPlaintext octets.
  bool write(const uint8_t *data, size_t size);
  bool write(std::string_view data) { return write(reinterpret_cast<const uint8_t *>(data.data()), data.size()); }
  // Sends close_notify (RFC 8446 6.1); the state becomes closed.
  void shutdown();

  State state() const { return state_; }
  bool is_open() const { return state_ == State::open; }
  // The peer sent close_notify: it sends nothing more, but may still read (RFC 8446 6.1).
  bool peer_closed() const { return peer_closed_; }
  const std::string &error() const { return error_; }
  // The protocol ALPN chose ("dot", "h2"), or empty.
  std::string alpn() const;

private:
  void advance_handshake();
  void fail(std::string reason);
  bool peer_matches_pins();
  void flush_pending();

  std::shared_ptr<const TlsContext> context_;
  ssl_st *ssl_ = nullptr;
  State state_ = State::handshaking;
  std::string error_;
  std::string pending_plaintext_;  // written before the handshake finished
  bool started_ = false;
  bool peer_closed_ = false;
};

const char *to_string(TlsSession::State state);

}  // namespace rsv
