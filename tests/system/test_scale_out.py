"""Scale-out behind dnsdist (issue 10): Debian's dnsdist runs the shipped
conf/dnsdist.conf.example in front of two resolverd backends, which resolve
through the test hierarchy (hierarchy.py).

- The example as shipped passes `dnsdist --check-config`.
- Answers flow through dnsdist, over UDP and TCP, and the health checks
  ("localhost. A") are answered by the backends without touching their caches.
- A backend stopped by PID is marked down by dnsdist's health checks (a bounded
  wait for the state change, read from dnsdist's JSON API), and every question
  is then answered by the other backend.
- The same workload (each distinct question of the hierarchy asked K times, in
  a shuffled order) goes through dnsdist with chashed and with roundrobin, each
  time to fresh backends: the backends' aggregate cache hit ratio is higher with
  chashed, where each question misses exactly once. Both ratios are printed
  (pytest -s shows them).
- The chashed mapping survives a dnsdist restart (the example gives backends
  stable ids and fixes the hash perturbation), and ignores the name's case.
- scripts/scale_out.sh starts dnsdist and two backends, answers, and stops what
  it started when interrupted.

Addresses: 127.58.N.1 dnsdist (port 53, web server on 8083), 127.58.N.11 and
127.58.N.12 the backends (port 53), one N per cluster.
"""

import itertools
import json
import os
import random
import re
import signal
import subprocess
import time

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import procs
from dnsdist_process import DNSDIST, EXAMPLE_CONFIG, DnsdistProcess, example_config, hash_password
from hierarchy import LEAVES, www_a
from resolver_process import ResolverProcess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "scripts", "scale_out.sh")
ASKED_TIMES = 4  # K: how often the workload asks each question
_networks = (f"127.58.{n}" for n in itertools.count(1))


def distinct_questions():
    """Every question below has an answer in the hierarchy (NOERROR, data)."""
    questions = []
    for zone in LEAVES:
        questions += [(f"www.{zone}", "A"), (f"www.{zone}", "AAAA"), (f"www.{zone}", "TXT"),
                      (f"www.{zone}", "HINFO"), (f"mail.{zone}", "A"), (f"txt.{zone}", "TXT"),
                      (zone, "MX"), (zone, "TXT")]
    questions += [(f"host{n}.alpha.test", "A") for n in range(1, 30)]
    return questions


class Cluster:
    """dnsdist (the shipped example, web server on) in front of resolverd backends,
    each with its own directory and control socket."""

    def __init__(self, build_dir, hierarchy, workdir, policy, backend_count=2):
        net = next(_networks)
        self.build_dir = build_dir
        self.dir = os.path.join(workdir, f"scale-out-{net}")
        self.frontend = f"{net}.1"
        self.policy = policy
        self.backends = []
        for i in range(1, backend_count + 1):
            d = os.path.join(self.dir, f"backend-{i}")
            self.backends.append(ResolverProcess("resolverd", build_dir, hierarchy.root_hints, d,
                                                 listen=f"{net}.{10 + i}",
                                                 control_socket=os.path.join(d, "control.sock")))
        self.dnsdist = None

    def backend_name(self, index):
        return f"resolverd-{index + 1}"  # as the example names them

    def start(self):
        for b in self.backends:
            b.start()
        self.start_dnsdist()
        return self

    def start_dnsdist(self):
        api_key = "scale-out-test"
        webserver = f"{self.frontend}:8083"
        text = example_config([f"{self.frontend}:53"], [f"{b.addr}:53" for b in self.backends],
                              clients=["127.0.0.0/8"], policy=self.policy, webserver=webserver,
                              api_key=hash_password(api_key))
        self.dnsdist = DnsdistProcess(os.path.join(self.dir, "dnsdist"), text, f"dnsdist on {self.frontend}")
        self.dnsdist.webserver, self.dnsdist.api_key = webserver, api_key
        # Ready when the health checks have every backend up.
        self.dnsdist.start(lambda: set(self.dnsdist.backend_states().values()) == {"up"}, timeout=20)

    def stop(self):
        if self.dnsdist:
            self.dnsdist.stop()
        for b in self.backends:
            b.stop()

    def ask(self, name, rdtype="A", tcp=False):
        q = dns.message.make_query(name, rdtype)
        if tcp:
            return dns.query.tcp(q, self.frontend, port=53, timeout=5)
        return dns.query.udp(q, self.frontend, port=53, timeout=5)

    def stats(self, backend):
        ctl = os.path.join(self.build_dir, "resolverctl")
        p = subprocess.run([ctl, "-s", backend.control_socket, "--json", "stats"], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, f"resolverctl stats: {p.stdout}{p.stderr}"
        return json.loads(p.stdout)

    def cache_counters(self):
        """[(cache hits, cache misses)] per backend, as resolverctl stats counts them."""
        return [(int(s["cache_hits_total"]), int(s["cache_misses_total"])) for s in map(self.stats, self.backends)]

    def logs(self):
        return (self.dnsdist.logs() if self.dnsdist else "") + "".join(b.logs() for b in self.backends)


@pytest.fixture
def make_cluster(build_dir, hierarchy, workdir):
    if not os.path.exists(DNSDIST):
        pytest.fail("dnsdist not installed (apt-get install dnsdist; tests/system/requirements-apt.txt)")
    started = []

    def make(policy="chashed"):
        c = Cluster(build_dir, hierarchy, workdir, policy)
        started.append(c)
        return c.start()

    yield make
    for c in started:
        c.stop()


def assert_answered(reply, name):
    assert reply.rcode() == dns.rcode.NOERROR and reply.answer, f"{name}: {reply}"


def run_workload(cluster, questions, times, seed):
    """Ask each question `times` times, in a shuffled order; every one is answered."""
    sequence = [q for q in questions for _ in range(times)]
    random.Random(seed).shuffle(sequence)
    for name, rdtype in sequence:
        assert_answered(cluster.ask(name, rdtype), f"{name} {rdtype}")
    return len(sequence)


def counter_deltas(before, after):
    """Summed over the backends: (hits, misses) between two cache_counters()."""
    hits = sum(a[0] - b[0] for a, b in zip(after, before))
    misses = sum(a[1] - b[1] for a, b in zip(after, before))
    return hits, misses


def test_the_shipped_example_passes_dnsdists_check_as_it_is():
    if not os.path.exists(DNSDIST):
        pytest.fail("dnsdist not installed (apt-get install dnsdist)")
    p = subprocess.run([DNSDIST, "--check-config", "-C", EXAMPLE_CONFIG], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout + p.stderr


def test_answers_flow_through_dnsdist_and_health_checks_leave_the_caches_alone(make_cluster):
    cluster = make_cluster("chashed")
    reply = cluster.ask("www.alpha.test", "A")
    assert_answered(reply, "www.alpha.test")
    assert reply.answer[0][0].address == www_a("alpha.test")
    reply = cluster.ask("start.alpha.test", "A")  # CNAME chain over three zones
    assert [r.rdtype for r in reply.answer].count(dns.rdatatype.CNAME) == 2, reply
    assert reply.answer[-1][0].address == "192.0.2.33"
    assert cluster.ask("big.alpha.test", "TXT", tcp=True).answer, "TCP through dnsdist"

    # The health checks ask "localhost. A" every second: answered from the backends'
    # local zones, they count as local answers and never as cache hits or misses.
    before = [cluster.stats(b) for b in cluster.backends]
    procs.wait_for(lambda: all(cluster.stats(b)["local_answers_total"] >= s["local_answers_total"] + 2
                               for b, s in zip(cluster.backends, before)),
                   timeout=20, interval=0.2, what="two health checks on each backend")
    after = [cluster.stats(b) for b in cluster.backends]
    for s, t in zip(before, after):
        assert (t["cache_hits_total"], t["cache_misses_total"]) == (s["cache_hits_total"], s["cache_misses_total"])


def test_a_stopped_backend_is_taken_out_and_the_other_answers_everything(make_cluster):
    cluster = make_cluster("chashed")
    questions = distinct_questions()
    for name, rdtype in questions:
        assert_answered(cluster.ask(name, rdtype), f"{name} {rdtype}")
    per_backend = cluster.cache_counters()
    assert all(misses > 0 for _, misses in per_backend), f"chashed used one backend only: {per_backend}"

    stopped, survivor = cluster.backends[0], cluster.backends[1]
    stopped.stop()  # by PID (procs.stop)
    procs.wait_for(lambda: cluster.dnsdist.backend_states()[cluster.backend_name(0)] == "down",
                   timeout=30, interval=0.2, what="dnsdist's health check to mark the stopped backend down")
    assert cluster.dnsdist.backend_states()[cluster.backend_name(1)] == "up"

    before = cluster.stats(survivor)
    for name, rdtype in questions:
        assert_answered(cluster.ask(name, rdtype), f"{name} {rdtype}")
    after = cluster.stats(survivor)
    answered = (after["cache_hits_total"] - before["cache_hits_total"]
                + after["cache_misses_total"] - before["cache_misses_total"])
    assert answered == len(questions), "every question went to the surviving backend"


def test_consistent_hashing_beats_round_robin_on_cache_hits(make_cluster):
    questions = distinct_questions()
    ratios = {}
    for policy in ("chashed", "roundrobin"):
        cluster = make_cluster(policy)  # fresh backends: empty caches
        before = cluster.cache_counters()
        sent = run_workload(cluster, questions, ASKED_TIMES, seed=10)
        hits, misses = counter_deltas(before, cluster.cache_counters())
        # Every workload query reached a backend's cache once, and nothing else did.
        assert hits + misses == sent, (policy, hits, misses, sent)
        ratios[policy] = (hits / sent, hits, misses)
        cluster.stop()
        if policy == "chashed":
            # Each question lives on one backend: it missed exactly once.
            assert misses == len(questions), (misses, len(questions))
    summary = (f"scale-out cache hit ratio, {len(questions)} questions x {ASKED_TIMES}, 2 backends: "
               + ", ".join(f"{p} {r:.3f} ({h} hits, {m} misses)" for p, (r, h, m) in ratios.items()))
    print("\n" + summary)
    assert ratios["chashed"][0] > ratios["roundrobin"][0], summary


def test_the_chashed_mapping_survives_a_dnsdist_restart(make_cluster):
    cluster = make_cluster("chashed")
    questions = distinct_questions()
    for name, rdtype in questions:
        assert_answered(cluster.ask(name, rdtype), f"{name} {rdtype}")
    cluster.dnsdist.stop()
    cluster.start_dnsdist()  # same configuration, new process
    before = cluster.cache_counters()
    for name, rdtype in questions:
        assert_answered(cluster.ask(name, rdtype), f"{name} {rdtype}")
    hits, misses = counter_deltas(before, cluster.cache_counters())
    assert (hits, misses) == (len(questions), 0), "each name went back to the backend that cached it"
    # dnsdist hashes the name case-insensitively (as the example says): the same backends.
    before = cluster.cache_counters()
    for name, rdtype in questions:
        assert_answered(cluster.ask(name.upper(), rdtype), f"{name.upper()} {rdtype}")
    hits, misses = counter_deltas(before, cluster.cache_counters())
    assert (hits, misses) == (len(questions), 0), "upper-case names went to the same backends"


def _pid_gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1].startswith("Z")  # a zombie has exited
    except FileNotFoundError:
        return True


def test_scale_out_script_runs_and_stops_what_it_started(build_dir, hierarchy, workdir):
    if not os.path.exists(DNSDIST):
        pytest.fail("dnsdist not installed (apt-get install dnsdist)")
    net = next(_networks)
    frontend, backends = f"{net}.1", [f"{net}.11", f"{net}.12"]
    d = os.path.join(workdir, f"scale-out-script-{net}")
    output = os.path.join(workdir, f"scale-out-script-{net}.log")
    argv = ["bash", SCRIPT, "--build-dir", build_dir, "--root-hints", hierarchy.root_hints, "--dir", d,
            "--listen", f"{frontend}:53", "--backends", ",".join(f"{b}:53" for b in backends),
            "--webserver", f"{frontend}:8083"]
    pids = []
    with open(output, "w") as out:
        script = procs.start(argv, "scripts/scale_out.sh", stdout=out, stderr=subprocess.STDOUT)
    try:
        text = lambda: open(output).read()  # noqa: E731
        procs.wait_for(lambda: "Ctrl-C" in text() or script.poll() is not None, timeout=60, interval=0.1,
                       what="scripts/scale_out.sh to start")
        assert script.poll() is None, text()
        reply = dns.query.udp(dns.message.make_query("www.beta.test", "A"), frontend, port=53, timeout=5)
        assert_answered(reply, "www.beta.test")
        assert reply.answer[0][0].address == www_a("beta.test")
        pids = [int(p) for p in re.findall(r"\(pid (\d+)\)", text())]
        assert len(pids) == 3, text()  # dnsdist and two backends
        for i in (1, 2):
            assert os.path.exists(os.path.join(d, f"backend-{i}", "control.sock")), text()

        os.kill(script.pid, signal.SIGINT)  # as Ctrl-C
        try:
            script.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("scripts/scale_out.sh still running 30 s after Ctrl-C:\n" + text())
        assert script.returncode == 0, text()
        # Raises TimeoutError (the failure) unless every one has ended.
        procs.wait_for(lambda: all(map(_pid_gone, pids)), timeout=10, what="the script's processes to end")
    finally:
        procs.stop(script)
        for pid in pids:  # left behind by a failed clean-up: stopped by PID all the same
            if not _pid_gone(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:  # it ended meanwhile; the test's own failure, if any, stands
                    pass
