"""Local names and blocklists against the real daemon (issue 9).

Each test runs its own resolverd (127.53.210.x) on the plain hierarchy, with a
control socket so that its counters can be read (resolverctl --json stats): "never
leaves the house" is checked as "no upstream query was sent".  Lists and zone files
are written into the test's directory.

resolverd-specific: skipped under RESOLVER_UNDER_TEST=unbound.
"""

import itertools
import json
import os
import re
import subprocess

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.reversename
import pytest

from helpers import find, show
from hierarchy import resolverd_config_text
from resolver_process import ResolverProcess

_addrs = (f"127.53.210.{i}" for i in itertools.count(1))

EDE_BLOCKED = 15
EDE_PROHIBITED = 18


@pytest.fixture(autouse=True)
def _resolverd_only(ours_only):
    ours_only("local zones and blocklists are resolverd's (issue 9)")


class Resolverd(ResolverProcess):
    """resolverd with policy settings (top-level YAML keys) of the test's choosing."""

    def __init__(self, build_dir, root_hints, workdir, policy=""):
        super().__init__("resolverd", build_dir, root_hints, workdir, listen=next(_addrs))
        self.control = os.path.join(workdir, "control.sock")
        self.policy = policy
        self.conf = os.path.join(workdir, "resolverd.yaml")

    def config_text(self):
        return resolverd_config_text(self.root_hints, listen=self.addr, control_socket=self.control) + self.policy

    def argv(self):
        with open(self.conf, "w") as f:
            f.write(self.config_text())
        return [os.path.join(self.build_dir, "resolverd"), "-c", self.conf]

    def ctl(self, *args):
        out = subprocess.run([os.path.join(self.build_dir, "resolverctl"), "-s", self.control, "--json", *args],
                             capture_output=True, text=True, timeout=20)
        return out.returncode, json.loads(out.stdout) if out.stdout.strip() else {}

    def stats(self):
        code, reply = self.ctl("stats")
        assert code == 0, reply
        return reply.get("data", reply)

    def upstream_queries(self):
        return sum(self.stats()["upstream_queries_total"].values())

    def reload_with(self, policy):
        self.policy = policy
        with open(self.conf, "w") as f:
            f.write(self.config_text())
        return self.ctl("reload")

    def log(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()


@pytest.fixture
def make(build_dir, hierarchy, workdir):
    started = []

    def start(policy="", name="policy"):
        r = Resolverd(build_dir, hierarchy.root_hints, os.path.join(workdir, f"{name}-resolver-{len(started)}"),
                      policy)
        started.append(r)
        return r.start()

    yield start
    for r in started:
        r.stop()


@pytest.fixture
def files(tmp_path):
    """write(name, text) -> the path of a file in the test's directory."""
    def write(name, text):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


def ask(r, name, rdtype="A", rd=True, want_dnssec=True, tcp=False):
    # DO and AD set, so that an AD bit in a reply would show: the resolver sets AD only
    # for clients that ask with one of them (RFC 6840 5.7, 5.8).
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232, want_dnssec=want_dnssec)
    q.flags |= dns.flags.AD
    if not rd:
        q.flags &= ~dns.flags.RD
    return r.send(q, tcp=tcp, timeout=5.0)


def edes(msg):
    return [(o.code, o.text) for o in msg.options if o.otype == dns.edns.EDE]


def rdatas(msg, name, rdtype):
    rrset = find(msg, "answer", name, rdtype)
    return sorted(r.to_text() for r in rrset) if rrset is not None else []


def assert_local(msg, rcode=dns.rcode.NOERROR):
    assert msg.rcode() == rcode, show(msg)
    assert msg.flags & dns.flags.AA, f"local answers are authoritative:{show(msg)}"
    assert not msg.flags & dns.flags.AD, f"local answers are never validated:{show(msg)}"


# -- names that never leave the house -------------------------------------------


def test_built_in_local_zones_answer_at_once_and_never_go_upstream(make):
    r = make()
    before = r.upstream_queries()
    m = ask(r, "localhost", "A")
    assert_local(m)
    assert rdatas(m, "localhost", "A") == ["127.0.0.1"]
    m = ask(r, "localhost", "AAAA")
    assert_local(m)
    assert rdatas(m, "localhost", "AAAA") == ["::1"]
    # RFC 6761 6.3: names below localhost are loopback too.
    assert rdatas(ask(r, "printer.localhost"), "printer.localhost", "A") == ["127.0.0.1"]
    # The zone's apex exists (its SOA): NODATA there, as Unbound's static zones.
    m = ask(r, "invalid")
    assert_local(m)
    assert not m.answer and m.authority[0].rdtype == dns.rdatatype.SOA, show(m)
    for name in ("something.invalid", "facebookcorewwwi.onion", "x.y.onion", "nas.home.arpa"):
        m = ask(r, name)
        assert_local(m, dns.rcode.NXDOMAIN)
        soa = m.authority[0] if m.authority else None
        assert soa is not None and soa.rdtype == dns.rdatatype.SOA, f"a synthesized SOA for {name}:{show(m)}"
    # RFC 6303: reverse zones of private, link-local, CGNAT and local IPv6 space.
    for address in ("10.1.2.3", "192.168.1.10", "172.16.5.4", "169.254.0.1", "100.64.1.1", "0.0.0.1"):
        name = dns.reversename.from_address(address).to_text()
        assert_local(ask(r, name, "PTR"), dns.rcode.NXDOMAIN)
    assert_local(ask(r, dns.reversename.from_address("fd12::1").to_text(), "PTR"), dns.rcode.NXDOMAIN)
    assert_local(ask(r, dns.reversename.from_address("fe80::1").to_text(), "PTR"), dns.rcode.NXDOMAIN)
    # The loopback addresses have their names.
    m = ask(r, "1.0.0.127.in-addr.arpa", "PTR")
    assert_local(m)
    assert rdatas(m, "1.0.0.127.in-addr.arpa", "PTR") == ["localhost."]
    # Also without recursion, and over TCP.
    assert rdatas(ask(r, "localhost", rd=False), "localhost", "A") == ["127.0.0.1"]
    assert rdatas(ask(r, "localhost", tcp=True), "localhost", "A") == ["127.0.0.1"]
    assert r.upstream_queries() == before, "a local name went upstream"
    assert r.stats()["local_answers_total"] >= 17
    # A public name still resolves.
    assert rdatas(ask(r, "www.alpha.test"), "www.alpha.test", "A") == ["192.0.2.1"]


def test_local_data_hosts_file_and_auth_zone(make, files):
    hosts = files("hosts", "# comment\n192.168.1.20 tv.home.arpa tv\n192.168.1.21   laptop.home.arpa\n"
                           "not-an-address box.home.arpa\n192.168.1.22\n")
    zone = files("lab.zone", "$ORIGIN lab.home.arpa.\n$TTL 600\n"
                             "@ IN SOA ns.lab.home.arpa. admin.lab.home.arpa. 1 3600 600 86400 300\n"
                             "@ IN NS ns\nns IN A 192.168.2.1\nwww IN A 192.168.2.80\n*.dyn IN A 192.168.2.99\n"
                             "alias IN CNAME www\n")
    r = make(policy=(
        'local-data: ["nas.home.arpa. 3600 IN A 192.168.1.10", "nas.home.arpa. 3600 IN AAAA fd00::10",'
        ' "router.lan. 300 IN A 192.168.1.1"]\n'
        f"hosts-files: [{hosts}]\n"
        f"auth-zones: [{{name: lab.home.arpa, file: {zone}}}]\n"))
    before = r.upstream_queries()
    m = ask(r, "nas.home.arpa")
    assert_local(m)
    assert rdatas(m, "nas.home.arpa", "A") == ["192.168.1.10"]
    assert rdatas(ask(r, "nas.home.arpa", "AAAA"), "nas.home.arpa", "AAAA") == ["fd00::10"]
    # The PTR is made automatically.
    m = ask(r, "10.1.168.192.in-addr.arpa", "PTR")
    assert_local(m)
    assert rdatas(m, "10.1.168.192.in-addr.arpa", "PTR") == ["nas.home.arpa."]
    # Another name of home.arpa stays NXDOMAIN; another type of a local name is NODATA.
    assert_local(ask(r, "missing.home.arpa"), dns.rcode.NXDOMAIN)
    m = ask(r, "nas.home.arpa", "MX")
    assert_local(m)
    assert not m.answer, show(m)
    # A name outside any built-in zone gets a zone of its own (Unbound's transparent).
    assert rdatas(ask(r, "router.lan"), "router.lan", "A") == ["192.168.1.1"]
    # The hosts file: every name, the PTR for the first one.
    assert rdatas(ask(r, "tv.home.arpa"), "tv.home.arpa", "A") == ["192.168.1.20"]
    assert rdatas(ask(r, "laptop.home.arpa"), "laptop.home.arpa", "A") == ["192.168.1.21"]
    assert rdatas(ask(r, "20.1.168.192.in-addr.arpa", "PTR"), "20.1.168.192.in-addr.arpa", "PTR") == \
        ["tv.home.arpa."]
    # The auth zone: data, wildcard, CNAME, NXDOMAIN with its own SOA.
    assert rdatas(ask(r, "www.lab.home.arpa"), "www.lab.home.arpa", "A") == ["192.168.2.80"]
    assert rdatas(ask(r, "x.dyn.lab.home.arpa"), "x.dyn.lab.home.arpa", "A") == ["192.168.2.99"]
    m = ask(r, "alias.lab.home.arpa")
    assert rdatas(m, "alias.lab.home.arpa", "CNAME") == ["www.lab.home.arpa."]
    assert rdatas(m, "www.lab.home.arpa", "A") == ["192.168.2.80"]
    m = ask(r, "nope.lab.home.arpa")
    assert_local(m, dns.rcode.NXDOMAIN)
    assert m.authority and m.authority[0].name.to_text() == "lab.home.arpa.", show(m)
    assert r.upstream_queries() == before, "local data went upstream"
    # The bad hosts lines were skipped and reported with FILE:LINE.
    log = r.log()
    assert f"{hosts}:4: 'not-an-address' is not an address" in log, log[-3000:]
    assert f"{hosts}:5: an address without a name" in log, log[-3000:]


def test_local_zone_types_override_the_built_in_ones(make):
    r = make(policy="local-zones: {10.in-addr.arpa: transparent, corp.example: refuse, "
                    "tracker.example: deny, lan: static}\n")
    before = r.upstream_queries()
    m = ask(r, "x.corp.example")
    assert m.rcode() == dns.rcode.REFUSED, show(m)
    assert [code for code, _ in edes(m)] == [EDE_PROHIBITED], show(m)
    with pytest.raises(dns.exception.Timeout):
        ask(r, "t.tracker.example")  # deny: no answer at all
    assert r.stats()["queries_dropped_total"] >= 1
    assert_local(ask(r, "localhost"))  # and the daemon is still there
    assert_local(ask(r, "printer.lan"), dns.rcode.NXDOMAIN)
    assert r.upstream_queries() == before
    # transparent: the private reverse zone is asked upstream (the test root says
    # NXDOMAIN), and the answer is the resolver's, not a local one (no AA).
    m = ask(r, "4.3.2.10.in-addr.arpa", "PTR")
    assert r.upstream_queries() > before, "a transparent zone is resolved as usual"
    assert not m.flags & dns.flags.AA, show(m)


# -- blocklists --------------------------------------------------------------------


def test_blocklists_in_every_format_block_subtrees_with_ede_15(make, files):
    hosts = files("hosts.txt", "0.0.0.0 ads.alpha.test\n127.0.0.1 localhost\n0.0.0.0 bad..name\n")
    domains = files("domains.txt", "# domains\nwww.beta.test\n")
    adblock = files("adblock.txt", "! adblock\n||txt.gamma.example^\n@@||ok.txt.gamma.example^\n"
                                   "/regex-rule/\n||host1.alpha.test^$important\n")
    rpz = files("rpz.zone", "$TTL 60\n@ SOA localhost. root.localhost. 1 3600 600 86400 60\n@ NS localhost.\n"
                            "*.delta.test CNAME .\nmail.delta.test CNAME *.\n")
    refused = files("refused.txt", "epsilon.test\n")
    r = make(policy=(
        "blocklists:\n"
        f"  - {{file: {hosts}, format: hosts}}\n"
        f"  - {{file: {domains}, format: domains, action: nodata}}\n"
        f"  - {{file: {adblock}, format: adblock, action: null, name: adguard}}\n"
        f"  - {{file: {rpz}, format: rpz, action: refuse}}\n"
        f"  - {{file: {refused}, action: refuse}}\n"))
    before = r.upstream_queries()
    m = ask(r, "ads.alpha.test")
    assert m.rcode() == dns.rcode.NXDOMAIN, show(m)
    assert edes(m) == [(EDE_BLOCKED, "blocked by list hosts.txt")], show(m)
    # A listed name blocks its subtree.
    m = ask(r, "deep.er.ads.alpha.test", "AAAA")
    assert m.rcode() == dns.rcode.NXDOMAIN and edes(m)[0][0] == EDE_BLOCKED, show(m)
    m = ask(r, "www.beta.test")
    assert m.rcode() == dns.rcode.NOERROR and not m.answer, show(m)
    assert edes(m) == [(EDE_BLOCKED, "blocked by list domains.txt")], show(m)
    m = ask(r, "x.txt.gamma.example", "A")
    assert rdatas(m, "x.txt.gamma.example", "A") == ["0.0.0.0"], show(m)
    assert edes(m) == [(EDE_BLOCKED, "blocked by list adguard")], show(m)
    assert rdatas(ask(r, "x.txt.gamma.example", "AAAA"), "x.txt.gamma.example", "AAAA") == ["::"]
    # RPZ rules carry their own action (CNAME . is NXDOMAIN, CNAME *. NODATA), which
    # wins over the list's.
    m = ask(r, "a.delta.test")
    assert m.rcode() == dns.rcode.NXDOMAIN and edes(m)[0] == (EDE_BLOCKED, "blocked by list rpz.zone"), show(m)
    m = ask(r, "mail.delta.test")
    assert m.rcode() == dns.rcode.NOERROR and not m.answer and edes(m)[0][0] == EDE_BLOCKED, show(m)
    m = ask(r, "www.epsilon.test")
    assert m.rcode() == dns.rcode.REFUSED and edes(m)[0] == (EDE_BLOCKED, "blocked by list refused.txt"), show(m)
    assert r.upstream_queries() == before, "a blocked name went upstream"
    # The adblock exception, the RPZ '*.' (below only) and unlisted names resolve.
    assert rdatas(ask(r, "host1.alpha.test"), "host1.alpha.test", "A") == ["0.0.0.0"]  # $important keeps the rule
    assert ask(r, "ok.txt.gamma.example", "TXT").rcode() != dns.rcode.REFUSED
    assert rdatas(ask(r, "www.alpha.test"), "www.alpha.test", "A") == ["192.0.2.1"]
    # The local zones come first: localhost in a hosts list is not blocked.
    assert rdatas(ask(r, "localhost"), "localhost", "A") == ["127.0.0.1"]
    blocked = r.stats()["blocked_total"]
    assert blocked["hosts.txt"] == 2 and blocked["domains.txt"] == 1 and blocked["adguard"] >= 2, blocked
    assert blocked["rpz.zone"] == 2 and blocked["refused.txt"] == 1, blocked
    # The malformed lines were counted and reported.
    assert f"{hosts}:3:" in r.log()
    names = r.stats()["blocklist_names"]
    assert names == {"hosts.txt": 1, "domains.txt": 1, "adguard": 2, "rpz.zone": 2, "refused.txt": 1}, names


def test_allowlist_wins(make, files):
    lst = files("list.txt", "alpha.test\n")
    allow = files("allow.txt", "www.alpha.test\n")
    r = make(policy=(f"blocklists: [{{file: {lst}}}]\nallowlist: [{allow}, txt.alpha.test]\n"))
    assert ask(r, "mail.alpha.test").rcode() == dns.rcode.NXDOMAIN
    assert rdatas(ask(r, "www.alpha.test"), "www.alpha.test", "A") == ["192.0.2.1"]
    assert ask(r, "txt.alpha.test", "TXT").answer
    assert edes(ask(r, "mail.alpha.test"))[0][0] == EDE_BLOCKED


def test_cname_cloaking_is_blocked_and_not_cached(make, files):
    # start.alpha.test -> mid.beta.test -> end.gamma.example: the tracker hides at the end.
    lst = files("trackers.txt", "gamma.example\n")
    r = make(policy=f"blocklists: [{{file: {lst}, name: trackers}}]\n")
    for _ in range(3):  # the second and third come from nowhere but the policy check
        m = ask(r, "start.alpha.test")
        assert m.rcode() == dns.rcode.NXDOMAIN, show(m)
        assert not m.answer, show(m)
        assert edes(m) == [(EDE_BLOCKED, "blocked by list trackers (end.gamma.example., behind a CNAME)")], show(m)
    assert r.stats()["blocked_total"]["trackers"] == 3
    # Without the list (a reload), the same name resolves: nothing blocked was cached.
    code, reply = r.reload_with("")
    assert code == 0, reply
    m = ask(r, "start.alpha.test")
    assert rdatas(m, "end.gamma.example", "A") == ["192.0.2.33"], show(m)


def test_cname_cloaking_in_the_middle_of_a_chain_and_through_a_dname(make, files):
    # start.alpha.test -> mid.beta.test (listed) -> end.gamma.example: neither the
    # question nor the end is listed, only a link between them.  www.old.alpha.test,
    # by old.alpha.test DNAME new.beta.test, becomes www.new.beta.test, listed only as
    # below new.beta.test: only the synthesized CNAME's target shows it.
    lst = files("trackers.txt", "mid.beta.test\n*.new.beta.test\n")
    r = make(policy=f"blocklists: [{{file: {lst}, name: trackers}}]\n")
    m = ask(r, "start.alpha.test")
    assert m.rcode() == dns.rcode.NXDOMAIN and not m.answer, show(m)
    assert edes(m) == [(EDE_BLOCKED, "blocked by list trackers (mid.beta.test., behind a CNAME)")], show(m)
    m = ask(r, "www.old.alpha.test")
    assert m.rcode() == dns.rcode.NXDOMAIN and not m.answer, show(m)
    assert edes(m) == [(EDE_BLOCKED, "blocked by list trackers (www.new.beta.test., behind a CNAME)")], show(m)
    # What the list does not name still resolves.
    assert rdatas(ask(r, "end.gamma.example"), "end.gamma.example", "A") == ["192.0.2.33"]
    assert find(ask(r, "old.alpha.test", "DNAME"), "answer", "old.alpha.test", "DNAME") is not None
    assert r.stats()["blocked_total"]["trackers"] == 2


def test_reload_swaps_lists_keeps_the_cache_and_survives_a_missing_list(make, files, tmp_path):
    first = files("one.txt", "www.beta.test\n")
    r = make(policy=f"blocklists: [{{file: {first}, name: lists}}]\n")
    assert rdatas(ask(r, "www.alpha.test"), "www.alpha.test", "A") == ["192.0.2.1"]  # cached now
    assert ask(r, "www.beta.test").rcode() == dns.rcode.NXDOMAIN
    upstream = r.upstream_queries()
    # A timer would rewrite the file and reload: the new list replaces the old at once.
    with open(first, "w") as f:
        f.write("www.gamma.example\n")
    code, reply = r.reload_with(f"blocklists: [{{file: {first}, name: lists}}]\n")
    assert code == 0, reply
    assert ask(r, "www.gamma.example").rcode() == dns.rcode.NXDOMAIN
    assert rdatas(ask(r, "www.beta.test"), "www.beta.test", "A") != []
    # The cache was kept (RRsets: the answer cache is rebuilt from them without upstream).
    before = r.upstream_queries()
    assert rdatas(ask(r, "www.alpha.test"), "www.alpha.test", "A") == ["192.0.2.1"]
    assert r.upstream_queries() == before, "the reload dropped the cache"
    assert before > upstream  # www.beta.test was resolved now
    # A missing list: the reload is refused with the file named; the loaded lists stay.
    missing = str(tmp_path / "gone.txt")
    code, reply = r.reload_with(f"blocklists: [{{file: {first}, name: lists}}, {{file: {missing}}}]\n")
    assert code != 0
    assert missing in json.dumps(reply), reply
    assert ask(r, "www.gamma.example").rcode() == dns.rcode.NXDOMAIN, "the running lists were kept"
    # The counter of a list goes on across reloads.
    assert r.stats()["blocked_total"]["lists"] == 3


def test_a_missing_list_or_one_over_the_memory_bound_stops_the_start(build_dir, hierarchy, workdir, files, tmp_path):
    missing = str(tmp_path / "missing.txt")
    r = Resolverd(build_dir, hierarchy.root_hints, os.path.join(workdir, "policy-missing"),
                  f"blocklists: [{{file: {missing}}}]\n")
    proc = subprocess.run(r.argv(), capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert missing in proc.stderr and "cannot read" in proc.stderr, proc.stderr
    big = files("big.txt", "".join(f"name{i}.example\n" for i in range(20000)))
    r = Resolverd(build_dir, hierarchy.root_hints, os.path.join(workdir, "policy-big"),
                  f"blocklists: [{{file: {big}}}]\nblocklist-memory: 64k\n")
    proc = subprocess.run(r.argv(), capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert f"{big}: the blocklists need more than blocklist-memory (64K)" in proc.stderr, proc.stderr


def test_the_shipped_configuration_answers_localhost_at_once(build_dir, hierarchy, workdir):
    """`dig @127.0.0.1 localhost` on a fresh clone: conf/resolver.yaml as shipped, with
    only its addresses and paths moved into the test's sandbox (the test root's hints,
    so that nothing leaves loopback)."""
    shipped = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           "conf", "resolver.yaml")
    with open(shipped) as f:
        text = f.read()
    base = os.path.join(workdir, "policy-shipped")
    os.makedirs(base, exist_ok=True)
    addr = next(_addrs)
    replacements = [
        (r"^listen: .*$", f"listen: [{addr}@53]"),
        (r"^  root-hints: .*$", f"  root-hints: {hierarchy.root_hints}"),
        (r"^  validation: .*$", "  validation: false"),
        (r"^  socket: .*$", f"  socket: {base}/control.sock"),
        (r"^  snapshot: .*$", '  snapshot: ""'),
        (r"^  listen: \[127\.0\.0\.1@8053\].*$", "  listen: []"),
    ]
    for pattern, replacement in replacements:
        text, n = re.subn(pattern, replacement, text, count=1, flags=re.M)
        assert n == 1, f"the shipped configuration has no line matching {pattern}"
    conf = os.path.join(base, "resolver.yaml")
    with open(conf, "w") as f:
        f.write(text)

    class Shipped(Resolverd):
        def argv(self):
            return [os.path.join(self.build_dir, "resolverd"), "-c", conf]

    r = Shipped(build_dir, hierarchy.root_hints, base)
    r.addr = addr
    r.control = os.path.join(base, "control.sock")
    r.start()
    try:
        m = ask(r, "localhost")
        assert_local(m)
        assert rdatas(m, "localhost", "A") == ["127.0.0.1"]
        assert_local(ask(r, "1.1.168.192.in-addr.arpa", "PTR"), dns.rcode.NXDOMAIN)
        assert r.upstream_queries() == 0
    finally:
        r.stop()
