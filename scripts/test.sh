#!/usr/bin/env bash
# Installs what is missing, builds with -Werror, runs the unit tests under
# AddressSanitizer and UndefinedBehaviorSanitizer, fuzzes every libFuzzer target for
# a minute (clang), then runs every test (unit and system) with ctest. The system
# tests start their own authoritative servers on 127.x addresses and stop them by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --test
jobs="$(nproc)"

echo "== unit tests under ASan + UBSan"
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DRESOLVER_WERROR=ON -DRESOLVER_SANITIZE=ON \
  -DRESOLVER_SYSTEM_TESTS=OFF >/dev/null
cmake --build build-sanitize -j"$jobs" --target unit_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ./build-sanitize/tests/unit_tests --gtest_brief=1

# Every libFuzzer target for RESOLVER_FUZZ_SECONDS (default 60) each, under ASan
# and UBSan, over a temporary copy of its corpus (tests/fuzz/corpus/); any crash,
# leak, sanitizer report or broken property fails the run. RESOLVER_FUZZ_SECONDS=0
# skips the stage (local runs).
fuzz_seconds="${RESOLVER_FUZZ_SECONDS:-60}"
if ((fuzz_seconds > 0)); then
  echo "== fuzz targets, ${fuzz_seconds} s each (clang, libFuzzer, ASan + UBSan)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESOLVER_WERROR=ON \
    -DRESOLVER_FUZZ=ON -DRESOLVER_SYSTEM_TESTS=OFF >/dev/null
  cmake --build build-fuzz -j"$jobs" --target fuzz_targets
  bash scripts/fuzz.sh -s "$fuzz_seconds" -b build-fuzz
fi

echo "== build (-Werror) and all tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESOLVER_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
cd build
ctest --output-on-failure --timeout 1500
