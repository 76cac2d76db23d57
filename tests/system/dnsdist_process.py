"""Debian's dnsdist for the system tests: one process, started and stopped by PID
(procs.py), and the shipped conf/dnsdist.conf.example with its settings lines
rewritten for a test.

test_tls.py runs it with TLS and HTTPS frontends (tls_setup.Dnsdist) as the
upstream of a forwarding resolverd; test_scale_out.py runs the shipped example in
front of resolverd backends. Every address is on 127.0.0.0/8, and security polling
(which would query the Internet) is off in both."""

import json
import os
import re
import subprocess
import tempfile
import urllib.request

import procs

DNSDIST = "/usr/bin/dnsdist"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE_CONFIG = os.path.join(REPO, "conf", "dnsdist.conf.example")


def lua_string_list(values):
    return "{ " + ", ".join(json.dumps(v) for v in values) + " }"


def example_config(frontends, backends, clients=("127.0.0.0/8",), policy="chashed",
                   webserver=None, api_key=None, path=EXAMPLE_CONFIG):
    """The shipped example with its "local NAME = ..." settings lines replaced, as
    scripts/scale_out.sh does. policy is a dnsdist policy name (chashed,
    roundrobin, ...); webserver "addr:port" with api_key turns the web server on."""
    settings = {
        "frontends": lua_string_list(frontends),
        "backends": lua_string_list(backends),
        "clients": lua_string_list(clients),
        "policy": policy,
        "webserver_address": json.dumps(webserver or "127.0.0.1:8083"),
        "webserver_api_key": json.dumps(api_key) if api_key else "nil",
    }
    text = open(path).read()
    for name, value in settings.items():
        text, count = re.subn(rf"^local {name} = .*$", lambda _: f"local {name} = {value}", text,
                              flags=re.MULTILINE)
        assert count == 1, f"{path}: expected one 'local {name} = ...' line, found {count}"
    return text


def hash_password(secret):
    """dnsdist's hashPassword() of secret, so that configs carry no plain-text key."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
        f.write(f"print(hashPassword({json.dumps(secret)}))\n")
        f.flush()
        out = subprocess.run([DNSDIST, "--check-config", "-C", f.name], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    hashed = out.splitlines()[0].strip()
    assert hashed.startswith("$scrypt$"), out
    return hashed


class DnsdistProcess:
    """dnsdist --supervised with config_text, logging to workdir/dnsdist.log.
    start(ready) waits until ready() is true (e.g. a frontend accepts queries)."""

    def __init__(self, workdir, config_text, description="dnsdist"):
        os.makedirs(workdir, exist_ok=True)
        self.workdir = workdir
        self.description = description
        self.conf = os.path.join(workdir, "dnsdist.conf")
        self.log = os.path.join(workdir, "dnsdist.log")
        with open(self.conf, "w") as f:
            f.write(config_text)
        self.proc = None
        self.webserver = None  # "addr:port", for api()
        self.api_key = None

    def start(self, ready, timeout=10.0):
        with open(self.log, "w") as out:
            self.proc = procs.start([DNSDIST, "--supervised", "--disable-syslog", "-C", self.conf],
                                    self.description, stdout=out, stderr=subprocess.STDOUT)
        try:
            procs.wait_ready(self.proc, ready, timeout, self.description, self.logs)
        except RuntimeError:
            self.proc = None  # wait_ready stopped it
            raise
        return self

    def stop(self):
        procs.stop(self.proc)
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def logs(self):
        return open(self.log, errors="replace").read() if os.path.exists(self.log) else ""

    def api(self, path):
        """GET from dnsdist's JSON API (the web server must be on)."""
        request = urllib.request.Request(f"http://{self.webserver}{path}", headers={"X-API-Key": self.api_key})
        with urllib.request.urlopen(request, timeout=5) as reply:
            return json.load(reply)

    def backend_states(self):
        """{backend name: "up" | "down"} as dnsdist's health checks last saw them."""
        servers = self.api("/api/v1/servers/localhost")["servers"]
        return {s["name"]: s["state"] for s in servers}
