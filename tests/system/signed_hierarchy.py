"""A separate, DNSSEC-signed DNS hierarchy for the validation tests.

Its own root "." (KSK + ZSK), a signed TLD "sec." (KSK + ZSK) and one
delegation per case below it: secure zones for every algorithm (NSEC, and
NSEC3 as nsec3-<alg>.sec), NSEC3 zones, an insecure delegation, and
deliberately broken zones.  Keys are generated at start (ldns-keygen,
dnssec-keygen is not needed) and zones are signed with ldns-signzone, or
dnssec-signzone (bind9-utils) for the NSEC3 opt-out zone,
whose unsigned delegation needs to be left out of the NSEC3 chain.  Nothing
here is resolverd code: the tests trust only these external tools.

The broken zones are made by editing the signed zone text (see BREAKAGES);
`DS_EDITS` changes what the parent publishes.  The resolver gets
`root_hints` and `trust_anchor` (the root KSK's DS) from here.

Address plan (IPv4 loopback, port 53; the old hierarchy uses 127.8-127.15):
  127.20.0.1-2   root "."           (one NSD)
  127.20.1.1-2   sec.               (one NSD)
  127.20.2.N     leaf zones under sec., one address each, N = position in
                 LEAVES (1-21: NSEC per algorithm, nsec3, optout, insecure,
                 broken; 22-27: nsec3-<alg>.sec, NSEC3 per algorithm); one
                 NSD for all of them: siblings only, so no server is asked
                 for a child of a zone it serves
  127.20.3.1     unsigned.optout.sec (unsigned, below the opt-out zone)
  127.20.4.N     CHAIN_ZONES (test_dnssec_chains.py), one NSD for all of them:
                 chain-a.sec (secure: CNAMEs out, DNAMEs, RFC 8509 sentinel
                 names), chain-b.sec (secure), chain-u.sec (unsigned, no DS),
                 aggr.sec (secure NSEC, few names: RFC 8198 aggressive NSEC)
  127.20.5.1-2   ATTACK_ZONES victim.sec, victim3.sec as they really are
                 (one NSD): the honest copies nobody delegates to
  127.20.5.N     their signed (and one unsigned) children, one NSD for all
                 of them (N = 11-14 under victim.sec, 21-25 under victim3.sec)
  127.20.6.1-2   dnssec_attacker.py, where sec. delegates victim.sec and
                 victim3.sec: proxies to 127.20.5.1-2, forges for chosen names
                 (test_dnssec_attacks.py)
Resolvers under test listen on 127.21.x.y (see conftest.py).
"""

import base64
import os
import random
import subprocess
import sys
import time

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

import procs
from hierarchy import HERE, NsdGroup, _answers

ROOT_ADDRS = ["127.20.0.1", "127.20.0.2"]
SEC_ADDRS = ["127.20.1.1", "127.20.1.2"]
UNSIGNED_CHILD = "unsigned.optout.sec"
UNSIGNED_CHILD_ADDR = "127.20.3.1"
LDNS_KEYGEN = "/usr/bin/ldns-keygen"
LDNS_SIGNZONE = "/usr/bin/ldns-signzone"
DNSSEC_SIGNZONE = "/usr/bin/dnssec-signzone"

ALG_NAMES = {8: "RSASHA256", 10: "RSASHA512", 13: "ECDSAP256SHA256",
             14: "ECDSAP384SHA384", 15: "ED25519", 16: "ED448"}

# zone -> how it is built.  alg: DNSSEC algorithm (None: unsigned);
# denial: "nsec" | "nsec3" (iterations 0, empty salt) | "nsec3-iter51" |
# "optout"; wild: has *.wild; ksk_zsk: separate KSK and ZSK (else one CSK).
LEAVES = {
    "rsasha256.sec": dict(alg=8),
    "rsasha512.sec": dict(alg=10),
    "ecdsa256.sec": dict(alg=13, wild=True),
    "ecdsa384.sec": dict(alg=14),
    "ed25519.sec": dict(alg=15),
    "ed448.sec": dict(alg=16),
    "nsec3.sec": dict(alg=13, denial="nsec3", wild=True),
    "optout.sec": dict(alg=13, denial="optout"),
    "insecure.sec": dict(alg=None),
    "tampered.sec": dict(alg=13),
    "expired.sec": dict(alg=13),
    "future.sec": dict(alg=13),
    "wrongds.sec": dict(alg=13),
    "noselfsig.sec": dict(alg=13, ksk_zsk=True),
    "stripped.sec": dict(alg=13),
    "unknownalg.sec": dict(alg=13),
    "unknowndigest.sec": dict(alg=13),
    "iter51.sec": dict(alg=13, denial="nsec3-iter51"),
    "nxbad.sec": dict(alg=13),
    # RSA so that the look-alike keys are loadable and each try costs a real
    # verification (ECDSA/EdDSA look-alikes are mostly not valid points).
    # keytrap.sec: the look-alikes share the DS key's tag (KeyTrap at the
    # DNSKEY RRset); sigtrap.sec: they share another tag, so the DNSKEY RRset
    # validates and all the work lands on www's A RRset (KeySigTrap).
    "keytrap.sec": dict(alg=8),
    "sigtrap.sec": dict(alg=8),
    # NSEC3 (iterations 0, empty salt: RFC 9276) variant of each algorithm's
    # secure zone above.  Appended last so the earlier zones keep their
    # addresses (127.20.2.22-27).
    "nsec3-rsasha256.sec": dict(alg=8, denial="nsec3"),
    "nsec3-rsasha512.sec": dict(alg=10, denial="nsec3"),
    "nsec3-ecdsa256.sec": dict(alg=13, denial="nsec3"),
    "nsec3-ecdsa384.sec": dict(alg=14, denial="nsec3"),
    "nsec3-ed25519.sec": dict(alg=15, denial="nsec3"),
    "nsec3-ed448.sec": dict(alg=16, denial="nsec3"),
}
for _i, _z in enumerate(LEAVES):
    LEAVES[_z].setdefault("denial", "nsec")
    LEAVES[_z].setdefault("wild", False)
    LEAVES[_z].setdefault("ksk_zsk", False)
    LEAVES[_z]["addr"] = f"127.20.2.{_i + 1}"

# Zones for test_dnssec_chains.py (CNAME / DNAME chains across zones, the RFC
# 8509 root key sentinel, RFC 8198 aggressive NSEC).  Kept apart from LEAVES,
# whose every zone needs a row in test_dnssec.py's table; delegated from sec.
# like them.  alg None: unsigned, no DS.
CHAIN_A = "chain-a.sec"
CHAIN_B = "chain-b.sec"
CHAIN_U = "chain-u.sec"
AGGR = "aggr.sec"
CHAIN_ZONES = {
    CHAIN_A: dict(alg=13, addr="127.20.4.1"),
    CHAIN_B: dict(alg=15, addr="127.20.4.2"),
    CHAIN_U: dict(alg=None, addr="127.20.4.3"),
    AGGR: dict(alg=13, addr="127.20.4.4"),
}
CHAIN_A_DATA = {  # owner (relative to its zone) -> A in the chain zones
    (CHAIN_A, "www"): "192.0.2.201",
    (CHAIN_A, "www.new"): "192.0.2.202",
    (CHAIN_B, "www"): "192.0.2.203",
    (CHAIN_U, "www"): "192.0.2.204",
}
SENTINEL_A = {"is-ta-anchor": "192.0.2.211", "not-ta-anchor": "192.0.2.212",
              "is-ta-other": "192.0.2.213", "not-ta-other": "192.0.2.214"}
SENTINEL_OTHER_TAG = 12345  # (or the next tag no root key has)
BROKEN_DNAME = "badold"     # chain-a.sec DNAME whose RRSIG is corrupted

# Zones for the DNSSEC attacker (dnssec_attacker.py, test_dnssec_attacks.py).
# sec. delegates the two victims to the attacker (addr); `honest` is an NSD
# serving the genuinely signed zone that nobody delegates to, which the
# attacker proxies to.  The children are served honestly (addr = their NSD)
# and exist so that their real records can be misused: kid.victim.sec and
# kid3a.victim3.sec hold only their apex (the apex NSEC's next name is itself,
# the lone NSEC3 covers every other hash); the parent's DS of kidds, kidnp,
# kid3b and kid3r is what the attacker strips; the parent's NSEC (NSEC3) at
# kidad (kid3ad) denies the child's apex data; ins.victim3.sec is an unsigned
# delegation left out of the opt-out NSEC3 chain.  hosts: names with A, AAAA
# and TXT, most of them forged by exactly one case (www never: it is the
# "nothing poisoned" check).  Kept apart from LEAVES like CHAIN_ZONES.
VICTIM = "victim.sec"
VICTIM3 = "victim3.sec"
KID, KID_DS, KID_NP, KID_AD = (f"{k}.{VICTIM}" for k in ("kid", "kidds", "kidnp", "kidad"))
KID3_A, KID3_B, KID3_R, KID3_AD = (f"{k}.{VICTIM3}" for k in ("kid3a", "kid3b", "kid3r", "kid3ad"))
INS3 = f"ins.{VICTIM3}"
ATTACK_ZONES = {
    VICTIM: dict(parent="sec", alg=13, denial="nsec", addr="127.20.6.1", honest="127.20.5.1",
                 net="198.51.100", net6="2001:db8:5",
                 hosts=["www", "algo", "signer", "wrongtype", "otherowner", "more", "x.fewer",
                        "replay", "multi", "ttl", "nxkid", "nxnosoa", "nxempty", "nxsoa", "nxedge",
                        "nxsib", "nodatabit", "nodataother", "nodatasoa", "a.ent",
                        "exists.wild", "exists2.wild"]),
    VICTIM3: dict(parent="sec", alg=13, denial="optout", addr="127.20.6.2", honest="127.20.5.2",
                  net="203.0.113", net6="2001:db8:6", hosts=["www", "nx3kid", "nodata3"]),
    KID: dict(parent=VICTIM, alg=13, denial="nsec", addr="127.20.5.11"),
    KID_DS: dict(parent=VICTIM, alg=13, denial="nsec", addr="127.20.5.12"),
    KID_NP: dict(parent=VICTIM, alg=13, denial="nsec", addr="127.20.5.13"),
    KID_AD: dict(parent=VICTIM, alg=13, denial="nsec", addr="127.20.5.14"),
    KID3_A: dict(parent=VICTIM3, alg=13, denial="nsec3", addr="127.20.5.21"),
    KID3_B: dict(parent=VICTIM3, alg=13, denial="nsec", addr="127.20.5.22"),
    KID3_R: dict(parent=VICTIM3, alg=13, denial="nsec", addr="127.20.5.23"),
    INS3: dict(parent=VICTIM3, alg=None, addr="127.20.5.24"),
    KID3_AD: dict(parent=VICTIM3, alg=13, denial="nsec3", addr="127.20.5.25"),
}
for _z, _s in ATTACK_ZONES.items():
    _s.setdefault("honest", _s["addr"])
    _s.setdefault("hosts", [])
ATTACK_VICTIMS = [z for z, s in ATTACK_ZONES.items() if s["parent"] == "sec"]
WILD_A = "198.51.100.200"     # *.wild.victim.sec
FORGED_A = "192.0.2.66"       # what the attacker's changed A records say
OLD_A = "192.0.2.77"          # replay.victim.sec's A when the removed key signed it
ATTACK_SIBLING = "ecdsa256.sec"   # a secure sibling whose last NSEC the attacker misuses
UNSIGNED_ELSEWHERE = "insecure.sec"  # an unsigned zone the attacker names as signer

KEYTRAP_KEYS = 30   # extra DNSKEYs sharing one key tag and the algorithm (keytrap, sigtrap)
KEYTRAP_SIGS = 30   # garbage RRSIGs with that tag over www.<zone> A (real one removed)
TAMPERED_A = "192.0.2.166"


def missing_tools():
    return [t for t in (LDNS_KEYGEN, LDNS_SIGNZONE, DNSSEC_SIGNZONE) if not os.path.exists(t)]


def zone_index(zone):
    return list(LEAVES).index(zone) + 1


def www_a(zone):
    return f"192.0.2.{zone_index(zone)}"


def wild_a(zone):
    return f"192.0.2.{100 + zone_index(zone)}"


def attack_a(zone, host):
    """A of a host of an ATTACK_ZONES victim (its AAAA: net6::same number)."""
    spec = ATTACK_ZONES[zone]
    return f"{spec['net']}.{spec['hosts'].index(host) + 1}"


def attack_ns(zone):
    """NS name of an ATTACK_ZONES zone: ns1.<victim>, or ns-<label>.<parent>
    for a child (in the parent, so that the child holds only its apex)."""
    spec = ATTACK_ZONES[zone]
    if spec["parent"] == "sec":
        return f"ns1.{zone}"
    return f"ns-{zone.split('.')[0]}.{spec['parent']}"


def _ts(t):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(t))


# --------------------------------------------------------------------------
# keys


class Key:
    """One key pair made by ldns-keygen: base path (no extension) + DNSKEY."""

    def __init__(self, keydir, zone, alg, ksk):
        argv = [LDNS_KEYGEN, "-a", ALG_NAMES[alg]]
        if alg in (8, 10):
            argv += ["-b", "2048"]
        if ksk:
            argv.append("-k")
        argv.append(zone if zone != "." else ".")
        out = subprocess.run(argv, cwd=keydir, capture_output=True, text=True, check=True)
        self.base = os.path.join(keydir, out.stdout.strip().splitlines()[-1])
        self.zone = zone
        self.alg = alg
        line = [ln for ln in open(self.base + ".key") if ln.strip() and not ln.startswith(";")][0]
        line = line.split(";")[0]
        parts = line.split()
        i = parts.index("DNSKEY")
        self.dnskey = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                          " ".join(parts[i + 1:]))
        self.tag = dns.dnssec.key_id(self.dnskey)

    def ds(self, digest="SHA256"):
        return dns.dnssec.make_ds(dns.name.from_text(self.zone), self.dnskey, digest)

    def dnskey_line(self, ttl=300):
        owner = self.zone if self.zone == "." else self.zone + "."
        return f"{owner} {ttl} IN DNSKEY {self.dnskey.to_text()}\n"


def keytag(rdata_wire):
    """RFC 4034 Appendix B."""
    ac = 0
    for i, b in enumerate(rdata_wire):
        ac += b if i & 1 else b << 8
    ac += (ac >> 16) & 0xFFFF
    return ac & 0xFFFF


def lookalike_dnskeys(key, count, rng, flags=256, tag=None):
    """DNSKEY rdata texts with key's algorithm and key tag (or `tag`) but
    other key bytes.

    The tag is a 16-bit one's-complement-ish sum of the rdata words, so we
    randomise some modulus bytes and then pick one more 16-bit word (at an even
    rdata offset) that brings the sum back to the wanted tag."""
    tag = key.tag if tag is None else tag
    pub = bytearray(key.dnskey.key)
    assert key.alg in (8, 10) and pub[0] != 0, "RSA key with a 1-byte exponent length expected"
    mod_off = 1 + pub[0]  # modulus offset inside the key field
    out = []
    while len(out) < count:
        k = bytearray(pub)
        for i in range(mod_off + 40, mod_off + 72):  # random middle modulus bytes
            k[i] = rng.randrange(256)
        # the word to solve for sits at an even rdata offset (rdata = 4 + key)
        w_off = mod_off + 100
        if (4 + w_off) % 2:
            w_off += 1
        k[w_off] = k[w_off + 1] = 0
        head = bytes([flags >> 8, flags & 0xFF, 3, key.alg])
        s = sum(b if i & 1 else b << 8 for i, b in enumerate(head + k))
        for w in range(65536):
            if (s + w + ((s + w) >> 16)) & 0xFFFF == tag:
                break
        else:  # pragma: no cover - always solvable
            continue
        k[w_off], k[w_off + 1] = w >> 8, w & 0xFF
        rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                 f"{flags} 3 {key.alg} {base64.b64encode(bytes(k)).decode()}")
        assert dns.dnssec.key_id(rd) == tag == keytag(head + bytes(k))
        if bytes(k) != bytes(pub) and rd.to_text() not in out:
            out.append(rd.to_text())
    return out


# --------------------------------------------------------------------------
# zone text


def _soa(zone, minimum=60):
    o = "." if zone == "." else zone + "."
    ns = "a.root-servers.net." if zone == "." else f"ns1.{zone}."
    host = "hostmaster.root-servers.net." if zone == "." else f"hostmaster.{zone}."
    return f"{o} 300 IN SOA {ns} {host} 1 3600 900 604800 {minimum}\n"


def root_text():
    z = "$TTL 86400\n" + _soa(".", 300)
    z += ". IN NS a.root-servers.net.\n. IN NS b.root-servers.net.\n"
    z += f"a.root-servers.net. IN A {ROOT_ADDRS[0]}\nb.root-servers.net. IN A {ROOT_ADDRS[1]}\n"
    z += "sec. IN NS ns1.sec.\nsec. IN NS ns2.sec.\n"
    z += f"ns1.sec. IN A {SEC_ADDRS[0]}\nns2.sec. IN A {SEC_ADDRS[1]}\n"
    return z


def sec_text(ds_lines):
    z = "$TTL 3600\n" + _soa("sec", 300)
    z += "sec. IN NS ns1.sec.\nsec. IN NS ns2.sec.\n"
    z += f"ns1.sec. IN A {SEC_ADDRS[0]}\nns2.sec. IN A {SEC_ADDRS[1]}\n"
    for zone, spec in {**LEAVES, **CHAIN_ZONES}.items():
        z += f"{zone}. IN NS ns1.{zone}.\nns1.{zone}. IN A {spec['addr']}\n"
    for zone in ATTACK_VICTIMS:
        z += _delegation(zone)
    z += "".join(ds_lines)
    return z


def _delegation(zone):
    ns = attack_ns(zone)
    return f"{zone}. IN NS {ns}.\n{ns}. IN A {ATTACK_ZONES[zone]['addr']}\n"


def attack_victim_text(zone, ds_lines, old=False):
    """victim.sec / victim3.sec with the children's delegations and ds_lines.
    old: victim.sec as it was when the removed key signed it (replay's A is
    OLD_A then)."""
    spec = ATTACK_ZONES[zone]
    z = "$TTL 300\n" + _soa(zone) + _delegation(zone)
    for i, host in enumerate(spec["hosts"]):
        a = OLD_A if old and host == "replay" else attack_a(zone, host)
        z += f"{host}.{zone}. IN A {a}\n{host}.{zone}. IN AAAA {spec['net6']}::{i + 1}\n"
        z += f'{host}.{zone}. IN TXT "{host} of {zone}"\n'
    if zone == VICTIM:
        z += f"*.wild.{zone}. IN A {WILD_A}\ncname.{zone}. IN CNAME www.{zone}.\n"
    for child, cs in ATTACK_ZONES.items():
        if cs["parent"] == zone:
            z += _delegation(child)
    return z + "".join(ds_lines)


def attack_child_text(zone):
    """A child of a victim: its apex only (out-of-zone NS), plus www when unsigned."""
    z = "$TTL 300\n" + _soa(zone) + f"{zone}. IN NS {attack_ns(zone)}.\n"
    z += f'{zone}. IN TXT "apex of {zone}"\n'
    if ATTACK_ZONES[zone]["alg"] is None:
        z += f"www.{zone}. IN A 192.0.2.250\n"
    return z


def leaf_text(zone, spec):
    i = zone_index(zone)
    z = "$TTL 300\n" + _soa(zone)
    z += f"{zone}. IN NS ns1.{zone}.\nns1.{zone}. IN A {spec['addr']}\n"
    z += f"www.{zone}. IN A {www_a(zone)}\nwww.{zone}. IN AAAA 2001:db8::{i}\n"
    z += f'www.{zone}. IN TXT "www of {zone}"\n'
    if spec["wild"]:
        z += f"*.wild.{zone}. IN A {wild_a(zone)}\n"
    if spec["denial"] == "optout":
        z += f"{UNSIGNED_CHILD}. IN NS ns1.{UNSIGNED_CHILD}.\n"
        z += f"ns1.{UNSIGNED_CHILD}. IN A {UNSIGNED_CHILD_ADDR}\n"
    return z


def unsigned_child_text():
    z = "$TTL 300\n" + _soa(UNSIGNED_CHILD)
    z += f"{UNSIGNED_CHILD}. IN NS ns1.{UNSIGNED_CHILD}.\n"
    z += f"ns1.{UNSIGNED_CHILD}. IN A {UNSIGNED_CHILD_ADDR}\n"
    z += f"www.{UNSIGNED_CHILD}. IN A 192.0.2.250\n"
    return z


def sentinel_label(kind, tag):
    """RFC 8509: root-key-sentinel-is-ta-NNNNN / -not-ta-NNNNN (5 digits)."""
    return f"root-key-sentinel-{kind}-ta-{tag:05d}"


def chain_text(zone, root_ksk_tag, other_tag):
    """Zone text of one CHAIN_ZONES zone (see test_dnssec_chains.py)."""
    spec = CHAIN_ZONES[zone]
    z = "$TTL 300\n" + _soa(zone)
    z += f"{zone}. IN NS ns1.{zone}.\nns1.{zone}. IN A {spec['addr']}\n"
    for (zn, owner), a in CHAIN_A_DATA.items():
        if zn == zone:
            z += f"{owner}.{zone}. IN A {a}\n"
    if zone == CHAIN_A:
        z += f"to-b.{zone}. IN CNAME www.{CHAIN_B}.\n"            # signed -> signed
        z += f"to-u.{zone}. IN CNAME www.{CHAIN_U}.\n"            # signed -> unsigned
        z += f"to-insecure.{zone}. IN CNAME www.insecure.sec.\n"  # signed -> unsigned
        z += f"to-u-to-b.{zone}. IN CNAME back.{CHAIN_U}.\n"      # signed -> unsigned -> signed
        z += f"to-bogus.{zone}. IN CNAME www.tampered.sec.\n"     # signed -> bogus
        z += f"old.{zone}. IN DNAME new.{zone}.\n"
        z += f"{BROKEN_DNAME}.{zone}. IN DNAME new.{zone}.\n"
        for key, a in SENTINEL_A.items():
            kind, _, which = key.partition("-ta-")
            tag = root_ksk_tag if which == "anchor" else other_tag
            z += f"{sentinel_label(kind, tag)}.{zone}. IN A {a}\n"
    elif zone == CHAIN_U:
        z += f"back.{zone}. IN CNAME www.{CHAIN_B}.\n"            # unsigned -> signed
        z += f"to-a.{zone}. IN CNAME www.{CHAIN_A}.\n"            # unsigned -> signed
    elif zone == AGGR:
        # NSEC chain: apex -> aaa -> ns1 -> www -> zzz -> apex; www has A only
        for i, owner in enumerate(("aaa", "www", "zzz")):
            z += f"{owner}.{zone}. IN A 192.0.2.{221 + i}\n"
    return z


def _corrupt_rrsig(text, owner, covered):
    """Flip a bit of the signature of the RRSIG(s) over owner/covered."""
    out, hit = [], 0
    for ln in _records(text):
        if _fields(ln)[0] == owner and _rrsig_covers(ln) == covered:
            o, ttl, c, t, rd = _fields(ln)
            p = rd.split(None, 8)
            sig = bytearray(base64.b64decode("".join(p[8].split())))
            sig[len(sig) // 2] ^= 0x01
            ln = f"{o}\t{ttl}\t{c}\tRRSIG\t{' '.join(p[:8])} {base64.b64encode(bytes(sig)).decode()}"
            hit += 1
        out.append(ln)
    assert hit, f"no RRSIG {covered} at {owner}"
    return "\n".join(out) + "\n"


def _records(text):
    """Signed zone text (ldns-signzone: one RR per line) -> list of lines."""
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(";")]


def _fields(line):
    """owner, ttl, class, type, rdata"""
    p = line.split(None, 4)
    return p[0].lower(), p[1], p[2], p[3].upper(), (p[4] if len(p) > 4 else "")


def _rrsig_covers(line):
    o, _, _, t, rd = _fields(line)
    return rd.split()[0].upper() if t == "RRSIG" else None


def _rrsig_tag(line):
    return int(_fields(line)[4].split()[6])


# --------------------------------------------------------------------------
# the hierarchy


class SignedHierarchy:
    def __init__(self, base_dir):
        self.base = base_dir
        self.keydir = os.path.join(base_dir, "keys")
        self.srcdir = os.path.join(base_dir, "src")
        os.makedirs(self.keydir, exist_ok=True)
        os.makedirs(self.srcdir, exist_ok=True)
        self.root_hints = os.path.join(base_dir, "root.hints")
        self.trust_anchor = os.path.join(base_dir, "root.anchor")
        self.trust_anchor_dnskey = os.path.join(base_dir, "root.anchor.dnskey")
        self.groups = []
        self.keys = {}      # zone -> list of Key (index 0: the key the DS is for)
        self.signed = {}    # zone -> signed zone text as served
        self.now = int(time.time())
        self.rng = random.Random(4711)
        self.build_seconds = None
        self.trap_tags = {}  # keytrap.sec / sigtrap.sec -> the shared key tag
        self.root_ksk_tag = None        # RFC 8509 sentinel: the trust anchor's key tag
        self.sentinel_other_tag = None  # a tag no root key has
        self.attack_dir = os.path.join(base_dir, "attacker")  # its zone files and log
        self.attacker_log = os.path.join(self.attack_dir, "attacker.log")
        self.attacker = None

    # -- signing ------------------------------------------------------------
    def _sign_ldns(self, zone, text, keys, extra_args=(), inception=None, expiration=None,
                   name=None):
        """name: the source file's name (default the zone's), for a second signing."""
        src = os.path.join(self.srcdir, name or zone.strip(".") or "root")
        with open(src + ".zone", "w") as f:
            f.write(text)
        inception = self.now - 3600 if inception is None else inception
        expiration = self.now + 30 * 86400 if expiration is None else expiration
        argv = [LDNS_SIGNZONE, "-i", _ts(inception), "-e", _ts(expiration),
                "-o", zone if zone == "." else zone + ".", "-f", src + ".signed",
                *extra_args, src + ".zone", *[k.base for k in keys]]
        subprocess.run(argv, check=True, capture_output=True, text=True)
        return open(src + ".signed").read()

    def _sign_optout(self, zone, text, key, name=None):
        """NSEC3 opt-out (iterations 0, no salt): dnssec-signzone -A leaves the
        insecure delegation out of the chain (ldns-signzone keeps it).  name:
        as for _sign_ldns."""
        src = os.path.join(self.srcdir, name or zone)
        with open(src + ".zone", "w") as f:
            f.write(text + key.dnskey_line())
        argv = [DNSSEC_SIGNZONE, "-q", "-z", "-3", "-", "-H", "0", "-A", "-O", "full",
                "-s", _ts(self.now - 3600), "-e", _ts(self.now + 30 * 86400),
                "-o", zone, "-f", src + ".signed", "-K", self.keydir, src + ".zone", key.base]
        subprocess.run(argv, check=True, capture_output=True, text=True, cwd=self.srcdir)
        return open(src + ".signed").read()

    def _leaf(self, zone, spec):
        text = leaf_text(zone, spec)
        if spec["alg"] is None:
            return text
        alg = spec["alg"]
        ksk = Key(self.keydir, zone, alg, ksk=True)
        keys = [ksk]
        if spec["ksk_zsk"]:
            keys.append(Key(self.keydir, zone, alg, ksk=False))
        self.keys[zone] = keys
        denial = spec["denial"]
        if denial == "optout":
            return self._sign_optout(zone, text, ksk)
        args = []
        if denial == "nsec3":
            args = ["-n", "-a", "1", "-t", "0"]
        elif denial == "nsec3-iter51":
            args = ["-n", "-a", "1", "-t", "51"]
        inception = expiration = None
        if zone == "expired.sec":
            inception, expiration = self.now - 40 * 86400, self.now - 10 * 86400
        elif zone == "future.sec":
            inception, expiration = self.now + 10 * 86400, self.now + 40 * 86400
        elif zone == "noselfsig.sec":
            args.append("-A")  # DNSKEY signed by KSK and ZSK; the KSK one goes below
        elif zone in ("keytrap.sec", "sigtrap.sec"):
            tag = ksk.tag if zone == "keytrap.sec" else (ksk.tag + 1) & 0xFFFF
            self.trap_tags[zone] = tag
            lookalikes = lookalike_dnskeys(ksk, KEYTRAP_KEYS, self.rng, tag=tag)
            text += "".join(f"{zone}. 300 IN DNSKEY {k}\n" for k in lookalikes)
            text += ksk.dnskey_line()
        signed = self._sign_ldns(zone, text, keys, args, inception, expiration)
        return BREAKAGES.get(zone, lambda h, z, t: t)(self, zone, signed)

    def build(self):
        t0 = time.monotonic()
        leaf_texts = {z: self._leaf(z, s) for z, s in LEAVES.items()}
        # the root keys first: the sentinel names in chain-a.sec carry the KSK's tag
        self.keys["."] = [Key(self.keydir, ".", 13, ksk=True), Key(self.keydir, ".", 13, ksk=False)]
        chain_texts = self._chain_zones()
        attack_texts = self._attack_zones(leaf_texts[ATTACK_SIBLING])
        # sec. with the DS records the parent publishes
        ds_lines = []
        for zone in LEAVES:
            if zone in self.keys:
                ds_lines += DS_EDITS.get(zone, _normal_ds)(self, zone)
        for zone in [*CHAIN_ZONES, *ATTACK_VICTIMS]:
            if zone in self.keys:
                ds_lines += _normal_ds(self, zone)
        self.keys["sec"] = [Key(self.keydir, "sec", 13, ksk=True), Key(self.keydir, "sec", 13, ksk=False)]
        sec_signed = self._sign_ldns("sec", sec_text(ds_lines) + self.extra_sec_records(), self.keys["sec"])
        root_src = root_text() + "".join(f"sec. 86400 IN DS {self.keys['sec'][0].ds().to_text()}\n")
        root_src += self.extra_root_records()
        root_signed = self._sign_ldns(".", root_src, self.keys["."])
        self.signed = {".": root_signed, "sec": sec_signed, **leaf_texts,
                       UNSIGNED_CHILD: unsigned_child_text(), **chain_texts, **attack_texts}

        root_ksk = self.keys["."][0]
        with open(self.trust_anchor, "w") as f:
            f.write(f". 86400 IN DS {root_ksk.ds().to_text()}\n")
        with open(self.trust_anchor_dnskey, "w") as f:
            f.write(root_ksk.dnskey_line(86400))
        with open(self.root_hints, "w") as f:
            f.write(". 3600000 IN NS a.root-servers.net.\n")
            f.write(f"a.root-servers.net. 3600000 IN A {ROOT_ADDRS[0]}\n")
            f.write(". 3600000 IN NS b.root-servers.net.\n")
            f.write(f"b.root-servers.net. 3600000 IN A {ROOT_ADDRS[1]}\n")

        g = self.groups
        g.append(NsdGroup("sroot", ROOT_ADDRS, {".": root_signed}))
        g.append(NsdGroup("ssec", SEC_ADDRS, {"sec": sec_signed}))
        g.append(NsdGroup("sleaves", [s["addr"] for s in LEAVES.values()], leaf_texts))
        g.append(NsdGroup("sunsigned", [UNSIGNED_CHILD_ADDR], {UNSIGNED_CHILD: unsigned_child_text()}))
        g.append(NsdGroup("schains", [s["addr"] for s in CHAIN_ZONES.values()], chain_texts))
        victims = {z: attack_texts[z] for z in ATTACK_VICTIMS}
        g.append(NsdGroup("sattack", [ATTACK_ZONES[z]["honest"] for z in victims], victims))
        kids = {z: t for z, t in attack_texts.items() if z not in victims}
        g.append(NsdGroup("sattack-kids", [ATTACK_ZONES[z]["addr"] for z in kids], kids))
        for grp in g:
            grp.write(os.path.join(self.base, "nsd"))
        self.build_seconds = time.monotonic() - t0

    # Hooks for a world built on top of this one (tests/bench/fault_injection.py):
    # records added to "sec." and to the root before they are signed, e.g. more
    # delegations. Called once from build(); empty here.
    def extra_sec_records(self):
        return ""

    def extra_root_records(self):
        return ""

    def _chain_zones(self):
        root_tags = {k.tag for k in self.keys["."]}
        self.root_ksk_tag = self.keys["."][0].tag
        other = SENTINEL_OTHER_TAG
        while other in root_tags:
            other += 1
        self.sentinel_other_tag = other
        texts = {}
        for zone, spec in CHAIN_ZONES.items():
            text = chain_text(zone, self.root_ksk_tag, other)
            if spec["alg"] is None:
                texts[zone] = text
                continue
            self.keys[zone] = [Key(self.keydir, zone, spec["alg"], ksk=True)]
            signed = self._sign_ldns(zone, text, self.keys[zone])
            if zone == CHAIN_A:
                signed = _corrupt_rrsig(signed, f"{BROKEN_DNAME}.{zone}.", "DNAME")
            texts[zone] = signed
        return texts

    def _attack_zones(self, sibling_text):
        """Sign ATTACK_ZONES (children first: the victims publish their DS)
        and write the attacker's record files, LABEL.zone in attack_dir: every
        attack zone as served, the sibling ATTACK_SIBLING, and "<zone>@old",
        an earlier signing of each victim (same key, same validity):
        victim.sec with a second key, a ZSK since removed, signing its data
        RRsets; victim3.sec before kid3r had a DS (an opt-out NSEC3 covered
        it).  Returns zone -> text to serve."""
        texts, ds = {}, {}
        for zone, spec in ATTACK_ZONES.items():
            if spec["parent"] == "sec":
                continue
            text = attack_child_text(zone)
            if spec["alg"] is not None:
                self.keys[zone] = [Key(self.keydir, zone, spec["alg"], ksk=True)]
                args = ["-n", "-a", "1", "-t", "0"] if spec["denial"] == "nsec3" else []
                text = self._sign_ldns(zone, text, self.keys[zone], args)
                ds[zone] = _normal_ds(self, zone)
            texts[zone] = text
        files = {ATTACK_SIBLING: sibling_text}
        for zone in ATTACK_VICTIMS:
            spec = ATTACK_ZONES[zone]
            key = Key(self.keydir, zone, spec["alg"], ksk=True)
            self.keys[zone] = [key]
            kid_ds = {z: lines for z, lines in ds.items() if ATTACK_ZONES[z]["parent"] == zone}
            all_ds = sum(kid_ds.values(), [])
            old = zone + "@old"
            if spec["denial"] == "optout":
                texts[zone] = self._sign_optout(zone, attack_victim_text(zone, all_ds), key)
                before = sum((lines for z, lines in kid_ds.items() if z != KID3_R), [])
                files[old] = self._sign_optout(zone, attack_victim_text(zone, before), key, old)
            else:
                removed = Key(self.keydir, zone, spec["alg"], ksk=False)
                self.keys[zone + "#removed"] = [removed]
                texts[zone] = self._sign_ldns(zone, attack_victim_text(zone, all_ds), [key])
                files[old] = self._sign_ldns(zone, attack_victim_text(zone, all_ds, old=True),
                                             [key, removed], name=old)
        files.update(texts)
        os.makedirs(self.attack_dir, exist_ok=True)
        for label, text in files.items():
            with open(os.path.join(self.attack_dir, label + ".zone"), "w") as f:
                f.write(text)
        return texts

    def attacker_argv(self):
        argv = [sys.executable, os.path.join(HERE, "dnssec_attacker.py"),
                "--zones", self.attack_dir, "--log", self.attacker_log]
        for zone in ATTACK_VICTIMS:
            argv += ["--proxy", f"{ATTACK_ZONES[zone]['addr']}={ATTACK_ZONES[zone]['honest']}"]
        return argv

    def start(self, timeout=15.0):
        if not self.groups:
            self.build()
        try:
            for grp in self.groups:
                grp.start()
            err = open(os.path.join(self.attack_dir, "stderr.log"), "w")
            self.attacker = procs.start(self.attacker_argv(), "dnssec_attacker",
                                        stdout=err, stderr=subprocess.STDOUT)
            err.close()
            deadline = time.monotonic() + timeout
            for grp in self.groups:
                for addr in grp.addrs:
                    while not _answers(addr):
                        if grp.proc.poll() is not None:
                            raise RuntimeError(f"NSD {grp.name} exited early:\n{grp.log()}")
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"NSD {grp.name} on {addr} not answering:\n{grp.log()}")
                        time.sleep(0.05)
            for zone in ATTACK_VICTIMS:
                while not _answers(ATTACK_ZONES[zone]["addr"], zone, "SOA", "IN"):
                    if self.attacker.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("dnssec_attacker not answering:\n" + open(
                            os.path.join(self.attack_dir, "stderr.log")).read())
                    time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        procs.stop(self.attacker)
        self.attacker = None
        for grp in self.groups:
            grp.stop()

    def server_for(self, zone):
        """An authoritative address of `zone` (for asking it directly)."""
        zone = zone.rstrip(".")
        if zone in ("", "."):
            return ROOT_ADDRS[0]
        if zone == "sec":
            return SEC_ADDRS[0]
        if zone == UNSIGNED_CHILD:
            return UNSIGNED_CHILD_ADDR
        if zone in CHAIN_ZONES:
            return CHAIN_ZONES[zone]["addr"]
        if zone in ATTACK_ZONES:
            return ATTACK_ZONES[zone]["honest"]
        return LEAVES[zone]["addr"]

    def resolverd_dnssec_line(self):
        return f"dnssec: {{validation: true, trust-anchor-files: [{self.trust_anchor}]}}\n"


# --------------------------------------------------------------------------
# what the parent publishes


def _normal_ds(h, zone):
    return [f"{zone}. 3600 IN DS {h.keys[zone][0].ds().to_text()}\n"]


def _wrong_ds(h, zone):
    # DS of a key that exists nowhere in the child
    rogue = Key(h.keydir, zone, 13, ksk=True)
    h.keys[zone + "#rogue"] = [rogue]
    return [f"{zone}. 3600 IN DS {rogue.ds().to_text()}\n"]


def _unknown_alg_ds(h, zone):
    ds = h.keys[zone][0].ds()
    return [f"{zone}. 3600 IN DS {ds.key_tag} 200 2 {ds.digest.hex()}\n"]


def _unknown_digest_ds(h, zone):
    ds = h.keys[zone][0].ds()
    return [f"{zone}. 3600 IN DS {ds.key_tag} {ds.algorithm} 200 {ds.digest.hex()}\n"]


DS_EDITS = {
    "wrongds.sec": _wrong_ds,
    "unknownalg.sec": _unknown_alg_ds,
    "unknowndigest.sec": _unknown_digest_ds,
}


# --------------------------------------------------------------------------
# edits of the signed text


def _tamper(h, zone, text):
    out = []
    for ln in _records(text):
        o, ttl, c, t, rd = _fields(ln)
        if o == f"www.{zone}." and t == "A":
            ln = f"{o}\t{ttl}\t{c}\tA\t{TAMPERED_A}"
        out.append(ln)
    return "\n".join(out) + "\n"


def _no_self_sig(h, zone, text):
    ksk = h.keys[zone][0]
    out = [ln for ln in _records(text)
           if not (_rrsig_covers(ln) == "DNSKEY" and _rrsig_tag(ln) == ksk.tag)]
    assert any(_rrsig_covers(ln) == "DNSKEY" for ln in out), "expected the ZSK's DNSKEY signature"
    return "\n".join(out) + "\n"


def _strip_rrsigs(h, zone, text):
    return "\n".join(ln for ln in _records(text) if _fields(ln)[3] != "RRSIG") + "\n"


def _strip_nsec(h, zone, text):
    return "\n".join(ln for ln in _records(text)
                     if _fields(ln)[3] != "NSEC" and _rrsig_covers(ln) != "NSEC") + "\n"


def _keytrap(h, zone, text):
    tag = h.trap_tags[zone]
    out = []
    www = f"www.{zone}."
    template = None
    for ln in _records(text):
        if _fields(ln)[0] == www and _rrsig_covers(ln) == "A":
            template = _fields(ln)
            continue  # the real signature goes: only garbage is left
        out.append(ln)
    assert template is not None
    o, ttl, c, _, rd = template
    p = rd.split()  # A alg labels ttl exp inc tag signer sig
    for _ in range(KEYTRAP_SIGS):
        sig = base64.b64encode(bytes(h.rng.randrange(256) for _ in range(256))).decode()
        out.append(f"{o}\t{ttl}\t{c}\tRRSIG\t{' '.join(p[:6])} {tag} {p[7]} {sig}")
    return "\n".join(out) + "\n"


BREAKAGES = {
    "tampered.sec": _tamper,
    "noselfsig.sec": _no_self_sig,
    "stripped.sec": _strip_rrsigs,
    "nxbad.sec": _strip_nsec,
    "keytrap.sec": _keytrap,
    "sigtrap.sec": _keytrap,
}
