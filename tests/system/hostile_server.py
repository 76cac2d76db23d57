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

Modes for the fault-injection benchmark (tests/bench/fault_injection.py), each
for a delegated ZONE whose apex (SOA, NS ns1.ZONE, A of ns1.ZONE = this
address) is served honestly, while every other name below ZONE gets:
  garbage:ZONE       random bytes; every other reply keeps the ID and question
                     and follows them with random bytes and counts (passes the
                     transport's checks, fails parsing)
  wrongid:ZONE       the right answer (A 192.0.2.1) with another ID
  wrongport:ZONE     the right answer, sent from another UDP port
  tcdrip:ZONE        UDP: TC=1 and nothing else; TCP: the right answer two bytes
                     every 0.5 s (slow drip)
  tcclose:ZONE       UDP: TC=1; TCP: one byte of the length field, then close
  nsflood:ZONE:N:TARGET  a referral to the child zone of the query name (first
                     label below ZONE) with N name servers ns<i>.<child>.TARGET,
                     no glue (TARGET: a zone where those names do not exist)
Port is 53 unless --port is given.  Every query is logged to --log (one line:
ADDR PROTO QNAME QTYPE) so tests can see what was asked.
"""

import argparse
import random
import resource
import sys
import traceback

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

import dns_loop

# Modes whose first argument is a zone with an honest apex (see the docstring).
ZONE_MODES = ("garbage", "wrongid", "wrongport", "tcdrip", "tcclose", "nsflood")
ANSWER_A = "192.0.2.1"


class Behaviour:
    def __init__(self, addr, spec):
        parts = spec.split(":")
        self.addr = addr
        self.mode = parts[0]
        self.args = parts[1:]
        self.deep_counts = {}
        self.rng = random.Random(hash(spec) & 0xFFFFFFFF)
        self.zone = dns.name.from_text(self.args[0]) if self.mode in ZONE_MODES else None

    def reply(self, query, proto, wire):
        """What to send back: wire bytes, a dns_loop misbehaviour, or None."""
        if self.mode not in ZONE_MODES:
            resp = self.answer(query)
            if resp is None:
                return None
            return resp.to_wire(max_size=1232) if proto == "udp" else resp.to_wire()
        if not query.question:
            return None
        qname = query.question[0].name
        apex = self._apex(query, qname)
        if apex is not None:
            return apex.to_wire(max_size=1232) if proto == "udp" else apex.to_wire()
        resp = dns.message.make_response(query)
        if self.mode == "garbage":
            if self.rng.random() < 0.5:
                return self.rng.randbytes(self.rng.randrange(1, 300))
            head = bytearray(wire[:12])
            head[2] |= 0x80
            head[6:12] = self.rng.randbytes(6)  # random counts
            question_end = 12 + len(qname.to_wire()) + 4
            return bytes(head) + wire[12:question_end] + self.rng.randbytes(self.rng.randrange(1, 200))
        if self.mode == "nsflood":
            count, target = int(self.args[1]), dns.name.from_text(self.args[2])
            child = qname.split(len(self.zone.labels) + 1)[1]
            label = child.labels[0].decode(errors="replace")
            names = [f"ns{i}.{label}.{target}" for i in range(count)]
            resp.authority.append(dns.rrset.from_text_list(child, 300, dns.rdataclass.IN,
                                                           dns.rdatatype.NS, names))
            # (over TCP too, dnspython would cap the reply at the query's EDNS size)
            return resp.to_wire(max_size=65535) if proto == "tcp" else self._truncating_wire(resp)
        resp.flags |= dns.flags.AA
        if query.question[0].rdtype == dns.rdatatype.A:
            resp.answer.append(dns.rrset.from_text(qname, 300, dns.rdataclass.IN,
                                                   dns.rdatatype.A, ANSWER_A))
        if self.mode == "wrongid":
            resp.id = (query.id + 0x5555) & 0xFFFF
            return resp.to_wire()
        if self.mode == "wrongport":
            return dns_loop.OtherPort(resp.to_wire()) if proto == "udp" else resp.to_wire()
        # tcdrip / tcclose: truncated over UDP, the real answer (badly) over TCP
        if proto == "udp":
            tc = dns.message.make_response(query)
            tc.flags |= dns.flags.TC
            return tc.to_wire()
        if self.mode == "tcdrip":
            return dns_loop.Drip(resp.to_wire(), chunk=2, interval=0.5)
        return dns_loop.Close(prefix=b"\x00")

    @staticmethod
    def _truncating_wire(resp):
        """Over UDP a referral too big for 1232 bytes goes out truncated (TC=1)."""
        try:
            return resp.to_wire(max_size=1232)
        except dns.exception.TooBig:
            resp.authority = []
            resp.flags |= dns.flags.TC
            return resp.to_wire()

    def _apex(self, query, qname):
        """The honest answer for the zone's apex and its server's name, else None."""
        ns = dns.name.from_text("ns1", origin=self.zone)
        if qname != self.zone and qname != ns:
            return None
        rdtype = query.question[0].rdtype
        resp = dns.message.make_response(query)
        resp.flags |= dns.flags.AA
        if qname == self.zone and rdtype == dns.rdatatype.NS:
            resp.answer.append(dns.rrset.from_text(self.zone, 300, dns.rdataclass.IN,
                                                   dns.rdatatype.NS, ns.to_text()))
            resp.additional.append(dns.rrset.from_text(ns, 300, dns.rdataclass.IN,
                                                       dns.rdatatype.A, self.addr))
        elif qname == ns and rdtype == dns.rdatatype.A:
            resp.answer.append(dns.rrset.from_text(ns, 300, dns.rdataclass.IN,
                                                   dns.rdatatype.A, self.addr))
        else:  # NODATA with the SOA (RFC 2308)
            resp.authority.append(dns.rrset.from_text(
                self.zone, 60, dns.rdataclass.IN, dns.rdatatype.SOA,
                f"{ns} hostmaster.{self.zone} 1 3600 900 604800 60"))
        return resp

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
    # Slow-drip connections stay open until the resolver gives up on them.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
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
        try:
            return beh.reply(query, proto, wire)
        except Exception:  # a test server that dies would skew every later figure
            traceback.print_exc()
            return None

    dns_loop.serve(behaviours, handle, hold_tcp=lambda addr: behaviours[addr].mode == "blackhole",
                   port=opts.port)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        pass
    sys.exit(0)
