"""Serve-stale (RFC 8767), prefetch and the cache snapshot, against the real daemon
(issue 8, "A cache that keeps working").

The zone stale.test (hierarchy.stale_zone) is delegated by test. to 127.12.3.1,
where each test runs its own NSD and stops it (by PID) in the middle of the test,
as an authority that goes away would.  Names with TTLs of 2 and 12 s let a test see
them expire.  Each test has its own resolverd (127.53.200.x) with a control socket,
so its counters can be read (resolverctl --json stats).  The DNSSEC case runs a
validating resolverd against the signed hierarchy.

resolverd-specific: skipped under RESOLVER_UNDER_TEST=unbound.
"""

import itertools
import json
import os
import subprocess
import time

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from helpers import find, show
from hierarchy import STALE_ADDR, NsdGroup, _answers, resolverd_config_text, stale_zone
from resolver_process import ResolverProcess

_addrs = (f"127.53.200.{i}" for i in itertools.count(1))

EDE_STALE_ANSWER = 3
EDE_STALE_NXDOMAIN = 19
STALE_TTL = 30


@pytest.fixture(autouse=True)
def _resolverd_only(ours_only):
    ours_only("serve-stale, prefetch and the snapshot are resolverd's (issue 8)")


def wait_answering(addr, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not _answers(addr):
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answers on {addr}")
        time.sleep(0.05)


class StaleZone:
    """The NSD serving stale.test on 127.12.3.1, started and stopped by the test."""

    def __init__(self, base):
        self.group = NsdGroup("stale", [STALE_ADDR], {"stale.test": stale_zone()})
        self.group.write(base)

    def start(self):
        self.group.start()
        wait_answering(STALE_ADDR)

    def stop(self):
        self.group.stop()
        self.group.proc = None


@pytest.fixture
def zone(hierarchy, workdir):
    z = StaleZone(os.path.join(workdir, "stale-zone"))
    z.start()
    yield z
    z.stop()


class Resolverd(ResolverProcess):
    """resolverd with cache settings of the test's choosing and a control socket."""

    def __init__(self, build_dir, root_hints, workdir, cache_extra="", config_text=None):
        super().__init__("resolverd", build_dir, root_hints, workdir, listen=next(_addrs))
        self.cache_extra = cache_extra
        self.control = os.path.join(workdir, "control.sock")
        self.config_text = config_text

    def argv(self):
        conf = os.path.join(self.workdir, "resolverd.yaml")
        text = self.config_text(self) if self.config_text else resolverd_config_text(
            self.root_hints, listen=self.addr, control_socket=self.control, cache_extra=self.cache_extra)
        with open(conf, "w") as f:
            f.write(text)
        return [os.path.join(self.build_dir, "resolverd"), "-c", conf]

    def stats(self):
        out = subprocess.run([os.path.join(self.build_dir, "resolverctl"), "-s", self.control, "--json", "stats"],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def log(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def log_size(self):
        return os.path.getsize(self.stderr_path)

    def log_since(self, mark):
        with open(self.stderr_path, errors="replace") as f:
            f.seek(mark)
            return f.read()


@pytest.fixture
def make(build_dir, hierarchy, workdir):
    started = []

    def start(cache_extra="", config_text=None, root_hints=None, name="stale"):
        r = Resolverd(build_dir, root_hints or hierarchy.root_hints,
                      os.path.join(workdir, f"{name}-resolver-{len(started)}"), cache_extra, config_text)
        started.append(r)
        return r.start()

    yield start
    for r in started:
        r.stop()


def ask(r, name, rdtype="A", timeout=8.0, want_dnssec=False, cd=False):
    # EDNS, so that an Extended DNS Error can be seen; retried like a stub would.
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232, want_dnssec=want_dnssec)
    if cd:
        q.flags |= dns.flags.CD
    return r._send_with_retries(q, timeout, 3.0, None)


def edes(msg):
    return [o.code for o in msg.options if o.otype == dns.edns.EDE]


def answer_ttl(msg, name, rdtype="A"):
    rrset = find(msg, "answer", name, rdtype)
    assert rrset is not None, f"no {name} {rdtype} in the answer:{show(msg)}"
    return rrset.ttl


def assert_stale(msg, name, rdata, ede=EDE_STALE_ANSWER):
    assert msg.rcode() == dns.rcode.NOERROR, show(msg)
    rrset = find(msg, "answer", name, "A")
    assert rrset is not None and [r.to_text() for r in rrset] == [rdata], show(msg)
    assert rrset.ttl == STALE_TTL, f"RFC 8767 4: stale answers have TTL 30:{show(msg)}"
    assert edes(msg) == [ede], f"expected EDE {ede} (Stale Answer):{show(msg)}"


def assert_fresh(msg, name, rdata, max_ttl):
    assert msg.rcode() == dns.rcode.NOERROR, show(msg)
    rrset = find(msg, "answer", name, "A")
    assert rrset is not None and [r.to_text() for r in rrset] == [rdata], show(msg)
    assert rrset.ttl <= max_ttl, show(msg)
    assert edes(msg) == [], show(msg)


def upstream_queries_for(text, name):
    return [line for line in text.splitlines() if "upstream query to" in line and f": {name}. " in line.lower()]


# -- serve-stale --------------------------------------------------------------


def test_stale_answer_while_the_zones_server_is_down_then_fresh_again(zone, make):
    r = make(cache_extra="stale-refresh-time: 2")
    assert_fresh(ask(r, "short.stale.test"), "short.stale.test", "192.0.2.201", 2)
    zone.stop()  # the authority goes away ...
    time.sleep(3)  # ... and the TTL (2 s) runs out
    stale = ask(r, "short.stale.test")
    assert_stale(stale, "short.stale.test", "192.0.2.201")
    assert not stale.flags & dns.flags.AD, "insecure data stays insecure"
    counts = r.stats()["stale_answers_total"]
    assert counts["client-timeout"] + counts["failure"] >= 1, counts
    assert r.stats()["answers_by_ede_total"][f"{EDE_STALE_ANSWER},Stale Answer"] >= 1

    # The server returns: within the failure recheck time (2 s) clients may still get
    # the stale answer, then the fresh one; never a failure.
    zone.start()
    deadline = time.monotonic() + 30
    while True:
        m = ask(r, "short.stale.test")
        assert m.rcode() == dns.rcode.NOERROR, show(m)
        if not edes(m):
            assert_fresh(m, "short.stale.test", "192.0.2.201", 2)
            break
        assert_stale(m, "short.stale.test", "192.0.2.201")
        assert time.monotonic() < deadline, "still stale 30 s after the server came back"
        time.sleep(0.5)


def test_stale_nxdomain_carries_ede_19(zone, make):
    r = make()
    first = ask(r, "nothing.stale.test")
    assert first.rcode() == dns.rcode.NXDOMAIN, show(first)
    zone.stop()
    time.sleep(3)  # the negative TTL (SOA MINIMUM 2) runs out
    stale = ask(r, "nothing.stale.test")
    assert stale.rcode() == dns.rcode.NXDOMAIN, show(stale)
    assert edes(stale) == [EDE_STALE_NXDOMAIN], show(stale)
    soa = find(stale, "authority", "stale.test", "SOA")
    assert soa is not None and soa.ttl == STALE_TTL, show(stale)


def test_with_serve_stale_off_a_dead_zone_is_servfail(zone, make):
    r = make(cache_extra="serve-stale: false")
    assert_fresh(ask(r, "short.stale.test"), "short.stale.test", "192.0.2.201", 2)
    zone.stop()
    time.sleep(3)
    m = ask(r, "short.stale.test", timeout=15)
    assert m.rcode() == dns.rcode.SERVFAIL, show(m)
    assert EDE_STALE_ANSWER not in edes(m), show(m)


# -- prefetch -----------------------------------------------------------------


def test_prefetch_refreshes_an_answer_before_it_expires(zone, make):
    r = make()
    first = ask(r, "pre.stale.test")
    assert 11 <= answer_ttl(first, "pre.stale.test") <= 12, show(first)
    # Ask again and again, as a popular name is asked; every answer comes from the
    # cache, its TTL counting down, until one comes in the last tenth of the TTL
    # (12 s: the last second).
    deadline = time.monotonic() + 30
    while True:
        mark = r.log_size()
        m = ask(r, "pre.stale.test")
        ttl = answer_ttl(m, "pre.stale.test")
        assert edes(m) == [], show(m)
        if ttl <= 1:
            break
        assert time.monotonic() < deadline, f"the TTL did not count down: {ttl}"
        time.sleep(0.2)
    assert ttl >= 1, "the client was answered from the cache, before the answer expired"
    # That hit started the refresh: the authority is asked while the answer still lives.
    deadline = time.monotonic() + 10
    while not upstream_queries_for(r.log_since(mark), "pre.stale.test"):
        assert time.monotonic() < deadline, "no refresh query went to the authority:\n" + r.log_since(mark)
        time.sleep(0.05)
    assert r.stats()["prefetches_total"]["started"] == 1
    # The next client gets the refreshed answer from the cache: no miss, no upstream query.
    deadline = time.monotonic() + 10
    while True:
        mark = r.log_size()
        m = ask(r, "pre.stale.test")
        if answer_ttl(m, "pre.stale.test") >= 10:
            break
        assert time.monotonic() < deadline, f"the answer was not refreshed:{show(m)}"
        time.sleep(0.05)
    assert not upstream_queries_for(r.log_since(mark), "pre.stale.test"), "a cache hit asks nobody"
    stats = r.stats()
    assert stats["cache_misses_total"] == 1, f"only the first question was a miss: {stats['cache_misses_total']}"


# -- the snapshot -------------------------------------------------------------


def test_snapshot_keeps_the_cache_across_a_restart_with_the_zone_down(zone, make, workdir):
    snapshot = os.path.join(workdir, "snapshot-dir", "sub", "cache.db")
    r = make(cache_extra=f"snapshot: {snapshot}, snapshot-interval: 0", name="snap")
    assert f"created {os.path.dirname(snapshot)} for the cache snapshot" in r.log(), r.log()
    assert_fresh(ask(r, "long.stale.test"), "long.stale.test", "192.0.2.202", 300)
    assert_fresh(ask(r, "snap.stale.test"), "snap.stale.test", "192.0.2.204", 2)
    assert ask(r, "nothing.stale.test").rcode() == dns.rcode.NXDOMAIN
    r.stop()  # SIGTERM: the snapshot is written on the way out
    assert "cache snapshot " + snapshot + " written at shutdown" in r.log(), r.log()
    with open(snapshot, "rb") as f:
        assert f.read(8) == b"RSVDSNAP"
    assert os.stat(snapshot).st_mode & 0o777 == 0o600

    zone.stop()  # the zone's server is down while the resolver restarts
    time.sleep(3)  # long.stale.test is still live; snap and nothing have expired
    r.start()
    assert "restored" in r.log() and "ignored" not in r.log(), r.log()
    live = ask(r, "long.stale.test")
    assert_fresh(live, "long.stale.test", "192.0.2.202", 297)  # aged by the time it was down
    assert_stale(ask(r, "snap.stale.test"), "snap.stale.test", "192.0.2.204")
    nx = ask(r, "nothing.stale.test")
    assert nx.rcode() == dns.rcode.NXDOMAIN and edes(nx) == [EDE_STALE_NXDOMAIN], show(nx)


def test_a_corrupt_snapshot_is_reported_and_ignored(zone, make, workdir):
    snapshot = os.path.join(workdir, "corrupt", "cache.db")
    r = make(cache_extra=f"snapshot: {snapshot}", name="corrupt")
    assert_fresh(ask(r, "long.stale.test"), "long.stale.test", "192.0.2.202", 300)
    r.stop()
    with open(snapshot, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0x10
    with open(snapshot, "wb") as f:
        f.write(data)
    r.start()  # starts, says why the file was not used ...
    assert (f"cache snapshot {snapshot} ignored: checksum mismatch (the file is corrupt or truncated)"
            in r.log()), r.log()
    mark = r.log_size()
    m = ask(r, "long.stale.test")  # ... and resolves afresh
    assert_fresh(m, "long.stale.test", "192.0.2.202", 300)
    assert upstream_queries_for(r.log_since(mark), "long.stale.test"), "nothing came from the bad file"
    r.stop()
    with open(snapshot, "wb") as f:
        f.write(b"listen: [127.0.0.1@53]\n")  # not ours at all
    r.start()
    assert f"cache snapshot {snapshot} ignored: not a resolverd cache snapshot" in r.log(), r.log()
    assert ask(r, "long.stale.test").rcode() == dns.rcode.NOERROR


def test_a_snapshot_someone_else_could_have_written_is_refused_unread(zone, make, workdir):
    # Its statuses would be trusted: only the daemon's (or root's) own file is read.
    snapshot = os.path.join(workdir, "not-ours", "cache.db")
    r = make(cache_extra=f"snapshot: {snapshot}", name="not-ours")

    def refused_and_resolved_afresh(reason):
        assert f"cache snapshot {snapshot} ignored: {reason}" in r.log(), r.log()
        mark = r.log_size()
        assert_fresh(ask(r, "long.stale.test"), "long.stale.test", "192.0.2.202", 300)
        assert upstream_queries_for(r.log_since(mark), "long.stale.test"), "nothing came from the file"

    assert_fresh(ask(r, "long.stale.test"), "long.stale.test", "192.0.2.202", 300)
    r.stop()
    os.chmod(snapshot, 0o666)
    r.start()
    refused_and_resolved_afresh("writable by its group or others (mode 0666)")
    r.stop()  # written again, as the daemon's own
    assert os.stat(snapshot).st_mode & 0o777 == 0o600
    os.chown(snapshot, 65534, 65534)
    r.start()
    refused_and_resolved_afresh("owned by uid 65534")
    r.stop()
    elsewhere = os.path.join(workdir, "not-ours", "elsewhere.db")
    os.rename(snapshot, elsewhere)
    os.chown(elsewhere, 0, 0)
    os.symlink(elsewhere, snapshot)
    r.start()
    refused_and_resolved_afresh("a symbolic link")
    r.stop()
    assert os.path.isfile(snapshot) and not os.path.islink(snapshot), "replaced by the daemon's own file"
    r.start()
    assert "restored" in r.log() and "ignored" not in r.log(), r.log()


def test_a_snapshot_written_under_a_runtime_negative_trust_anchor_is_not_used(zone, make, workdir):
    # Statuses judged while `resolverctl nta add` was in force do not hold after a
    # restart, which forgets the anchor.
    snapshot = os.path.join(workdir, "nta", "cache.db")
    r = make(cache_extra=f"snapshot: {snapshot}", name="nta")
    assert_fresh(ask(r, "long.stale.test"), "long.stale.test", "192.0.2.202", 300)
    out = subprocess.run([os.path.join(r.build_dir, "resolverctl"), "-s", r.control, "nta", "add", "stale.test"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    r.stop()
    r.start()
    assert (f"cache snapshot {snapshot} ignored: written under other DNSSEC settings, trust anchors or forwarding"
            in r.log()), r.log()
    assert_fresh(ask(r, "long.stale.test"), "long.stale.test", "192.0.2.202", 300)
    r.stop()  # written again without the anchor: the next start uses it
    r.start()
    assert "restored" in r.log() and "ignored" not in r.log(), r.log()
    mark = r.log_size()
    assert_fresh(ask(r, "long.stale.test"), "long.stale.test", "192.0.2.202", 300)
    assert not upstream_queries_for(r.log_since(mark), "long.stale.test"), "answered from the snapshot"


def test_a_snapshot_directory_that_cannot_be_made_is_a_warning_not_a_failure(zone, make, workdir):
    blocker = os.path.join(workdir, "not-a-directory")
    with open(blocker, "w") as f:
        f.write("a file where the directory should be\n")
    snapshot = os.path.join(blocker, "cache.db")
    r = make(cache_extra=f"snapshot: {snapshot}", name="nodir")
    assert (f"cache snapshot {snapshot}: {blocker} exists and is not a directory; the daemon runs without it"
            in r.log()), r.log()
    assert_fresh(ask(r, "long.stale.test"), "long.stale.test", "192.0.2.202", 300)
    r.stop()
    assert "not written" not in r.log(), "it said it runs without the snapshot: " + r.log()


# -- DNSSEC: status travels with the data ---------------------------------------


def test_snapshot_keeps_secure_answers_secure_and_never_serves_bogus(signed_hierarchy, make, workdir):
    from validating_resolver import validating_resolverd_config

    snapshot = os.path.join(workdir, "dnssec-snapshot", "cache.db")

    def config(r):
        text = validating_resolverd_config(signed_hierarchy.root_hints, signed_hierarchy.trust_anchor, r.addr)
        text = text.replace("cache: {size: 64M}", f"cache: {{size: 64M, snapshot: {snapshot}}}")
        return text.replace('control: {socket: ""}', f'control: {{socket: "{r.control}"}}')

    r = make(config_text=config, root_hints=signed_hierarchy.root_hints, name="dnssec")
    secure = ask(r, "www.ecdsa256.sec", want_dnssec=True)
    assert secure.rcode() == dns.rcode.NOERROR and secure.flags & dns.flags.AD, show(secure)
    bogus = ask(r, "www.tampered.sec", want_dnssec=True)
    assert bogus.rcode() == dns.rcode.SERVFAIL, show(bogus)
    unchecked = ask(r, "www.tampered.sec", want_dnssec=True, cd=True)  # CD: the bogus data itself
    assert unchecked.rcode() == dns.rcode.NOERROR and not unchecked.flags & dns.flags.AD, show(unchecked)
    r.stop()
    assert "cache snapshot " + snapshot + " written at shutdown" in r.log(), r.log()

    r.start()
    assert "restored" in r.log(), r.log()
    mark = r.log_size()
    again = ask(r, "www.ecdsa256.sec", want_dnssec=True)
    assert again.rcode() == dns.rcode.NOERROR and again.flags & dns.flags.AD, (
        "a secure answer restored from the snapshot keeps AD" + show(again))
    assert find(again, "answer", "www.ecdsa256.sec", "RRSIG") is not None, show(again)
    assert not upstream_queries_for(r.log_since(mark), "www.ecdsa256.sec"), "it came from the snapshot"
    bogus_again = ask(r, "www.tampered.sec", want_dnssec=True)
    assert bogus_again.rcode() == dns.rcode.SERVFAIL and not bogus_again.answer, (
        "bogus data is never served, restored or not" + show(bogus_again))


def test_an_answer_judged_under_a_lapsed_negative_trust_anchor_is_not_restored(signed_hierarchy, make, workdir):
    # `nta add --for` makes a bogus zone's answers insecure; once the anchor lapses they
    # are flushed, so the snapshot written afterwards (at shutdown) cannot bring them
    # back as insecure after a restart.
    from validating_resolver import validating_resolverd_config

    snapshot = os.path.join(workdir, "nta-lapse-snapshot", "cache.db")

    def config(r):
        text = validating_resolverd_config(signed_hierarchy.root_hints, signed_hierarchy.trust_anchor, r.addr)
        text = text.replace("cache: {size: 64M}", f"cache: {{size: 64M, snapshot: {snapshot}}}")
        return text.replace('control: {socket: ""}', f'control: {{socket: "{r.control}"}}')

    def ctl(*args):
        out = subprocess.run([os.path.join(r.build_dir, "resolverctl"), "-s", r.control, *args],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    r = make(config_text=config, root_hints=signed_hierarchy.root_hints, name="nta-lapse")
    assert ask(r, "www.tampered.sec", want_dnssec=True).rcode() == dns.rcode.SERVFAIL
    ctl("nta", "add", "tampered.sec", "--for", "2")
    insecure = ask(r, "www.tampered.sec", want_dnssec=True)
    assert insecure.rcode() == dns.rcode.NOERROR and not insecure.flags & dns.flags.AD, show(insecure)
    secure = ask(r, "www.ecdsa256.sec", want_dnssec=True)
    assert secure.flags & dns.flags.AD, show(secure)
    for _ in range(120):  # until the anchor has lapsed
        if "no negative trust anchors" in ctl("nta", "list"):
            break
        time.sleep(0.25)
    assert "no negative trust anchors" in ctl("nta", "list")
    r.stop()
    assert "cache snapshot " + snapshot + " written at shutdown" in r.log(), r.log()

    r.start()
    assert "restored" in r.log() and "ignored" not in r.log(), r.log()
    again = ask(r, "www.tampered.sec", want_dnssec=True)
    assert again.rcode() == dns.rcode.SERVFAIL and not again.answer, (
        "the answer judged insecure under the lapsed anchor stays gone after a restart" + show(again))
    assert ask(r, "www.ecdsa256.sec", want_dnssec=True).flags & dns.flags.AD
