"""Positive answers through the local hierarchy."""

import pytest

import hierarchy as H
from helpers import (Timer, assert_answer, assert_rcode, dnsq_flags, dnsq_records, dnsq_status,
                     find, rdatas, run_dnsq, show)


@pytest.mark.parametrize("zone", ["alpha.test", "gamma.example", "kappa.example", "theta.test"])
def test_a(resolver, zone):
    r = resolver.query(f"www.{zone}", "A")
    assert_answer(r, f"www.{zone}", "A", [H.www_a(zone)])
    assert r.flags & 0x0080, "RA must be set in a recursive answer" + show(r)


def test_aaaa(resolver):
    r = resolver.query("www.beta.test", "AAAA")
    assert_answer(r, "www.beta.test", "AAAA", [H.www_aaaa("beta.test")])


def test_mx(resolver):
    r = resolver.query("delta.test", "MX")
    assert_answer(r, "delta.test", "MX", ["10 mail.delta.test."])


def test_txt(resolver):
    r = resolver.query("txt.epsilon.example", "TXT")
    assert_answer(r, "txt.epsilon.example", "TXT",
                  ['"hello from epsilon.example" "second string"'])


def test_many_leaf_zones(resolver):
    """Every leaf zone resolves (each lives on its own address)."""
    for zone in H.LEAVES:
        r = resolver.query(f"www.{zone}", "A")
        assert_answer(r, f"www.{zone}", "A", [H.www_a(zone)])


def test_cname_chain_three_zones(resolver):
    r = resolver.query("start.alpha.test", "A")
    assert_rcode(r, "NOERROR")
    assert rdatas(r, "start.alpha.test", "CNAME") == ["mid.beta.test."], show(r)
    assert rdatas(r, "mid.beta.test", "CNAME") == ["end.gamma.example."], show(r)
    assert rdatas(r, "end.gamma.example", "A") == ["192.0.2.33"], show(r)
    order = [rr.name.to_text() for rr in r.answer]
    assert order.index("start.alpha.test.") < order.index("mid.beta.test.") < \
        order.index("end.gamma.example."), f"CNAME chain out of order: {order}" + show(r)


def test_dname(resolver):
    r = resolver.query("www.old.alpha.test", "A")
    assert_rcode(r, "NOERROR")
    assert rdatas(r, "old.alpha.test", "DNAME") == ["new.beta.test."], \
        "DNAME record missing" + show(r)
    assert rdatas(r, "www.old.alpha.test", "CNAME") == ["www.new.beta.test."], \
        "synthesized CNAME missing" + show(r)
    assert rdatas(r, "www.new.beta.test", "A") == ["192.0.2.44"], "target A missing" + show(r)


def test_glueless_delegation(fresh_resolver):
    """glueless.test's NS is ns.alpha.test (no glue): the resolver must
    resolve the NS name in another zone first."""
    r = fresh_resolver.query("www.glueless.test", "A")
    assert_answer(r, "www.glueless.test", "A", ["192.0.2.50"])


def test_lame_server(fresh_resolver):
    """lame.test: one NS answers REFUSED (not authoritative), the other works."""
    for i in range(3):
        with Timer() as t:
            r = fresh_resolver.query(f"www.lame.test", "A", timeout=5)
        assert_answer(r, "www.lame.test", "A", ["192.0.2.60"])
        assert t.elapsed < 3, f"lame delegation took {t.elapsed:.2f}s"


def test_silent_server(make_resolver):
    """silent.test: one NS never answers, the other works; < 3 s per query.
    Fresh resolvers so the silent server has no learned penalty yet."""
    for i in range(3):
        res = make_resolver()
        with Timer() as t:
            r = res.query("www.silent.test", "A", timeout=5)
        assert_answer(r, "www.silent.test", "A", ["192.0.2.61"])
        assert t.elapsed < 3, f"silent server made the query take {t.elapsed:.2f}s"
        res.stop()


# --- through the c-ares stub client -------------------------------------------

@pytest.mark.dnsq
def test_dnsq_plain_a(dnsq, resolver):
    p = run_dnsq(dnsq, resolver, "www.alpha.test", "A")
    assert p.returncode == 0, f"dnsq failed rc={p.returncode}: {p.stdout}{p.stderr}"
    assert dnsq_status(p.stdout) == "NOERROR", p.stdout
    flags = dnsq_flags(p.stdout)
    assert flags and {"qr", "rd", "ra"} <= flags, f"flags {flags}:\n{p.stdout}"
    recs = [x for x in dnsq_records(p.stdout) if x[3] == "A"]
    assert [(x[0], x[4]) for x in recs] == [("www.alpha.test.", H.www_a("alpha.test"))], p.stdout


@pytest.mark.dnsq
def test_dnsq_cname_chain(dnsq, resolver):
    p = run_dnsq(dnsq, resolver, "start.alpha.test", "A")
    assert p.returncode == 0, f"dnsq failed rc={p.returncode}: {p.stdout}{p.stderr}"
    assert dnsq_status(p.stdout) == "NOERROR", p.stdout
    recs = {(x[0], x[3], x[4]) for x in dnsq_records(p.stdout)}
    for want in [("start.alpha.test.", "CNAME", "mid.beta.test."),
                 ("mid.beta.test.", "CNAME", "end.gamma.example."),
                 ("end.gamma.example.", "A", "192.0.2.33")]:
        assert want in recs, f"missing {want} in dnsq output:\n{p.stdout}"
