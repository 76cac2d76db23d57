"""Encrypted transports against an attacker (the checks, each with the input that
would pass without it).

Forwarding over DNS over HTTPS to a hostile server (hostile_doh.py on
127.59.1.1): a reply with another HTTP status, another content type (one that
only begins like application/dns-message, none, two, one in a trailer or in a
1xx response), a body larger than a DNS message, or on a stream the resolver
never opened must not become the answer; the same media type in another case
with a parameter must.  Each case runs on a fresh resolverd (127.59.2.x, the
plain hierarchy, the forward zone doh-attack.test) that first gets an honest
answer through the same server, so a SERVFAIL means the reply was refused, not
that the path was down.  Replies that are wrong as DNS (ID, question) are
unit-tested on EncryptedUpstream itself (tests/unit/encrypted_upstream_test.cc).

Access control on the DoT and DoH listeners (resolverd on 127.59.0.1): a client
address that access-control refuses gets REFUSED, one it denies gets nothing, over
DoT and DoH exactly as over UDP and TCP; clients bind to their own 127.59.0.x.
"""

import itertools
import json
import os
import socket
import ssl
import subprocess
import sys
import time

import dns.message
import dns.rcode
import dns.rdatatype
import pytest

import procs
from helpers import show
from hierarchy import resolverd_config_text
from resolver_process import ResolverProcess
from tls_setup import SERVER_NAME, CertificateAuthority, DotClient, with_encrypted_listeners

HERE = os.path.dirname(os.path.abspath(__file__))
DOH_ATTACKER_ADDR = "127.59.1.1"
FORWARDER_ADDRS = (f"127.59.2.{i}" for i in itertools.count(1))
ACL_ADDR = "127.59.0.1"
ALLOWED_SOURCE = "127.59.0.2"
REFUSED_SOURCE = "127.59.0.3"     # an explicit refuse rule
DENIED_SOURCE = "127.59.0.4"      # an explicit deny rule
UNLISTED_SOURCE = "127.59.0.5"    # no rule: refused, as Unbound does
ZONE = "doh-attack.test"
HONEST = "192.0.2.55"
FORGED = "192.0.2.66"
DNS_MESSAGE = "application/dns-message"

sys.path.insert(0, HERE)
import hostile_doh  # noqa: E402  (its table of modes)

FORGERIES = [m for m in hostile_doh.MODES if m not in ("honest", "params")]


@pytest.fixture(scope="module")
def attack_ca(workdir):
    return CertificateAuthority(os.path.join(workdir, "tls-attacks-ca"), ips=("127.0.0.1", ACL_ADDR))


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


# --- access control over DoT and DoH -------------------------------------------


class AclResolver(ResolverProcess):
    def __init__(self, build_dir, root_hints, workdir, ca, access_control):
        super().__init__("resolverd", build_dir, root_hints, workdir, listen=ACL_ADDR)
        self.ca = ca
        self.acl = access_control
        self.control = os.path.join(workdir, "control.sock")

    def argv(self):
        conf = os.path.join(self.workdir, "resolverd.yaml")
        text = resolverd_config_text(self.root_hints, listen=self.addr, access_control=self.acl,
                                     control_socket=self.control)
        with open(conf, "w") as f:
            f.write(with_encrypted_listeners(text, self.ca, self.addr, tls_port=853, https_port=443))
        return [os.path.join(self.build_dir, "resolverd"), "-c", conf]

    def counter(self, name):
        out = subprocess.run([os.path.join(self.build_dir, "resolverctl"), "-s", self.control, "--json", "stats"],
                             capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        stats = json.loads(out.stdout)
        return stats.get("data", stats)[name]


@pytest.fixture(scope="module")
def acl_resolver(build_dir, hierarchy, workdir, attack_ca):
    acl = [f"{ALLOWED_SOURCE}/32 allow", f"{REFUSED_SOURCE}/32 refuse", f"{DENIED_SOURCE}/32 deny"]
    r = AclResolver(build_dir, hierarchy.root_hints, os.path.join(workdir, "acl-encrypted"), attack_ca, acl).start()
    yield r
    r.stop()


NO_REPLY = "no reply"


def over_udp(r, ca, source, query, timeout):
    try:
        return r.send(query, timeout=timeout, source=source)
    except dns.exception.Timeout:
        return NO_REPLY


def over_tcp(r, ca, source, query, timeout):
    with socket.create_connection((r.addr, 53), timeout=timeout, source_address=(source, 0)) as s:
        wire = query.to_wire()
        s.sendall(len(wire).to_bytes(2, "big") + wire)
        try:
            data = b""
            while len(data) < 2 or len(data) < 2 + int.from_bytes(data[:2], "big"):
                chunk = s.recv(65536)
                if not chunk:
                    return NO_REPLY
                data += chunk
        except socket.timeout:
            return NO_REPLY
        return dns.message.from_wire(data[2:])


def over_tls(r, ca, source, query, timeout):
    client = DotClient(ca, r.addr, timeout=timeout, source=source)
    try:
        client.send(query)
        return client.receive()
    except (socket.timeout, EOFError, ssl.SSLError):
        return NO_REPLY
    finally:
        client.close()


def over_https(r, ca, source, query, timeout):
    """One POST on a raw HTTP/2 connection: the DNS reply, or NO_REPLY when the
    stream is reset (a dropped query has no answer to give) or nothing comes."""
    import h2.config
    import h2.connection
    import h2.events
    client = DotClient(ca, r.addr, port=443, timeout=timeout, alpn=("h2",), source=source)
    try:
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        sid = conn.get_next_available_stream_id()
        wire = query.to_wire()
        conn.send_headers(sid, [(":method", "POST"), (":scheme", "https"), (":authority", SERVER_NAME),
                                (":path", "/dns-query"), ("content-type", DNS_MESSAGE),
                                ("content-length", str(len(wire)))])
        conn.send_data(sid, wire, end_stream=True)
        client.sock.sendall(conn.data_to_send())
        status, body = None, b""
        while True:
            try:
                data = client.sock.recv(65536)
            except socket.timeout:
                return NO_REPLY
            if not data:
                return NO_REPLY
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == sid:
                    status = dict(event.headers)[b":status"]
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == sid:
                    body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, sid)
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == sid:
                    assert event.error_code == 7, event  # REFUSED_STREAM: not processed
                    return NO_REPLY
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == sid:
                    assert status == b"200", status
                    return dns.message.from_wire(body)
            client.sock.sendall(conn.data_to_send())
    finally:
        client.close()


TRANSPORTS = {"udp": over_udp, "tcp": over_tcp, "tls": over_tls, "https": over_https}


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_access_control_is_the_same_over_every_transport(acl_resolver, attack_ca, transport):
    ask = TRANSPORTS[transport]
    query = lambda: dns.message.make_query("www.alpha.test", "A", use_edns=0)  # noqa: E731
    allowed = ask(acl_resolver, attack_ca, ALLOWED_SOURCE, query(), timeout=10)
    assert allowed != NO_REPLY and allowed.rcode() == dns.rcode.NOERROR, allowed
    assert a_records(allowed) == ["192.0.2.1"], show(allowed)

    refused_before = acl_resolver.counter("queries_refused_total")
    for source in (REFUSED_SOURCE, UNLISTED_SOURCE):
        m = ask(acl_resolver, attack_ca, source, query(), timeout=10)
        assert m != NO_REPLY, f"{source} over {transport}: no REFUSED"
        assert m.rcode() == dns.rcode.REFUSED and not m.answer, show(m)
    assert acl_resolver.counter("queries_refused_total") == refused_before + 2

    # deny: the query reaches the handler (counted) and nothing comes back. The wait
    # for a reply that should not come is what a dropped query costs a client.
    dropped_before = acl_resolver.counter("queries_dropped_total")
    assert ask(acl_resolver, attack_ca, DENIED_SOURCE, query(), timeout=1.5) == NO_REPLY
    assert acl_resolver.counter("queries_dropped_total") == dropped_before + 1
    assert acl_resolver.alive()
