"""Seeing what the authoritative side was asked.

`Capture` runs tcpdump on `lo` for DNS queries sent to the authoritative
address range (127.8.0.0/13, port 53), writing a pcap file that is parsed
incrementally here.  To know that everything sent before a point in time has
reached the file, `mark()` sends a marker query (a unique name) to an address
in the captured range where nothing listens and waits until it shows up.

`UpstreamCounter` gives the upstream queries a resolver sent between two
points; it works from the capture (resolver-independent, preferred) or from
resolverd's debug log lines
    upstream query to 127.12.0.1@53: www.alpha.test. A (udp)
"""

import os
import re
import socket
import struct
import subprocess
import time
import uuid
from dataclasses import dataclass

import dns.message
import dns.rdatatype

import procs
from hierarchy import CAPTURE_NET

MARKER_ADDR = "127.9.255.254"
MARKER_SUFFIX = ".marker.invalid."


@dataclass
class Query:
    ts: float
    src: str
    dst: str
    proto: str
    qname: str  # lower case, absolute (trailing dot)
    qtype: str
    rd: bool = False

    def __str__(self):
        return f"{self.dst} {self.proto} {self.qname} {self.qtype}"


def _parse_dns(payload):
    try:
        msg = dns.message.from_wire(payload, question_only=True)
    except Exception:
        return None
    if msg.flags & 0x8000 or not msg.question:  # responses / empty
        return None
    q = msg.question[0]
    return q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype), bool(msg.flags & 0x0100)


class Capture:
    def __init__(self, path, iface="lo"):
        self.path = path
        self.iface = iface
        self.proc = None
        self._offset = 24
        self._header_ok = False
        self.queries = []  # all parsed queries (including markers)
        self._tcp_buf = {}

    def start(self, timeout=10):
        bpf = f"dst net {CAPTURE_NET} and dst port 53 and (udp or tcp)"
        self.errpath = self.path + ".stderr"
        err = open(self.errpath, "w")
        self.proc = procs.start(
            ["tcpdump", "-i", self.iface, "-n", "-U", "--immediate-mode", "-s", "0",
             "-w", self.path, bpf],
            "tcpdump", stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        deadline = time.monotonic() + timeout
        while "listening on" not in open(self.errpath).read():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                msg = open(self.errpath).read()
                self.stop()
                raise RuntimeError(f"tcpdump did not start: {msg}")
            time.sleep(0.05)
        self.mark()  # proves the capture really works
        return self

    def stop(self):
        procs.stop(self.proc)
        self.proc = None

    # -- pcap parsing -----------------------------------------------------
    def _read_new(self):
        try:
            with open(self.path, "rb") as f:
                if not self._header_ok:
                    hdr = f.read(24)
                    if len(hdr) < 24:
                        return
                    magic = struct.unpack("<I", hdr[:4])[0]
                    self._endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
                    self._nsec = magic in (0xA1B23C4D, 0x4D3CB2A1)
                    self._linktype = struct.unpack(self._endian + "I", hdr[20:24])[0]
                    self._header_ok = True
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return
        pos = 0
        while pos + 16 <= len(data):
            sec, frac, incl, _orig = struct.unpack(self._endian + "IIII", data[pos:pos + 16])
            if pos + 16 + incl > len(data):
                break
            pkt = data[pos + 16:pos + 16 + incl]
            pos += 16 + incl
            ts = sec + frac / (1e9 if self._nsec else 1e6)
            self._packet(ts, pkt)
        self._offset += pos

    def _packet(self, ts, pkt):
        if self._linktype == 1:  # Ethernet
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                return
            ip = pkt[14:]
        elif self._linktype in (0, 108):  # NULL / LOOP
            ip = pkt[4:]
        elif self._linktype == 113:  # Linux SLL
            ip = pkt[16:]
        else:
            ip = pkt
        if len(ip) < 20 or ip[0] >> 4 != 4:
            return
        ihl = (ip[0] & 15) * 4
        proto = ip[9]
        src = socket.inet_ntoa(ip[12:16])
        dst = socket.inet_ntoa(ip[16:20])
        body = ip[ihl:]
        if proto == 17 and len(body) >= 8:
            parsed = _parse_dns(body[8:])
            if parsed:
                self.queries.append(Query(ts, src, dst, "udp", *parsed))
        elif proto == 6 and len(body) >= 20:
            off = (body[12] >> 4) * 4
            payload = body[off:]
            if not payload:
                return
            sport = struct.unpack("!H", body[0:2])[0]
            key = (src, sport, dst)
            buf = self._tcp_buf.get(key, b"") + payload
            while len(buf) >= 2:
                n = struct.unpack("!H", buf[:2])[0]
                if len(buf) < 2 + n:
                    break
                parsed = _parse_dns(buf[2:2 + n])
                if parsed:
                    self.queries.append(Query(ts, src, dst, "tcp", *parsed))
                buf = buf[2 + n:]
            self._tcp_buf[key] = buf

    # -- markers ----------------------------------------------------------
    def mark(self, timeout=5.0):
        """Return the index in self.queries of a fresh marker; every packet
        sent before this call is before that index."""
        name = f"m{uuid.uuid4().hex[:12]}{MARKER_SUFFIX}"
        q = dns.message.make_query(name, "A")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(q.to_wire(), (MARKER_ADDR, 53))
        deadline = time.monotonic() + timeout
        while True:
            self._read_new()
            for i in range(len(self.queries) - 1, -1, -1):
                if self.queries[i].qname == name:
                    return i
            if time.monotonic() > deadline:
                raise TimeoutError("capture marker never appeared (is tcpdump capturing lo?)")
            time.sleep(0.02)

    def between(self, start, end):
        return [q for q in self.queries[start + 1:end] if not q.qname.endswith(MARKER_SUFFIX)]

    def text(self):
        """tcpdump's own rendering, for failure messages."""
        try:
            out = subprocess.run(["tcpdump", "-r", self.path, "-n"], capture_output=True,
                                 text=True, timeout=20).stdout
        except Exception as e:  # pragma: no cover
            out = f"(tcpdump -r failed: {e})"
        return out


LOG_RE = re.compile(r"upstream query to (\S+?)[@#:](\d+): (\S+) (\S+) \((udp|tcp)\)")


def parse_log_queries(text):
    out = []
    for m in LOG_RE.finditer(text):
        name = m.group(3).lower()
        if not name.endswith("."):
            name += "."
        out.append(Query(0.0, "", m.group(1), m.group(5), name, m.group(4).upper()))
    return out


class UpstreamCounter:
    """Upstream queries of one resolver between start() and stop()."""

    def __init__(self, capture=None, log_path=None):
        if capture is None and log_path is None:
            raise ValueError("need a capture or a resolverd log")
        self.capture = capture
        self.log_path = log_path

    def mark(self):
        if self.capture is not None:
            return self.capture.mark()
        time.sleep(0.05)
        return os.path.getsize(self.log_path)

    def since(self, start):
        """Upstream queries between mark `start` and now."""
        if self.capture is not None:
            end = self.capture.mark()
            return self.capture.between(start, end)
        with open(self.log_path, errors="replace") as f:
            f.seek(start)
            return parse_log_queries(f.read())

    def window(self):
        return _Window(self)


class _Window:
    def __init__(self, counter):
        self.counter = counter
        self.queries = None

    def __enter__(self):
        self.start = self.counter.mark()
        return self

    def __exit__(self, *exc):
        self.queries = self.counter.since(self.start)
        return False

    def describe(self):
        return "\n".join("  " + str(q) for q in self.queries) or "  (none)"
