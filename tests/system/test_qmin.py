"""QNAME minimisation as seen by the authoritative servers (capture)."""

import hierarchy as H
from helpers import assert_answer

QNAME = "a.b.c.alpha.test"


def _labels(name):
    return 0 if name == "." else name.rstrip(".").count(".") + 1


def _seen(w, addrs):
    return [q for q in w.queries if q.dst in addrs]


def test_qname_minimisation_on(make_resolver, counter_for):
    res = make_resolver(qmin=True)
    counter = counter_for(res)
    with counter.window() as w:
        r = res.query(QNAME, "A")
    assert_answer(r, QNAME, "A", ["192.0.2.77"])
    root = _seen(w, H.ROOT_ADDRS)
    tld = _seen(w, H.TEST_TLD_ADDRS)
    assert root, "the root servers were never asked:\n" + w.describe()
    assert tld, "the test. servers were never asked:\n" + w.describe()
    bad_root = [q for q in root if _labels(q.qname) > 1]
    assert not bad_root, (
        "with qname-minimisation the root must only see '.'/'test.'; it saw:\n"
        + "\n".join(map(str, bad_root)))
    assert any(q.qname == "test." for q in root), "root never saw 'test.':\n" + w.describe()
    bad_tld = [q for q in tld if _labels(q.qname) > 2]
    assert not bad_tld, (
        "with qname-minimisation test.'s servers must only see up to 'alpha.test.'; saw:\n"
        + "\n".join(map(str, bad_tld)))
    assert any(q.qname == QNAME + "." for q in _seen(w, [H.ALPHA])), (
        "alpha.test's server should see the full name:\n" + w.describe())


def test_qname_minimisation_off(make_resolver, counter_for):
    res = make_resolver(qmin=False)
    counter = counter_for(res)
    with counter.window() as w:
        r = res.query(QNAME, "A")
    assert_answer(r, QNAME, "A", ["192.0.2.77"])
    root = _seen(w, H.ROOT_ADDRS)
    tld = _seen(w, H.TEST_TLD_ADDRS)
    assert any(q.qname == QNAME + "." for q in root), (
        "without qname-minimisation the root sees the full name; it saw:\n" + w.describe())
    assert any(q.qname == QNAME + "." for q in tld), (
        "without qname-minimisation test.'s servers see the full name; saw:\n" + w.describe())
