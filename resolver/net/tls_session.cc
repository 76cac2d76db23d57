#include "resolver/net/tls_session.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>

namespace rsv {

namespace {

bool is_ip_literal(const std::string &text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// RFC 7469 2.4: base64(SHA-256(DER SubjectPublicKeyInfo)).
std::string spki_pin(X509 *certificate) {
  X509_PUBKEY *key = X509_get_X509_PUBKEY(certificate);
  if (key == nullptr) return {};
  unsigned char *der = nullptr;
  const int length = i2d_X509_PUBKEY(key, &der);
  if (length <= 0) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  const bool hashed = EVP_Digest(der, static_cast<size_t>(length), digest, &digest_length, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  if (!hashed) return {};
  unsigned char text[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int text_length = EVP_EncodeBlock(text, digest, static_cast<int>(digest_length));
  return std::string(reinterpret_cast<const char *>(text), static_cast<size_t>(text_length));
}

}  // namespace

const char *to_string(TlsSession::State state) {
  switch (state) {
    case TlsSession::State::handshaking: return "handshaking";
    case TlsSession::State::open: return "open";
    case TlsSession::State::closed: return "closed";
    case TlsSession::State::failed: return "failed";
  }
  return "failed";
}

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, std::string_view server_name)
    : context_(std::move(context)) {
  ERR_clear_error();
  ssl_ = SSL_new(context_->native());
  BIO *input = BIO_new(BIO_s_mem());
  BIO *output = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || input == nullptr || output == nullptr) {
    BIO_free(input);
    BIO_free(output);
    SSL_free(ssl_);
    throw TlsError("cannot create a TLS session: " + take_openssl_errors());
  }
  // An empty input BIO means "wait for more", not end of stream.
  BIO_set_mem_eof_return(input, -1);
  SSL_set_bio(ssl_, input, output);  // the SSL owns both from here
  if (context_->is_server()) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  const std::string name(server_name);
  if (!name.empty() && !is_ip_literal(name)) SSL_set_tlsext_host_name(ssl_, name.c_str());  // RFC 6066 3
  if (context_->verifies_chain() && !name.empty()) {
    // RFC 8310 8.1 / RFC 6125: the certificate must name the server we meant.
    if (is_ip_literal(name))
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
    else
      SSL_set1_host(ssl_, name.c_str());
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::fail(std::string reason) {
  state_ = State::failed;
  error_ = std::move(reason);
  ERR_clear_error();
}

void TlsSession::start() {
  if (started_ || context_->is_server()) return;
  started_ = true;
  advance_handshake();
}

bool TlsSession::feed(const uint8_t *data, size_t size) {
  if (state_ == State::failed) return false;
  if (size == 0) return true;
  BIO *input = SSL_get_rbio(ssl_);
  if (BIO_ctrl_pending(input) + size > kMaxBufferedInput) {
    fail("more unread input than " + std::to_string(kMaxBufferedInput) + " octets");
    return false;
  }
  BIO_write(input, data, static_cast<int>(size));
  if (state_ == State::handshaking) advance_handshake();
  return state_ != State::failed;
}

void TlsSession::advance_handshake() {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    if (!context_->pins().empty() && !peer_matches_pins()) {
      fail("no certificate of the peer matches a configured SPKI pin");
      return;
    }
    state_ = State::open;
    flush_pending();
    return;
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    fail(std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify));
    return;
  }
  fail("handshake failed: " + take_openssl_errors("the peer closed or sent something that is not TLS"));
}

bool TlsSession::peer_matches_pins() {
  const auto &pins = context_->pins();
  auto pinned = [&](X509 *certificate) {
    const std::string pin = certificate ? spki_pin(certificate) : std::string();
    return !pin.empty() && std::find(pins.begin(), pins.end(), pin) != pins.end();
  };
  if (!context_->verifies_chain()) {
    // Pins alone: the handshake proved the peer holds the leaf's key and nothing
    // else. Any other certificate it sent is public and proves nothing: a forger
    // appends the real server's certificate to its own.
    return pinned(SSL_get0_peer_certificate(ssl_));
  }
  // RFC 7469 2.6: a pin matches a certificate of the chain that was validated, not
  // of whatever the peer sent beside it.
  STACK_OF(X509) *chain = SSL_get0_verified_chain(ssl_);
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i)
    if (pinned(sk_X509_value(chain, i))) return true;
  return false;
}

void TlsSession::flush_pending() {
  if (pending_plaintext_.empty()) return;
  std::string pending = std::move(pending_plaintext_);
  pending_plaintext_.clear();
  write(reinterpret_cast<const uint8_t *>(pending.data()), pending.size());
}

bool TlsSession::has_output() const { return BIO_ctrl_pending(SSL_get_wbio(ssl_)) > 0; }

size_t TlsSession::take_output(std::string &out) {
  BIO *output = SSL_get_wbio(ssl_);
  const size_t pending = BIO_ctrl_pending(output);
  if (pending == 0) return 0;
  const size_t start = out.size();
  out.resize(start + pending);
  const int got = BIO_read(output, out.data() + start, static_cast<int>(pending));
  out.resize(start + static_cast<size_t>(std::max(got, 0)));
  return out.size() - start;
}

size_t TlsSession::read(uint8_t *buffer, size_t capacity) {
  if (state_ != State::open || peer_closed_ || capacity == 0) return 0;
  ERR_clear_error();
  size_t got = 0;
  if (SSL_read_ex(ssl_, buffer, capacity, &got) == 1) return got;
  switch (SSL_get_error(ssl_, 0)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return 0;
    case SSL_ERROR_ZERO_RETURN:  // close_notify: the peer sends nothing more (we still may)
      peer_closed_ = true;
      return 0;
    default:
      fail("record error: " + take_openssl_errors());
      return 0;
  }
}

bool TlsSession::readable() const {
  return state_ == State::open && !peer_closed_ && (SSL_pending(ssl_) > 0 || BIO_ctrl_pending(SSL_get_rbio(ssl_)) > 0);
}

bool TlsSession::write(const uint8_t *data, size_t size) {
  if (state_ == State::closed || state_ == State::failed) return false;
  if (size == 0) return true;
  if (state_ == State::handshaking) {
    if (pending_plaintext_.size() + size > kMaxPendingPlaintext) return false;
    pending_plaintext_.append(reinterpret_cast<const char *>(data), size);
    return true;
  }
  ERR_clear_error();
  size_t written = 0;
  if (SSL_write_ex(ssl_, data, size, &written) == 1 && written == size) return true;
  fail("write failed: " + take_openssl_errors());
  return false;
}

void TlsSession::shutdown() {
  if (state_ == State::open) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // queues close_notify; we do not wait for the peer's
    ERR_clear_error();
  }
  if (state_ != State::failed) state_ = State::closed;
}

std::string TlsSession::alpn() const {
  const unsigned char *name = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &name, &length);
  return name ? std::string(reinterpret_cast<const char *>(name), length) : std::string();
}

}  // namespace rsv
