// Reply classification (resolver/iter/classify.h): every class, and the lame cases,
// with the AA bit set and clear.
#include "resolver/iter/classify.h"

#include <gtest/gtest.h>

#include "tests/unit/test_records.h"

namespace rsv {
namespace {

using testing::n;
using testing::records;

struct Reply {
  Message message;
  Reply(uint16_t code, bool aa) {
    message.qr = true;
    message.aa = aa;
    message.rcode = code;
  }
  Reply &answer(const std::string &text) {
    auto r = records(text);
    message.answer.insert(message.answer.end(), r.begin(), r.end());
    return *this;
  }
  Reply &authority(const std::string &text) {
    auto r = records(text);
    message.authority.insert(message.authority.end(), r.begin(), r.end());
    return *this;
  }
};

Classification classify(const Reply &reply, const char *qname, uint16_t qtype, const char *zone,
                        bool forwarding = false) {
  return classify_reply(reply.message, Question{n(qname), qtype, rrclass::IN}, n(zone),
                        {n("ns.example.com."), n("ns2.example.com.")}, forwarding);
}

constexpr const char *kSoa = "example.com. SOA ns.example.com. h.example.com. 1 3600 600 86400 300\n";

TEST(Classify, AnAnswerWithOrWithoutAa) {
  for (bool aa : {true, false}) {
    Reply reply(rcode::NOERROR, aa);
    reply.answer("www.example.com. A 192.0.2.1\n");
    EXPECT_EQ(classify(reply, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::answer) << aa;
  }
}

TEST(Classify, DataWithoutAaNextToADelegationIsAReferral) {
  Reply reply(rcode::NOERROR, false);
  reply.answer("www.sub.example.com. A 192.0.2.1\n").authority("sub.example.com. NS ns.sub.example.com.\n");
  auto c = classify(reply, "www.sub.example.com.", rrtype::A, "example.com.");
  EXPECT_EQ(c.reply_class, ReplyClass::referral);
  EXPECT_EQ(c.referral_child, n("sub.example.com."));
  reply.message.aa = true;
  EXPECT_EQ(classify(reply, "www.sub.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::answer);
}

TEST(Classify, CnameAndDnameChains) {
  Reply cname(rcode::NOERROR, true);
  cname.answer("www.example.com. CNAME web.example.net.\n");
  EXPECT_EQ(classify(cname, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::alias);
  cname.answer("web.example.net. A 192.0.2.1\n");
  EXPECT_EQ(classify(cname, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::answer);
  EXPECT_EQ(classify(cname, "www.example.com.", rrtype::CNAME, "example.com.").reply_class, ReplyClass::answer)
      << "asked for the CNAME itself";
  Reply dname(rcode::NOERROR, false);
  dname.answer("old.example.com. DNAME new.example.com.\nwww.new.example.com. A 192.0.2.2\n");
  EXPECT_EQ(classify(dname, "www.old.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::answer);
}

TEST(Classify, ReferralDownward) {
  Reply reply(rcode::NOERROR, false);
  reply.authority("sub.example.com. NS ns1.sub.example.com.\n");
  auto c = classify(reply, "www.sub.example.com.", rrtype::A, "example.com.");
  EXPECT_EQ(c.reply_class, ReplyClass::referral);
  EXPECT_EQ(c.referral_child, n("sub.example.com."));
}

TEST(Classify, ReferralsUpwardSidewaysOrToTheZoneItself) {
  Reply up(rcode::NOERROR, false);
  up.authority("com. NS a.gtld.\n");
  EXPECT_EQ(classify(up, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::lame);
  Reply sideways(rcode::NOERROR, false);
  sideways.authority("other.com. NS ns.other.com.\n");
  EXPECT_EQ(classify(sideways, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::lame);
  // The zone's own NS set, no data: NODATA from the zone, with or without AA...
  Reply itself(rcode::NOERROR, false);
  itself.authority("example.com. NS ns.example.com.\n");
  EXPECT_EQ(classify(itself, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::nodata);
  // ...but without AA, an NS set for the zone naming other servers is a referral loop.
  Reply loop(rcode::NOERROR, false);
  loop.authority("example.com. NS ns.elsewhere.net.\n");
  EXPECT_EQ(classify(loop, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::lame);
  loop.message.aa = true;
  EXPECT_EQ(classify(loop, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::nodata);
}

TEST(Classify, NodataWithTheZonesSoaWithOrWithoutAa) {
  for (bool aa : {true, false}) {
    Reply reply(rcode::NOERROR, aa);
    reply.authority(kSoa);
    EXPECT_EQ(classify(reply, "www.example.com.", rrtype::AAAA, "example.com.").reply_class, ReplyClass::nodata);
  }
  // The SOA of another zone (a parent's, or a sibling's) is no NODATA of this one.
  Reply other(rcode::NOERROR, true);
  other.authority("com. SOA a.gtld. h.gtld. 1 3600 600 86400 300\n");
  auto c = classify(other, "www.example.com.", rrtype::A, "example.com.");
  EXPECT_EQ(c.reply_class, ReplyClass::lame);
  EXPECT_NE(c.why.find("SOA of com."), std::string::npos) << c.why;
}

TEST(Classify, TheZonesSoaCountsWhereverItStandsInTheAuthoritySection) {
  // A server of both com. and example.com. may put the parent's SOA first; without AA
  // the zone's own SOA, second, is what makes the negative reply the zone's.
  constexpr const char *kParentSoa = "com. SOA a.gtld. h.gtld. 1 3600 600 86400 300\n";
  Reply nodata(rcode::NOERROR, false);
  nodata.authority(kParentSoa).authority(kSoa);
  EXPECT_EQ(classify(nodata, "www.example.com.", rrtype::AAAA, "example.com.").reply_class,
            ReplyClass::nodata);
  Reply nxdomain(rcode::NXDOMAIN, false);
  nxdomain.authority(kParentSoa).authority(kSoa);
  EXPECT_EQ(classify(nxdomain, "nope.example.com.", rrtype::A, "example.com.").reply_class,
            ReplyClass::nxdomain);
  // Only foreign SOAs, in any order: still lame, and the reason names the first.
  Reply foreign(rcode::NXDOMAIN, false);
  foreign.authority(kParentSoa)
      .authority("example.net. SOA ns.example.net. h.example.net. 1 3600 600 86400 300\n");
  auto c = classify(foreign, "nope.example.com.", rrtype::A, "example.com.");
  EXPECT_EQ(c.reply_class, ReplyClass::lame);
  EXPECT_NE(c.why.find("SOA of com."), std::string::npos) << c.why;
}

TEST(Classify, AnEmptyReplyIsNodataOnlyWithAa) {
  Reply authoritative(rcode::NOERROR, true);
  EXPECT_EQ(classify(authoritative, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::nodata);
  Reply not_authoritative(rcode::NOERROR, false);
  EXPECT_EQ(classify(not_authoritative, "www.example.com.", rrtype::A, "example.com.").reply_class,
            ReplyClass::lame);
  EXPECT_EQ(classify(not_authoritative, "www.example.com.", rrtype::A, "example.com.", true).reply_class,
            ReplyClass::nodata)
      << "a forwarder never sets AA";
}

TEST(Classify, NxdomainNeedsAaOrTheZonesSoa) {
  Reply with_soa(rcode::NXDOMAIN, false);
  with_soa.authority(kSoa);
  EXPECT_EQ(classify(with_soa, "nope.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::nxdomain);
  Reply with_aa(rcode::NXDOMAIN, true);
  EXPECT_EQ(classify(with_aa, "nope.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::nxdomain);
  Reply neither(rcode::NXDOMAIN, false);
  EXPECT_EQ(classify(neither, "nope.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::lame);
  // A chain that leaves the zone: the NXDOMAIN speaks of the target; asked elsewhere.
  neither.answer("nope.example.com. CNAME x.example.net.\n");
  EXPECT_EQ(classify(neither, "nope.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::alias);
}

TEST(Classify, AnAnswerAboutAnotherNameIsLame) {
  Reply reply(rcode::NOERROR, true);
  reply.answer("other.example.com. A 192.0.2.9\n");
  auto c = classify(reply, "www.example.com.", rrtype::A, "example.com.");
  EXPECT_EQ(c.reply_class, ReplyClass::lame);
  EXPECT_NE(c.why.find("does not answer"), std::string::npos) << c.why;
  reply.answer("www.example.com. AAAA 2001:db8::1\n");
  EXPECT_EQ(classify(reply, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::lame)
      << "another type of the name, without the zone's SOA";
  reply.authority(kSoa);
  EXPECT_EQ(classify(reply, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::nodata);
}

TEST(Classify, ErrorRcodesAreLame) {
  for (uint8_t code : {rcode::SERVFAIL, rcode::REFUSED, rcode::NOTIMP, rcode::FORMERR, uint8_t{9}}) {
    Reply reply(code, true);
    reply.answer("www.example.com. A 192.0.2.1\n");
    EXPECT_EQ(classify(reply, "www.example.com.", rrtype::A, "example.com.").reply_class, ReplyClass::lame) << code;
  }
}

TEST(Classify, ADsQuestionReferredIntoTheChildIsLame) {
  Reply reply(rcode::NOERROR, false);
  reply.authority("sub.example.com. NS ns.sub.example.com.\n");
  EXPECT_EQ(classify(reply, "sub.example.com.", rrtype::DS, "example.com.").reply_class, ReplyClass::lame);
  // A referral toward a deeper cut on the way is still a referral.
  EXPECT_EQ(classify(reply, "a.b.sub.example.com.", rrtype::DS, "example.com.").reply_class, ReplyClass::referral);
}

TEST(Classify, AForwarderNeverRefers) {
  Reply reply(rcode::NOERROR, false);
  reply.authority("sub.example.com. NS ns.sub.example.com.\n");
  EXPECT_EQ(classify(reply, "www.sub.example.com.", rrtype::A, ".", true).reply_class, ReplyClass::lame);
}

}  // namespace
}  // namespace rsv
