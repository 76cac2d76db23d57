"""A signed root whose KSK is rolled during a test (test_service.py): RFC 5011.

One root zone, signed by ldns-signzone with keys made by ldns-keygen (and revoked
by ldns-revoke), served by NSD on 127.22.0.2 behind recording_proxy.py on
127.22.0.1, which is the root server the resolver knows (root hints) and which
writes down every query (RFC 8145 checks).  Every record, the DNSKEY RRset
included, has a TTL of 2 s so that a resolver with RFC 5011's lab settings
(hold-down of a few seconds, 1 s refresh floor) sees each change at once.

The phases of an RFC 5011 KSK rollover (set_phase restarts NSD with that zone):
  1  DNSKEY {KSK1, ZSK}                 signed by KSK1         (the trust anchor: KSK1's DS)
  2  DNSKEY {KSK1, KSK2, ZSK}           signed by KSK1, KSK2   (KSK2 published: AddPend)
  3  DNSKEY {KSK1+REVOKE, KSK2, ZSK}    signed by both         (KSK1 revoked, self-signed)
  4  DNSKEY {KSK2, ZSK}                 signed by KSK2         (KSK1 gone)
The zone holds NAMES (name.rollover-test. A) for answers to check in each phase.

Address plan: 127.22.0.1 the proxy (the root server as resolvers see it),
127.22.0.2 NSD.  Resolvers under test: 127.53.20.x (test_service.py).
"""

import json
import os
import shutil
import subprocess
import sys
import time

import dns.dnssec
import dns.rdata
import dns.rdataclass
import dns.rdatatype

import procs
from hierarchy import HERE, NsdGroup, _answers
from signed_hierarchy import LDNS_SIGNZONE, Key

PROXY_ADDR = "127.22.0.1"
NSD_ADDR = "127.22.0.2"
LDNS_REVOKE = "/usr/bin/ldns-revoke"
TTL = 2
NAMES = {f"n{i}.rollover-test.": f"192.0.2.{60 + i}" for i in range(1, 9)}


def _dnskey_line(text):
    """A .key file's DNSKEY line with the zone's TTL."""
    line = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(";")][0]
    rdata = line.split(";")[0].split("DNSKEY", 1)[1].strip()
    return f". {TTL} IN DNSKEY {rdata}\n"


class RolloverRoot:
    def __init__(self, base):
        self.base = base
        self.keydir = os.path.join(base, "keys")
        os.makedirs(self.keydir, exist_ok=True)
        self.root_hints = os.path.join(base, "root.hints")
        self.trust_anchor = os.path.join(base, "root.anchor")
        self.proxy_log = os.path.join(base, "proxy.log")
        self.ksk1 = Key(self.keydir, ".", 13, ksk=True)
        self.ksk2 = Key(self.keydir, ".", 13, ksk=True)
        self.zsk = Key(self.keydir, ".", 13, ksk=False)
        # KSK1 with the REVOKE bit: the same key pair, its .key rewritten by ldns-revoke.
        self.revoked_base = os.path.join(self.keydir, "revoked-ksk1")
        shutil.copy(self.ksk1.base + ".key", self.revoked_base + ".key")
        shutil.copy(self.ksk1.base + ".private", self.revoked_base + ".private")
        subprocess.run([LDNS_REVOKE, self.revoked_base + ".key"], check=True, capture_output=True, text=True)
        self.revoked_line = _dnskey_line(open(self.revoked_base + ".key").read())
        self.revoked_tag = self._tag_of(self.revoked_line)
        with open(self.trust_anchor, "w") as f:
            f.write(f". {TTL} IN DS {self.ksk1.ds().to_text()}\n")
        with open(self.root_hints, "w") as f:
            f.write(". 3600000 IN NS a.root-servers.net.\n")
            f.write(f"a.root-servers.net. 3600000 IN A {PROXY_ADDR}\n")
        self.phase = None
        self.serial = 0
        self.nsd = None
        self.proxy = None

    @staticmethod
    def _tag_of(line):
        rdata = line.split("DNSKEY", 1)[1].strip()
        return dns.dnssec.key_id(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, rdata))

    def _zone_text(self, phase):
        self.serial += 1
        z = f"$TTL {TTL}\n"
        z += f". {TTL} IN SOA a.root-servers.net. hostmaster.root-servers.net. {self.serial} 3600 900 604800 {TTL}\n"
        z += f". {TTL} IN NS a.root-servers.net.\na.root-servers.net. {TTL} IN A {PROXY_ADDR}\n"
        for name, address in NAMES.items():
            z += f"{name} {TTL} IN A {address}\n"
        keys = {1: [self.ksk1.base, self.zsk.base],
                2: [self.ksk1.base, self.ksk2.base, self.zsk.base],
                3: [self.revoked_base, self.ksk2.base, self.zsk.base],
                4: [self.ksk2.base, self.zsk.base]}[phase]
        for base in keys:
            z += _dnskey_line(open(base + ".key").read())
        return z, keys

    def _sign(self, phase):
        text, keys = self._zone_text(phase)
        src = os.path.join(self.base, f"root-phase{phase}")
        with open(src + ".zone", "w") as f:
            f.write(text)
        now = int(time.time())
        # -d: the DNSKEY records are in the text (with the zone's TTL), not added again.
        argv = [LDNS_SIGNZONE, "-d", "-i", time.strftime("%Y%m%d%H%M%S", time.gmtime(now - 3600)),
                "-e", time.strftime("%Y%m%d%H%M%S", time.gmtime(now + 30 * 86400)),
                "-o", ".", "-f", src + ".signed", src + ".zone", *keys]
        subprocess.run(argv, check=True, capture_output=True, text=True)
        return open(src + ".signed").read()

    def start(self):
        err = open(os.path.join(self.base, "proxy.stderr"), "w")
        self.proxy = procs.start([sys.executable, os.path.join(HERE, "recording_proxy.py"), "--listen", PROXY_ADDR,
                                  "--upstream", NSD_ADDR, "--log", self.proxy_log],
                                 "recording proxy", stdout=err, stderr=subprocess.STDOUT)
        err.close()
        self.set_phase(1)
        return self

    def set_phase(self, phase, timeout=15.0):
        """Serves the zone of `phase` (NSD restarted with it)."""
        signed = self._sign(phase)
        if self.nsd is not None:
            self.nsd.stop()
        group = NsdGroup(f"rollover-{phase}-{self.serial}", [NSD_ADDR], {".": signed})
        group.write(os.path.join(self.base, "nsd"))
        group.start()
        self.nsd = group
        deadline = time.monotonic() + timeout
        while not _answers(NSD_ADDR, ".", "SOA", "IN"):
            if group.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"NSD for phase {phase} not answering:\n{group.log()}")
            time.sleep(0.05)
        while not _answers(PROXY_ADDR, ".", "SOA", "IN"):
            if self.proxy.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("recording proxy not answering:\n" +
                                   open(os.path.join(self.base, "proxy.stderr")).read())
            time.sleep(0.05)
        self.phase = phase

    def queries(self, src=None):
        """What the proxy saw (dicts, see recording_proxy.py), optionally from one source."""
        if not os.path.exists(self.proxy_log):
            return []
        out = []
        for line in open(self.proxy_log):
            entry = json.loads(line)
            if src is None or entry.get("src") == src:
                out.append(entry)
        return out

    def stop(self):
        if self.nsd is not None:
            self.nsd.stop()
            self.nsd = None
        procs.stop(self.proxy)
        self.proxy = None
