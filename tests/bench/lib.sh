# shellcheck shell=bash
# Shell functions shared by bench.sh, speed.sh and scale_out_bench.sh (sourced, not run). They start
# authoritative servers (nsd; plain_hierarchy: a root and one unsigned zone) and
# resolvers (resolverd, unbound, kresd) on loopback port 53, measure with dnsperf, and
# stop every process they started, by PID, on exit.
#
# The sourcing script calls bench_init PREFIX once (it makes $WORK and sets the exit
# trap) and may set these before starting resolvers; each is read when a
# configuration is written, so one run can change them between sides:
#   CACHE_MB          cache budget of both resolvers, MiB (unbound: msg 1/3, rrset 2/3)
#   RESOLVER_THREADS  threads of both resolvers (default 1)
#   ROOT_HINTS        root hints file both resolvers use (default $WORK/root.hints;
#                     plain_hierarchy SUBDIR writes $WORK/SUBDIR/root.hints)
#   TRUST_ANCHOR      a DS/DNSKEY file: both validate from it; empty: validation off
#   OURS_CMD          command line for "ours" ({config}, {listen}); the word "unbound"
#                     runs a second unbound in our place
#   OURS_EXTRA        more YAML for our configuration
#   OURS_NETWORK      more keys of our network: map (e.g. "udp-coalesce-usecs: 0")
#   HTTP              1: ours serves HTTP on ADDRESS@8053 (recent-queries: $BENCH_RECENT_QUERIES)
#   OUTSTANDING       dnsperf -q of measure()
#   DNSPERF_EXTRA     more dnsperf options for measure() (e.g. "-c 4 -T 1"), word-split
#   LATENCIES         1 (default): measure() runs dnsperf -v for a p99; 0: it does not,
#                     which spares dnsperf a line of output per query (p99 is then nan)
#   SERVER_CPUS       if set, resolvers start under taskset -c SERVER_CPUS
#   CLIENT_CPUS       if set, measure() runs dnsperf under taskset -c CLIENT_CPUS

bench_init() {  # log-prefix
  BENCH_PREFIX=$1
  WORK=$(mktemp -d "/tmp/rsv-$1.XXXXXX")
  STARTED_PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

log() { echo "$BENCH_PREFIX: $*" >&2; }

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  # Up to 10 s: a script started here (scripts/scale_out.sh) stops its own processes first.
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local status=$?
  for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
  if [[ -z $(ls -A "$WORK") ]]; then
    rmdir "$WORK"  # nothing written yet (a tool missing): nothing to keep
  elif [[ ${BENCH_KEEP:-0} == 1 || $status -ne 0 ]]; then
    echo "$BENCH_PREFIX: files kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit $status
}

forget_pid() {  # a process stopped on purpose need not be stopped again at exit
  local gone=$1 kept=()
  for pid in "${STARTED_PIDS[@]}"; do [[ $pid == "$gone" ]] || kept+=("$pid"); done
  STARTED_PIDS=("${kept[@]}")
}

stop_started() {  # pid: stops a process started here and forgets it
  stop_pid "$1"
  forget_pid "$1"
}

require_tools() {  # tool...
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { log "$tool is not installed (scripts/deps.sh --test)"; exit 2; }
  done
}

# ---------------------------------------------------------------------------------
# Authoritative servers

# One nsd on ADDRESS@53 serving the zones given (file names relative to $WORK), with
# its control channel on $WORK/NAME/nsd.ctl for nsd_queries. Rate limiting is off.
start_nsd() {  # name address zone file [zone file ...]
  local name=$1 address=$2
  shift 2
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
  control-enable: yes
  control-interface: "$WORK/$name/nsd.ctl"
EOF
  while (($# >= 2)); do
    printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "$1" "$2" >>"$WORK/$name/nsd.conf"
    shift 2
  done
  # -d keeps nsd under this PID; stopping it stops the server processes it forked.
  nsd -d -c "$WORK/$name/nsd.conf" >"$WORK/$name/stdout" 2>&1 &
  STARTED_PIDS+=("$!")
  echo "$!" >"$WORK/$name/started.pid"
}

# Waits until the nsd NAME answers QUERY with NOERROR; if it does not (it exited:
# port 53 needs root; or it is slow), shows its output and exits.
wait_for_nsd() {  # name address query
  if ! wait_until_answering "$2" "$3" "nsd $1" "$(cat "$WORK/$1/started.pid")"; then
    tail -n 20 "$WORK/$1/stdout" "$WORK/$1/nsd.log" >&2 2>/dev/null || true
    exit 1
  fi
}

# Queries the nsd NAME has received since it started (nsd-control stats_noreset:
# num.queries, UDP and TCP): the count of upstream queries, the same way for any
# resolver.
nsd_queries() {  # name
  nsd-control -c "$WORK/$1/nsd.conf" stats_noreset 2>/dev/null | awk -F= '$1 == "num.queries" { print $2 }'
}

root_hints_for() {  # file address: one root server, a.root-servers.net. at ADDRESS
  printf '.                    3600000 NS a.root-servers.net.\na.root-servers.net.  3600000 A  %s\n' "$2" >"$1"
}

# An unsigned zone NAME. served from ADDRESS: names n1..nN and warm (A, TTL 1 day).
write_plain_zone() {  # file zone address count
  {
    echo "\$ORIGIN $2."
    echo "\$TTL 86400"
    echo "@    IN SOA ns1 hostmaster 1 1800 900 604800 3600"
    echo "@    IN NS  ns1"
    echo "ns1  IN A   $3"
    echo "warm IN A   10.255.255.255"
    awk -v n="$4" 'BEGIN { for (i = 1; i <= n; i++) printf "n%d IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256 }'
  } >"$1"
}

# An unsigned hierarchy: a root zone served from ROOT_ADDRESS that delegates TLD. to
# AUTH_ADDRESS, so each first lookup follows a real referral, and TLD. with COUNT
# names (write_plain_zone). Writes $WORK/SUBDIR/root.zone, TLD.zone and root.hints
# (for ROOT_HINTS), starts the nsd SUBDIR-root and SUBDIR-auth (for nsd_queries) and
# returns once both answer. The caller writes its own query files.
plain_hierarchy() {  # subdir tld root-address auth-address count
  local dir=$1 tld=$2 root=$3 auth=$4 count=$5 last=warm
  mkdir -p "$WORK/$dir"
  {
    echo "\$TTL 86400"
    printf '%-20s IN %-4s %s\n' . SOA "a.root-servers.net. hostmaster.root. 1 1800 900 604800 86400" \
      . NS a.root-servers.net. a.root-servers.net. A "$root" "$tld." NS "ns1.$tld." "ns1.$tld." A "$auth"
  } >"$WORK/$dir/root.zone"
  write_plain_zone "$WORK/$dir/$tld.zone" "$tld" "$auth" "$count"
  root_hints_for "$WORK/$dir/root.hints" "$root"
  start_nsd "$dir-root" "$root" . "$dir/root.zone"
  start_nsd "$dir-auth" "$auth" "$tld." "$dir/$tld.zone"
  if ((count > 0)); then last=n$count; fi  # the last name: the whole zone is loaded
  wait_for_nsd "$dir-root" "$root" ". SOA"
  wait_for_nsd "$dir-auth" "$auth" "$last.$tld. A"
}

# ---------------------------------------------------------------------------------
# Resolvers

write_unbound_conf() {  # file address
  local file=$1 address=$2 dir threads=${RESOLVER_THREADS:-1} modules="iterator" anchor=""
  dir=$(dirname "$file")
  if [[ -n ${TRUST_ANCHOR:-} ]]; then
    modules="validator iterator"
    anchor="trust-anchor-file: \"$TRUST_ANCHOR\""
  fi
  # Same shape as our YAML: the same threads, validation, qname minimisation and root
  # hints; the cache budget split the way unbound's documentation suggests (rrset
  # cache twice the message cache). Several threads share the port (so-reuseport), as
  # ours do. The listening socket's receive buffer is ours' default (network.so-rcvbuf:
  # 1M; unbound's default is the system's, 208K), so that a burst of queries is
  # absorbed alike and losses compare the resolvers, not their defaults.
  cat >"$file" <<EOF
server:
  interface: $address@53
  access-control: 127.0.0.0/8 allow
  num-threads: $threads
  do-ip6: no
  do-not-query-localhost: no
  root-hints: "${ROOT_HINTS:-$WORK/root.hints}"
  module-config: "$modules"
  $anchor
  trust-anchor-signaling: no
  qname-minimisation: yes
  msg-cache-size: $((CACHE_MB / 3))m
  rrset-cache-size: $((CACHE_MB - CACHE_MB / 3))m
  num-queries-per-thread: 4096
  outgoing-range: 8192
  prefetch: no
  minimal-responses: yes
  so-reuseport: $([[ $threads -gt 1 ]] && echo yes || echo no)
  so-rcvbuf: 1m
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
  local file=$1 address=$2 dir dnssec="{validation: false, trust-anchor-files: []}"
  dir=$(dirname "$file")
  if [[ -n ${TRUST_ANCHOR:-} ]]; then
    dnssec="{validation: true, trust-anchor-files: [$TRUST_ANCHOR], trust-anchor-signaling: false}"
  fi
  cat >"$file" <<EOF
listen: [$address@53]
access-control: [127.0.0.0/8 allow]
threads: ${RESOLVER_THREADS:-1}
log-level: warning
network: {do-ip6: false, do-not-query-localhost: false${OURS_NETWORK:+, $OURS_NETWORK}}
resolver: {root-hints: ${ROOT_HINTS:-$WORK/root.hints}, qname-minimisation: true}
cache: {size: ${CACHE_MB}M, snapshot: ""}
dnssec: $dnssec
control: {socket: "$dir/control.sock"}
EOF
  if [[ -n ${OURS_EXTRA:-} ]]; then
    printf '%s\n' "$OURS_EXTRA" >>"$file"
  fi
  if [[ ${HTTP:-0} == 1 ]]; then
    echo "http: {listen: [$address@8053], recent-queries: ${BENCH_RECENT_QUERIES:-1000}}" >>"$file"
  else
    echo "http: {listen: []}" >>"$file"
  fi
}

# Knot Resolver (kresd 5, Debian's knot-resolver), configured as the other two: the
# same root hints, validation and cache budget (its cache is one LMDB file mapped
# into memory, kept in the side's directory). Threads: kresd runs one process per
# core instead; this is one.
write_kresd_conf() {  # file address
  local file=$1 address=$2 dir anchor="trust_anchors.remove('.')"
  dir=$(dirname "$file")
  [[ -n ${TRUST_ANCHOR:-} ]] && anchor="trust_anchors.remove('.'); trust_anchors.add_file('$TRUST_ANCHOR', true)"
  local hints_file=${ROOT_HINTS:-$WORK/root.hints}
  cat >"$file" <<EOF
log_level('warning')
net.ipv6 = false
net.listen('$address', 53, { kind = 'dns' })
modules = { 'hints > iterate' }
hints.root_file('$hints_file')
$anchor
cache.open(${CACHE_MB} * MB, 'lmdb://$dir/cache')
EOF
}

# Starts one side (ours, unbound or kresd) in $WORK/DIR (default: the side's name)
# and prints its PID; the command line is kept in $WORK/DIR/command. The caller adds
# the PID to STARTED_PIDS (this runs in a subshell). "ours" runs OURS_CMD, unless
# that is the word "unbound", which makes both sides unbound to check a script itself.
start_resolver() {  # side address [dir]
  local side=$1 address=$2 dir="$WORK/${3:-$1}" command
  mkdir -p "$dir"
  if [[ $side == kresd ]]; then
    write_kresd_conf "$dir/kresd.conf" "$address"
    command="kresd -n -c $dir/kresd.conf $dir"
  elif [[ $side == unbound || $OURS_CMD == unbound ]]; then
    write_unbound_conf "$dir/unbound.conf" "$address"
    command="unbound -d -c $dir/unbound.conf"
  else
    write_ours_conf "$dir/resolverd.yaml" "$address"
    command=${OURS_CMD//\{config\}/$dir/resolverd.yaml}
    command=${command//\{listen\}/$address@53}
  fi
  [[ -z ${SERVER_CPUS:-} ]] || command="taskset -c $SERVER_CPUS $command"
  echo "$command" >"$dir/command"
  # exec (taskset execs in turn), so that the PID recorded is the resolver's own and not a shell's.
  bash -c "exec $command" >"$dir/stdout" 2>&1 &
  echo "$!"
}

cpu_ticks() {  # pid -> user + system CPU time of all its threads, in clock ticks (0: gone)
  local stat=""
  # A PID only: an empty one would read /proc/stat, the whole system's.
  if [[ $1 =~ ^[0-9]+$ ]]; then stat=$(cat "/proc/$1/stat" 2>/dev/null || true); fi
  [[ -n $stat ]] || { echo 0; return; }
  # Fields after the command name, which is in parentheses and may hold spaces.
  awk '{ print $12 + $13 }' <<<"${stat##*) }"
}

rss_kb() {  # pid [field] -> resident set size (or RssFile, RssAnon...) in KiB
  awk -v field="${2:-VmRSS}:" '$1 == field { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# dnsperf doubles as the readiness probe: one query, one-second timeout.
answers() {  # address query [rcode]
  echo "$2" | dnsperf -s "$1" -p 53 -n 1 -t 1 2>/dev/null | grep -q "Response codes: *${3:-NOERROR} 1 "
}

wait_until_answering() {  # address query what [pid] [rcode]
  local deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)); do
    answers "$1" "$2" "${5:-NOERROR}" && return 0
    if [[ -n ${4:-} ]] && ! kill -0 "$4" 2>/dev/null; then
      log "$3 exited before answering"
      return 1
    fi
    sleep 0.1
  done
  log "$3 at $1 did not answer '$2' within 20 s"
  return 1
}

# Runs dnsperf (with per-query output unless LATENCIES=0) and reduces it to one line:
#   qps avg_ms p99_ms sent completed noerror lost
# The full command is in OUT.command, its output in OUT.log, its CPU time in OUT.time.
measure() {  # address datafile output-prefix dnsperf-args...
  local address=$1 data=$2 out=$3 verbose=()
  shift 3
  [[ ${LATENCIES:-1} == 1 ]] && verbose=(-v)
  # shellcheck disable=SC2206 # DNSPERF_EXTRA is a list of options
  local -a argv=(${CLIENT_CPUS:+taskset -c "$CLIENT_CPUS"} dnsperf -s "$address" -p 53 -d "$data" -q "$OUTSTANDING" ${DNSPERF_EXTRA:-} "${verbose[@]}" "$@")
  echo "${argv[*]}" >"$out.command"
  # dnsperf's own CPU time goes to OUT.time ("user system real", seconds): a client
  # using all the CPU its threads can have is the limit of the run, not the server.
  local TIMEFORMAT='%U %S %R'
  { time "${argv[@]}" >"$out.log" 2>&1; } 2>"$out.time" || true
  local qps avg p99=nan sent completed noerror lost count
  qps=$(awk '/Queries per second:/ { print $4 }' "$out.log")
  avg=$(awk '/Average Latency \(s\):/ { printf "%.3f", $4 * 1000 }' "$out.log")
  sent=$(awk '/Queries sent:/ { print $3 }' "$out.log")
  completed=$(awk '/Queries completed:/ { print $3 }' "$out.log")
  lost=$(awk '/Queries lost:/ { print $3 }' "$out.log")
  noerror=$(awk '/Response codes:/ { for (i = 3; i < NF; i++) if ($i == "NOERROR") print $(i + 1) }' "$out.log")
  if [[ ${LATENCIES:-1} == 1 ]]; then
    grep '^> ' "$out.log" | awk '{ print $NF }' | sort -g >"$out.latencies" || true
    count=$(wc -l <"$out.latencies")
    if ((count > 0)); then
      p99=$(awk -v n="$count" 'NR == int(n * 0.99 + 0.999) { printf "%.3f", $1 * 1000; exit }' "$out.latencies")
    fi
  fi
  echo "${qps:-0} ${avg:-nan} ${p99:-nan} ${sent:-0} ${completed:-0} ${noerror:-0} ${lost:-0}"
}
