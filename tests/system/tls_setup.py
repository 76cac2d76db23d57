"""Encrypted transports for the system tests: a test CA and server certificate
made with the openssl command at test time, raw DNS-over-TLS and DoH clients,
and the resolverd configuration lines that turn the listeners on.

Every address is on 127.0.0.0/8; certificates name dns.test and 127.0.0.1."""

import os
import socket
import ssl
import struct
import subprocess

import dns.message

SERVER_NAME = "dns.test"


class CertificateAuthority:
    """A CA and a server certificate (SAN DNS:dns.test plus the given IPs)."""

    def __init__(self, directory, ips=("127.0.0.1",)):
        os.makedirs(directory, exist_ok=True)
        self.dir = directory
        self.ca = os.path.join(directory, "ca.pem")
        self.cert = os.path.join(directory, "server.pem")
        self.key = os.path.join(directory, "server.key")
        ca_key = os.path.join(directory, "ca.key")
        csr = os.path.join(directory, "server.csr")
        ext = os.path.join(directory, "ext.cnf")
        run = lambda *argv: subprocess.run(argv, check=True, capture_output=True)  # noqa: E731
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", ca_key, "-out", self.ca, "-days", "2", "-subj", "/CN=resolverd test CA")
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.key, "-out", csr, "-subj", f"/CN={SERVER_NAME}")
        sans = ",".join([f"DNS:{SERVER_NAME}"] + [f"IP:{ip}" for ip in ips])
        with open(ext, "w") as f:
            f.write(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        run("openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", self.cert, "-days", "2", "-extfile", ext)
        # The SPKI pin (RFC 7469) of the server key, as tls-pin-sha256 takes it.
        der = subprocess.run(["openssl", "pkey", "-in", self.key, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der, check=True,
                                capture_output=True).stdout
        import base64
        self.pin = base64.b64encode(digest).decode()

    def client_context(self, alpn=("dot",)):
        context = ssl.create_default_context(cafile=self.ca)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if alpn:
            context.set_alpn_protocols(list(alpn))
        return context


class DotClient:
    """One DNS-over-TLS connection (RFC 7858): framed messages, raw replies."""

    def __init__(self, ca, addr, port=853, timeout=5.0, alpn=("dot",), source=None):
        """source: the client's own address (on loopback, any 127.x), for access control."""
        raw = socket.create_connection((addr, port), timeout=timeout,
                                       source_address=(source, 0) if source else None)
        self.sock = ca.client_context(alpn).wrap_socket(raw, server_hostname=SERVER_NAME)
        self.buffer = b""

    def send(self, message):
        wire = message if isinstance(message, bytes) else message.to_wire()
        self.sock.sendall(struct.pack("!H", len(wire)) + wire)

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive_wire(self):
        (length,) = struct.unpack("!H", self._read(2))
        return self._read(length)

    def receive(self):
        return dns.message.from_wire(self.receive_wire())

    def closed_by_peer(self):
        """True once the server has closed the connection (EOF or reset)."""
        try:
            while True:  # whatever the server still sends (HTTP/2 SETTINGS, GOAWAY) first
                if self.sock.recv(4096) == b"":
                    return True
        except socket.timeout:
            return False  # still open after the client's timeout
        except (ConnectionError, ssl.SSLError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def encrypted_listener_lines(ca, addr, tls_port=853, https_port=443, extra_network=""):
    """The network mapping and tls block that turn DoT and DoH on (replacing the
    network line of hierarchy.resolverd_config_text); a port of None leaves that
    listener off."""
    listeners = ""
    if tls_port:
        listeners += f", listen-tls: [{addr}@{tls_port}]"
    if https_port:
        listeners += f", listen-https: [{addr}@{https_port}]"
    network = (f"network: {{do-ip6: false, do-not-query-localhost: false, edns-buffer-size: 1232"
               f"{listeners}{extra_network}}}\n")
    return network, f"tls: {{certificate: {ca.cert}, key: {ca.key}}}\n"


PLAIN_NETWORK_LINE = "network: {do-ip6: false, do-not-query-localhost: false, edns-buffer-size: 1232}\n"


def with_encrypted_listeners(config_text, ca, addr, **kw):
    assert PLAIN_NETWORK_LINE in config_text, "resolverd_config_text changed; update tls_setup"
    network, tls = encrypted_listener_lines(ca, addr, **kw)
    return config_text.replace(PLAIN_NETWORK_LINE, network) + tls


class Dnsdist:
    """Debian's dnsdist with a DoT and a DoH frontend (the test CA's certificate)
    in front of one plain DNS backend (dnsdist_process.py runs it)."""

    def __init__(self, workdir, addr, backend, ca):
        from dnsdist_process import DnsdistProcess
        self.addr = addr
        self.process = DnsdistProcess(workdir, f"""setSecurityPollSuffix("")
setLocal("{addr}:5300")
addTLSLocal("{addr}:853", "{ca.cert}", "{ca.key}", {{provider="openssl"}})
addDOHLocal("{addr}:443", "{ca.cert}", "{ca.key}", "/dns-query", {{idleTimeout=60}})
setTCPRecvTimeout(60)
newServer({{address="{backend}:53"}}):setUp()
""", f"dnsdist on {addr}")

    def start(self, timeout=10.0):
        def listening():
            socket.create_connection((self.addr, 443), timeout=0.2).close()
            socket.create_connection((self.addr, 853), timeout=0.2).close()
            return True

        self.process.start(listening, timeout)
        return self

    def stop(self):
        self.process.stop()


def worker_counters(log_text):
    """The numbers of resolverd's "worker N counters:" line (logged at shutdown)."""
    counters = {}
    for line in log_text.splitlines():
        if "counters:" in line:
            for field in line.split("counters:")[1].split():
                key, _, value = field.partition("=")
                counters[key] = counters.get(key, 0) + int(value)
    return counters
