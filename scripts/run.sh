#!/usr/bin/env bash
# Installs what is missing, builds, and runs resolverd in the foreground with the
# shipped configuration (conf/resolver.yaml: 127.0.0.1@53 and ::1@53, loopback only).
# Extra arguments are passed to resolverd (for example: -c my.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESOLVER_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target resolverd dnsq
if (($#)); then exec ./build/resolverd "$@"; fi
exec ./build/resolverd -c conf/resolver.yaml
