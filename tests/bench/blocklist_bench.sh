#!/usr/bin/env bash
# The cost of a large blocklist (issue 9): resident memory per entry, load time, and
# the throughput of cached answers with the list loaded, with Debian's unbound loading
# the same names as local zones side by side.
#
#   tests/bench/blocklist_bench.sh              # 1,000,000 names
#   BLOCKLIST_NAMES=200000 tests/bench/blocklist_bench.sh
#   BLOCKLIST_SKIP_THROUGHPUT=1 ...             # memory and load time only
#
# 1. A list of N distinct names is generated (domains format: one per line, lengths
#    and label counts like those of the public lists).
# 2. Memory and load time: resolverd starts once without the list and once with it
#    (127.77.1.1); the time is from exec to the first answer (`localhost`, which never
#    leaves the process), and also the time of `resolverctl reload` with the list
#    loaded; memory is the difference of VmRSS. unbound (127.77.1.2) does the same
#    with one `local-zone: "NAME." always_nxdomain` line per name.
# 3. Throughput: tests/bench/bench.sh runs twice, with and without the list
#    (BENCH_OURS_EXTRA); the cache-hit figure of each run is printed next to unbound's
#    in the same run, so that a drift of the machine between runs shows.
# Nothing is sent beyond loopback; every process started here is stopped by PID.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT_DIR/build}
NAMES=${BLOCKLIST_NAMES:-1000000}
OURS_ADDR=127.77.1.1
UNBOUND_ADDR=127.77.1.2
NOWHERE=127.77.1.53  # the root hints point here: nothing listens, nothing is asked

for tool in unbound dig dnsperf nsd; do
  command -v "$tool" >/dev/null || { echo "blocklist_bench: $tool is missing (scripts/deps.sh --test)" >&2; exit 2; }
done
[[ -x $BUILD_DIR/resolverd ]] || { echo "blocklist_bench: build $BUILD_DIR/resolverd first" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "blocklist_bench: needs root (port 53 on loopback)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/blocklist-bench.XXXXXX)
declare -a STARTED=()
stop_pid() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
  local status=$?
  for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
answers_localhost() { dig +short +time=1 +tries=1 @"$1" localhost A 2>/dev/null | grep -q '^127\.0\.0\.1$'; }
wait_answering() {  # address pid -> 0 when it answers within 120 s
  local deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    answers_localhost "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

# --- the list --------------------------------------------------------------------
echo "generating $NAMES names"
awk -v n="$NAMES" 'BEGIN {
  srand(20261201)
  split("ads track metrics pixel cdn stat log api telemetry beacon", words, " ")
  split("com net org io info co.uk de fr xyz app", tlds, " ")
  for (i = 0; i < n; i++) {
    name = words[1 + int(rand() * 10)] sprintf("%x", i * 2654435761 % 4294967296)
    if (rand() < 0.6) name = name "." words[1 + int(rand() * 10)] int(rand() * 500)
    print name ".example" int(i % 977) "." tlds[1 + int(rand() * 10)]
  }
}' >"$WORK/list.txt"
bytes=$(stat -c %s "$WORK/list.txt")
echo "  $WORK/list.txt: $(wc -l <"$WORK/list.txt") lines, $((bytes / 1024 / 1024)) MiB"
printf '. 3600000 IN NS nowhere.\nnowhere. 3600000 IN A %s\n' "$NOWHERE" >"$WORK/root.hints"

# --- resolverd ----------------------------------------------------------------------
ours_conf() {  # file with_list
  cat >"$1" <<EOF
listen: [$OURS_ADDR@53]
access-control: [127.0.0.0/8 allow]
threads: 1
log-level: warning
resolver: {root-hints: $WORK/root.hints}
cache: {size: 64M, snapshot: ""}
dnssec: {validation: false, trust-anchor-files: [], trust-anchor-signaling: false}
control: {socket: "$WORK/ours.sock"}
http: {listen: []}
EOF
  if [[ $2 == 1 ]]; then echo "blocklists: [{file: $WORK/list.txt, format: domains, name: bench}]" >>"$1"; fi
}

run_ours() {  # with_list -> "load_ms rss_kb"
  ours_conf "$WORK/ours.yaml" "$1"
  local start pid ready
  start=$(now_ms)
  "$BUILD_DIR/resolverd" -c "$WORK/ours.yaml" >"$WORK/ours.log" 2>&1 &
  pid=$!
  STARTED+=("$pid")
  wait_answering "$OURS_ADDR" "$pid" || { echo "resolverd did not start:" >&2; cat "$WORK/ours.log" >&2; exit 1; }
  ready=$(now_ms)
  sleep 0.5
  local rss reload_ms=0
  rss=$(rss_kb "$pid")
  if [[ $1 == 1 ]]; then
    local t0 t1
    t0=$(now_ms)
    "$BUILD_DIR/resolverctl" -s "$WORK/ours.sock" reload >/dev/null
    t1=$(now_ms)
    reload_ms=$((t1 - t0))
    # A blocked name really is blocked.
    dig +time=2 +tries=1 @"$OURS_ADDR" "$(sed -n "$(( (NAMES + 1) / 2 ))p" "$WORK/list.txt")" A | grep -q 'status: NXDOMAIN' \
      || { echo "a listed name was not blocked" >&2; exit 1; }
    "$BUILD_DIR/resolverctl" -s "$WORK/ours.sock" --json stats >"$WORK/ours.stats"
  fi
  stop_pid "$pid"
  echo "$((ready - start)) $rss $reload_ms"
}

# --- unbound ------------------------------------------------------------------------
unbound_conf() {  # file with_list
  cat >"$1" <<EOF
server:
  interface: $UNBOUND_ADDR
  port: 53
  access-control: 127.0.0.0/8 allow
  do-daemonize: no
  chroot: ""
  username: ""
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 0
  num-threads: 1
  root-hints: "$WORK/root.hints"
  module-config: "iterator"
EOF
  if [[ $2 == 1 ]]; then awk '{ printf "  local-zone: \"%s.\" always_nxdomain\n", $0 }' "$WORK/list.txt" >>"$1"; fi
}

run_unbound() {  # with_list -> "load_ms rss_kb"
  unbound_conf "$WORK/unbound.conf" "$1"
  local start pid ready rss
  start=$(now_ms)
  unbound -d -c "$WORK/unbound.conf" >"$WORK/unbound.log" 2>&1 &
  pid=$!
  STARTED+=("$pid")
  wait_answering "$UNBOUND_ADDR" "$pid" || { echo "unbound did not start:" >&2; cat "$WORK/unbound.log" >&2; exit 1; }
  ready=$(now_ms)
  sleep 0.5
  rss=$(rss_kb "$pid")
  stop_pid "$pid"
  echo "$((ready - start)) $rss"
}

echo "memory and load time"
# Not in $(...): a subshell's STARTED would not reach the cleanup at exit.
run_ours 0 >"$WORK/ours-0.result"
run_ours 1 >"$WORK/ours-1.result"
run_unbound 0 >"$WORK/unbound-0.result"
run_unbound 1 >"$WORK/unbound-1.result"
read -r ours_base_ms ours_base_kb _ <"$WORK/ours-0.result"
read -r ours_list_ms ours_list_kb ours_reload_ms <"$WORK/ours-1.result"
read -r unbound_base_ms unbound_base_kb <"$WORK/unbound-0.result"
read -r unbound_list_ms unbound_list_kb <"$WORK/unbound-1.result"
policy_bytes=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(int(d.get("data", d)["policy_bytes"]))' \
  "$WORK/ours.stats" 2>/dev/null || true)

per_entry() { awk -v a="$1" -v b="$2" -v n="$NAMES" 'BEGIN { printf "%.1f", (b - a) * 1024 / n }'; }
ours_per=$(per_entry "$ours_base_kb" "$ours_list_kb")
unbound_per=$(per_entry "$unbound_base_kb" "$unbound_list_kb")
ours_load=$((ours_list_ms - ours_base_ms))

echo
printf '%-34s %14s %14s %12s\n' "$NAMES names" resolverd unbound target
printf '%-34s %14s %14s %12s\n' "resident KiB without the list" "$ours_base_kb" "$unbound_base_kb" ""
printf '%-34s %14s %14s %12s\n' "resident KiB with the list" "$ours_list_kb" "$unbound_list_kb" ""
printf '%-34s %14s %14s %12s\n' "resident bytes per entry" "$ours_per" "$unbound_per" "<= 40"
printf '%-34s %14s %14s %12s\n' "start to first answer, ms (no list)" "$ours_base_ms" "$unbound_base_ms" ""
printf '%-34s %14s %14s %12s\n' "start to first answer, ms (list)" "$ours_list_ms" "$unbound_list_ms" ""
printf '%-34s %14s %14s %12s\n' "load time of the list, ms" "$ours_load" "$((unbound_list_ms - unbound_base_ms))" "< 2000"
printf '%-34s %14s %14s %12s\n' "resolverctl reload with it, ms" "$ours_reload_ms" "" "< 2000"
[[ -n $policy_bytes ]] && printf '%-34s %14s\n' "policy_bytes (resolverctl stats)" "$policy_bytes"

if [[ ${BLOCKLIST_SKIP_THROUGHPUT:-0} == 1 ]]; then exit 0; fi

echo
ROUNDS=${BLOCKLIST_ROUNDS:-3}
echo "cached-answer throughput: tests/bench/bench.sh without and with the list, alternating, $ROUNDS rounds"
echo "(the cost is our CPU time per cached answer, which other load on the machine does not change;"
echo " the rate moves with that load, as unbound's column shows)"
hit_line() { grep '^cache-hit' "$1" | tr -s ' |' ' '; }
cpu_of() { awk -v side="$2" '$1 == side && $3 == "us" { print $2 }' "$1"; }
printf '%-6s %12s %12s %12s %12s %14s %14s %8s\n' round "qps no list" "qps list" "unb. qps 1" "unb. qps 2" \
  "us/q no list" "us/q list" cost
costs=()
for round in $(seq "$ROUNDS"); do
  BENCH_MISS_SECONDS=${BENCH_MISS_SECONDS:-3} bash "$ROOT_DIR/tests/bench/bench.sh" >"$WORK/bench-plain.txt" 2>&1
  BENCH_MISS_SECONDS=${BENCH_MISS_SECONDS:-3} \
    BENCH_OURS_EXTRA="blocklists: [{file: $WORK/list.txt, format: domains, name: bench}]" \
    bash "$ROOT_DIR/tests/bench/bench.sh" >"$WORK/bench-list.txt" 2>&1
  read -r _ plain_ours plain_unbound _ < <(hit_line "$WORK/bench-plain.txt")
  read -r _ list_ours list_unbound _ < <(hit_line "$WORK/bench-list.txt")
  plain_cpu=$(cpu_of "$WORK/bench-plain.txt" ours)
  list_cpu=$(cpu_of "$WORK/bench-list.txt" ours)
  cost=$(awk -v a="$plain_cpu" -v b="$list_cpu" 'BEGIN { printf "%.1f", (b / a - 1) * 100 }')
  costs+=("$cost")
  printf '%-6s %12s %12s %12s %12s %14s %14s %7s%%\n' "$round" "$plain_ours" "$list_ours" "$plain_unbound" \
    "$list_unbound" "$plain_cpu" "$list_cpu" "$cost"
done
median=$(printf '%s\n' "${costs[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
printf '%-40s %7s%%   target < 5%%\n' "CPU cost per cached answer (median)" "$median"
