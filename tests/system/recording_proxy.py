"""A DNS proxy that writes down every query it passes on (test_service.py).

It listens on UDP and TCP port 53 of one address, forwards each query unchanged
to an upstream server (UDP to UDP, TCP to TCP) and sends the reply back.  For each
query it appends one JSON line to the log:

  {"src": "127.53.20.3", "proto": "udp", "qname": "_ta-4f66.", "qtype": "NULL",
   "options": [[14, "4f66"]]}

(qname lower case; options: the EDNS options as [code, hex data]).  That is how
the tests see what a resolver asks the root: the RFC 8145 key tag query and the
edns-key-tag option on DNSKEY queries.  Run:
  recording_proxy.py --listen 127.22.0.1 --upstream 127.22.0.2 --log FILE
SIGTERM stops it; it prints "ready" once both sockets are bound.
"""

import argparse
import json
import signal
import socket
import struct
import sys
import threading

import dns.message
import dns.rdatatype


def describe(wire, src, proto):
    try:
        q = dns.message.from_wire(wire)
    except Exception:
        return {"src": src, "proto": proto, "malformed": True}
    entry = {"src": src, "proto": proto, "qname": None, "qtype": None, "options": []}
    if q.question:
        entry["qname"] = q.question[0].name.to_text().lower()
        entry["qtype"] = dns.rdatatype.to_text(q.question[0].rdtype)
    for option in q.options:
        entry["options"].append([int(option.otype), option.to_wire().hex()])
    return entry


class Proxy:
    def __init__(self, listen, upstream, log_path):
        self.listen = listen
        self.upstream = upstream
        self.log = open(log_path, "a", buffering=1)
        self.lock = threading.Lock()

    def record(self, wire, src, proto):
        with self.lock:
            self.log.write(json.dumps(describe(wire, src, proto)) + "\n")

    def serve_udp(self, sock):
        while True:
            wire, peer = sock.recvfrom(65535)
            self.record(wire, peer[0], "udp")
            threading.Thread(target=self.forward_udp, args=(sock, wire, peer), daemon=True).start()

    def forward_udp(self, sock, wire, peer):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(2.0)
            try:
                up.sendto(wire, (self.upstream, 53))
                reply, _ = up.recvfrom(65535)
            except OSError:
                return  # the upstream is restarting: the client retries
        sock.sendto(reply, peer)

    def serve_tcp(self, listener):
        while True:
            conn, peer = listener.accept()
            threading.Thread(target=self.forward_tcp, args=(conn, peer), daemon=True).start()

    @staticmethod
    def read_exact(conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def forward_tcp(self, conn, peer):
        with conn:
            conn.settimeout(10.0)
            try:
                while True:
                    head = self.read_exact(conn, 2)
                    if head is None:
                        return
                    wire = self.read_exact(conn, struct.unpack("!H", head)[0])
                    if wire is None:
                        return
                    self.record(wire, peer[0], "tcp")
                    with socket.create_connection((self.upstream, 53), timeout=2.0) as up:
                        up.sendall(head + wire)
                        rhead = self.read_exact(up, 2)
                        reply = self.read_exact(up, struct.unpack("!H", rhead)[0]) if rhead else None
                    if reply is None:
                        return
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                return

    def run(self):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        udp.bind((self.listen, 53))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind((self.listen, 53))
        tcp.listen(16)
        threading.Thread(target=self.serve_udp, args=(udp,), daemon=True).start()
        threading.Thread(target=self.serve_tcp, args=(tcp,), daemon=True).start()
        print("ready", flush=True)
        signal.sigwait({signal.SIGTERM, signal.SIGINT})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    Proxy(args.listen, args.upstream, args.log).run()
    sys.exit(0)


if __name__ == "__main__":
    main()
