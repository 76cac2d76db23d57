#include "tests/support/test_certificates.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>

namespace rsv::test {

namespace {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;

Key make_key() {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  if (key == nullptr) throw std::runtime_error("EVP_EC_gen failed");
  return Key(key, EVP_PKEY_free);
}

void add_extension(X509 *certificate, X509 *issuer, int nid, const char *value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION *extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) throw std::runtime_error("bad extension");
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

Certificate make_certificate(EVP_PKEY *key, const std::string &common_name, X509 *issuer, EVP_PKEY *issuer_key,
                             long serial) {
  Certificate certificate(X509_new(), X509_free);
  X509_set_version(certificate.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 2 * 86400);
  X509_set_pubkey(certificate.get(), key);
  X509_NAME *name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>(common_name.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(certificate.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509 *signer = issuer ? issuer : certificate.get();
  if (issuer == nullptr) {
    add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(certificate.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  X509_sign(certificate.get(), issuer_key ? issuer_key : key, EVP_sha256());
  return certificate;
}

void write_file(const std::string &path, const std::function<int(FILE *)> &write) {
  FILE *file = std::fopen(path.c_str(), "w");
  if (file == nullptr || write(file) != 1) throw std::runtime_error("cannot write " + path);
  std::fclose(file);
}

std::string pin_of(X509 *certificate) {
  unsigned char *der = nullptr;
  int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &der);
  unsigned char digest[32];
  unsigned int digest_length = 0;
  EVP_Digest(der, static_cast<size_t>(length), digest, &digest_length, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  unsigned char text[64];
  int text_length = EVP_EncodeBlock(text, digest, static_cast<int>(digest_length));
  return std::string(reinterpret_cast<char *>(text), static_cast<size_t>(text_length));
}

}  // namespace

TestCertificates::TestCertificates(const std::string &dns_name, const std::string &ip) {
  char pattern[] = "/tmp/resolverd-certs-XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  directory = pattern;
  ca_file = directory + "/ca.pem";
  certificate_file = directory + "/server.pem";
  key_file = directory + "/server.key";

  Key ca_key = make_key();
  Certificate ca = make_certificate(ca_key.get(), "resolverd test CA", nullptr, nullptr, 1);
  Key server_key = make_key();
  Certificate server = make_certificate(server_key.get(), dns_name, ca.get(), ca_key.get(), 2);
  // Extensions before signing: sign again after adding them.
  add_extension(server.get(), ca.get(), NID_subject_alt_name, ("DNS:" + dns_name + ",IP:" + ip).c_str());
  add_extension(server.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  X509_sign(server.get(), ca_key.get(), EVP_sha256());

  write_file(ca_file, [&](FILE *f) { return PEM_write_X509(f, ca.get()); });
  write_file(certificate_file, [&](FILE *f) { return PEM_write_X509(f, server.get()); });
  write_file(key_file, [&](FILE *f) {
    return PEM_write_PrivateKey(f, server_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  leaf_pin = pin_of(server.get());
  ca_pin = pin_of(ca.get());
}

TestCertificates::~TestCertificates() {
  std::error_code ignored;
  std::filesystem::remove_all(directory, ignored);
}

}  // namespace rsv::test
