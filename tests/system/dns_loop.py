"""The socket loop shared by the test bed's scriptable DNS servers.

hostile_server.py and dnssec_attacker.py differ in what they answer, not in how
they listen: UDP and TCP (RFC 7766 two-octet length framing) on port 53 of each
address, one process, selectors, SIGTERM to stop.  `serve` runs that loop and calls
`handle(addr, proto, wire)` for every query, sending back the bytes it returns
(None: no reply).  `hold_tcp(addr)`: accept TCP connections on that address and
keep them open without ever reading (a server that blackholes TCP too).
"""

import selectors
import signal
import socket


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
    for addr in addresses:
        udp, tcp = _listen(addr, port)
        sel.register(udp, selectors.EVENT_READ, ("udp", addr, None))
        sel.register(tcp, selectors.EVENT_READ, ("listen", addr, None))

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)

    while True:
        for key, _ in sel.select():
            kind, addr, buf = key.data
            sock = key.fileobj
            try:
                if kind == "udp":
                    wire, peer = sock.recvfrom(65535)
                    out = handle(addr, "udp", wire)
                    if out is not None:
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
                        sel.unregister(sock)
                        sock.close()
                        continue
                    buf.extend(chunk)
                    while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                        n = int.from_bytes(buf[:2], "big")
                        wire = bytes(buf[2:2 + n])
                        del buf[:2 + n]
                        out = handle(addr, "tcp", wire)
                        if out is not None:
                            sock.setblocking(True)
                            sock.sendall(len(out).to_bytes(2, "big") + out)
                            sock.setblocking(False)
            except (BlockingIOError, ConnectionError, OSError):
                continue
