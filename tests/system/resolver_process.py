"""Start and stop the resolver under test: our resolverd, or Debian's unbound
configured equivalently (RESOLVER_UNDER_TEST=unbound)."""

import os
import socket
import subprocess
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rdatatype

import procs
from hierarchy import resolverd_config_text

UNBOUND = "/usr/sbin/unbound"


_option_cache = {}


def _unbound_has_option(name):
    if name not in _option_cache:
        try:
            p = subprocess.run(["unbound-checkconf", "-o", name, "/dev/null"],
                               capture_output=True, text=True, timeout=10)
            _option_cache[name] = p.returncode == 0
        except Exception:
            _option_cache[name] = False
    return _option_cache[name]


def unbound_config_text(root_hints, workdir, listen, qmin=True, access_control=None):
    acl = access_control or ["127.0.0.0/8 allow"]
    lines = [
        "server:",
        f"  interface: {listen}",
        "  port: 53",
        "  do-ip4: yes",
        "  do-ip6: no",
        "  do-udp: yes",
        "  do-tcp: yes",
        "  do-daemonize: no",
        '  username: ""',
        '  chroot: ""',
        f'  directory: "{workdir}"',
        '  pidfile: ""',
        "  use-syslog: no",
        f'  logfile: "{workdir}/unbound.log"',
        "  verbosity: 2",
        "  log-queries: yes",
        "  num-threads: 1",
        "  do-not-query-localhost: no",
        f'  root-hints: "{root_hints}"',
        '  module-config: "iterator"',
        f"  qname-minimisation: {'yes' if qmin else 'no'}",
        "  edns-buffer-size: 1232",
        "  msg-cache-size: 32m",
        "  rrset-cache-size: 32m",
        "  prefetch: no",
        "  hide-identity: no",
        '  identity: "unbound-under-test"',
        # unbound blocks the RFC 6761 names by default; the test hierarchy uses them
        '  local-zone: "test." nodefault',
        '  local-zone: "invalid." nodefault',
    ]
    if _unbound_has_option("discard-timeout"):
        # newer unbound (and Debian 12's security updates) silently drop the
        # client reply when recursion took > 1.9 s; the tests measure the wall
        # time themselves, so let the answer through.
        lines.append("  discard-timeout: 10000")
    # resolverd spells unbound's allow_snoop as allow-snoop.
    lines += [f"  access-control: {a.replace('allow-snoop', 'allow_snoop')}" for a in acl]
    lines += ["remote-control:", "  control-enable: no"]
    return "\n".join(lines) + "\n"


class ResolverProcess:
    """One resolver instance: config, process, log, query helpers."""

    def __init__(self, kind, build_dir, root_hints, workdir, listen="127.53.0.1",
                 qmin=True, access_control=None, control_socket=""):
        self.kind = kind
        self.build_dir = build_dir
        self.root_hints = root_hints
        self.workdir = workdir
        self.addr = listen
        self.port = 53
        self.qmin = qmin
        self.access_control = access_control
        self.control_socket = control_socket  # resolverd's control.socket; "" = off
        self.proc = None
        os.makedirs(workdir, exist_ok=True)
        self.stderr_path = os.path.join(workdir, "stderr.log")

    @property
    def is_unbound(self):
        return self.kind == "unbound"

    @property
    def log_path(self):
        """Where upstream-query debug lines go (resolverd: stderr)."""
        if self.is_unbound:
            return os.path.join(self.workdir, "unbound.log")
        return self.stderr_path

    def argv(self):
        if self.is_unbound:
            conf = os.path.join(self.workdir, "unbound.conf")
            with open(conf, "w") as f:
                f.write(unbound_config_text(self.root_hints, self.workdir, self.addr,
                                            self.qmin, self.access_control))
            return [UNBOUND, "-d", "-c", conf]
        conf = os.path.join(self.workdir, "resolverd.yaml")
        with open(conf, "w") as f:
            f.write(resolverd_config_text(self.root_hints, listen=self.addr, qmin=self.qmin,
                                          access_control=self.access_control,
                                          control_socket=self.control_socket))
        return [os.path.join(self.build_dir, "resolverd"), "-c", conf]

    def start(self, timeout=10.0):
        argv = self.argv()
        if not os.path.exists(argv[0]):
            raise RuntimeError(f"resolver binary not found: {argv[0]}")
        err = open(self.stderr_path, "w")
        self.proc = procs.start(argv, f"{self.kind} on {self.addr}", stdout=err,
                                stderr=subprocess.STDOUT, cwd=self.workdir)
        err.close()
        probe = dns.message.make_query("id.server", "TXT", "CH")

        def answers():  # any reply will do: the resolver reads its socket
            dns.query.udp(probe, self.addr, port=self.port, timeout=0.2)
            return True

        try:
            procs.wait_ready(self.proc, answers, timeout, f"{self.kind} on {self.addr}", self.logs)
        except RuntimeError:
            self.proc = None  # wait_ready stopped it
            raise
        return self

    def stop(self):
        procs.stop(self.proc)
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def logs(self, limit=20000):
        out = ""
        for p in dict.fromkeys([self.stderr_path, self.log_path]):
            if os.path.exists(p):
                out += f"--- {p}\n" + open(p, errors="replace").read()[-limit:]
        return out

    # -- queries ----------------------------------------------------------
    def query(self, qname, rdtype="A", tcp=False, timeout=3.0, rd=True, payload=1232,
              use_edns=0, source=None, want_dnssec=False, retry_every=None):
        """retry_every: resend over UDP every so many seconds until `timeout`, as a
        stub resolver does (a resolver may drop a reply the client waited too long
        for: resolver.discard-timeout)."""
        q = dns.message.make_query(qname, rdtype, use_edns=use_edns, payload=payload,
                                   want_dnssec=want_dnssec)
        if not rd:
            q.flags &= ~dns.flags.RD
        if retry_every and not tcp:
            return self._send_with_retries(q, timeout, retry_every, source)
        return self.send(q, tcp=tcp, timeout=timeout, source=source)

    def _send_with_retries(self, q, timeout, retry_every, source):
        deadline = time.monotonic() + timeout
        wire = q.to_wire()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            if source:
                s.bind((source, 0))
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise dns.exception.Timeout()
                s.sendto(wire, (self.addr, self.port))
                s.settimeout(min(retry_every, left))
                try:
                    data, _ = s.recvfrom(65535)
                except socket.timeout:
                    continue
                reply = dns.message.from_wire(data, ignore_trailing=True)
                if reply.id == q.id:
                    return reply

    def send(self, q, tcp=False, timeout=3.0, source=None):
        if tcp:
            return dns.query.tcp(q, self.addr, port=self.port, timeout=timeout, source=source)
        return dns.query.udp(q, self.addr, port=self.port, timeout=timeout, source=source,
                             ignore_trailing=True)

    def send_raw_udp(self, wire, timeout=2.0, source=None):
        """Send raw bytes; return the raw reply or None on timeout."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            if source:
                s.bind((source, 0))
            s.settimeout(timeout)
            s.sendto(wire, (self.addr, self.port))
            try:
                data, _ = s.recvfrom(65535)
                return data
            except socket.timeout:
                return None

