#!/usr/bin/env bash
# Issue 10's goals, measured: every figure printed next to its target.
#
#   tests/bench/speed.sh all                 # cached, cold and memory, one after the other
#   tests/bench/speed.sh cached              # one part alone; several may be named
#   BENCH_HIT_SECONDS=2 BENCH_COLD_NAMES=2000 BENCH_MEMORY_NAMES=20000 tests/bench/speed.sh all
#
# Parts (tests/bench/README.md says how to read each table):
#   cached  dnsperf cycling over hot names against an echo server (echo_server.cc, the
#           most any resolver could answer here), unbound and ours, with 1 thread
#           (placed by the scheduler, and pinned) and 2, in interleaved rounds:
#           qps, qps / echo, lost queries, resolver CPU time per answer.
#   cold    two signed zones under a signed root, both resolvers validating: N
#           existing names of an NSEC zone, N random names under the wildcard of an
#           NSEC3 zone, each asked once at dnsperf -q 500 after one warm-up query:
#           qps, ours / unbound, lost, upstream queries per name (counted at nsd).
#   memory  N names of an unsigned zone loaded into each resolver's cache: resident
#           bytes per cached name.
# Needs root (port 53 on loopback), nsd, unbound, dnsperf, ldnsutils, dig, and a
# build with tests (echo_server). Only 127.79.0.0/16 is used; every process started
# here is stopped by PID on exit. Run it under the lock the system tests take:
#   flock /tmp/resolverd-system-tests.lock tests/bench/speed.sh all
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT_DIR/build}
OURS_CMD=${BENCH_OURS_CMD:-"$BUILD_DIR/resolverd -c {config}"}
ECHO_SERVER=${BENCH_ECHO_SERVER:-$BUILD_DIR/tests/bench/echo_server}
CACHE_MB=${BENCH_CACHE_MB:-256}
# dnsperf, every part: clients (its UDP sockets, each with its own source port; the
# kernel spreads them over the SO_REUSEPORT sockets of a server's threads by a hash of
# the port, so 16 split about evenly over 2 threads where 2 or 4 often would not) and
# its own threads (each a sender and a receiver). One keeps dnsperf to about one core
# and leaves the other to a one-thread resolver.
CLIENTS=${BENCH_CLIENTS:-16}
DNSPERF_THREADS=${BENCH_DNSPERF_THREADS:-1}
# cached
HOT_COUNT=${BENCH_HOT_NAMES:-1000}
HIT_SECONDS=${BENCH_HIT_SECONDS:-6}
HIT_ROUNDS=${BENCH_HIT_ROUNDS:-5}  # each server measured this many times, interleaved
HIT_OUTSTANDING=${BENCH_HIT_OUTSTANDING:-200}
# Offered load (dnsperf -Q, queries per second); empty: as fast as the server answers.
# At a set rate the qps columns show only that the server kept up, and "lat ms" what
# a query waited at that load (receive coalescing's cost, say).
HIT_RATE=${BENCH_HIT_RATE:-}
[[ -z $HIT_RATE || $HIT_RATE =~ ^[1-9][0-9]*$ ]] || { echo "speed: BENCH_HIT_RATE must be a rate" >&2; exit 2; }
# Receive coalescing (network.udp-coalesce-usecs, resolverd's default 100): ours and
# the echo server pause alike, so the ceiling keeps the same wakes per query as ours;
# 0 measures both without (unbound has no such setting and runs as it is).
COALESCE_USECS=${BENCH_COALESCE_USECS:-100}
[[ $COALESCE_USECS =~ ^[0-9]+$ ]] && ((COALESCE_USECS <= 1000)) || {
  echo "speed: BENCH_COALESCE_USECS must be 0..1000" >&2
  exit 2
}
OURS_NETWORK="udp-coalesce-usecs: $COALESCE_USECS"
# The arrangements measured: N, N server threads where the scheduler puts them; 1p,
# one server thread pinned to CPU 0 and dnsperf to CPU 1 (taskset), "one resolver
# thread on one core and dnsperf on the other" taken literally. The two 1-thread
# arrangements differ in what limits them (see tests/bench/README.md), so both count.
THREAD_COUNTS=${BENCH_THREAD_COUNTS:-"1 1p 2"}
# cold
COLD_NAMES=${BENCH_COLD_NAMES:-50000}
COLD_OUTSTANDING=${BENCH_COLD_OUTSTANDING:-500}
COLD_THREADS=${BENCH_COLD_THREADS:-1}
# memory
MEMORY_NAMES=${BENCH_MEMORY_NAMES:-200000}
MEMORY_CACHE_MB=${BENCH_MEMORY_CACHE_MB:-1024}
MEMORY_OUTSTANDING=${BENCH_MEMORY_OUTSTANDING:-100}
KRESD=${BENCH_KRESD:-auto}  # Knot Resolver in the memory part: auto (when kresd is installed), 1, 0

# shellcheck source=tests/bench/lib.sh
source "$ROOT_DIR/tests/bench/lib.sh"

usage() {
  echo "usage: speed.sh cached|cold|memory|all ...   (tests/bench/README.md)" >&2
  exit 2
}
PARTS=()
for arg in "$@"; do
  case $arg in
    cached | cold | memory) PARTS+=("$arg") ;;
    all) PARTS+=(cached cold memory) ;;
    *) usage ;;
  esac
done
((${#PARTS[@]})) || usage

BENCH_PREFIX=speed
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
[[ $(id -u) == 0 ]] || { log "needs root (everything listens on port 53 of 127.79.x)"; exit 2; }
require_tools nsd nsd-control unbound dnsperf dig ldns-keygen ldns-signzone ldns-key2ds
[[ $OURS_CMD == unbound || -x $BUILD_DIR/resolverd ]] || { log "no $BUILD_DIR/resolverd: build it first"; exit 2; }
for arrangement in $THREAD_COUNTS; do
  [[ $arrangement =~ ^[1-9][0-9]*p?$ ]] || { log "BENCH_THREAD_COUNTS: $arrangement is neither N nor 1p"; exit 2; }
  [[ $arrangement == *p && $arrangement != 1p ]] && { log "BENCH_THREAD_COUNTS: only one thread is pinned (1p)"; exit 2; }
  [[ $arrangement == 1p ]] && require_tools taskset
done
bench_init speed
DNSPERF_EXTRA="-c $CLIENTS -T $DNSPERF_THREADS"

OURS_LABEL=ours
[[ $OURS_CMD == unbound ]] && OURS_LABEL="ours(=unbound)"

# ---------------------------------------------------------------------------------
# Shared pieces

# What a quoted figure needs beside it: the machine, its load, the versions.
print_machine() {
  local cpu commit
  cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  commit=$(git -C "$ROOT_DIR" describe --always --dirty 2>/dev/null || echo unknown)
  echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, Linux $(uname -r); load average before the run $START_LOAD"
  # Read before anything started: the benchmark itself keeps about two threads busy.
  if awk -v l="${START_LOAD%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 4) }'; then
    echo "warning: the machine was busy before the run (load average over a quarter of the cores): other work" \
         "shares the CPU, figures are not fit to quote"
  fi
  echo "versions: resolverd $commit, $(unbound -V 2>/dev/null | awk '/^Version/ { print "unbound " $2 }'),"\
       "$(nsd -v 2>&1 | awk '/^NSD version/ { print "nsd " $3 }'), dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }')"
}

print_commands() {  # files holding one command each
  echo "commands:"
  local file
  for file in "$@"; do
    [[ -f $file ]] && echo "  $(cat "$file")"
  done
  return 0
}

ratio() {  # a b -> a / b with two decimals, or n/a
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

verdict() {  # value op target -> "met" / "NOT met" (op: ge or le)
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (v == "n/a" || v == "nan" || v == "") { print "n/a"; exit }
    ok = (op == "ge") ? (v + 0 >= t + 0) : (v + 0 <= t + 0)
    print ok ? "met" : "NOT met"
  }'
}

cpu_us_per_query() {  # ticks completed -> microseconds
  awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n; else print "nan" }'
}

lost_text() {  # lost sent -> "N (P %)"
  awk -v l="$1" -v s="$2" 'BEGIN { printf "%d (%.3f %%)", l, (s > 0 ? 100 * l / s : 0) }'
}

# Starts a resolver side with the settings in force and waits for its first answer
# (QUERY, which also primes the root). Sets STARTED_PID.
start_side() {  # side address dir query
  local pid
  pid=$(start_resolver "$1" "$2" "$3")
  STARTED_PIDS+=("$pid")
  if ! wait_until_answering "$2" "$4" "$1 ($(cat "$WORK/$3/command"))" "$pid"; then
    tail -20 "$WORK/$3/stdout" >&2 || true
    exit 1
  fi
  STARTED_PID=$pid
}

# Stops what a part started (its nsd), so that the next part has the machine alone.
stop_started_since() {  # index into STARTED_PIDS
  local pids=("${STARTED_PIDS[@]:$1}") pid
  for pid in "${pids[@]}"; do stop_started "$pid"; done
}

# ---------------------------------------------------------------------------------
# cached: cache hits against the echo server's ceiling

CACHED_ROOT=127.79.0.53
CACHED_AUTH=127.79.0.54
CACHED_OURS=127.79.0.1
CACHED_UNBOUND=127.79.0.2
CACHED_ECHO=127.79.0.3

# Runs the hit phase against a server already answering; appends a result line
#   threads side round qps lost sent completed noerror cpu_us dnsperf_cores latency_ms
hit_phase() {  # threads side address pid dir round
  local threads=$1 side=$2 address=$3 pid=$4 dir=$5 round=$6 before after result
  log "cached, $threads thread(s), round $round of $HIT_ROUNDS: $side, ${HIT_SECONDS}s of hits"
  before=$(cpu_ticks "$pid")
  result=$(OUTSTANDING=$HIT_OUTSTANDING LATENCIES=0 measure "$address" "$WORK/cached/hot.queries" \
    "$WORK/$dir/hit-$round" -l "$HIT_SECONDS" ${HIT_RATE:+-Q "$HIT_RATE"})
  after=$(cpu_ticks "$pid")
  local qps latency sent completed noerror lost client_cores
  read -r qps latency _ sent completed noerror lost <<<"$result"
  client_cores=$(awk '{ if ($3 > 0) printf "%.2f", ($1 + $2) / $3; else print "nan" }' "$WORK/$dir/hit-$round.time")
  echo "$threads $side $round $qps $lost $sent $completed $noerror" \
    "$(cpu_us_per_query $((after - before)) "$completed") $client_cores $latency" >>"$WORK/cached/results"
}

# Starts one server for the cached part (the resolvers warmed with every hot name);
# sets STARTED_PID.
start_cached_side() {  # arrangement side address
  local threads=${1%p} side=$2 address=$3 dir="cached/$2-$1t"
  mkdir -p "$WORK/$dir"
  if [[ $side == echo ]]; then
    local -a argv=(${SERVER_CPUS:+taskset -c "$SERVER_CPUS"} "$ECHO_SERVER" "$address@53" "$threads" "$COALESCE_USECS")
    echo "${argv[*]}" >"$WORK/$dir/command"
    "${argv[@]}" >"$WORK/$dir/stdout" 2>&1 &
    STARTED_PID=$!
    STARTED_PIDS+=("$STARTED_PID")
    wait_until_answering "$address" "n1.bench. A" "echo server" "$STARTED_PID" || exit 1
  else
    RESOLVER_THREADS=$threads start_side "$side" "$address" "$dir" ". NS"
    log "cached, $threads thread(s): $side, warming $HOT_COUNT names"
    local warm noerror
    warm=$(OUTSTANDING=100 LATENCIES=0 measure "$address" "$WORK/cached/hot.queries" "$WORK/$dir/warm" -n 1)
    read -r _ _ _ _ _ noerror _ <<<"$warm"
    ((noerror == HOT_COUNT)) || log "warning: $side answered $noerror of $HOT_COUNT warm-up queries with NOERROR"
  fi
}

cached_part() {
  local first_pid=${#STARTED_PIDS[@]}
  [[ -x $ECHO_SERVER ]] || { log "no $ECHO_SERVER: make echo_server (a build with tests)"; exit 2; }
  plain_hierarchy cached bench "$CACHED_ROOT" "$CACHED_AUTH" "$HOT_COUNT"
  awk -v n="$HOT_COUNT" 'BEGIN { for (i = 1; i <= n; i++) printf "n%d.bench. A\n", i }' >"$WORK/cached/hot.queries"

  : >"$WORK/cached/results"
  local threads side round
  local -A server_address=([echo]=$CACHED_ECHO [unbound]=$CACHED_UNBOUND [ours]=$CACHED_OURS) server_pid=()
  for threads in $THREAD_COUNTS; do
    SERVER_CPUS="" CLIENT_CPUS=""
    if [[ $threads == 1p ]]; then
      SERVER_CPUS=0 CLIENT_CPUS=1
    fi
    # All three serve at once (idle but for the one measured), so that the rounds can
    # interleave: echo, unbound, ours, echo, ... A drift in what the machine can do
    # (another tenant, the CPU's clock) then weighs on the three alike, and each
    # round's ratios compare runs seconds apart.
    for side in echo unbound ours; do
      ROOT_HINTS=$WORK/cached/root.hints TRUST_ANCHOR="" start_cached_side "$threads" "$side" "${server_address[$side]}"
      server_pid[$side]=$STARTED_PID
    done
    for ((round = 1; round <= HIT_ROUNDS; round++)); do
      for side in echo unbound ours; do
        hit_phase "$threads" "$side" "${server_address[$side]}" "${server_pid[$side]}" "cached/$side-${threads}t" "$round"
      done
    done
    for side in echo unbound ours; do stop_started "${server_pid[$side]}"; done
  done
  SERVER_CPUS="" CLIENT_CPUS=""
  stop_started_since "$first_pid"
  print_cached
}

# A figure over the rounds: the median of rates and times per query (one slow round,
# another tenant's burst, does not move it), the sum of counts.
cached_field() {  # threads side index (1: qps 2: lost 3: sent 4: completed 5: noerror 6: cpu_us 7: dnsperf cores 8: latency ms)
  awk -v t="$1" -v s="$2" -v i="$3" '$1 == t && $2 == s { print $(i + 3) }' "$WORK/cached/results" |
    if [[ $3 == 1 || $3 == 6 || $3 == 7 || $3 == 8 ]]; then
      median | awk -v i="$3" '{ if ($1 == "n/a") print; else printf (i == 1 ? "%.0f\n" : i == 8 ? "%.3f\n" : "%.2f\n"), $1 }'
    else
      awk '{ sum += $1 } END { print sum + 0 }'
    fi
}

median() {  # numbers on standard input, one per line -> their median (n/a: none)
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) print "n/a"
    else if (NR % 2) print v[(NR + 1) / 2]
    else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
  }'
}

# Each round's a / b (the two runs seconds apart), in round order.
round_ratios() {  # threads side-a side-b index
  awk -v t="$1" -v a="$2" -v b="$3" -v i="$4" '
    $1 == t && $2 == a { x[$3] = $(i + 3) }
    $1 == t && $2 == b { y[$3] = $(i + 3) }
    END { for (r = 1; r in x; r++) printf "%s\n", (r in y && y[r] > 0) ? sprintf("%.2f", x[r] / y[r]) : "n/a" }
  ' "$WORK/cached/results"
}

# The goal's figure: the median of the rounds' ratios.
round_ratio() {  # threads side-a side-b index
  local value
  value=$(round_ratios "$@" | grep -v n/a | median)
  [[ $value == n/a ]] && { echo n/a; return; }
  awk -v v="$value" 'BEGIN { printf "%.2f", v }'
}

print_cached() {
  echo
  echo "== cached: cache hits, $HOT_COUNT hot names (unsigned, validation off), $HIT_ROUNDS rounds of ${HIT_SECONDS}s" \
       "per server (interleaved: echo, unbound, ours, echo, ...), dnsperf -c $CLIENTS -T $DNSPERF_THREADS" \
       "-q $HIT_OUTSTANDING${HIT_RATE:+ -Q $HIT_RATE (offered load: the qps only show that it was kept up)}"
  echo "threads: N server threads placed by the scheduler; 1p: one, pinned to CPU 0, and dnsperf pinned to CPU 1"
  if ((COALESCE_USECS > 0)); then
    echo "receive coalescing: ours (network.udp-coalesce-usecs) and echo pause ${COALESCE_USECS} us after a read of 2..15 queries while they arrive at 4 or more a window; unbound has none"
  else
    echo "receive coalescing: off in ours and echo (BENCH_COALESCE_USECS=0)"
  fi
  print_machine
  echo "qps, CPU us/q and lat ms (dnsperf's average latency): the median over the rounds; /echo and /unbound: the median of the rounds' ratios; lost: summed"
  printf '%-7s %-15s %10s %8s %9s %20s %10s %10s %9s %8s\n' threads server qps "/echo" "goal" "lost (goal 0)" \
    "CPU us/q" "/unbound" "goal" "lat ms"
  local threads side label qps cpu latency q_ratio c_ratio
  for threads in $THREAD_COUNTS; do
    for side in echo unbound ours; do
      qps=$(cached_field "$threads" "$side" 1)
      cpu=$(cached_field "$threads" "$side" 6)
      latency=$(cached_field "$threads" "$side" 8)
      q_ratio=$(round_ratio "$threads" "$side" echo 1)
      label=$side
      [[ $side == ours ]] && label=$OURS_LABEL
      if [[ $side == ours ]]; then
        c_ratio=$(round_ratio "$threads" ours unbound 6)
        printf '%-7s %-15s %10.0f %8s %9s %20s %10s %10s %9s %8s\n' "$threads" "$label" "$qps" "$q_ratio" \
          ">=0.9 $(verdict "$q_ratio" ge 0.9 | sed 's/NOT met/NO/')" \
          "$(lost_text "$(cached_field "$threads" "$side" 2)" "$(cached_field "$threads" "$side" 3)")" \
          "$cpu" "$c_ratio" "<=0.6 $(verdict "$c_ratio" le 0.6 | sed 's/NOT met/NO/')" "$latency"
      else
        printf '%-7s %-15s %10.0f %8s %9s %20s %10s %10s %9s %8s\n' "$threads" "$label" "$qps" "$q_ratio" "" \
          "$(lost_text "$(cached_field "$threads" "$side" 2)" "$(cached_field "$threads" "$side" 3)")" "$cpu" "" "" \
          "$latency"
      fi
    done
  done
  echo "goals (ours):"
  local lost
  for threads in $THREAD_COUNTS; do
    q_ratio=$(round_ratio "$threads" ours echo 1)
    c_ratio=$(round_ratio "$threads" ours unbound 6)
    lost=$(cached_field "$threads" ours 2)
    printf '  %s thread(s): qps / echo %s (>= 0.9: %s); CPU per query / unbound %s (<= 0.6: %s); lost %s (0: %s)\n' \
      "$threads" "$q_ratio" "$(verdict "$q_ratio" ge 0.9)" "$c_ratio" "$(verdict "$c_ratio" le 0.6)" \
      "$lost" "$(verdict "$lost" le 0)"
  done
  echo "each round (in order), to show the spread:"
  for threads in $THREAD_COUNTS; do
    printf '  %s thread(s): qps echo %s; ours / echo %s; unbound / echo %s; CPU ours / unbound %s; CPU echo / unbound %s\n' \
      "$threads" "$(awk -v t="$threads" '$1 == t && $2 == "echo" { printf "%s%.0f", sep, $4; sep = " " }' "$WORK/cached/results")" \
      "$(round_ratios "$threads" ours echo 1 | paste -sd' ')" "$(round_ratios "$threads" unbound echo 1 | paste -sd' ')" \
      "$(round_ratios "$threads" ours unbound 6 | paste -sd' ')" "$(round_ratios "$threads" echo unbound 6 | paste -sd' ')"
  done
  # The echo server's CPU per query is what the kernel takes to receive and send one
  # datagram, with the same wakes per query as ours (both coalesce alike, or neither):
  # what is left above it is the resolver's own work.
  echo "the floor: the echo server's CPU per query / unbound's, and each resolver's CPU per query above the echo server's (medians):"
  local e_cpu u_cpu o_cpu
  for threads in $THREAD_COUNTS; do
    e_cpu=$(cached_field "$threads" echo 6)
    u_cpu=$(cached_field "$threads" unbound 6)
    o_cpu=$(cached_field "$threads" ours 6)
    printf '  %s thread(s): echo / unbound %s; above echo: unbound %s us, ours %s us, ours / unbound %s\n' \
      "$threads" "$(ratio "$e_cpu" "$u_cpu")" "$(awk -v a="$u_cpu" -v b="$e_cpu" 'BEGIN { printf "%.2f", a - b }')" \
      "$(awk -v a="$o_cpu" -v b="$e_cpu" 'BEGIN { printf "%.2f", a - b }')" \
      "$(ratio "$(awk -v a="$o_cpu" -v b="$e_cpu" 'BEGIN { printf "%.2f", a - b }')" \
        "$(awk -v a="$u_cpu" -v b="$e_cpu" 'BEGIN { printf "%.2f", a - b }')")"
  done
  echo "answers over all rounds (sent / completed / NOERROR), and the cores dnsperf used (its CPU time / run time, median):"
  for threads in $THREAD_COUNTS; do
    for side in echo unbound ours; do
      printf '  %s thread(s) %-8s %10s / %10s / %10s   dnsperf %s cores\n' "$threads" "$side" \
        "$(cached_field "$threads" "$side" 3)" "$(cached_field "$threads" "$side" 4)" \
        "$(cached_field "$threads" "$side" 5)" "$(cached_field "$threads" "$side" 7)"
    done
  done
  local files=()
  for threads in $THREAD_COUNTS; do
    for side in echo unbound ours; do
      files+=("$WORK/cached/$side-${threads}t/command" "$WORK/cached/$side-${threads}t/hit-1.command")
    done
  done
  print_commands "${files[@]}"
}

# ---------------------------------------------------------------------------------
# cold: one upstream query per new name, validating

COLD_ROOT=127.79.1.53
COLD_AUTH=127.79.1.54
COLD_OURS=127.79.1.1
COLD_UNBOUND=127.79.1.2

keygen() {  # zone -> key base path (ECDSA P-256, one key signs everything: a CSK)
  local base
  base=$(cd "$WORK/cold/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$1")
  echo "$WORK/cold/keys/$base"
}

sign() {  # zone source output key [ldns-signzone options]
  local zone=$1 source=$2 output=$3 key=$4
  shift 4
  # Valid from an hour ago for 30 days (RFC 4034 3.1.5), so clocks need not agree.
  ldns-signzone -i "$(date -u -d '-1 hour' +%Y%m%d%H%M%S)" -e "$(date -u -d '+30 days' +%Y%m%d%H%M%S)" \
    -o "$zone" -f "$output" "$@" "$source" "$key"
}

cold_zones() {
  mkdir -p "$WORK/cold/keys"
  local root_key exist_key wild_key
  log "cold: generating keys and signing (exist.: $COLD_NAMES names)"
  root_key=$(keygen .)
  exist_key=$(keygen exist.)
  wild_key=$(keygen wild.)
  # exist.: N names, NSEC.
  write_plain_zone "$WORK/cold/exist.zone" exist "$COLD_AUTH" "$COLD_NAMES"
  sign exist. "$WORK/cold/exist.zone" "$WORK/cold/exist.signed" "$exist_key"
  # wild.: one wildcard, NSEC3 (SHA-1, no extra iterations, no salt: RFC 9276 3.1).
  # Every answer is a wildcard expansion and carries the NSEC3 that proves the name
  # itself absent (RFC 5155 7.2.6): one hash per name for the validator.
  cat >"$WORK/cold/wild.zone" <<EOF
\$ORIGIN wild.
\$TTL 86400
@    IN SOA ns1 hostmaster 1 1800 900 604800 3600
@    IN NS  ns1
ns1  IN A   $COLD_AUTH
*    IN A   10.9.9.9
EOF
  sign wild. "$WORK/cold/wild.zone" "$WORK/cold/wild.signed" "$wild_key" -n -a 1 -t 0
  {
    echo "\$TTL 86400"
    echo ".                    IN SOA a.root-servers.net. hostmaster.root. 1 1800 900 604800 86400"
    echo ".                    IN NS  a.root-servers.net."
    echo "a.root-servers.net.  IN A   $COLD_ROOT"
    echo "exist.               IN NS  ns1.exist."
    echo "ns1.exist.           IN A   $COLD_AUTH"
    ldns-key2ds -n -2 "$exist_key.key"
    echo "wild.                IN NS  ns1.wild."
    echo "ns1.wild.            IN A   $COLD_AUTH"
    ldns-key2ds -n -2 "$wild_key.key"
  } >"$WORK/cold/root.zone"
  sign . "$WORK/cold/root.zone" "$WORK/cold/root.signed" "$root_key"
  ldns-key2ds -n -2 "$root_key.key" >"$WORK/cold/root.ds"
  root_hints_for "$WORK/cold/root.hints" "$COLD_ROOT"
  awk -v n="$COLD_NAMES" 'BEGIN { for (i = 1; i <= n; i++) printf "n%d.exist. A\n", i }' >"$WORK/cold/exist.queries"
  # Distinct random labels under the wildcard (the counter makes them distinct).
  awk -v n="$COLD_NAMES" -v seed="${BENCH_SEED:-10}" \
    'BEGIN { srand(seed); for (i = 1; i <= n; i++) printf "r%08x%x.wild. A\n", int(rand() * 4294967295), i }' \
    >"$WORK/cold/wild.queries"
}

# The warm-up answer must be validated (AD), or the figures would not be of a
# validating resolver.
check_validated() {  # address name side
  local flags
  flags=$(dig +tries=1 +time=5 +adflag @"$1" "$2" A | awk '/^;; flags:/ { print }')
  if [[ $flags != *" ad"* ]]; then
    log "cold: $3 did not validate $2 (${flags:-no answer}): see $WORK"
    exit 1
  fi
}

# One side, one zone, from a cold start: warm-up query, then each name once.
#   zone side qps lost sent completed noerror upstream_queries own_count
cold_run() {  # zone side address
  local zone=$1 side=$2 address=$3 dir="cold/$2-$1" pid result before after own=n/a ticks
  log "cold: $side, $COLD_NAMES names of $zone."
  ROOT_HINTS=$WORK/cold/root.hints TRUST_ANCHOR=$WORK/cold/root.ds RESOLVER_THREADS=$COLD_THREADS \
    start_side "$side" "$address" "$dir" ". SOA"
  pid=$STARTED_PID
  # Warm-up: the root's keys, the zone's delegation, DS and DNSKEY.
  check_validated "$address" "warm.$zone." "$side"
  sleep 0.2
  before=$(($(nsd_queries cold-root) + $(nsd_queries cold-zones)))
  ticks=$(cpu_ticks "$pid")
  result=$(OUTSTANDING=$COLD_OUTSTANDING LATENCIES=1 measure "$address" "$WORK/cold/$zone.queries" \
    "$WORK/$dir/cold" -n 1)
  ticks=$(($(cpu_ticks "$pid") - ticks))
  sleep 0.2
  after=$(($(nsd_queries cold-root) + $(nsd_queries cold-zones)))
  if [[ $side == ours && $OURS_CMD != unbound ]]; then
    own=$(ours_upstream_queries "$WORK/$dir/control.sock")
  fi
  local qps sent completed noerror lost
  read -r qps _ _ sent completed noerror lost <<<"$result"
  echo "$zone $side $qps $lost $sent $completed $noerror $((after - before)) $own" \
    "$(cpu_us_per_query "$ticks" "$completed")" >>"$WORK/cold/results"
  stop_started "$pid"
}

# Upstream queries by resolverd's own count since it started, the warm-up's included:
# resolverctl stats --json, upstream_queries_total summed over its transports.
ours_upstream_queries() {  # control socket
  "$BUILD_DIR/resolverctl" -s "$1" --json stats 2>/dev/null | python3 -c '
import json, sys
reply = json.load(sys.stdin)
stats = reply.get("data", reply)
value = stats["upstream_queries_total"]
print(int(sum(value.values()) if isinstance(value, dict) else value))' 2>/dev/null || echo n/a
}

cold_part() {
  local first_pid=${#STARTED_PIDS[@]}
  mkdir -p "$WORK/cold"
  cold_zones
  start_nsd cold-root "$COLD_ROOT" . cold/root.signed
  start_nsd cold-zones "$COLD_AUTH" exist. cold/exist.signed wild. cold/wild.signed
  wait_for_nsd cold-root "$COLD_ROOT" ". SOA"
  wait_for_nsd cold-zones "$COLD_AUTH" "warm.exist. A"
  [[ -n $(nsd_queries cold-root) ]] || { log "cold: nsd-control stats_noreset gives no num.queries"; exit 1; }
  : >"$WORK/cold/results"
  local zone
  for zone in exist wild; do
    cold_run "$zone" unbound "$COLD_UNBOUND"
    cold_run "$zone" ours "$COLD_OURS"
  done
  stop_started_since "$first_pid"
  print_cold
}

cold_field() {  # zone side index (1: qps 2: lost 3: sent 4: completed 5: noerror 6: upstream 7: own count 8: cpu_us)
  awk -v z="$1" -v s="$2" -v i="$3" '$1 == z && $2 == s { print $(i + 2) }' "$WORK/cold/results"
}

# Upstream queries per name answered: a query lost before the resolver read it cost
# nothing upstream, and dividing by the names asked would flatter the side that lost it.
cold_per_name() {  # zone side
  awk -v u="$(cold_field "$1" "$2" 6)" -v n="$(cold_field "$1" "$2" 4)" 'BEGIN { if (n > 0) printf "%.3f", u / n; else print "n/a" }'
}

print_cold() {
  echo
  echo "== cold: $COLD_NAMES names never asked before, each once, dnsperf -c $CLIENTS -T $DNSPERF_THREADS -q $COLD_OUTSTANDING;" \
       "both validating from a signed root (ECDSA P-256), $COLD_THREADS thread(s), qname minimisation on"
  echo "   exist.: existing names of an NSEC-signed zone; wild.: random names under the wildcard of an NSEC3 zone"
  echo "   (iterations 0, no salt); upstream/name: queries the two nsd received during the run (nsd-control"
  echo "   num.queries; the warm-up query before it learnt the zone's delegation and keys) per name answered;"
  echo "   CPU us/q: the resolver's CPU time (all its threads) during the run per answer"
  print_machine
  printf '%-7s %-15s %10s %8s %9s %20s %16s %9s %10s %9s\n' zone resolver qps "/unbound" goal "lost (goal 0)" \
    "upstream/name" "goal" "CPU us/q" "/unbound"
  local zone side label qps u_qps q_ratio per_name
  for zone in exist wild; do
    u_qps=$(cold_field "$zone" unbound 1)
    for side in unbound ours; do
      qps=$(cold_field "$zone" "$side" 1)
      per_name=$(cold_per_name "$zone" "$side")
      label=$side
      q_ratio=""
      local goal=""
      if [[ $side == ours ]]; then
        label=$OURS_LABEL
        q_ratio=$(ratio "$qps" "$u_qps")
        goal=">=1.5 $(verdict "$q_ratio" ge 1.5 | sed 's/NOT met/NO/')"
      fi
      local cpu c_ratio=""
      cpu=$(cold_field "$zone" "$side" 8)
      [[ $side == ours ]] && c_ratio=$(ratio "$cpu" "$(cold_field "$zone" unbound 8)")
      printf '%-7s %-15s %10.0f %8s %9s %20s %16s %9s %10s %9s\n' "$zone." "$label" "$qps" "$q_ratio" "$goal" \
        "$(lost_text "$(cold_field "$zone" "$side" 2)" "$(cold_field "$zone" "$side" 3)")" "$per_name" \
        "1.0 $(verdict "$per_name" le 1.0005 | sed 's/NOT met/NO/')" "$cpu" "$c_ratio"
    done
  done
  echo "goals (ours):"
  for zone in exist wild; do
    q_ratio=$(ratio "$(cold_field "$zone" ours 1)" "$(cold_field "$zone" unbound 1)")
    per_name=$(cold_per_name "$zone" ours)
    local lost
    lost=$(cold_field "$zone" ours 2)
    printf '  %-6s qps / unbound %s (>= 1.5: %s); lost %s (0: %s); upstream queries per name %s (1.0: %s)\n' \
      "$zone." "$q_ratio" "$(verdict "$q_ratio" ge 1.5)" "$lost" "$(verdict "$lost" le 0)" "$per_name" \
      "$(verdict "$per_name" le 1.0005)"
  done
  echo "answers (sent / completed / NOERROR), upstream queries at nsd during the run, and ours' own count since start:"
  for zone in exist wild; do
    for side in unbound ours; do
      printf '  %-6s %-8s %8s / %8s / %8s   upstream %8s   own count %s\n' "$zone." "$side" \
        "$(cold_field "$zone" "$side" 3)" "$(cold_field "$zone" "$side" 4)" "$(cold_field "$zone" "$side" 5)" \
        "$(cold_field "$zone" "$side" 6)" "$(cold_field "$zone" "$side" 7)"
    done
  done
  local files=()
  for zone in exist wild; do
    for side in unbound ours; do files+=("$WORK/cold/$side-$zone/command" "$WORK/cold/$side-$zone/cold.command"); done
  done
  print_commands "${files[@]}"
}

# ---------------------------------------------------------------------------------
# memory: resident bytes per cached name

MEMORY_ROOT=127.79.2.53
MEMORY_AUTH=127.79.2.54
MEMORY_OURS=127.79.2.1
MEMORY_UNBOUND=127.79.2.2
MEMORY_KRESD=127.79.2.4

#   side rss_before_kb rss_after_kb sent1 noerror1 lost1 upstream1 noerror2 upstream2 file_kb_growth
memory_run() {  # side address
  local side=$1 address=$2 dir="memory/$1" pid before_kb after_kb file_before file_after q0 q1 q2 pass1 pass2
  ROOT_HINTS=$WORK/memory/root.hints TRUST_ANCHOR="" CACHE_MB=$MEMORY_CACHE_MB RESOLVER_THREADS=1 \
    start_side "$side" "$address" "$dir" ". SOA"
  pid=$STARTED_PID
  wait_until_answering "$address" "warm.mem. A" "$side" "$pid" || exit 1
  sleep 0.5
  before_kb=$(rss_kb "$pid")
  file_before=$(rss_kb "$pid" RssFile)
  q0=$(nsd_queries memory-auth)
  log "memory: $side, loading $MEMORY_NAMES names"
  pass1=$(OUTSTANDING=$MEMORY_OUTSTANDING LATENCIES=0 measure "$address" "$WORK/memory/names.queries" \
    "$WORK/$dir/load" -n 1)
  sleep 0.2
  q1=$(nsd_queries memory-auth)
  # A second pass: a name still in the cache costs no upstream query, so the names
  # cached are those asked minus the queries nsd saw now. Memory is read after it:
  # a cache in a mapped file (kresd's LMDB) counts in VmRSS once its pages are read.
  log "memory: $side, second pass (from the cache)"
  pass2=$(OUTSTANDING=$MEMORY_OUTSTANDING LATENCIES=0 measure "$address" "$WORK/memory/names.queries" \
    "$WORK/$dir/check" -n 1)
  sleep 1
  q2=$(nsd_queries memory-auth)
  after_kb=$(rss_kb "$pid")
  file_after=$(rss_kb "$pid" RssFile)
  local sent1 noerror1 lost1 noerror2
  read -r _ _ _ sent1 _ noerror1 lost1 <<<"$pass1"
  read -r _ _ _ _ _ noerror2 _ <<<"$pass2"
  echo "$side $before_kb $after_kb $sent1 $noerror1 $lost1 $((q1 - q0)) $noerror2 $((q2 - q1))" \
    "$((file_after - file_before))" >>"$WORK/memory/results"
  stop_started "$pid"
}

memory_part() {
  local first_pid=${#STARTED_PIDS[@]}
  plain_hierarchy memory mem "$MEMORY_ROOT" "$MEMORY_AUTH" "$MEMORY_NAMES"
  awk -v n="$MEMORY_NAMES" 'BEGIN { for (i = 1; i <= n; i++) printf "n%d.mem. A\n", i }' >"$WORK/memory/names.queries"
  : >"$WORK/memory/results"
  memory_run unbound "$MEMORY_UNBOUND"
  memory_run ours "$MEMORY_OURS"
  KRESD_NOTE=""
  if [[ $KRESD == 1 || ($KRESD == auto && -n $(command -v kresd)) ]]; then
    require_tools kresd
    memory_run kresd "$MEMORY_KRESD"
  elif [[ $KRESD == auto ]]; then
    KRESD_NOTE="Knot Resolver: not measured (kresd is not installed: apt-get install knot-resolver)"
  else
    KRESD_NOTE="Knot Resolver: not measured (BENCH_KRESD=0)"
  fi
  stop_started_since "$first_pid"
  print_memory
}

print_memory() {
  echo
  echo "== memory: $MEMORY_NAMES names of an unsigned zone (A, TTL 1 day) asked once each, dnsperf -n 1 -q $MEMORY_OUTSTANDING;" \
       "cache budget ${MEMORY_CACHE_MB}M, validation off, 1 thread"
  echo "   growth of VmRSS from after the first answer to after a second pass over the names, per name"
  echo "   cached (names asked - upstream queries at nsd during the second pass)"
  print_machine
  printf '%-15s %12s %12s %10s %10s %12s %9s\n' resolver "RSS before" "RSS after" "asked" "cached" "bytes/name" goal
  local side label before after upstream2 cached per_name
  while read -r side before after _ _ _ _ _ upstream2 _; do
    cached=$((MEMORY_NAMES - upstream2))
    per_name=$(awk -v a="$after" -v b="$before" -v n="$cached" 'BEGIN { if (n > 0) printf "%.0f", (a - b) * 1024 / n; else print "n/a" }')
    label=$side
    local goal=""
    if [[ $side == ours ]]; then
      label=$OURS_LABEL
      goal="<=300 $(verdict "$per_name" le 300 | sed 's/NOT met/NO/')"
    fi
    printf '%-15s %9s KiB %8s KiB %10s %10s %12s %9s\n' "$label" "$before" "$after" "$MEMORY_NAMES" "$cached" \
      "$per_name" "$goal"
  done <"$WORK/memory/results"
  [[ -z $KRESD_NOTE ]] || echo "$KRESD_NOTE"
  echo "answers: first pass sent / NOERROR / lost, upstream queries; second pass NOERROR, upstream queries;"
  echo "and the growth of the file-backed part of VmRSS (RssFile: a mapped cache file):"
  local sent1 noerror1 lost1 upstream1 noerror2 file_kb
  while read -r side _ _ sent1 noerror1 lost1 upstream1 noerror2 upstream2 file_kb; do
    printf '  %-8s %8s / %8s / %6s, upstream %8s;   %8s, upstream %6s;   RssFile %+d KiB\n' "$side" "$sent1" \
      "$noerror1" "$lost1" "$upstream1" "$noerror2" "$upstream2" "$file_kb"
  done <"$WORK/memory/results"
  print_commands "$WORK/memory/unbound/command" "$WORK/memory/unbound/load.command" \
    "$WORK/memory/ours/command" "$WORK/memory/ours/load.command" \
    "$WORK/memory/kresd/command" "$WORK/memory/kresd/load.command"
}

# ---------------------------------------------------------------------------------

started=$(date +%s)
log "working in $WORK"
for part in "${PARTS[@]}"; do
  "${part}_part"
done
log "done in $(($(date +%s) - started))s"
