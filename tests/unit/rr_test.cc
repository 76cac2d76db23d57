#include "resolver/wire/rr.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rsv {
namespace {

Name name(std::string_view text) {
  return *Name::from_text(text);
}

std::string u16_bytes(uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)};
}

std::string u32_bytes(uint32_t v) {
  return u16_bytes(static_cast<uint16_t>(v >> 16)) + u16_bytes(v & 0xFFFF);
}

std::string a_rdata(uint8_t last) {
  return std::string{'\xC0', '\x00', '\x02', static_cast<char>(last)};
}

// Minimal RRSIG rdata: type covered, algorithm 8, 2 labels, original TTL, expiration,
// inception, key tag, signer, and a short signature.
std::string rrsig_rdata(uint16_t covered, uint16_t key_tag = 12345) {
  return u16_bytes(covered) + "\x08\x02" + u32_bytes(3600) + u32_bytes(1700000000) + u32_bytes(1690000000) +
         u16_bytes(key_tag) + name("example.com").wire() + "SIGNATURE";
}

std::string soa_rdata(uint32_t serial, uint32_t minimum) {
  return name("ns1.example.com").wire() + name("hostmaster.example.com").wire() + u32_bytes(serial) +
         u32_bytes(7200) + u32_bytes(3600) + u32_bytes(1209600) + u32_bytes(minimum);
}

ResourceRecord record(std::string_view owner, uint16_t type, uint32_t ttl, std::string rdata,
                      uint16_t rclass = rrclass::IN) {
  return ResourceRecord{name(owner), type, rclass, ttl, std::move(rdata)};
}

TEST(GroupRrsets, GroupsByOwnerTypeAndClassInFirstSeenOrder) {
  std::vector<ResourceRecord> records = {
      record("www.example.com", rrtype::A, 300, a_rdata(1)),
      record("mail.example.com", rrtype::A, 300, a_rdata(9)),
      record("WWW.example.com", rrtype::A, 300, a_rdata(2)),  // same owner, other case
      record("www.example.com", rrtype::AAAA, 300, std::string(16, '\1')),
      record("www.example.com", rrtype::A, 300, a_rdata(3), rrclass::CH),
  };
  auto sets = group_rrsets(records);
  ASSERT_EQ(sets.size(), 4u);
  EXPECT_EQ(sets[0].owner, name("www.example.com"));
  EXPECT_EQ(sets[0].type, rrtype::A);
  EXPECT_EQ(sets[0].rdatas, (std::vector<std::string>{a_rdata(1), a_rdata(2)}));
  EXPECT_EQ(sets[1].owner, name("mail.example.com"));
  EXPECT_EQ(sets[2].type, rrtype::AAAA);
  EXPECT_EQ(sets[3].rclass, rrclass::CH);
  EXPECT_EQ(sets[3].rdatas.size(), 1u);
}

TEST(GroupRrsets, AttachesSignaturesToTheSetTheyCover) {
  std::vector<ResourceRecord> records = {
      record("example.com", rrtype::RRSIG, 300, rrsig_rdata(rrtype::NS)),  // before its data
      record("example.com", rrtype::NS, 300, name("ns1.example.com").wire()),
      record("example.com", rrtype::NS, 300, name("ns2.example.com").wire()),
      record("example.com", rrtype::SOA, 300, soa_rdata(1, 60)),
      record("example.com", rrtype::RRSIG, 300, rrsig_rdata(rrtype::SOA)),
      record("example.com", rrtype::RRSIG, 300, rrsig_rdata(rrtype::NS, 54321)),
  };
  auto sets = group_rrsets(records);
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].type, rrtype::NS);
  EXPECT_EQ(sets[0].rdatas.size(), 2u);
  ASSERT_EQ(sets[0].signatures.size(), 2u);
  EXPECT_EQ(sets[0].signatures[0].rrsig_type_covered(), rrtype::NS);
  EXPECT_EQ(sets[1].type, rrtype::SOA);
  ASSERT_EQ(sets[1].signatures.size(), 1u);
  EXPECT_EQ(sets[1].signatures[0].rrsig_type_covered(), rrtype::SOA);
}

TEST(GroupRrsets, KeepsSignaturesWithoutDataAsAnRrsigSet) {
  // A signature whose covered set is absent (or at another owner) is not dropped:
  // the validator reports it, and a query for type RRSIG needs it.
  std::vector<ResourceRecord> records = {
      record("a.example.com", rrtype::A, 60, a_rdata(1)),
      record("b.example.com", rrtype::RRSIG, 60, rrsig_rdata(rrtype::A)),
      record("b.example.com", rrtype::RRSIG, 30, rrsig_rdata(rrtype::TXT)),
  };
  auto sets = group_rrsets(records);
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_TRUE(sets[0].signatures.empty());
  EXPECT_EQ(sets[1].owner, name("b.example.com"));
  EXPECT_EQ(sets[1].type, rrtype::RRSIG);
  EXPECT_EQ(sets[1].rdatas.size(), 2u);
  EXPECT_EQ(sets[1].ttl, 30u);
}

TEST(GroupRrsets, DropsDuplicateRecords) {
  // RFC 2181 5: identical records in a set are one record.
  std::vector<ResourceRecord> records = {
      record("x.example", rrtype::A, 300, a_rdata(1)),
      record("x.example", rrtype::A, 300, a_rdata(1)),
      record("X.EXAMPLE", rrtype::A, 100, a_rdata(1)),
      record("x.example", rrtype::A, 300, a_rdata(2)),
  };
  auto sets = group_rrsets(records);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].rdatas, (std::vector<std::string>{a_rdata(1), a_rdata(2)}));
  EXPECT_EQ(sets[0].ttl, 100u);  // the duplicate's TTL still counts towards the minimum
}

TEST(GroupRrsets, DropsDuplicateSignatures) {
  // The same RRSIG twice (a server repeating the answer section, or an answer merged
  // with its own copy in the authority) must not make the validator check it twice.
  std::vector<ResourceRecord> records = {
      record("x.example", rrtype::A, 300, a_rdata(1)),
      record("x.example", rrtype::RRSIG, 300, rrsig_rdata(rrtype::A)),
      record("x.example", rrtype::RRSIG, 300, rrsig_rdata(rrtype::A)),
  };
  auto sets = group_rrsets(records);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].signatures.size(), 1u);
}

TEST(GroupRrsets, TakesTheSmallestTtl) {
  // RFC 2181 5.2: differing TTLs in a set are treated as the lowest.
  std::vector<ResourceRecord> records = {
      record("x.example", rrtype::TXT, 500,
             "\x01"
             "a"),
      record("x.example", rrtype::TXT, 20,
             "\x01"
             "b"),
      record("x.example", rrtype::TXT, 900,
             "\x01"
             "c"),
  };
  auto sets = group_rrsets(records);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].ttl, 20u);
  for (const auto &rr : sets[0].records()) EXPECT_EQ(rr.ttl, 20u);
}

TEST(GroupRrsets, EmptyInputGivesNoSets) {
  EXPECT_TRUE(group_rrsets({}).empty());
}

TEST(RRset, AddRecordsAndEstimate) {
  RRset set{name("x.example"), rrtype::A, rrclass::IN, 0, {}, {}};
  EXPECT_TRUE(set.empty());
  set.add(a_rdata(1), 50);
  EXPECT_EQ(set.ttl, 50u);  // the first record sets the TTL, whatever it was
  set.add(a_rdata(2), 80);
  EXPECT_EQ(set.ttl, 50u);
  set.add(a_rdata(2), 10);
  EXPECT_EQ(set.ttl, 10u);
  EXPECT_FALSE(set.empty());
  auto records = set.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].owner, name("x.example"));
  EXPECT_EQ(records[1].rdata, a_rdata(2));
  const size_t per_record = name("x.example").wire().size() + 10 + 4;
  EXPECT_EQ(set.wire_size_estimate(), 2 * per_record);
}

TEST(ResourceRecord, RdataTargetForNameTypes) {
  EXPECT_EQ(record("a", rrtype::NS, 1, name("ns.a").wire()).rdata_target(), name("ns.a"));
  EXPECT_EQ(record("a", rrtype::CNAME, 1, name("b").wire()).rdata_target(), name("b"));
  EXPECT_EQ(record("a", rrtype::DNAME, 1, name("b.c").wire()).rdata_target(), name("b.c"));
  EXPECT_EQ(record("a", rrtype::PTR, 1, name("host.d").wire()).rdata_target(), name("host.d"));
  EXPECT_EQ(record("a", rrtype::MX, 1, u16_bytes(10) + name("mx.a").wire()).rdata_target(), name("mx.a"));
  EXPECT_EQ(record("a", rrtype::SRV, 1, u16_bytes(1) + u16_bytes(2) + u16_bytes(53) + name("srv.a").wire())
                .rdata_target(),
            name("srv.a"));
  EXPECT_EQ(record("a", rrtype::NS, 1, Name::root().wire()).rdata_target(), Name::root());
}

TEST(ResourceRecord, RdataTargetRejectsOtherTypesAndBadRdata) {
  EXPECT_FALSE(record("a", rrtype::A, 1, a_rdata(1)).rdata_target());
  EXPECT_FALSE(record("a", rrtype::TXT, 1, name("b").wire()).rdata_target());
  EXPECT_FALSE(record("a", rrtype::NS, 1, "").rdata_target());
  EXPECT_FALSE(record("a", rrtype::NS, 1, name("b").wire() + "x").rdata_target());
  EXPECT_FALSE(record("a", rrtype::NS, 1,
                      std::string("\x03"
                                  "ab",
                                  3))
                   .rdata_target());
  EXPECT_FALSE(record("a", rrtype::CNAME, 1, std::string("\xC0\x0C", 2)).rdata_target());
  EXPECT_FALSE(record("a", rrtype::MX, 1, u16_bytes(10)).rdata_target());
  EXPECT_FALSE(record("a", rrtype::SRV, 1, u16_bytes(1) + u16_bytes(2)).rdata_target());
}

TEST(ResourceRecord, RrsigTypeCovered) {
  EXPECT_EQ(record("a", rrtype::RRSIG, 1, rrsig_rdata(rrtype::DNSKEY)).rrsig_type_covered(), rrtype::DNSKEY);
  EXPECT_EQ(record("a", rrtype::RRSIG, 1, std::string(1, '\0')).rrsig_type_covered(), 0);
  EXPECT_EQ(record("a", rrtype::A, 1, a_rdata(1)).rrsig_type_covered(), 0);
}

TEST(SoaMinimum, ReadsTheLastField) {
  EXPECT_EQ(soa_minimum(soa_rdata(2024010101, 300)), 300u);
  EXPECT_EQ(soa_minimum(soa_rdata(1, 0xFFFFFFFF)), 0xFFFFFFFFu);
  std::string soa = soa_rdata(1, 60);
  EXPECT_FALSE(soa_minimum(soa.substr(0, soa.size() - 1)));
  EXPECT_FALSE(soa_minimum(soa + "x"));
  EXPECT_FALSE(soa_minimum(""));
  EXPECT_FALSE(soa_minimum(name("only.one.name").wire() + std::string(20, '\0')));
}

TEST(ResourceRecord, ToTextPrintsZoneFileLines) {
  EXPECT_EQ(record("www.example.com", rrtype::A, 300, a_rdata(1)).to_text(),
            "www.example.com.\t300\tIN\tA\t192.0.2.1");
  EXPECT_EQ(record("example.com", rrtype::MX, 60, u16_bytes(10) + name("mail.example.com").wire()).to_text(),
            "example.com.\t60\tIN\tMX\t10 mail.example.com.");
  EXPECT_EQ(record("example.com", rrtype::SOA, 900, soa_rdata(2024010101, 300)).to_text(),
            "example.com.\t900\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2024010101 7200 3600 "
            "1209600 300");
  EXPECT_EQ(record("x.example", rrtype::TXT, 5, "\x05hello").to_text(), "x.example.\t5\tIN\tTXT\t\"hello\"");
  // RFC 3597 generic form for a type nobody knows.
  EXPECT_EQ(record("x.example", 65280, 5, "\xAB\xCD").to_text(), "x.example.\t5\tIN\tTYPE65280\t\\# 2 abcd");
}

TEST(ResourceRecord, ToTextSurvivesMalformedRdata) {
  // Logs must never crash on what an authority sent: A rdata of 3 octets.
  std::string text = record("bad.example", rrtype::A, 5, "abc").to_text();
  EXPECT_NE(text.find("bad.example."), std::string::npos);
}

TEST(RrTypes, TextConversions) {
  EXPECT_EQ(type_to_text(rrtype::AAAA), "AAAA");
  EXPECT_EQ(type_to_text(rrtype::NSEC3), "NSEC3");
  EXPECT_EQ(type_to_text(65280), "TYPE65280");
  EXPECT_EQ(type_from_text("AAAA"), rrtype::AAAA);
  EXPECT_EQ(type_from_text("mx"), rrtype::MX);
  EXPECT_EQ(type_from_text("TYPE65534"), 65534);
  EXPECT_EQ(type_from_text("NOSUCHTYPE"), 0);
  EXPECT_EQ(rcode_to_text(rcode::NXDOMAIN), "NXDOMAIN");
  EXPECT_EQ(rcode_to_text(rcode::BADVERS), "BADVERS");
  EXPECT_EQ(rcode_to_text(11), "RCODE11");
  EXPECT_TRUE(is_dnssec_type(rrtype::RRSIG));
  EXPECT_TRUE(is_dnssec_type(rrtype::DS));
  EXPECT_FALSE(is_dnssec_type(rrtype::A));
  EXPECT_FALSE(is_dnssec_type(rrtype::SOA));
}

}  // namespace
}  // namespace rsv
