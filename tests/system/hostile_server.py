#!/usr/bin/python3
"""A misbehaving authoritative DNS server for the system tests (dnspython).

Started as a subprocess and stopped by PID (SIGTERM).  One process serves
several addresses, each with its own behaviour, given as

    --bind ADDR:MODE[:ARG]

MODE is one of
  blackhole          read UDP queries and never answer; accept TCP
                     connections and never answer (holds them open)
  refer:ZONE:NS:IP   answer every query with a referral to ZONE whose NS is
                     NS with glue NS A IP (used for sideways and upward
                     referral loops)
  deep:BASE          answer every query for a name under BASE with a referral
                     to an ever deeper child zone of the query name (one
                     more label per query seen for that name, capped at the
                     query name itself), NS ns.<child> with glue = this
                     address
Port is 53 unless --port is given.  Every query is logged to --log (one line:
ADDR PROTO QNAME QTYPE) so tests can see what was asked.
"""

import argparse
import selectors
import signal
import socket
import sys

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class Behaviour:
    def __init__(self, addr, spec):
        parts = spec.split(":")
        self.addr = addr
        self.mode = parts[0]
        self.args = parts[1:]
        self.deep_counts = {}

    def answer(self, query):
        """Return a response message, or None to stay silent."""
        if self.mode == "blackhole":
            return None
        resp = dns.message.make_response(query)
        resp.flags &= ~dns.flags.AA
        if not query.question:
            resp.set_rcode(dns.rcode.FORMERR)
            return resp
        qname = query.question[0].name
        if self.mode == "refer":
            zone, ns, ip = self.args
            self._referral(resp, dns.name.from_text(zone), dns.name.from_text(ns), ip)
            return resp
        if self.mode == "deep":
            base = dns.name.from_text(self.args[0])
            if not qname.is_subdomain(base) or qname == base:
                resp.set_rcode(dns.rcode.REFUSED)
                return resp
            seen = self.deep_counts.get(qname, 0)
            self.deep_counts[qname] = seen + 1
            depth = min(len(qname.labels), len(base.labels) + 1 + seen)
            child = qname.split(depth)[1]
            self._referral(resp, child, dns.name.from_text("ns", origin=child), self.addr)
            return resp
        resp.set_rcode(dns.rcode.SERVFAIL)
        return resp

    @staticmethod
    def _referral(resp, zone, ns, ip):
        resp.authority.append(
            dns.rrset.from_text(zone, 300, dns.rdataclass.IN, dns.rdatatype.NS, ns.to_text())
        )
        resp.additional.append(
            dns.rrset.from_text(ns, 300, dns.rdataclass.IN, dns.rdatatype.A, ip)
        )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", action="append", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--log", default=None)
    opts = ap.parse_args()

    log = open(opts.log, "a", buffering=1) if opts.log else None
    sel = selectors.DefaultSelector()
    held = []  # blackholed TCP connections, kept open on purpose

    for spec in opts.bind:
        addr, mode = spec.split(":", 1)
        beh = Behaviour(addr, mode)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        u.bind((addr, opts.port))
        u.setblocking(False)
        sel.register(u, selectors.EVENT_READ, ("udp", beh))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((addr, opts.port))
        t.listen(64)
        t.setblocking(False)
        sel.register(t, selectors.EVENT_READ, ("listen", beh))

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)

    def logq(beh, proto, query):
        if log and query.question:
            q = query.question[0]
            log.write(f"{beh.addr} {proto} {q.name} {dns.rdatatype.to_text(q.rdtype)}\n")

    while True:
        for key, _ in sel.select():
            kind, beh = key.data
            sock = key.fileobj
            try:
                if kind == "udp":
                    data, peer = sock.recvfrom(65535)
                    try:
                        query = dns.message.from_wire(data)
                    except Exception:
                        continue
                    logq(beh, "udp", query)
                    resp = beh.answer(query)
                    if resp is not None:
                        sock.sendto(resp.to_wire(max_size=1232), peer)
                elif kind == "listen":
                    conn, _ = sock.accept()
                    if beh.mode == "blackhole":
                        held.append(conn)
                        continue
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ, ("tcp", (beh, bytearray())))
                elif kind == "tcp":
                    beh, buf = beh
                    chunk = sock.recv(65535)
                    if not chunk:
                        sel.unregister(sock)
                        sock.close()
                        continue
                    buf.extend(chunk)
                    while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                        n = int.from_bytes(buf[:2], "big")
                        data = bytes(buf[2 : 2 + n])
                        del buf[: 2 + n]
                        try:
                            query = dns.message.from_wire(data)
                        except Exception:
                            continue
                        logq(beh, "tcp", query)
                        resp = beh.answer(query)
                        if resp is not None:
                            wire = resp.to_wire()
                            sock.setblocking(True)
                            sock.sendall(len(wire).to_bytes(2, "big") + wire)
                            sock.setblocking(False)
            except (BlockingIOError, ConnectionError, OSError):
                continue


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        pass
    sys.exit(0)
