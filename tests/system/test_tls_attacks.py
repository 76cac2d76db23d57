"""Encrypted transports against an attacker (the checks, each with the input that
would pass without it).

Forwarding over DNS over HTTPS to a hostile server (hostile_doh.py on
127.58.1.1): a reply with another HTTP status, another content type (one that
only begins like application/dns-message, none, two, one in a trailer or in a
1xx response), a body larger than a DNS message, or on a stream the resolver
never opened must not become the answer; the same media type in another case
with a parameter must.  Each case runs on a fresh resolverd (127.58.2.x, the
plain hierarchy, the forward zone doh-attack.test) that first gets an honest
answer through the same server, so a SERVFAIL means the reply was refused, not
that the path was down.  Replies that are wrong as DNS (ID, question) are
unit-tested on EncryptedUpstream itself (tests/unit/encrypted_upstream_test.cc).
"""

import itertools
import os
import socket
import sys
import time

import dns.rcode
import dns.rdatatype
import pytest

import procs
from helpers import show
from hierarchy import resolverd_config_text
from resolver_process import ResolverProcess
from tls_setup import SERVER_NAME, CertificateAuthority

HERE = os.path.dirname(os.path.abspath(__file__))
DOH_ATTACKER_ADDR = "127.58.1.1"
FORWARDER_ADDRS = (f"127.58.2.{i}" for i in itertools.count(1))
ZONE = "doh-attack.test"
HONEST = "192.0.2.55"
FORGED = "192.0.2.66"

sys.path.insert(0, HERE)
import hostile_doh  # noqa: E402  (its table of modes)

FORGERIES = [m for m in hostile_doh.MODES if m not in ("honest", "params")]


@pytest.fixture(scope="module")
def attack_ca(workdir):
    return CertificateAuthority(os.path.join(workdir, "tls-attacks-ca"), ips=("127.0.0.1",))


@pytest.fixture(scope="module")
def hostile_doh_server(workdir, attack_ca):
    log = os.path.join(workdir, "hostile_doh.log")
    open(log, "w").close()
    proc = procs.start([sys.executable, os.path.join(HERE, "hostile_doh.py"), "--addr", DOH_ATTACKER_ADDR,
                        "--cert", attack_ca.cert, "--key", attack_ca.key, "--log", log],
                       "hostile_doh", stderr=open(os.path.join(workdir, "hostile_doh.stderr"), "w"))
    deadline = time.monotonic() + 10
    while True:
        assert proc.poll() is None, "hostile_doh.py exited early"
        try:
            socket.create_connection((DOH_ATTACKER_ADDR, 443), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "hostile_doh.py does not listen"
            time.sleep(0.05)
    yield log
    procs.stop(proc)


class Forwarder(ResolverProcess):
    """resolverd on the plain hierarchy that forwards doh-attack.test over DoH."""

    def __init__(self, build_dir, root_hints, workdir, ca):
        super().__init__("resolverd", build_dir, root_hints, workdir, listen=next(FORWARDER_ADDRS))
        self.ca = ca

    def argv(self):
        conf = os.path.join(self.workdir, "resolverd.yaml")
        with open(conf, "w") as f:
            f.write(resolverd_config_text(self.root_hints, listen=self.addr) +
                    f"forward-zones:\n  - {{name: {ZONE}, servers: [\"https://{SERVER_NAME}/dns-query@"
                    f"{DOH_ATTACKER_ADDR}\"], tls-cert-bundle: {self.ca.ca}}}\n")
        return [os.path.join(self.build_dir, "resolverd"), "-c", conf]


@pytest.fixture
def forwarder(build_dir, hierarchy, workdir, attack_ca, hostile_doh_server, request):
    r = Forwarder(build_dir, hierarchy.root_hints, os.path.join(workdir, f"doh-forwarder-{request.node.name}"),
                  attack_ca).start()
    yield r
    r.stop()


def a_records(message):
    return sorted(rd.address for rrset in message.answer if rrset.rdtype == dns.rdatatype.A for rd in rrset)


def served(log, mode, qname):
    with open(log) as f:
        return f"{mode} {qname}\n" in f.read()


def test_doh_forwarding_accepts_the_media_type_in_any_case_with_parameters(forwarder, hostile_doh_server):
    m = forwarder.query(f"params.{ZONE}", timeout=10)
    assert m.rcode() == dns.rcode.NOERROR and a_records(m) == [HONEST], show(m)
    assert served(hostile_doh_server, "params", f"params.{ZONE}.")


@pytest.mark.parametrize("mode", FORGERIES)
def test_doh_forwarding_refuses_a_forged_http_reply(forwarder, hostile_doh_server, mode):
    honest = forwarder.query(f"honest.{ZONE}", timeout=10)
    assert a_records(honest) == [HONEST], show(honest)
    m = forwarder.query(f"{mode}.{ZONE}", timeout=10)
    assert served(hostile_doh_server, mode, f"{mode}.{ZONE}."), "the forgery was never asked for"
    assert m.rcode() == dns.rcode.SERVFAIL, show(m)
    assert FORGED not in a_records(m), show(m)
    assert forwarder.alive()
