#include "resolver/wire/message.h"

#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rsv {
namespace {

// Builds packets byte by byte, the way a (possibly hostile) sender lays them out, so
// that the tests control every pointer. `here()` gives the offset a later pointer uses.
class PacketBuilder {
public:
  PacketBuilder &u8(uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  PacketBuilder &u16(uint16_t v) {
    bytes_.push_back(static_cast<uint8_t>(v >> 8));
    bytes_.push_back(static_cast<uint8_t>(v & 0xFF));
    return *this;
  }
  PacketBuilder &u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    return u16(static_cast<uint16_t>(v & 0xFFFF));
  }
  PacketBuilder &raw(std::initializer_list<uint8_t> values) {
    bytes_.insert(bytes_.end(), values.begin(), values.end());
    return *this;
  }
  // Labels without the terminating root label, so a pointer or the root can follow.
  PacketBuilder &labels(std::initializer_list<std::string_view> labels) {
    for (auto label : labels) {
      u8(static_cast<uint8_t>(label.size()));
      bytes_.insert(bytes_.end(), label.begin(), label.end());
    }
    return *this;
  }
  PacketBuilder &root() { return u8(0); }
  PacketBuilder &pointer(size_t offset) { return u16(static_cast<uint16_t>(0xC000 | offset)); }
  PacketBuilder &header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  // Type, class, TTL; the caller writes rdlength and rdata (or uses rdata_length_here).
  PacketBuilder &record_fields(uint16_t type, uint32_t ttl, uint16_t rclass = rrclass::IN) {
    return u16(type).u16(rclass).u32(ttl);
  }
  // Reserves an rdlength field; finish_rdata() fills it with the bytes written since.
  PacketBuilder &begin_rdata() {
    rdlength_at_ = bytes_.size();
    return u16(0);
  }
  PacketBuilder &finish_rdata() {
    size_t length = bytes_.size() - rdlength_at_ - 2;
    bytes_[rdlength_at_] = static_cast<uint8_t>(length >> 8);
    bytes_[rdlength_at_ + 1] = static_cast<uint8_t>(length & 0xFF);
    return *this;
  }
  // An OPT pseudo-record with a root owner.
  PacketBuilder &opt(uint16_t udp_size, uint32_t ttl_field) {
    return root().u16(rrtype::OPT).u16(udp_size).u32(ttl_field).u16(0);
  }
  size_t here() const { return bytes_.size(); }
  const std::vector<uint8_t> &bytes() const { return bytes_; }

private:
  std::vector<uint8_t> bytes_;
  size_t rdlength_at_ = 0;
};

std::optional<Message> parse(const std::vector<uint8_t> &bytes, ParseError *error = nullptr) {
  return parse_message(bytes.data(), bytes.size(), error);
}

std::optional<Message> parse(const std::string &wire, ParseError *error = nullptr) {
  return parse_message(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), error);
}

ParseError parse_error(const std::vector<uint8_t> &bytes) {
  ParseError error = ParseError::none;
  EXPECT_FALSE(parse(bytes, &error));
  return error;
}

Name name(std::string_view text) {
  return *Name::from_text(text);
}

std::string a_rdata(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return std::string{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)};
}

std::string mx_rdata(uint16_t preference, std::string_view exchange) {
  std::string rdata{static_cast<char>(preference >> 8), static_cast<char>(preference & 0xFF)};
  return rdata + name(exchange).wire();
}

uint32_t read_u32(const std::string &wire, size_t at) {
  return (uint32_t(uint8_t(wire[at])) << 24) | (uint32_t(uint8_t(wire[at + 1])) << 16) |
         (uint32_t(uint8_t(wire[at + 2])) << 8) | uint32_t(uint8_t(wire[at + 3]));
}

uint16_t read_u16(const std::string &wire, size_t at) {
  return static_cast<uint16_t>((uint8_t(wire[at]) << 8) | uint8_t(wire[at + 1]));
}

// www.example.com. A, answered through a CNAME to web.example.com., with an NS
// authority and glue: every name after the question is compressed, in owner names
// and in CNAME and NS rdata alike, as a real authoritative server would send it.
std::vector<uint8_t> cname_response() {
  PacketBuilder p;
  p.header(0x1234, 0x8580 /* qr aa rd ra */, 1, 2, 1, 2);
  const size_t qname = p.here();
  p.labels({"www", "example", "com"}).root().u16(rrtype::A).u16(rrclass::IN);
  const size_t example_com = qname + 4;  // the "example" label of the question
  // www.example.com. 300 IN CNAME web.example.com.
  p.pointer(qname).record_fields(rrtype::CNAME, 300).begin_rdata();
  const size_t web = p.here();
  p.labels({"web"}).pointer(example_com).finish_rdata();
  // web.example.com. 60 IN A 192.0.2.1 (owner points into the CNAME rdata)
  p.pointer(web).record_fields(rrtype::A, 60).u16(4).raw({192, 0, 2, 1});
  // example.com. 3600 IN NS ns1.example.com.
  p.pointer(example_com).record_fields(rrtype::NS, 3600).begin_rdata();
  const size_t ns1 = p.here();
  p.labels({"ns1"}).pointer(example_com).finish_rdata();
  // ns1.example.com. 3600 IN A 192.0.2.53
  p.pointer(ns1).record_fields(rrtype::A, 3600).u16(4).raw({192, 0, 2, 53});
  p.opt(1232, 0);
  return p.bytes();
}

TEST(ParseMessage, ReadsAResponseWithCompressedOwnersAndRdata) {
  ParseError error = ParseError::bad_name;
  auto msg = parse(cname_response(), &error);
  ASSERT_TRUE(msg) << to_string(error);
  EXPECT_EQ(error, ParseError::none);
  EXPECT_EQ(msg->id, 0x1234);
  EXPECT_TRUE(msg->qr);
  EXPECT_TRUE(msg->aa);
  EXPECT_TRUE(msg->rd);
  EXPECT_TRUE(msg->ra);
  EXPECT_FALSE(msg->tc);
  EXPECT_FALSE(msg->ad);
  EXPECT_FALSE(msg->cd);
  EXPECT_EQ(msg->rcode, rcode::NOERROR);
  ASSERT_NE(msg->question(), nullptr);
  EXPECT_EQ(msg->question()->name, name("www.example.com"));
  EXPECT_EQ(msg->question()->qtype, rrtype::A);

  ASSERT_EQ(msg->answer.size(), 2u);
  EXPECT_EQ(msg->answer[0].owner, name("www.example.com"));
  EXPECT_EQ(msg->answer[0].type, rrtype::CNAME);
  EXPECT_EQ(msg->answer[0].ttl, 300u);
  // Rdata names come out expanded, so cached copies compare byte for byte.
  EXPECT_EQ(msg->answer[0].rdata, name("web.example.com").wire());
  EXPECT_EQ(msg->answer[1].owner, name("web.example.com"));
  EXPECT_EQ(msg->answer[1].rdata, a_rdata(192, 0, 2, 1));

  ASSERT_EQ(msg->authority.size(), 1u);
  EXPECT_EQ(msg->authority[0].owner, name("example.com"));
  EXPECT_EQ(msg->authority[0].rdata, name("ns1.example.com").wire());
  ASSERT_EQ(msg->additional.size(), 1u);  // the OPT record lives in `edns`
  EXPECT_EQ(msg->additional[0].owner, name("ns1.example.com"));
  ASSERT_TRUE(msg->edns);
  EXPECT_EQ(msg->edns->udp_size, 1232);
}

TEST(ParseMessage, LiteralByteArrayWithSoaAndMxRdataCompressed) {
  // example.com. MX response with SOA in authority; offsets annotated.
  const std::vector<uint8_t> packet = {
      0xAB, 0xCD, 0x84, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,  // header
      // 12: example.com. MX IN
      7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x0F, 0x00, 0x01,
      // 29: example.com. 600 IN MX 10 mail.example.com.
      0xC0, 12, 0x00, 0x0F, 0x00, 0x01, 0x00, 0x00, 0x02, 0x58, 0x00, 0x09,  //
      0x00, 0x0A, 4, 'm', 'a', 'i', 'l', 0xC0, 12,
      // example.com. 900 IN SOA ns.example.com. admin.example.com. 1 7200 3600 1209600 300
      0xC0, 12, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x03, 0x84, 0x00, 33,      //
      2, 'n', 's', 0xC0, 12, 5, 'a', 'd', 'm', 'i', 'n', 0xC0, 12,             //
      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x1C, 0x20, 0x00, 0x00, 0x0E, 0x10,  //
      0x00, 0x12, 0x75, 0x00, 0x00, 0x00, 0x01, 0x2C};
  ParseError error = ParseError::none;
  auto msg = parse(packet, &error);
  ASSERT_TRUE(msg) << to_string(error);
  EXPECT_EQ(msg->id, 0xABCD);
  EXPECT_TRUE(msg->aa);
  ASSERT_EQ(msg->answer.size(), 1u);
  EXPECT_EQ(msg->answer[0].type, rrtype::MX);
  EXPECT_EQ(msg->answer[0].rdata, mx_rdata(10, "mail.example.com"));
  EXPECT_EQ(msg->answer[0].rdata_target(), name("mail.example.com"));
  ASSERT_EQ(msg->authority.size(), 1u);
  const auto &soa = msg->authority[0];
  EXPECT_EQ(soa.type, rrtype::SOA);
  EXPECT_EQ(soa.ttl, 900u);
  EXPECT_EQ(soa.rdata.size(),
            name("ns.example.com").wire().size() + name("admin.example.com").wire().size() + 20);
  EXPECT_EQ(soa_minimum(soa.rdata), 300u);
  EXPECT_FALSE(msg->edns);
}

TEST(ParseMessage, KeepsNamesInUnknownTypeRdataOpaque) {
  // RFC 3597 4: rdata of unknown types is never decompressed; a pointer-looking
  // octet pair in it is just data.
  PacketBuilder p;
  p.header(1, 0x8000, 1, 1, 0, 0);
  p.labels({"x"}).root().u16(65280).u16(rrclass::IN);
  p.pointer(12).record_fields(65280, 5).u16(2).pointer(12);
  auto msg = parse(p.bytes());
  ASSERT_TRUE(msg);
  ASSERT_EQ(msg->answer.size(), 1u);
  EXPECT_EQ(msg->answer[0].rdata, std::string("\xC0\x0C", 2));
}

TEST(ParseMessage, RejectsForwardPointers) {
  PacketBuilder p;
  p.header(1, 0, 1, 0, 0, 0);
  p.pointer(14).labels({"a"}).root().u16(rrtype::A).u16(rrclass::IN);  // 12 -> 14: forward
  EXPECT_EQ(parse_error(p.bytes()), ParseError::bad_name);
}

TEST(ParseMessage, RejectsAPointerToItself) {
  PacketBuilder p;
  p.header(1, 0, 1, 0, 0, 0);
  p.pointer(12).u16(rrtype::A).u16(rrclass::IN);
  EXPECT_EQ(parse_error(p.bytes()), ParseError::bad_name);
}

TEST(ParseMessage, RejectsPointerLoops) {
  // Two names point at each other: 12 -> 20 (forward) and 20 -> 12. A hop cap alone
  // would only stop this after 64 laps; refusing forward pointers stops it at once.
  PacketBuilder p;
  p.header(1, 0x8000, 1, 1, 0, 0);
  p.labels({"a"}).pointer(20).u16(rrtype::A).u16(rrclass::IN);  // 12: a -> 20
  ASSERT_EQ(p.here(), 20u);
  p.labels({"b"}).pointer(12).record_fields(rrtype::A, 1).u16(4).raw({1, 2, 3, 4});  // 20: b -> 12
  EXPECT_EQ(parse_error(p.bytes()), ParseError::bad_name);

  // A loop inside an owner name that starts after the question: 29 -> 29 + 2 labels.
  PacketBuilder q;
  q.header(1, 0x8000, 1, 1, 0, 0);
  q.labels({"a"}).root().u16(rrtype::A).u16(rrclass::IN);
  const size_t owner = q.here();
  q.labels({"b"}).pointer(owner).record_fields(rrtype::A, 1).u16(4).raw({1, 2, 3, 4});
  EXPECT_EQ(parse_error(q.bytes()), ParseError::bad_name);
}

TEST(ParseMessage, RejectsPointerLoopsInRdata) {
  PacketBuilder p;
  p.header(1, 0x8000, 1, 1, 0, 0);
  p.labels({"a"}).root().u16(rrtype::NS).u16(rrclass::IN);
  p.pointer(12).record_fields(rrtype::NS, 1).begin_rdata();
  const size_t target = p.here();
  p.labels({"ns"}).pointer(target).finish_rdata();
  EXPECT_EQ(parse_error(p.bytes()), ParseError::bad_rdata);
}

TEST(ParseMessage, RejectsReservedLabelTypes) {
  for (uint8_t first : {uint8_t{0x40}, uint8_t{0x80}}) {
    PacketBuilder p;
    p.header(1, 0, 1, 0, 0, 0);
    p.u8(first).u8('a').root().u16(rrtype::A).u16(rrclass::IN);
    EXPECT_EQ(parse_error(p.bytes()), ParseError::bad_name) << int(first);
  }
}

TEST(ParseMessage, RejectsNamesLongerThan255OctetsBuiltWithPointers) {
  // Each owner adds a 50-octet label to the previous one through a pointer; the sixth
  // expands past 255 octets although every step is a legal backward pointer.
  PacketBuilder p;
  const std::string label(50, 'x');
  p.header(1, 0x8000, 0, 6, 0, 0);
  size_t previous = 0;
  for (int i = 0; i < 6; ++i) {
    const size_t owner = p.here();
    p.labels({label});
    if (i == 0)
      p.root();
    else
      p.pointer(previous);
    p.record_fields(rrtype::A, 1).u16(4).raw({1, 2, 3, 4});
    previous = owner;
  }
  EXPECT_EQ(parse_error(p.bytes()), ParseError::bad_name);
}

TEST(ParseMessage, AcceptsAMaximumLengthName) {
  // 3 labels of 63 plus one of 61: 4 + 63*3 + 61 + 1 = 255 octets exactly.
  std::string text = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                     std::string(61, 'd');
  auto long_name = Name::from_text(text);
  ASSERT_TRUE(long_name);
  ASSERT_EQ(long_name->wire().size(), 255u);
  Message m;
  m.questions.push_back({*long_name, rrtype::A, rrclass::IN});
  m.answer.push_back({*long_name, rrtype::A, rrclass::IN, 5, a_rdata(1, 2, 3, 4)});
  auto msg = parse(encode_message(m).wire);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->answer[0].owner, *long_name);
}

TEST(ParseMessage, EveryTruncatedPrefixIsRejectedAsTruncated) {
  const auto packet = cname_response();
  ASSERT_TRUE(parse(packet));
  for (size_t length = 0; length < packet.size(); ++length) {
    const std::vector<uint8_t> prefix(packet.begin(), packet.begin() + static_cast<long>(length));
    ParseError error = ParseError::none;
    // A fresh heap copy of exactly `length` bytes lets AddressSanitizer catch any overread.
    EXPECT_FALSE(parse(prefix, &error)) << "length " << length;
    EXPECT_EQ(error, ParseError::truncated) << "length " << length << ": " << to_string(error);
  }
}

TEST(ParseMessage, EveryTruncatedPrefixOfAnEncodedReplyIsRejected) {
  Message m;
  m.id = 7;
  m.qr = true;
  m.questions.push_back({name("example.org"), rrtype::SOA, rrclass::IN});
  std::string soa =
      name("ns.example.org").wire() + name("hostmaster.example.org").wire() + std::string(20, '\1');
  m.authority.push_back({name("example.org"), rrtype::SOA, rrclass::IN, 60, soa});
  m.answer.push_back({name("example.org"), rrtype::MX, rrclass::IN, 60, mx_rdata(5, "mx.example.org")});
  m.add_extended_error({ede::STALE_ANSWER, "stale"});
  const std::string wire = encode_message(m).wire;
  ASSERT_TRUE(parse(wire));
  for (size_t length = 0; length < wire.size(); ++length) {
    const std::vector<uint8_t> prefix(wire.begin(), wire.begin() + static_cast<long>(length));
    ParseError error = ParseError::none;
    EXPECT_FALSE(parse(prefix, &error)) << "length " << length;
    // Cutting into the OPT record's options leaves an option that claims more than is
    // there: that is reported as truncation too.
    EXPECT_EQ(error, ParseError::truncated) << "length " << length << ": " << to_string(error);
  }
}

TEST(ParseMessage, RejectsTwoOptRecords) {
  PacketBuilder p;
  p.header(1, 0x8000, 1, 0, 0, 2);
  p.labels({"a"}).root().u16(rrtype::A).u16(rrclass::IN);
  p.opt(1232, 0).opt(512, 0);
  EXPECT_EQ(parse_error(p.bytes()), ParseError::multiple_opt);
}

TEST(ParseMessage, RejectsOptWithANonRootOwner) {
  PacketBuilder p;
  p.header(1, 0x8000, 1, 0, 0, 1);
  p.labels({"a"}).root().u16(rrtype::A).u16(rrclass::IN);
  p.pointer(12).u16(rrtype::OPT).u16(1232).u32(0).u16(0);
  EXPECT_EQ(parse_error(p.bytes()), ParseError::opt_not_root);
}

TEST(ParseMessage, RejectsOptOutsideTheAdditionalSection) {
  PacketBuilder p;
  p.header(1, 0x8000, 0, 1, 0, 0);
  p.opt(1232, 0);
  EXPECT_EQ(parse_error(p.bytes()), ParseError::bad_rdata);
}

TEST(ParseMessage, RejectsMalformedEdnsOptions) {
  PacketBuilder p;
  p.header(1, 0x8000, 0, 0, 0, 1);
  // One option header claiming 10 octets where only 2 follow.
  p.root()
      .u16(rrtype::OPT)
      .u16(1232)
      .u32(0)
      .begin_rdata()
      .u16(edns_option::COOKIE)
      .u16(10)
      .u16(0)
      .finish_rdata();
  EXPECT_EQ(parse_error(p.bytes()), ParseError::bad_rdata);
  PacketBuilder q;
  q.header(1, 0x8000, 0, 0, 0, 1);
  q.root().u16(rrtype::OPT).u16(1232).u32(0).begin_rdata().u16(edns_option::COOKIE).u8(0).finish_rdata();
  EXPECT_EQ(parse_error(q.bytes()), ParseError::bad_rdata);
}

TEST(ParseMessage, RejectsTrailingGarbage) {
  auto packet = cname_response();
  packet.push_back(0);
  EXPECT_EQ(parse_error(packet), ParseError::trailing_garbage);
}

TEST(ParseMessage, RejectsAddressRdataOfTheWrongLength) {
  PacketBuilder p;
  p.header(1, 0x8000, 0, 1, 0, 0);
  p.labels({"a"}).root().record_fields(rrtype::A, 1).u16(5).raw({1, 2, 3, 4, 5});
  EXPECT_EQ(parse_error(p.bytes()), ParseError::bad_rdata);
  PacketBuilder q;
  q.header(1, 0x8000, 0, 1, 0, 0);
  q.labels({"a"}).root().record_fields(rrtype::AAAA, 1).u16(4).raw({1, 2, 3, 4});
  EXPECT_EQ(parse_error(q.bytes()), ParseError::bad_rdata);
  PacketBuilder empty;
  empty.header(1, 0x8000, 0, 1, 0, 0);
  empty.labels({"a"}).root().record_fields(rrtype::A, 1).u16(0);
  EXPECT_EQ(parse_error(empty.bytes()), ParseError::bad_rdata);
}

TEST(ParseMessage, RejectsNameRdataWithExtraOrMissingOctets) {
  PacketBuilder extra;  // NS rdata: a name and one stray octet
  extra.header(1, 0x8000, 0, 1, 0, 0);
  extra.labels({"a"})
      .root()
      .record_fields(rrtype::NS, 1)
      .begin_rdata()
      .labels({"ns"})
      .root()
      .u8(0)
      .finish_rdata();
  EXPECT_EQ(parse_error(extra.bytes()), ParseError::bad_rdata);

  PacketBuilder overrun;  // rdlength 2, but the name inside runs on to 4 octets
  overrun.header(1, 0x8000, 0, 1, 0, 0);
  overrun.labels({"a"}).root().record_fields(rrtype::CNAME, 1).u16(2).labels({"ns"}).root();
  EXPECT_FALSE(parse(overrun.bytes()));

  PacketBuilder short_soa;  // SOA with a 19-octet fixed tail
  short_soa.header(1, 0x8000, 0, 1, 0, 0);
  short_soa.labels({"a"}).root().record_fields(rrtype::SOA, 1).begin_rdata().root().root();
  for (int i = 0; i < 19; ++i) short_soa.u8(0);
  short_soa.finish_rdata();
  EXPECT_EQ(parse_error(short_soa.bytes()), ParseError::bad_rdata);

  PacketBuilder short_mx;  // MX with only a preference
  short_mx.header(1, 0x8000, 0, 1, 0, 0);
  short_mx.labels({"a"}).root().record_fields(rrtype::MX, 1).u16(1).u8(0);
  EXPECT_EQ(parse_error(short_mx.bytes()), ParseError::bad_rdata);
}

TEST(ParseMessage, EnforcesTheRecordLimit) {
  Message m;
  for (int i = 0; i < 20; ++i)
    m.answer.push_back({name("a"), rrtype::A, rrclass::IN, 1, a_rdata(1, 2, 3, uint8_t(i))});
  const std::string wire = encode_message(m).wire;
  ParseLimits limits;
  limits.max_records = 10;
  ParseError error = ParseError::none;
  EXPECT_FALSE(parse_message(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), &error, limits));
  limits.max_records = 20;
  EXPECT_TRUE(parse_message(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), &error, limits));
}

TEST(ParseMessage, AcceptsANullErrorPointer) {
  const std::vector<uint8_t> junk = {1, 2, 3};
  EXPECT_FALSE(parse_message(junk.data(), junk.size(), nullptr));
}

TEST(ParseMessage, QuestionIsNullUnlessThereIsExactlyOne) {
  Message m;
  EXPECT_EQ(m.question(), nullptr);
  m.questions.push_back({name("a"), rrtype::A, rrclass::IN});
  EXPECT_NE(m.question(), nullptr);
  m.questions.push_back({name("b"), rrtype::A, rrclass::IN});
  EXPECT_EQ(m.question(), nullptr);
}

TEST(Edns, ReadsPayloadSizeDoBitVersionAndExtendedRcode) {
  PacketBuilder p;
  p.header(9, 0x8000 | 0x0000, 0, 0, 0, 1);
  // Extended rcode 1 in the TTL's top octet, version 0, DO set: rcode 16 (BADVERS).
  p.opt(4096, 0x01008000);
  auto msg = parse(p.bytes());
  ASSERT_TRUE(msg);
  ASSERT_TRUE(msg->edns);
  EXPECT_EQ(msg->edns->udp_size, 4096);
  EXPECT_TRUE(msg->edns->dnssec_ok);
  EXPECT_EQ(msg->edns->version, 0);
  EXPECT_EQ(msg->edns->extended_rcode, 1);
  EXPECT_EQ(msg->rcode, rcode::BADVERS);

  PacketBuilder q;  // header rcode 3 combined with extended 2: (2 << 4) | 3 = 35
  q.header(9, 0x8003, 0, 0, 0, 1);
  q.opt(512, 0x02050000);
  auto combined = parse(q.bytes());
  ASSERT_TRUE(combined);
  EXPECT_EQ(combined->rcode, 35);
  EXPECT_EQ(combined->edns->version, 5);
  EXPECT_FALSE(combined->edns->dnssec_ok);
}

TEST(Edns, WithoutOptTheRcodeIsFourBits) {
  PacketBuilder p;
  p.header(9, 0x8003, 0, 0, 0, 0);
  auto msg = parse(p.bytes());
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->rcode, rcode::NXDOMAIN);
  EXPECT_FALSE(msg->edns);
}

TEST(Edns, ExtendedRcodeSurvivesEncoding) {
  Message m;
  m.qr = true;
  m.rcode = rcode::BADVERS;
  m.edns = Edns{};
  m.edns->udp_size = 1400;
  m.edns->dnssec_ok = true;
  const std::string wire = encode_message(m).wire;
  EXPECT_EQ(read_u16(wire, 2) & 0xF, 0);  // the header keeps only the low four bits
  auto msg = parse(wire);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->rcode, rcode::BADVERS);
  EXPECT_EQ(msg->edns->udp_size, 1400);
  EXPECT_TRUE(msg->edns->dnssec_ok);
}

TEST(Edns, ExtendedErrorsAreAddedAndReadBack) {
  Message m;
  m.qr = true;
  m.rcode = rcode::SERVFAIL;
  EXPECT_TRUE(m.extended_errors().empty());
  m.add_extended_error({ede::DNSSEC_BOGUS, "signature expired for example."});
  m.add_extended_error({ede::NO_REACHABLE_AUTHORITY, ""});
  ASSERT_TRUE(m.edns);  // adding an EDE creates the OPT record
  m.edns->options.push_back({edns_option::COOKIE, std::string(8, 'c')});
  m.edns->options.push_back({edns_option::EXTENDED_ERROR, "x"});  // too short to be an EDE

  auto msg = parse(encode_message(m).wire);
  ASSERT_TRUE(msg);
  auto errors = msg->extended_errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].info_code, ede::DNSSEC_BOGUS);
  EXPECT_EQ(errors[0].extra_text, "signature expired for example.");
  EXPECT_EQ(errors[1].info_code, ede::NO_REACHABLE_AUTHORITY);
  EXPECT_EQ(errors[1].extra_text, "");
  ASSERT_EQ(msg->edns->options.size(), 4u);
  EXPECT_EQ(msg->edns->options[2].code, edns_option::COOKIE);
  EXPECT_EQ(msg->edns->options[2].data, std::string(8, 'c'));
}

// A message using every section, for the encode tests.
Message full_message() {
  Message m;
  m.id = 0xBEEF;
  m.qr = m.aa = m.rd = m.ra = m.ad = m.cd = true;
  m.rcode = rcode::NXDOMAIN;
  m.questions.push_back({name("Www.Example.com"), rrtype::A, rrclass::IN});
  m.answer.push_back(
      {name("www.example.com"), rrtype::CNAME, rrclass::IN, 300, name("web.example.com").wire()});
  m.answer.push_back({name("web.example.com"), rrtype::A, rrclass::IN, 60, a_rdata(192, 0, 2, 1)});
  m.answer.push_back({name("web.example.com"), rrtype::A, rrclass::IN, 60, a_rdata(192, 0, 2, 2)});
  std::string soa = name("ns1.example.com").wire() + name("hostmaster.example.com").wire();
  for (uint32_t field : {2024010101u, 7200u, 3600u, 1209600u, 300u})
    for (int shift = 24; shift >= 0; shift -= 8) soa.push_back(static_cast<char>((field >> shift) & 0xFF));
  m.authority.push_back({name("example.com"), rrtype::SOA, rrclass::IN, 900, soa});
  m.authority.push_back({name("example.com"), rrtype::NS, rrclass::IN, 3600, name("ns1.example.com").wire()});
  m.additional.push_back({name("ns1.example.com"), rrtype::A, rrclass::IN, 3600, a_rdata(192, 0, 2, 53)});
  m.additional.push_back(
      {name("ns1.example.com"), rrtype::AAAA, rrclass::IN, 3600, std::string(15, '\0') + "\1"});
  m.edns = Edns{};
  m.edns->udp_size = 1232;
  m.edns->dnssec_ok = true;
  return m;
}

void expect_same_records(const std::vector<ResourceRecord> &a, const std::vector<ResourceRecord> &b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].owner, b[i].owner) << i;
    EXPECT_EQ(a[i].type, b[i].type) << i;
    EXPECT_EQ(a[i].rclass, b[i].rclass) << i;
    EXPECT_EQ(a[i].ttl, b[i].ttl) << i;
    EXPECT_EQ(a[i].rdata, b[i].rdata) << i;
  }
}

TEST(EncodeMessage, RoundTripsEveryField) {
  const Message m = full_message();
  auto encoded = encode_message(m);
  EXPECT_FALSE(encoded.truncated);
  ParseError error = ParseError::none;
  auto back = parse(encoded.wire, &error);
  ASSERT_TRUE(back) << to_string(error);
  EXPECT_EQ(back->id, m.id);
  EXPECT_TRUE(back->qr && back->aa && back->rd && back->ra && back->ad && back->cd);
  EXPECT_FALSE(back->tc);
  EXPECT_EQ(back->rcode, m.rcode);
  ASSERT_EQ(back->questions.size(), 1u);
  EXPECT_EQ(back->questions[0].name.to_text(), "Www.Example.com.");  // case kept
  EXPECT_EQ(back->questions[0].qtype, rrtype::A);
  expect_same_records(back->answer, m.answer);
  expect_same_records(back->authority, m.authority);
  expect_same_records(back->additional, m.additional);
  ASSERT_TRUE(back->edns);
  EXPECT_TRUE(back->edns->dnssec_ok);
  EXPECT_EQ(back->edns->udp_size, 1232);
  // Encoding what was parsed gives the same bytes again.
  EXPECT_EQ(encode_message(*back).wire, encoded.wire);
}

TEST(EncodeMessage, KeepsTheOpcode) {
  Message m;
  m.opcode = 5;  // UPDATE
  auto back = parse(encode_message(m).wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->opcode, 5);
}

TEST(EncodeMessage, CompressionMakesTheEncodingSmaller) {
  const Message m = full_message();
  size_t uncompressed = 12;
  for (const auto &q : m.questions) uncompressed += q.name.wire().size() + 4;
  for (const auto *section : {&m.answer, &m.authority, &m.additional})
    for (const auto &rr : *section) uncompressed += rr.owner.wire().size() + 10 + rr.rdata.size();
  uncompressed += 11;  // OPT
  const std::string wire = encode_message(m).wire;
  EXPECT_LT(wire.size(), uncompressed);
  // The first answer's owner repeats the question name: a pointer to offset 12.
  const size_t first_answer = 12 + name("www.example.com").wire().size() + 4;
  EXPECT_EQ(read_u16(wire, first_answer), 0xC000 | 12);
  // Every owner after the question is written as at most some labels and a pointer:
  // exactly the savings, name by name, the parser undoes.
  auto back = parse(wire);
  ASSERT_TRUE(back);
  expect_same_records(back->answer, m.answer);
}

TEST(EncodeMessage, TruncatesTo512BySettingTcAndDroppingTheAnswer) {
  Message m;
  m.id = 77;
  m.qr = true;
  m.questions.push_back({name("big.example"), rrtype::TXT, rrclass::IN});
  for (int i = 0; i < 10; ++i)
    m.answer.push_back({name("big.example"), rrtype::TXT, rrclass::IN, 60,
                        std::string(1, char(99)) + std::string(99, char('a' + i))});
  m.authority.push_back({name("example"), rrtype::NS, rrclass::IN, 60, name("ns.example").wire()});
  m.additional.push_back({name("ns.example"), rrtype::A, rrclass::IN, 60, a_rdata(192, 0, 2, 1)});
  m.edns = Edns{};
  ASSERT_GT(encode_message(m).wire.size(), 512u);

  auto encoded = encode_message(m, 512);
  EXPECT_TRUE(encoded.truncated);
  EXPECT_LE(encoded.wire.size(), 512u);
  EXPECT_TRUE(encoded.ttl_offsets.empty());
  auto back = parse(encoded.wire);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->tc);
  EXPECT_EQ(back->id, 77);
  ASSERT_EQ(back->questions.size(), 1u);  // the question is echoed so the client can match it
  EXPECT_TRUE(back->answer.empty());
  EXPECT_TRUE(back->authority.empty());
  EXPECT_TRUE(back->additional.empty());
  EXPECT_TRUE(back->edns);  // the OPT record stays: the client learns our payload size

  // A size below the RFC 1035 floor is raised to 512, not honoured.
  auto tiny = encode_message(m, 100);
  EXPECT_TRUE(tiny.truncated);
  EXPECT_EQ(tiny.wire, encoded.wire);
}

TEST(EncodeMessage, DropsAdditionalRecordsThatDoNotFitWithoutSettingTc) {
  Message m;
  m.qr = true;
  m.questions.push_back({name("example"), rrtype::NS, rrclass::IN});
  m.answer.push_back({name("example"), rrtype::NS, rrclass::IN, 60, name("ns.example").wire()});
  for (int i = 0; i < 40; ++i)
    m.additional.push_back(
        {name("ns.example"), rrtype::AAAA, rrclass::IN, 60, std::string(15, '\0') + char(i)});
  m.edns = Edns{};
  auto encoded = encode_message(m, 512);
  EXPECT_FALSE(encoded.truncated);
  EXPECT_LE(encoded.wire.size(), 512u);
  auto back = parse(encoded.wire);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->tc);
  EXPECT_EQ(back->answer.size(), 1u);
  EXPECT_GT(back->additional.size(), 0u);
  EXPECT_LT(back->additional.size(), m.additional.size());
  EXPECT_TRUE(back->edns);  // room for the OPT record was kept
  // The records kept are the first ones, in order.
  for (size_t i = 0; i < back->additional.size(); ++i)
    EXPECT_EQ(back->additional[i].rdata, m.additional[i].rdata);
  EXPECT_EQ(encoded.ttl_offsets.size(), 1 + back->additional.size());
}

TEST(EncodeMessage, TtlOffsetsPointAtEveryRecordsTtl) {
  Message m = full_message();
  // Give every record a distinct TTL so that a wrong offset cannot match by accident.
  uint32_t ttl = 1000;
  std::vector<uint32_t> expected;
  for (auto *section : {&m.answer, &m.authority, &m.additional})
    for (auto &rr : *section) {
      rr.ttl = ++ttl;
      expected.push_back(rr.ttl);
    }
  auto encoded = encode_message(m);
  ASSERT_EQ(encoded.ttl_offsets.size(), expected.size());  // OPT excluded
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(read_u32(encoded.wire, encoded.ttl_offsets[i]), expected[i]) << i;

  // Rewriting through the offsets is what the cache does; the result still parses.
  std::string rewritten = encoded.wire;
  for (auto offset : encoded.ttl_offsets) {
    rewritten[offset] = rewritten[offset + 1] = rewritten[offset + 2] = 0;
    rewritten[offset + 3] = 7;
  }
  auto back = parse(rewritten);
  ASSERT_TRUE(back);
  for (const auto *section : {&back->answer, &back->authority, &back->additional})
    for (const auto &rr : *section) EXPECT_EQ(rr.ttl, 7u);
  EXPECT_TRUE(back->edns->dnssec_ok);  // the OPT "TTL" was left alone
}

TEST(EncodeQuery, WritesHeaderQuestionAndEdns) {
  Edns edns;
  edns.udp_size = 1232;
  edns.dnssec_ok = true;
  const std::string wire =
      encode_query(0x4242, {name("example.net"), rrtype::AAAA, rrclass::IN}, true, edns, true);
  EXPECT_EQ(read_u16(wire, 0), 0x4242);
  EXPECT_EQ(read_u16(wire, 2), 0x0110);  // RD and CD, nothing else
  EXPECT_EQ(read_u16(wire, 4), 1);
  EXPECT_EQ(read_u16(wire, 6), 0);
  EXPECT_EQ(read_u16(wire, 8), 0);
  EXPECT_EQ(read_u16(wire, 10), 1);
  EXPECT_EQ(wire.size(), 12 + name("example.net").wire().size() + 4 + 11);
  auto back = parse(wire);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->qr);
  EXPECT_TRUE(back->rd);
  EXPECT_TRUE(back->cd);
  EXPECT_EQ(back->question()->qtype, rrtype::AAAA);
  ASSERT_TRUE(back->edns);
  EXPECT_TRUE(back->edns->dnssec_ok);
  EXPECT_EQ(back->edns->udp_size, 1232);

  const std::string plain =
      encode_query(1, {name("example.net"), rrtype::A, rrclass::IN}, false, std::nullopt, false);
  EXPECT_EQ(read_u16(plain, 2), 0);
  EXPECT_EQ(read_u16(plain, 10), 0);
  EXPECT_EQ(plain.size(), 12 + name("example.net").wire().size() + 4);
}

TEST(ParseErrorText, NamesEveryError) {
  for (auto e : {ParseError::none, ParseError::truncated, ParseError::bad_name, ParseError::bad_rdata,
                 ParseError::multiple_opt, ParseError::opt_not_root, ParseError::trailing_garbage})
    EXPECT_STRNE(to_string(e), "unknown");
}

}  // namespace
}  // namespace rsv
