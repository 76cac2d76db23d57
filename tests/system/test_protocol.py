"""Protocol behaviour of the resolver's own server side."""

import socket
import struct

import dns.message
import dns.rcode

import hierarchy as H
from helpers import assert_answer, assert_rcode, rdatas, show


def _header(qid, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def _question(name="www.alpha.test.", qtype=1):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return wire + struct.pack("!HH", qtype, 1)


def _still_answers(resolver):
    r = resolver.query("www.alpha.test", "A", timeout=3)
    assert_answer(r, "www.alpha.test", "A", [H.www_a("alpha.test")])


def test_malformed_packets_formerr_or_dropped(resolver):
    garbage = [
        b"\x12",                                    # shorter than a header
        _header(0x1234, 0x0100)[:11],               # truncated header
        _header(0x1235, 0x0100),                    # QDCOUNT=1, no question
        _header(0x1236, 0x0100) + b"\x03www\x05alp",  # question cut in a label
        _header(0x1237, 0x0100) + b"\xc0\x0c\x00\x01\x00\x01",  # pointer to itself
        _header(0x1238, 0x0100) + b"\x3f" + b"a" * 20,  # label longer than the packet
        _header(0x1239, 0x0100, an=5) + _question(),  # claims answers it lacks
        bytes(range(256)) * 2,
    ]
    for wire in garbage:
        reply = resolver.send_raw_udp(wire, timeout=0.5)
        if reply is not None and len(reply) >= 12:
            rcode = reply[3] & 0x0F
            assert reply[2] & 0x80, f"reply to {wire[:16]!r} is not a response"
            assert rcode in (dns.rcode.FORMERR, dns.rcode.SERVFAIL, dns.rcode.REFUSED,
                             dns.rcode.NOTIMP), (
                f"malformed {wire[:16]!r}...: expected FORMERR (or no reply), rcode {rcode}")
        assert resolver.alive(), f"resolver died on malformed input {wire[:16]!r}"
    _still_answers(resolver)


def test_malformed_formerr_for_cut_question(resolver, ours_only):
    reply = resolver.send_raw_udp(_header(0x4242, 0x0100) + b"\x03www\x05alp", timeout=1)
    _still_answers(resolver)
    ours_only("unbound drops some malformed packets instead of answering FORMERR")
    assert reply is not None, "a parsable header with a bad question should get FORMERR"
    assert reply[:2] == b"\x42\x42" and reply[3] & 0x0F == dns.rcode.FORMERR, reply.hex()


def test_qdcount_two_formerr(resolver):
    wire = _header(0x5151, 0x0100, qd=2) + _question("www.alpha.test.") + \
        _question("www.beta.test.")
    reply = resolver.send_raw_udp(wire, timeout=2)
    assert reply is not None, "QDCOUNT=2 got no reply (expected FORMERR)"
    msg = dns.message.from_wire(reply, question_only=True, ignore_trailing=True) \
        if len(reply) > 12 else None
    rcode = reply[3] & 0x0F
    assert reply[:2] == b"\x51\x51", "reply ID must match"
    assert rcode == dns.rcode.FORMERR, f"QDCOUNT=2: expected FORMERR, got {rcode}"
    _still_answers(resolver)


def test_unknown_opcode_notimp(resolver):
    for opcode in (3, 7, 15):
        wire = _header(0x6000 + opcode, (opcode << 11) | 0x0100) + _question()
        reply = resolver.send_raw_udp(wire, timeout=2)
        assert reply is not None, f"opcode {opcode}: no reply (expected NOTIMP)"
        assert reply[:2] == wire[:2], "reply ID must match"
        assert reply[3] & 0x0F == dns.rcode.NOTIMP, (
            f"opcode {opcode}: expected NOTIMP, got rcode {reply[3] & 0x0F}")
    _still_answers(resolver)


def test_qtype_any_minimal(resolver, ours_only):
    """RFC 8482: ANY gets a minimal answer, not every RRset at the name.
    www.alpha.test has A, AAAA, TXT and HINFO."""
    r = resolver.query("www.alpha.test", "ANY")
    assert r.rcode() in (0,), f"ANY should be answered NOERROR:{show(r)}"
    # unbound passes ANY through to NSD, which returns every RRset.
    ours_only("unbound forwards ANY and returns all RRsets")
    types = {rr.rdtype for rr in r.answer}
    assert r.answer, f"ANY: expected a minimal (non-empty) answer:{show(r)}"
    assert len(types) < 4, f"ANY must not return all four RRsets (RFC 8482):{show(r)}"


def test_access_control_refused(make_resolver):
    res = make_resolver(access_control=["127.0.0.1/32 allow", "127.0.0.0/8 refuse"])
    ok = res.query("www.alpha.test", "A", source="127.0.0.1")
    assert_answer(ok, "www.alpha.test", "A", [H.www_a("alpha.test")])
    bad = res.query("www.alpha.test", "A", source="127.77.0.1")
    assert_rcode(bad, "REFUSED")
    assert not bad.answer, f"a refused client must get no data:{show(bad)}"


def test_rd0_refused_unless_allow_snoop(make_resolver, resolver_kind):
    """access-control `allow` serves RD=1 only: RD=0 (cache snooping) is REFUSED, even
    for a cached name, as unbound does; `allow-snoop` answers it from the cache."""
    res = make_resolver(access_control=["127.0.0.1/32 allow-snoop", "127.0.0.0/8 allow"])
    assert_answer(res.query("www.alpha.test", "A", source="127.0.0.1"),
                  "www.alpha.test", "A", [H.www_a("alpha.test")])
    for tcp in (False, True):
        snoop = res.query("www.alpha.test", "A", rd=False, tcp=tcp, source="127.77.0.1")
        assert_rcode(snoop, "REFUSED")
        assert not snoop.answer and not snoop.authority, f"RD=0 from an allow client got data:{show(snoop)}"
        assert snoop.edns >= 0, f"an EDNS query's reply must carry an OPT record (RFC 6891 7):{show(snoop)}"
        if resolver_kind != "unbound":
            codes = [o.code for o in snoop.options if o.otype == 15]
            assert codes == [18], f"expected EDE 18 (Prohibited):{show(snoop)}"
    recursive = res.query("www.alpha.test", "A", source="127.77.0.1")
    assert_answer(recursive, "www.alpha.test", "A", [H.www_a("alpha.test")])
    allowed = res.query("www.alpha.test", "A", rd=False, source="127.0.0.1")
    assert_answer(allowed, "www.alpha.test", "A", [H.www_a("alpha.test")])


def test_tcp_pipelining(resolver):
    names = [f"www.{z}" for z in list(H.LEAVES)[:4]] + ["host7.alpha.test"]
    queries = {}
    payload = b""
    for i, n in enumerate(names):
        q = dns.message.make_query(n, "A")
        q.id = 0x7000 + i
        queries[q.id] = n
        w = q.to_wire()
        payload += struct.pack("!H", len(w)) + w
    got = {}
    with socket.create_connection((resolver.addr, resolver.port), timeout=5) as s:
        s.sendall(payload)  # all five back to back before reading anything
        buf = b""
        while len(got) < len(names):
            chunk = s.recv(65535)
            assert chunk, f"connection closed after {len(got)} of {len(names)} answers"
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                n = struct.unpack("!H", buf[:2])[0]
                msg = dns.message.from_wire(buf[2:2 + n])
                buf = buf[2 + n:]
                got[msg.id] = msg
    assert set(got) == set(queries), f"answer IDs {sorted(got)} != query IDs {sorted(queries)}"
    for qid, name in queries.items():
        msg = got[qid]
        assert msg.question[0].name.to_text() == name + ".", f"ID {qid} answers another name"
        assert msg.rcode() == 0 and rdatas(msg, name, "A"), f"{name}:{show(msg)}"
