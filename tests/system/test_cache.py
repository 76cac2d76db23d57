"""Caching: repeated questions, TTL countdown, RD=0 (cache only)."""

import time

from helpers import assert_answer, assert_rcode, find, rdatas, show

import hierarchy as H


def test_repeated_question_no_upstream_query(fresh_resolver, counter_for):
    res = fresh_resolver
    counter = counter_for(res)
    with counter.window() as first:
        r1 = res.query("www.zeta.test", "A")
    assert_answer(r1, "www.zeta.test", "A", [H.www_a("zeta.test")])
    assert any(q.qname == "www.zeta.test." and q.dst == H.LEAVES["zeta.test"]
               for q in first.queries), (
        "first question must be asked of zeta.test's server; upstream saw:\n"
        + first.describe())
    with counter.window() as second:
        r2 = res.query("www.zeta.test", "A")
    assert_answer(r2, "www.zeta.test", "A", [H.www_a("zeta.test")])
    assert not second.queries, (
        "a repeated question must be answered from cache; upstream saw:\n" + second.describe())


def test_ttl_decreasing(fresh_resolver):
    r1 = fresh_resolver.query("www.iota.test", "A")
    assert_answer(r1, "www.iota.test", "A", [H.www_a("iota.test")])
    ttl1 = find(r1, "answer", "www.iota.test", "A").ttl
    assert 290 <= ttl1 <= 300, f"fresh answer TTL should be ~300 (zone TTL), got {ttl1}"
    time.sleep(2.2)
    r2 = fresh_resolver.query("www.iota.test", "A")
    ttl2 = find(r2, "answer", "www.iota.test", "A").ttl
    assert 1 <= ttl1 - ttl2 <= 4, f"TTL should drop by ~2 after 2 s: {ttl1} then {ttl2}"


def test_rd0_uncached_name_no_upstream(fresh_resolver, counter_for, ours_only):
    """RD=0 for a name not in cache: answer from cache only, never recurse."""
    res = fresh_resolver
    counter = counter_for(res)
    with counter.window() as w:
        r = res.query("www.eta.example", "A", rd=False)
    assert not any(q.qname.endswith("eta.example.") for q in w.queries), (
        "RD=0 must not make the resolver ask upstream about the name; saw:\n" + w.describe())
    # unbound (access-control allow, not allow_snoop) answers RD=0 with REFUSED.
    ours_only("RD=0 answer code: unbound REFUSES non-recursive queries")
    assert r.rcode() in (0, 2), f"RD=0 uncached: expected NOERROR or SERVFAIL:{show(r)}"
    assert not rdatas(r, "www.eta.example", "A"), f"RD=0 uncached: no answer expected:{show(r)}"


def test_rd0_cached_name_answered_from_cache(fresh_resolver, counter_for, ours_only):
    res = fresh_resolver
    assert_answer(res.query("www.eta.example", "A"), "www.eta.example", "A",
                  [H.www_a("eta.example")])
    counter = counter_for(res)
    with counter.window() as w:
        r = res.query("www.eta.example", "A", rd=False)
    assert not w.queries, "RD=0 must not query upstream; saw:\n" + w.describe()
    ours_only("unbound REFUSES RD=0 queries without allow_snoop")
    assert_answer(r, "www.eta.example", "A", [H.www_a("eta.example")])
