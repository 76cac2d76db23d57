#!/usr/bin/env bash
# Throughput and latency of resolverd against Debian's unbound, measured the same way
# in the same run. See tests/bench/README.md for how to read the table.
#
#   tests/bench/bench.sh                        # ours = build/resolverd
#   BENCH_OURS_CMD=unbound tests/bench/bench.sh # both sides unbound (checks the script)
#
# Layout (all on loopback, port 53, so this needs root):
#   127.77.0.53  nsd: the root zone "."       127.77.0.54  nsd: "bench." with N names
#   127.77.0.1   our resolver                 127.77.0.2   unbound
# Every process started here is stopped by PID when the script exits.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT_DIR/build}
OURS_CMD=${BENCH_OURS_CMD:-"$BUILD_DIR/resolverd -c {config}"}
NAME_COUNT=${BENCH_NAMES:-20000}     # names in the bench. zone
HOT_COUNT=${BENCH_HOT_NAMES:-1000}   # names the cache-hit phase cycles through
HIT_SECONDS=${BENCH_HIT_SECONDS:-10}
MISS_SECONDS=${BENCH_MISS_SECONDS:-10}  # upper bound; the phase ends when names run out
OUTSTANDING=${BENCH_OUTSTANDING:-100}   # dnsperf -q: queries in flight
CACHE_MB=${BENCH_CACHE_MB:-256}
HTTP=${BENCH_HTTP:-0}                   # 1: ours serves HTTP (and keeps its query log) on @8053
OURS_EXTRA=${BENCH_OURS_EXTRA:-}        # more YAML for our configuration (blocklist_bench.sh: the lists)

RESOLVER_THREADS=1
TRUST_ANCHOR=""                         # validation off on both sides

ROOT_AUTH=127.77.0.53
BENCH_AUTH=127.77.0.54
OURS_ADDR=127.77.0.1
UNBOUND_ADDR=127.77.0.2

if (( HOT_COUNT >= NAME_COUNT )); then
  echo "bench: BENCH_HOT_NAMES must be below BENCH_NAMES" >&2
  exit 2
fi

# shellcheck source=tests/bench/lib.sh
source "$ROOT_DIR/tests/bench/lib.sh"
bench_init bench
require_tools nsd nsd-control unbound dnsperf

# ---------------------------------------------------------------------------------
# The authoritative side is lib.sh's plain_hierarchy: a root zone delegating bench. to a
# second server, so each first lookup follows a real referral, and "bench." holds the
# names to resolve.

write_queries() {
  awk -v n="$HOT_COUNT" 'BEGIN { for (i = 1; i <= n; i++) printf "n%d.bench. A\n", i }' >"$WORK/hot.queries"
  awk -v from="$((HOT_COUNT + 1))" -v to="$NAME_COUNT" \
    'BEGIN { for (i = from; i <= to; i++) printf "n%d.bench. A\n", i }' >"$WORK/miss.queries"
}

# ---------------------------------------------------------------------------------
# Measuring

run_side() {  # side address -> writes $WORK/<side>.results
  local side=$1 address=$2 pid
  pid=$(start_resolver "$side" "$address")
  STARTED_PIDS+=("$pid")
  if ! wait_until_answering "$address" ". NS" "$side resolver ($(cat "$WORK/$side/command"))" "$pid"; then
    tail -20 "$WORK/$side/stdout" >&2 || true
    return 1
  fi
  local rss_start rss_end
  rss_start=$(rss_kb "$pid")
  log "$side: warming the cache with $HOT_COUNT names"
  measure "$address" "$WORK/hot.queries" "$WORK/$side.warm" -n 1 >/dev/null
  log "$side: cache hits for ${HIT_SECONDS}s"
  local hit miss cpu_before cpu_after
  cpu_before=$(cpu_ticks "$pid")
  hit=$(measure "$address" "$WORK/hot.queries" "$WORK/$side.hit" -l "$HIT_SECONDS")
  cpu_after=$(cpu_ticks "$pid")
  log "$side: cache misses over $((NAME_COUNT - HOT_COUNT)) fresh names (at most ${MISS_SECONDS}s)"
  miss=$(measure "$address" "$WORK/miss.queries" "$WORK/$side.miss" -n 1 -l "$MISS_SECONDS")
  rss_end=$(rss_kb "$pid")
  # The resolver's CPU time per cached answer: robust to other load on the machine,
  # which lowers the rate but not the work per query.
  local hit_cpu_us
  hit_cpu_us=$(awk -v t=$((cpu_after - cpu_before)) -v hz="$(getconf CLK_TCK)" -v n="$(echo "$hit" | awk '{ print $5 }')" \
    'BEGIN { if (n > 0) printf "%.3f", t / hz * 1e6 / n; else print "nan" }')
  printf 'hit %s\nmiss %s\nmemory %s %s\nhitcpu %s\n' "$hit" "$miss" "$rss_start" "$rss_end" "$hit_cpu_us" \
    >"$WORK/$side.results"
  # One side at a time has the CPU: stop this resolver before the other starts.
  stop_started "$pid"
}

field() {  # side phase index
  awk -v phase="$2" -v i="$3" '$1 == phase { print $(i + 1) }' "$WORK/$1.results"
}

print_table() {
  local ours_label="ours"
  [[ $OURS_CMD == unbound ]] && ours_label="ours(=unbound)"
  echo
  echo "resolverd benchmark: $NAME_COUNT names, $HOT_COUNT hot, 1 thread, ${CACHE_MB}M cache, validation off, $OUTSTANDING in flight"
  echo "ours: $(cat "$WORK/ours/command")"
  echo
  printf '%-10s | %18s %12s %7s | %9s %9s | %9s %9s\n' phase "$ours_label QPS" "unbound QPS" ratio \
    "ours avg" "ours p99" "unb. avg" "unb. p99"
  printf '%-10s | %18s %12s %7s | %9s %9s | %9s %9s\n' "" "" "" "" ms ms ms ms
  printf -- '-----------+------------------------------------------+---------------------+--------------------\n'
  local phase label
  for phase in hit miss; do
    label=$([[ $phase == hit ]] && echo cache-hit || echo cache-miss)
    local oq uq
    oq=$(field ours "$phase" 1)
    uq=$(field unbound "$phase" 1)
    printf '%-10s | %18.0f %12.0f %7s | %9s %9s | %9s %9s\n' "$label" "$oq" "$uq" \
      "$(awk -v a="$oq" -v b="$uq" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')" \
      "$(field ours "$phase" 2)" "$(field ours "$phase" 3)" "$(field unbound "$phase" 2)" "$(field unbound "$phase" 3)"
  done
  echo
  echo "resolver CPU time per cached answer (user + system):"
  for side in ours unbound; do
    printf '  %-8s %8s us\n' "$side" "$(field "$side" hitcpu 1)"
  done
  echo
  echo "memory (resident set; every name of the zone cached once, no DNSSEC):"
  for side in ours unbound; do
    local before after
    before=$(field "$side" memory 1)
    after=$(field "$side" memory 2)
    printf '  %-8s %8s KiB at start, %8s KiB after %s names: %s bytes per cached name\n' "$side" "$before" "$after" \
      "$NAME_COUNT" "$(awk -v a="$after" -v b="$before" -v n="$NAME_COUNT" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')"
  done
  echo
  echo "answers (sent / completed / NOERROR):"
  for side in ours unbound; do
    for phase in hit miss; do
      printf '  %-8s %-5s %8s / %8s / %8s\n' "$side" "$phase" "$(field "$side" "$phase" 4)" \
        "$(field "$side" "$phase" 5)" "$(field "$side" "$phase" 6)"
    done
  done
}

# ---------------------------------------------------------------------------------

started=$(date +%s)
log "working in $WORK"
plain_hierarchy zones bench "$ROOT_AUTH" "$BENCH_AUTH" "$NAME_COUNT"
ROOT_HINTS=$WORK/zones/root.hints
write_queries

run_side ours "$OURS_ADDR"
run_side unbound "$UNBOUND_ADDR"
print_table
log "done in $(( $(date +%s) - started ))s"
