"""The socket loop shared by the test bed's scriptable DNS servers.

hostile_server.py and dnssec_attacker.py differ in what they answer, not in how
they listen: UDP and TCP (RFC 7766 two-octet length framing) on port 53 of each
address, one process, selectors, SIGTERM to stop.  `serve` runs that loop and calls
`handle(addr, proto, wire)` for every query, sending back the bytes it returns
(None: no reply).  `hold_tcp(addr)`: accept TCP connections on that address and
keep them open without ever reading (a server that blackholes TCP too).

Besides bytes, `handle` may return one of the misbehaviours below (the fault
injection benchmark's hostile authorities use them):
  Drip(wire, chunk, interval)  TCP: send the framed reply `chunk` bytes every
                               `interval` seconds (a slow-drip server), then keep
                               the connection open until the peer closes it
  Close(prefix=b"")            TCP: send `prefix` (raw bytes, e.g. half a length
                               field) and close the connection
  OtherPort(wire)              UDP: send the reply from another socket, so it comes
                               from the right address but a wrong source port
"""

import heapq
import itertools
import selectors
import signal
import socket
import time


class Drip:
    def __init__(self, wire, chunk=2, interval=0.5):
        self.data = len(wire).to_bytes(2, "big") + wire
        self.chunk = chunk
        self.interval = interval


class Close:
    def __init__(self, prefix=b""):
        self.prefix = prefix


class OtherPort:
    def __init__(self, wire):
        self.wire = wire


def _listen(addr, port):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind((addr, port))
    udp.setblocking(False)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, port))
    tcp.listen(64)
    tcp.setblocking(False)
    return udp, tcp


def serve(addresses, handle, hold_tcp=lambda addr: False, port=53):
    """Serves until SIGTERM or SIGINT; prints "ready" once every socket is bound."""
    sel = selectors.DefaultSelector()
    held = []  # connections kept open on purpose
    timers = []  # heap of (deadline, seq, callback)
    seq = itertools.count()
    other_ports = {}  # addr -> a second UDP socket on that address (any port)
    for addr in addresses:
        udp, tcp = _listen(addr, port)
        sel.register(udp, selectors.EVENT_READ, ("udp", addr, None))
        sel.register(tcp, selectors.EVENT_READ, ("listen", addr, None))

    def stop(*_):
        raise SystemExit(0)

    def close(sock):
        try:
            sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()

    def drip(sock, data, chunk, interval):
        if sock.fileno() < 0:
            return
        try:
            sock.send(data[:chunk])
        except OSError:
            close(sock)
            return
        if len(data) > chunk:
            heapq.heappush(timers, (time.monotonic() + interval, next(seq),
                                    lambda: drip(sock, data[chunk:], chunk, interval)))

    def other_port(addr):
        if addr not in other_ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((addr, 0))
            s.setblocking(False)
            other_ports[addr] = s
        return other_ports[addr]

    def reply_tcp(sock, out):
        if isinstance(out, Drip):
            drip(sock, out.data, out.chunk, out.interval)
        elif isinstance(out, Close):
            if out.prefix:
                sock.send(out.prefix)
            close(sock)
        else:
            sock.setblocking(True)
            sock.sendall(len(out).to_bytes(2, "big") + out)
            sock.setblocking(False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)

    while True:
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            heapq.heappop(timers)[2]()
        timeout = max(0.0, timers[0][0] - now) if timers else None
        for key, _ in sel.select(timeout):
            kind, addr, buf = key.data
            sock = key.fileobj
            try:
                if kind == "udp":
                    wire, peer = sock.recvfrom(65535)
                    out = handle(addr, "udp", wire)
                    if isinstance(out, OtherPort):
                        other_port(addr).sendto(out.wire, peer)
                    elif out is not None:
                        sock.sendto(out, peer)
                elif kind == "listen":
                    conn, _ = sock.accept()
                    if hold_tcp(addr):
                        held.append(conn)
                        continue
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ, ("tcp", addr, bytearray()))
                else:
                    chunk = sock.recv(65535)
                    if not chunk:
                        close(sock)
                        continue
                    buf.extend(chunk)
                    while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                        n = int.from_bytes(buf[:2], "big")
                        wire = bytes(buf[2:2 + n])
                        del buf[:2 + n]
                        out = handle(addr, "tcp", wire)
                        if out is not None:
                            reply_tcp(sock, out)
                        if sock.fileno() < 0:
                            break
            except (BlockingIOError, ConnectionError, OSError):
                continue
