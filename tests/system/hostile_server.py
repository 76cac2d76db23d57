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
import sys

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

import dns_loop


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
    behaviours = {}
    for spec in opts.bind:
        addr, mode = spec.split(":", 1)
        behaviours[addr] = Behaviour(addr, mode)

    def handle(addr, proto, wire):
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None
        beh = behaviours[addr]
        if log and query.question:
            q = query.question[0]
            log.write(f"{addr} {proto} {q.name} {dns.rdatatype.to_text(q.rdtype)}\n")
        resp = beh.answer(query)
        if resp is None:
            return None
        return resp.to_wire(max_size=1232) if proto == "udp" else resp.to_wire()

    dns_loop.serve(behaviours, handle, hold_tcp=lambda addr: behaviours[addr].mode == "blackhole",
                   port=opts.port)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        pass
    sys.exit(0)
