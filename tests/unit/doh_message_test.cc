// DNS over HTTPS requests (RFC 8484 4.1) and the freshness of responses (5.1):
// the pure decisions the DoH listener takes on every request; and what makes a
// server's response the answer to one of our forwarded queries (4.2.1).
#include "resolver/net/doh_message.h"

#include <gtest/gtest.h>

#include "resolver/wire/message.h"

namespace rsv {
namespace {

std::string query_wire() {
  return encode_query(0, Question{*Name::from_text("www.example.com."), rrtype::A, rrclass::IN}, true, std::nullopt,
                      false);
}

DohRequest get(std::string path) { return DohRequest{"GET", std::move(path), "", "", false}; }
DohRequest post(std::string body, std::string type = "application/dns-message") {
  return DohRequest{"POST", "/dns-query", std::move(type), std::move(body), false};
}

TEST(Base64Url, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 70; ++i) {
    const std::string encoded = base64url_encode(data);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    auto decoded = base64url_decode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, data);
    data.push_back(static_cast<char>(i * 37 + 250));
  }
}

TEST(Base64Url, RejectsPaddingOtherAlphabetsAndImpossibleLengths) {
  // RFC 8484 6: base64url without padding; RFC 4648 5's alphabet only.
  EXPECT_EQ(base64url_decode("AAAB"), std::string("\0\0\1", 3));
  EXPECT_FALSE(base64url_decode("AA=="));
  EXPECT_FALSE(base64url_decode("ab+/"));
  EXPECT_FALSE(base64url_decode("abc%3D"));
  EXPECT_FALSE(base64url_decode("A"));          // 4n+1 characters encode nothing
  EXPECT_FALSE(base64url_decode("AB"));         // leftover bits not zero: not canonical
  EXPECT_EQ(base64url_decode("AA"), std::string(1, '\0'));
  EXPECT_EQ(base64url_decode(""), std::string());
}

TEST(DohRequest, GetCarriesTheQueryInTheDnsParameter) {
  const std::string wire = query_wire();
  auto decision = evaluate_doh_request(get("/dns-query?dns=" + base64url_encode(wire)));
  ASSERT_TRUE(decision.ok()) << decision.reason;
  EXPECT_EQ(decision.query, wire);
  // Other parameters are ignored, in any order.
  decision = evaluate_doh_request(get("/dns-query?ct=x&dns=" + base64url_encode(wire) + "&z"));
  ASSERT_TRUE(decision.ok()) << decision.reason;
  EXPECT_EQ(decision.query, wire);
}

TEST(DohRequest, PostCarriesTheQueryInTheBody) {
  const std::string wire = query_wire();
  auto decision = evaluate_doh_request(post(wire));
  ASSERT_TRUE(decision.ok()) << decision.reason;
  EXPECT_EQ(decision.query, wire);
  EXPECT_TRUE(evaluate_doh_request(post(wire, "Application/DNS-Message; charset=x")).ok());
}

TEST(DohRequest, StatusCodesForWhatIsNotServed) {
  const std::string wire = query_wire();
  EXPECT_EQ(evaluate_doh_request(get("/other?dns=" + base64url_encode(wire))).status, 404);
  EXPECT_EQ(evaluate_doh_request(get("/dns-query/x?dns=" + base64url_encode(wire))).status, 404);
  EXPECT_EQ(evaluate_doh_request(DohRequest{"PUT", "/dns-query", "application/dns-message", wire, false}).status,
            405);
  EXPECT_EQ(evaluate_doh_request(DohRequest{"HEAD", "/dns-query?dns=AAAA", "", "", false}).status, 405);
  EXPECT_EQ(evaluate_doh_request(post(wire, "text/plain")).status, 415);
  EXPECT_EQ(evaluate_doh_request(post(wire, "")).status, 415);
  DohRequest huge = post("");
  huge.body_too_large = true;
  EXPECT_EQ(evaluate_doh_request(huge).status, 413);
  EXPECT_EQ(evaluate_doh_request(get("/dns-query?dns=" + std::string(87384, 'A'))).status, 414);
}

TEST(DohRequest, MalformedQueriesAre400) {
  EXPECT_EQ(evaluate_doh_request(get("/dns-query")).status, 400);
  EXPECT_EQ(evaluate_doh_request(get("/dns-query?name=example.com")).status, 400);
  EXPECT_EQ(evaluate_doh_request(get("/dns-query?dns=")).status, 400);
  EXPECT_EQ(evaluate_doh_request(get("/dns-query?dns=not*base64")).status, 400);
  EXPECT_EQ(evaluate_doh_request(get("/dns-query?dns=AAAA")).status, 400);  // 3 octets: no header
  EXPECT_EQ(evaluate_doh_request(post("short")).status, 400);
  std::string response = query_wire();
  response[2] = static_cast<char>(response[2] | 0x80);  // QR: a response is not a query
  EXPECT_EQ(evaluate_doh_request(post(response)).status, 400);
  EXPECT_FALSE(evaluate_doh_request(post(response)).reason.empty());
}

TEST(DohRequest, QueryParameters) {
  EXPECT_EQ(query_parameter("/p?a=1&dns=xyz", "dns"), "xyz");
  EXPECT_EQ(query_parameter("/p?dns", "dns"), "");
  EXPECT_FALSE(query_parameter("/p?dnsx=1", "dns"));
  EXPECT_FALSE(query_parameter("/p", "dns"));
  EXPECT_FALSE(query_parameter("/p?", "dns"));
}

// RFC 9110 8.3.1: type and subtype without regard to case, parameters ignored; a
// subtype that only begins like dns-message is another media type.
TEST(DohMediaType, ExactlyApplicationDnsMessage) {
  EXPECT_TRUE(is_dns_message_type("application/dns-message"));
  EXPECT_TRUE(is_dns_message_type("Application/DNS-Message"));
  EXPECT_TRUE(is_dns_message_type("application/dns-message; charset=binary"));
  EXPECT_TRUE(is_dns_message_type(" application/dns-message\t;x=y"));
  EXPECT_FALSE(is_dns_message_type("application/dns-messagex"));
  EXPECT_FALSE(is_dns_message_type("application/dns-message-evil"));
  EXPECT_FALSE(is_dns_message_type("application/dns-message-evil; charset=binary"));
  EXPECT_FALSE(is_dns_message_type("application/dns-message, text/html"));  // two fields, joined
  EXPECT_FALSE(is_dns_message_type("xapplication/dns-message"));
  EXPECT_FALSE(is_dns_message_type("application/dns"));
  EXPECT_FALSE(is_dns_message_type("application/dns-udpwireformat"));
  EXPECT_FALSE(is_dns_message_type("text/html"));
  EXPECT_FALSE(is_dns_message_type(""));
}

// The reply to a forwarded query (asked with ID 0) as a DoH server sends it.
DohResponse good_response(const Question &question) {
  std::string wire = encode_query(0, question, true, std::nullopt, false);
  wire[2] = static_cast<char>(wire[2] | 0x80);
  return DohResponse{200, "application/dns-message", wire, false};
}

// Each response would carry a DNS reply that answers the question, were its check missing.
TEST(DohResponse, OnlyA200OfTheDnsMediaTypeWithTheQuestionAnswers) {
  const Question question{*Name::from_text("www.example.com."), rrtype::A, rrclass::IN};
  EXPECT_TRUE(doh_response_answers(good_response(question), question));
  DohResponse parameters = good_response(question);
  parameters.content_type = "Application/DNS-Message; charset=binary";
  EXPECT_TRUE(doh_response_answers(parameters, question));

  for (int status : {0, 203, 204, 302, 404, 415, 500}) {
    DohResponse response = good_response(question);
    response.status = status;
    EXPECT_FALSE(doh_response_answers(response, question)) << status;
  }
  for (const char *type : {"", "application/dns-messagex", "application/dns-message-evil", "text/html",
                           "text/html, application/dns-message"}) {
    DohResponse response = good_response(question);
    response.content_type = type;
    EXPECT_FALSE(doh_response_answers(response, question)) << type;
  }
  DohResponse too_large = good_response(question);
  too_large.body_too_large = true;
  EXPECT_FALSE(doh_response_answers(too_large, question));
  DohResponse overlong = good_response(question);
  overlong.body.resize(kMaxDohMessage + 1);  // the reply, then zeros past what a DNS message can be
  EXPECT_FALSE(doh_response_answers(overlong, question));

  DohResponse other_id = good_response(question);
  other_id.body[1] = 1;  // RFC 8484 4.1: asked with ID 0
  EXPECT_FALSE(doh_response_answers(other_id, question));
  DohResponse query = good_response(question);
  query.body[2] = static_cast<char>(query.body[2] & 0x7F);  // QR clear: our own query reflected
  EXPECT_FALSE(doh_response_answers(query, question));
  EXPECT_FALSE(doh_response_answers(good_response(question),
                                    Question{*Name::from_text("www.example.net."), rrtype::A, rrclass::IN}));
  EXPECT_FALSE(
      doh_response_answers(good_response(question), Question{question.name, rrtype::AAAA, rrclass::IN}));
  EXPECT_FALSE(
      doh_response_answers(good_response(question), Question{question.name, rrtype::A, rrclass::CH}));
  DohResponse no_question = good_response(question);
  no_question.body.resize(12);
  no_question.body[5] = 0;  // QDCOUNT 0, NOERROR
  EXPECT_FALSE(doh_response_answers(no_question, question));
  DohResponse empty = good_response(question);
  empty.body.clear();
  EXPECT_FALSE(doh_response_answers(empty, question));
}

// A reply with the given TTLs in the answer and authority sections.
std::string reply_with(std::vector<uint32_t> answer_ttls, std::vector<uint32_t> authority_ttls) {
  Message m;
  m.id = 1;
  m.qr = true;
  m.questions.push_back(Question{*Name::from_text("example.com."), rrtype::A, rrclass::IN});
  const Name owner = *Name::from_text("example.com.");
  for (uint32_t ttl : answer_ttls) m.answer.push_back(ResourceRecord{owner, rrtype::A, rrclass::IN, ttl, "\xC0\x00\x02\x01"});
  // Which type stands in the authority section does not matter to the walk.
  for (uint32_t ttl : authority_ttls) m.authority.push_back(ResourceRecord{owner, rrtype::TXT, rrclass::IN, ttl, "\x01x"});
  m.edns = Edns{};
  return encode_message(m, 65535).wire;
}

uint32_t max_age(const std::string &wire) {
  return doh_max_age(reinterpret_cast<const uint8_t *>(wire.data()), wire.size());
}

TEST(DohMaxAge, SmallestAnswerTtlThenTheNegativeTtl) {
  EXPECT_EQ(max_age(reply_with({300, 60, 900}, {5})), 60u);  // RFC 8484 5.1
  EXPECT_EQ(max_age(reply_with({}, {120})), 120u);           // negative: the SOA's (RFC 2308 5)
  EXPECT_EQ(max_age(reply_with({}, {})), 0u);
  EXPECT_EQ(max_age(reply_with({0x80000000u}, {})), 0u);     // RFC 2181 8
  std::string wire = reply_with({300}, {});
  EXPECT_EQ(max_age(wire.substr(0, wire.size() - 20)), 0u);  // malformed: not cacheable
  EXPECT_EQ(doh_max_age(nullptr, 0), 0u);
}

}  // namespace
}  // namespace rsv
