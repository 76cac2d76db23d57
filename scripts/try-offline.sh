#!/usr/bin/env bash
# Builds resolverd and runs it against a local DNS hierarchy (a root, TLDs and leaf
# zones served by NSD on 127.x addresses), so it can be tried without the Internet:
#   dig @127.53.0.1 www.alpha.test A
# With --signed, the hierarchy is DNSSEC-signed (keys made now) and resolverd
# validates against its root anchor:
#   dig @127.21.0.2 +dnssec www.ecdsa256.sec A     (AD set)
#   dig @127.21.0.2 www.tampered.sec A             (SERVFAIL, EDE 6)
#   build/resolverctl -s DIR/control.sock explain www.tampered.sec   (why: every step)
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --test
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target resolverd resolverctl dnsq
if [[ "${1:-}" == "--signed" ]]; then
  shift
  exec /usr/bin/python3 tests/system/run_signed_hierarchy.py --resolver resolverd --build-dir build "$@"
fi
exec /usr/bin/python3 tests/system/run_hierarchy.py --resolver resolverd --build-dir build "$@"
