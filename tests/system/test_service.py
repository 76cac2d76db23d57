"""Running as a service (issue 8), against the real daemon.

- sd_notify: with NOTIFY_SOCKET pointing at a datagram socket of the test's, the
  daemon says READY=1, RELOADING=1 then READY=1 on SIGHUP and on `resolverctl
  reload`, and STOPPING=1 on SIGTERM.
- scripts/install.sh into a temporary root (--destdir): the layout, the modes, the
  installed configuration passing --check-config, a second run keeping it.
- conf/resolverd.service passes `systemd-analyze verify` (and its security review).
- `username:`: the daemon drops to that user, its state directory is handed to it
  first, and members of its group (only they) can use resolverctl.
- RFC 5011 on the rollover root (rollover.py, lab hold-down of 3 s): the state file
  shows the new KSK AddPend, then Valid; the old one Revoked, then Removed; answers
  stay secure throughout and after a restart (the state file takes precedence over
  the configured anchor).  With rfc5011 off nothing is learned.
- RFC 8145: the root sees the "_ta-XXXX" NULL query and the edns-key-tag option on
  DNSKEY queries, with the anchor's key tag; switched off, neither.

resolverd-specific: skipped under RESOLVER_UNDER_TEST=unbound.
"""

import filecmp
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

import procs
from rollover import RolloverRoot

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADDR_NOTIFY = "127.53.20.1"
ADDR_USER = "127.53.20.2"
ADDR_ROLL = "127.53.20.3"
ADDR_OFF = "127.53.20.4"
ADDR_SIGNAL = "127.53.20.5"
ADDR_NO_SIGNAL = "127.53.20.6"
WAIT = 60.0  # seconds any one condition may take to come true on a loaded machine


@pytest.fixture
def resolverd(resolver_kind, build_dir):
    if resolver_kind != "resolverd":
        pytest.skip("resolverd's own service behaviour")
    path = os.path.join(build_dir, "resolverd")
    assert os.path.exists(path), f"resolverd not built: {path}"
    return path


@pytest.fixture
def short_dir():
    """A directory with a short path (Unix socket paths are limited to 107 bytes),
    readable by every user (the daemon may run as nobody)."""
    d = tempfile.mkdtemp(prefix="rsv-svc-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def rollover(resolver_kind):
    if resolver_kind != "resolverd":
        pytest.skip("resolverd's own service behaviour")
    if os.geteuid() != 0:
        pytest.skip("system tests need root (port 53 on 127.x)")
    base = tempfile.mkdtemp(prefix="rsv-rollover-")
    os.chmod(base, 0o755)
    root = RolloverRoot(base).start()
    yield root
    root.stop()
    shutil.rmtree(base, ignore_errors=True)


def wait_for(condition, what, timeout=WAIT, interval=0.05, daemon=None):
    """Polls `condition` until it is true; fails after `timeout` with the daemon's log."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            log = daemon.log()[-6000:] if daemon else ""
            pytest.fail(f"waited {timeout:.0f} s for {what}" + (f"; log:\n{log}" if log else ""))
        time.sleep(interval)


def config_text(addr, root_hints="", trust_anchor=None, control_socket="", extra_dnssec="", extra=""):
    dnssec = "dnssec: {validation: false, trust-anchor-files: []}\n"
    if trust_anchor:
        dnssec = f"dnssec: {{validation: true, trust-anchor-files: [{trust_anchor}]{extra_dnssec}}}\n"
    hints = f"resolver: {{root-hints: {root_hints}}}\n" if root_hints else ""
    return (f"listen: [{addr}@53]\n"
            "access-control: [127.0.0.0/8 allow-snoop]\n"
            "log-level: debug\n"
            f"network: {{do-ip6: false, do-not-query-localhost: false, outgoing-interface: [{addr}]}}\n"
            f"{hints}{dnssec}"
            f"control: {{socket: \"{control_socket}\"}}\n"
            "http: {listen: []}\n" + extra)


class Daemon:
    """One resolverd process with its configuration file and log."""

    def __init__(self, binary, directory, addr, text, env=None):
        self.binary = binary
        self.addr = addr
        self.conf = os.path.join(directory, f"resolverd-{addr}.yaml")
        self.log_path = os.path.join(directory, f"resolverd-{addr}.log")
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, 0o644)
        self.env = env
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        # Only what the test gives: a NOTIFY_SOCKET of pytest's own would be inherited otherwise.
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        env.update(self.env or {})
        self.proc = procs.start([self.binary, "-c", self.conf], f"resolverd on {self.addr}", stdout=log,
                                stderr=subprocess.STDOUT, env=env)
        log.close()
        probe = dns.message.make_query("id.server", "TXT", "CH")

        def answering():
            assert self.proc.poll() is None, f"resolverd exited early:\n{self.log()}"
            try:
                dns.query.udp(probe, self.addr, timeout=0.2)
                return True
            except Exception:
                return False
        wait_for(answering, f"resolverd on {self.addr} to answer", timeout=15)
        return self

    def stop(self):
        procs.stop(self.proc)

    def log(self):
        return open(self.log_path, errors="replace").read() if os.path.exists(self.log_path) else ""

    def query(self, name, rdtype="A"):
        q = dns.message.make_query(name, rdtype, want_dnssec=True)
        return dns.query.udp(q, self.addr, timeout=5)


# ---------------------------------------------------------------------------
# sd_notify


def test_sd_notify_ready_reloading_and_stopping(resolverd, build_dir, short_dir):
    notify_path = os.path.join(short_dir, "notify")
    control = os.path.join(short_dir, "control.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    listener.settimeout(WAIT)

    def next_message():
        return listener.recv(4096).decode()

    daemon = Daemon(resolverd, short_dir, ADDR_NOTIFY, config_text(ADDR_NOTIFY, control_socket=control),
                    env={"NOTIFY_SOCKET": notify_path})
    try:
        daemon.start()
        ready = next_message()
        assert ready.startswith("READY=1\n"), ready
        assert f"STATUS=serving on {ADDR_NOTIFY}@53" in ready, ready

        os.kill(daemon.proc.pid, signal.SIGHUP)
        reloading = next_message()
        assert reloading.startswith("RELOADING=1\n") and "MONOTONIC_USEC=" in reloading, reloading
        ready = next_message()
        assert ready.startswith("READY=1\n") and "configuration 2 loaded" in ready, ready

        ctl = subprocess.run([os.path.join(build_dir, "resolverctl"), "-s", control, "reload"],
                             capture_output=True, text=True, timeout=30)
        assert ctl.returncode == 0, ctl.stderr
        reloading = next_message()
        assert reloading.startswith("RELOADING=1\n"), reloading
        ready = next_message()
        assert ready.startswith("READY=1\n") and "configuration 3 loaded" in ready, ready

        os.kill(daemon.proc.pid, signal.SIGTERM)
        stopping = next_message()
        assert stopping.startswith("STOPPING=1\n"), stopping
        assert daemon.proc.wait(timeout=WAIT) == 0
    finally:
        daemon.stop()
        listener.close()


def test_without_notify_socket_the_daemon_runs_as_before(resolverd, short_dir):
    daemon = Daemon(resolverd, short_dir, ADDR_NOTIFY, config_text(ADDR_NOTIFY))
    try:
        daemon.start()
        os.kill(daemon.proc.pid, signal.SIGHUP)
        wait_for(lambda: "configuration 2 loaded" in daemon.log(), "the reload", daemon=daemon)
        os.kill(daemon.proc.pid, signal.SIGTERM)
        assert daemon.proc.wait(timeout=WAIT) == 0
        assert "cannot notify" not in daemon.log()
    finally:
        daemon.stop()


# ---------------------------------------------------------------------------
# install.sh and the unit


def run_install(build_dir, destdir):
    return subprocess.run(["bash", os.path.join(REPO, "scripts", "install.sh"), "--destdir", destdir,
                           "--no-build", "--build-dir", build_dir], capture_output=True, text=True, timeout=120)


def test_install_sh_into_a_destdir(build_dir, tmp_path):
    dest = str(tmp_path / "root")
    r = run_install(build_dir, dest)
    assert r.returncode == 0, r.stdout + r.stderr
    expected = {
        "usr/local/sbin/resolverd": 0o755,
        "usr/local/bin/resolverctl": 0o755,
        "usr/local/bin/dnsq": 0o755,
        "etc/systemd/system/resolverd.service": 0o644,
        "etc/resolverd/resolver.yaml": 0o644,
        "usr/local/share/doc/resolverd/README.md": 0o644,
    }
    for path, mode in expected.items():
        full = os.path.join(dest, path)
        assert os.path.isfile(full), path
        assert stat.S_IMODE(os.stat(full).st_mode) == mode, f"{path}: {oct(os.stat(full).st_mode)}"
    assert os.path.isdir(os.path.join(dest, "var/lib/resolverd"))
    for binary, where in (("resolverd", "usr/local/sbin"), ("resolverctl", "usr/local/bin"), ("dnsq", "usr/local/bin")):
        assert filecmp.cmp(os.path.join(build_dir, binary), os.path.join(dest, where, binary), shallow=False)
    assert filecmp.cmp(os.path.join(REPO, "conf", "resolverd.service"),
                       os.path.join(dest, "etc/systemd/system/resolverd.service"), shallow=False)
    # The installed configuration: the shipped one with the service's user and RFC 5011.
    config = os.path.join(dest, "etc/resolverd/resolver.yaml")
    check = subprocess.run([os.path.join(dest, "usr/local/sbin/resolverd"), "-c", config, "--check-config"],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    assert 'username: "resolverd"' in check.stdout
    assert "rfc5011: true" in check.stdout
    assert 'trust-anchor-state: "/var/lib/resolverd/trust-anchors.state"' in check.stdout
    assert 'socket: "/run/resolverd/control.sock"' in check.stdout
    assert "uninstall" in r.stdout
    # Twice is fine, and an operator's configuration is never overwritten.
    with open(config, "a") as f:
        f.write("# edited by the operator\n")
    again = run_install(build_dir, dest)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "kept the existing" in again.stdout
    assert open(config).read().endswith("# edited by the operator\n")


def test_install_sh_refuses_unknown_arguments(tmp_path):
    r = subprocess.run(["bash", os.path.join(REPO, "scripts", "install.sh"), "--bogus"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "unknown argument" in r.stderr


def test_the_unit_file_verifies(build_dir, tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing (apt-get install systemd; scripts/deps.sh --test does)"
    text = open(os.path.join(REPO, "conf", "resolverd.service")).read()
    for line in ("Type=notify", "ExecStart=/usr/local/sbin/resolverd -c /etc/resolverd/resolver.yaml",
                 "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "RuntimeDirectory=resolverd",
                 "StateDirectory=resolverd", "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "SystemCallFilter=@system-service chroot", "MemoryDenyWriteExecute=yes"):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", text, re.M).group(1).split()
    assert sorted(caps) == sorted(["CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN", "CAP_SETUID", "CAP_SETGID",
                                   "CAP_SYS_CHROOT", "CAP_CHOWN"])
    # The container is not booted with systemd: the file is checked, not started. The
    # binary it names is the one just built (verify checks it is executable).
    unit = tmp_path / "resolverd.service"
    unit.write_text(text.replace("/usr/local/sbin/resolverd", os.path.join(build_dir, "resolverd")))
    verify = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and not verify.stdout.strip() and not verify.stderr.strip(), \
        verify.stdout + verify.stderr
    security = subprocess.run([analyze, "security", "--offline=yes", str(unit)], capture_output=True, text=True,
                              timeout=60)
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", security.stdout + security.stderr)
    assert level, security.stdout + security.stderr
    print(f"\nsystemd-analyze security: exposure {level.group(1)}")
    assert float(level.group(1)) <= 4.0, security.stdout


# ---------------------------------------------------------------------------
# the daemon's user, its state directory and its control socket


def test_daemon_user_owns_its_state_and_its_group_uses_the_control_socket(resolverd, build_dir, short_dir,
                                                                          rollover):
    rollover.set_phase(1)
    nobody = pwd.getpwnam("nobody")
    outsider = pwd.getpwnam("daemon")
    assert outsider.pw_gid != nobody.pw_gid
    control = os.path.join(short_dir, "run", "control.sock")
    state = os.path.join(short_dir, "state", "trust-anchors.state")
    snapshot = os.path.join(short_dir, "snapshot", "cache.db")
    text = config_text(ADDR_USER, rollover.root_hints, rollover.trust_anchor, control_socket=control,
                       extra_dnssec=f", rfc5011: true, trust-anchor-state: {state}, rfc5011-hold-down: 3s, "
                                    "rfc5011-min-refresh: 1s",
                       extra=f"username: nobody\ncache: {{snapshot: {snapshot}, snapshot-interval: 0}}\n")
    daemon = Daemon(resolverd, short_dir, ADDR_USER, text)
    try:
        daemon.start()
        status = open(f"/proc/{daemon.proc.pid}/status").read()
        uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
        assert uid == (str(nobody.pw_uid),) * 3, status
        # The state directory was handed over before the drop: the file is written as nobody.
        wait_for(lambda: os.path.exists(state), "the RFC 5011 state file", daemon=daemon)
        assert os.stat(os.path.dirname(state)).st_uid == nobody.pw_uid
        assert os.stat(state).st_uid == nobody.pw_uid
        # The control socket: 0660, the daemon user's group.
        info = os.stat(control)
        assert stat.S_ISSOCK(info.st_mode)
        assert stat.S_IMODE(info.st_mode) == 0o660
        assert info.st_gid == nobody.pw_gid, grp.getgrgid(info.st_gid).gr_name
        ctl = os.path.join(build_dir, "resolverctl")

        def as_user(user):
            return subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                                   ctl, "-s", control, "status"], capture_output=True, text=True, timeout=30)
        member = as_user(nobody)
        assert member.returncode == 0, member.stderr
        assert "resolverd" in member.stdout
        # status shows the anchor in force and its RFC 5011 state.
        assert re.search(rf"trust anchor \.: key tags {rollover.ksk1.tag}; RFC 5011: {rollover.ksk1.tag}/13 Valid",
                         member.stdout), member.stdout
        stranger = as_user(outsider)
        assert stranger.returncode != 0
        assert "Permission denied" in stranger.stderr, stranger.stderr
        # A reload as nobody reads the configuration again (the file is world-readable).
        os.kill(daemon.proc.pid, signal.SIGHUP)
        wait_for(lambda: re.search(r"SIGHUP: reloading[\s\S]*configuration \d+ loaded", daemon.log()),
                 "the reload as nobody", daemon=daemon)
        # The cache snapshot is written as nobody at shutdown and read back at the next
        # start, as root before the drop: a file of the daemon's user is its own.
        daemon.stop()
        assert f"cache snapshot {snapshot} written at shutdown" in daemon.log(), daemon.log()
        assert os.stat(snapshot).st_uid == nobody.pw_uid
        daemon.start()
        assert f"cache snapshot {snapshot}, written" in daemon.log(), daemon.log()
        assert f"cache snapshot {snapshot} ignored" not in daemon.log(), daemon.log()
        # So is the RFC 5011 state, which nobody wrote.
        assert f"the state in {state} takes precedence" in daemon.log(), daemon.log()
        assert "is not read" not in daemon.log(), daemon.log()
    finally:
        daemon.stop()


# ---------------------------------------------------------------------------
# RFC 5011


def key_states(path):
    """{key tag: state} of the root in the state file, or {} while there is none."""
    try:
        document = json.load(open(path))
    except (OSError, ValueError):
        return {}
    for zone in document["zones"]:
        if zone["zone"] == ".":
            return {key["tag"]: key["state"] for key in zone["keys"]}
    return {}


def secure(daemon, name):
    r = daemon.query(name)
    return r.rcode() == dns.rcode.NOERROR and bool(r.flags & dns.flags.AD) and r.answer


def rfc5011_config(addr, rollover, state, rfc5011=True, signaling=True):
    return config_text(addr, rollover.root_hints, rollover.trust_anchor,
                       extra_dnssec=f", rfc5011: {'true' if rfc5011 else 'false'}, trust-anchor-state: {state}, "
                                    "rfc5011-hold-down: 3s, rfc5011-min-refresh: 1s, "
                                    f"trust-anchor-signaling: {'true' if signaling else 'false'}")


def test_rfc5011_rollover_with_a_state_file(resolverd, short_dir, rollover):
    rollover.set_phase(1)
    k1, k2 = rollover.ksk1.tag, rollover.ksk2.tag
    state = os.path.join(short_dir, "ta.state")
    daemon = Daemon(resolverd, short_dir, ADDR_ROLL, rfc5011_config(ADDR_ROLL, rollover, state))
    try:
        daemon.start()
        # The configured DS becomes the key it names.
        wait_for(lambda: key_states(state) == {k1: "Valid"}, f"KSK1 ({k1}) Valid in the state file",
                 daemon=daemon)
        assert secure(daemon, "n1.rollover-test.")

        # KSK2 published: pending for the hold-down, then trusted.
        rollover.set_phase(2)
        wait_for(lambda: key_states(state).get(k2) == "AddPend", f"KSK2 ({k2}) AddPend", interval=0.02,
                 daemon=daemon)
        wait_for(lambda: key_states(state).get(k2) == "Valid", f"KSK2 ({k2}) Valid", daemon=daemon)
        assert key_states(state)[k1] == "Valid"
        assert secure(daemon, "n2.rollover-test.")

        # KSK1 revoked (self-signed): out at once.
        rollover.set_phase(3)
        wait_for(lambda: key_states(state).get(k1) == "Revoked", f"KSK1 ({k1}) Revoked", daemon=daemon)
        wait_for(lambda: secure(daemon, "n3.rollover-test."), "a secure answer with KSK2 alone", daemon=daemon)

        # KSK1 gone from the zone; after the remove hold-down it is Removed.
        rollover.set_phase(4)
        wait_for(lambda: key_states(state).get(k1) == "Removed", f"KSK1 ({k1}) Removed", daemon=daemon)
        assert key_states(state)[k2] == "Valid"
        assert secure(daemon, "n4.rollover-test.")
        log = daemon.log()
        for line in (f". key {k2}/13: Start -> AddPend", f". key {k2}/13: AddPend -> Valid (add hold-down over)",
                     f". key {k1}/13: Valid -> Revoked", f". key {k1}/13: Revoked -> Removed",
                     "trust anchors changed"):
            assert line in log, line
    finally:
        daemon.stop()
    # A restart: the configured anchor still names KSK1, which no longer signs
    # anything; the state file takes precedence, so answers are secure at once.
    again = Daemon(resolverd, short_dir, ADDR_ROLL, rfc5011_config(ADDR_ROLL, rollover, state))
    try:
        again.start()
        assert "the state in " + state + " takes precedence" in again.log()
        assert secure(again, "n5.rollover-test.")
    finally:
        again.stop()


def test_rfc5011_off_learns_nothing(resolverd, short_dir, rollover):
    rollover.set_phase(1)
    state = os.path.join(short_dir, "ta.state")
    daemon = Daemon(resolverd, short_dir, ADDR_OFF, rfc5011_config(ADDR_OFF, rollover, state, rfc5011=False))
    try:
        daemon.start()
        assert secure(daemon, "n1.rollover-test.")
        rollover.set_phase(2)
        assert wait_for(lambda: secure(daemon, "n2.rollover-test."), "a secure answer in phase 2", daemon=daemon)
        # The configured KSK1 is revoked: without RFC 5011 the resolver still trusts
        # only it, and nothing validates any more.
        rollover.set_phase(3)
        wait_for(lambda: daemon.query("n3.rollover-test.").rcode() == dns.rcode.SERVFAIL,
                 "SERVFAIL with the stale anchor", daemon=daemon)
        assert not os.path.exists(state)
        assert "RFC 5011" not in daemon.log()
    finally:
        daemon.stop()
        rollover.set_phase(1)


# ---------------------------------------------------------------------------
# RFC 8145


def test_rfc8145_key_tag_query_and_option(resolverd, short_dir, rollover):
    rollover.set_phase(1)
    tag = f"{rollover.ksk1.tag:04x}"
    state = os.path.join(short_dir, "ta.state")
    daemon = Daemon(resolverd, short_dir, ADDR_SIGNAL, rfc5011_config(ADDR_SIGNAL, rollover, state))
    try:
        daemon.start()
        ta = wait_for(lambda: [q for q in rollover.queries(ADDR_SIGNAL) if q["qname"] == f"_ta-{tag}."],
                      f"the _ta-{tag} query at the root", daemon=daemon)
        assert ta[0]["qtype"] == "NULL"
        dnskey = wait_for(lambda: [q for q in rollover.queries(ADDR_SIGNAL)
                                   if q["qname"] == "." and q["qtype"] == "DNSKEY"], "a DNSKEY query at the root",
                          daemon=daemon)
        assert [14, tag] in dnskey[0]["options"], dnskey[0]
        # Sent again after each refresh.
        wait_for(lambda: len([q for q in rollover.queries(ADDR_SIGNAL) if q["qname"].startswith("_ta-")]) >= 2,
                 "a second _ta query", daemon=daemon)
        # Nothing else carries the option.
        for q in rollover.queries(ADDR_SIGNAL):
            if q["qtype"] != "DNSKEY":
                assert all(code != 14 for code, _ in q["options"]), q
    finally:
        daemon.stop()


def test_rfc8145_switched_off(resolverd, short_dir, rollover):
    rollover.set_phase(1)
    state = os.path.join(short_dir, "ta.state")
    daemon = Daemon(resolverd, short_dir, ADDR_NO_SIGNAL,
                    rfc5011_config(ADDR_NO_SIGNAL, rollover, state, signaling=False))
    try:
        daemon.start()
        # Three refreshes: each would have been followed by a key tag query.
        wait_for(lambda: len([q for q in rollover.queries(ADDR_NO_SIGNAL)
                              if q["qname"] == "." and q["qtype"] == "DNSKEY"]) >= 3, "three DNSKEY refreshes",
                 daemon=daemon)
        seen = rollover.queries(ADDR_NO_SIGNAL)
        assert not [q for q in seen if q["qname"] and q["qname"].startswith("_ta-")], seen
        assert not [q for q in seen if any(code == 14 for code, _ in q["options"])], seen
    finally:
        daemon.stop()
