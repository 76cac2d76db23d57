#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages that building (and, with --test,
# testing) resolverd needs, skipping those already present.
set -euo pipefail

build_packages=(cmake g++ make pkg-config libldns-dev libuv1-dev libc-ares-dev libyaml-cpp-dev
                libssl-dev libgtest-dev libgmock-dev dns-root-data nlohmann-json3-dev libsystemd-dev
                zlib1g-dev libcpp-httplib-dev libxxhash-dev libnghttp2-dev libjemalloc-dev)
# clang and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes): the fuzz stage
# of scripts/test.sh (tests/fuzz/).
test_packages=(python3 python3-pytest python3-dnspython nsd unbound tcpdump dnsutils ldnsutils
               faketime dnsperf systemd clang libclang-rt-14-dev)

wanted=("${build_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then
  wanted+=("${test_packages[@]}")
  if [[ -f "$(dirname "$0")/../tests/system/requirements-apt.txt" ]]; then
    while read -r pkg; do [[ -n "$pkg" ]] && wanted+=("$pkg"); done \
      < "$(dirname "$0")/../tests/system/requirements-apt.txt"
  fi
fi

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian starts nsd and unbound as services when installed; the tests run their own.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
