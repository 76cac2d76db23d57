"""The validating resolver for the DNSSEC tests (test_dnssec.py).

Debian's unbound ("validator iterator") by default, or resolverd with
`dnssec: {validation: true, ...}` when DNSSEC_UNDER_TEST=resolverd (or
--dnssec-resolver resolverd).  Both use the signed hierarchy's root hints and
root trust anchor (signed_hierarchy.py).  Switching the default to resolverd
is the one line DNSSEC_DEFAULT below.
"""

import os

from hierarchy import resolverd_config_text
from resolver_process import ResolverProcess, unbound_config_text

DNSSEC_DEFAULT = "resolverd"  # "unbound" (or DNSSEC_UNDER_TEST=unbound) cross-checks the expectations

UNBOUND_ADDR = "127.21.0.1"
RESOLVERD_ADDR = "127.21.0.2"
# fresh instances (empty cache) for timing-sensitive tests
FRESH_PREFIX = "127.21.1."  # conftest.make_validating_resolver: 127.21.1.x, 127.21.2.x, ...

# RFC 9276 3.2 / resolverd's dnssec.max-nsec3-iterations default: NSEC3 with
# more iterations than this makes a denial insecure.
MAX_NSEC3_ITERATIONS = 50


def validating_unbound_config(root_hints, trust_anchor, workdir, listen, validation=True,
                              negative_trust_anchors=(), unbound_extra=()):
    """validation=False keeps module-config "iterator" (no validator at all);
    negative_trust_anchors become domain-insecure; unbound_extra: more
    "server:" lines (e.g. "  aggressive-nsec: yes")."""
    text = unbound_config_text(root_hints, workdir, listen)
    if validation:
        text = text.replace('  module-config: "iterator"', '  module-config: "validator iterator"')
    extra = [
        f'  trust-anchor-file: "{trust_anchor}"',
        *[f'  domain-insecure: "{n}"' for n in negative_trust_anchors],
        *unbound_extra,
        "  val-log-level: 2",
        "  ede: yes",
        "  harden-algo-downgrade: no",
        # unbound 1.17's default is 150 for every key size; use resolverd's
        # (RFC 9276) limit so iter51.sec is insecure under both.
        f'  val-nsec3-keysize-iterations: "1024 {MAX_NSEC3_ITERATIONS} 2048 '
        f'{MAX_NSEC3_ITERATIONS} 4096 {MAX_NSEC3_ITERATIONS}"',
    ]
    head, sep, tail = text.partition("remote-control:")
    return head + "\n".join(extra) + "\n" + sep + tail


def validating_resolverd_config(root_hints, trust_anchor, listen, validation=True,
                                negative_trust_anchors=(), control_socket=""):
    text = resolverd_config_text(root_hints, listen=listen, control_socket=control_socket)
    line = "dnssec: {validation: false, trust-anchor-files: []}\n"
    assert line in text, "resolverd_config_text changed; update validating_resolverd_config"
    nta = ""
    if negative_trust_anchors:
        nta = f", negative-trust-anchors: [{', '.join(negative_trust_anchors)}]"
    return text.replace(line, f"dnssec: {{validation: {'true' if validation else 'false'}, "
                              f"trust-anchor-files: [{trust_anchor}]{nta}}}\n")


class ValidatingResolver(ResolverProcess):
    """trust_anchor: another anchor file (default the root DS, signed.trust_anchor;
    e.g. signed.trust_anchor_dnskey); validation, negative_trust_anchors,
    unbound_extra: see the config functions above."""

    def __init__(self, kind, build_dir, signed, workdir, listen, trust_anchor=None,
                 validation=True, negative_trust_anchors=(), unbound_extra=(), control_socket=""):
        super().__init__(kind, build_dir, signed.root_hints, workdir, listen=listen,
                         control_socket=control_socket)
        self.trust_anchor = trust_anchor or signed.trust_anchor
        self.validation = validation
        self.negative_trust_anchors = tuple(negative_trust_anchors)
        self.unbound_extra = tuple(unbound_extra)

    def argv(self):
        if self.is_unbound:
            conf = os.path.join(self.workdir, "unbound.conf")
            with open(conf, "w") as f:
                f.write(validating_unbound_config(self.root_hints, self.trust_anchor,
                                                  self.workdir, self.addr, self.validation,
                                                  self.negative_trust_anchors,
                                                  self.unbound_extra))
            return ["/usr/sbin/unbound", "-d", "-c", conf]
        conf = os.path.join(self.workdir, "resolverd.yaml")
        with open(conf, "w") as f:
            f.write(validating_resolverd_config(self.root_hints, self.trust_anchor, self.addr,
                                                self.validation, self.negative_trust_anchors,
                                                self.control_socket))
        return [os.path.join(self.build_dir, "resolverd"), "-c", conf]
