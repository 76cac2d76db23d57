#!/usr/bin/python3
"""A hostile DNS-over-HTTPS server (RFC 8484, HTTP/2 with python3-h2) for the
forwarding tests in test_tls_attacks.py.

Started as a subprocess and stopped by PID (SIGTERM), like hostile_server.py.
It speaks TLS with the test CA's certificate (ALPN h2) and answers every POST
with an A record for the question name.  The first label of the question name
chooses how, so that one server holds every case:

  honest         200, content-type application/dns-message, A 192.0.2.55
  params         200, "Application/DNS-Message; charset=binary": the same media
                 type in another case, with a parameter (RFC 9110 8.3.1), A 192.0.2.55
and the forgeries, each carrying A 192.0.2.66 in a DNS reply that would pass if
the check it aims at were missing:
  status404, status500, status302   that HTTP status (302 with a location)
  ctype-evil     content-type application/dns-message-evil
  ctype-x        content-type application/dns-messagex
  ctype-none     no content-type
  ctype-text     content-type text/html
  ctype-twice    two content-type fields: text/html, then application/dns-message
  ctype-trailer  no content-type; a trailer field content-type
                 application/dns-message after the body
  ctype-early    a 103 (informational) response with content-type
                 application/dns-message, then a 200 with none
  oversize       a valid DNS reply of more than 65535 octets (4500 A records);
                 resolverd's message parser refuses it too (its offsets are 16 bits),
                 so the size bound itself is shown by doh_message_test.cc
  unopened       the reply on a stream the client never opened (an odd stream id
                 100 ahead), nothing on the stream it asked on

Every response is logged to --log as one line "MODE QNAME" once it is sent."""

import argparse
import signal
import socket
import ssl
import struct
import sys
import threading

import dns.message
import dns.rrset
import h2.config
import h2.connection
import h2.events
import h2.exceptions
import hpack

HONEST = "192.0.2.55"
FORGED = "192.0.2.66"
DNS_MESSAGE = "application/dns-message"

# mode -> (status, header list, trailer list)
PLAIN_MODES = {
    "honest": (200, [("content-type", DNS_MESSAGE)], None),
    "params": (200, [("content-type", "Application/DNS-Message; charset=binary")], None),
    "status404": (404, [("content-type", DNS_MESSAGE)], None),
    "status500": (500, [("content-type", DNS_MESSAGE)], None),
    "status302": (302, [("content-type", DNS_MESSAGE), ("location", "https://dns.test/elsewhere")], None),
    "ctype-evil": (200, [("content-type", "application/dns-message-evil")], None),
    "ctype-x": (200, [("content-type", "application/dns-messagex")], None),
    "ctype-none": (200, [], None),
    "ctype-text": (200, [("content-type", "text/html")], None),
    "ctype-twice": (200, [("content-type", "text/html"), ("content-type", DNS_MESSAGE)], None),
    # No content-type in the response's own fields: only taking trailers for them
    # (RFC 9110 6.5.1) would let it through.
    "ctype-trailer": (200, [], [("content-type", DNS_MESSAGE)]),
    "oversize": (200, [("content-type", DNS_MESSAGE)], None),
}
MODES = sorted(list(PLAIN_MODES) + ["ctype-early", "unopened"])


def reply_wire(query_wire, mode):
    query = dns.message.from_wire(query_wire)
    reply = dns.message.make_response(query)  # ID 0 as asked (RFC 8484 4.1), the question repeated
    name = query.question[0].name
    reply.answer.append(dns.rrset.from_text(name, 300, "IN", "A", HONEST if mode in ("honest", "params")
                                            else FORGED))
    wire = reply.to_wire()
    if mode == "oversize":
        # A valid message past 65535 octets (dnspython will not render one): without
        # EDNS the answer section ends the message, and 4500 more A records follow it,
        # 16 octets each, their owner a pointer to the question name.
        reply.use_edns(False)
        wire = reply.to_wire()
        count = 4500
        records = b"".join(struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + bytes([192, 0, i // 256, i % 256])
                           for i in range(count))
        ancount = struct.unpack("!H", wire[6:8])[0] + count
        wire = wire[:6] + struct.pack("!H", ancount) + wire[8:] + records
    return wire


def frame(kind, flags, stream_id, payload):
    """One raw HTTP/2 frame (RFC 9113 4.1)."""
    return struct.pack("!I", len(payload))[1:] + bytes([kind, flags]) + struct.pack("!I", stream_id) + payload


class Connection:
    def __init__(self, sock, log):
        self.sock = sock
        self.log = log
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
        self.bodies = {}    # stream id -> request body so far
        self.outgoing = {}  # stream id -> [body left, trailers]

    def run(self):
        self.conn.initiate_connection()
        self.flush()
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            try:
                events = self.conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                return
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    self.bodies[event.stream_id] = b""
                elif isinstance(event, h2.events.DataReceived):
                    self.bodies[event.stream_id] = self.bodies.get(event.stream_id, b"") + event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    if not self.respond(event.stream_id, self.bodies.pop(event.stream_id, b"")):
                        return
            self.send_bodies()
            self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def respond(self, stream_id, query_wire):
        """False: the connection is spent (the client must drop it)."""
        query = dns.message.from_wire(query_wire)
        qname = query.question[0].name.to_text()
        mode = qname.split(".")[0].lower()
        if mode not in MODES:
            mode = "honest"
        body = reply_wire(query_wire, mode)
        if mode == "unopened":
            # HEADERS and DATA on a stream id the client has not used yet, encoded with
            # a fresh HPACK context (the client must drop the connection anyway).
            self.flush()
            block = hpack.Encoder().encode([(":status", "200"), ("content-type", DNS_MESSAGE),
                                            ("content-length", str(len(body)))])
            # Far enough ahead that the client cannot have opened it for another query
            # of the same question meanwhile (that would be a true answer to that one).
            other = stream_id + 100
            # Noted before the reply leaves: a test reads the log as soon as it has the answer.
            self.note(mode, qname)
            self.sock.sendall(frame(0x1, 0x4, other, block) + frame(0x0, 0x1, other, body))
            return True
        if mode == "ctype-early":
            self.conn.send_headers(stream_id, [(":status", "103"), ("content-type", DNS_MESSAGE)])
            self.conn.send_headers(stream_id, [(":status", "200"), ("content-length", str(len(body)))])
            self.outgoing[stream_id] = [body, None]
        else:
            status, headers, trailers = PLAIN_MODES[mode]
            self.conn.send_headers(stream_id, [(":status", str(status))] + headers +
                                   [("content-length", str(len(body)))])
            self.outgoing[stream_id] = [body, trailers]
        # Noted before the reply leaves: a test reads the log as soon as it has the answer.
        self.note(mode, qname)
        self.send_bodies()
        self.flush()
        return True

    def send_bodies(self):
        for stream_id in list(self.outgoing):
            body, trailers = self.outgoing[stream_id]
            try:
                while body:
                    size = min(len(body), self.conn.local_flow_control_window(stream_id),
                               self.conn.max_outbound_frame_size)
                    if size <= 0:
                        break
                    self.conn.send_data(stream_id, body[:size])
                    body = body[size:]
                self.outgoing[stream_id][0] = body
                if body:
                    continue
                if trailers:
                    self.conn.send_headers(stream_id, trailers, end_stream=True)
                else:
                    self.conn.end_stream(stream_id)
            except h2.exceptions.StreamClosedError:
                pass  # the client reset it (too large for it, say)
            del self.outgoing[stream_id]

    def note(self, mode, qname):
        with self.log[1]:
            self.log[0].write(f"{mode} {qname}\n")
            self.log[0].flush()


def serve(addr, port, cert, key, log_path):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["h2"])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((addr, port))
    listener.listen(16)
    log = (open(log_path, "a"), threading.Lock())

    def handle(raw):
        try:
            with context.wrap_socket(raw, server_side=True) as sock:
                Connection(sock, log).run()
        except (OSError, ssl.SSLError):
            pass

    while True:
        raw, _ = listener.accept()
        threading.Thread(target=handle, args=(raw,), daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--addr", required=True)
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(args.addr, args.port, args.cert, args.key, args.log)


if __name__ == "__main__":
    main()
