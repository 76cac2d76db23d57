#!/usr/bin/env bash
# Scale-out on one machine, to try it: Debian's dnsdist running conf/dnsdist.conf.example
# (consistent hashing on the query name) in front of two resolverd backends on
# loopback, each with its own directory (configuration, control socket, cache
# snapshot, log). Stays in the foreground; Ctrl-C stops every process it started,
# by PID, and nothing else.
#
#   scripts/scale_out.sh                  # the backends resolve from the Internet's root
#   dig @127.0.0.1 -p 5300 www.debian.org
#   sudo scripts/scale_out.sh --offline   # through the system tests' local hierarchy instead
#   dig @127.0.0.1 -p 5300 www.alpha.test
#
# Options:
#   --listen ADDR:PORT      dnsdist's frontend (default 127.0.0.1:5300)
#   --backends A:P,A:P,...  the resolverd backends (default 127.0.0.1:5301,127.0.0.1:5302)
#   --policy NAME           dnsdist's policy: chashed (default), roundrobin, leastOutstanding,
#                           wrandom, whashed, firstAvailable
#   --webserver ADDR:PORT   dnsdist's web server and JSON API (default 127.0.0.1:8083)
#   --offline               start the DNS hierarchy of tests/system (NSD on 127.x port 53,
#                           needs root) and resolve through it
#   --root-hints FILE       resolve from these root servers (a local hierarchy already
#                           running): loopback servers allowed, DNSSEC validation off
#   --build-dir DIR         take resolverd and resolverctl from DIR instead of building build/
#   --dir DIR               keep configurations, logs and state in DIR (default: a temp
#                           directory, removed at exit)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LISTEN=127.0.0.1:5300
BACKENDS=127.0.0.1:5301,127.0.0.1:5302
POLICY=chashed
WEBSERVER=127.0.0.1:8083
OFFLINE=0
ROOT_HINTS=""
BUILD_DIR=""
WORK=""

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit "${1:-0}"
}

while (($#)); do
  case $1 in
    --listen | --backends | --policy | --webserver | --root-hints | --build-dir | --dir)
      (($# >= 2)) || { echo "scale_out: $1 needs a value" >&2; exit 2; }
      case $1 in
        --listen) LISTEN=$2 ;;
        --backends) BACKENDS=$2 ;;
        --policy) POLICY=$2 ;;
        --webserver) WEBSERVER=$2 ;;
        --root-hints) ROOT_HINTS=$2 ;;
        --build-dir) BUILD_DIR=$2 ;;
        --dir) WORK=$2 ;;
      esac
      shift 2 ;;
    --offline) OFFLINE=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "scale_out: unknown option $1" >&2; usage 2 >&2 ;;
  esac
done

ADDRESS_RE='^([0-9]+(\.[0-9]+){3}|\[[0-9a-fA-F:]+\]):[0-9]+$'
IFS=, read -r -a BACKEND_LIST <<<"$BACKENDS"
for address in "$LISTEN" "$WEBSERVER" "${BACKEND_LIST[@]}"; do
  [[ $address =~ $ADDRESS_RE ]] || { echo "scale_out: not ADDR:PORT: $address" >&2; exit 2; }
done
[[ $POLICY =~ ^(chashed|roundrobin|leastOutstanding|wrandom|whashed|firstAvailable)$ ]] ||
  { echo "scale_out: unknown policy $POLICY" >&2; exit 2; }
command -v dnsdist >/dev/null || { echo "scale_out: dnsdist is not installed (apt-get install dnsdist)" >&2; exit 2; }
if ((OFFLINE)); then
  [[ -z $ROOT_HINTS ]] || { echo "scale_out: --offline or --root-hints, not both" >&2; exit 2; }
  ((EUID == 0)) || { echo "scale_out: --offline needs root (NSD listens on port 53)" >&2; exit 2; }
fi
if [[ -n $ROOT_HINTS && ! -r $ROOT_HINTS ]]; then
  echo "scale_out: cannot read $ROOT_HINTS" >&2
  exit 2
fi

if [[ -z $BUILD_DIR ]]; then
  BUILD_DIR=$ROOT/build
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target resolverd resolverctl
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)

KEEP_WORK=1
if [[ -z $WORK ]]; then
  WORK=$(mktemp -d /tmp/resolverd-scale-out.XXXXXX)
  KEEP_WORK=0
fi
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

declare -a PIDS=() NAMES=() LOGS=()

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Newest first: dnsdist, then the backends, then the hierarchy they resolve through.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    echo "scale_out: stopping ${NAMES[i]} (pid ${PIDS[i]}) at $(date +%T)" >&2
    stop_pid "${PIDS[i]}"
  done
  if ((KEEP_WORK)); then
    echo "scale_out: files kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# Starts "$@" in the background in its own session (so that a Ctrl-C reaches this
# script only, which then stops everything in order) and remembers its PID.
start_process() {
  local name=$1 log=$2
  shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  PIDS+=($!)
  NAMES+=("$name")
  LOGS+=("$log")
}

fail() {
  echo "scale_out: $1" >&2
  [[ -n ${2:-} && -f $2 ]] && tail -n 30 "$2" >&2
  exit 1
}

# wait_until SECONDS PID LOG COMMAND...: until COMMAND succeeds, while PID runs.
wait_until() {
  local seconds=$1 pid=$2 log=$3
  shift 3
  for _ in $(seq $((seconds * 10))); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || fail "pid $pid exited" "$log"
    sleep 0.1
  done
  fail "timed out after ${seconds}s waiting for: $*" "$log"
}

if ((OFFLINE)); then
  start_process hierarchy "$WORK/hierarchy.log" /usr/bin/python3 -u "$ROOT/tests/system/run_hierarchy.py" \
    --dir "$WORK/hierarchy" --build-dir "$BUILD_DIR"
  wait_until 60 "${PIDS[-1]}" "$WORK/hierarchy.log" grep -q '^root hints: ' "$WORK/hierarchy.log"
  ROOT_HINTS=$(sed -n 's/^root hints: //p' "$WORK/hierarchy.log")
fi

# --- the backends -----------------------------------------------------------
backend_answers() { "$BUILD_DIR/resolverctl" -s "$1" status >/dev/null 2>&1; }

for i in "${!BACKEND_LIST[@]}"; do
  n=$((i + 1))
  address=${BACKEND_LIST[i]}
  dir=$WORK/backend-$n
  mkdir -p "$dir"
  host=${address%:*}
  host=${host#\[}
  host=${host%\]}
  {
    echo "# resolverd-$n behind dnsdist (scripts/scale_out.sh)"
    echo "listen: [\"$host@${address##*:}\"]"
    echo "access-control: [127.0.0.0/8 allow, ::1/128 allow]   # dnsdist's address"
    echo "threads: 1"
    echo "log-level: info"
    # Every query comes from dnsdist: a per-client-address limit would apply to all.
    if [[ -n $ROOT_HINTS ]]; then
      echo "resolver: {wait-limit: 0, root-hints: \"$ROOT_HINTS\"}"
      echo "network: {do-not-query-localhost: false, do-ip6: false}   # the root servers are on loopback"
      echo "dnssec: {validation: false, trust-anchor-files: []}       # a private root, not signed"
    else
      echo "resolver: {wait-limit: 0}"
    fi
    echo "cache: {snapshot: \"$dir/cache.db\"}"
    echo "control: {socket: \"$dir/control.sock\"}"
    echo "http: {listen: []}"
  } >"$dir/resolverd.yaml"
  start_process "resolverd-$n" "$dir/resolverd.log" "$BUILD_DIR/resolverd" -c "$dir/resolverd.yaml"
  wait_until 15 "${PIDS[-1]}" "$dir/resolverd.log" backend_answers "$dir/control.sock"
done

# --- dnsdist, from the shipped example ---------------------------------------
API_KEY=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "print(hashPassword(\"$API_KEY\"))" >"$WORK/hash-key.conf"
API_KEY_HASH=$(dnsdist --check-config -C "$WORK/hash-key.conf" | head -n 1)
rm -f "$WORK/hash-key.conf"
# shellcheck disable=SC2016 # a literal $scrypt$ prefix
[[ $API_KEY_HASH == '$scrypt$'* ]] || fail "could not hash the API key: $API_KEY_HASH"
lua_backends=""
for address in "${BACKEND_LIST[@]}"; do lua_backends+="${lua_backends:+, }\"$address\""; done
sed -e "s|^local frontends = .*|local frontends = { \"$LISTEN\" }|" \
  -e "s|^local backends = .*|local backends = { $lua_backends }|" \
  -e "s|^local clients = .*|local clients = { \"127.0.0.0/8\", \"::1/128\" }|" \
  -e "s|^local policy = .*|local policy = $POLICY|" \
  -e "s|^local webserver_address = .*|local webserver_address = \"$WEBSERVER\"|" \
  -e "s|^local webserver_api_key = .*|local webserver_api_key = \"$API_KEY_HASH\"|" \
  "$ROOT/conf/dnsdist.conf.example" >"$WORK/dnsdist.conf"
for setting in frontends backends clients policy webserver_address webserver_api_key; do
  # The example must still have each settings line this script rewrites.
  grep -q "^local $setting = " "$WORK/dnsdist.conf" || fail "no 'local $setting' line in the example"
done
grep -q "^local webserver_api_key = \"\\\$scrypt" "$WORK/dnsdist.conf" || fail "the settings were not rewritten"
dnsdist --check-config -C "$WORK/dnsdist.conf" >/dev/null || fail "dnsdist rejects $WORK/dnsdist.conf"
start_process dnsdist "$WORK/dnsdist.log" dnsdist --supervised --disable-syslog -C "$WORK/dnsdist.conf"
for i in "${!BACKEND_LIST[@]}"; do
  # dnsdist logs each backend's first successful health check.
  wait_until 20 "${PIDS[-1]}" "$WORK/dnsdist.log" \
    grep -q "Marking downstream resolverd-$((i + 1)) .* as 'up'" "$WORK/dnsdist.log"
done

# --- ready --------------------------------------------------------------------
dig_host=${LISTEN%:*}
dig_host=${dig_host#\[}
dig_target="@${dig_host%\]}"
[[ ${LISTEN##*:} == 53 ]] || dig_target+=" -p ${LISTEN##*:}"
example=www.debian.org
[[ -z $ROOT_HINTS ]] || example=www.alpha.test
echo "scale-out running, policy $POLICY, files in $WORK:"
for i in "${!PIDS[@]}"; do
  case ${NAMES[i]} in
    hierarchy) echo "  hierarchy    NSD on 127.10-13.x (pid ${PIDS[i]}), log ${LOGS[i]}" ;;
    dnsdist) echo "  dnsdist      $LISTEN (pid ${PIDS[i]}), log ${LOGS[i]}" ;;
    *) n=${NAMES[i]#resolverd-}
       echo "  ${NAMES[i]}  ${BACKEND_LIST[n - 1]} (pid ${PIDS[i]}), control socket $WORK/backend-$n/control.sock" ;;
  esac
done
cat <<EOF
Try:
  dig $dig_target $example
  $BUILD_DIR/resolverctl -s $WORK/backend-1/control.sock stats | grep cache_
  curl -s -H 'X-API-Key: $API_KEY' http://$WEBSERVER/api/v1/servers/localhost
Ctrl-C stops everything this script started.
EOF

# Until Ctrl-C (the INT trap), or until one of the processes exits by itself.
while true; do
  wait -n "${PIDS[@]}" || true
  for i in "${!PIDS[@]}"; do
    kill -0 "${PIDS[i]}" 2>/dev/null || fail "${NAMES[i]} (pid ${PIDS[i]}) exited" "${LOGS[i]}"
  done
done
