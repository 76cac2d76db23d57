// RFC 5011 trust points driven by a manual clock: DNSKEY RRsets signed by ldns
// (tests/support/zone_signer.h) at each step, handed to TrustPoint::refresh.
#include "dnssec/rfc5011.h"

#include <gtest/gtest.h>

#include "dnssec/rrsig.h"
#include "tests/support/zone_signer.h"

namespace rsv {
namespace {

using testing::KeyRole;
using testing::SignatureSpec;
using testing::SignatureWindow;
using testing::SigningKey;

constexpr int64_t kDay = 86400;
constexpr int64_t kT0 = testing::kPinnedNow;

Name root() {
  return Name::root();
}

// The key as a revoked DNSKEY record: same key material, REVOKE bit set (RFC 5011 7).
ResourceRecord revoked(const SigningKey &key) {
  ResourceRecord rr = key.dnskey();
  rr.rdata[1] = static_cast<char>(static_cast<uint8_t>(rr.rdata[1]) | dnskey_flag::REVOKE);
  return rr;
}

// Who signs a DNSKEY RRset: a key as itself, or as its revoked self (the same private
// key, the revoked key's tag in the RRSIG: what a zone signed with a revoked key holds).
struct Signer {
  const SigningKey *key;
  bool as_revoked = false;
};

class Rfc5011Test : public ::testing::Test {
protected:
  Rfc5011Test()
      : ksk1(SigningKey::generate(root(), KeyRole::ksk)),
        ksk2(SigningKey::generate(root(), KeyRole::ksk)),
        ksk3(SigningKey::generate(root(), KeyRole::ksk)),
        zsk(SigningKey::generate(root(), KeyRole::zsk)),
        stranger(SigningKey::generate(root(), KeyRole::ksk)) {}

  // The DNSKEY RRset of the records given, signed at `now` (valid from a day before
  // to 30 days after) by each signer.
  RRset set(const std::vector<ResourceRecord> &keys, const std::vector<Signer> &signers, int64_t now,
            std::optional<SignatureWindow> window = std::nullopt) const {
    RRset out;
    out.owner = root();
    out.type = rrtype::DNSKEY;
    out.ttl = keys.front().ttl;
    for (const ResourceRecord &rr : keys) out.add(rr.rdata, rr.ttl);
    for (const Signer &signer : signers) {
      SignatureSpec spec;
      spec.with_window(window.value_or(SignatureWindow::around(now)));
      if (signer.as_revoked) spec.with_key_tag(key_tag(revoked(*signer.key).rdata));
      out.signatures.push_back(testing::sign_rrset(keys, *signer.key, spec));
    }
    return out;
  }

  RefreshReport refresh(TrustPoint &point, const RRset &dnskeys, int64_t now) const {
    return point.refresh(dnskeys, now, timers, limits);
  }

  static KeyState state_of(const TrustPoint &point, const SigningKey &key) {
    const ManagedKey *managed = point.find(key.key_tag(), key.algorithm());
    return managed ? managed->state : KeyState::start;
  }

  static TrustAnchor dnskey_anchor(const SigningKey &key) { return TrustAnchor{root(), {}, {key.dnskey()}}; }

  static std::vector<uint16_t> anchor_tags(const TrustPoint &point) {
    std::vector<uint16_t> tags;
    for (const ResourceRecord &rr : point.anchor().dnskey) tags.push_back(key_tag(rr.rdata));
    std::sort(tags.begin(), tags.end());
    return tags;
  }

  static std::vector<uint16_t> sorted(std::vector<uint16_t> tags) {
    std::sort(tags.begin(), tags.end());
    return tags;
  }

  SigningKey ksk1, ksk2, ksk3, zsk, stranger;
  Rfc5011Timers timers;
  DnssecConfig limits;
};

TEST_F(Rfc5011Test, StateNamesRoundTrip) {
  for (KeyState state : {KeyState::start, KeyState::add_pend, KeyState::valid, KeyState::missing,
                         KeyState::revoked, KeyState::removed})
    EXPECT_EQ(key_state_from_string(to_string(state)), state);
  EXPECT_EQ(std::string(to_string(KeyState::add_pend)), "AddPend");
  EXPECT_EQ(key_state_from_string("addpend"), std::nullopt);
}

TEST_F(Rfc5011Test, ConfiguredDnskeysAreValidFromTheStart) {
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  EXPECT_EQ(state_of(point, ksk1), KeyState::valid);
  EXPECT_EQ(anchor_tags(point), std::vector<uint16_t>{ksk1.key_tag()});
  EXPECT_EQ(point.trusted_key_tags(), std::vector<uint16_t>{ksk1.key_tag()});
}

TEST_F(Rfc5011Test, ADsAnchorBecomesTheKeyItMatchesAtTheFirstValidatedSet) {
  TrustPoint point = TrustPoint::from_anchor(TrustAnchor{root(), {ksk1.ds()}, {}}, kT0);
  EXPECT_EQ(point.trusted_key_tags(), std::vector<uint16_t>{ksk1.key_tag()});
  RefreshReport report =
      refresh(point, set({ksk1.dnskey(), ksk2.dnskey(), zsk.dnskey()}, {{&ksk1}}, kT0), kT0);
  ASSERT_TRUE(report.validated) << report.problem;
  EXPECT_TRUE(report.trusted_changed);
  EXPECT_TRUE(point.ds().empty());
  EXPECT_EQ(state_of(point, ksk1), KeyState::valid);
  // Another SEP key published alongside must wait like any new key; the ZSK is not followed.
  EXPECT_EQ(state_of(point, ksk2), KeyState::add_pend);
  EXPECT_EQ(state_of(point, zsk), KeyState::start);
  EXPECT_EQ(point.anchor().dnskey.size(), 1u);
  EXPECT_EQ(point.anchor().dnskey.front().rdata, ksk1.dnskey().rdata);
}

TEST_F(Rfc5011Test, ADsAnchorThatMatchesNoKeyLearnsNothing) {
  TrustPoint point = TrustPoint::from_anchor(TrustAnchor{root(), {stranger.ds()}, {}}, kT0);
  RefreshReport report = refresh(point, set({ksk1.dnskey(), zsk.dnskey()}, {{&ksk1}}, kT0), kT0);
  EXPECT_FALSE(report.validated);
  EXPECT_FALSE(report.state_changed);
  EXPECT_EQ(point.ds().size(), 1u);
  EXPECT_TRUE(point.keys().empty());
}

TEST_F(Rfc5011Test, ANewKeyIsPendingForTheHoldDownThenValid) {
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  const auto both = [&](int64_t now) {
    return set({ksk1.dnskey(), ksk2.dnskey(), zsk.dnskey()}, {{&ksk1}, {&ksk2}}, now);
  };
  RefreshReport first = refresh(point, both(kT0), kT0);
  ASSERT_TRUE(first.validated) << first.problem;
  EXPECT_TRUE(first.state_changed);
  EXPECT_FALSE(first.trusted_changed);
  ASSERT_EQ(first.changes.size(), 1u);
  EXPECT_NE(first.changes[0].find("Start -> AddPend"), std::string::npos) << first.changes[0];
  EXPECT_EQ(state_of(point, ksk2), KeyState::add_pend);
  EXPECT_EQ(point.find(ksk2.key_tag(), 13)->hold_down_until, kT0 + 30 * kDay);
  EXPECT_EQ(anchor_tags(point), std::vector<uint16_t>{ksk1.key_tag()});  // not trusted yet

  RefreshReport waiting = refresh(point, both(kT0 + 30 * kDay - 1), kT0 + 30 * kDay - 1);
  EXPECT_TRUE(waiting.validated);
  EXPECT_FALSE(waiting.state_changed);
  EXPECT_EQ(state_of(point, ksk2), KeyState::add_pend);

  RefreshReport accepted = refresh(point, both(kT0 + 30 * kDay), kT0 + 30 * kDay);
  EXPECT_TRUE(accepted.trusted_changed);
  ASSERT_EQ(accepted.changes.size(), 1u);
  EXPECT_NE(accepted.changes[0].find("AddPend -> Valid (add hold-down over)"), std::string::npos);
  EXPECT_EQ(state_of(point, ksk2), KeyState::valid);
  EXPECT_EQ(anchor_tags(point), sorted({ksk1.key_tag(), ksk2.key_tag()}));
}

TEST_F(Rfc5011Test, TheHoldDownIsAtLeastTheOriginalTtl) {
  // RFC 5011 2.4.1: 30 days or the original TTL of the first set holding the new key,
  // whichever is greater; here a lab hold-down of 10 s meets a TTL of one hour.
  timers.add_hold_down = 10;
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  auto signed_set = [&](int64_t now) { return set({ksk1.dnskey(), ksk2.dnskey()}, {{&ksk1}}, now); };
  ASSERT_TRUE(refresh(point, signed_set(kT0), kT0).validated);
  EXPECT_EQ(point.original_ttl, 3600u);
  EXPECT_EQ(point.find(ksk2.key_tag(), 13)->hold_down_until, kT0 + 3600);
  refresh(point, signed_set(kT0 + 3599), kT0 + 3599);
  EXPECT_EQ(state_of(point, ksk2), KeyState::add_pend);
  refresh(point, signed_set(kT0 + 3600), kT0 + 3600);
  EXPECT_EQ(state_of(point, ksk2), KeyState::valid);
}

TEST_F(Rfc5011Test, AKeyThatDisappearsWhilePendingStartsOver) {
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  ASSERT_TRUE(refresh(point, set({ksk1.dnskey(), ksk2.dnskey()}, {{&ksk1}}, kT0), kT0).validated);
  EXPECT_EQ(state_of(point, ksk2), KeyState::add_pend);
  RefreshReport gone = refresh(point, set({ksk1.dnskey()}, {{&ksk1}}, kT0 + 10 * kDay), kT0 + 10 * kDay);
  EXPECT_TRUE(gone.state_changed);
  EXPECT_EQ(state_of(point, ksk2), KeyState::start);
  EXPECT_EQ(point.find(ksk2.key_tag(), 13), nullptr);
  // Back at day 20: 30 more days from then, so not yet at day 31.
  ASSERT_TRUE(refresh(point, set({ksk1.dnskey(), ksk2.dnskey()}, {{&ksk1}}, kT0 + 20 * kDay), kT0 + 20 * kDay)
                  .validated);
  EXPECT_EQ(point.find(ksk2.key_tag(), 13)->hold_down_until, kT0 + 50 * kDay);
  refresh(point, set({ksk1.dnskey(), ksk2.dnskey()}, {{&ksk1}}, kT0 + 31 * kDay), kT0 + 31 * kDay);
  EXPECT_EQ(state_of(point, ksk2), KeyState::add_pend);
  refresh(point, set({ksk1.dnskey(), ksk2.dnskey()}, {{&ksk1}}, kT0 + 50 * kDay), kT0 + 50 * kDay);
  EXPECT_EQ(state_of(point, ksk2), KeyState::valid);
}

TEST_F(Rfc5011Test, AValidKeyMissingFromTheSetStaysTrustedUntilItReturns) {
  TrustPoint point = TrustPoint::from_anchor(TrustAnchor{root(), {}, {ksk1.dnskey(), ksk2.dnskey()}}, kT0);
  RefreshReport missing =
      refresh(point, set({ksk2.dnskey(), zsk.dnskey()}, {{&ksk2}}, kT0 + kDay), kT0 + kDay);
  ASSERT_TRUE(missing.validated) << missing.problem;
  EXPECT_FALSE(missing.trusted_changed);
  EXPECT_EQ(state_of(point, ksk1), KeyState::missing);
  EXPECT_EQ(anchor_tags(point), sorted({ksk1.key_tag(), ksk2.key_tag()}));
  // A Missing key still validates (RFC 5011 4: it remains a trust anchor).
  EXPECT_TRUE(refresh(point, set({ksk1.dnskey()}, {{&ksk1}}, kT0 + 2 * kDay), kT0 + 2 * kDay).validated);
  EXPECT_EQ(state_of(point, ksk1), KeyState::valid);
  EXPECT_EQ(state_of(point, ksk2), KeyState::missing);
}

TEST_F(Rfc5011Test, ASelfSignedRevocationTakesEffectAtOnceAndIsRemovedAfterTheHoldDown) {
  TrustPoint point = TrustPoint::from_anchor(TrustAnchor{root(), {}, {ksk1.dnskey(), ksk2.dnskey()}}, kT0);
  RRset revoking = set({revoked(ksk1), ksk2.dnskey(), zsk.dnskey()}, {{&ksk1, true}, {&ksk2}}, kT0);
  RefreshReport report = refresh(point, revoking, kT0);
  ASSERT_TRUE(report.validated) << report.problem;
  EXPECT_TRUE(report.trusted_changed);
  EXPECT_EQ(state_of(point, ksk1), KeyState::revoked);
  EXPECT_EQ(anchor_tags(point), std::vector<uint16_t>{ksk2.key_tag()});
  ASSERT_EQ(report.changes.size(), 1u);
  EXPECT_NE(report.changes[0].find("Valid -> Revoked"), std::string::npos) << report.changes[0];
  // Published again without the bit: revocation is permanent (RFC 5011 2.1).
  refresh(point, set({ksk1.dnskey(), ksk2.dnskey()}, {{&ksk1}, {&ksk2}}, kT0 + kDay), kT0 + kDay);
  EXPECT_EQ(state_of(point, ksk1), KeyState::revoked);
  // The remove hold-down counts from the revocation, whether or not the key is still published.
  refresh(point, set({ksk2.dnskey(), zsk.dnskey()}, {{&ksk2}}, kT0 + 30 * kDay - 1), kT0 + 30 * kDay - 1);
  EXPECT_EQ(state_of(point, ksk1), KeyState::revoked);
  RefreshReport removed =
      refresh(point, set({ksk2.dnskey(), zsk.dnskey()}, {{&ksk2}}, kT0 + 30 * kDay), kT0 + 30 * kDay);
  EXPECT_EQ(state_of(point, ksk1), KeyState::removed);
  EXPECT_FALSE(removed.trusted_changed);
  EXPECT_EQ(anchor_tags(point), std::vector<uint16_t>{ksk2.key_tag()});
}

TEST_F(Rfc5011Test, TheRevokeBitWithoutTheKeysOwnSignatureRevokesNothing) {
  TrustPoint point = TrustPoint::from_anchor(TrustAnchor{root(), {}, {ksk1.dnskey(), ksk2.dnskey()}}, kT0);
  // Signed by ksk2 only: anyone who can publish in the zone could set the bit.
  RefreshReport report = refresh(point, set({revoked(ksk1), ksk2.dnskey()}, {{&ksk2}}, kT0), kT0);
  EXPECT_TRUE(report.validated);
  EXPECT_EQ(state_of(point, ksk1), KeyState::valid);
  // Nor does a signature by another key that claims the revoked key's tag.
  RRset claimed = set({revoked(ksk1), ksk2.dnskey()}, {{&ksk2}}, kT0);
  SignatureSpec spec;
  spec.with_window(SignatureWindow::around(kT0)).with_key_tag(key_tag(revoked(ksk1).rdata));
  claimed.signatures.push_back(testing::sign_rrset({revoked(ksk1), ksk2.dnskey()}, stranger, spec));
  refresh(point, claimed, kT0);
  EXPECT_EQ(state_of(point, ksk1), KeyState::valid);
}

TEST_F(Rfc5011Test, RevocationNeedsNoOtherSignatureButTeachesNothingElse) {
  // RFC 5011 2.1: the revoked key's own signature is the authority. A set that only
  // it signs revokes the key, and (no trusted key left to validate it) teaches nothing.
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  RefreshReport report = refresh(point, set({revoked(ksk1), ksk2.dnskey()}, {{&ksk1, true}}, kT0), kT0);
  EXPECT_FALSE(report.validated);
  EXPECT_TRUE(report.trusted_changed);
  EXPECT_EQ(state_of(point, ksk1), KeyState::revoked);
  EXPECT_EQ(state_of(point, ksk2), KeyState::start);
  // Nothing left to trust: the anchor is empty, so the zone fails closed.
  EXPECT_TRUE(point.anchor().dnskey.empty());
  EXPECT_TRUE(point.anchor().ds.empty());
  EXPECT_FALSE(refresh(point, set({ksk2.dnskey()}, {{&ksk2}}, kT0 + kDay), kT0 + kDay).validated);
}

TEST_F(Rfc5011Test, AForgedSetIsIgnored) {
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  // A stranger's key, signing a set that also lists ours.
  RefreshReport forged = refresh(point, set({ksk1.dnskey(), stranger.dnskey()}, {{&stranger}}, kT0), kT0);
  EXPECT_FALSE(forged.validated);
  EXPECT_FALSE(forged.state_changed);
  EXPECT_NE(forged.problem.find("does not validate"), std::string::npos) << forged.problem;
  EXPECT_EQ(state_of(point, stranger), KeyState::start);
  // A signature by our key over a different set does not carry over to this one.
  RRset spliced = set({ksk1.dnskey(), stranger.dnskey()}, {}, kT0);
  spliced.signatures = set({ksk1.dnskey()}, {{&ksk1}}, kT0).signatures;
  EXPECT_FALSE(refresh(point, spliced, kT0).validated);
  EXPECT_EQ(state_of(point, stranger), KeyState::start);
}

TEST_F(Rfc5011Test, AnUnsignedOrExpiredSetIsIgnored) {
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  EXPECT_FALSE(refresh(point, set({ksk1.dnskey(), ksk2.dnskey()}, {}, kT0), kT0).validated);
  EXPECT_FALSE(
      refresh(point,
              set({ksk1.dnskey(), ksk2.dnskey()}, {{&ksk1}}, kT0, SignatureWindow::expired_before(kT0)), kT0)
          .validated);
  EXPECT_TRUE(point.keys().size() == 1 && state_of(point, ksk2) == KeyState::start);
  // Not a DNSKEY set of the zone at all.
  RRset other = set({ksk1.dnskey()}, {{&ksk1}}, kT0);
  other.owner = *Name::from_text("example.");
  EXPECT_FALSE(refresh(point, other, kT0).validated);
  EXPECT_FALSE(refresh(point, RRset{}, kT0).validated);
}

TEST_F(Rfc5011Test, ASetSignedOnlyByThePendingKeyIsIgnored) {
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  ASSERT_TRUE(refresh(point, set({ksk1.dnskey(), ksk2.dnskey()}, {{&ksk1}}, kT0), kT0).validated);
  // After the hold-down, but signed by the new key alone: it proves nothing.
  const int64_t later = kT0 + 31 * kDay;
  RefreshReport report =
      refresh(point, set({ksk1.dnskey(), ksk2.dnskey(), ksk3.dnskey()}, {{&ksk2}}, later), later);
  EXPECT_FALSE(report.validated);
  EXPECT_EQ(state_of(point, ksk2), KeyState::add_pend);
  EXPECT_EQ(state_of(point, ksk3), KeyState::start);
  EXPECT_EQ(anchor_tags(point), std::vector<uint16_t>{ksk1.key_tag()});
  // The same set signed by the trusted key completes the rollover.
  ASSERT_TRUE(refresh(point, set({ksk1.dnskey(), ksk2.dnskey()}, {{&ksk1}}, later), later).validated);
  EXPECT_EQ(state_of(point, ksk2), KeyState::valid);
}

TEST_F(Rfc5011Test, APendingKeyWhoseVouchersAreAllRevokedWaitsAgain) {
  // ksk2 is first seen when only ksk1 is trusted; ksk3 (pending before it) becomes
  // Valid; then ksk1 is revoked. RFC 5011 2.2: ksk2's acceptance starts over.
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  ASSERT_TRUE(refresh(point, set({ksk1.dnskey(), ksk3.dnskey()}, {{&ksk1}}, kT0), kT0).validated);
  const int64_t t2 = kT0 + kDay;
  ASSERT_TRUE(
      refresh(point, set({ksk1.dnskey(), ksk2.dnskey(), ksk3.dnskey()}, {{&ksk1}}, t2), t2).validated);
  const int64_t t3 = kT0 + 30 * kDay;
  ASSERT_TRUE(
      refresh(point, set({ksk1.dnskey(), ksk2.dnskey(), ksk3.dnskey()}, {{&ksk1}}, t3), t3).validated);
  ASSERT_EQ(state_of(point, ksk3), KeyState::valid);
  ASSERT_EQ(state_of(point, ksk2), KeyState::add_pend);
  const int64_t t4 = t3 + 1;
  RefreshReport report =
      refresh(point, set({revoked(ksk1), ksk2.dnskey(), ksk3.dnskey()}, {{&ksk1, true}, {&ksk3}}, t4), t4);
  ASSERT_TRUE(report.validated) << report.problem;
  EXPECT_EQ(state_of(point, ksk1), KeyState::revoked);
  EXPECT_EQ(point.find(ksk2.key_tag(), 13)->hold_down_until, t4 + 30 * kDay);
  const int64_t original_end = t2 + 30 * kDay;
  refresh(point, set({ksk2.dnskey(), ksk3.dnskey()}, {{&ksk3}}, original_end), original_end);
  EXPECT_EQ(state_of(point, ksk2), KeyState::add_pend);
  refresh(point, set({ksk2.dnskey(), ksk3.dnskey()}, {{&ksk3}}, t4 + 30 * kDay), t4 + 30 * kDay);
  EXPECT_EQ(state_of(point, ksk2), KeyState::valid);
}

TEST_F(Rfc5011Test, AZoneSigningKeyIsNeverFollowed) {
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  ASSERT_TRUE(refresh(point, set({ksk1.dnskey(), zsk.dnskey()}, {{&ksk1}}, kT0), kT0).validated);
  EXPECT_EQ(point.keys().size(), 1u);
}

TEST_F(Rfc5011Test, TheActiveRefreshIntervalFollowsRfc5011Section2_3) {
  // Default TTL 3600 (SigningKey), signatures valid 30 days: max(1 h, min(15 d, 30 min, 15 d)) = 1 h.
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  RefreshReport report = refresh(point, set({ksk1.dnskey()}, {{&ksk1}}, kT0), kT0);
  EXPECT_EQ(report.next_refresh, kT0 + 3600);
  // A lab floor of 1 s lets half the TTL through.
  timers.min_refresh = 1;
  EXPECT_EQ(refresh(point, set({ksk1.dnskey()}, {{&ksk1}}, kT0), kT0).next_refresh, kT0 + 1800);
  // Long TTL (4 days), signatures ending in 20 days: half the TTL, 2 days.
  SigningKey long_ttl = SigningKey::generate(root(), KeyRole::ksk, 13, std::nullopt, 4 * 86400);
  TrustPoint slow = TrustPoint::from_anchor(dnskey_anchor(long_ttl), kT0);
  RRset slow_set =
      set({long_ttl.dnskey()}, {{&long_ttl}}, kT0,
          SignatureWindow{static_cast<uint32_t>(kT0 - kDay), static_cast<uint32_t>(kT0 + 20 * kDay)});
  EXPECT_EQ(refresh(slow, slow_set, kT0).next_refresh, kT0 + 2 * kDay);
  // Signatures ending in 2 days: half of that, 1 day.
  slow_set = set({long_ttl.dnskey()}, {{&long_ttl}}, kT0,
                 SignatureWindow{static_cast<uint32_t>(kT0 - kDay), static_cast<uint32_t>(kT0 + 2 * kDay)});
  EXPECT_EQ(refresh(slow, slow_set, kT0).next_refresh, kT0 + kDay);
  // Never more than 15 days (TTL of 40 days).
  SigningKey huge_ttl = SigningKey::generate(root(), KeyRole::ksk, 13, std::nullopt, 40 * 86400);
  TrustPoint rare = TrustPoint::from_anchor(dnskey_anchor(huge_ttl), kT0);
  RRset rare_set =
      set({huge_ttl.dnskey()}, {{&huge_ttl}}, kT0,
          SignatureWindow{static_cast<uint32_t>(kT0 - kDay), static_cast<uint32_t>(kT0 + 90 * kDay)});
  EXPECT_EQ(refresh(rare, rare_set, kT0).next_refresh, kT0 + 15 * kDay);
}

TEST_F(Rfc5011Test, TheRetryTimeFollowsRfc5011Section2_3) {
  // Nothing known yet: the 1 h floor.
  TrustPoint point = TrustPoint::from_anchor(dnskey_anchor(ksk1), kT0);
  RefreshReport failed = point.refresh_failed("timeout", kT0, timers);
  EXPECT_FALSE(failed.validated);
  EXPECT_EQ(failed.problem, "timeout");
  EXPECT_EQ(failed.next_refresh, kT0 + 3600);
  EXPECT_EQ(point.last_problem, "timeout");
  // TTL 4 days, signatures ending in 20 days: a tenth of the TTL, 9.6 hours.
  SigningKey long_ttl = SigningKey::generate(root(), KeyRole::ksk, 13, std::nullopt, 4 * 86400);
  TrustPoint slow = TrustPoint::from_anchor(dnskey_anchor(long_ttl), kT0);
  ASSERT_TRUE(
      refresh(slow,
              set({long_ttl.dnskey()}, {{&long_ttl}}, kT0,
                  SignatureWindow{static_cast<uint32_t>(kT0 - kDay), static_cast<uint32_t>(kT0 + 20 * kDay)}),
              kT0)
          .validated);
  EXPECT_TRUE(slow.last_problem.empty());
  EXPECT_EQ(slow.refresh_failed("SERVFAIL", kT0, timers).next_refresh, kT0 + 4 * kDay / 10);
  // Never more than a day (TTL of 40 days).
  SigningKey huge_ttl = SigningKey::generate(root(), KeyRole::ksk, 13, std::nullopt, 40 * 86400);
  TrustPoint rare = TrustPoint::from_anchor(dnskey_anchor(huge_ttl), kT0);
  ASSERT_TRUE(
      refresh(rare,
              set({huge_ttl.dnskey()}, {{&huge_ttl}}, kT0,
                  SignatureWindow{static_cast<uint32_t>(kT0 - kDay), static_cast<uint32_t>(kT0 + 90 * kDay)}),
              kT0)
          .validated);
  EXPECT_EQ(rare.refresh_failed("SERVFAIL", kT0, timers).next_refresh, kT0 + kDay);
  // A failed validation is a failure too: retried, not refreshed.
  RefreshReport bad = refresh(point, set({ksk1.dnskey()}, {{&stranger}}, kT0), kT0);
  EXPECT_EQ(bad.next_refresh, kT0 + 3600);
}

TEST_F(Rfc5011Test, TrustedKeyTagsAreAscendingAndIncludeDsUntilReplaced) {
  TrustPoint point = TrustPoint::from_anchor(TrustAnchor{root(), {ksk1.ds()}, {ksk2.dnskey()}}, kT0);
  EXPECT_EQ(point.trusted_key_tags(), sorted({ksk1.key_tag(), ksk2.key_tag()}));
  EXPECT_EQ(without_revoke_bit(revoked(ksk1).rdata), ksk1.dnskey().rdata);
  EXPECT_EQ(without_revoke_bit("x"), "x");
}

TEST_F(Rfc5011Test, ARevokedConfiguredKeyIsNotTrusted) {
  TrustPoint point = TrustPoint::from_anchor(TrustAnchor{root(), {}, {revoked(ksk1), ksk2.dnskey()}}, kT0);
  EXPECT_EQ(point.trusted_key_tags(), std::vector<uint16_t>{ksk2.key_tag()});
}

}  // namespace
}  // namespace rsv
