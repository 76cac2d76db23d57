#!/usr/bin/env bash
# Scale-out behind dnsdist: cache hit ratio and cached-answer rate through dnsdist
# (conf/dnsdist.conf.example, started by scripts/scale_out.sh) with one backend, two
# backends with consistent hashing (chashed) and two with round-robin. See
# tests/bench/README.md.
#
#   tests/bench/scale_out_bench.sh        # needs root (NSD on port 53), nsd, dnsdist, dnsperf
#
# Layout (loopback, port 53):
#   127.78.0.53  nsd: the root zone "."      127.78.0.54  nsd: "bench." with N names
#   127.78.0.1   dnsdist                     127.78.0.11, 127.78.0.12  resolverd backends
# Every process started here is stopped by PID when the script exits.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${SCALE_BUILD_DIR:-$ROOT_DIR/build}
NAME_COUNT=${SCALE_NAMES:-2000}         # distinct names in the workload
ASKED_TIMES=${SCALE_TIMES:-4}           # how often the workload asks each name
SECONDS_PER_RATE=${SCALE_SECONDS:-10}   # length of each cached-answer phase
OUTSTANDING=${SCALE_OUTSTANDING:-100}   # dnsperf -q: queries in flight

ROOT_AUTH=127.78.0.53
BENCH_AUTH=127.78.0.54
FRONTEND=127.78.0.1
BACKENDS=(127.78.0.11 127.78.0.12)

# shellcheck source=tests/bench/lib.sh
source "$ROOT_DIR/tests/bench/lib.sh"
# Files kept with BENCH_KEEP=1 (or SCALE_KEEP=1) after a success, always after a failure.
BENCH_KEEP=${BENCH_KEEP:-${SCALE_KEEP:-0}}
# First: log (and so require_tools) needs the prefix it sets.
bench_init scale-bench
require_tools nsd dnsdist dnsperf
for binary in resolverd resolverctl; do
  [[ -x $BUILD_DIR/$binary ]] || { log "$BUILD_DIR/$binary not built"; exit 2; }
done

# --- the authoritative side ---------------------------------------------------------

plain_hierarchy zones bench "$ROOT_AUTH" "$BENCH_AUTH" "$NAME_COUNT"
# The hit-ratio workload: each name ASKED_TIMES times, in a fixed shuffled order.
awk -v n="$NAME_COUNT" -v k="$ASKED_TIMES" 'BEGIN { srand(10); for (i = 1; i <= n; i++) for (j = 0; j < k; j++) printf "%.9f n%d.bench. A\n", rand(), i }' |
  sort -n | cut -d' ' -f2- >"$WORK/workload.queries"
awk -v n="$NAME_COUNT" 'BEGIN { for (i = 1; i <= n; i++) printf "n%d.bench. A\n", i }' >"$WORK/hot.queries"

# --- one setup: scripts/scale_out.sh with fresh backends ------------------------------

counter() {  # control-socket name -> value
  "$BUILD_DIR/resolverctl" -s "$1" stats | awk -F= -v name="$2" '$1 == name { print $2 }'
}

backend_hits() {  # dir backend-count -> each backend's cache hits, space-separated
  local dir=$1 count=$2 out=()
  for ((n = 1; n <= count; n++)); do out+=("$(counter "$dir/backend-$n/control.sock" cache_hits_total)"); done
  echo "${out[*]}"
}

cache_totals() {  # dir backend-count -> "hits misses" summed over the backends
  local dir=$1 count=$2 hits=0 misses=0
  for ((n = 1; n <= count; n++)); do
    hits=$((hits + $(counter "$dir/backend-$n/control.sock" cache_hits_total)))
    misses=$((misses + $(counter "$dir/backend-$n/control.sock" cache_misses_total)))
  done
  echo "$hits $misses"
}

cpu_ticks_sum() {  # pid... -> lib.sh's cpu_ticks of each, summed (0 for none)
  local total=0 pid
  for pid in "$@"; do total=$((total + $(cpu_ticks "$pid"))); done
  echo "$total"
}

dnsperf_summary() {  # log -> "qps sent completed"
  awk '/Queries per second:/ { q = $4 } /Queries sent:/ { s = $3 } /Queries completed:/ { c = $3 }
       END { printf "%s %s %s\n", q + 0, s + 0, c + 0 }' "$1"
}

# Every answer of a phase must be NOERROR (each name exists), and there must be
# answers: a table of SERVFAILs (an authority down, a backend failing) would look
# like figures.
require_noerror() {  # label phase log
  local completed noerror
  completed=$(awk '/Queries completed:/ { print $3 }' "$3")
  noerror=$(awk '/Response codes:/ { for (i = 3; i < NF; i++) if ($i == "NOERROR") print $(i + 1) }' "$3")
  if [[ ${completed:-0} -eq 0 || ${noerror:-0} -ne ${completed:-0} ]]; then
    log "$1: $2: ${noerror:-0} of ${completed:-0} answers NOERROR ($(grep -m1 'Response codes:' "$3" | sed 's/^ *//' || echo 'no answers')); see $3"
    exit 1
  fi
}

run_setup() {  # label policy backend-count
  local label=$1 policy=$2 count=$3 dir="$WORK/$1" backends="" script_pid
  for ((n = 0; n < count; n++)); do backends+="${backends:+,}${BACKENDS[n]}:53"; done
  log "$label: starting dnsdist ($policy) and $count backend(s)"
  bash "$ROOT_DIR/scripts/scale_out.sh" --build-dir "$BUILD_DIR" --root-hints "$WORK/zones/root.hints" --dir "$dir" \
    --listen "$FRONTEND:53" --backends "$backends" --policy "$policy" --webserver "$FRONTEND:8083" \
    >"$WORK/$label.script.log" 2>&1 &
  script_pid=$!
  STARTED_PIDS+=("$script_pid")
  for _ in $(seq 600); do
    grep -q "Ctrl-C" "$WORK/$label.script.log" && break
    kill -0 "$script_pid" 2>/dev/null || { cat "$WORK/$label.script.log" >&2; exit 1; }
    sleep 0.1
  done
  grep -q "Ctrl-C" "$WORK/$label.script.log" || { log "$label: scale_out.sh did not start"; exit 1; }

  local before after
  before=$(cache_totals "$dir" "$count")
  log "$label: hit-ratio workload, $NAME_COUNT names x $ASKED_TIMES"
  dnsperf -s "$FRONTEND" -p 53 -d "$WORK/workload.queries" -n 1 -q "$OUTSTANDING" >"$WORK/$label.workload.log" 2>&1 || true
  after=$(cache_totals "$dir" "$count")
  require_noerror "$label" "hit-ratio workload" "$WORK/$label.workload.log"
  local dnsdist_pid backend_pids dnsdist_cpu backends_cpu
  dnsdist_pid=$(awk '$1 == "dnsdist" { gsub(/[^0-9]/, "", $4); print $4 }' "$WORK/$label.script.log")
  backend_pids=$(awk '$1 ~ /^resolverd-/ { gsub(/[^0-9]/, "", $4); print $4 }' "$WORK/$label.script.log")
  log "$label: cached answers for ${SECONDS_PER_RATE}s"
  dnsdist_cpu=$(cpu_ticks_sum "$dnsdist_pid")
  # shellcheck disable=SC2086 # one PID per word
  backends_cpu=$(cpu_ticks_sum $backend_pids)
  local split_before split_after split=""
  split_before=$(backend_hits "$dir" "$count")
  dnsperf -s "$FRONTEND" -p 53 -d "$WORK/hot.queries" -l "$SECONDS_PER_RATE" -q "$OUTSTANDING" >"$WORK/$label.rate.log" 2>&1 || true
  split_after=$(backend_hits "$dir" "$count")
  require_noerror "$label" "cached answers" "$WORK/$label.rate.log"
  split=$(paste <(tr ' ' '\n' <<<"$split_before") <(tr ' ' '\n' <<<"$split_after") |
    awk '{ d[NR] = $2 - $1; t += d[NR] } END { for (i = 1; i <= NR; i++) printf "%s%.0f", (i > 1 ? "/" : ""), t ? 100 * d[i] / t : 0 }')
  dnsdist_cpu=$(($(cpu_ticks_sum "$dnsdist_pid") - dnsdist_cpu))
  # shellcheck disable=SC2086
  backends_cpu=$(($(cpu_ticks_sum $backend_pids) - backends_cpu))
  echo "$label $policy $count $before $after $(dnsperf_summary "$WORK/$label.workload.log") $(dnsperf_summary "$WORK/$label.rate.log") $dnsdist_cpu $backends_cpu $split" \
    >>"$WORK/results"
  # scale_out.sh stops its dnsdist and backends on SIGTERM.
  stop_started "$script_pid"
}

# SCALE_SETUPS picks and orders the setups (default: all three).
for setup in ${SCALE_SETUPS:-one-backend chashed roundrobin}; do
  case $setup in
    one-backend) run_setup one-backend chashed 1 ;;
    chashed) run_setup chashed chashed 2 ;;
    roundrobin) run_setup roundrobin roundrobin 2 ;;
    *) log "unknown setup $setup (one-backend, chashed, roundrobin)"; exit 2 ;;
  esac
done

echo
echo "scale-out through dnsdist $(dnsdist --version | awk 'NR == 1 { print $2 }'): $NAME_COUNT names x $ASKED_TIMES (hit ratio), cached answers for ${SECONDS_PER_RATE}s, $OUTSTANDING in flight"
printf '%-12s %-10s %8s | %9s %7s %7s | %10s %6s %9s %12s %12s\n' setup policy backends "hit ratio" hits misses \
  "cached QPS" lost split "dnsdist CPU" "backends CPU"
printf '%-12s %-10s %8s | %9s %7s %7s | %10s %6s %9s %12s %12s\n' "" "" "" "" "" "" "" "" "%" "us/answer" "us/answer"
printf -- '%s+%s+%s\n' "$(printf -- '-%.0s' {1..33})" "$(printf -- '-%.0s' {1..27})" "$(printf -- '-%.0s' {1..54})"
awk -v hz="$(getconf CLK_TCK)" '{ hits = $6 - $4; misses = $7 - $5; total = hits + misses; answered = $13
       printf "%-12s %-10s %8d | %9.3f %7d %7d | %10.0f %6d %9s %12.1f %12.1f\n", $1, $2, $3, total ? hits / total : 0, hits,
              misses, $11, $12 - $13, $16, answered ? $14 / hz * 1e6 / answered : 0, answered ? $15 / hz * 1e6 / answered : 0 }' \
  "$WORK/results"
awk '$9 != $10 { printf "note: %s lost %d of %d workload queries (hit ratio over those answered)\n", $1, $9 - $10, $9 }' "$WORK/results"
