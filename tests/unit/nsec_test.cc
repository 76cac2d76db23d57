#include "dnssec/nsec.h"

#include <gtest/gtest.h>

#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

Name name(const char *text) {
  return *Name::from_text(text);
}

// The NSEC chain of a small signed zone "example." in the style of RFC 4035
// Appendix A: a signed delegation (a), an unsigned one (b), a CNAME (cn), an
// empty non-terminal (w, y.w) and a wildcard (*.w). The last NSEC points back to
// the apex.
const char *kZone =
    "$ORIGIN example.\n"
    "$TTL 3600\n"
    "@        NSEC a.example. NS SOA MX RRSIG NSEC DNSKEY\n"
    "a        NSEC ai.example. NS DS RRSIG NSEC\n"
    "ai       NSEC b.example. A HINFO AAAA RRSIG NSEC\n"
    "b        NSEC cn.example. NS RRSIG NSEC\n"
    "cn       NSEC ns1.example. CNAME RRSIG NSEC\n"
    "ns1      NSEC ns2.example. A RRSIG NSEC\n"
    "ns2      NSEC *.w.example. A RRSIG NSEC\n"
    "*.w      NSEC x.w.example. MX RRSIG NSEC\n"
    "x.w      NSEC x.y.w.example. MX RRSIG NSEC\n"
    "x.y.w    NSEC xx.example. MX RRSIG NSEC\n"
    "xx       NSEC example. A HINFO AAAA RRSIG NSEC\n";

std::vector<ResourceRecord> parse(const std::string &text) {
  std::vector<ResourceRecord> records;
  for (auto &line : parse_zone_text(text, "nsec_test")) records.push_back(line.record);
  return records;
}

// The zone's NSEC records whose owners are listed.
std::vector<ResourceRecord> nsecs(std::initializer_list<const char *> owners) {
  static const std::vector<ResourceRecord> all = parse(kZone);
  std::vector<ResourceRecord> chosen;
  for (const char *owner : owners) {
    for (const auto &record : all)
      if (record.owner == name(owner)) chosen.push_back(record);
  }
  EXPECT_EQ(chosen.size(), owners.size());
  return chosen;
}

const Name kExample = name("example.");

void expect_nsec_missing(const ValidationOutcome &outcome, const std::string &reason_part) {
  EXPECT_EQ(outcome.security, Security::bogus) << outcome.reason;
  EXPECT_EQ(outcome.ede, ede::NSEC_MISSING);
  EXPECT_NE(outcome.reason.find(reason_part), std::string::npos) << outcome.reason;
}

TEST(NsecBitmap, ReadsTypesFromParsedRecord) {
  auto rdata = parse_nsec_rdata(nsecs({"ai.example."})[0].rdata);
  ASSERT_TRUE(rdata);
  EXPECT_EQ(rdata->next, name("b.example."));
  EXPECT_TRUE(nsec_bitmap_has(rdata->bitmap, rrtype::A));
  EXPECT_TRUE(nsec_bitmap_has(rdata->bitmap, 13));  // HINFO
  EXPECT_TRUE(nsec_bitmap_has(rdata->bitmap, rrtype::AAAA));
  EXPECT_TRUE(nsec_bitmap_has(rdata->bitmap, rrtype::NSEC));
  EXPECT_FALSE(nsec_bitmap_has(rdata->bitmap, rrtype::MX));
  EXPECT_FALSE(nsec_bitmap_has(rdata->bitmap, rrtype::CNAME));
  EXPECT_FALSE(nsec_bitmap_has(rdata->bitmap, 1234));  // window 4 absent
}

TEST(NsecBitmap, HandlesSeveralWindows) {
  // RFC 4034 4.3 example: A MX RRSIG NSEC TYPE1234.
  std::string bitmap(
      "\x00\x06\x40\x01\x00\x00\x00\x03\x04\x1b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20",
      37);
  EXPECT_TRUE(nsec_bitmap_valid(bitmap));
  EXPECT_TRUE(nsec_bitmap_has(bitmap, rrtype::A));
  EXPECT_TRUE(nsec_bitmap_has(bitmap, rrtype::MX));
  EXPECT_TRUE(nsec_bitmap_has(bitmap, rrtype::RRSIG));
  EXPECT_TRUE(nsec_bitmap_has(bitmap, rrtype::NSEC));
  EXPECT_TRUE(nsec_bitmap_has(bitmap, 1234));
  EXPECT_FALSE(nsec_bitmap_has(bitmap, 1235));
  EXPECT_FALSE(nsec_bitmap_has(bitmap, rrtype::NS));
}

TEST(NsecBitmap, RejectsMalformedFields) {
  EXPECT_TRUE(nsec_bitmap_valid(""));
  EXPECT_FALSE(nsec_bitmap_valid(std::string("\x00", 1)));                                // no length
  EXPECT_FALSE(nsec_bitmap_valid(std::string("\x00\x00", 2)));                            // length 0
  EXPECT_FALSE(nsec_bitmap_valid(std::string("\x00\x21", 2) + std::string(33, '\xff')));  // length 33
  EXPECT_FALSE(nsec_bitmap_valid(std::string("\x00\x02\x40", 3)));                        // truncated
  EXPECT_FALSE(nsec_bitmap_valid(std::string("\x01\x01\x80\x00\x01\x40", 6)));  // windows out of order
  EXPECT_FALSE(nsec_bitmap_valid(std::string("\x00\x01\x40\x00\x01\x20", 6)));  // window repeated
  // A type after the damage is never reported.
  EXPECT_FALSE(nsec_bitmap_has(std::string("\x01\x01\x80\x00\x01\x40", 6), rrtype::A));
  EXPECT_FALSE(nsec_bitmap_has(std::string("\x00\x00\x00\x01\x40", 5), rrtype::A));
  // NSEC rdata with a malformed bitmap does not parse.
  EXPECT_FALSE(
      parse_nsec_rdata(std::string("\x01"
                                   "a\x00\x00\x00",
                                   5)));
  EXPECT_TRUE(
      parse_nsec_rdata(std::string("\x01"
                                   "a\x00\x00\x01\x40",
                                   6)));
  EXPECT_FALSE(
      parse_nsec_rdata(std::string("\x05"
                                   "a",
                                   2)));  // truncated name
}

TEST(NsecCovers, StrictGapInCanonicalOrder) {
  auto ns2 = nsecs({"ns2.example."})[0];  // ns2.example -> *.w.example
  EXPECT_TRUE(nsec_covers(ns2, name("ns3.example.")));
  EXPECT_TRUE(nsec_covers(ns2, name("w.example.")));
  EXPECT_TRUE(nsec_covers(ns2, name("sub.ns2.example.")));
  EXPECT_FALSE(nsec_covers(ns2, name("ns2.example.")));  // the owner exists
  EXPECT_FALSE(nsec_covers(ns2, name("*.w.example.")));  // so does next
  EXPECT_FALSE(nsec_covers(ns2, name("ns1.example.")));
  EXPECT_FALSE(nsec_covers(ns2, name("x.w.example.")));
}

TEST(NsecCovers, LastNsecWrapsToTheApex) {
  auto last = nsecs({"xx.example."})[0];  // xx.example -> example
  EXPECT_TRUE(nsec_covers(last, name("zz.example.")));
  EXPECT_TRUE(nsec_covers(last, name("a.xx.example.")));
  EXPECT_FALSE(nsec_covers(last, name("a.example.")));
  EXPECT_FALSE(nsec_covers(last, name("example.")));
}

TEST(NsecNxdomain, ProvenByCoveringNsecAndWildcardNsec) {
  // ml.example: cn.example -> ns1.example covers it; the closest encloser is example,
  // and the apex NSEC (example -> a.example) covers *.example.
  auto outcome = prove_nxdomain_nsec(name("ml.example."), nsecs({"cn.example.", "example."}), kExample);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
}

TEST(NsecNxdomain, OneNsecCanProveBoth) {
  // q.x.w.example and *.x.w.example both fall in x.w.example -> x.y.w.example.
  auto outcome = prove_nxdomain_nsec(name("q.x.w.example."), nsecs({"x.w.example."}), kExample);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
}

TEST(NsecNxdomain, GapThatDoesNotCoverTheNameIsBogus) {
  auto outcome = prove_nxdomain_nsec(name("ml.example."), nsecs({"b.example.", "example."}), kExample);
  expect_nsec_missing(outcome, "ml.example.");
}

TEST(NsecNxdomain, MissingWildcardProofIsBogus) {
  auto outcome = prove_nxdomain_nsec(name("ml.example."), nsecs({"cn.example."}), kExample);
  expect_nsec_missing(outcome, "*.example.");
}

TEST(NsecNxdomain, ExistingWildcardIsBogus) {
  // a.z.w.example would have been answered from *.w.example.
  auto outcome =
      prove_nxdomain_nsec(name("a.z.w.example."), nsecs({"x.y.w.example.", "*.w.example."}), kExample);
  expect_nsec_missing(outcome, "*.w.example.");
}

TEST(NsecNxdomain, EmptyNonTerminalIsNotNxdomain) {
  auto outcome = prove_nxdomain_nsec(name("w.example."), nsecs({"ns2.example.", "example."}), kExample);
  EXPECT_TRUE(outcome.is_bogus());
}

TEST(NsecNxdomain, LastNsecWrapsToTheApex) {
  auto outcome = prove_nxdomain_nsec(name("zz.example."), nsecs({"xx.example.", "example."}), kExample);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
}

TEST(NsecNxdomain, DelegationNsecCannotDenyNamesBelowIt) {
  // RFC 6840 4.1: b.example is an unsigned delegation; x.b.example lies in the
  // child zone, which the parent's NSEC cannot speak for.
  auto outcome = prove_nxdomain_nsec(name("x.b.example."), nsecs({"b.example.", "example."}), kExample);
  expect_nsec_missing(outcome, "x.b.example.");
}

TEST(NsecNxdomain, NsecFromAboveTheZoneIsIgnored) {
  // The parent's NSEC ns2.example -> zz.w.example would cover both q.w.example and
  // *.w.example, but the answer is for the zone w.example.
  auto from_parent = parse("ns2.example. 3600 NSEC zz.w.example. A RRSIG NSEC\n");
  auto outcome = prove_nxdomain_nsec(name("q.w.example."), from_parent, name("w.example."));
  expect_nsec_missing(outcome, "q.w.example.");
  // The same record is accepted for the zone it belongs to.
  EXPECT_TRUE(prove_nxdomain_nsec(name("q.w.example."), from_parent, kExample).is_secure());
}

TEST(NsecNxdomain, NameOutsideTheZoneIsBogus) {
  auto outcome = prove_nxdomain_nsec(name("ml.example.org."), nsecs({"cn.example.", "example."}), kExample);
  EXPECT_TRUE(outcome.is_bogus());
}

TEST(NsecNodata, NsecAtTheNameWithoutTheType) {
  auto outcome = prove_nodata_nsec(name("ns1.example."), rrtype::MX, nsecs({"ns1.example."}), kExample);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
}

TEST(NsecNodata, TypeListedIsBogus) {
  auto outcome = prove_nodata_nsec(name("ns1.example."), rrtype::A, nsecs({"ns1.example."}), kExample);
  expect_nsec_missing(outcome, "lists A");
}

TEST(NsecNodata, CnameInBitmapIsBogus) {
  auto outcome = prove_nodata_nsec(name("cn.example."), rrtype::A, nsecs({"cn.example."}), kExample);
  expect_nsec_missing(outcome, "CNAME");
}

TEST(NsecNodata, MissingNsecIsBogus) {
  auto outcome = prove_nodata_nsec(name("ns1.example."), rrtype::MX, nsecs({"ns2.example."}), kExample);
  expect_nsec_missing(outcome, "ns1.example.");
}

TEST(NsecNodata, EmptyNonTerminal) {
  // w.example and y.w.example own no records; names exist below them.
  EXPECT_TRUE(
      prove_nodata_nsec(name("w.example."), rrtype::A, nsecs({"ns2.example."}), kExample).is_secure());
  EXPECT_TRUE(
      prove_nodata_nsec(name("y.w.example."), rrtype::A, nsecs({"x.w.example."}), kExample).is_secure());
  // An NSEC that merely covers the name proves NXDOMAIN, not NODATA.
  EXPECT_TRUE(prove_nodata_nsec(name("ml.example."), rrtype::A, nsecs({"cn.example."}), kExample).is_bogus());
}

TEST(NsecNodata, DsAtDelegationFromParent) {
  auto outcome = prove_nodata_nsec(name("b.example."), rrtype::DS, nsecs({"b.example."}), kExample);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
  // The signed delegation has a DS.
  expect_nsec_missing(prove_nodata_nsec(name("a.example."), rrtype::DS, nsecs({"a.example."}), kExample),
                      "DS");
}

TEST(NsecNodata, DsDeniedByChildApexNsecIsBogus) {
  auto child_apex = parse("b.example. 3600 NSEC ns.b.example. NS SOA RRSIG NSEC DNSKEY\n");
  auto outcome = prove_nodata_nsec(name("b.example."), rrtype::DS, child_apex, name("b.example."));
  expect_nsec_missing(outcome, "child zone");
}

TEST(NsecNodata, ParentNsecAtDelegationCannotDenyChildData) {
  auto outcome = prove_nodata_nsec(name("b.example."), rrtype::A, nsecs({"b.example."}), kExample);
  expect_nsec_missing(outcome, "delegation");
}

TEST(NsecNodata, WildcardNodata) {
  // a.z.w.example AAAA: x.y.w.example -> xx.example covers it, the closest encloser
  // is w.example and *.w.example owns only MX.
  auto proof = nsecs({"x.y.w.example.", "*.w.example."});
  EXPECT_TRUE(prove_nodata_nsec(name("a.z.w.example."), rrtype::AAAA, proof, kExample).is_secure());
  expect_nsec_missing(prove_nodata_nsec(name("a.z.w.example."), rrtype::MX, proof, kExample), "lists MX");
  expect_nsec_missing(
      prove_nodata_nsec(name("a.z.w.example."), rrtype::AAAA, nsecs({"x.y.w.example."}), kExample),
      "*.w.example.");
}

TEST(NsecWildcardAnswer, NoCloserMatchProven) {
  auto outcome = prove_wildcard_answer_nsec(name("a.z.w.example."), name("w.example."),
                                            nsecs({"x.y.w.example."}), kExample);
  EXPECT_TRUE(outcome.is_secure()) << outcome.reason;
}

TEST(NsecWildcardAnswer, MissingNoCloserProofIsBogus) {
  expect_nsec_missing(prove_wildcard_answer_nsec(name("a.z.w.example."), name("w.example."),
                                                 nsecs({"x.w.example."}), kExample),
                      "a.z.w.example.");
  expect_nsec_missing(prove_wildcard_answer_nsec(name("a.z.w.example."), name("w.example."), {}, kExample),
                      "a.z.w.example.");
}

TEST(NsecWildcardAnswer, CloserEncloserExistsIsBogus) {
  // q.x.w.example cannot come from *.w.example: x.w.example exists and is closer.
  auto outcome = prove_wildcard_answer_nsec(name("q.x.w.example."), name("w.example."),
                                            nsecs({"x.w.example."}), kExample);
  EXPECT_TRUE(outcome.is_bogus());
}

TEST(NsecInsecureDelegation, NsWithoutDsAndSoa) {
  auto outcome = prove_insecure_delegation_nsec(name("b.example."), nsecs({"b.example."}), kExample);
  EXPECT_EQ(outcome.security, Security::insecure) << outcome.reason;
}

TEST(NsecInsecureDelegation, NotProvenCases) {
  expect_nsec_missing(prove_insecure_delegation_nsec(name("a.example."), nsecs({"a.example."}), kExample),
                      "DS");
  expect_nsec_missing(prove_insecure_delegation_nsec(name("ns1.example."), nsecs({"ns1.example."}), kExample),
                      "NS");
  expect_nsec_missing(prove_insecure_delegation_nsec(name("c.example."), nsecs({"b.example."}), kExample),
                      "c.example.");
  auto child_apex = parse("b.example. 3600 NSEC ns.b.example. NS SOA RRSIG NSEC DNSKEY\n");
  expect_nsec_missing(prove_insecure_delegation_nsec(name("b.example."), child_apex, kExample), "SOA");
}

}  // namespace
}  // namespace rsv
