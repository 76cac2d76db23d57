#include "resolver/net/tls_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>

namespace rsv {

std::string take_openssl_errors(const std::string &fallback) {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? fallback : text;
}

std::string alpn_wire_form(const std::vector<std::string> &protocols) {
  std::string wire;
  for (const auto &name : protocols) {
    if (name.empty() || name.size() > 255) continue;
    wire.push_back(static_cast<char>(name.size()));
    wire += name;
  }
  return wire;
}

bool valid_pin_sha256(const std::string &text) {
  if (text.size() != 44 || text[43] != '=' || text[42] == '=') return false;
  unsigned char out[33];
  const int decoded =
      EVP_DecodeBlock(out, reinterpret_cast<const unsigned char *>(text.data()), static_cast<int>(text.size()));
  // EVP_DecodeBlock counts the padding as output: 44 characters give 33 octets.
  return decoded == 33;
}

namespace {

// RFC 7301 3.2: the server picks one of the client's protocols that it speaks. A
// client that offers none of ours: for DoT (ALPN optional, RFC 7858 3.2) carry on
// without; for DoH (HTTP/2 only here) refuse with no_application_protocol.
int select_alpn(SSL *, const unsigned char **out, unsigned char *out_length, const unsigned char *offered,
                unsigned int offered_length, void *arg) {
  auto *context = static_cast<TlsContext *>(arg);
  const std::string &ours = context->alpn_wire();
  unsigned char *chosen = nullptr;
  unsigned char chosen_length = 0;
  if (SSL_select_next_proto(&chosen, &chosen_length, reinterpret_cast<const unsigned char *>(ours.data()),
                            static_cast<unsigned>(ours.size()), offered, offered_length) == OPENSSL_NPN_NEGOTIATED) {
    *out = chosen;
    *out_length = chosen_length;
    return SSL_TLSEXT_ERR_OK;
  }
  const bool http2 = ours.size() >= 3 && ours.compare(0, 3, "\x02h2") == 0;
  return http2 ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
}

SSL_CTX *new_context(const SSL_METHOD *method) {
  SSL_CTX *context = SSL_CTX_new(method);
  if (context == nullptr) throw TlsError("cannot create a TLS context: " + take_openssl_errors());
  // RFC 8310 9 / RFC 7525 3.1.1: nothing older than TLS 1.2.
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Writes go to a memory BIO and are always whole; moving buffers are ours to manage.
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
  return context;
}

}  // namespace

TlsContext::~TlsContext() { SSL_CTX_free(context_); }

std::shared_ptr<TlsContext> TlsContext::server(const std::string &certificate_file, const std::string &key_file,
                                               std::vector<std::string> alpn) {
  ERR_clear_error();
  std::shared_ptr<TlsContext> context(new TlsContext(new_context(TLS_server_method()), true));
  SSL_CTX *native = context->context_;
  if (SSL_CTX_use_certificate_chain_file(native, certificate_file.c_str()) != 1)
    throw TlsError(certificate_file + ": cannot load the certificate chain: " + take_openssl_errors());
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    throw TlsError(key_file + ": cannot load the private key: " + take_openssl_errors());
  if (SSL_CTX_check_private_key(native) != 1)
    throw TlsError(key_file + ": the private key does not match the certificate in " + certificate_file);
  // Stateless tickets let clients resume without a server-side cache.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  context->alpn_wire_ = alpn_wire_form(alpn);
  if (!context->alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(native, select_alpn, context.get());
  return context;
}

std::shared_ptr<TlsContext> TlsContext::client(const TlsClientSettings &settings) {
  ERR_clear_error();
  std::shared_ptr<TlsContext> context(new TlsContext(new_context(TLS_client_method()), false));
  SSL_CTX *native = context->context_;
  for (const auto &pin : settings.pins_sha256)
    if (!valid_pin_sha256(pin)) throw TlsError("'" + pin + "' is not a base64 SHA-256 digest");
  context->pins_ = settings.pins_sha256;
  // Pins alone are the trust anchor (RFC 7858 4.2); otherwise certificate authorities.
  context->verify_chain_ = !settings.cert_bundle.empty() || settings.pins_sha256.empty();
  if (!settings.cert_bundle.empty()) {
    if (SSL_CTX_load_verify_locations(native, settings.cert_bundle.c_str(), nullptr) != 1)
      throw TlsError(settings.cert_bundle + ": cannot load the CA certificates: " + take_openssl_errors());
  } else if (context->verify_chain_) {
    // Loaded now, not at the first handshake: the daemon may chroot after start-up.
    SSL_CTX_load_verify_locations(native, X509_get_default_cert_file(), nullptr);
    SSL_CTX_set_default_verify_paths(native);
    ERR_clear_error();
  }
  SSL_CTX_set_verify(native, context->verify_chain_ ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  const std::string alpn = alpn_wire_form(settings.alpn);
  if (!alpn.empty() &&
      SSL_CTX_set_alpn_protos(native, reinterpret_cast<const unsigned char *>(alpn.data()),
                              static_cast<unsigned>(alpn.size())) != 0)
    throw TlsError("cannot set ALPN: " + take_openssl_errors());
  return context;
}

}  // namespace rsv
