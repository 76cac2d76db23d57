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

ROOT_AUTH=127.77.0.53
BENCH_AUTH=127.77.0.54
OURS_ADDR=127.77.0.1
UNBOUND_ADDR=127.77.0.2

for tool in nsd unbound dnsperf; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 2; }
done
if (( HOT_COUNT >= NAME_COUNT )); then
  echo "bench: BENCH_HOT_NAMES must be below BENCH_NAMES" >&2
  exit 2
fi

WORK=$(mktemp -d /tmp/rsv-bench.XXXXXX)
declare -a STARTED_PIDS=()

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
  if [[ ${BENCH_KEEP:-0} == 1 || $status -ne 0 ]]; then
    echo "bench: files kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {  # a process stopped on purpose need not be stopped again at exit
  local gone=$1 kept=()
  for pid in "${STARTED_PIDS[@]}"; do [[ $pid == "$gone" ]] || kept+=("$pid"); done
  STARTED_PIDS=("${kept[@]}")
}

log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------------------------
# The authoritative side: a root zone delegating bench. to a second server, so each
# first lookup follows a real referral, and "bench." holds the names to resolve.

write_zones() {
  cat >"$WORK/root.zone" <<EOF
\$TTL 86400
.                    IN SOA a.root-servers.net. hostmaster.root. 1 1800 900 604800 86400
.                    IN NS  a.root-servers.net.
a.root-servers.net.  IN A   $ROOT_AUTH
bench.               IN NS  ns1.bench.
ns1.bench.           IN A   $BENCH_AUTH
EOF
  {
    echo "\$ORIGIN bench."
    echo "\$TTL 86400"
    echo "@    IN SOA ns1.bench. hostmaster.bench. 1 1800 900 604800 3600"
    echo "@    IN NS  ns1.bench."
    echo "ns1  IN A   $BENCH_AUTH"
    awk -v n="$NAME_COUNT" 'BEGIN { for (i = 1; i <= n; i++) printf "n%d IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256 }'
  } >"$WORK/bench.zone"
  cat >"$WORK/root.hints" <<EOF
.                    3600000 NS a.root-servers.net.
a.root-servers.net.  3600000 A  $ROOT_AUTH
EOF
  awk -v n="$HOT_COUNT" 'BEGIN { for (i = 1; i <= n; i++) printf "n%d.bench. A\n", i }' >"$WORK/hot.queries"
  awk -v from="$((HOT_COUNT + 1))" -v to="$NAME_COUNT" \
    'BEGIN { for (i = from; i <= to; i++) printf "n%d.bench. A\n", i }' >"$WORK/miss.queries"
}

start_nsd() {  # name address zone-name zone-file
  local name=$1 address=$2 zone=$3 file=$4
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name/nsd.conf" <<EOF
server:
  ip-address: $address
  port: 53
  server-count: 1
  username: ""
  database: ""
  zonesdir: "$WORK"
  pidfile: "$WORK/$name/nsd.pid"
  xfrdfile: "$WORK/$name/xfrd.state"
  zonelistfile: "$WORK/$name/zone.list"
  logfile: "$WORK/$name/nsd.log"
  verbosity: 0
  hide-version: yes
  # NSD's response rate limiting (200 a second per bucket; every upstream query of a
  # resolver on loopback comes from 127.0.0.1) would otherwise be what gets measured.
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "$zone"
  zonefile: "$file"
EOF
  # -d keeps nsd under this PID; stopping it stops the server processes it forked.
  nsd -d -c "$WORK/$name/nsd.conf" >"$WORK/$name/stdout" 2>&1 &
  STARTED_PIDS+=("$!")
}

# ---------------------------------------------------------------------------------
# The resolvers

write_unbound_conf() {  # file address
  local file=$1 address=$2 dir
  dir=$(dirname "$file")
  # Same shape as our YAML: one thread, iterator only (no validation), qname
  # minimisation, the same root hints; the cache budget split the way unbound's
  # documentation suggests (rrset cache twice the message cache).
  cat >"$file" <<EOF
server:
  interface: $address@53
  access-control: 127.0.0.0/8 allow
  num-threads: 1
  do-ip6: no
  do-not-query-localhost: no
  root-hints: "$WORK/root.hints"
  module-config: "iterator"
  qname-minimisation: yes
  msg-cache-size: $((CACHE_MB / 3))m
  rrset-cache-size: $((CACHE_MB - CACHE_MB / 3))m
  num-queries-per-thread: 4096
  outgoing-range: 8192
  prefetch: no
  minimal-responses: yes
  so-reuseport: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: "$dir/unbound.pid"
  use-syslog: no
  logfile: "$dir/unbound.log"
  verbosity: 0
remote-control:
  control-enable: no
EOF
}

write_ours_conf() {  # file address
  local file=$1 address=$2
  cat >"$file" <<EOF
listen: [$address@53]
access-control: [127.0.0.0/8 allow]
threads: 1
log-level: warning
network: {do-not-query-localhost: false}
resolver: {root-hints: $WORK/root.hints, qname-minimisation: true}
cache: {size: ${CACHE_MB}M}
dnssec: {validation: false, trust-anchor-files: []}
control: {socket: "$WORK/control-$address.sock"}
EOF
  if [[ -n $OURS_EXTRA ]]; then
    printf '%s\n' "$OURS_EXTRA" >>"$file"
  fi
  if [[ $HTTP == 1 ]]; then
    echo "http: {listen: [$address@8053], recent-queries: ${BENCH_RECENT_QUERIES:-1000}}" >>"$file"
  else
    echo "http: {listen: []}" >>"$file"
  fi
}

# Starts one side and prints its PID. "ours" runs BENCH_OURS_CMD, unless that is the
# word "unbound", which makes both sides unbound to check the script itself.
start_resolver() {  # side address
  local side=$1 address=$2 dir="$WORK/$1" command
  mkdir -p "$dir"
  if [[ $side == unbound || $OURS_CMD == unbound ]]; then
    write_unbound_conf "$dir/unbound.conf" "$address"
    command="unbound -d -c $dir/unbound.conf"
  else
    write_ours_conf "$dir/resolverd.yaml" "$address"
    command=${OURS_CMD//\{config\}/$dir/resolverd.yaml}
    command=${command//\{listen\}/$address@53}
  fi
  echo "$command" >"$dir/command"
  # exec, so that the PID recorded is the resolver's own and not a shell's.
  bash -c "exec $command" >"$dir/stdout" 2>&1 &
  echo "$!"
}

cpu_ticks() {  # pid -> user + system CPU time in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

rss_kb() {  # pid -> resident set size in KiB
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# dnsperf doubles as the readiness probe: one query, one-second timeout.
answers() {  # address query
  echo "$2" | dnsperf -s "$1" -p 53 -n 1 -t 1 2>/dev/null | grep -q 'Response codes: *NOERROR 1 '
}

wait_until_answering() {  # address query what [pid]
  local deadline=$((SECONDS + 10))
  while (( SECONDS < deadline )); do
    answers "$1" "$2" && return 0
    if [[ -n ${4:-} ]] && ! kill -0 "$4" 2>/dev/null; then
      log "$3 exited before answering"
      return 1
    fi
    sleep 0.1
  done
  log "$3 at $1 did not answer '$2' within 10 s"
  return 1
}

# ---------------------------------------------------------------------------------
# Measuring

# Runs dnsperf with per-query output and reduces it to one line:
#   qps avg_ms p99_ms sent completed noerror
measure() {  # address datafile output-prefix dnsperf-args...
  local address=$1 data=$2 out=$3
  shift 3
  dnsperf -s "$address" -p 53 -d "$data" -q "$OUTSTANDING" -v "$@" >"$out.log" 2>&1 || true
  grep '^> ' "$out.log" | awk '{ print $NF }' | sort -g >"$out.latencies" || true
  local qps avg p99 sent completed noerror count
  qps=$(awk '/Queries per second:/ { print $4 }' "$out.log")
  avg=$(awk '/Average Latency \(s\):/ { printf "%.3f", $4 * 1000 }' "$out.log")
  sent=$(awk '/Queries sent:/ { print $3 }' "$out.log")
  completed=$(awk '/Queries completed:/ { print $3 }' "$out.log")
  noerror=$(grep -c '^> NOERROR ' "$out.log" || true)
  count=$(wc -l <"$out.latencies")
  if (( count > 0 )); then
    p99=$(awk -v n="$count" 'NR == int(n * 0.99 + 0.999) { printf "%.3f", $1 * 1000; exit }' "$out.latencies")
  else
    p99=nan
  fi
  echo "${qps:-0} ${avg:-nan} ${p99:-nan} ${sent:-0} ${completed:-0} ${noerror:-0}"
}

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
  stop_pid "$pid"
  forget_pid "$pid"
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
write_zones
start_nsd root-auth "$ROOT_AUTH" . root.zone
start_nsd bench-auth "$BENCH_AUTH" bench. bench.zone
wait_until_answering "$ROOT_AUTH" ". SOA" "root nsd"
wait_until_answering "$BENCH_AUTH" "n$NAME_COUNT.bench. A" "bench nsd"

run_side ours "$OURS_ADDR"
run_side unbound "$UNBOUND_ADDR"
print_table
log "done in $(( $(date +%s) - started ))s"
