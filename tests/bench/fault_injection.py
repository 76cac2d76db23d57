#!/usr/bin/python3
"""Fault injection under load: legitimate queries while hostile authorities misbehave.

    sudo flock /tmp/resolverd-system-tests.lock \\
        /usr/bin/python3 tests/bench/fault_injection.py [--duration 60] [--sides ours,unbound]

A benchmark, not a test: it prints figures and asserts nothing about timing. One
dnsperf sends legitimate queries at a steady rate (names that resolve: mostly cold,
signed and unsigned, some NXDOMAIN, some warm) while a second dnsperf sends names
served by hostile authorities: garbage bytes, wrong IDs, wrong source ports,
truncated UDP with a slow-drip or early-closing TCP, NS floods, blackholes, referral
loops, and the KeyTrap / KeySigTrap / NSEC3 zones of the signed test hierarchy.
resolverd and Debian's unbound run one after the other against the same authorities,
configured alike (one thread, validation on, the same cache budget).

Reported per side: legitimate queries answered and answered correctly (of those
sent), lost (no answer within dnsperf's 5 s), latency percentiles, peak resident
memory (VmHWM) against the configured cache size, budget trips and bogus answers
(resolverd: its counters line at exit and its info log; unbound: unbound-control
stats and its validation log), queries shed over capacity, and datagrams the
kernel dropped on the resolver's listening socket.

The world (loopback only, port 53; see tests/bench/README.md):
  signed hierarchy (tests/system/signed_hierarchy.py), 127.20.x: the root and sec.,
      with these added: test. and example. delegated (unsigned) to the plain
      hierarchy's TLD servers, and under sec.:
  127.20.8.1  bulk.sec     signed (ECDSA P-256, NSEC), n1..nN: the cold legitimate names
  127.20.8.2  bulk-u.sec   unsigned, n1..nM
  127.20.7.1-7 hostile_server.py: garbage.sec, wrongid.sec, wrongport.sec,
              tcdrip.sec, tcclose.sec, nsflood.sec (300 glueless NS in bulk-u.sec,
              where they do not exist), blackhole.sec
  plain hierarchy (tests/system/hierarchy.py), 127.10-13.x: alpha.test ... and
      hostile.test (CNAME loops, sideways / upward / ever deeper referrals, 50
      glueless NS that never answer)
  127.21.9.1  resolverd     127.21.9.2  unbound
"""

import argparse
import collections
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "system"))

import procs  # noqa: E402

LEGIT_CLIENT = "127.0.0.1"
HOSTILE_CLIENT = "127.0.0.66"
from hierarchy import (EXAMPLE_TLD_ADDRS, LEAVES as PLAIN_LEAVES, TEST_TLD_ADDRS,  # noqa: E402
                       Hierarchy, NsdGroup, _answers)
from signed_hierarchy import Key, SignedHierarchy  # noqa: E402

OURS_ADDR = "127.21.9.1"
UNBOUND_ADDR = "127.21.9.2"
BULK_ADDR = "127.20.8.1"
BULK_U_ADDR = "127.20.8.2"
HOSTILE_NET = "127.20.7"
# zone under sec. -> hostile_server.py mode (address 127.20.7.<position + 1>)
HOSTILE_ZONES = {
    "garbage.sec": "garbage",
    "wrongid.sec": "wrongid",
    "wrongport.sec": "wrongport",
    "tcdrip.sec": "tcdrip",
    "tcclose.sec": "tcclose",
    "nsflood.sec": "nsflood:{zone}.:300:bulk-u.sec.",
    "blackhole.sec": "blackhole",
}
# Signed zones whose www A is legitimate and stays warm in the cache.
SECURE_WWW = ["rsasha256.sec", "ecdsa256.sec", "ed25519.sec", "nsec3.sec", "insecure.sec"]

# Hostile query kinds: label -> template ({n}: a fresh label each time).
HOSTILE_KINDS = {
    "garbage": "{n}.garbage.sec",
    "wrong-id": "{n}.wrongid.sec",
    "wrong-port": "{n}.wrongport.sec",
    "tc+slow-drip": "{n}.tcdrip.sec",
    "tc+tcp-close": "{n}.tcclose.sec",
    "ns-flood": "{n}.nsflood.sec",
    "blackhole": "{n}.blackhole.sec",
    "keytrap": "{n}.keytrap.sec",
    "keytrap-www": "www.keytrap.sec",
    "sigtrap-www": "www.sigtrap.sec",
    "nsec3-nx": "{n}.nsec3.sec",
    "nsec3-iter51": "{n}.iter51.sec",
    "bogus-www": "www.tampered.sec",
    "cname-loop": "loop1.hostile.test",
    "referral-loop": "{n}.sideways.hostile.test",
    "upward-referral": "{n}.up.hostile.test",
    "deep-referral": "{n}.a.b.c.d.e.f.deep.hostile.test",
    "fifty-dead-ns": "{n}.fifty.hostile.test",
}


class FaultWorld(SignedHierarchy):
    """The signed hierarchy with the bulk zones, the hostile zones and the plain
    hierarchy's TLDs delegated from it."""

    def __init__(self, base_dir, bulk_names, bulk_u_names, plain):
        super().__init__(base_dir)
        self.plain = plain  # the plain Hierarchy, started and stopped with this world
        self.bulk_names = bulk_names
        self.bulk_u_names = bulk_u_names
        self.hostile = None

    def extra_root_records(self):
        z = ""
        for tld, addrs in (("test", TEST_TLD_ADDRS), ("example", EXAMPLE_TLD_ADDRS)):
            z += f"{tld}. IN NS ns1.{tld}.\n{tld}. IN NS ns2.{tld}.\n"
            z += f"ns1.{tld}. IN A {addrs[0]}\nns2.{tld}. IN A {addrs[1]}\n"
        return z

    def extra_sec_records(self):
        # bulk.sec is signed here so that its DS goes into sec. before sec. is signed.
        key = Key(self.keydir, "bulk.sec", 13, ksk=True)
        self.keys["bulk.sec"] = [key]
        lines = ["$TTL 300", "bulk.sec. 300 IN SOA ns1.bulk.sec. h.bulk.sec. 1 3600 900 604800 60",
                 "bulk.sec. IN NS ns1.bulk.sec.", f"ns1.bulk.sec. IN A {BULK_ADDR}"]
        lines += [f"n{i}.bulk.sec. IN A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
                  for i in range(1, self.bulk_names + 1)]
        self.bulk_signed = self._sign_ldns("bulk.sec", "\n".join(lines) + "\n", [key])
        lines = ["$TTL 300", "bulk-u.sec. 300 IN SOA ns1.bulk-u.sec. h.bulk-u.sec. 1 3600 900 604800 60",
                 "bulk-u.sec. IN NS ns1.bulk-u.sec.", f"ns1.bulk-u.sec. IN A {BULK_U_ADDR}"]
        lines += [f"n{i}.bulk-u.sec. IN A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
                  for i in range(1, self.bulk_u_names + 1)]
        self.bulk_u_text = "\n".join(lines) + "\n"
        z = f"bulk.sec. IN NS ns1.bulk.sec.\nns1.bulk.sec. IN A {BULK_ADDR}\n"
        z += f"bulk.sec. 3600 IN DS {key.ds().to_text()}\n"
        z += f"bulk-u.sec. IN NS ns1.bulk-u.sec.\nns1.bulk-u.sec. IN A {BULK_U_ADDR}\n"
        for i, zone in enumerate(HOSTILE_ZONES):
            z += f"{zone}. IN NS ns1.{zone}.\nns1.{zone}. IN A {HOSTILE_NET}.{i + 1}\n"
        return z

    def build(self):
        super().build()
        extra = [NsdGroup("bulk", [BULK_ADDR], {"bulk.sec": self.bulk_signed}),
                 NsdGroup("bulk-u", [BULK_U_ADDR], {"bulk-u.sec": self.bulk_u_text})]
        for grp in extra:
            grp.write(os.path.join(self.base, "nsd"))
        self.groups += extra

    def start(self, timeout=60.0):
        super().start(timeout)
        argv = [sys.executable, os.path.join(REPO, "tests", "system", "hostile_server.py")]
        for i, (zone, mode) in enumerate(HOSTILE_ZONES.items()):
            argv += ["--bind", f"{HOSTILE_NET}.{i + 1}:{mode.format(zone=zone)}"
                     + (f":{zone}." if "{zone}" not in mode and mode != "blackhole" else "")]
        err = open(os.path.join(self.base, "hostile.stderr"), "w")
        self.hostile = procs.start(argv, "hostile_server (fault injection)", stdout=err,
                                   stderr=subprocess.STDOUT)
        err.close()
        deadline = time.monotonic() + 15
        while not _answers(f"{HOSTILE_NET}.1", "garbage.sec", "SOA", "IN"):
            if self.hostile.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("hostile_server not answering:\n"
                                   + open(os.path.join(self.base, "hostile.stderr")).read())
            time.sleep(0.05)
        return self

    def stop(self):
        procs.stop(self.hostile)
        self.hostile = None
        super().stop()


# --------------------------------------------------------------------------
# query files


def legit_queries(total, rng):
    """(name, type, expected rcode) for the legitimate stream, shuffled: 70 % cold
    names of bulk.sec (validated), 10 % cold names of bulk-u.sec (insecure), 10 %
    names that do not exist in bulk.sec (NXDOMAIN, validated), 10 % warm www names."""
    n_cold = math.ceil(total * 0.7)
    n_cold_u = math.ceil(total * 0.1)
    n_nx = math.ceil(total * 0.1)
    n_warm = total - n_cold - n_cold_u - n_nx
    warm = [f"www.{z}." for z in PLAIN_LEAVES] + [f"www.{z}." for z in SECURE_WWW]
    out = [(f"n{i}.bulk.sec.", "A", "NOERROR") for i in rng.sample(range(1, n_cold + 1), n_cold)]
    out += [(f"n{i}.bulk-u.sec.", "A", "NOERROR") for i in range(1, n_cold_u + 1)]
    out += [(f"nx{i}x{rng.randrange(10**6)}.bulk.sec.", "A", "NXDOMAIN") for i in range(n_nx)]
    out += [(warm[i % len(warm)], "A", "NOERROR") for i in range(max(0, n_warm))]
    rng.shuffle(out)
    return out, n_cold, n_cold_u


def hostile_queries(total, rng, kinds):
    kinds = [(k, HOSTILE_KINDS[k]) for k in kinds]
    out = []
    for i in range(total):
        kind, template = kinds[i % len(kinds)]
        out.append((template.format(n=f"h{i}x{rng.randrange(10**6)}") + ".", "A", kind))
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------
# resolvers


def ours_config(opts, world, workdir):
    network = "{do-ip6: false, do-not-query-localhost: false, edns-buffer-size: 1232"
    if opts.so_rcvbuf is not None:
        network += f", so-rcvbuf: {opts.so_rcvbuf}"
    network += "}"
    resolver = f"{{root-hints: {world.root_hints}, qname-minimisation: true"
    if opts.max_queries_in_flight:
        resolver += f", max-queries-in-flight: {opts.max_queries_in_flight}"
    if opts.max_time:
        resolver += f", budgets: {{max-time: {opts.max_time}}}"
    resolver += "}"
    text = (f"listen: [{OURS_ADDR}@53]\n"
            "access-control: [127.0.0.0/8 allow]\n"
            f"threads: {opts.threads}\n"
            "log-level: info\n"
            f"network: {network}\n"
            f"resolver: {resolver}\n"
            f"cache: {{size: {opts.cache_mb}M}}\n"
            f"dnssec: {{validation: true, trust-anchor-files: [{world.trust_anchor}]}}\n"
            f"control: {{socket: \"{workdir}/control.sock\"}}\n"
            "http: {listen: []}\n")
    path = os.path.join(workdir, "resolverd.yaml")
    with open(path, "w") as f:
        f.write(text)
    return [os.path.join(opts.build_dir, "resolverd"), "-c", path]


def unbound_config(opts, world, workdir):
    msg = max(1, opts.cache_mb // 3)
    lines = [
        "server:",
        f"  interface: {UNBOUND_ADDR}", "  port: 53", "  do-ip6: no",
        f"  num-threads: {opts.threads}",
        "  do-daemonize: no", '  username: ""', '  chroot: ""',
        f'  directory: "{workdir}"', '  pidfile: ""', "  use-syslog: no",
        f'  logfile: "{workdir}/unbound.log"', "  verbosity: 1", "  val-log-level: 2",
        "  do-not-query-localhost: no",
        f'  root-hints: "{world.root_hints}"',
        f'  trust-anchor-file: "{world.trust_anchor}"',
        '  module-config: "validator iterator"',
        "  qname-minimisation: yes", "  edns-buffer-size: 1232",
        f"  msg-cache-size: {msg}m", f"  rrset-cache-size: {opts.cache_mb - msg}m",
        "  prefetch: no", "  extended-statistics: yes",
        '  local-zone: "test." nodefault',
        "  access-control: 127.0.0.0/8 allow",
        "remote-control:", "  control-enable: yes",
        f'  control-interface: "{workdir}/unbound.ctl"', "  control-use-cert: no",
    ]
    path = os.path.join(workdir, "unbound.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return ["unbound", "-d", "-c", path]


def cpu_seconds(pid):
    """User + system CPU time of a process so far (a saturated test server skews the run)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def memory_kb(pid):
    out = {}
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return out


def listener_drops(addr):
    """Kernel drops on the UDP socket bound to addr:53 (/proc/net/udp)."""
    want = "".join(f"{int(p):02X}" for p in reversed(addr.split("."))) + ":0035"
    total = 0
    for line in open("/proc/net/udp").read().splitlines()[1:]:
        f = line.split()
        if f[1] == want:
            total += int(f[-1])
    return total


def udp_rcvbuf_errors():
    lines = [ln for ln in open("/proc/net/snmp") if ln.startswith("Udp:")]
    return dict(zip(lines[0].split()[1:], map(int, lines[1].split()[1:]))).get("RcvbufErrors", 0)


def wait_answering(addr, proc, what, timeout=20):
    deadline = time.monotonic() + timeout
    while not _answers(addr, "sec.", "SOA", "IN", timeout=1.0):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {timeout}s")
        time.sleep(0.1)


def dnsperf(addr, datafile, rate, outstanding, duration, out_path, source):
    # Each load comes from its own loopback address, as the legitimate clients and an
    # attacker would: per-client limits (resolver.wait-limit) apply to each alone.
    argv = ["dnsperf", "-s", addr, "-a", source, "-p", "53", "-d", datafile, "-Q", str(rate),
            "-q", str(outstanding), "-l", str(duration), "-t", "5", "-v"]
    out = open(out_path, "w")
    proc = procs.start(argv, f"dnsperf {os.path.basename(datafile)}", stdout=out, stderr=subprocess.STDOUT)
    out.close()
    return proc


def parse_dnsperf(path):
    """Summary figures and the per-query lines ('> RCODE name type seconds')."""
    text = open(path, errors="replace").read()
    stat = {}
    for key, pattern in (("sent", r"Queries sent:\s+(\d+)"), ("completed", r"Queries completed:\s+(\d+)"),
                         ("lost", r"Queries lost:\s+(\d+)"), ("qps", r"Queries per second:\s+([\d.]+)")):
        m = re.search(pattern, text)
        stat[key] = float(m.group(1)) if m else 0
    answers = []
    for line in text.splitlines():
        if line.startswith("> "):
            parts = line.split()
            if len(parts) >= 5:
                answers.append((parts[1], parts[2].lower(), float(parts[-1])))
    return stat, answers


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))]


def ours_counters(log_path):
    """Sum of the 'worker N counters:' lines resolverd logs when it stops, and the
    validation failures of its info log."""
    counters = collections.Counter()
    bogus = trips = 0
    for line in open(log_path, errors="replace"):
        if " counters: " in line:
            for key, value in re.findall(r"([a-z-]+)=(\d+)", line.split(" counters: ", 1)[1]):
                counters[key] += int(value)
        elif "validation of " in line and " failed: " in line:
            bogus += 1
            if re.search(r"budget|max-rrsigs|max-keys|max-ds|stopped after|stopped at", line):
                trips += 1
    return counters, bogus, trips


def unbound_counters(workdir, conf):
    out = subprocess.run(["unbound-control", "-c", conf, "stats_noreset"], capture_output=True, text=True,
                         timeout=10).stdout
    stats = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        try:
            stats[key] = float(value)
        except ValueError:
            pass
    failures = 0
    log = os.path.join(workdir, "unbound.log")
    if os.path.exists(log):
        failures = sum(1 for line in open(log, errors="replace") if "validation failure" in line)
    return stats, failures


def run_side(side, opts, world, base, legit_file, hostile_file, expected, hostile_kind):
    workdir = os.path.join(base, side)
    os.makedirs(workdir, exist_ok=True)
    argv = ours_config(opts, world, workdir) if side == "ours" else unbound_config(opts, world, workdir)
    addr = OURS_ADDR if side == "ours" else UNBOUND_ADDR
    log_path = os.path.join(workdir, "stderr.log")
    err = open(log_path, "w")
    proc = procs.start(argv, side, stdout=err, stderr=subprocess.STDOUT, cwd=workdir)
    err.close()
    result = {"side": side}
    try:
        wait_answering(addr, proc, side)
        result["rss_start_kb"] = memory_kb(proc.pid).get("VmRSS", 0)
        drops_before = listener_drops(addr)
        rcvbuf_before = udp_rcvbuf_errors()
        peak_rss = [0]
        sampling = threading.Event()

        def sample():
            while not sampling.wait(0.5):
                peak_rss[0] = max(peak_rss[0], memory_kb(proc.pid).get("VmRSS", 0))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        print(f"fault-injection: {side}: {opts.duration}s, legit {opts.legit_rate} q/s,"
              f" hostile {opts.hostile_rate} q/s", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        cpu0 = {"resolver": cpu_seconds(proc.pid), "hostile_server": cpu_seconds(world.hostile.pid),
                "hierarchy hostile_server": cpu_seconds(world.plain.hostile.pid)}
        hostile = dnsperf(addr, hostile_file, opts.hostile_rate, 20000, opts.duration,
                          os.path.join(workdir, "hostile.dnsperf"), HOSTILE_CLIENT)
        legit = dnsperf(addr, legit_file, opts.legit_rate, 20000, opts.duration,
                        os.path.join(workdir, "legit.dnsperf"), LEGIT_CLIENT)
        for p in (legit, hostile):
            p.wait(timeout=opts.duration + 60)
            procs.stop(p)
        result["wall_s"] = time.monotonic() - t0
        for what, p in (("hostile_server", world.hostile), ("hierarchy hostile_server", world.plain.hostile)):
            if p.poll() is not None:
                raise RuntimeError(f"{what} died during the run: the figures would be wrong")
        result["cpu_s"] = {"resolver": cpu_seconds(proc.pid) - cpu0["resolver"],
                           "hostile_server": cpu_seconds(world.hostile.pid) - cpu0["hostile_server"],
                           "hierarchy hostile_server":
                               cpu_seconds(world.plain.hostile.pid) - cpu0["hierarchy hostile_server"]}
        sampling.set()
        sampler.join()
        mem = memory_kb(proc.pid)
        result["hwm_kb"] = mem.get("VmHWM", 0)
        result["rss_end_kb"] = mem.get("VmRSS", 0)
        result["rss_peak_sampled_kb"] = peak_rss[0]
        result["listener_drops"] = listener_drops(addr) - drops_before
        result["rcvbuf_errors_all"] = udp_rcvbuf_errors() - rcvbuf_before
        if side == "unbound":
            stats, failures = unbound_counters(workdir, argv[-1])
            result["unbound_stats"] = stats
            result["validation_failures"] = failures
    finally:
        procs.stop(proc, timeout=10)
    if side == "ours":
        counters, bogus, trips = ours_counters(log_path)
        result["counters"] = counters
        result["validation_failures"] = bogus
        result["validation_budget_trips"] = trips

    stat, answers = parse_dnsperf(os.path.join(workdir, "legit.dnsperf"))
    result["legit"] = stat
    rcodes = collections.Counter(rc for rc, _, _ in answers)
    correct = sum(1 for rc, name, _ in answers if expected.get(name) == rc)
    latencies = sorted(t * 1000 for _, _, t in answers)
    result["legit_rcodes"] = rcodes
    result["legit_correct"] = correct
    result["legit_latency_ms"] = {p: percentile(latencies, p) for p in (50, 90, 99, 99.9)}
    result["legit_latency_ms"]["max"] = latencies[-1] if latencies else float("nan")
    hstat, hanswers = parse_dnsperf(os.path.join(workdir, "hostile.dnsperf"))
    result["hostile"] = hstat
    per_kind = collections.defaultdict(collections.Counter)
    for rc, name, _ in hanswers:
        per_kind[hostile_kind(name)][rc] += 1
    result["hostile_kinds"] = per_kind
    return result


# --------------------------------------------------------------------------
# report


def pct(part, whole):
    return f"{100.0 * part / whole:.3f} %" if whole else "n/a"


def report(results, opts, bulk_names, hostile_sent_by_kind, kinds):
    sides = [r["side"] for r in results]
    label = {"ours": "resolverd", "unbound": "unbound"}
    width = 30

    def row(name, values):
        print(f"  {name:<34}" + "".join(f"{v:>{width}}" for v in values))

    print()
    print(f"fault injection: {opts.duration} s; legitimate {opts.legit_rate} q/s (70 % cold signed,"
          f" 10 % cold unsigned, 10 % NXDOMAIN, 10 % warm); hostile {opts.hostile_rate} q/s over"
          f" {len(kinds)} kinds")
    print(f"both: {opts.threads} thread(s), validation on, cache {opts.cache_mb} MiB"
          f" (unbound: msg {max(1, opts.cache_mb // 3)}m + rrset {opts.cache_mb - max(1, opts.cache_mb // 3)}m),"
          f" qname minimisation; bulk.sec holds {bulk_names} names")
    print()
    row("", [label[s] for s in sides])
    row("", ["-" * 24 for _ in sides])
    L = [r["legit"] for r in results]
    row("legit sent", [f"{int(s['sent'])}" for s in L])
    row("legit answered (any rcode)", [f"{int(s['completed'])} ({pct(s['completed'], s['sent'])})" for s in L])
    row("legit answered correctly", [f"{r['legit_correct']} ({pct(r['legit_correct'], r['legit']['sent'])})"
                                     for r in results])
    row("legit lost (no answer in 5 s)", [f"{int(s['lost'])} ({pct(s['lost'], s['sent'])})" for s in L])
    row("legit rcodes", [" ".join(f"{k}:{v}" for k, v in sorted(r["legit_rcodes"].items())) for r in results])
    for p in (50, 90, 99, 99.9, "max"):
        row(f"legit latency p{p} (ms)" if p != "max" else "legit latency max (ms)",
            [f"{r['legit_latency_ms'][p]:.1f}" for r in results])
    H = [r["hostile"] for r in results]
    row("hostile sent / answered", [f"{int(s['sent'])} / {int(s['completed'])}" for s in H])
    row("peak RSS (VmHWM)", [f"{r['hwm_kb'] / 1024:.1f} MiB" for r in results])
    row("RSS at start / at end", [f"{r['rss_start_kb'] / 1024:.1f} / {r['rss_end_kb'] / 1024:.1f} MiB"
                                  for r in results])
    row("peak RSS / configured cache", [f"{r['hwm_kb'] / 1024 / opts.cache_mb:.2f}" for r in results])
    row("CPU: resolver / hostile servers", [
        f"{r['cpu_s']['resolver']:.1f} / {r['cpu_s']['hostile_server']:.1f}+"
        f"{r['cpu_s']['hierarchy hostile_server']:.1f} s of {r['wall_s']:.0f}" for r in results])
    row("kernel drops on listener socket", [f"{r['listener_drops']}" for r in results])
    values = []
    for r in results:
        if r["side"] == "ours":
            c = r["counters"]
            values.append(f"{c.get('shed-over-capacity', 0)} (max-queries-in-flight)")
        else:
            s = r["unbound_stats"]
            values.append(f"{int(s.get('total.requestlist.exceeded', 0))} exceeded,"
                          f" {int(s.get('total.requestlist.overwritten', 0))} jostled")
    row("queries shed over capacity", values)
    values = []
    for r in results:
        if r["side"] == "ours":
            c = r["counters"]
            values.append(f"{c.get('budget-exhausted', 0)} engine + {r['validation_budget_trips']} validation")
        else:
            values.append("n/a (not counted)")
    row("budget trips", values)
    values = []
    for r in results:
        if r["side"] == "ours":
            values.append(f"{r['validation_failures']}")
        else:
            values.append(f"{r['validation_failures']} ({int(r['unbound_stats'].get('num.answer.bogus', 0))}"
                          " bogus answers)")
    row("validation failures (log)", values)
    values = []
    for r in results:
        if r["side"] == "ours":
            c = r["counters"]
            values.append(f"{c.get('upstream-queries', 0)} (timeouts {c.get('transport-timeouts', 0)})")
        else:
            values.append("n/a")
    row("upstream queries", values)
    print()
    print("hostile kinds (answers by rcode; the rest got no answer within 5 s):")
    for kind in kinds:
        vals = []
        for r in results:
            c = r["hostile_kinds"].get(kind, {})
            vals.append(" ".join(f"{k}:{v}" for k, v in sorted(c.items())) or "-")
        row(f"{kind} ({hostile_sent_by_kind.get(kind, 0)} in file)", vals)
    if any(r["side"] == "ours" for r in results):
        c = next(r for r in results if r["side"] == "ours")["counters"]
        print()
        print("resolverd counters: " + " ".join(f"{k}={v}" for k, v in c.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=60, help="seconds of load per side (default 60)")
    ap.add_argument("--legit-rate", type=int, default=1000, help="legitimate queries per second (default 1000)")
    ap.add_argument("--hostile-rate", type=int, default=300, help="hostile queries per second (default 300)")
    ap.add_argument("--cache-mb", type=int, default=32, help="cache budget of both resolvers, MiB (default 32)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sides", default="ours,unbound", help="comma list of ours, unbound")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    ap.add_argument("--so-rcvbuf", default=None, help="resolverd network.so-rcvbuf (default: its default)")
    ap.add_argument("--max-queries-in-flight", type=int, default=None,
                    help="resolverd resolver.max-queries-in-flight (default: its default)")
    ap.add_argument("--max-time", type=int, default=None,
                    help="resolverd resolver.budgets.max-time in ms (default: its default)")
    ap.add_argument("--hostile-kinds", default=None,
                    help="comma list of hostile kinds to send (default: all; e.g. the slow ones:"
                         " blackhole,fifty-dead-ns,tc+slow-drip,wrong-id)")
    ap.add_argument("--nsd-rrl", action="store_true",
                    help="leave NSD's response rate limiting on (off by default, see README)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--seed", type=int, default=1)
    opts = ap.parse_args()
    sides = [s for s in opts.sides.split(",") if s]
    kinds = [k for k in opts.hostile_kinds.split(",") if k] if opts.hostile_kinds else list(HOSTILE_KINDS)
    for k in kinds:
        if k not in HOSTILE_KINDS:
            sys.exit(f"fault-injection: unknown hostile kind {k!r} (known: {', '.join(HOSTILE_KINDS)})")
    for tool in ("nsd", "dnsperf", "ldns-signzone") + (("unbound", "unbound-control") if "unbound" in sides else ()):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"fault-injection: {tool} is not installed")
    if "ours" in sides and not os.path.exists(os.path.join(opts.build_dir, "resolverd")):
        sys.exit(f"fault-injection: no resolverd in {opts.build_dir}")
    procs.install_sigterm_guard()

    rng = random.Random(opts.seed)
    legit_total = opts.legit_rate * opts.duration + opts.legit_rate  # a second spare
    hostile_total = opts.hostile_rate * opts.duration + opts.hostile_rate
    legit, bulk_names, bulk_u_names = legit_queries(legit_total, rng)
    hostile = hostile_queries(hostile_total, rng, kinds)
    expected = {name.lower(): rc for name, _, rc in legit}
    kind_of = {name.lower(): kind for name, _, kind in hostile}
    hostile_sent_by_kind = collections.Counter(kind for _, _, kind in hostile)

    base = tempfile.mkdtemp(prefix="rsv-fault.")
    print(f"fault-injection: working in {base}", file=sys.stderr, flush=True)
    legit_file = os.path.join(base, "legit.queries")
    hostile_file = os.path.join(base, "hostile.queries")
    with open(legit_file, "w") as f:
        f.writelines(f"{n} {t}\n" for n, t, _ in legit)
    with open(hostile_file, "w") as f:
        f.writelines(f"{n} {t}\n" for n, t, _ in hostile)

    if not opts.nsd_rrl:
        NsdGroup.extra_server_lines = ["rrl-ratelimit: 0"]
    plain = Hierarchy(os.path.join(base, "plain"))
    world = FaultWorld(os.path.join(base, "signed"), bulk_names, bulk_u_names, plain)
    results = []
    ok = False
    try:
        t0 = time.monotonic()
        plain.start()
        world.start()
        print(f"fault-injection: authorities up in {time.monotonic() - t0:.0f}s", file=sys.stderr, flush=True)
        for side in sides:
            results.append(run_side(side, opts, world, base, legit_file, hostile_file, expected,
                                    lambda name: kind_of.get(name, "?")))
        report(results, opts, bulk_names, hostile_sent_by_kind, kinds)
        ok = True
    finally:
        world.stop()
        plain.stop()
        procs.stop_all()
        if ok and not opts.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"fault-injection: files kept in {base}", file=sys.stderr)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
