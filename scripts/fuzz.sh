#!/usr/bin/env bash
# Runs libFuzzer targets, one after another, each over a temporary copy of its
# seed corpus (tests/fuzz/corpus/<target>/), so that the corpus in the tree never
# changes behind the reviewer's back. Fails on any crash, leak, sanitizer report,
# timeout or out-of-memory, leaving the reproducer and the log in the log folder.
#
#   scripts/fuzz.sh [-s SECONDS] [-b BUILD_DIR] [-o LOG_DIR] [-k] [TARGET...]
#
#   -s  seconds per target (default 60); 0 skips fuzzing altogether
#   -b  the clang build with -DRESOLVER_FUZZ=ON (default build-fuzz)
#   -o  where logs and crash artifacts go (default BUILD_DIR/fuzz-logs)
#   -k  keep the grown corpus (printed), e.g. to pick new seeds from it
#   TARGET  default: every target that has a corpus folder
#
# scripts/test.sh builds the targets and calls this; locally, for a long run:
#   nice -n 19 scripts/fuzz.sh -s 3600 validator_fuzz
# One line per target: executions, speed, coverage (libFuzzer's "cov" is covered
# edges, "ft" features), corpus size before and after.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
build_dir=build-fuzz
log_dir=
keep=0
while getopts "s:b:o:k" opt; do
  case "$opt" in
    s) seconds="$OPTARG" ;;
    b) build_dir="$OPTARG" ;;
    o) log_dir="$OPTARG" ;;
    k) keep=1 ;;
    *) echo "usage: $0 [-s SECONDS] [-b BUILD_DIR] [-o LOG_DIR] [-k] [TARGET...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
log_dir="${log_dir:-$build_dir/fuzz-logs}"
if ((seconds == 0)); then
  echo "fuzzing skipped (0 seconds)"
  exit 0
fi

targets=("$@")
if ((${#targets[@]} == 0)); then
  for dir in tests/fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi
mkdir -p "$log_dir"

# Leaks and UBSan reports are failures; a stack trace makes the log useful.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:handle_abort=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

failed=()
for target in "${targets[@]}"; do
  binary="$build_dir/tests/fuzz/$target"
  seeds="tests/fuzz/corpus/$target"
  if [[ ! -x "$binary" || ! -d "$seeds" ]]; then
    echo "fuzz $target: missing $binary or $seeds" >&2
    failed+=("$target")
    continue
  fi
  corpus="$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")"
  cp -r "$seeds/." "$corpus/"
  seed_count="$(find "$corpus" -type f | wc -l)"
  log="$log_dir/$target.log"
  status=0
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: and 2 GB a leak or a
  # blow-up. -max_len is left to libFuzzer (the largest seed).
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$log_dir/$target-" "$corpus" >"$log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)"
  # The instrumented edges in the binary, to put "cov" in proportion (sanitizer
  # checks count too, so 100% is out of reach).
  edges="$(sed -n 's/^INFO: Loaded 1 modules *(\([0-9]*\) inline 8-bit counters.*/\1/p' "$log" | head -1)"
  [[ -n "$cov" && -n "$edges" ]] && cov="${cov/ ft:/ of $edges edges, ft:}"
  corpus_after="$(find "$corpus" -type f | wc -l)"
  if ((status == 0)); then
    echo "fuzz $target: ${seconds} s, ${execs:-?} execs (${speed:-?}/s), ${cov:-no coverage line}, corpus $seed_count -> $corpus_after: ok"
  else
    echo "fuzz $target: FAILED (exit $status) after ${execs:-?} execs; log $log" >&2
    grep -E 'ERROR:|runtime error|SUMMARY|property violated|Test unit written|ALARM|out-of-memory' "$log" | head -20 >&2 || true
    failed+=("$target")
  fi
  if ((keep)); then
    echo "  corpus kept in $corpus"
  else
    rm -rf "$corpus"
  fi
done

if ((${#failed[@]})); then
  echo "fuzzing failed: ${failed[*]}" >&2
  exit 1
fi
