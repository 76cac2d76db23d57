// A certificate authority and a server certificate made at test time (OpenSSL),
// written as PEM files into a fresh temporary directory that is removed again.
#pragma once

#include <string>
#include <vector>

namespace rsv::test {

struct TestCertificates {
  // The leaf names `dns_name` (SAN DNS) and `ip` (SAN IP), signed by a fresh CA.
  explicit TestCertificates(const std::string &dns_name = "dns.test", const std::string &ip = "127.0.0.1");
  ~TestCertificates();
  TestCertificates(const TestCertificates &) = delete;
  TestCertificates &operator=(const TestCertificates &) = delete;

  std::string directory;
  std::string ca_file;           // the CA certificate (a bundle of one)
  std::string certificate_file;  // the server's certificate
  std::string key_file;          // the server's private key
  std::string leaf_pin;          // base64 SHA-256 of the server's SubjectPublicKeyInfo
  std::string ca_pin;
};

}  // namespace rsv::test
