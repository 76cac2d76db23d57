// EncryptedUpstream end to end in one process: it forwards over DNS over TLS to a
// TcpListener with a TLS context, and over DNS over HTTPS to a DohListener, on
// loopback with a certificate made at test time. The servers' handler holds every
// query and answers them in reverse order, so replies must be matched on a
// connection that carries many queries at once.
#include "resolver/net/encrypted_upstream.h"

#include <fstream>

#include <gtest/gtest.h>

#include "cache/clock.h"
#include "resolver/config/config.h"
#include "resolver/net/doh_listener.h"
#include "resolver/net/event_loop.h"
#include "resolver/net/tcp_listener.h"
#include "resolver/net/tls_context.h"
#include "resolver/wire/message.h"
#include "tests/support/test_certificates.h"

namespace rsv {
namespace {

constexpr uint32_t kWaitMs = 5000;

SocketAddress any_port() {
  auto address = SocketAddress::parse("127.0.0.1");
  address->set_port(0);  // the kernel chooses
  return *address;
}

// Answers each query by echoing it with QR set, all at once when `batch` arrived.
class ReversingHandler : public QueryHandler {
public:
  explicit ReversingHandler(size_t batch) : batch_(batch) {}
  Disposition handle(QueryContext &context) override {
    ++ids_seen;
    std::string reply(reinterpret_cast<const char *>(context.query), context.query_size);
    reply[2] = static_cast<char>(reply[2] | 0x80);
    held_.emplace_back(context.defer(), reply);
    if (held_.size() >= batch_) {
      auto held = std::move(held_);
      held_.clear();
      for (auto it = held.rbegin(); it != held.rend(); ++it) it->first->send(it->second);
    }
    return Disposition::deferred;
  }
  size_t ids_seen = 0;

private:
  size_t batch_;
  std::vector<std::pair<std::shared_ptr<ReplyChannel>, std::string>> held_;
};

// Records what reaches the plain transport.
class RecordingTransport : public Transport {
public:
  void send(const OutgoingQuery &query, std::function<void(TransportResult)>) override { sent.push_back(query); }
  std::vector<OutgoingQuery> sent;
};

OutgoingQuery query_to(const SocketAddress &server, uint16_t id, const char *name) {
  OutgoingQuery query;
  query.server = server;
  query.id = id;
  query.question = Question{*Name::from_text(name), rrtype::A, rrclass::IN};
  query.wire = encode_query(id, query.question, true, Edns{}, false);
  query.timeout_ms = kWaitMs;
  return query;
}

Config forwarding_config(const std::string &server, const test::TestCertificates &certs) {
  return parse_config_text("forward-zones:\n  - {name: ., servers: [\"" + server + "\"], tls-cert-bundle: " +
                               certs.ca_file + "}\n",
                           "t.yaml");
}

struct Results {
  std::vector<TransportResult> results;
  std::vector<uint16_t> ids;
};

void send_batch(EncryptedUpstream &upstream, const SocketAddress &server, size_t count, Results &out) {
  for (size_t i = 0; i < count; ++i) {
    // The same ID twice on purpose: the connection must keep them apart.
    const uint16_t id = static_cast<uint16_t>(i < 2 ? 0x4242 : 0x1000 + i);
    auto inside_send = std::make_shared<bool>(true);  // outlives this loop, as the callback does
    upstream.send(query_to(server, id, "www.example."), [&out, id, inside_send](TransportResult result) {
      EXPECT_FALSE(*inside_send);
      out.results.push_back(std::move(result));
      out.ids.push_back(id);
    });
    *inside_send = false;
  }
}

void expect_all_answered(const Results &out, size_t count) {
  ASSERT_EQ(out.results.size(), count);
  for (size_t i = 0; i < count; ++i) {
    ASSERT_EQ(out.results[i].status, TransportStatus::reply);
    const auto &wire = out.results[i].wire;
    ASSERT_GE(wire.size(), 12u);
    // The engine's own ID comes back, whatever went on the wire.
    EXPECT_EQ((static_cast<uint8_t>(wire[0]) << 8) | static_cast<uint8_t>(wire[1]), out.ids[i]);
  }
}

TEST(EncryptedUpstream, PlainServersGoToThePlainTransport) {
  EventLoop loop;
  SystemClock clock;
  RecordingTransport plain;
  test::TestCertificates certs;
  EncryptedUpstream upstream(loop, clock, forwarding_config("127.0.0.1@853#dns.test", certs), plain);
  EXPECT_EQ(upstream.endpoint_count(), 1u);
  upstream.send(query_to(*SocketAddress::parse("192.0.2.1@53"), 7, "www.example."), [](TransportResult) {});
  ASSERT_EQ(plain.sent.size(), 1u);
  EXPECT_EQ(plain.sent[0].id, 7);
  EXPECT_EQ(upstream.in_flight(), 0u);
}

TEST(EncryptedUpstream, PipelinesOverOneTlsConnection) {
  EventLoop loop;
  SystemClock clock;
  RecordingTransport plain;
  test::TestCertificates certs;
  ReversingHandler handler(5);
  auto listener = TcpListener::create(loop, any_port(), handler, TcpLimits{},
                                      TlsContext::server(certs.certificate_file, certs.key_file, {"dot"}));
  const SocketAddress server = listener->local_address();
  EncryptedUpstream upstream(loop, clock, forwarding_config(server.to_string() + "#dns.test", certs), plain);
  Results out;
  send_batch(upstream, server, 5, out);
  ASSERT_TRUE(loop.run_until([&] { return out.results.size() == 5; }, kWaitMs));
  expect_all_answered(out, 5);
  EXPECT_EQ(upstream.stats().connections_opened.get(), 1u);
  EXPECT_EQ(listener->stats().connections_accepted.get(), 1u);
  // A second batch reuses the connection.
  Results again;
  send_batch(upstream, server, 5, again);
  ASSERT_TRUE(loop.run_until([&] { return again.results.size() == 5; }, kWaitMs));
  expect_all_answered(again, 5);
  EXPECT_EQ(upstream.stats().connections_opened.get(), 1u);
  EXPECT_TRUE(plain.sent.empty());
}

TEST(EncryptedUpstream, PipelinesOverHttp2Streams) {
  EventLoop loop;
  SystemClock clock;
  RecordingTransport plain;
  test::TestCertificates certs;
  ReversingHandler handler(5);
  auto listener = DohListener::create(loop, any_port(), handler, TcpLimits{},
                                      TlsContext::server(certs.certificate_file, certs.key_file, {"h2"}));
  const SocketAddress server = listener->local_address();
  EncryptedUpstream upstream(
      loop, clock,
      forwarding_config("https://dns.test:" + std::to_string(server.port()) + "/dns-query@127.0.0.1", certs), plain);
  Results out;
  send_batch(upstream, server, 5, out);
  ASSERT_TRUE(loop.run_until([&] { return out.results.size() == 5; }, kWaitMs));
  expect_all_answered(out, 5);
  EXPECT_EQ(upstream.stats().connections_opened.get(), 1u);
  EXPECT_EQ(listener->stats().connections_accepted.get(), 1u);
  EXPECT_EQ(listener->stats().queries.get(), 5u);
}

TEST(EncryptedUpstream, UnverifiableServerFailsLaterNotInsideSend) {
  EventLoop loop;
  SystemClock clock;
  RecordingTransport plain;
  test::TestCertificates certs;
  ReversingHandler handler(1);
  auto listener = TcpListener::create(loop, any_port(), handler, TcpLimits{},
                                      TlsContext::server(certs.certificate_file, certs.key_file, {"dot"}));
  const SocketAddress server = listener->local_address();
  EncryptedUpstream upstream(loop, clock, forwarding_config(server.to_string() + "#wrong.test", certs), plain);
  Results out;
  send_batch(upstream, server, 1, out);
  ASSERT_TRUE(loop.run_until([&] { return out.results.size() == 1; }, kWaitMs));
  EXPECT_EQ(out.results[0].status, TransportStatus::network_error);
  EXPECT_EQ(upstream.stats().connections_opened.get(), 0u);
  EXPECT_EQ(upstream.stats().connection_failures.get(), 1u);
  EXPECT_EQ(handler.ids_seen, 0u);
}

TEST(EncryptedUpstream, BadCertificateBundleFailsItsQueries) {
  EventLoop loop;
  SystemClock clock;
  RecordingTransport plain;
  test::TestCertificates certs;
  std::ofstream(certs.ca_file) << "not a certificate\n";
  EncryptedUpstream upstream(loop, clock, forwarding_config("127.0.0.1@853#dns.test", certs), plain);
  Results out;
  send_batch(upstream, *SocketAddress::parse("127.0.0.1@853"), 1, out);
  ASSERT_TRUE(loop.run_until([&] { return out.results.size() == 1; }, kWaitMs));
  EXPECT_EQ(out.results[0].status, TransportStatus::network_error);
}

}  // namespace
}  // namespace rsv
