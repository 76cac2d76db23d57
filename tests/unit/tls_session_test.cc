// TlsSession against an in-memory peer: a client and a server session whose
// output is handed to each other, no sockets. Certificates are made at test time.
#include "resolver/net/tls_session.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/test_certificates.h"

namespace rsv {
namespace {

struct Pair {
  std::shared_ptr<TlsContext> server_context;
  std::shared_ptr<TlsContext> client_context;
  std::unique_ptr<TlsSession> server;
  std::unique_ptr<TlsSession> client;

  Pair(const test::TestCertificates &certs, TlsClientSettings settings, const std::string &name,
       std::vector<std::string> server_alpn = {"dot"}) {
    server_context = TlsContext::server(certs.certificate_file, certs.key_file, std::move(server_alpn));
    client_context = TlsContext::client(settings);
    server = std::make_unique<TlsSession>(server_context);
    client = std::make_unique<TlsSession>(client_context, name);
    client->start();
  }

  // Hands output back and forth until neither side has anything more to say.
  void exchange() {
    for (int round = 0; round < 20; ++round) {
      std::string to_server, to_client;
      client->take_output(to_server);
      if (!to_server.empty()) server->feed(reinterpret_cast<const uint8_t *>(to_server.data()), to_server.size());
      server->take_output(to_client);
      if (!to_client.empty()) client->feed(reinterpret_cast<const uint8_t *>(to_client.data()), to_client.size());
      if (to_server.empty() && to_client.empty()) return;
    }
  }
};

std::string read_all(TlsSession &session) {
  std::string out;
  uint8_t buffer[1024];
  while (size_t got = session.read(buffer, sizeof buffer)) out.append(reinterpret_cast<char *>(buffer), got);
  return out;
}

TlsClientSettings ca_settings(const test::TestCertificates &certs, std::vector<std::string> alpn = {"dot"}) {
  TlsClientSettings settings;
  settings.cert_bundle = certs.ca_file;
  settings.alpn = std::move(alpn);
  return settings;
}

TEST(TlsSession, HandshakeVerifiesTheNameAndCarriesDataBothWays) {
  test::TestCertificates certs;
  Pair pair(certs, ca_settings(certs), "dns.test");
  // Written before the handshake: held until the server is authenticated.
  ASSERT_TRUE(pair.client->write("query"));
  pair.exchange();
  ASSERT_EQ(pair.client->state(), TlsSession::State::open) << pair.client->error();
  ASSERT_EQ(pair.server->state(), TlsSession::State::open) << pair.server->error();
  EXPECT_EQ(pair.client->alpn(), "dot");
  EXPECT_EQ(pair.server->alpn(), "dot");
  EXPECT_EQ(read_all(*pair.server), "query");
  ASSERT_TRUE(pair.server->write("answer"));
  pair.exchange();
  EXPECT_EQ(read_all(*pair.client), "answer");
}

TEST(TlsSession, CertificateForAnotherNameFails) {
  test::TestCertificates certs;
  Pair pair(certs, ca_settings(certs), "other.test");
  ASSERT_TRUE(pair.client->write("secret"));
  pair.exchange();
  EXPECT_EQ(pair.client->state(), TlsSession::State::failed);
  EXPECT_NE(pair.client->error().find("certificate verification failed"), std::string::npos) << pair.client->error();
  EXPECT_EQ(read_all(*pair.server), "");  // nothing was sent to an unauthenticated peer
}

TEST(TlsSession, AddressLiteralIsCheckedAgainstTheIpSubjectAltName) {
  test::TestCertificates certs;
  Pair good(certs, ca_settings(certs), "127.0.0.1");
  good.exchange();
  EXPECT_EQ(good.client->state(), TlsSession::State::open) << good.client->error();
  Pair bad(certs, ca_settings(certs), "127.0.0.2");
  bad.exchange();
  EXPECT_EQ(bad.client->state(), TlsSession::State::failed);
}

TEST(TlsSession, UnknownAuthorityFails) {
  test::TestCertificates certs;
  test::TestCertificates other;
  Pair pair(certs, ca_settings(other), "dns.test");
  pair.exchange();
  EXPECT_EQ(pair.client->state(), TlsSession::State::failed);
}

TEST(TlsSession, MatchingPinReplacesTheAuthority) {
  test::TestCertificates certs;
  TlsClientSettings settings;
  settings.pins_sha256 = {certs.leaf_pin};
  Pair pair(certs, settings, "any.name");
  ASSERT_TRUE(pair.client->write("q"));
  pair.exchange();
  EXPECT_EQ(pair.client->state(), TlsSession::State::open) << pair.client->error();
  EXPECT_EQ(read_all(*pair.server), "q");
}

TEST(TlsSession, PinOfAnotherKeyFailsBeforeAnyDataIsSent) {
  test::TestCertificates certs;
  test::TestCertificates other;
  TlsClientSettings settings;
  settings.pins_sha256 = {other.leaf_pin};
  Pair pair(certs, settings, "dns.test");
  ASSERT_TRUE(pair.client->write("secret"));
  pair.exchange();
  EXPECT_EQ(pair.client->state(), TlsSession::State::failed);
  EXPECT_NE(pair.client->error().find("pin"), std::string::npos);
  EXPECT_EQ(read_all(*pair.server), "");
}

TEST(TlsSession, PinAndBundleMustBothPass) {
  test::TestCertificates certs;
  test::TestCertificates other;
  // A pin of another key fails although the chain verifies.
  TlsClientSettings wrong = ca_settings(certs);
  wrong.pins_sha256 = {other.leaf_pin};
  Pair refused(certs, wrong, "dns.test");
  refused.exchange();
  EXPECT_EQ(refused.client->state(), TlsSession::State::failed);
  // RFC 7469 2.6: the leaf's or the CA's key, both in the validated chain.
  for (const std::string &pin : {certs.leaf_pin, certs.ca_pin}) {
    TlsClientSettings settings = ca_settings(certs);
    settings.pins_sha256 = {pin};
    Pair ok(certs, settings, "dns.test");
    ok.exchange();
    EXPECT_EQ(ok.client->state(), TlsSession::State::open) << ok.client->error();
  }
}

// A forger with a key of its own sends its certificate followed by the real
// server's, which is public. The handshake proves only the forger's key; the pin
// must not match the certificate that merely came along.
TEST(TlsSession, APinnedCertificateAppendedByAForgerDoesNotMatch) {
  test::TestCertificates real;
  test::TestCertificates forger;
  const std::string chain_file = forger.directory + "/forged-chain.pem";
  {
    std::ifstream own(forger.certificate_file), stolen(real.certificate_file);
    std::ofstream out(chain_file);
    out << own.rdbuf() << stolen.rdbuf();
  }
  auto forged_server = TlsContext::server(chain_file, forger.key_file, {"dot"});
  auto run = [&](TlsClientSettings settings) {
    auto client_context = TlsContext::client(settings);
    TlsSession server(forged_server);
    TlsSession client(client_context, "dns.test");
    client.start();
    EXPECT_TRUE(client.write("secret"));
    for (int round = 0; round < 20; ++round) {
      std::string to_server, to_client;
      client.take_output(to_server);
      if (!to_server.empty()) server.feed(reinterpret_cast<const uint8_t *>(to_server.data()), to_server.size());
      server.take_output(to_client);
      if (!to_client.empty()) client.feed(reinterpret_cast<const uint8_t *>(to_client.data()), to_client.size());
      if (to_server.empty() && to_client.empty()) break;
    }
    EXPECT_EQ(read_all(server), "") << "nothing may reach a forger";
    return client.state();
  };
  // Pins alone (no certificate authority checked).
  TlsClientSettings pins_only;
  pins_only.pins_sha256 = {real.leaf_pin};
  EXPECT_EQ(run(pins_only), TlsSession::State::failed);
  // Pins with a bundle that trusts the forger's CA (a certificate issued wrongly):
  // the pin is what should stop it.
  TlsClientSettings with_bundle;
  with_bundle.cert_bundle = forger.ca_file;
  with_bundle.pins_sha256 = {real.leaf_pin};
  EXPECT_EQ(run(with_bundle), TlsSession::State::failed);
}

TEST(TlsSession, Http2ServerRefusesAClientWithoutH2) {
  test::TestCertificates certs;
  Pair pair(certs, ca_settings(certs, {"http/1.1"}), "dns.test", {"h2"});
  pair.exchange();
  EXPECT_EQ(pair.server->state(), TlsSession::State::failed);
  EXPECT_EQ(pair.client->state(), TlsSession::State::failed);
}

TEST(TlsSession, DotServerCarriesOnWithoutAlpn) {
  test::TestCertificates certs;
  Pair pair(certs, ca_settings(certs, {}), "dns.test", {"dot"});
  pair.exchange();
  EXPECT_EQ(pair.server->state(), TlsSession::State::open) << pair.server->error();
  EXPECT_EQ(pair.server->alpn(), "");
}

TEST(TlsSession, GarbageFailsTheServerWithoutACrash) {
  test::TestCertificates certs;
  auto context = TlsContext::server(certs.certificate_file, certs.key_file, {"dot"});
  TlsSession server(context);
  const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_FALSE(server.feed(reinterpret_cast<const uint8_t *>(garbage.data()), garbage.size()));
  EXPECT_EQ(server.state(), TlsSession::State::failed);
  uint8_t buffer[16];
  EXPECT_EQ(server.read(buffer, sizeof buffer), 0u);
  EXPECT_FALSE(server.write("x"));
}

TEST(TlsSession, UnreadInputIsBounded) {
  test::TestCertificates certs;
  auto context = TlsContext::server(certs.certificate_file, certs.key_file, {"dot"});
  TlsSession server(context);
  // A record header announcing a long record, then more than the bound.
  std::string chunk(64 * 1024, '\0');
  chunk[0] = 0x16, chunk[1] = 0x03, chunk[2] = 0x01, chunk[3] = 0x40, chunk[4] = 0x00;
  bool accepted = true;
  for (int i = 0; i < 8 && accepted; ++i)
    accepted = server.feed(reinterpret_cast<const uint8_t *>(chunk.data()), chunk.size());
  EXPECT_FALSE(accepted);
  EXPECT_EQ(server.state(), TlsSession::State::failed);
}

TEST(TlsSession, CloseNotifyEndsReadingButNotWriting) {
  test::TestCertificates certs;
  Pair pair(certs, ca_settings(certs), "dns.test");
  pair.exchange();
  ASSERT_TRUE(pair.client->is_open());
  ASSERT_TRUE(pair.client->write("last"));
  pair.client->shutdown();
  pair.exchange();
  EXPECT_EQ(read_all(*pair.server), "last");
  EXPECT_TRUE(pair.server->peer_closed());
  EXPECT_TRUE(pair.server->write("reply"));  // RFC 8446 6.1: the other direction stays open
}

TEST(TlsContext, LoadErrorsNameTheFile) {
  test::TestCertificates certs;
  try {
    TlsContext::server(certs.certificate_file, certs.ca_file, {"dot"});  // a certificate is no key
    FAIL() << "no error";
  } catch (const TlsError &e) {
    EXPECT_NE(std::string(e.what()).find(certs.ca_file), std::string::npos) << e.what();
  }
  test::TestCertificates other;
  try {
    TlsContext::server(certs.certificate_file, other.key_file, {"dot"});
    FAIL() << "no error";
  } catch (const TlsError &e) {
    EXPECT_NE(std::string(e.what()).find(other.key_file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mismatch"), std::string::npos) << e.what();
  }
  TlsClientSettings bad_pin;
  bad_pin.pins_sha256 = {"not-a-pin"};
  EXPECT_THROW(TlsContext::client(bad_pin), TlsError);
}

TEST(TlsContext, PinForm) {
  EXPECT_TRUE(valid_pin_sha256("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
  EXPECT_FALSE(valid_pin_sha256("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"));
  EXPECT_FALSE(valid_pin_sha256(""));
  EXPECT_FALSE(valid_pin_sha256("!!DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
  EXPECT_EQ(alpn_wire_form({"dot", "", "h2"}), std::string("\x03" "dot\x02h2"));
}

}  // namespace
}  // namespace rsv
