#!/usr/bin/python3
"""A DNSSEC attacker for the system tests (dnspython): an authoritative server
that lies with real signatures.

sec. delegates the victim zones (signed_hierarchy.ATTACK_ZONES) to this
server.  For each `--proxy LISTEN=UPSTREAM` it listens on LISTEN (UDP and
TCP, port 53) and forwards every query byte for byte (ID, flags, EDNS, DO) to
UPSTREAM, an NSD serving the genuinely signed zone on an address nobody
delegates to, and returns NSD's reply unchanged.  For the questions in
FORGERIES, and for every question at or below a name in SUBTREES, it instead
answers with a reply put together from real, validly signed records: the
signed zone files the hierarchy wrote to `--zones DIR` (LABEL.zone; LABEL is
the zone's name, or "<zone>@old" for an earlier signing of it, see
SignedHierarchy._attack_zones).  Nothing is signed here: a validator that
accepts a forgery has combined real signatures wrongly.

A forged reply has the query's ID and question (same letter case, for 0x20
randomisation), QR and AA set (not AA for a referral), and EDNS with DO as
asked.  Every query is logged to --log, one line:
    FORGED|PROXY|BROKEN ADDR PROTO QNAME QTYPE [builder]
so the tests can check that a forgery was actually served (BROKEN: the
builder failed, e.g. a record it needs is missing; the reply is SERVFAIL).

Started as a subprocess and stopped by PID (SIGTERM), like hostile_server.py.
"""

import argparse
import base64
import os
import socket
import sys

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.zone

import dns_loop

from signed_hierarchy import (ATTACK_SIBLING, FORGED_A, INS3, KID, KID3_A, KID3_AD, KID3_B, KID3_R,
                              KID_AD, KID_DS, KID_NP, UNSIGNED_ELSEWHERE, VICTIM, VICTIM3)

A, CNAME, DS, NS, NSEC, NSEC3, RRSIG, SOA, TXT = (
    dns.rdatatype.A, dns.rdatatype.CNAME, dns.rdatatype.DS, dns.rdatatype.NS, dns.rdatatype.NSEC,
    dns.rdatatype.NSEC3, dns.rdatatype.RRSIG, dns.rdatatype.SOA, dns.rdatatype.TXT)
RAISED_TTL = 604800  # ttl_raised: far above the records' original TTL (300)
_B32HEX = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHIJKLMNOPQRSTUV")


def name(text):
    return text if isinstance(text, dns.name.Name) else dns.name.from_text(text)


def label_of(n):
    """A zone or query name as the tables spell it: lower case, no final dot."""
    return n.to_text().rstrip(".").lower()


# --------------------------------------------------------------------------
# the signed records


class Zones:
    """The signed zone files of --zones DIR, by label."""

    def __init__(self, zdir):
        self.z = {}
        for fn in sorted(os.listdir(zdir)):
            if fn.endswith(".zone"):
                label = fn[: -len(".zone")]
                origin = label.split("@")[0] + "."
                self.z[label] = dns.zone.from_file(os.path.join(zdir, fn), origin,
                                                   relativize=False)

    def rrset(self, label, owner, rdtype, covers=dns.rdatatype.NONE):
        return self.z[label].find_rrset(name(owner), rdtype, covers)

    def signed(self, label, owner, rdtype):
        """[the RRset, its RRSIGs]"""
        return [self.rrset(label, owner, rdtype), self.rrset(label, owner, RRSIG, rdtype)]

    def soa(self, label):
        return self.signed(label, self.z[label].origin, SOA)

    def key_tags(self, label):
        z = self.z[label]
        return {dns.dnssec.key_id(rd) for rd in z.find_rdataset(z.origin, dns.rdatatype.DNSKEY)}

    # NSEC
    def _nsecs(self, label):
        return [(n, rds[0].next) for n, rds in self.z[label].iterate_rdatasets(NSEC)]

    def nsec_covering(self, label, qname):
        """The NSEC with owner < qname < next (the last one: owner < qname)."""
        q = name(qname)
        for owner, nxt in self._nsecs(label):
            if owner < q < nxt or (nxt <= owner and owner < q):
                return self.signed(label, owner, NSEC)
        raise KeyError(f"no NSEC of {label} covers {q}")

    def nsec_ending_at(self, label, qname):
        """The NSEC whose next name is qname: it ends just before qname."""
        q = name(qname)
        for owner, nxt in self._nsecs(label):
            if nxt == q:
                return self.signed(label, owner, NSEC)
        raise KeyError(f"no NSEC of {label} ends at {q}")

    def last_nsec(self, label):
        """The NSEC whose next name is the apex (it wraps around)."""
        return self.nsec_ending_at(label, self.z[label].origin)

    # NSEC3 (hashes as base32hex text, which sorts like the hashes)
    def _nsec3s(self, label):
        out = []
        for owner, rds in self.z[label].iterate_rdatasets(NSEC3):
            rd = rds[0]
            nxt = base64.b32encode(rd.next).decode().translate(_B32HEX)
            out.append((owner, owner.labels[0].decode().upper(), nxt, rd))
        return out

    def nsec3_hash(self, label, qname):
        rd = self._nsec3s(label)[0][3]
        return dns.dnssec.nsec3_hash(name(qname), rd.salt, rd.iterations, rd.algorithm)

    def nsec3(self, label, qname, relation):
        """The NSEC3 of zone `label` that matches qname's hash, covers it
        (owner < hash < next, wrapping at the end) or ends at it (next == hash)."""
        h = self.nsec3_hash(label, qname)
        for owner, own, nxt, _ in self._nsec3s(label):
            last = nxt <= own
            if (relation == "matches" and own == h
                    or relation == "covers" and (own < h < nxt or last and (h > own or h < nxt))
                    or relation == "ends at" and nxt == h):
                return self.signed(label, owner, NSEC3)
        raise KeyError(f"no NSEC3 of {label} {relation} {qname} ({h})")

    def delegation(self, parent, child):
        """The parent's NS RRset for child and the glue A records."""
        ns = self.rrset(parent, child, NS)
        return ns, [self.rrset(parent, rd.target, A) for rd in ns]


# --------------------------------------------------------------------------
# building blocks


class Query:
    def __init__(self, msg):
        self.msg = msg
        self.name = msg.question[0].name.canonicalize()  # lower case: the zones' spelling
        self.rdtype = msg.question[0].rdtype


def reply(q, rcode=dns.rcode.NOERROR, answer=(), authority=(), additional=(), aa=True):
    r = dns.message.make_response(q.msg, our_payload=1232)  # ID and question as asked
    if aa:
        r.flags |= dns.flags.AA
    if q.msg.ednsflags & dns.flags.DO:
        r.want_dnssec(True)
    r.set_rcode(rcode)
    for section, rrsets in ((r.answer, answer), (r.authority, authority),
                            (r.additional, additional)):
        for rrset in rrsets:
            if rrset not in section:  # a record may serve two purposes in a proof
                section.append(rrset)
    return r


def reowned(rrset, owner):
    out = dns.rrset.RRset(name(owner), rrset.rdclass, rrset.rdtype, rrset.covers)
    out.update(rrset)
    return out


def with_rdata(rrset, text):
    return dns.rrset.from_text(rrset.name, rrset.ttl, rrset.rdclass, rrset.rdtype, text)


def edited(sigs, **fields):
    """The RRSIGs with some rdata fields replaced (e.g. algorithm=200)."""
    out = dns.rrset.RRset(sigs.name, sigs.rdclass, RRSIG, sigs.covers)
    out.update_ttl(sigs.ttl)
    for rd in sigs:
        out.add(rd.replace(**fields))
    return out


def with_ttl(rrset, ttl):
    out = reowned(rrset, rrset.name)
    out.ttl = ttl
    return out


# --------------------------------------------------------------------------
# forgeries in victim.sec (NSEC); each docstring says what is sent


def rrsig_unknown_algorithm(q, Z):
    """A changed A record; its only RRSIG, the real one, now says algorithm 200."""
    a, sig = Z.signed(VICTIM, q.name, A)
    return reply(q, answer=[with_rdata(a, FORGED_A), edited(sig, algorithm=200)])


def rrsig_signer_unsigned_zone(q, Z):
    """A changed A record; its only RRSIG names the unsigned insecure.sec as signer."""
    a, sig = Z.signed(VICTIM, q.name, A)
    return reply(q, answer=[with_rdata(a, FORGED_A),
                            edited(sig, signer=name(UNSIGNED_ELSEWHERE + "."))])


def rrsig_wrong_type(q, Z):
    """A changed A record with the name's real RRSIG over its TXT RRset."""
    a = Z.rrset(VICTIM, q.name, A)
    return reply(q, answer=[with_rdata(a, FORGED_A), Z.rrset(VICTIM, q.name, RRSIG, TXT)])


def rrsig_other_owner(q, Z):
    """www's real A RRset and RRSIG (same label count), moved to this name."""
    return reply(q, answer=[reowned(r, q.name) for r in Z.signed(VICTIM, f"www.{VICTIM}", A)])


def rrsig_labels_exceed_owner(q, Z):
    """a.ent's real A RRset and RRSIG (labels 4) moved to this 3-label name."""
    return reply(q, answer=[reowned(r, q.name) for r in Z.signed(VICTIM, f"a.ent.{VICTIM}", A)])


def rrsig_fewer_labels(q, Z):
    """www's real A RRset and RRSIG (labels 3) moved to this 4-label name: it
    looks like an expansion of *.fewer.victim.sec (no denial sent)."""
    return reply(q, answer=[reowned(r, q.name) for r in Z.signed(VICTIM, f"www.{VICTIM}", A)])


def rrsig_removed_key(q, Z):
    """The old A RRset (OLD_A) with its RRSIG by a key no longer in the DNSKEY set."""
    a, sig = Z.signed(VICTIM + "@old", q.name, A)
    gone = dns.rrset.RRset(sig.name, sig.rdclass, RRSIG, A)
    gone.update_ttl(sig.ttl)
    for rd in sig:
        if rd.key_tag not in Z.key_tags(VICTIM):
            gone.add(rd)
    assert len(gone), "the old signing has no RRSIG by the removed key"
    return reply(q, answer=[a, gone])


def rrsig_valid_plus_unknown_algorithm(q, Z):
    """The real A RRset and RRSIG plus a copy of the RRSIG saying algorithm 200
    (must still validate: RFC 6840 5.11, 5.12)."""
    a, sig = Z.signed(VICTIM, q.name, A)
    both = edited(sig, algorithm=200)
    both.update(sig)
    return reply(q, answer=[a, both])


def ttl_raised(q, Z):
    """The real A RRset and RRSIG with the TTL raised from 300 to a week."""
    return reply(q, answer=[with_ttl(r, RAISED_TTL) for r in Z.signed(VICTIM, q.name, A)])


def nx_child_apex_nsec(q, Z):
    """NXDOMAIN: victim.sec's real SOA and kid.victim.sec's apex NSEC (next = itself)."""
    return reply(q, dns.rcode.NXDOMAIN, authority=Z.soa(VICTIM) + Z.signed(KID, KID, NSEC))


def nx_foreign_nsec_no_soa(q, Z):
    """NXDOMAIN: no SOA, only kid.victim.sec's apex NSEC."""
    return reply(q, dns.rcode.NXDOMAIN, authority=Z.signed(KID, KID, NSEC))


def nx_empty_authority(q, Z):
    """NXDOMAIN with an empty authority section."""
    return reply(q, dns.rcode.NXDOMAIN)


def nx_after_cname(q, Z):
    """The real signed CNAME to www, then NXDOMAIN for www with an empty
    authority section."""
    return reply(q, dns.rcode.NXDOMAIN, answer=Z.signed(VICTIM, q.name, CNAME))


def nx_soa_only(q, Z):
    """NXDOMAIN: the real signed SOA, no NSEC."""
    return reply(q, dns.rcode.NXDOMAIN, authority=Z.soa(VICTIM))


def nx_boundary_nsec(q, Z):
    """NXDOMAIN: SOA, the NSEC whose next name is qname, the NSEC denying *.victim.sec."""
    return reply(q, dns.rcode.NXDOMAIN, authority=Z.soa(VICTIM) + Z.nsec_ending_at(VICTIM, q.name)
                 + Z.nsec_covering(VICTIM, f"*.{VICTIM}"))


def nx_empty_non_terminal(q, Z):
    """NXDOMAIN for an empty non-terminal: SOA, the NSEC spanning it (its next
    name is below qname), the NSEC denying *.victim.sec."""
    return reply(q, dns.rcode.NXDOMAIN, authority=Z.soa(VICTIM) + Z.nsec_covering(VICTIM, q.name)
                 + Z.nsec_covering(VICTIM, f"*.{VICTIM}"))


def nx_sibling_last_nsec(q, Z):
    """NXDOMAIN: SOA and the last NSEC of the sibling ecdsa256.sec, whose
    wrap-around span (owner < x, next = its apex) takes in names of victim.sec."""
    return reply(q, dns.rcode.NXDOMAIN, authority=Z.soa(VICTIM) + Z.last_nsec(ATTACK_SIBLING))


def nodata_type_listed(q, Z):
    """NODATA: SOA and the name's own NSEC, whose bitmap lists A."""
    return reply(q, authority=Z.soa(VICTIM) + Z.signed(VICTIM, q.name, NSEC))


def nodata_other_nsec(q, Z):
    """NODATA: SOA and the NSEC of the name before it (next name = qname)."""
    return reply(q, authority=Z.soa(VICTIM) + Z.nsec_ending_at(VICTIM, q.name))


def nodata_soa_only(q, Z):
    """NODATA: the real signed SOA, no NSEC."""
    return reply(q, authority=Z.soa(VICTIM))


def nodata_parent_delegation_nsec(q, Z):
    """NODATA for any type at the child's apex, from the parent: SOA and the
    parent's NSEC at the delegation (NS DS, no SOA, no TXT)."""
    return reply(q, authority=Z.soa(VICTIM) + Z.signed(VICTIM, q.name, NSEC))


def wildcard_over_existing_name(q, Z):
    """*.wild's real A RRset and RRSIG as an expansion for this existing name,
    with the NSEC whose next name is qname as 'no closer match'."""
    a, sig = Z.signed(VICTIM, f"*.wild.{VICTIM}", A)
    return reply(q, answer=[reowned(a, q.name), reowned(sig, q.name)],
                 authority=Z.nsec_ending_at(VICTIM, q.name))


def wildcard_without_proof(q, Z):
    """*.wild's real A RRset and RRSIG as an expansion for this existing name, no NSEC."""
    a, sig = Z.signed(VICTIM, f"*.wild.{VICTIM}", A)
    return reply(q, answer=[reowned(a, q.name), reowned(sig, q.name)])


def nx_wildcard_not_denied(q, Z):
    """NXDOMAIN under *.wild: SOA and the real NSEC covering qname; nothing
    denies the wildcard (it exists)."""
    return reply(q, dns.rcode.NXDOMAIN,
                 authority=Z.soa(VICTIM) + Z.nsec_covering(VICTIM, q.name))


# --------------------------------------------------------------------------
# forgeries in victim3.sec (NSEC3, opt-out)


def nsec3_nx_child_zone(q, Z):
    """NXDOMAIN: SOA, victim3.sec's apex NSEC3 (closest encloser) and the lone
    NSEC3 of kid3a.victim3.sec, which covers every other hash."""
    return reply(q, dns.rcode.NXDOMAIN, authority=Z.soa(VICTIM3)
                 + Z.nsec3(VICTIM3, VICTIM3, "matches") + Z.nsec3(KID3_A, q.name, "covers"))


def nsec3_nodata_type_listed(q, Z):
    """NODATA: SOA and the name's own NSEC3, whose bitmap lists A."""
    return reply(q, authority=Z.soa(VICTIM3) + Z.nsec3(VICTIM3, q.name, "matches"))


def nsec3_nodata_parent_delegation(q, Z):
    """NODATA for any type at the child's apex, from the parent: SOA and the
    parent's NSEC3 matching the delegation (NS DS, no SOA)."""
    return reply(q, authority=Z.soa(VICTIM3) + Z.nsec3(VICTIM3, q.name, "matches"))


def nsec3_optout_deny_delegation(q, Z, top):
    """NXDOMAIN for the unsigned delegation ins.victim3.sec and all below it:
    SOA, apex NSEC3 (closest encloser), the real opt-out NSEC3 covering ins
    (left out of the chain), the NSEC3 covering *.victim3.sec.  All true
    records: opt-out allows this denial (insecure)."""
    return reply(q, dns.rcode.NXDOMAIN, authority=Z.soa(VICTIM3)
                 + Z.nsec3(VICTIM3, VICTIM3, "matches") + Z.nsec3(VICTIM3, top, "covers")
                 + Z.nsec3(VICTIM3, f"*.{VICTIM3}", "covers"))


# --------------------------------------------------------------------------
# DS stripping at a child zone in SUBTREES: a DS query is answered NODATA and
# any other question at or below the cut with a referral without DS;
# `proof(Z, parent label, cut)` gives the "proof" that there is no DS


def strip_ds(proof, signing=""):
    """signing: which signing of the parent the SOA, NS and proof come from
    ("" the one served, "@old" the earlier one)."""
    def build(q, Z, cut):
        parent = label_of(cut.parent()) + signing
        if q.rdtype == DS and q.name == cut:
            return reply(q, authority=Z.soa(parent) + proof(Z, parent, cut))
        ns, glue = Z.delegation(parent, cut)
        return reply(q, authority=[ns, *proof(Z, parent, cut)], additional=glue, aa=False)
    build.__name__ = f"strip_ds({proof.__name__}{', ' + signing if signing else ''})"
    return build


def child_apex_nsec(Z, parent, cut):
    """The child's own apex NSEC (SOA bit, no DS bit, signed by the child)."""
    return Z.signed(label_of(cut), cut, NSEC)


def no_proof(Z, parent, cut):
    """Nothing: no NSEC / NSEC3 at all."""
    return []


def optout_ending_at(Z, parent, cut):
    """The parent's apex NSEC3 (closest encloser) and the opt-out NSEC3 whose
    next hash is the child's: it ends just before it (no NSEC3 of today's
    chain covers a signed child)."""
    apex = Z.z[parent].origin
    return Z.nsec3(parent, apex, "matches") + Z.nsec3(parent, cut, "ends at")


def optout_covering(Z, parent, cut):
    """The parent's apex NSEC3 and the opt-out NSEC3 covering the child (with
    signing "@old": replayed from when the child had no DS; same key, valid)."""
    apex = Z.z[parent].origin
    return Z.nsec3(parent, apex, "matches") + Z.nsec3(parent, cut, "covers")


# --------------------------------------------------------------------------
# the table

FORGERIES = {
    # (query name, type or "*" for every type): builder(q, Zones)
    (f"algo.{VICTIM}", "A"): rrsig_unknown_algorithm,
    (f"signer.{VICTIM}", "A"): rrsig_signer_unsigned_zone,
    (f"wrongtype.{VICTIM}", "A"): rrsig_wrong_type,
    (f"otherowner.{VICTIM}", "A"): rrsig_other_owner,
    (f"more.{VICTIM}", "A"): rrsig_labels_exceed_owner,
    (f"x.fewer.{VICTIM}", "A"): rrsig_fewer_labels,
    (f"replay.{VICTIM}", "A"): rrsig_removed_key,
    (f"multi.{VICTIM}", "A"): rrsig_valid_plus_unknown_algorithm,
    (f"ttl.{VICTIM}", "A"): ttl_raised,
    (f"nxkid.{VICTIM}", "A"): nx_child_apex_nsec,
    (f"nxnosoa.{VICTIM}", "A"): nx_foreign_nsec_no_soa,
    (f"nxempty.{VICTIM}", "A"): nx_empty_authority,
    (f"cname.{VICTIM}", "A"): nx_after_cname,
    (f"nxsoa.{VICTIM}", "A"): nx_soa_only,
    (f"nxedge.{VICTIM}", "A"): nx_boundary_nsec,
    (f"ent.{VICTIM}", "*"): nx_empty_non_terminal,
    (f"nxsib.{VICTIM}", "A"): nx_sibling_last_nsec,
    (f"nodatabit.{VICTIM}", "A"): nodata_type_listed,
    (f"nodataother.{VICTIM}", "A"): nodata_other_nsec,
    (f"nodatasoa.{VICTIM}", "A"): nodata_soa_only,
    (KID_AD, "*"): nodata_parent_delegation_nsec,
    (f"exists.wild.{VICTIM}", "A"): wildcard_over_existing_name,
    (f"exists2.wild.{VICTIM}", "A"): wildcard_without_proof,
    (f"nx.wild.{VICTIM}", "A"): nx_wildcard_not_denied,
    (f"nx3kid.{VICTIM3}", "A"): nsec3_nx_child_zone,
    (f"nodata3.{VICTIM3}", "A"): nsec3_nodata_type_listed,
    (KID3_AD, "*"): nsec3_nodata_parent_delegation,
}

SUBTREES = {
    # name: builder(q, Zones, name) for every question at or below it
    KID_DS: strip_ds(child_apex_nsec),
    KID_NP: strip_ds(no_proof),
    KID3_B: strip_ds(optout_ending_at),
    KID3_R: strip_ds(optout_covering, signing="@old"),
    INS3: nsec3_optout_deny_delegation,
}


def forgery(qname, rdtype):
    """(builder name, function(q, Zones) -> reply) for a question, or None: proxy it."""
    for key in ((label_of(qname), dns.rdatatype.to_text(rdtype)), (label_of(qname), "*")):
        if key in FORGERIES:
            return FORGERIES[key].__name__, FORGERIES[key]
    for top, build in SUBTREES.items():
        t = name(top + ".")
        if qname.is_subdomain(t):
            return build.__name__, lambda q, Z: build(q, Z, t)
    return None


# --------------------------------------------------------------------------
# the server


class Attacker:
    def __init__(self, zones, upstreams, log):
        self.Z = zones
        self.upstreams = upstreams  # listen addr -> honest NSD addr
        self.log = log

    def handle(self, addr, proto, wire):
        """The reply wire for a query wire (None: no reply)."""
        try:
            msg = dns.message.from_wire(wire)
            q = Query(msg) if msg.question else None
        except Exception:
            q = None
        found = forgery(q.name, q.rdtype) if q else None
        if found is None:
            self._log("PROXY", addr, proto, q)
            return self._forward(self.upstreams[addr], proto, wire)
        what, build = found
        try:
            resp = build(q, self.Z)
        except Exception as e:  # a record the builder needs is missing: say so, keep serving
            self._log("BROKEN", addr, proto, q, f"{what}: {e!r}")
            resp = reply(q, dns.rcode.SERVFAIL)
        else:
            self._log("FORGED", addr, proto, q, what)
        if proto == "tcp":
            return resp.to_wire()
        return resp.to_wire(max_size=max(512, msg.payload if msg.edns >= 0 else 512))

    def _log(self, what, addr, proto, q, extra=""):
        if self.log and q is not None:
            self.log.write(f"{what} {addr} {proto} {q.msg.question[0].name} "
                           f"{dns.rdatatype.to_text(q.rdtype)} {extra}".rstrip() + "\n")

    @staticmethod
    def _forward(upstream, proto, wire, timeout=3.0):
        try:
            if proto == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(timeout)
                    s.sendto(wire, (upstream, 53))
                    return s.recv(65535)
            with socket.create_connection((upstream, 53), timeout=timeout) as s:
                s.sendall(len(wire).to_bytes(2, "big") + wire)
                buf = b""
                while len(buf) < 2 or len(buf) < 2 + int.from_bytes(buf[:2], "big"):
                    chunk = s.recv(65535)
                    if not chunk:
                        return None
                    buf += chunk
                return buf[2:2 + int.from_bytes(buf[:2], "big")]
        except OSError:
            return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", action="append", required=True, help="LISTEN=UPSTREAM")
    ap.add_argument("--zones", required=True, help="dir of signed zone files (LABEL.zone)")
    ap.add_argument("--log", default=None)
    opts = ap.parse_args()

    log = open(opts.log, "a", buffering=1) if opts.log else None
    upstreams = dict(p.split("=", 1) for p in opts.proxy)
    attacker = Attacker(Zones(opts.zones), upstreams, log)
    dns_loop.serve(upstreams, attacker.handle)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        pass
    sys.exit(0)
