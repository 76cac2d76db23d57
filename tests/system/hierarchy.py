"""The local DNS hierarchy for the system tests.

Generates zone files and NSD configs in a temporary directory and starts one
NSD per server group (each group on its own 127.x addresses, port 53), plus
the dnspython-based misbehaving server (hostile_server.py).  Everything is
stopped by PID (see procs.py).

Address plan (all IPv4 loopback, port 53):
  127.10.0.1-2     root "."                        (one NSD, two addresses)
  127.11.0.1-2     test.                           (one NSD)
  127.11.0.3-4     example.                        (one NSD)
  127.12.0.N       leaf zones alpha.test ... (one NSD each)
  127.12.1.1       NSD not authoritative for lame.test (REFUSED)
  127.12.1.2       NSD serving lame.test
  127.12.1.3       blackhole (hostile_server) for silent.test
  127.12.1.4       NSD serving silent.test
  127.12.2.1       glueless.test (NS ns.alpha.test, no glue)
  127.12.3.1       stale.test: delegated here, served only while a test runs its
                   NSD (test_stale.py, stale_zone()), so that its server can be
                   stopped and started in the middle of a test
  127.13.0.1       hostile.test  (NSD)
  127.13.0.2       elsewhere.test (NSD)
  127.13.1.1-4     hostile_server referral loops
  127.13.2.1-10    addresses of ns1..ns10.elsewhere.test (1-3 blackholes,
                   4-10 nothing listening); ns11..ns50 do not exist
The whole capture range is 127.8.0.0/13 (127.8.x - 127.15.x).
"""

import os
import socket
import subprocess
import sys
import time

import dns.message
import dns.query
import dns.rdatatype

import procs

HERE = os.path.dirname(os.path.abspath(__file__))
NSD = "/usr/sbin/nsd"

ROOT_ADDRS = ["127.10.0.1", "127.10.0.2"]
TEST_TLD_ADDRS = ["127.11.0.1", "127.11.0.2"]
EXAMPLE_TLD_ADDRS = ["127.11.0.3", "127.11.0.4"]
CAPTURE_NET = "127.8.0.0/13"

# Leaf zones: name -> (address, index used in record data)
LEAVES = {
    "alpha.test": "127.12.0.1",
    "beta.test": "127.12.0.2",
    "gamma.example": "127.12.0.3",
    "delta.test": "127.12.0.4",
    "epsilon.example": "127.12.0.5",
    "zeta.test": "127.12.0.6",
    "eta.example": "127.12.0.7",
    "theta.test": "127.12.0.8",
    "iota.test": "127.12.0.9",
    "kappa.example": "127.12.0.10",
    "lambda.example": "127.12.0.11",
}
ALPHA = LEAVES["alpha.test"]
LAME_REFUSER = "127.12.1.1"
LAME_GOOD = "127.12.1.2"
SILENT_BLACKHOLE = "127.12.1.3"
SILENT_GOOD = "127.12.1.4"
GLUELESS_ADDR = "127.12.2.1"
NS_ALPHA_ADDR = GLUELESS_ADDR  # ns.alpha.test, the glueless zone's server
STALE_ADDR = "127.12.3.1"
HOSTILE_ADDR = "127.13.0.1"
ELSEWHERE_ADDR = "127.13.0.2"
SIDEWAYS_A = "127.13.1.1"
SIDEWAYS_B = "127.13.1.2"
UPWARD = "127.13.1.3"
DEEP = "127.13.1.4"
DEAD_NS = [f"127.13.2.{i}" for i in range(1, 11)]
BLACKHOLE_NS = DEAD_NS[:3]

BIG_TXT_STRINGS = [(chr(ord("a") + i) * 200) for i in range(8)]

SOA_TIMERS = "1 3600 900 604800"


def leaf_index(zone):
    return list(LEAVES).index(zone) + 1


def www_a(zone):
    return f"192.0.2.{leaf_index(zone)}"


def www_aaaa(zone):
    return f"2001:db8::{leaf_index(zone)}"


# --------------------------------------------------------------------------
# zone text


def _soa(zone, ttl=3600, minimum=3600, ns=None):
    ns = ns or f"ns1.{zone}."
    return f"{zone}. {ttl} IN SOA {ns} hostmaster.{zone}. {SOA_TIMERS} {minimum}\n"


def root_zone():
    z = "$TTL 86400\n"
    z += ". 86400 IN SOA a.root-servers.net. hostmaster.root-servers.net. 1 1800 900 604800 86400\n"
    z += ". IN NS a.root-servers.net.\n. IN NS b.root-servers.net.\n"
    z += f"a.root-servers.net. IN A {ROOT_ADDRS[0]}\n"
    z += f"b.root-servers.net. IN A {ROOT_ADDRS[1]}\n"
    z += "test. IN NS ns1.test.\ntest. IN NS ns2.test.\n"
    z += f"ns1.test. IN A {TEST_TLD_ADDRS[0]}\nns2.test. IN A {TEST_TLD_ADDRS[1]}\n"
    z += "example. IN NS ns1.example.\nexample. IN NS ns2.example.\n"
    z += f"ns1.example. IN A {EXAMPLE_TLD_ADDRS[0]}\nns2.example. IN A {EXAMPLE_TLD_ADDRS[1]}\n"
    return z


def tld_zone(tld, addrs):
    z = "$TTL 86400\n" + _soa(tld, 86400, 300)
    z += f"{tld}. IN NS ns1.{tld}.\n{tld}. IN NS ns2.{tld}.\n"
    z += f"ns1.{tld}. IN A {addrs[0]}\nns2.{tld}. IN A {addrs[1]}\n"
    for leaf, addr in LEAVES.items():
        if leaf.endswith("." + tld):
            z += f"{leaf}. IN NS ns1.{leaf}.\nns1.{leaf}. IN A {addr}\n"
    if tld == "test":
        z += "glueless.test. IN NS ns.alpha.test.\n"  # no glue: another zone
        z += "lame.test. IN NS ns1.lame.test.\nlame.test. IN NS ns2.lame.test.\n"
        z += f"ns1.lame.test. IN A {LAME_REFUSER}\nns2.lame.test. IN A {LAME_GOOD}\n"
        z += "silent.test. IN NS ns1.silent.test.\nsilent.test. IN NS ns2.silent.test.\n"
        z += f"ns1.silent.test. IN A {SILENT_BLACKHOLE}\nns2.silent.test. IN A {SILENT_GOOD}\n"
        z += f"hostile.test. IN NS ns1.hostile.test.\nns1.hostile.test. IN A {HOSTILE_ADDR}\n"
        z += f"stale.test. IN NS ns1.stale.test.\nns1.stale.test. IN A {STALE_ADDR}\n"
        z += f"elsewhere.test. IN NS ns1.elsewhere.test.\nns1.elsewhere.test. IN A {ELSEWHERE_ADDR}\n"
        # glueless dependency cycle: each zone's only NS is a name in the other
        z += "cyc1.test. IN NS ns.cyc2.test.\ncyc2.test. IN NS ns.cyc1.test.\n"
    return z


def leaf_zone(zone, addr):
    i = leaf_index(zone)
    # Short negative TTL so negative caching can be observed counting down.
    z = "$TTL 300\n" + _soa(zone, ttl=60, minimum=60)
    z += f"{zone}. IN NS ns1.{zone}.\nns1.{zone}. IN A {addr}\n"
    z += f"www.{zone}. IN A {www_a(zone)}\nwww.{zone}. IN AAAA {www_aaaa(zone)}\n"
    z += f"{zone}. IN MX 10 mail.{zone}.\nmail.{zone}. IN A 192.0.2.{100 + i}\n"
    z += f'{zone}. IN TXT "zone {zone}"\n'
    z += f'txt.{zone}. IN TXT "hello from {zone}" "second string"\n'
    z += f"www.{zone}. IN HINFO \"PC\" \"Linux\"\n"
    z += f'www.{zone}. IN TXT "www of {zone}"\n'
    if zone == "alpha.test":
        z += "start.alpha.test. IN CNAME mid.beta.test.\n"
        z += "old.alpha.test. IN DNAME new.beta.test.\n"
        z += f"ns.alpha.test. IN A {NS_ALPHA_ADDR}\n"
        z += "a.b.c.alpha.test. IN A 192.0.2.77\n"
        z += "big.alpha.test. IN TXT " + " ".join(f'"{s}"' for s in BIG_TXT_STRINGS) + "\n"
        for n in range(1, 30):
            z += f"host{n}.alpha.test. IN A 192.0.2.{n + 150}\n"
    if zone == "beta.test":
        z += "mid.beta.test. IN CNAME end.gamma.example.\n"
        z += "www.new.beta.test. IN A 192.0.2.44\n"
    if zone == "gamma.example":
        z += "end.gamma.example. IN A 192.0.2.33\n"
    return z


def simple_zone(zone, ns_name, ns_addr, extra=""):
    z = "$TTL 300\n" + _soa(zone, ttl=60, minimum=60, ns=ns_name)
    z += f"{zone}. IN NS {ns_name}\n"
    if ns_name.endswith(f".{zone}."):
        z += f"{ns_name} IN A {ns_addr}\n"
    return z + extra


def stale_zone():
    """stale.test, for serve-stale, prefetch and the snapshot (test_stale.py): names
    whose TTL runs out during a test, one that outlives it, and a negative TTL of 2."""
    z = "$TTL 300\n" + _soa("stale.test", ttl=300, minimum=2)
    z += f"stale.test. IN NS ns1.stale.test.\nns1.stale.test. IN A {STALE_ADDR}\n"
    z += "short.stale.test. 2 IN A 192.0.2.201\n"
    z += "long.stale.test. 300 IN A 192.0.2.202\n"
    z += "pre.stale.test. 12 IN A 192.0.2.203\n"
    z += "snap.stale.test. 2 IN A 192.0.2.204\n"
    return z


def hostile_zone():
    z = "$TTL 300\n" + _soa("hostile.test", ttl=60, minimum=60)
    z += f"hostile.test. IN NS ns1.hostile.test.\nns1.hostile.test. IN A {HOSTILE_ADDR}\n"
    z += "loop1.hostile.test. IN CNAME loop2.hostile.test.\n"
    z += "loop2.hostile.test. IN CNAME loop1.hostile.test.\n"
    z += "self.hostile.test. IN CNAME self.hostile.test.\n"
    # sideways: sideways.hostile.test -> server A, which refers to B, which refers to A
    z += "sideways.hostile.test. IN NS ns.sw-a.hostile.test.\n"
    z += f"ns.sw-a.hostile.test. IN A {SIDEWAYS_A}\nns.sw-b.hostile.test. IN A {SIDEWAYS_B}\n"
    # upward: up.hostile.test's server refers back up to hostile.test (at itself)
    z += f"up.hostile.test. IN NS ns.up.hostile.test.\nns.up.hostile.test. IN A {UPWARD}\n"
    # deep: ever deeper referrals
    z += f"deep.hostile.test. IN NS ns.deep.hostile.test.\nns.deep.hostile.test. IN A {DEEP}\n"
    # fifty glueless NS names in another zone; none of them answers
    for n in range(1, 51):
        z += f"fifty.hostile.test. IN NS ns{n}.elsewhere.test.\n"
    z += "www.hostile.test. IN A 192.0.2.99\n"
    return z


def elsewhere_zone():
    extra = "".join(f"ns{i + 1}.elsewhere.test. IN A {a}\n" for i, a in enumerate(DEAD_NS))
    return simple_zone("elsewhere.test", "ns1.elsewhere.test.", ELSEWHERE_ADDR, extra)


# --------------------------------------------------------------------------
# servers


class NsdGroup:
    # Lines added to every NSD's "server:" section; the fault-injection benchmark
    # sets ["rrl-ratelimit: 0"]: NSD's response rate limiting (on by default, 200
    # responses a second per bucket, and every upstream query of a resolver on
    # loopback comes from 127.0.0.1) would otherwise be what a load test measures.
    extra_server_lines = []

    def __init__(self, name, addrs, zones):
        self.name = name
        self.addrs = addrs
        self.zones = zones  # zone name -> text
        self.proc = None
        self.dir = None

    def write(self, base):
        self.dir = os.path.join(base, "nsd-" + self.name)
        os.makedirs(self.dir, exist_ok=True)
        d = self.dir
        conf = ["server:"]
        conf += [f"  ip-address: {a}" for a in self.addrs]
        conf += [
            "  port: 53",
            "  do-ip4: yes",
            "  do-ip6: no",
            "  verbosity: 1",
            '  username: ""',
            '  chroot: ""',
            f'  zonesdir: "{d}"',
            f'  zonelistfile: "{d}/zone.list"',
            f'  xfrdfile: "{d}/xfrd.state"',
            f'  xfrdir: "{d}"',
            '  database: ""',
            f'  pidfile: "{d}/nsd.pid"',
            f'  logfile: "{d}/nsd.log"',
            "  server-count: 1",
            "  zonefiles-write: 0",
            f'  identity: "nsd-{self.name}"',
        ]
        conf += [f"  {line}" for line in self.extra_server_lines]
        conf += ["remote-control:", "  control-enable: no"]
        for zone, text in self.zones.items():
            fname = (zone.strip(".") or "root") + ".zone"
            with open(os.path.join(d, fname), "w") as f:
                f.write(text)
            conf += ["zone:", f'  name: "{zone}"', f'  zonefile: "{fname}"']
        self.conf = os.path.join(d, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self):
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = procs.start([NSD, "-c", self.conf, "-d"], f"nsd {self.name}",
                                stdout=self.stderr, stderr=subprocess.STDOUT)

    def log(self):
        out = ""
        for fn in ("stderr.log", "nsd.log"):
            p = os.path.join(self.dir, fn)
            if os.path.exists(p):
                out += open(p, errors="replace").read()
        return out

    def stop(self):
        procs.stop(self.proc)
        if getattr(self, "stderr", None):
            self.stderr.close()


def _answers(addr, qname="version.bind", rdtype="TXT", rdclass="CH", timeout=0.3):
    q = dns.message.make_query(qname, rdtype, rdclass)
    try:
        dns.query.udp(q, addr, port=53, timeout=timeout)
        return True
    except Exception:
        return False


class Hierarchy:
    """Generate and run the whole authoritative side."""

    def __init__(self, base_dir):
        self.base = base_dir
        os.makedirs(self.base, exist_ok=True)
        self.root_hints = os.path.join(self.base, "root.hints")
        self.groups = []
        self.hostile = None
        self.hostile_log = os.path.join(self.base, "hostile.log")

    def build(self):
        g = self.groups
        g.append(NsdGroup("root", ROOT_ADDRS, {".": root_zone()}))
        g.append(NsdGroup("test", TEST_TLD_ADDRS, {"test": tld_zone("test", TEST_TLD_ADDRS)}))
        g.append(NsdGroup("example", EXAMPLE_TLD_ADDRS,
                          {"example": tld_zone("example", EXAMPLE_TLD_ADDRS)}))
        for zone, addr in LEAVES.items():
            g.append(NsdGroup(zone, [addr], {zone: leaf_zone(zone, addr)}))
        g.append(NsdGroup("lame-refuser", [LAME_REFUSER], {
            "unrelated.invalid": simple_zone("unrelated.invalid", "ns.unrelated.invalid.", LAME_REFUSER)}))
        g.append(NsdGroup("lame-good", [LAME_GOOD], {
            "lame.test": simple_zone("lame.test", "ns2.lame.test.", LAME_GOOD,
                                     "lame.test. IN NS ns1.lame.test.\n"
                                     f"ns1.lame.test. IN A {LAME_REFUSER}\n"
                                     "www.lame.test. IN A 192.0.2.60\n")}))
        g.append(NsdGroup("silent-good", [SILENT_GOOD], {
            "silent.test": simple_zone("silent.test", "ns2.silent.test.", SILENT_GOOD,
                                       "silent.test. IN NS ns1.silent.test.\n"
                                       f"ns1.silent.test. IN A {SILENT_BLACKHOLE}\n"
                                       "www.silent.test. IN A 192.0.2.61\n")}))
        g.append(NsdGroup("glueless", [GLUELESS_ADDR], {
            "glueless.test": simple_zone("glueless.test", "ns.alpha.test.", GLUELESS_ADDR,
                                         "www.glueless.test. IN A 192.0.2.50\n")}))
        g.append(NsdGroup("hostile", [HOSTILE_ADDR], {"hostile.test": hostile_zone()}))
        g.append(NsdGroup("elsewhere", [ELSEWHERE_ADDR], {"elsewhere.test": elsewhere_zone()}))
        for grp in g:
            grp.write(self.base)
        with open(self.root_hints, "w") as f:
            f.write(". 3600000 IN NS a.root-servers.net.\n")
            f.write(f"a.root-servers.net. 3600000 IN A {ROOT_ADDRS[0]}\n")
            f.write(". 3600000 IN NS b.root-servers.net.\n")
            f.write(f"b.root-servers.net. 3600000 IN A {ROOT_ADDRS[1]}\n")

    def hostile_argv(self):
        binds = [f"{SILENT_BLACKHOLE}:blackhole"]
        binds += [f"{a}:blackhole" for a in BLACKHOLE_NS]
        binds += [
            f"{SIDEWAYS_A}:refer:sideways.hostile.test.:ns.sw-b.hostile.test.:{SIDEWAYS_B}",
            f"{SIDEWAYS_B}:refer:sideways.hostile.test.:ns.sw-a.hostile.test.:{SIDEWAYS_A}",
            f"{UPWARD}:refer:hostile.test.:ns.up.hostile.test.:{UPWARD}",
            f"{DEEP}:deep:deep.hostile.test.",
        ]
        argv = [sys.executable, os.path.join(HERE, "hostile_server.py"), "--log", self.hostile_log]
        for b in binds:
            argv += ["--bind", b]
        return argv

    def start(self, timeout=15.0):
        if not self.groups:
            self.build()
        try:
            for grp in self.groups:
                grp.start()
            hlog = open(os.path.join(self.base, "hostile.stderr"), "w")
            self.hostile = procs.start(self.hostile_argv(), "hostile_server",
                                       stdout=hlog, stderr=subprocess.STDOUT)
            hlog.close()
            deadline = time.monotonic() + timeout
            for grp in self.groups:
                for addr in grp.addrs:
                    while not _answers(addr):
                        if grp.proc.poll() is not None:
                            raise RuntimeError(f"NSD {grp.name} exited early:\n{grp.log()}")
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"NSD {grp.name} on {addr} not answering:\n{grp.log()}")
                        time.sleep(0.05)
            # hostile server: its referral servers answer anything
            while not _answers(UPWARD, "x.up.hostile.test", "A", "IN"):
                if self.hostile.poll() is not None:
                    raise RuntimeError("hostile_server exited early:\n"
                                       + open(os.path.join(self.base, "hostile.stderr")).read())
                if time.monotonic() > deadline:
                    raise RuntimeError("hostile_server not answering")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        procs.stop(self.hostile)
        self.hostile = None
        for grp in self.groups:
            grp.stop()

    def resolverd_config(self, listen="127.53.0.1", qmin=True, access_control=None, control_socket=""):
        return resolverd_config_text(self.root_hints, listen=listen, qmin=qmin,
                                     access_control=access_control, control_socket=control_socket)


def resolverd_config_text(root_hints, listen="127.53.0.1", qmin=True, access_control=None,
                          control_socket="", http_listen=None, cache_extra=""):
    """cache_extra: more keys for the cache mapping, e.g. "prefetch: false"."""
    # allow-snoop, as the shipped configuration gives loopback: the tests ask RD=0 too.
    acl = access_control or ["127.0.0.0/8 allow-snoop"]
    return (
        f"listen: [{listen}@53]\n"
        f"access-control: [{', '.join(acl)}]\n"
        "threads: 1\n"
        "log-level: debug\n"
        "network: {do-ip6: false, do-not-query-localhost: false, edns-buffer-size: 1232}\n"
        f"resolver: {{root-hints: {root_hints}, qname-minimisation: {'true' if qmin else 'false'}, prime-root: true}}\n"
        f"cache: {{size: 64M{', ' + cache_extra if cache_extra else ''}}}\n"
        "dnssec: {validation: false, trust-anchor-files: []}\n"
        # Off unless a test asks: several daemons run side by side.
        f"control: {{socket: \"{control_socket}\"}}\n"
        f"http: {{listen: [{', '.join(http_listen or [])}]}}\n"
    )
