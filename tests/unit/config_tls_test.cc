// The configuration of encrypted transports: listen-tls, listen-https, tls, and
// forward zones reached over TLS or HTTPS.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "resolver/config/config.h"
#include "resolver/server/generation.h"

namespace rsv {
namespace {

class TlsConfigTest : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/resolverd-tls-config-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    cert_ = dir_ + "/server.pem";
    key_ = dir_ + "/server.key";
    std::ofstream(cert_) << "not checked here\n";
    std::ofstream(key_) << "not checked here\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string error_of(const std::string &text) {
    try {
      parse_config_text(text, "t.yaml");
    } catch (const ConfigError &e) {
      return e.what();
    }
    return "";
  }
  std::string tls_block() const { return "tls: {certificate: " + cert_ + ", key: " + key_ + "}\n"; }

  std::string dir_, cert_, key_;
};

TEST_F(TlsConfigTest, ListenersTakeTheirDefaultPorts) {
  Config c = parse_config_text("network:\n  listen-tls: [127.0.0.1, \"::1@8853\"]\n  listen-https: [127.0.0.1]\n" +
                                   tls_block(),
                               "t.yaml");
  ASSERT_EQ(c.network.listen_tls.size(), 2u);
  EXPECT_EQ(c.network.listen_tls[0].to_string(), "127.0.0.1@853");
  EXPECT_EQ(c.network.listen_tls[1].to_string(), "::1@8853");
  ASSERT_EQ(c.network.listen_https.size(), 1u);
  EXPECT_EQ(c.network.listen_https[0].to_string(), "127.0.0.1@443");
  EXPECT_EQ(c.tls.certificate, cert_);
  EXPECT_EQ(c.tls.key, key_);
  // Off by default.
  EXPECT_TRUE(default_config().network.listen_tls.empty());
  EXPECT_TRUE(default_config().network.listen_https.empty());
}

TEST_F(TlsConfigTest, EncryptedListenersNeedACertificate) {
  EXPECT_EQ(error_of("threads: 1\nnetwork:\n  listen-tls: [127.0.0.1]\n"),
            "t.yaml:3: key 'network.listen-tls': needs a certificate: tls: {certificate: FILE, key: FILE}");
  EXPECT_EQ(error_of("network:\n  listen-https: [127.0.0.1]\ntls: {certificate: " + cert_ + "}\n"),
            "t.yaml:2: key 'network.listen-https': needs a certificate: tls: {certificate: FILE, key: FILE}");
}

TEST_F(TlsConfigTest, MissingFilesAreErrorsAtTheirLine) {
  EXPECT_EQ(error_of("tls:\n  certificate: " + dir_ + "/absent.pem\n  key: " + key_ + "\n"),
            "t.yaml:2: key 'tls.certificate': cannot read '" + dir_ + "/absent.pem': No such file or directory");
  EXPECT_EQ(error_of("tls:\n  certificate: " + cert_ + "\n  key: " + dir_ + "\n"),
            "t.yaml:3: key 'tls.key': '" + dir_ + "' is a directory, not a file");
  if (geteuid() != 0) {  // root reads anything
    std::filesystem::permissions(key_, std::filesystem::perms::none);
    EXPECT_NE(error_of(tls_block()).find("Permission denied"), std::string::npos);
  }
}

TEST_F(TlsConfigTest, ForwardZonesOverTlsAndHttps) {
  Config c = parse_config_text(
      "forward-zones:\n"
      "  - name: example.org\n"
      "    servers: [\"192.0.2.1@853#dns.example\", \"https://dns.example/dns-query@192.0.2.2\", 192.0.2.3]\n"
      "    tls-cert-bundle: " + cert_ + "\n"
      "    tls-pin-sha256: [\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"]\n",
      "t.yaml");
  ASSERT_EQ(c.forward_zones.size(), 1u);
  const ForwardZone &zone = c.forward_zones[0];
  ASSERT_EQ(zone.endpoints.size(), 3u);
  EXPECT_EQ(zone.endpoints[0].protocol, UpstreamProtocol::tls);
  EXPECT_EQ(zone.endpoints[1].protocol, UpstreamProtocol::https);
  EXPECT_EQ(zone.endpoints[2].protocol, UpstreamProtocol::dns);
  EXPECT_EQ(zone.servers, (std::vector<SocketAddress>{*SocketAddress::parse("192.0.2.1@853"),
                                                      *SocketAddress::parse("192.0.2.2@443"),
                                                      *SocketAddress::parse("192.0.2.3@53")}));
  EXPECT_EQ(zone.tls_cert_bundle, cert_);
  EXPECT_EQ(zone.tls_pins_sha256.size(), 1u);
  // --check-config shows them as written, and reads back the same.
  Config again = parse_config_text(dump_config(c), "dumped.yaml");
  again.source_file = c.source_file;
  EXPECT_EQ(again, c) << dump_config(c);
}

TEST_F(TlsConfigTest, ForwardZoneMistakes) {
  EXPECT_EQ(error_of("forward-zones:\n  - {name: a.org, servers: [\"192.0.2.1@853#\"]}\n"),
            "t.yaml:2: key 'forward-zones.servers': '' after '#' is not a host name (the name on the server's "
            "certificate)");
  EXPECT_NE(error_of("forward-zones:\n  - {name: a.org, servers: [\"https://dns.example/q\"]}\n").find("no address"),
            std::string::npos);
  EXPECT_EQ(error_of("forward-zones:\n  - {name: a.org, servers: [192.0.2.1], tls-pin-sha256: [abc]}\n"),
            "t.yaml:2: key 'forward-zones.tls-pin-sha256': 'abc' is not a base64 SHA-256 digest (44 characters "
            "ending in '=')");
  EXPECT_NE(error_of("forward-zones:\n  - {name: a.org, servers: [192.0.2.1], tls-cert-bundle: /nonexistent}\n")
                .find("cannot read '/nonexistent'"),
            std::string::npos);
  // One address, one way to reach it.
  EXPECT_EQ(error_of("forward-zones:\n  - {name: a.org, servers: [\"192.0.2.1@853#a.example\"]}\n"
                     "  - {name: b.org, servers: [\"192.0.2.1@853#b.example\"]}\n"),
            "t.yaml:3: key 'forward-zones': server 192.0.2.1@853 is reached differently by forward zone 'a.org.'");
  EXPECT_EQ(error_of("forward-zones:\n  - {name: a.org, servers: [\"192.0.2.1@853#a.example\"]}\n"
                     "  - {name: b.org, servers: [\"192.0.2.1@853#a.example\"]}\n"),
            "");
}

TEST_F(TlsConfigTest, EncryptedListenersNeedARestart) {
  Config running = parse_config_text("", "t.yaml");
  Config loaded = parse_config_text("network: {listen-tls: [127.0.0.1], listen-https: [127.0.0.1]}\n" + tls_block(),
                                    "t.yaml");
  EXPECT_EQ(settings_needing_restart(running, loaded),
            (std::vector<std::string>{"network.listen-tls", "network.listen-https", "tls"}));
  // Forward zones over TLS change at a reload like any other.
  Config forwarding = parse_config_text("forward-zones: [{name: ., servers: [\"192.0.2.1#dns.example\"]}]\n", "t.yaml");
  EXPECT_TRUE(settings_needing_restart(running, forwarding).empty());
}

}  // namespace
}  // namespace rsv
