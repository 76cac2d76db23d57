// Locally served zones: the built-in ones (RFC 6761, 6303, 7686, 7793, 8375), the
// zone types, local data with its PTR, zone files with wildcards and delegations.
#include "resolver/policy/local_zones.h"

#include <gtest/gtest.h>

#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

Question q(const char *name, uint16_t type = rrtype::A) {
  return Question{*Name::from_text(name), type, rrclass::IN};
}

ResourceRecord rr(const std::string &text) {
  auto records = parse_zone_text(text + "\n", "test");
  EXPECT_EQ(records.size(), 1u) << text;
  return records.at(0).record;
}

TEST(LocalZones, LocalhostIsLoopbackAtEveryName) {
  LocalZones zones;
  for (const char *name : {"localhost.", "LocalHost.", "www.localhost.", "a.b.localhost."}) {
    auto a = zones.answer(q(name));
    ASSERT_TRUE(a) << name;
    ASSERT_EQ(a->answer.size(), 1u) << name;
    EXPECT_EQ(a->answer[0].rdata, std::string("\x7f\x00\x00\x01", 4));
    EXPECT_EQ(a->answer[0].owner, *Name::from_text(name));
    EXPECT_TRUE(a->authoritative);
  }
  auto aaaa = zones.answer(q("localhost.", rrtype::AAAA));
  ASSERT_TRUE(aaaa);
  EXPECT_EQ(aaaa->answer.at(0).rdata.back(), 1);
  auto mx = zones.answer(q("localhost.", rrtype::MX));
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->kind, LocalAnswer::Kind::nodata);
  EXPECT_EQ(mx->authority.at(0).type, rrtype::SOA);
  auto ptr = zones.answer(q("1.0.0.127.in-addr.arpa.", rrtype::PTR));
  ASSERT_TRUE(ptr);
  EXPECT_EQ(ptr->answer.at(0).rdata_target(), Name::from_text("localhost."));
}

TEST(LocalZones, SpecialUseAndPrivateReverseZonesAreNxdomainWithAnSoa) {
  LocalZones zones;
  for (const char *name :
       {"foo.invalid.", "x.onion.", "printer.home.arpa.", "1.1.168.192.in-addr.arpa.",
        "5.0.0.10.in-addr.arpa.", "1.2.20.172.in-addr.arpa.", "9.9.254.169.in-addr.arpa.",
        "1.0.64.100.in-addr.arpa.",
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", "1.b.e.f.ip6.arpa."}) {
    auto a = zones.answer(q(name, rrtype::PTR));
    ASSERT_TRUE(a) << name;
    EXPECT_EQ(a->rcode, rcode::NXDOMAIN) << name;
    ASSERT_EQ(a->authority.size(), 1u);
    EXPECT_EQ(a->authority[0].type, rrtype::SOA);
    EXPECT_EQ(a->authority[0].ttl, 10800u);  // RFC 6303 3
  }
  // Public space is not local: 172.32/12 is outside RFC 1918, 100.128 outside 100.64/10.
  EXPECT_FALSE(zones.answer(q("1.1.32.172.in-addr.arpa.", rrtype::PTR)));
  EXPECT_FALSE(zones.answer(q("1.0.128.100.in-addr.arpa.", rrtype::PTR)));
  EXPECT_FALSE(zones.answer(q("www.example.com.")));
  // The zone apex itself: its SOA when asked, NODATA for a type it lacks.
  auto apex = zones.answer(q("home.arpa.", rrtype::SOA));
  ASSERT_TRUE(apex);
  ASSERT_EQ(apex->answer.size(), 1u);
  EXPECT_EQ(apex->answer[0].type, rrtype::SOA);
  EXPECT_EQ(zones.answer(q("home.arpa.", rrtype::MX))->kind, LocalAnswer::Kind::nodata);
}

TEST(LocalZones, LocalDataAndItsPtr) {
  LocalZones zones;
  zones.add_record(rr("nas.home.arpa. 3600 IN A 192.168.1.10"), true);
  zones.add_record(rr("nas.home.arpa. 3600 IN AAAA fd00::10"), true);
  zones.add_record(rr("www.home.arpa. 3600 IN CNAME nas.home.arpa."), true);
  auto a = zones.answer(q("nas.home.arpa."));
  ASSERT_TRUE(a);
  ASSERT_EQ(a->answer.size(), 1u);
  EXPECT_EQ(a->answer[0].ttl, 3600u);
  auto ptr = zones.answer(q("10.1.168.192.in-addr.arpa.", rrtype::PTR));
  ASSERT_TRUE(ptr);
  ASSERT_EQ(ptr->answer.size(), 1u);
  EXPECT_EQ(ptr->answer[0].rdata_target(), Name::from_text("nas.home.arpa."));
  auto ptr6 = zones.answer(
      q("0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", rrtype::PTR));
  ASSERT_TRUE(ptr6);
  EXPECT_EQ(ptr6->answer.size(), 1u);
  // The CNAME is followed inside the local zone.
  auto chain = zones.answer(q("www.home.arpa."));
  ASSERT_TRUE(chain);
  ASSERT_EQ(chain->answer.size(), 2u);
  EXPECT_EQ(chain->answer[1].type, rrtype::A);
  // Another type at a name with data: NODATA; an unknown name: NXDOMAIN.
  EXPECT_EQ(zones.answer(q("nas.home.arpa.", rrtype::MX))->kind, LocalAnswer::Kind::nodata);
  EXPECT_EQ(zones.answer(q("tv.home.arpa."))->kind, LocalAnswer::Kind::nxdomain);
}

TEST(LocalZones, DataOutsideEveryZoneIsTransparent) {
  LocalZones zones;
  zones.add_record(rr("router.example.com. 300 IN A 192.0.2.1"), false);
  ASSERT_TRUE(zones.answer(q("router.example.com.")));
  EXPECT_FALSE(zones.answer(q("router.example.com.", rrtype::AAAA)));  // resolved as usual
  EXPECT_FALSE(zones.answer(q("other.example.com.")));
}

TEST(LocalZones, TypesOverrideTheBuiltIns) {
  LocalZones zones;
  zones.set_zone(*Name::from_text("10.in-addr.arpa."), LocalZoneType::transparent);  // e.g. a corporate DNS
  EXPECT_FALSE(zones.answer(q("1.0.0.10.in-addr.arpa.", rrtype::PTR)));
  zones.set_zone(*Name::from_text("ads.example."), LocalZoneType::refuse);
  auto refused = zones.answer(q("x.ads.example."));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->rcode, rcode::REFUSED);
  ASSERT_TRUE(refused->error);
  EXPECT_EQ(refused->error->info_code, ede::PROHIBITED);
  zones.set_zone(*Name::from_text("silent.example."), LocalZoneType::deny);
  EXPECT_EQ(zones.answer(q("silent.example."))->kind, LocalAnswer::Kind::drop);
  zones.set_zone(*Name::from_text("lan."), LocalZoneType::static_zone);
  EXPECT_EQ(zones.answer(q("printer.lan."))->rcode, rcode::NXDOMAIN);
}

TEST(LocalZones, ZoneFilesWithWildcardsAndDelegations) {
  LocalZones zones;
  const Name apex = *Name::from_text("lab.home.arpa.");
  std::vector<ResourceRecord> records;
  for (const auto &r : parse_zone_text("$ORIGIN lab.home.arpa.\n"
                                       "@ 300 IN SOA ns hostmaster 7 3600 600 86400 120\n"
                                       "@ 300 IN NS ns\n"
                                       "ns 300 IN A 192.168.2.1\n"
                                       "*.dev 300 IN A 192.168.2.50\n"
                                       "host.ent 300 IN A 192.168.2.60\n"
                                       "sub 300 IN NS ns.sub\n"
                                       "ns.sub 300 IN A 192.168.3.1\n",
                                       "lab.zone"))
    records.push_back(r.record);
  zones.add_auth_zone(apex, records);
  auto wild = zones.answer(q("anything.dev.lab.home.arpa."));
  ASSERT_TRUE(wild);
  ASSERT_EQ(wild->answer.size(), 1u);
  EXPECT_EQ(wild->answer[0].owner, *Name::from_text("anything.dev.lab.home.arpa."));
  EXPECT_EQ(zones.answer(q("ent.lab.home.arpa."))->kind, LocalAnswer::Kind::nodata);  // empty non-terminal
  auto missing = zones.answer(q("missing.lab.home.arpa."));
  EXPECT_EQ(missing->rcode, rcode::NXDOMAIN);
  EXPECT_EQ(missing->authority.at(0).ttl, 120u);  // min(SOA TTL, MINIMUM): RFC 2308 5
  auto referral = zones.answer(q("www.sub.lab.home.arpa."));
  ASSERT_TRUE(referral);
  EXPECT_EQ(referral->kind, LocalAnswer::Kind::referral);
  EXPECT_FALSE(referral->authoritative);
  EXPECT_EQ(referral->authority.at(0).type, rrtype::NS);
  EXPECT_EQ(referral->additional.size(), 1u);
  EXPECT_THROW(zones.add_auth_zone(*Name::from_text("nosoa.home.arpa."),
                                   {rr("a.nosoa.home.arpa. 300 IN A 192.0.2.1")}),
               std::runtime_error);
  EXPECT_THROW(zones.add_auth_zone(apex, {rr("outside.example. 300 IN SOA a. b. 1 2 3 4 5")}),
               std::runtime_error);
}

TEST(LocalZones, ALocalCnameLoopEnds) {
  LocalZones zones;
  zones.add_record(rr("a.home.arpa. 300 IN CNAME b.home.arpa."), false);
  zones.add_record(rr("b.home.arpa. 300 IN CNAME a.home.arpa."), false);
  auto a = zones.answer(q("a.home.arpa."));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->answer.size(), 2u);
}

}  // namespace
}  // namespace rsv
