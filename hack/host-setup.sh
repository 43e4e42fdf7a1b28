#!/usr/bin/env bash
# Host setup for drill, idempotent: a running Docker engine that can start
# privileged containers (kind's nodes are privileged).
#
# - Installs Debian's docker.io when dockerd is missing.
# - When this host's capability bounding set lacks a capability (this CI
#   machine lacks CAP_SYS_RESOURCE), runc cannot grant it to a privileged
#   container and `docker run --privileged` fails with "unable to apply caps".
#   drill-runc, a wrapper that removes the missing capabilities, is then
#   registered as dockerd's default runtime.
# - Starts dockerd when it is not running (systemd if it is PID 1, otherwise a
#   background dockerd logging to /var/log/drill-dockerd.log).
# On a host with a working Docker and every capability, it changes nothing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
log=/var/log/drill-dockerd.log
say() { echo "host-setup: $*"; }
die() { echo "host-setup: error: $*" >&2; exit 1; }

sudo_=""
[ "$(id -u)" -eq 0 ] || sudo_="sudo"

# --- 1. Docker installed -----------------------------------------------------
if ! command -v dockerd >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
  say "Docker is missing: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_ apt-get update -qq || die "apt-get update failed: cannot install docker.io"
  $sudo_ apt-get install -y -qq docker.io >/dev/null || die "apt-get install docker.io failed"
fi

# --- 2. Does this host need the runc wrapper? ---------------------------------
capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
last_cap=$(cat /proc/sys/kernel/cap_last_cap)
full=$(( (1 << (last_cap + 1)) - 1 ))
need_wrapper=false
if (( (0x$capbnd & full) != full )); then
  need_wrapper=true
fi

daemon_json=/etc/docker/daemon.json
wrapper=/usr/local/bin/drill-runc
restart=false
if $need_wrapper; then
  say "capability bounding set $capbnd lacks capabilities: using drill-runc as dockerd's default runtime"
  tmp=$(mktemp)
  (cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$tmp" ./cmd/drill-runc) || die "build drill-runc failed"
  # dockerd runs the runtime's path anew for every container: a new
  # wrapper needs no restart, which would stop every running container
  # (the clusters of other drills included). Installed by rename, so that
  # a wrapper running right now is not overwritten.
  if ! cmp -s "$tmp" "$wrapper"; then
    say "installing $wrapper"
    $sudo_ install -m 0755 "$tmp" "$wrapper.new" && $sudo_ mv -f "$wrapper.new" "$wrapper"
  fi
  rm -f "$tmp"
  $sudo_ mkdir -p /etc/docker
  current='{}'
  [ -s "$daemon_json" ] && current=$(cat "$daemon_json")
  want=$(printf '%s' "$current" | python3 -c '
import json, sys
cfg = json.load(sys.stdin)
cfg.setdefault("runtimes", {})["drill-runc"] = {"path": sys.argv[1]}
cfg["default-runtime"] = "drill-runc"
print(json.dumps(cfg, indent=2, sort_keys=True))
' "$wrapper") || die "$daemon_json is not valid JSON"
  if [ "$(printf '%s' "$current" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=2, sort_keys=True))')" != "$want" ]; then
    say "writing $daemon_json"
    printf '%s\n' "$want" | $sudo_ tee "$daemon_json" >/dev/null
    restart=true
  fi
fi

# Every kind node runs a kubelet, containerd and kube-proxy, each with its
# inotify instances, all counted against the host's limits: with the
# default 128 instances, a second cluster beside the drills' 6 nodes makes
# kube-proxy fail with "too many open files" (kind's known issue). Raised,
# never lowered, as kind's docs advise.
raise_sysctl() { # KEY VALUE
  local cur; cur=$(sysctl -n "$1" 2>/dev/null) || return 0
  if [ "$cur" -lt "$2" ]; then
    if $sudo_ sysctl -qw "$1=$2" >/dev/null 2>&1; then
      say "$1 raised from $cur to $2"
    else
      say "warning: cannot raise $1 from $cur to $2"
    fi
  fi
}
raise_sysctl fs.inotify.max_user_instances 512
raise_sysctl fs.inotify.max_user_watches 524288

# --- 3. dockerd running, with that configuration ------------------------------
systemd=false
[ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ] && systemd=true

if docker info >/dev/null 2>&1; then
  if $need_wrapper && [ "$(docker info --format '{{.DefaultRuntime}}')" != drill-runc ]; then
    restart=true
  fi
  if ! $restart; then
    say "Docker is running and ready"
    exit 0
  fi
  say "restarting dockerd to load its new configuration"
  if $systemd; then
    $sudo_ systemctl restart docker
  else
    $sudo_ pkill -x dockerd || true
    for _ in $(seq 1 60); do pgrep -x dockerd >/dev/null || break; sleep 0.5; done
  fi
fi

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  if $systemd; then
    $sudo_ systemctl start docker || die "systemctl start docker failed: see journalctl -u docker"
  else
    # A leftover pid file from a killed dockerd blocks a new one.
    pgrep -x dockerd >/dev/null || $sudo_ rm -f /var/run/docker.pid
    $sudo_ sh -c "nohup dockerd >>$log 2>&1 &"
  fi
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    echo "--- last lines of $log" >&2
    tail -n 20 "$log" >&2 2>/dev/null || true
    die "dockerd did not become ready within 60s"
  fi
fi

if $need_wrapper; then
  rt=$(docker info --format '{{.DefaultRuntime}}')
  [ "$rt" = drill-runc ] || die "dockerd's default runtime is $rt, not drill-runc: check $daemon_json"
fi

say "Docker $(docker version --format '{{.Server.Version}}') is ready (default runtime $(docker info --format '{{.DefaultRuntime}}'))"
