#!/usr/bin/env bash
# Installs resolverd as a systemd service on Debian 12, as root:
#   - the build dependencies (scripts/deps.sh) and a RelWithDebInfo build (build-release/)
#   - /usr/local/sbin/resolverd, /usr/local/bin/resolverctl and /usr/local/bin/dnsq
#   - /etc/resolverd/resolver.yaml from conf/resolver.yaml, with `username: resolverd`
#     and RFC 5011 trust anchor maintenance on (an existing file is never overwritten)
#   - the system user and group resolverd, the state directory /var/lib/resolverd
#   - /etc/systemd/system/resolverd.service, then `systemctl enable --now resolverd`
#     when systemd runs this machine (else it says how to start the daemon)
# Running it again upgrades the binaries and the unit and keeps the configuration.
#
# usage: scripts/install.sh [--destdir DIR] [--no-start] [--no-build] [--build-dir DIR]
#   --destdir DIR    install under DIR instead of / (also $DESTDIR): no user is
#                    created, nothing is started, no packages are installed
#   --no-start       install, but do not enable or start the service
#   --no-build       install the binaries already built in the build directory
#   --build-dir DIR  where to build (default build-release)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
destdir="${DESTDIR:-}"
start=1
build=1
build_dir="$repo/build-release"

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --destdir) destdir="${2:?--destdir needs a directory}"; shift 2 ;;
    --destdir=*) destdir="${1#*=}"; shift ;;
    --no-start) start=0; shift ;;
    --no-build) build=0; shift ;;
    --build-dir) build_dir="${2:?--build-dir needs a directory}"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [[ -n "$destdir" ]]; then
  destdir="$(mkdir -p "$destdir" && cd "$destdir" && pwd)"
  start=0
elif ((EUID != 0)); then
  echo "install.sh: run it as root (or with --destdir DIR to install under DIR)" >&2
  exit 1
fi
build_dir="$(mkdir -p "$build_dir" && cd "$build_dir" && pwd)"

say() { printf 'install.sh: %s\n' "$*"; }

# --- build ---------------------------------------------------------------------------
if ((build)); then
  if [[ -z "$destdir" ]]; then bash "$repo/scripts/deps.sh"; fi
  say "building in $build_dir"
  cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESOLVER_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target resolverd resolverctl dnsq
fi
for binary in resolverd resolverctl dnsq; do
  [[ -x "$build_dir/$binary" ]] || { echo "install.sh: $build_dir/$binary is not built" >&2; exit 1; }
done

# --- files ---------------------------------------------------------------------------
root="$destdir"
install -D -m 0755 "$build_dir/resolverd" "$root/usr/local/sbin/resolverd"
install -D -m 0755 "$build_dir/resolverctl" "$root/usr/local/bin/resolverctl"
install -D -m 0755 "$build_dir/dnsq" "$root/usr/local/bin/dnsq"
install -D -m 0644 "$repo/conf/resolverd.service" "$root/etc/systemd/system/resolverd.service"
install -D -m 0644 "$repo/README.md" "$root/usr/local/share/doc/resolverd/README.md"
install -D -m 0644 "$repo/conf/example-forwarding.yaml" "$root/usr/local/share/doc/resolverd/example-forwarding.yaml"
say "installed /usr/local/sbin/resolverd, /usr/local/bin/resolverctl, /usr/local/bin/dnsq and the unit"

# The user first: the configuration's group and the state directory's owner.
if [[ -z "$destdir" ]]; then
  if ! getent passwd resolverd >/dev/null; then
    adduser --system --group --home /var/lib/resolverd --no-create-home --quiet resolverd
    say "created the system user and group resolverd"
  fi
else
  say "--destdir: no user created (it would be: adduser --system --group resolverd)"
fi

config="$root/etc/resolverd/resolver.yaml"
install -d -m 0755 "$root/etc/resolverd"
if [[ -e "$config" ]]; then
  say "kept the existing $config (the shipped one is $repo/conf/resolver.yaml)"
else
  {
    echo "# Installed by scripts/install.sh from conf/resolver.yaml, with username: resolverd"
    echo "# and dnssec.rfc5011: true (the state in /var/lib/resolverd/trust-anchors.state)."
    sed -e 's/^username: ""/username: resolverd/' \
        -e 's/^  rfc5011: false/  rfc5011: true/' \
        -e 's|^  trust-anchor-state: .*|  trust-anchor-state: /var/lib/resolverd/trust-anchors.state|' \
        "$repo/conf/resolver.yaml"
  } > "$config.new"
  chmod 0644 "$config.new"
  mv "$config.new" "$config"
  say "wrote $config"
fi
"$root/usr/local/sbin/resolverd" -c "$config" --check-config >/dev/null

install -d -m 0755 "$root/var/lib/resolverd"
if [[ -z "$destdir" ]]; then chown resolverd:resolverd /var/lib/resolverd; fi

# --- the service ---------------------------------------------------------------------
if [[ -n "$destdir" ]]; then
  say "installed under $destdir; nothing started"
elif ((start == 0)); then
  say "not started (--no-start); to start it: systemctl daemon-reload && systemctl enable --now resolverd"
elif [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  if systemctl is-active --quiet resolverd; then
    systemctl restart resolverd  # the new binary
  else
    systemctl enable --now resolverd
  fi
  say "resolverd is running: systemctl status resolverd; resolverctl status"
else
  say "systemd does not run this machine: start resolverd in the foreground with"
  say "  /usr/local/sbin/resolverd -c /etc/resolverd/resolver.yaml"
fi

cat <<'EOF'
install.sh: to uninstall:
  systemctl disable --now resolverd
  rm -f /usr/local/sbin/resolverd /usr/local/bin/resolverctl /usr/local/bin/dnsq \
        /etc/systemd/system/resolverd.service
  rm -rf /usr/local/share/doc/resolverd
  systemctl daemon-reload
  rm -rf /etc/resolverd /var/lib/resolverd     # the configuration and the RFC 5011 state
  deluser --system resolverd
EOF
