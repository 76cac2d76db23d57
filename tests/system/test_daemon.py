"""The daemon itself: configuration checking, signals, several event loops.

These are resolverd-specific (unbound has its own CLI), so they skip under
RESOLVER_UNDER_TEST=unbound.
"""

import os
import signal
import socket
import subprocess
import threading
import time

import dns.message
import dns.query
import dns.rcode
import pytest

import procs
from hierarchy import resolverd_config_text

ADDR_SIGNALS = "127.53.9.1"
ADDR_THREADS = "127.53.9.2"


@pytest.fixture
def resolverd(resolver_kind, build_dir):
    if resolver_kind != "resolverd":
        pytest.skip("resolverd's own command line")
    path = os.path.join(build_dir, "resolverd")
    if not os.path.exists(path):
        pytest.skip("resolverd not built")
    return path


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_check_config_prints_effective_configuration(resolverd, tmp_path, hierarchy):
    conf = write(tmp_path, "ok.yaml", resolverd_config_text(hierarchy.root_hints))
    r = subprocess.run([resolverd, "-c", conf, "--check-config"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    # Defaults the file did not mention are shown too.
    assert "max-negative-ttl: 3600" in r.stdout
    assert "edns-buffer-size: 1232" in r.stdout


def test_check_config_names_file_line_and_suggests_key(resolverd, tmp_path):
    conf = write(tmp_path, "bad.yaml", "threads: 1\nresolver:\n  qname-minimization: true\n")
    r = subprocess.run([resolverd, "-c", conf, "--check-config"], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0
    assert f"{conf}:3" in r.stderr, r.stderr
    assert "qname-minimisation" in r.stderr, r.stderr


def test_bad_value_is_reported_at_start_up(resolverd, tmp_path):
    conf = write(tmp_path, "bad.yaml", "network:\n  edns-buffer-size: 70000\n")
    r = subprocess.run([resolverd, "-c", conf], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0
    assert f"{conf}:2" in r.stderr and "edns-buffer-size" in r.stderr, r.stderr


def start_daemon(resolverd, tmp_path, text, addr):
    conf = write(tmp_path, f"resolverd-{addr}.yaml", text)
    log = open(tmp_path / f"resolverd-{addr}.log", "w")
    proc = procs.start([resolverd, "-c", conf], f"resolverd on {addr}", stdout=log, stderr=subprocess.STDOUT)
    log.close()
    probe = dns.message.make_query("id.server", "TXT", "CH")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / f"resolverd-{addr}.log").read_text()
        try:
            dns.query.udp(probe, addr, timeout=0.2)
            return proc
        except Exception:
            time.sleep(0.05)
    procs.stop(proc)
    pytest.fail("resolverd did not start")


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_promptly_with_status_zero(resolverd, tmp_path, hierarchy, signo):
    proc = start_daemon(resolverd, tmp_path, resolverd_config_text(hierarchy.root_hints, listen=ADDR_SIGNALS),
                        ADDR_SIGNALS)
    try:
        # Leave a query in flight: shutdown must not wait for it.
        q = dns.message.make_query("www.silent.test", "A")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(q.to_wire(), (ADDR_SIGNALS, 53))
        time.sleep(0.1)
        start = time.monotonic()
        os.kill(proc.pid, signo)
        rc = proc.wait(timeout=5)
        assert rc == 0
        assert time.monotonic() - start < 2
        s.close()
    finally:
        procs.stop(proc)


def test_two_threads_share_the_port_and_the_cache(resolverd, tmp_path, hierarchy):
    text = resolverd_config_text(hierarchy.root_hints, listen=ADDR_THREADS).replace("threads: 1", "threads: 2")
    proc = start_daemon(resolverd, tmp_path, text, ADDR_THREADS)
    try:
        names = ["www.alpha.test", "www.beta.test", "www.gamma.example", "start.alpha.test"]
        failures = []

        def client(n):
            # Different source ports: SO_REUSEPORT spreads them across both loops.
            for i in range(50):
                name = names[(n + i) % len(names)]
                try:
                    r = dns.query.udp(dns.message.make_query(name, "A"), ADDR_THREADS, timeout=3)
                    if r.rcode() != dns.rcode.NOERROR or not r.answer:
                        failures.append((name, dns.rcode.to_text(r.rcode())))
                except Exception as e:  # noqa: BLE001 - report every failure
                    failures.append((name, repr(e)))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not failures, failures[:10]
        assert proc.poll() is None
    finally:
        procs.stop(proc)
