#!/usr/bin/python3
"""Start the signed (DNSSEC) test hierarchy in the foreground for manual work.

    sudo /usr/bin/python3 tests/system/run_signed_hierarchy.py [--dir DIR]
         [--resolver none|unbound|resolverd] [--build-dir BUILD]

Generates keys, signs the zones (see signed_hierarchy.py), starts NSD on
127.20.x.y and prints the root hints, the root trust anchor (DS) and a
resolverd config using both (DIR/resolverd.yaml).  With --resolver it also
starts a validating unbound on 127.21.0.1 or resolverd on 127.21.0.2.
Ctrl-C (or SIGTERM) stops everything it started, by PID.
"""

import argparse
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import procs  # noqa: E402
from signed_hierarchy import ATTACK_VICTIMS, LEAVES, SignedHierarchy  # noqa: E402
from validating_resolver import (RESOLVERD_ADDR, UNBOUND_ADDR, ValidatingResolver,  # noqa: E402
                                 validating_resolverd_config)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dir", default=None, help="work dir (default: a new temp dir)")
    ap.add_argument("--resolver", default="none", choices=["none", "resolverd", "unbound"])
    ap.add_argument("--build-dir", default=os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build"))
    opts = ap.parse_args()

    base = opts.dir or tempfile.mkdtemp(prefix="resolverd-signed-")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    h = SignedHierarchy(os.path.join(base, "auth"))
    res = None
    try:
        h.start()
        conf = os.path.join(base, "resolverd.yaml")
        control = os.path.join(base, "control.sock")
        with open(conf, "w") as f:
            f.write(validating_resolverd_config(h.root_hints, h.trust_anchor, RESOLVERD_ADDR,
                                                control_socket=control))
        print(f"signed hierarchy up in {base} (keys and signing took {h.build_seconds:.1f}s)")
        print(f"root hints:   {h.root_hints}")
        print(f"trust anchor: {h.trust_anchor}  (DNSKEY form: {h.trust_anchor_dnskey})")
        print("  " + open(h.trust_anchor).read().strip())
        print(f"resolverd config ({conf}):\n")
        print(open(conf).read())
        print(f"  run:  {opts.build_dir}/resolverd -c {conf}")
        print(f"  then: dig +dnssec @{RESOLVERD_ADDR} www.ecdsa256.sec A")
        print(f"        {opts.build_dir}/resolverctl -s {control} explain www.expired.sec")
        print("  zones: " + ", ".join(LEAVES) + ", unsigned.optout.sec")
        print("  served by dnssec_attacker.py (forged names: see its FORGERIES): "
              + ", ".join(ATTACK_VICTIMS) + f"; its log: {h.attacker_log}")
        if opts.resolver != "none":
            addr = UNBOUND_ADDR if opts.resolver == "unbound" else RESOLVERD_ADDR
            res = ValidatingResolver(opts.resolver, opts.build_dir, h, os.path.join(base, "resolver"), addr,
                                     control_socket=control if opts.resolver == "resolverd" else "").start()
            print(f"\nvalidating {opts.resolver} running on {addr} (pid {res.proc.pid}),"
                  f" log {res.log_path}")
        print("\nCtrl-C to stop.", flush=True)
        while True:
            time.sleep(1)
            if res is not None and not res.alive():
                print(f"resolver exited:\n{res.logs()}")
                break
    except KeyboardInterrupt:
        print("\nstopping...")
    finally:
        if res is not None:
            res.stop()
        h.stop()
        procs.stop_all()


if __name__ == "__main__":
    main()
