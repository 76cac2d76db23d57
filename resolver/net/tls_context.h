// TLS configuration shared by connections: an OpenSSL SSL_CTX behind RAII.
//
// Two kinds, built once and then only read (an SSL_CTX may be shared by the
// connections of every worker thread):
//  - a server context (DNS over TLS, RFC 7858; DNS over HTTPS, RFC 8484): the
//    certificate chain and private key from PEM files, checked to belong together,
//    and the ALPN protocols the listener speaks ("dot" or "h2"), chosen from the
//    client's offer (RFC 7301 3.2);
//  - a client context (forwarding over TLS or HTTPS): the peer is authenticated
//    against the system's certificate authorities, or a CA bundle file of our own
//    (Unbound's tls-cert-bundle), or SHA-256 pins of its SubjectPublicKeyInfo
//    (RFC 7858 4.2 out-of-band key-pinned privacy profile; RFC 7469 2.4 pin form).
//    Pins alone replace CA verification; pins with a bundle need both to pass.
// Both insist on TLS 1.2 or later (RFC 8310 9, RFC 7525 3.1.1).
//
// Only resolver/net/*.cc include OpenSSL's SSL headers; this header names the
// OpenSSL types by their struct tags.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct ssl_ctx_st;

namespace rsv {

class TlsError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct TlsClientSettings {
  std::string cert_bundle;                // PEM CA file; empty: the system's CAs
  std::vector<std::string> pins_sha256;   // base64 SHA-256 of SubjectPublicKeyInfo
  std::vector<std::string> alpn;          // offered in order, e.g. {"dot"} or {"h2"}
};

class TlsContext {
public:
  // Throws TlsError naming the file and OpenSSL's reason (start-up only).
  static std::shared_ptr<TlsContext> server(const std::string &certificate_file, const std::string &key_file,
                                            std::vector<std::string> alpn);
  static std::shared_ptr<TlsContext> client(const TlsClientSettings &settings);
  ~TlsContext();
  TlsContext(const TlsContext &) = delete;
  TlsContext &operator=(const TlsContext &) = delete;

  ssl_ctx_st *native() const { return context_; }
  bool is_server() const { return server_; }
  // Client: the pins a peer's chain must match (empty: none asked for).
  const std::vector<std::string> &pins() const { return pins_; }
  // Client: whether the chain and name are checked against certificate authorities.
  bool verifies_chain() const { return verify_chain_; }
  // Server: ALPN protocols in wire form (length-prefixed), in our order of preference.
  const std::string &alpn_wire() const { return alpn_wire_; }

private:
  TlsContext(ssl_ctx_st *context, bool server) : context_(context), server_(server) {}

  ssl_ctx_st *context_;
  bool server_;
  bool verify_chain_ = false;
  std::vector<std::string> pins_;
  std::string alpn_wire_;
};

// ALPN protocol names in the wire form of RFC 7301 3.1 (each preceded by its
// length). Names longer than 255 octets or empty are skipped.
std::string alpn_wire_form(const std::vector<std::string> &protocols);

// True if `text` is a base64 SHA-256 digest (44 characters, 32 octets).
bool valid_pin_sha256(const std::string &text);

// The OpenSSL error queue as text ("error:0A000086:SSL routines::certificate verify
// failed"), emptied; `fallback` when it holds nothing.
std::string take_openssl_errors(const std::string &fallback = "unknown TLS error");

}  // namespace rsv
