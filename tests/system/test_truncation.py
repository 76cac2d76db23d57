"""Truncation: upstream TC -> TCP retry, and client-side TC -> TCP."""

import pytest

import hierarchy as H
from helpers import (assert_rcode, dnsq_flags, dnsq_records, dnsq_status, find, run_dnsq,
                     show)

BIG = "big.alpha.test"


def _full_big_txt(r):
    rrset = find(r, "answer", BIG, "TXT")
    assert rrset is not None, f"no TXT answer for {BIG}:{show(r)}"
    strings = [s.decode() for rd in rrset for s in rd.strings]
    assert strings == H.BIG_TXT_STRINGS, f"TXT strings differ from the zone's:{show(r)}"


def test_upstream_tc_retried_over_tcp(fresh_resolver, counter_for):
    """NSD truncates the 1.6 KB TXT over UDP (EDNS 1232); the resolver must
    retry over TCP and get the whole RRset."""
    counter = counter_for(fresh_resolver)
    with counter.window() as w:
        r = fresh_resolver.query(BIG, "TXT", tcp=True, timeout=5)
    assert_rcode(r, "NOERROR")
    _full_big_txt(r)
    to_alpha = [q for q in w.queries if q.dst == H.ALPHA and q.qname == BIG + "."]
    assert any(q.proto == "tcp" for q in to_alpha), (
        "expected a TCP query to alpha.test's server after the truncated UDP answer; saw:\n"
        + w.describe())


def test_client_small_buffer_gets_tc_then_tcp_gets_all(resolver):
    r = resolver.query(BIG, "TXT", use_edns=0, payload=512)
    assert r.flags & 0x0200, f"EDNS 512 UDP answer of a 1.6 KB RRset must set TC:{show(r)}"
    r = resolver.query(BIG, "TXT", use_edns=None)  # no EDNS: 512 bytes
    assert r.flags & 0x0200, f"no-EDNS UDP answer of a 1.6 KB RRset must set TC:{show(r)}"
    r = resolver.query(BIG, "TXT", tcp=True)
    assert not r.flags & 0x0200, f"TCP answer must not be truncated:{show(r)}"
    _full_big_txt(r)


@pytest.mark.dnsq
def test_dnsq_tc_then_tcp(dnsq, resolver):
    p = run_dnsq(dnsq, resolver, "+bufsize=512", BIG, "TXT")
    assert p.returncode == 0, f"dnsq rc={p.returncode}: {p.stdout}{p.stderr}"
    flags = dnsq_flags(p.stdout)
    assert flags is not None and "tc" in flags, f"expected tc flag with +bufsize=512:\n{p.stdout}"
    p = run_dnsq(dnsq, resolver, "+tcp", BIG, "TXT")
    assert p.returncode == 0, f"dnsq +tcp rc={p.returncode}: {p.stdout}{p.stderr}"
    assert dnsq_status(p.stdout) == "NOERROR", p.stdout
    assert "tc" not in (dnsq_flags(p.stdout) or set()), p.stdout
    txt = [x for x in dnsq_records(p.stdout) if x[3] == "TXT" and x[0] == BIG + "."]
    assert len(txt) == 1, f"expected one TXT record over TCP:\n{p.stdout}"
    for s in H.BIG_TXT_STRINGS:
        assert s in txt[0][4], f"TXT string {s[:10]}... missing:\n{p.stdout}"
