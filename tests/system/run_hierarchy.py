#!/usr/bin/python3
"""Start the system-test DNS hierarchy in the foreground for manual work.

    sudo /usr/bin/python3 tests/system/run_hierarchy.py [--dir DIR]
         [--resolver resolverd|unbound|none] [--build-dir BUILD] [--no-qmin]

Prints the root hints path and a resolverd config that uses it (written to
DIR/resolverd.yaml).  With --resolver it also starts that resolver on
127.53.0.1.  Ctrl-C (or SIGTERM) stops everything it started, by PID.
"""

import argparse
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import procs  # noqa: E402
from hierarchy import LEAVES, Hierarchy  # noqa: E402
from resolver_process import ResolverProcess  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dir", default=None, help="work dir (default: a new temp dir)")
    ap.add_argument("--resolver", default="none", choices=["none", "resolverd", "unbound"])
    ap.add_argument("--build-dir", default=os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build"))
    ap.add_argument("--no-qmin", action="store_true")
    opts = ap.parse_args()

    base = opts.dir or tempfile.mkdtemp(prefix="resolverd-hierarchy-")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    h = Hierarchy(os.path.join(base, "auth"))
    res = None
    try:
        h.start()
        conf = os.path.join(base, "resolverd.yaml")
        control = os.path.join(base, "control.sock")
        with open(conf, "w") as f:
            f.write(h.resolverd_config(qmin=not opts.no_qmin, control_socket=control))
        print(f"hierarchy up in {base}")
        print(f"root hints: {h.root_hints}")
        print(f"resolverd config ({conf}):\n")
        print(open(conf).read())
        print(f"  run:  {opts.build_dir}/resolverd -c {conf}")
        print("  then: dig @127.53.0.1 www.alpha.test A   (zones: "
              + ", ".join(list(LEAVES)[:4]) + ", ...)")
        print(f"        {opts.build_dir}/resolverctl -s {control} explain start.alpha.test")
        if opts.resolver != "none":
            res = ResolverProcess(opts.resolver, opts.build_dir, h.root_hints,
                                  os.path.join(base, "resolver"), qmin=not opts.no_qmin,
                                  control_socket=control if opts.resolver == "resolverd" else "").start()
            print(f"\n{opts.resolver} running on 127.53.0.1 (pid {res.proc.pid}),"
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
