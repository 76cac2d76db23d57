"""DNSSEC across zones and resolver settings (signed_hierarchy.CHAIN_ZONES).

CNAME chains validated link by link (signed -> signed -> AD; any unsigned
link -> no AD; a bogus link -> SERVFAIL), DNAME in a signed zone, the root
trust anchor given as a DNSKEY, a negative trust anchor (RFC 7646),
validation off, the RFC 8509 root key sentinel and RFC 8198 aggressive use of
NSEC (no upstream query for a name or type a cached NSEC already denies).

Same conventions as test_dnssec.py: one table, EXPECTED, of E(qname, qtype,
rcode, ad, ede) or Both(resolverd=E, unbound=E, why) where Debian's unbound
1.17 legitimately differs; every query has DO=1.  A non-SERVFAIL answer must
carry exactly the records of ANSWER[case] (RRSIGs aside).  Each case runs on
the resolver instance named in INSTANCE (the shared validating resolver, or a
fresh one with a DNSKEY trust anchor, a negative trust anchor or validation
off).
"""

import os
import shutil
import socket
import subprocess
import time
import uuid

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import procs
from capture import Capture
from helpers import show
from signed_hierarchy import (AGGR, BROKEN_DNAME, CHAIN_A, CHAIN_A_DATA, CHAIN_B, CHAIN_U,
                              CHAIN_ZONES, SENTINEL_A, TAMPERED_A, _soa, sentinel_label, www_a)
from capture import parse_log_queries
from test_dnssec import Both, E, ask, check_ede, check_outcome, ede_codes, ede_maybe_cached

# The sentinel names depend on the root KSK's tag, known once the hierarchy is
# built: "{anchor}" / "{other}" in a qname are filled in by qname_of().
IS_TA_ANCHOR = "root-key-sentinel-is-ta-{anchor}." + CHAIN_A
NOT_TA_ANCHOR = "root-key-sentinel-not-ta-{anchor}." + CHAIN_A
IS_TA_OTHER = "root-key-sentinel-is-ta-{other}." + CHAIN_A
NOT_TA_OTHER = "root-key-sentinel-not-ta-{other}." + CHAIN_A

# RFC 8509 defines no EDE for a sentinel SERVFAIL and resolverd's spec names
# none: absent, 0 (Other) or 6 (DNSSEC Bogus) are accepted.  unbound 1.17
# answers it with EDE 6, its generic reason for a failed validation.
SENTINEL_FAIL_EDE = frozenset({None, 0, 6})
SENTINEL_WHY = "EDE unspecified for resolverd; unbound reports DNSSEC Bogus"


def sentinel_fail(qname):
    return Both(E(qname, "A", "SERVFAIL", False, SENTINEL_FAIL_EDE),
                E(qname, "A", "SERVFAIL", False, 6), SENTINEL_WHY)


EXPECTED = {
    # 1. CNAME chains, validated link by link
    "cname-signed-signed": E(f"to-b.{CHAIN_A}", "A", "NOERROR", True, None),
    "cname-signed-unsigned": E(f"to-u.{CHAIN_A}", "A", "NOERROR", False, None),
    "cname-signed-insecure.sec": E(f"to-insecure.{CHAIN_A}", "A", "NOERROR", False, None),
    "cname-unsigned-signed": E(f"to-a.{CHAIN_U}", "A", "NOERROR", False, None),
    "cname-signed-unsigned-signed": E(f"to-u-to-b.{CHAIN_A}", "A", "NOERROR", False, None),
    "cname-signed-bogus": E(f"to-bogus.{CHAIN_A}", "A", "SERVFAIL", False, 6),
    # 2. DNAME (NSEC zone): DNAME + synthesised CNAME + target, secure
    "dname-secure": E(f"www.old.{CHAIN_A}", "A", "NOERROR", True, None),
    "dname-bad-signature": E(f"www.{BROKEN_DNAME}.{CHAIN_A}", "A", "SERVFAIL", False, 6),
    # 3. root trust anchor as a DNSKEY record
    "dnskey-anchor-root": E(".", "SOA", "NOERROR", True, None),
    "dnskey-anchor-secure": E(f"to-b.{CHAIN_A}", "A", "NOERROR", True, None),
    "dnskey-anchor-bogus": E("www.tampered.sec", "A", "SERVFAIL", False, 6),
    # 4. negative trust anchor tampered.sec (unbound: domain-insecure)
    "nta-tampered": E("www.tampered.sec", "A", "NOERROR", False, None),
    "nta-elsewhere-secure": E(f"www.{CHAIN_A}", "A", "NOERROR", True, None),
    "nta-elsewhere-bogus": E("www.expired.sec", "A", "SERVFAIL", False, 7),
    # 5. validation off: bogus data passes, nothing is AD
    "novalidation-tampered": E("www.tampered.sec", "A", "NOERROR", False, None),
    "novalidation-secure": E(f"www.{CHAIN_A}", "A", "NOERROR", False, None),
    # 6. RFC 8509 3.2 root key sentinel (names exist, signed, A records)
    "sentinel-is-ta-anchor": E(IS_TA_ANCHOR, "A", "NOERROR", True, None),
    "sentinel-not-ta-anchor": sentinel_fail(NOT_TA_ANCHOR),
    "sentinel-is-ta-other": sentinel_fail(IS_TA_OTHER),
    "sentinel-not-ta-other": E(NOT_TA_OTHER, "A", "NOERROR", True, None),
    # the same with the DNSKEY trust anchor (its tag is the KSK's too)
    "dnskey-anchor-sentinel-is-ta": E(IS_TA_ANCHOR, "A", "NOERROR", True, None),
    "dnskey-anchor-sentinel-not-ta": sentinel_fail(NOT_TA_ANCHOR),
}

ANSWER = {  # case -> (owner, type, rdata) of the answer section, RRSIGs aside
    "cname-signed-signed": [(f"to-b.{CHAIN_A}", "CNAME", f"www.{CHAIN_B}."),
                            (f"www.{CHAIN_B}", "A", CHAIN_A_DATA[CHAIN_B, "www"])],
    "cname-signed-unsigned": [(f"to-u.{CHAIN_A}", "CNAME", f"www.{CHAIN_U}."),
                              (f"www.{CHAIN_U}", "A", CHAIN_A_DATA[CHAIN_U, "www"])],
    "cname-signed-insecure.sec": [(f"to-insecure.{CHAIN_A}", "CNAME", "www.insecure.sec."),
                                  ("www.insecure.sec", "A", www_a("insecure.sec"))],
    "cname-unsigned-signed": [(f"to-a.{CHAIN_U}", "CNAME", f"www.{CHAIN_A}."),
                              (f"www.{CHAIN_A}", "A", CHAIN_A_DATA[CHAIN_A, "www"])],
    "cname-signed-unsigned-signed": [(f"to-u-to-b.{CHAIN_A}", "CNAME", f"back.{CHAIN_U}."),
                                     (f"back.{CHAIN_U}", "CNAME", f"www.{CHAIN_B}."),
                                     (f"www.{CHAIN_B}", "A", CHAIN_A_DATA[CHAIN_B, "www"])],
    "dname-secure": [(f"old.{CHAIN_A}", "DNAME", f"new.{CHAIN_A}."),
                     (f"www.old.{CHAIN_A}", "CNAME", f"www.new.{CHAIN_A}."),
                     (f"www.new.{CHAIN_A}", "A", CHAIN_A_DATA[CHAIN_A, "www.new"])],
    "dnskey-anchor-root": [(".", "SOA", _soa(".", 300).split(None, 4)[4].strip())],
    "dnskey-anchor-secure": "cname-signed-signed",
    "nta-tampered": [("www.tampered.sec", "A", TAMPERED_A)],
    "nta-elsewhere-secure": [(f"www.{CHAIN_A}", "A", CHAIN_A_DATA[CHAIN_A, "www"])],
    "novalidation-tampered": "nta-tampered",
    "novalidation-secure": "nta-elsewhere-secure",
    "sentinel-is-ta-anchor": [(IS_TA_ANCHOR, "A", SENTINEL_A["is-ta-anchor"])],
    "sentinel-not-ta-other": [(NOT_TA_OTHER, "A", SENTINEL_A["not-ta-other"])],
    "dnskey-anchor-sentinel-is-ta": "sentinel-is-ta-anchor",
}

# which resolver instance a case runs on (default: the shared one)
INSTANCE = {c: "dnskey-anchor" for c in EXPECTED if c.startswith("dnskey-anchor")}
INSTANCE.update({c: "nta" for c in EXPECTED if c.startswith("nta-")})
INSTANCE.update({c: "novalidation" for c in EXPECTED if c.startswith("novalidation-")})

# Written before resolverd implements them: the sentinel-* cases and
# test_aggressive_nsec fail against a resolverd without RFC 8509 / RFC 8198.


def expected_case(case, kind):
    e = EXPECTED[case]
    if isinstance(e, Both):
        return e.unbound if kind == "unbound" else e.resolverd
    return e


def qname_of(e, signed):
    return e.qname.format(anchor=f"{signed.root_ksk_tag:05d}",
                          other=f"{signed.sentinel_other_tag:05d}")


def answer_of(case, signed):
    want = ANSWER[case]
    if isinstance(want, str):
        want = ANSWER[want]
    fill = dict(anchor=f"{signed.root_ksk_tag:05d}", other=f"{signed.sentinel_other_tag:05d}")
    return sorted((dns.name.from_text(o.format(**fill)).to_text().lower(), t, rd)
                  for o, t, rd in want)


def answer_records(msg):
    return sorted((rr.name.to_text().lower(), dns.rdatatype.to_text(rr.rdtype), rd.to_text())
                  for rr in msg.answer if rr.rdtype != dns.rdatatype.RRSIG for rd in rr)


# -- resolver instances ----------------------------------------------------------


@pytest.fixture(scope="module")
def chain_resolvers(dnssec_kind, build_dir, signed_hierarchy, workdir):
    """The non-default instances of INSTANCE, started once for this module
    (127.21.200.x: outside conftest's fresh range)."""
    from validating_resolver import ValidatingResolver
    settings = {
        "dnskey-anchor": dict(trust_anchor=signed_hierarchy.trust_anchor_dnskey),
        "nta": dict(negative_trust_anchors=["tampered.sec"]),
        "novalidation": dict(validation=False),
    }
    out = {}
    try:
        for i, (name, kw) in enumerate(settings.items()):
            addr = f"127.21.200.{i + 1}"
            out[name] = ValidatingResolver(dnssec_kind, build_dir, signed_hierarchy,
                                           os.path.join(workdir, f"chains-{name}"), addr,
                                           **kw).start()
        yield out
    finally:
        for r in out.values():
            r.stop()


def instance(case, validating_resolver, chain_resolvers):
    name = INSTANCE.get(case)
    return validating_resolver if name is None else chain_resolvers[name]


def anchor_file_is_dnskey(signed):
    lines = [ln.split() for ln in open(signed.trust_anchor_dnskey) if ln.strip()]
    return lines and all(p[3] == "DNSKEY" and p[0] == "." for p in lines)


# -- the table ----------------------------------------------------------------------


@pytest.mark.parametrize("case", list(EXPECTED))
def test_chain_outcome(validating_resolver, chain_resolvers, signed_hierarchy, dnssec_kind, case):
    """DO=1: rcode, AD, EDE as in the table; a non-SERVFAIL answer carries
    exactly ANSWER[case]."""
    e = expected_case(case, dnssec_kind)
    if INSTANCE.get(case) == "dnskey-anchor":
        assert anchor_file_is_dnskey(signed_hierarchy), "root.anchor.dnskey is not a DNSKEY"
    r = instance(case, validating_resolver, chain_resolvers)
    qname = qname_of(e, signed_hierarchy)
    msg = ask(r, qname, e.qtype, do=True, timeout=8.0)
    what = f"{case} ({qname} {e.qtype}, DO=1)"
    check_outcome(msg, e, what)
    # unbound's cached bogus answers say only EDE 6 (see test_dnssec.py)
    check_ede(msg, ede_maybe_cached(e, dnssec_kind), what)
    if e.rcode != "SERVFAIL":
        assert answer_records(msg) == answer_of(case, signed_hierarchy), (
            f"{what}: answer differs from the zones':{show(msg)}")


def test_chain_table_complete():
    """Every positive case has its expected answer; INSTANCE names exist."""
    for c in EXPECTED:
        e = expected_case(c, "resolverd")
        assert e.rcode == "SERVFAIL" or c in ANSWER, c
    assert set(INSTANCE.values()) <= {"dnskey-anchor", "nta", "novalidation"}


def test_sentinel_tags(signed_hierarchy):
    """The sentinel names are what RFC 8509 2 says: 5 decimal digits, the
    anchor's tag and a tag no root key has."""
    root_ksk = signed_hierarchy.keys["."][0]
    assert signed_hierarchy.root_ksk_tag == root_ksk.tag
    assert signed_hierarchy.sentinel_other_tag not in {k.tag for k in signed_hierarchy.keys["."]}
    ds = open(signed_hierarchy.trust_anchor).read().split()
    assert int(ds[4]) == root_ksk.tag, "the DS trust anchor is not for the root KSK"
    lbl = sentinel_label("is", signed_hierarchy.root_ksk_tag)
    assert len(lbl) == len("root-key-sentinel-is-ta-") + 5 and lbl[-5:].isdigit()


def test_sentinel_data_in_zone(signed_hierarchy):
    """The four sentinel names exist in chain-a.sec (NSD answers them, signed)."""
    for q in (IS_TA_ANCHOR, NOT_TA_ANCHOR, IS_TA_OTHER, NOT_TA_OTHER):
        name = q.format(anchor=f"{signed_hierarchy.root_ksk_tag:05d}",
                        other=f"{signed_hierarchy.sentinel_other_tag:05d}")
        q2 = dns.message.make_query(name, "A", use_edns=0, payload=1232, want_dnssec=True)
        q2.flags &= ~dns.flags.RD
        auth = dns.query.udp(q2, signed_hierarchy.server_for(CHAIN_A), timeout=3.0)
        assert auth.rcode() == dns.rcode.NOERROR and len(auth.answer) == 2, show(auth)


# -- RFC 8198 aggressive NSEC ------------------------------------------------------

CHAIN_NET = "127.20.0.0/16"    # every authoritative server of the signed hierarchy
CHAIN_MARKER = "127.20.255.254"  # nothing listens here
MARKER_SUFFIX = ".marker.invalid."


class SignedCapture(Capture):
    """capture.Capture for the signed hierarchy's servers (127.20.0.0/16),
    with its own marker address in that range."""

    def start(self, timeout=10):
        bpf = f"dst net {CHAIN_NET} and dst port 53 and (udp or tcp)"
        self.errpath = self.path + ".stderr"
        with open(self.errpath, "w") as err:
            self.proc = procs.start(
                ["tcpdump", "-i", self.iface, "-n", "-U", "--immediate-mode", "-s", "0",
                 "-w", self.path, bpf], "tcpdump (signed hierarchy)",
                stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + timeout
        while "listening on" not in open(self.errpath).read():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                msg = open(self.errpath).read()
                self.stop()
                raise RuntimeError(f"tcpdump did not start: {msg}")
            time.sleep(0.05)
        self.mark()
        return self

    def mark(self, timeout=5.0):
        name = f"m{uuid.uuid4().hex[:12]}{MARKER_SUFFIX}"
        q = dns.message.make_query(name, "A")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(q.to_wire(), (CHAIN_MARKER, 53))
        deadline = time.monotonic() + timeout
        while True:
            self._read_new()
            for i in range(len(self.queries) - 1, -1, -1):
                if self.queries[i].qname == name:
                    return i
            if time.monotonic() > deadline:
                raise TimeoutError("capture marker never appeared")
            time.sleep(0.02)


@pytest.fixture(scope="module")
def signed_capture(workdir, signed_hierarchy):
    if not shutil.which("tcpdump"):
        yield None
        return
    cap = SignedCapture(os.path.join(workdir, "signed-upstream.pcap"))
    try:
        cap.start()
    except Exception as e:  # pragma: no cover - environment without capture
        print(f"capture unavailable: {e}")
        yield None
        return
    yield cap
    cap.stop()


class Upstream:
    """Queries the resolver sent to the signed hierarchy between enter and
    exit: from the capture, else (resolverd only) from its debug log."""

    def __init__(self, cap, r):
        if cap is None and r.is_unbound:
            pytest.skip("no packet capture to see unbound's upstream queries")
        self.cap, self.r = cap, r

    def __enter__(self):
        if self.cap is not None:
            self.start = self.cap.mark()
        else:
            time.sleep(0.05)
            self.start = os.path.getsize(self.r.log_path)
        return self

    def __exit__(self, *exc):
        if self.cap is not None:
            self.queries = self.cap.between(self.start, self.cap.mark())
        else:
            with open(self.r.log_path, errors="replace") as f:
                f.seek(self.start)
                self.queries = parse_log_queries(f.read())
        return False

    def describe(self):
        return "\n".join(f"  {q}" for q in self.queries) or "  (none)"


AGGRESSIVE = {
    # first question (fills the cache), second (must come from the NSEC proof)
    "nxdomain": (E(f"b1.{AGGR}", "A", "NXDOMAIN", True, None),
                 E(f"b2.{AGGR}", "A", "NXDOMAIN", True, None)),
    "nodata": (E(f"www.{AGGR}", "TXT", "NOERROR", True, None),
               E(f"www.{AGGR}", "MX", "NOERROR", True, None)),
}


@pytest.mark.parametrize("kind", list(AGGRESSIVE))
def test_aggressive_nsec(make_validating_resolver, signed_capture, kind):
    """RFC 8198: on an empty cache, a secure NXDOMAIN (NODATA) from aggr.sec;
    then another name in the same NSEC span (another type at the same name):
    NXDOMAIN (NODATA) with AD, the NSEC proof in authority, and no upstream
    query at all.  (unbound: aggressive-nsec: yes.)"""
    r = make_validating_resolver(unbound_extra=["  aggressive-nsec: yes"])
    first, second = AGGRESSIVE[kind]
    with Upstream(signed_capture, r) as up1:
        m1 = ask(r, first.qname, first.qtype, do=True, timeout=8.0)
    aggr_addr = CHAIN_ZONES[AGGR]["addr"]
    assert any(q.dst == aggr_addr and q.qname == first.qname + "." for q in up1.queries) or (
        up1.cap is None), f"the capture did not see the first question go to {aggr_addr}:\n" \
        f"{up1.describe()}"
    check_outcome(m1, first, f"{kind} first ({first.qname} {first.qtype})")
    check_ede(m1, None, kind)
    assert not m1.answer and any(rr.rdtype == dns.rdatatype.NSEC for rr in m1.authority), show(m1)
    with Upstream(signed_capture, r) as up:
        m2 = ask(r, second.qname, second.qtype, do=True)
    # the capture sees every process's queries to 127.20/16: keep those about
    # aggr.sec (asked of its server, or of anyone for a name in it)
    up.queries = [q for q in up.queries
                  if q.dst == aggr_addr or q.qname.endswith(f".{AGGR}.") or q.qname == f"{AGGR}."]
    check_outcome(m2, second, f"{kind} second ({second.qname} {second.qtype})")
    check_ede(m2, None, kind)
    assert not m2.answer, show(m2)
    assert any(rr.rdtype == dns.rdatatype.NSEC for rr in m2.authority), (
        f"{kind}: no NSEC proof in the synthesised answer:{show(m2)}")
    assert not up.queries, (
        f"{kind}: {second.qname} {second.qtype} went upstream although the cached NSEC "
        f"denies it:\n{up.describe()}")


# -- report ---------------------------------------------------------------------------


def test_chain_outcome_report(validating_resolver, chain_resolvers, signed_hierarchy,
                              dnssec_kind):
    """Prints the outcomes (see them with -s); checks only that each case got
    a reply."""
    rows = []
    for case in EXPECTED:
        e = expected_case(case, dnssec_kind)
        r = instance(case, validating_resolver, chain_resolvers)
        qname = qname_of(e, signed_hierarchy)
        m = ask(r, qname, e.qtype, do=True, timeout=8.0)
        rows.append((case, f"{qname} {e.qtype}", dns.rcode.to_text(m.rcode()),
                     int(bool(m.flags & dns.flags.AD)), ",".join(map(str, ede_codes(m))) or "-"))
    w = max(len(x[1]) for x in rows)
    print(f"\n{dnssec_kind} chain outcomes (DO=1):")
    for c, q, rc, ad, ede in rows:
        print(f"  {c:30} {q:{w}} {rc:9} AD={ad} EDE={ede}")
