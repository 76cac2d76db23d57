// EncryptedUpstream end to end in one process: it forwards over DNS over TLS to a
// TcpListener with a TLS context, and over DNS over HTTPS to a DohListener, on
// loopback with a certificate made at test time. The servers' handler holds every
// query and answers them in reverse order, so replies must be matched on a
// connection that carries many queries at once. A forging handler answers with
// replies that are wrong as DNS (ID, QR, question), which must not be taken as the
// answer; what is wrong as HTTP is tested against a hostile server in
// tests/system/test_tls_attacks.py and, as a pure decision, in doh_message_test.cc.
#include "resolver/net/encrypted_upstream.h"

#include <cstring>
#include <fstream>
#include <functional>

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

// Answers every query at once with forge(query as it came over the wire): the ID
// and question the server saw.
class ForgingHandler : public QueryHandler {
public:
  explicit ForgingHandler(std::function<std::string(std::string)> forge) : forge_(std::move(forge)) {}
  Disposition handle(QueryContext &context) override {
    const std::string reply =
        forge_(std::string(reinterpret_cast<const char *>(context.query), context.query_size));
    std::memcpy(context.reply_buffer, reply.data(), reply.size());
    context.reply_size = reply.size();
    return Disposition::reply;
  }

private:
  std::function<std::string(std::string)> forge_;
};

// The query of query_to(..., "www.example."): header, then the name at 12, then type
// and class, then the OPT record.
constexpr size_t kNameAt = 12, kTypeAt = 25, kClassAt = 27;
constexpr uint16_t kEngineId = 0x4242;

std::string echoed(std::string query) {
  query[2] = static_cast<char>(query[2] | 0x80);  // QR
  return query;
}
void set16(std::string &wire, size_t at, uint16_t value) {
  wire[at] = static_cast<char>(value >> 8);
  wire[at + 1] = static_cast<char>(value & 0xFF);
}
uint16_t get16(const std::string &wire, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(wire[at]) << 8) | static_cast<uint8_t>(wire[at + 1]));
}
// A header with no question and no records, with `rcode`.
std::string questionless(const std::string &query, uint8_t rcode) {
  std::string reply = echoed(query).substr(0, 12);
  for (size_t at = 4; at < 12; ++at) reply[at] = 0;
  reply[3] = static_cast<char>((reply[3] & 0xF0) | rcode);
  return reply;
}

struct Forgery {
  const char *what;
  std::function<std::string(std::string)> forge;
  bool accepted;
  bool shorter_than_a_header = false;  // not DNS at all: over DoT, the connection is dropped
};

const std::vector<Forgery> &forgeries() {
  static const std::vector<Forgery> all = {
      {"the query echoed with QR set (control)", [](std::string q) { return echoed(q); }, true},
      {"another ID",
       [](std::string q) {
         auto r = echoed(q);
         set16(r, 0, static_cast<uint16_t>(get16(q, 0) + 1));
         return r;
       },
       false},
      // The ID the engine chose, where the connection put its own on the wire.
      {"the engine's ID",
       [](std::string q) {
         auto r = echoed(q);
         set16(r, 0, kEngineId);
         return r;
       },
       false},
      {"QR clear", [](std::string q) { return q; }, false},
      {"another name",
       [](std::string q) {
         auto r = echoed(q);
         r[kNameAt + 3] = 'x';
         return r;
       },
       false},
      {"another type",
       [](std::string q) {
         auto r = echoed(q);
         set16(r, kTypeAt, rrtype::AAAA);
         return r;
       },
       false},
      {"another class",
       [](std::string q) {
         auto r = echoed(q);
         set16(r, kClassAt, rrclass::CH);
         return r;
       },
       false},
      {"no question, NOERROR", [](std::string q) { return questionless(q, rcode::NOERROR); }, false},
      {"no question, SERVFAIL", [](std::string q) { return questionless(q, rcode::SERVFAIL); }, false},
      {"the question twice",
       [](std::string q) {
         auto r = echoed(q).substr(0, kClassAt + 2);
         r += r.substr(kNameAt);
         set16(r, 4, 2);
         set16(r, 10, 0);
         return r;
       },
       false},
      {"a header only, cut short", [](std::string q) { return echoed(q).substr(0, 11); }, false, true},
      // RFC 4343: names compare without case. The engine checks 0x20 itself, so the
      // reply must reach it with the case the server wrote.
      {"the name in another case",
       [](std::string q) {
         auto r = echoed(q);
         r[kNameAt + 1] = 'W';
         r[kNameAt + 6] = 'X';
         return r;
       },
       true},
      // RFC 6891 7: a server that does not know EDNS may answer FORMERR without the question.
      {"no question, FORMERR", [](std::string q) { return questionless(q, rcode::FORMERR); }, true},
  };
  return all;
}

enum class Protocol { tls, https };

// One query for www.example. A/IN to a server that answers with `forgery`.
void expect_forgery_outcome(Protocol protocol, const Forgery &forgery) {
  SCOPED_TRACE(std::string(protocol == Protocol::tls ? "DoT: " : "DoH: ") + forgery.what);
  EventLoop loop;
  SystemClock clock;
  RecordingTransport plain;
  test::TestCertificates certs;
  std::string sent_reply;
  ForgingHandler handler([&](std::string query) { return sent_reply = forgery.forge(std::move(query)); });
  std::shared_ptr<TcpListener> dot;
  std::shared_ptr<DohListener> doh;
  SocketAddress server;
  std::string forward;
  if (protocol == Protocol::tls) {
    dot = TcpListener::create(loop, any_port(), handler, TcpLimits{},
                              TlsContext::server(certs.certificate_file, certs.key_file, {"dot"}));
    server = dot->local_address();
    forward = server.to_string() + "#dns.test";
  } else {
    doh = DohListener::create(loop, any_port(), handler, TcpLimits{},
                              TlsContext::server(certs.certificate_file, certs.key_file, {"h2"}));
    server = doh->local_address();
    forward = "https://dns.test:" + std::to_string(server.port()) + "/dns-query@127.0.0.1";
  }
  EncryptedUpstream upstream(loop, clock, forwarding_config(forward, certs), plain);
  std::vector<TransportResult> results;
  upstream.send(query_to(server, kEngineId, "www.example."),
                [&](TransportResult result) { results.push_back(std::move(result)); });
  if (forgery.accepted) {
    ASSERT_TRUE(loop.run_until([&] { return !results.empty(); }, kWaitMs));
    ASSERT_EQ(results[0].status, TransportStatus::reply);
    std::string expected = sent_reply;
    set16(expected, 0, kEngineId);  // the engine's ID put back, nothing else changed
    EXPECT_EQ(results[0].wire, expected);
    EXPECT_EQ(upstream.stats().mismatches_ignored.get(), 0u);
    return;
  }
  if (protocol == Protocol::tls && forgery.shorter_than_a_header) {
    // RFC 7858 3.3 frames DNS messages; a frame too short for a header is the end of
    // the connection (TcpFrameReader), and so of the query on it.
    ASSERT_TRUE(loop.run_until([&] { return !results.empty(); }, kWaitMs));
    EXPECT_EQ(results[0].status, TransportStatus::network_error);
    EXPECT_EQ(upstream.stats().replies.get(), 0u);
    return;
  }
  ASSERT_TRUE(loop.run_until([&] { return upstream.stats().mismatches_ignored.get() > 0; }, kWaitMs))
      << "the forged reply was never judged";
  EXPECT_EQ(upstream.stats().replies.get(), 0u);
  if (protocol == Protocol::tls) {
    // Over DoT the reply is ignored and the query keeps waiting for its own.
    EXPECT_TRUE(results.empty());
    EXPECT_EQ(upstream.in_flight(), 1u);
  } else {
    // Over DoH the stream is over: the query fails at once.
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].status, TransportStatus::network_error);
  }
}

TEST(EncryptedUpstreamForgery, DotTakesOnlyAReplyToTheQuestionWithItsId) {
  for (const Forgery &forgery : forgeries()) expect_forgery_outcome(Protocol::tls, forgery);
}

TEST(EncryptedUpstreamForgery, DohTakesOnlyAReplyToTheQuestionWithIdZero) {
  for (const Forgery &forgery : forgeries()) expect_forgery_outcome(Protocol::https, forgery);
}

}  // namespace
}  // namespace rsv
