"""Small assertion helpers shared by the system tests."""

import subprocess
import time

import dns.flags
import dns.name
import dns.rcode
import dns.rdatatype


def show(msg):
    return "\n" + (msg.to_text() if msg is not None else "(no reply)")


def rcode_text(msg):
    return dns.rcode.to_text(msg.rcode())


def find(msg, section, name, rdtype):
    """The RRset of `rdtype` owned by `name` in a section, or None."""
    name = dns.name.from_text(name)
    rdtype = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else rdtype
    for rrset in getattr(msg, section):
        if rrset.name == name and rrset.rdtype == rdtype:
            return rrset
    return None


def rdatas(msg, name, rdtype, section="answer"):
    rrset = find(msg, section, name, rdtype)
    return sorted(r.to_text() for r in rrset) if rrset is not None else []


def assert_rcode(msg, expected):
    exp = dns.rcode.from_text(expected) if isinstance(expected, str) else expected
    assert msg.rcode() == exp, (
        f"expected rcode {dns.rcode.to_text(exp)}, got {rcode_text(msg)}:{show(msg)}")


def assert_answer(msg, name, rdtype, expected):
    assert_rcode(msg, "NOERROR")
    got = rdatas(msg, name, rdtype)
    assert got == sorted(expected), (
        f"{name} {rdtype}: expected {sorted(expected)}, got {got}:{show(msg)}")


def soa_in_authority(msg):
    for rrset in msg.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset
    return None


def has_flag(msg, flag):
    return bool(msg.flags & flag)


class Timer:
    def __enter__(self):
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.monotonic() - self.t0
        return False


def run_dnsq(dnsq, resolver, *args, timeout=10):
    argv = [dnsq, f"@{resolver.addr}", "-p", str(resolver.port), *args]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return p


def dnsq_status(out):
    for line in out.splitlines():
        if "->>HEADER<<-" in line and "status:" in line:
            return line.split("status:")[1].split(",")[0].strip()
    return None


def dnsq_flags(out):
    """The flags of the ';; flags: qr rd ra; QUERY: ...' line, as a set."""
    for line in out.splitlines():
        if line.startswith(";; flags:"):
            return set(line[len(";; flags:"):].split(";")[0].split())
    return None


def dnsq_records(out):
    """Non-comment record lines: list of (owner, ttl, class, type, rdata)."""
    recs = []
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        parts = line.split(None, 4)
        if len(parts) == 5 and parts[1].isdigit():
            recs.append((parts[0].lower(), int(parts[1]), parts[2], parts[3], parts[4]))
    return recs
