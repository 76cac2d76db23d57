"""Forgeries made of real signatures (dnssec_attacker.py, issue 6).

sec. delegates victim.sec (NSEC) and victim3.sec (NSEC3 opt-out) to the
attacker (signed_hierarchy.ATTACK_ZONES), which proxies every question to an
honest NSD serving the signed zone, except the questions of
dnssec_attacker.FORGERIES and SUBTREES: those it answers with real, validly
signed records put together wrongly.

CASES is the one table: per case the question, what the attacker sends, and
the outcome, an O(rcode, ad, ede[, max_ttl]) or Both(resolverd=O, unbound=O,
why) where Debian's unbound 1.17 differs (`ede` as in test_dnssec.py).  Each
case runs on a fresh validating resolver, DO=1, and must reach the attacker's
forgery (its log says so).  Right after, after(case) asks for existing names
(the same name with AAAA, the zone's www, the names a forged NSEC would deny:
AFTER_EXTRA), which must get the zone's answer with AD: nothing was poisoned,
neither in the cache nor in the aggressive NSEC cache (unbound:
aggressive-nsec: yes).

resolverd's specification, as the lead set it: every RRSIG over a data RRset
unusable (unsupported algorithm, signer not the zone, type covered not the
RRset's) -> EDE 10; a signature of the zone that does not verify (another
owner, a key that is not in the DNSKEY set) -> 6; a denial that does not hold
(no SOA, no / foreign / insufficient NSEC or NSEC3, a bitmap listing the type,
a wildcard answer without its proof) -> 12, and so is a DS denied without a
valid proof (a signed child made to look insecure).  All SERVFAIL without AD.
Five cases must not fail: an extra unusable RRSIG next to a valid one is
ignored (RFC 6840 5.11), a raised TTL is capped (RFC 4035 5.3.3), and real
opt-out NSEC3 records, replayed or current, make insecure answers that no
validator can tell from true ones (RFC 5155 12.2).
"""

import os
from collections import namedtuple

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import dnssec_attacker
from helpers import show
from signed_hierarchy import (ATTACK_ZONES, FORGED_A, INS3, KID3_AD, KID3_B, KID3_R, KID_AD,
                              KID_DS, KID_NP, OLD_A, TAMPERED_A, VICTIM, VICTIM3)
from test_dnssec import ask, check_ede, check_outcome, data, ede_codes

O = namedtuple("O", "rcode ad ede max_ttl", defaults=(None,))  # max_ttl: of the answer
Both = namedtuple("Both", "resolverd unbound why")
Case = namedtuple("Case", "qname qtype sends expect")


def bogus(ede, unbound=None, why=None):
    """SERVFAIL, no AD, EDE `ede`; unbound=: the EDE Debian's unbound gives instead (why)."""
    o = O("SERVFAIL", False, ede)
    return o if unbound is None else Both(o, o._replace(ede=unbound), why)


SECURE = O("NOERROR", True, None)
INSECURE = O("NOERROR", False, None)

# why unbound 1.17's EDE differs
UB_ALG = "unbound 1.17 names the RRSIG's unknown algorithm: EDE 1 (Unsupported DNSKEY Algorithm)"
UB_KEY = "unbound 1.17: no DNSKEY has the RRSIG's key tag -> EDE 9 (DNSKEY Missing)"
UB_NONE = ("unbound 1.17 drops NSEC not signed by the zone and reports a denial left without "
           "signed proof as EDE 10 (RRSIGs Missing)")
UB_PROOF = "unbound 1.17 reports a proof that does not hold as EDE 6 (DNSSEC Bogus)"
UB_SIGNER = ("unbound 1.17 looks for the DNSKEY of the child that signed the proof (or of the "
             "child made insecure) and reports EDE 9 (DNSKEY Missing)")

V, V3 = VICTIM, VICTIM3
CASES = {
    # -- signatures (victim.sec, NSEC) -----------------------------------------
    "rrsig-unknown-alg": Case(
        f"algo.{V}", "A", "changed A; its only RRSIG, the real one, says algorithm 200",
        bogus(10, 1, UB_ALG)),
    "rrsig-signer-unsigned-zone": Case(
        f"signer.{V}", "A", "changed A; its only RRSIG names the unsigned insecure.sec as signer",
        bogus(10)),
    "rrsig-wrong-type": Case(
        f"wrongtype.{V}", "A", "changed A with the name's real RRSIG over TXT", bogus(10)),
    "rrsig-other-owner": Case(
        f"otherowner.{V}", "A", "www's real A + RRSIG (same label count) moved to this name",
        bogus(6)),
    "rrsig-labels-exceed-owner": Case(
        f"more.{V}", "A", "a.ent's real A + RRSIG (labels 4) moved to a 3-label name", bogus(6)),
    "rrsig-fewer-labels": Case(
        f"x.fewer.{V}", "A", "www's real A + RRSIG (labels 3) moved to a 4-label name: a "
        "would-be wildcard expansion, no NSEC", bogus(6)),
    "rrsig-removed-key": Case(
        f"replay.{V}", "A", "the old A (OLD_A) with its real RRSIG by a ZSK since removed from "
        "the DNSKEY set", bogus(6, 9, UB_KEY)),
    "rrsig-valid-plus-unknown-alg": Case(
        f"multi.{V}", "A", "the real A + RRSIG, plus a copy of that RRSIG saying algorithm 200",
        SECURE),
    "ttl-raised": Case(
        f"ttl.{V}", "A", "the real A + RRSIG with the TTL raised from 300 to a week",
        Both(SECURE._replace(max_ttl=300), SECURE._replace(max_ttl=86400),
             "unbound 1.17 keeps the raised TTL (up to its cache-max-ttl, 86400), not the "
             "RRSIG's original TTL (RFC 4035 5.3.3: MUST NOT be greater)")),
    # -- denials (victim.sec, NSEC) ----------------------------------------------
    "nx-child-apex-nsec": Case(
        f"nxkid.{V}", "A", "NXDOMAIN: the real SOA + kid.victim.sec's apex NSEC (next = itself)",
        bogus(12, 10, UB_NONE)),
    "nx-foreign-nsec-no-soa": Case(
        f"nxnosoa.{V}", "A", "NXDOMAIN: no SOA, only kid.victim.sec's apex NSEC",
        bogus(12, 10, UB_NONE)),
    "nx-empty-authority": Case(
        f"nxempty.{V}", "A", "NXDOMAIN with an empty authority section", bogus(12, 10, UB_NONE)),
    "nx-after-cname": Case(
        f"cname.{V}", "A", "the real signed CNAME to www, then NXDOMAIN (for www) with an empty "
        "authority section",
        SECURE),  # the failed reply is asked again: the validated CNAME comes from the cache,
                  # www is asked for itself and its true answer validates (unbound does the same)
    "nx-soa-only": Case(
        f"nxsoa.{V}", "A", "NXDOMAIN: the real SOA, no NSEC", bogus(12, 10, UB_NONE)),
    "nx-boundary-nsec": Case(
        f"nxedge.{V}", "A", "NXDOMAIN: SOA + the NSEC whose next name is the qname + the NSEC "
        "denying *.victim.sec", bogus(12, 6, UB_PROOF)),
    "nx-empty-non-terminal": Case(
        f"ent.{V}", "A", "NXDOMAIN for an empty non-terminal: SOA + the NSEC spanning it (next "
        "name a.ent, below it) + the NSEC denying *.victim.sec",
        Both(bogus(12), O("NOERROR", True, None),
             "unbound 1.17 answers the NODATA that NSEC proves (true: ent is an empty "
             "non-terminal) instead of failing; either way no NXDOMAIN")),
    "nx-sibling-last-nsec": Case(
        f"nxsib.{V}", "A", "NXDOMAIN: SOA + the last NSEC of the sibling ecdsa256.sec, whose "
        "wrap-around span takes in victim.sec", bogus(12, 10, UB_NONE)),
    "nodata-type-listed": Case(
        f"nodatabit.{V}", "A", "NODATA: SOA + the name's own NSEC, whose bitmap lists A",
        bogus(12, 6, UB_PROOF)),
    "nodata-other-nsec": Case(
        f"nodataother.{V}", "A", "NODATA: SOA + the NSEC of the name before it (next = qname)",
        bogus(12, 6, UB_PROOF)),
    "nodata-soa-only": Case(
        f"nodatasoa.{V}", "A", "NODATA: the real SOA, no NSEC", bogus(12, 10, UB_NONE)),
    "nodata-parent-delegation-nsec": Case(
        KID_AD, "TXT", "NODATA for any type at the child's apex from the parent: SOA + the "
        "parent's NSEC at the delegation (NS DS, no SOA)", bogus(12, 6, UB_PROOF)),
    "wildcard-over-existing-name": Case(
        f"exists.wild.{V}", "A", "*.wild's real A + RRSIG as expansion for an existing name, "
        "with the NSEC whose next name is the qname", bogus(12, 6, UB_PROOF)),
    "wildcard-without-proof": Case(
        f"exists2.wild.{V}", "A", "*.wild's real A + RRSIG as expansion for an existing name, "
        "no NSEC", bogus(12, 6, UB_PROOF)),
    "nx-wildcard-not-denied": Case(
        f"nx.wild.{V}", "A", "NXDOMAIN under *.wild: SOA + the real NSEC covering the qname, "
        "nothing denying the (existing) wildcard", bogus(12, 6, UB_PROOF)),
    # -- DS stripped (victim.sec's signed children) ------------------------------
    "ds-child-apex-nsec": Case(
        KID_DS, "DS", "NODATA: SOA + the child's own apex NSEC (SOA bit, signed by the child)",
        bogus(12, 9, UB_SIGNER)),
    "referral-child-apex-nsec": Case(
        KID_DS, "SOA", "referral without DS; 'proof': the child's apex NSEC",
        bogus(12, 9, UB_SIGNER)),
    "ds-no-proof": Case(
        KID_NP, "DS", "NODATA: the real SOA, no NSEC", bogus(12)),
    "referral-no-ds-no-proof": Case(
        KID_NP, "SOA", "referral without DS and without any NSEC", bogus(12)),
    # -- NSEC3 (victim3.sec, opt-out) --------------------------------------------
    "nsec3-nx-child-zone": Case(
        f"nx3kid.{V3}", "A", "NXDOMAIN: SOA + apex NSEC3 + the lone NSEC3 of the child "
        "kid3a.victim3.sec (covers every other hash)", bogus(12, 9, UB_SIGNER)),
    "nsec3-nodata-type-listed": Case(
        f"nodata3.{V3}", "A", "NODATA: SOA + the name's own NSEC3, whose bitmap lists A",
        bogus(12, 6, UB_PROOF)),
    "nsec3-nodata-parent-delegation": Case(
        KID3_AD, "TXT", "NODATA for any type at the child's apex from the parent: SOA + the "
        "parent's NSEC3 matching the delegation (NS DS)", bogus(12, 6, UB_PROOF)),
    "nsec3-optout-ending-at-ds": Case(
        KID3_B, "DS", "NODATA: SOA + apex NSEC3 + the opt-out NSEC3 whose next hash is the "
        "child's (ends just before it)", bogus(12, 6, UB_PROOF)),
    "nsec3-optout-ending-at-referral": Case(
        KID3_B, "SOA", "referral without DS; 'proof' as in nsec3-optout-ending-at-ds",
        bogus(12, 9, UB_SIGNER)),
    # not detectable: real opt-out records saying what they were signed to say
    "nsec3-optout-replay-ds": Case(
        KID3_R, "DS", "NODATA: SOA + apex NSEC3 + the opt-out NSEC3 that covered the child "
        "before it had a DS, replayed (same key, still valid)", INSECURE),
    "nsec3-optout-replay-referral": Case(
        KID3_R, "SOA", "referral without DS with that replayed opt-out proof", INSECURE),
    "nsec3-optout-deny-insecure-delegation": Case(
        f"www.{INS3}", "A", "NXDOMAIN for the unsigned delegation ins.victim3.sec and below: "
        "the real apex NSEC3 + opt-out NSEC3 covering ins + NSEC3 covering *.victim3.sec",
        O("NXDOMAIN", False, None)),
}

# More questions after a case, beyond the same name with AAAA and the zone's
# www: names the forgery would deny if it were believed (below the "missing"
# empty non-terminal, under the wildcard, the CNAME's other type).
AFTER_EXTRA = {
    "nx-empty-non-terminal": [(f"a.ent.{V}", "A")],
    "nx-wildcard-not-denied": [(f"other.wild.{V}", "A")],
    "nx-after-cname": [(f"cname.{V}", "AAAA")],
}
# Accepted (insecure) although the zone says otherwise: nothing a validator
# can see tells the replayed or opted-out denial from a true one.
UNDETECTABLE = {"nsec3-optout-replay-ds", "nsec3-optout-deny-insecure-delegation"}


def expected(case, kind):
    e = CASES[case].expect
    if isinstance(e, Both):
        return e.unbound if kind == "unbound" else e.resolverd
    return e


def victim_of(qname):
    in3 = dns.name.from_text(qname).is_subdomain(dns.name.from_text(VICTIM3))
    return VICTIM3 if in3 else VICTIM


def after(case):
    """The questions asked after a case; every one has a positive, secure answer."""
    c = CASES[case]
    zone = victim_of(c.qname)
    host = c.qname[: -len(zone) - 1] if c.qname.endswith("." + zone) else None
    out = [(c.qname, "AAAA")] if host in ATTACK_ZONES[zone]["hosts"] else []
    return out + AFTER_EXTRA.get(case, []) + [(f"www.{zone}", "A")]


def truth(signed, qname, qtype):
    """The answer of the honest server for the question (DO=1, RD=0): the
    deepest attack zone holding qname, its parent for DS."""
    n = dns.name.from_text(qname)
    if qtype == "DS":
        n = n.parent()
    zone = max((z for z in ATTACK_ZONES if n.is_subdomain(dns.name.from_text(z))), key=len)
    q = dns.message.make_query(qname, qtype, use_edns=0, payload=1232, want_dnssec=True)
    q.flags &= ~dns.flags.RD
    return dns.query.udp_with_fallback(q, signed.server_for(zone), timeout=3.0)[0]


class AttackerLog:
    """The attacker's log lines written while in the `with` block."""

    def __init__(self, signed):
        self.path = signed.attacker_log

    def __enter__(self):
        self.start = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        return self

    def __exit__(self, *exc):
        with open(self.path, errors="replace") as f:
            f.seek(self.start)
            self.lines = f.read().splitlines()
        return False

    def forged(self):
        return [ln for ln in self.lines if ln.startswith("FORGED ")]


def builder_of(case):
    c = CASES[case]
    return dnssec_attacker.forgery(dns.name.from_text(c.qname), dns.rdatatype.from_text(c.qtype))


def check_answer_like_zone(msg, auth, qname, qtype, what):
    rc = dns.rcode.to_text(auth.rcode())
    got = dns.rcode.to_text(msg.rcode())
    assert got == rc, f"{what}: expected {rc} as the zone says, got {got}:{show(msg)}{show(auth)}"
    assert data(msg, qname, qtype) == data(auth, qname, qtype), (
        f"{what}: data differs from the zone's:{show(msg)}{show(auth)}")


def check_secure_like_zone(msg, auth, qname, qtype, what):
    check_answer_like_zone(msg, auth, qname, qtype, what)
    assert msg.flags & dns.flags.AD, f"{what}: not secure:{show(msg)}"
    assert msg.answer, f"{what}: empty answer:{show(msg)}"


def check_max_ttl(msg, max_ttl, what):
    ttls = {rr.ttl for rr in msg.answer}
    assert ttls and max(ttls) <= max_ttl, f"{what}: TTL above {max_ttl}:{show(msg)}"


class Checks:
    """Runs checks and keeps going after a failed one, so that a case reports
    both a forgery accepted and what it poisoned afterwards."""

    def __init__(self):
        self.failed = []

    def __call__(self, fn, *args):
        try:
            fn(*args)
        except AssertionError as e:
            self.failed.append(str(e))


def fresh(make_validating_resolver):
    """A validating resolver with an empty cache (unbound: aggressive NSEC on,
    so that a forged NSEC it believed would show in the later questions)."""
    return make_validating_resolver(unbound_extra=["  aggressive-nsec: yes"])


# -- tests ---------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_attack(make_validating_resolver, signed_hierarchy, dnssec_kind, case):
    """The forgery gives the table's outcome (a non-SERVFAIL answer carries
    the zone's data), then the AFTER questions get the zone's secure answers."""
    c = CASES[case]
    e = expected(case, dnssec_kind)
    r = fresh(make_validating_resolver)
    with AttackerLog(signed_hierarchy) as log:
        msg = ask(r, c.qname, c.qtype, do=True, timeout=8.0)
    what = f"{case} ({c.qname} {c.qtype}: {c.sends})"
    assert log.forged(), f"{what}: the attacker forged nothing; it saw:\n" + "\n".join(log.lines)
    check = Checks()
    check(check_outcome, msg, e, what)
    check(check_ede, msg, e.ede, what)
    if e.rcode != "SERVFAIL" and case not in UNDETECTABLE:
        check(check_answer_like_zone, msg, truth(signed_hierarchy, c.qname, c.qtype), c.qname,
              c.qtype, what)
    if e.max_ttl is not None:
        check(check_max_ttl, msg, e.max_ttl, what)
    for qname, qtype in after(case):
        m = ask(r, qname, qtype, do=True, timeout=8.0)
        check(check_secure_like_zone, m, truth(signed_hierarchy, qname, qtype), qname, qtype,
              f"after {case}: {qname} {qtype}")
    if check.failed:
        pytest.fail("\n\n".join(check.failed), pytrace=False)


@pytest.mark.parametrize("case", list(CASES))
def test_forgery_is_a_lie(signed_hierarchy, case):
    """The premise: the honest zone answers the case's question NOERROR (the
    name exists, as a DS RRset for a DS question), and the attacker has a
    builder for it."""
    c = CASES[case]
    auth = truth(signed_hierarchy, c.qname, c.qtype)
    assert auth.rcode() == dns.rcode.NOERROR, f"{case}: the zone says{show(auth)}"
    if c.qtype == "DS":
        assert data(auth, c.qname, "DS"), f"{case}: the parent has no DS:{show(auth)}"
    assert builder_of(case) is not None, f"{case}: the attacker does not forge {c.qname} {c.qtype}"


def test_every_forgery_has_a_case():
    """Each FORGERIES and SUBTREES entry is a case; a DS-stripped child is
    asked for its DS and for its SOA (a referral)."""
    asked = {(c.qname, c.qtype) for c in CASES.values()}
    for qname, qtype in dnssec_attacker.FORGERIES:
        assert (qname, qtype) in asked or qtype == "*" and any(q == qname for q, _ in asked), (
            qname, qtype)
    for top, build in dnssec_attacker.SUBTREES.items():
        below = {(q, t) for q, t in asked if dns.name.from_text(q).is_subdomain(
            dns.name.from_text(top))}
        assert below, top
        if build.__name__.startswith("strip_ds"):
            assert {(top, "DS"), (top, "SOA")} <= below, top


def test_forged_data_is_not_the_zones(signed_hierarchy):
    """The changed records really differ from the zone's (else a case proves nothing)."""
    for qname in (f"algo.{V}", f"signer.{V}", f"wrongtype.{V}", f"replay.{V}"):
        zone = data(truth(signed_hierarchy, qname, "A"), qname, "A")
        assert zone and FORGED_A not in zone and OLD_A not in zone, (qname, zone)


def test_cd_bogus_then_rd0(make_validating_resolver, dnssec_kind):
    """Cache leak: a CD=1 client fetches www.tampered.sec (bogus: the zone's
    tampered A, unvalidated); a client then asking RD=0 (from the cache, no
    CD) must not get that record: SERVFAIL, or a reply without it.  An RD=1
    client still gets SERVFAIL.  (unbound: access-control allow_snoop, else
    it refuses RD=0.)"""
    r = make_validating_resolver(unbound_extra=["  access-control: 127.0.0.0/8 allow_snoop"])
    qname = "www.tampered.sec"
    cd = ask(r, qname, "A", do=True, cd=True, timeout=8.0)
    assert data(cd, qname, "A") == [TAMPERED_A], f"CD=1 did not fetch the bogus data:{show(cd)}"
    seen = []
    for do in (True, False):
        q = dns.message.make_query(qname, "A", use_edns=0, payload=1232, want_dnssec=do)
        q.flags &= ~dns.flags.RD
        m = dns.query.udp(q, r.addr, port=r.port, timeout=5.0)
        seen.append(f"RD=0 DO={int(do)}: {dns.rcode.to_text(m.rcode())} "
                    f"answer={data(m, qname, 'A')} EDE={ede_codes(m)}")
        assert TAMPERED_A not in data(m, qname, "A"), (
            f"RD=0 DO={int(do)}: the bogus record leaked from the cache:{show(m)}")
        assert not m.flags & dns.flags.AD, show(m)
    rd = ask(r, qname, "A", do=True)
    assert dns.rcode.to_text(rd.rcode()) == "SERVFAIL", f"RD=1 after the leak check:{show(rd)}"
    print(f"\n{dnssec_kind} after a CD=1 fetch of bogus {qname}: " + "; ".join(seen))


def test_attack_table_report(make_validating_resolver, signed_hierarchy, dnssec_kind):
    """Prints each case's expectation and what a fresh resolver answered
    (see it with -s); checks only that each case got a reply."""
    rows = []
    for case, c in CASES.items():
        e = expected(case, dnssec_kind)
        r = fresh(make_validating_resolver)
        m = ask(r, c.qname, c.qtype, do=True, timeout=8.0)
        r.stop()
        check = Checks()
        check(check_outcome, m, e, case)
        check(check_ede, m, e.ede, case)
        want = f"{e.rcode} AD={int(e.ad)} EDE={e.ede if e.ede is not None else '-'}"
        got = (f"{dns.rcode.to_text(m.rcode())} AD={int(bool(m.flags & dns.flags.AD))} "
               f"EDE={','.join(map(str, ede_codes(m))) or '-'}")
        if e.max_ttl is not None:
            check(check_max_ttl, m, e.max_ttl, case)
            want += f" TTL<={e.max_ttl}"
            got += f" TTL={max((rr.ttl for rr in m.answer), default='-')}"
        mark = "   <-- differs" if check.failed else ""
        rows.append((case, f"{c.qname} {c.qtype}", want, got, mark))
    w = max(len(x[1]) for x in rows)
    print(f"\n{dnssec_kind} against the DNSSEC attacker (DO=1, empty cache):")
    print(f"  {'case':38} {'question':{w}} {'expected':32} got")
    for case, q, want, got, mark in rows:
        print(f"  {case:38} {q:{w}} {want:32} {got}{mark}")
