"""NXDOMAIN / NODATA answers and negative caching.

The leaf zones' SOA has TTL 60 and MINIMUM 60, so the negative TTL is 60 s:
short enough to be visibly counting down, long enough not to expire while
the test runs.  We check the decrease rather than wait for expiry."""

import time

import pytest

from helpers import assert_rcode, show, soa_in_authority

NXNAME = "does-not-exist.alpha.test"
NODATA = ("www.alpha.test", "SRV")  # www exists (A, AAAA, TXT, HINFO), no SRV


def _check_negative(r, rcode, zone="alpha.test"):
    assert_rcode(r, rcode)
    assert not r.answer, f"negative answer must have no answer section:{show(r)}"
    soa = soa_in_authority(r)
    assert soa is not None, f"{rcode} must carry the zone's SOA in authority:{show(r)}"
    assert soa.name.to_text() == zone + ".", f"SOA owner should be {zone}.:{show(r)}"
    assert 0 < soa.ttl <= 60, f"negative SOA TTL should be <= MINIMUM 60, got {soa.ttl}:{show(r)}"
    return soa.ttl


def test_nxdomain(resolver):
    _check_negative(resolver.query(NXNAME, "A"), "NXDOMAIN")


def test_nodata(resolver):
    _check_negative(resolver.query(*NODATA), "NOERROR")


@pytest.mark.parametrize("qname,qtype,rcode", [
    (NXNAME, "A", "NXDOMAIN"),
    (NODATA[0], NODATA[1], "NOERROR"),
], ids=["nxdomain", "nodata"])
def test_negative_caching(fresh_resolver, counter_for, qname, qtype, rcode):
    """Second ask: same answer, no new upstream query, SOA TTL counts down."""
    res = fresh_resolver
    counter = counter_for(res)
    with counter.window() as first:
        r1 = res.query(qname, qtype)
    ttl1 = _check_negative(r1, rcode)
    assert any(q.qname == qname + "." for q in first.queries), (
        "the first question should have gone upstream; capture saw:\n" + first.describe())
    time.sleep(2.2)
    with counter.window() as second:
        r2 = res.query(qname, qtype)
    ttl2 = _check_negative(r2, rcode)
    assert not second.queries, (
        f"cached negative answer must not query upstream; saw:\n{second.describe()}")
    assert 1 <= ttl1 - ttl2 <= 4, (
        f"negative TTL should count down by ~2 s: first {ttl1}, then {ttl2}")
