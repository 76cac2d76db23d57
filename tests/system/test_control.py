"""The control channel: resolverctl against a validating resolverd on the signed
hierarchy (issue 8).

Each test starts its own resolverd with `control.socket` in its work dir and runs
build/resolverctl against it: status, stats, flush, reload (file, SIGHUP, a broken
file), negative trust anchors, log-level and explain for a secure, an insecure and a
bogus name. resolverd only: unbound has unbound-control.
"""

import itertools
import json
import os
import signal
import socket
import stat
import subprocess
import time

import dns.flags
import dns.message
import dns.rcode
import pytest

import procs
from validating_resolver import ValidatingResolver

_addrs = (f"127.21.9.{1 + i}" for i in itertools.count())

SECURE = "www.ecdsa256.sec"
INSECURE = "www.insecure.sec"
BOGUS = "www.expired.sec"  # RRSIGs expired: EDE 7


class ControlledResolver(ValidatingResolver):
    """A validating resolverd whose control socket is in its work dir; `extra` is
    appended to its configuration file."""

    def __init__(self, kind, build_dir, signed, workdir, listen, extra="", **kw):
        super().__init__(kind, build_dir, signed, workdir, listen,
                         control_socket=os.path.join(workdir, "control.sock"), **kw)
        self.socket_path = self.control_socket
        self.extra = extra
        self.conf_path = os.path.join(self.workdir, "resolverd.yaml")

    def config_text(self):
        with open(self.conf_path) as f:
            return f.read()

    def argv(self):
        argv = super().argv()
        if self.extra:
            with open(self.conf_path, "a") as f:
                f.write(self.extra)
        return argv


@pytest.fixture
def ctl_binary(build_dir, dnssec_kind):
    if dnssec_kind != "resolverd":
        pytest.skip("resolverctl drives resolverd (unbound has unbound-control)")
    path = os.path.join(build_dir, "resolverctl")
    assert os.path.exists(path), f"{path} not built"
    return path


@pytest.fixture
def make_controlled(dnssec_kind, build_dir, signed_hierarchy, workdir, ctl_binary):
    started = []

    def make(extra="", **kw):
        addr = next(_addrs)
        r = ControlledResolver(dnssec_kind, build_dir, signed_hierarchy,
                               os.path.join(workdir, f"control-{addr}"), addr, extra=extra, **kw)
        started.append(r)
        return r.start()

    yield make
    for r in started:
        r.stop()


@pytest.fixture
def controlled(make_controlled):
    return make_controlled()


def ctl(binary, r, *args, check=True):
    p = subprocess.run([binary, "-s", r.socket_path, *args], capture_output=True, text=True, timeout=60)
    if check:
        assert p.returncode == 0, f"resolverctl {' '.join(args)}: rc={p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def ctl_json(binary, r, *args):
    return json.loads(ctl(binary, r, "--json", *args).stdout)


def ask(r, name, rdtype="A", tcp=False):
    q = dns.message.make_query(name, rdtype, want_dnssec=True)
    return r.send(q, tcp=tcp, timeout=5)


def test_status_reports_version_configuration_and_caches(ctl_binary, controlled):
    out = ctl(ctl_binary, controlled, "status").stdout
    assert out.startswith("resolverd "), out
    assert controlled.conf_path in out and "generation 1" in out, out
    assert "validation: on" in out and "messages:" in out, out
    data = ctl_json(ctl_binary, controlled, "status")
    assert data["threads"] == 1 and data["config_generation"] == 1
    assert data["listen"] == [f"{controlled.addr}@53"]
    assert {c["name"] for c in data["caches"]} >= {"messages", "rrsets", "keys", "infra"}


def test_control_socket_is_owner_and_group_only(ctl_binary, controlled):
    mode = os.stat(controlled.socket_path).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o660


def test_stats_count_by_transport_type_rcode_security_and_ede(ctl_binary, controlled):
    assert ask(controlled, SECURE).rcode() == dns.rcode.NOERROR
    assert ask(controlled, SECURE).rcode() == dns.rcode.NOERROR  # a cache hit
    assert ask(controlled, SECURE, "AAAA", tcp=True).rcode() == dns.rcode.NOERROR
    assert ask(controlled, BOGUS).rcode() == dns.rcode.SERVFAIL
    assert ask(controlled, INSECURE).rcode() == dns.rcode.NOERROR
    s = ctl_json(ctl_binary, controlled, "stats")
    assert s["queries_received_total"]["udp"] >= 4 and s["queries_received_total"]["tcp"] >= 1
    assert s["answers_total"]["tcp"] >= 1
    assert s["answers_by_qtype_total"]["A"] >= 4 and s["answers_by_qtype_total"]["AAAA"] >= 1
    assert s["answers_by_rcode_total"]["NOERROR"] >= 4 and s["answers_by_rcode_total"]["SERVFAIL"] >= 1
    assert s["answers_by_security_total"]["secure"] >= 2
    assert s["answers_by_security_total"]["insecure"] >= 1
    assert s["answers_by_security_total"]["bogus"] >= 1
    assert s["answers_by_ede_total"]["7,Signature Expired"] >= 1, s["answers_by_ede_total"]
    assert s["cache_hits_total"] >= 1 and s["cache_misses_total"] >= 3
    assert s["upstream_queries_total"]["udp"] > 0
    assert s["answer_latency_seconds"]["count"] >= 5
    for key in ("upstream_timeouts_total", "retries_total", "budget_exhausted_total", "clients_waiting",
                "queries_shed_total", "cache_bytes"):
        assert key in s, key
    text = ctl(ctl_binary, controlled, "stats").stdout
    assert "answers_by_rcode_total.SERVFAIL=" in text and "cache_hits_total=" in text


def cache_hits(binary, r):
    return ctl_json(binary, r, "stats")["cache_hits_total"]


def test_flush_a_name_a_subtree_and_everything(ctl_binary, controlled):
    for name in (SECURE, "ecdsa256.sec", INSECURE):
        ask(controlled, name)
    hits = cache_hits(ctl_binary, controlled)
    ask(controlled, SECURE)
    assert cache_hits(ctl_binary, controlled) == hits + 1

    out = ctl(ctl_binary, controlled, "flush", SECURE).stdout
    assert out.startswith(f"flushed {SECURE}.: "), out
    hits = cache_hits(ctl_binary, controlled)
    ask(controlled, SECURE)  # resolved again, not a hit
    ask(controlled, "ecdsa256.sec")  # the name above was not flushed: a hit
    assert cache_hits(ctl_binary, controlled) == hits + 1

    data = ctl_json(ctl_binary, controlled, "flush", "ecdsa256.sec", "--subtree")
    assert data["messages"] >= 2 and data["keys"] >= 1, data
    hits = cache_hits(ctl_binary, controlled)
    ask(controlled, SECURE)
    ask(controlled, INSECURE)  # another subtree: still a hit
    assert cache_hits(ctl_binary, controlled) == hits + 1
    assert ask(controlled, SECURE).flags & dns.flags.AD  # validated again from scratch

    data = ctl_json(ctl_binary, controlled, "flush", "--all")
    assert data["infra"] is True and data["total"] > 0
    status = ctl_json(ctl_binary, controlled, "status")
    assert all(c["entries"] == 0 for c in status["caches"]), status["caches"]
    p = ctl(ctl_binary, controlled, "flush", check=False)
    assert p.returncode == 1 and "NAME" in p.stderr


def test_reload_keeps_the_cache_and_applies_the_new_file(ctl_binary, controlled):
    assert ask(controlled, BOGUS).rcode() == dns.rcode.SERVFAIL
    ask(controlled, SECURE)
    # A negative trust anchor in the new file: expired.sec is reachable, insecure.
    text = controlled.config_text().replace("trust-anchor-files:", "negative-trust-anchors: [expired.sec], "
                                                                   "trust-anchor-files:")
    text = text.replace("log-level: debug", "log-level: warning")
    with open(controlled.conf_path, "w") as f:
        f.write(text)
    hits = cache_hits(ctl_binary, controlled)
    out = ctl(ctl_binary, controlled, "reload").stdout
    assert "configuration reloaded (generation 2)" in out, out
    assert "expired.sec." in out, out  # its cached verdicts were flushed
    assert ask(controlled, SECURE).flags & dns.flags.AD  # the cache survived: a hit, still secure
    assert cache_hits(ctl_binary, controlled) == hits + 1
    r = ask(controlled, BOGUS)
    assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AD
    assert ctl(ctl_binary, controlled, "log-level").stdout.strip() == "log level: warning"

    # SIGHUP does the same.
    os.kill(controlled.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while ctl_json(ctl_binary, controlled, "status")["config_generation"] != 3:
        assert time.monotonic() < deadline, "SIGHUP did not reload"
        time.sleep(0.05)
    assert controlled.alive()


def test_a_broken_file_keeps_the_running_configuration(ctl_binary, controlled):
    good = controlled.config_text()
    with open(controlled.conf_path, "w") as f:
        f.write(good.replace("edns-buffer-size: 1232", "edns-buffer-size: 70000"))
    p = ctl(ctl_binary, controlled, "reload", check=False)
    assert p.returncode == 1
    assert f"{controlled.conf_path}:" in p.stderr and "edns-buffer-size" in p.stderr, p.stderr
    assert "running configuration stays" in p.stderr
    assert ctl_json(ctl_binary, controlled, "status")["config_generation"] == 1
    assert ask(controlled, SECURE).rcode() == dns.rcode.NOERROR
    # Settings that need new sockets are named.
    with open(controlled.conf_path, "w") as f:
        f.write(good.replace("threads: 1", "threads: 2"))
    out = ctl(ctl_binary, controlled, "reload").stdout
    assert "'threads' changed: takes effect at the next restart" in out, out


def test_negative_trust_anchors_at_run_time(ctl_binary, controlled):
    assert ask(controlled, BOGUS).rcode() == dns.rcode.SERVFAIL
    out = ctl(ctl_binary, controlled, "nta", "add", "expired.sec", "--for", "1h").stdout
    assert "negative trust anchor for expired.sec. until" in out, out
    r = ask(controlled, BOGUS)  # the bogus verdict remembered before is gone too
    assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AD
    listed = ctl_json(ctl_binary, controlled, "nta", "list")["anchors"]
    assert [a["name"] for a in listed] == ["expired.sec."]
    assert 3500 < listed[0]["expires_at"] - time.time() <= 3600
    assert ask(controlled, SECURE).flags & dns.flags.AD  # elsewhere validation goes on
    ctl(ctl_binary, controlled, "nta", "remove", "expired.sec")
    assert ask(controlled, BOGUS).rcode() == dns.rcode.SERVFAIL
    assert "no negative trust anchors" in ctl(ctl_binary, controlled, "nta", "list").stdout
    for bad in (["nta", "add", "expired.sec", "--for", "30d"], ["nta", "add", "."],
                ["nta", "add", "no..name"], ["nta", "remove", "never.sec"]):
        p = ctl(ctl_binary, controlled, *bad, check=False)
        assert p.returncode == 1, bad
    # A unit it does not know is an error, not seconds ("10x" was 10 s).
    p = ctl(ctl_binary, controlled, "nta", "add", "expired.sec", "--for", "10x", check=False)
    assert p.returncode == 1 and "'10x' is not a duration" in p.stdout + p.stderr, p.stdout + p.stderr
    assert "no negative trust anchors" in ctl(ctl_binary, controlled, "nta", "list").stdout
    # What the configuration takes as a duration, --for takes too (this was "too long").
    ctl(ctl_binary, controlled, "nta", "add", "expired.sec", "--for", "00000000002h")
    listed = ctl_json(ctl_binary, controlled, "nta", "list")["anchors"]
    assert 7100 < listed[0]["expires_at"] - time.time() <= 7200, listed
    ctl(ctl_binary, controlled, "nta", "remove", "expired.sec")


def wait_for_log(r, text, attempts=120):
    """Until the daemon's log says `text` (it is written when the event happens)."""
    for _ in range(attempts):
        with open(r.stderr_path, errors="replace") as f:
            if text in f.read():
                return
        time.sleep(0.25)
    raise AssertionError(f"the log never said {text!r}:\n{r.logs()}")


def test_a_negative_trust_anchor_lapses_on_its_own(ctl_binary, controlled):
    ctl(ctl_binary, controlled, "nta", "add", "expired.sec", "--for", "2")
    r = ask(controlled, BOGUS)  # insecure under the anchor, and cached so
    assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AD
    # The daemon ends the anchor at its time, with no command, and flushes what was
    # judged under it, as `nta remove` does: the cached insecure answer goes too.
    wait_for_log(controlled, "negative trust anchor for expired.sec. lapsed")
    assert ask(controlled, BOGUS).rcode() == dns.rcode.SERVFAIL
    assert "no negative trust anchors" in ctl(ctl_binary, controlled, "nta", "list").stdout


def test_log_level_changes_at_run_time(ctl_binary, controlled):
    assert ctl(ctl_binary, controlled, "log-level", "debug").stdout.startswith("log level set to debug")
    ask(controlled, "www.rsasha256.sec")
    with open(controlled.stderr_path) as f:
        assert "debug: upstream query to" in f.read()
    ctl(ctl_binary, controlled, "log-level", "warning")
    p = ctl(ctl_binary, controlled, "log-level", "loud", check=False)
    assert p.returncode == 1 and "must be error, warning" in p.stderr


def explain(binary, r, *args):
    text = ctl(binary, r, "explain", *args).stdout
    data = ctl_json(binary, r, "explain", *args)
    return text, data


def chain_status(data):
    return {z["zone"]: z["status"] for z in data["chain"]}


def test_explain_a_secure_name(ctl_binary, controlled):
    text, data = explain(ctl_binary, controlled, SECURE, "A")
    assert ";; VERDICT: NOERROR, secure" in text, text
    for zone in (".", "sec.", "ecdsa256.sec."):
        assert chain_status(data)[zone] == "secure", data["chain"]
    leaf = next(z for z in data["chain"] if z["zone"] == "ecdsa256.sec.")
    assert leaf["ds"] and leaf["ds"][0]["algorithm_name"] == "ECDSAP256SHA256"
    assert leaf["dnskeys"] and leaf["dnskey_signatures"][0]["signer"] == "ecdsa256.sec."
    assert leaf["servers"] and leaf["servers"][0]["replies"] >= 1
    assert any(s["owner"] == f"{SECURE}." and s["security"] == "secure" for s in data["rrsets"])
    assert any(s["kind"] == "query" and s.get("verdict", "").startswith("referral to ecdsa256.sec.")
               for s in data["steps"])
    assert "CHAIN OF TRUST" in text and "RRSIG   DNSKEY by ecdsa256.sec." in text and "BUDGETS:" in text


def test_explain_an_insecure_name(ctl_binary, controlled):
    text, data = explain(ctl_binary, controlled, INSECURE)
    assert ";; VERDICT: NOERROR, insecure" in text, text
    assert chain_status(data)["insecure.sec."] == "insecure"
    cut = next(z for z in data["chain"] if z["zone"] == "insecure.sec.")
    assert cut["denial"] and "NSEC" in cut["denial"][0]  # sec.'s proof that there is no DS
    assert chain_status(data)["sec."] == "secure"


def test_explain_a_bogus_name(ctl_binary, controlled):
    text, data = explain(ctl_binary, controlled, BOGUS, "A")
    assert ";; VERDICT: SERVFAIL, BOGUS" in text, text
    assert data["verdict"]["ede"]["code"] == 7
    cut = next(z for z in data["chain"] if z["zone"] == "expired.sec.")
    assert cut["status"] == "bogus" and cut["ede"]["code"] == 7 and "expired" in cut["reason"]
    assert any(sig["timing"] == "expired" for sig in cut["dnskey_signatures"])
    assert "(expired)" in text


def test_explain_bypasses_and_does_not_fill_the_answer_cache(ctl_binary, controlled):
    name = "www.ed25519.sec"
    _, data = explain(ctl_binary, controlled, name)
    assert data["cache_before"]["message"] is None
    hits = cache_hits(ctl_binary, controlled)
    assert ask(controlled, name).flags & dns.flags.AD
    assert cache_hits(ctl_binary, controlled) == hits  # resolved for the client, not a hit
    _, data = explain(ctl_binary, controlled, name)
    assert data["cache_before"]["message"]["security"] == "secure"  # recorded, not used
    assert data["upstream_queries"] > 0


def test_explain_rejects_bad_arguments(ctl_binary, controlled):
    for args in (["explain"], ["explain", "bad..name"], ["explain", SECURE, "NOSUCHTYPE"], ["explain", SECURE, "AXFR"]):
        p = ctl(ctl_binary, controlled, *args, check=False)
        assert p.returncode == 1, args


def test_malformed_requests_and_unknown_commands(ctl_binary, controlled):
    p = ctl(ctl_binary, controlled, "frobnicate", check=False)
    assert p.returncode == 1 and "unknown command" in p.stderr
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(controlled.socket_path)
        s.sendall(b"this is not json\n")
        reply = json.loads(s.recv(65536).decode())
    assert reply["ok"] is False and "malformed request" in reply["error"]
    assert ask(controlled, SECURE).rcode() == dns.rcode.NOERROR


def test_a_second_daemon_on_the_same_socket_is_refused_a_stale_one_replaced(ctl_binary, controlled,
                                                                           build_dir, tmp_path):
    other = tmp_path / "other.yaml"
    text = controlled.config_text().replace(f"listen: [{controlled.addr}@53]", "listen: [127.21.9.250@53]")
    other.write_text(text)
    p = subprocess.run([os.path.join(build_dir, "resolverd"), "-c", str(other)], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 1 and "is in use: another resolverd is running" in p.stderr, p.stderr
    # A daemon killed without cleaning up leaves its socket file; the next start replaces it.
    os.kill(controlled.proc.pid, signal.SIGKILL)
    controlled.proc.wait(timeout=5)
    assert os.path.exists(controlled.socket_path)
    controlled.start()
    assert ctl_json(ctl_binary, controlled, "status")["config_generation"] == 1


def test_resolverctl_finds_the_socket_in_the_configuration(ctl_binary, controlled):
    p = subprocess.run([ctl_binary, "-c", controlled.conf_path, "status"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0 and p.stdout.startswith("resolverd "), p.stderr
    p = subprocess.run([ctl_binary, "-s", controlled.socket_path + ".none", "status"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2 and "cannot connect" in p.stderr
