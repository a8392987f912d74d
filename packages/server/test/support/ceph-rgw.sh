#!/usr/bin/env bash
#
# ceph-rgw.sh — a throwaway single-host Ceph cluster with a RADOS Gateway, so
# tests can run against a real S3-compatible server.
#
# Usage:
#   ceph-rgw.sh start <dir> <port>   start mon + osd + radosgw; on success print
#                                    exactly one line on stdout:
#     S3 ready endpoint=http://127.0.0.1:<port> accessKey=parleytest secretKey=parleytestsecret
#   ceph-rgw.sh stop <dir>           kill every daemon started for <dir> and wait for them
#
# Everything (config, mon store, OSD, logs, pid files, admin sockets) lives
# under <dir>; nothing is written to /etc/ceph or /var/lib/ceph and systemd is
# not used. The cluster is one monitor, one OSD on memstore (data lives in the
# OSD's memory and is gone after stop), no mgr (RGW does not need one), cephx
# disabled, one replica per pool, messenger v2 on 127.0.0.1 only. "start"
# takes about 2-3 s; the three daemons use roughly 40 MB RSS each when idle.
#
# Required Debian 12 packages (Ceph 16.2.x "Pacific"):
#   ceph-mon ceph-osd ceph-common radosgw   the daemons, ceph CLI, radosgw-admin, monmaptool
#   uuid-runtime                            uuidgen
#   curl                                    readiness probe
# e.g. apt-get install -y --no-install-recommends ceph-mon ceph-osd ceph-common radosgw uuid-runtime curl
#
# Environment:
#   CEPH_MON_PORT     monitor port on 127.0.0.1 (default: <port>+1)
#   CEPH_RGW_TIMEOUT  seconds "start" may take before it gives up (default: 90)
#
# Only the "S3 ready" line goes to stdout; progress and errors go to stderr.
# If anything fails to come up, "start" prints a one-line reason and the tail
# of the relevant log to stderr, stops what it started and exits 1.
#
# Note for S3 clients: like AWS, RGW needs the x-amz-content-sha256 header on
# SigV4 requests. The AWS SDKs send it; curl 7.88 (Debian 12) does not, so add
# -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' to `curl --aws-sigv4` calls.

set -euo pipefail

readonly ACCESS_KEY=parleytest
readonly SECRET_KEY=parleytestsecret
readonly MARKER=.parley-ceph-rgw              # marks a directory as created by this script
readonly DAEMONS=(client.rgw.parley osd.0 mon.a) # Ceph names; pid file is run/<name>.pid

log() { printf 'ceph-rgw [%3ss]: %s\n' "$SECONDS" "$*" >&2; }

usage() {
  printf 'usage: %s start <dir> <port> | stop <dir>\n' "${0##*/}" >&2
  exit 2
}

# --- process helpers ----------------------------------------------------------

# Every process is started with "--conf <dir>/ceph.conf", which is how we tell
# our daemons from any other Ceph process on the machine. (Reads the command
# line with builtins only: this runs for every process in /proc.)
is_ours() { # <dir> <pid>
  local -a argv
  { mapfile -t -d '' argv <"/proc/$2/cmdline"; } 2>/dev/null || return 1
  [[ " ${argv[*]} " == *" --conf $1/ceph.conf "* ]]
}

# Pids of all live processes started for <dir>: those in the pid files plus any
# other process using this dir's config (e.g. a daemon that died before writing
# its pid file, or a ceph CLI call still running).
pids_for_dir() { # <dir>
  local dir="$1" name pid p
  for name in "${DAEMONS[@]}"; do
    pid=$(cat 2>/dev/null "$dir/run/$name.pid") || continue
    [[ "$pid" =~ ^[0-9]+$ ]] && is_ours "$dir" "$pid" && printf '%s\n' "$pid"
  done
  for p in /proc/[0-9]*; do
    is_ours "$dir" "${p#/proc/}" && printf '%s\n' "${p#/proc/}"
  done
  return 0
}

# Is process <pid> still running? A zombie counts as gone: it holds no ports or
# memory any more, and its reaper (here the daemons' parent is PID 1) may be slow.
is_alive() { # <pid>
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) } # the state letter follows "(comm) "
  [[ "${stat:0:1}" != Z ]]
}

# Is the daemon <name> of this cluster running (per its pid file)?
daemon_running() { # <name>
  local pid
  pid=$(cat 2>/dev/null "$DIR/run/$1.pid") || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && is_ours "$DIR" "$pid"
}

# --- stop -------------------------------------------------------------------

# The cluster keeps nothing worth flushing (memstore, throwaway mon store), and
# a graceful SIGTERM shutdown takes 2-7 s (the OSD waits for the monitor), so
# the daemons are simply SIGKILLed; then we wait until they are gone.
stop_cluster() { # <dir>
  local dir="$1" i p
  local -a pids alive
  mapfile -t pids < <(pids_for_dir "$dir" | sort -un)
  if ((${#pids[@]})); then
    log "stopping pids ${pids[*]} for $dir"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do # up to 10 s
      alive=()
      for p in "${pids[@]}"; do is_alive "$p" && alive+=("$p"); done
      ((${#alive[@]})) || break
      sleep 0.1
    done
    if ((${#alive[@]})); then
      log "ERROR: pids ${alive[*]} for $dir did not exit"
      return 1
    fi
  fi
  rm -f -- "$dir"/run/*.pid "$dir"/run/*.asok
}

# --- start helpers ----------------------------------------------------------

# Print the last lines of each given log file that exists to stderr.
show_logs() {
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    printf -- '--- last lines of %s ---\n' "$f" >&2
    tail -n 25 -- "$f" >&2 || true
  done
}

# Abort start: one-line reason, log tails, stop whatever was started, exit 1.
fail() { # <reason> [log file...]
  log "ERROR: $1"
  shift
  show_logs "$@"
  stop_cluster "$DIR" 2>/dev/null || true
  exit 1
}

# Whole seconds left before the start deadline (at least 1).
remaining() {
  local left=$((DEADLINE - SECONDS))
  ((left > 0)) || left=1
  printf '%s\n' "$left"
}

# ceph CLI against this cluster, bounded by the start deadline.
ceph_cmd() {
  local t
  t=$(remaining)
  timeout "$t" ceph --conf "$DIR/ceph.conf" --connect-timeout "$t" "$@"
}

# Poll until the command succeeds; fail early if daemon <name> died, or at the deadline.
wait_for() { # <what> <name> <cmd...>
  local what="$1" name="$2"
  shift 2
  until "$@" >/dev/null 2>&1; do
    daemon_running "$name" ||
      fail "$name exited while waiting for $what" "$DIR/log/$name.out" "$DIR/log/$name.log"
    ((SECONDS < DEADLINE)) ||
      fail "timed out after ${SECONDS}s waiting for $what" "$DIR/log/$name.out" "$DIR/log/$name.log"
    sleep 0.2
  done
}

mon_up() { ceph_cmd mon stat; }
osd_up() { ceph_cmd osd stat | grep -q ' 1 up'; }
s3_up() { # anonymous GET / answers 200 (empty bucket list) or 403
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/") || return 1
  [[ "$code" == 200 || "$code" == 403 ]]
}

# Is something already listening on 127.0.0.1:<port>?
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_config() { # <fsid>
  cat >"$DIR/ceph.conf" <<EOF
# Generated by ceph-rgw.sh: a throwaway single-host test cluster.
[global]
fsid = $1
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a

# No cephx: the cluster listens on loopback only and lives for one test run.
auth cluster required = none
auth service required = none
auth client required = none
keyring = /dev/null

# Loopback, IPv4, messenger v2 only.
ms bind ipv6 = false
ms bind ipv4 = true
ms bind msgr1 = false
ms bind msgr2 = true

# Keep every file under the cluster directory.
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$cluster-\$name.asok
log file = $DIR/log/\$name.log
mon cluster log file = $DIR/log/cluster.log
crash dir = $DIR/crash
log to stderr = false
err to stderr = false
log to syslog = false

# One OSD, one replica, few PGs (RGW creates about 7 pools on first use).
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail crit = 0
mon data avail warn = 0

# Fail after 30 s instead of retrying forever.
client mount timeout = 30
rados mon op timeout = 30
rados osd op timeout = 30

[mon]
mon data = $DIR/mon
public addr = 127.0.0.1:$MON_PORT
# Commit map changes quickly (default 1 s): RGW's pool setup is a dozen map updates.
paxos propose interval = 0.05

[osd]
osd data = $DIR/osd
osd objectstore = memstore
memstore device bytes = 1073741824
# The minimum allowed; only a cache-sizing hint (memstore keeps all data in RAM anyway).
osd memory target = 939524096
osd op num shards = 2
osd op num threads per shard = 1
public addr = 127.0.0.1
cluster addr = 127.0.0.1

[client.rgw.parley]
# radosgw defaults to ms_mon_client_mode=secure, which needs cephx; we run without auth.
ms mon client mode = crc
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $DIR/rgw
rgw thread pool size = 32
rgw enable usage log = false
EOF
}

# Start a Ceph daemon (it daemonizes and writes run/<name>.pid itself).
start_daemon() { # <name> <cmd...>
  local name="$1"
  shift
  "$@" --conf "$DIR/ceph.conf" >"$DIR/log/$name.out" 2>&1 ||
    fail "$name failed to start" "$DIR/log/$name.out" "$DIR/log/$name.log"
}

start_cluster() {
  local fsid osd_uuid osd_id p
  DEADLINE=$((SECONDS + ${CEPH_RGW_TIMEOUT:-90}))

  # Refuse to wipe a directory this script did not create.
  if [[ -n "$(ls -A -- "$DIR")" && ! -e "$DIR/$MARKER" ]]; then
    log "ERROR: $DIR is not empty and was not made by ceph-rgw.sh; refusing to use it"
    exit 1
  fi
  # Start again from scratch: stop leftovers of an earlier run for this dir, wipe its state.
  stop_cluster "$DIR"
  rm -rf -- "${DIR:?}/ceph.conf" "$DIR/monmap" "$DIR/mon" "$DIR/osd" "$DIR/rgw" \
    "$DIR/run" "$DIR/log" "$DIR/crash"
  touch -- "$DIR/$MARKER"
  mkdir -p -- "$DIR/mon" "$DIR/osd" "$DIR/rgw" "$DIR/run" "$DIR/log" "$DIR/crash"

  for p in "$PORT" "$MON_PORT"; do
    port_busy "$p" && fail "port $p on 127.0.0.1 is already in use"
  done

  fsid=$(uuidgen)
  write_config "$fsid"
  export CEPH_CONF="$DIR/ceph.conf"

  # Monitor.
  log "starting mon.a on 127.0.0.1:$MON_PORT (fsid $fsid) in $DIR"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" \
    >"$DIR/log/mkfs.out" 2>&1 || fail "monmaptool failed" "$DIR/log/mkfs.out"
  ceph-mon --conf "$DIR/ceph.conf" --id a --mkfs --monmap "$DIR/monmap" \
    >>"$DIR/log/mkfs.out" 2>&1 || fail "ceph-mon --mkfs failed" "$DIR/log/mkfs.out" "$DIR/log/mon.a.log"
  start_daemon mon.a ceph-mon --id a
  wait_for "the monitor to answer" mon.a mon_up

  # OSD on memstore. It adds itself to the CRUSH map when it boots.
  log "starting osd.0 (memstore)"
  osd_uuid=$(uuidgen)
  osd_id=$(ceph_cmd osd new "$osd_uuid" 2>>"$DIR/log/mkfs.out") ||
    fail "ceph osd new failed" "$DIR/log/mkfs.out" "$DIR/log/mon.a.log"
  [[ "$osd_id" == 0 ]] || fail "expected osd id 0, got '$osd_id'"
  ceph-osd --conf "$DIR/ceph.conf" --id 0 --mkfs --osd-uuid "$osd_uuid" \
    >>"$DIR/log/mkfs.out" 2>&1 || fail "ceph-osd --mkfs failed" "$DIR/log/mkfs.out" "$DIR/log/osd.0.log"
  start_daemon osd.0 ceph-osd --id 0
  wait_for "osd.0 to be up" osd.0 osd_up

  # S3 user; this also creates RGW's default zone and its first pools.
  log "creating S3 user $ACCESS_KEY"
  timeout "$(remaining)" radosgw-admin --conf "$DIR/ceph.conf" user create \
    --uid parley --display-name "Parley tests" \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >"$DIR/log/user-create.out" 2>&1 ||
    fail "radosgw-admin user create failed" "$DIR/log/user-create.out" "$DIR/log/client.admin.log"

  # RADOS Gateway, beast frontend on 127.0.0.1:<port>.
  log "starting radosgw on 127.0.0.1:$PORT"
  start_daemon client.rgw.parley radosgw --id rgw.parley
  wait_for "S3 at http://127.0.0.1:$PORT/" client.rgw.parley s3_up

  log "up in ${SECONDS}s"
  printf 'S3 ready endpoint=http://127.0.0.1:%s accessKey=%s secretKey=%s\n' \
    "$PORT" "$ACCESS_KEY" "$SECRET_KEY"
}

# --- main -------------------------------------------------------------------

[[ $# -ge 2 && -n "$2" ]] || usage
case "$1" in
  start)
    [[ $# -eq 3 && "$3" =~ ^[0-9]+$ ]] || usage
    PORT="$3"
    MON_PORT="${CEPH_MON_PORT:-$((PORT + 1))}"
    [[ "$MON_PORT" =~ ^[0-9]+$ && "$MON_PORT" != "$PORT" ]] ||
      { log "ERROR: bad CEPH_MON_PORT '$MON_PORT'"; exit 2; }
    for cmd in ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool uuidgen curl timeout; do
      command -v "$cmd" >/dev/null || {
        log "ERROR: '$cmd' not found (apt-get install ceph-mon ceph-osd ceph-common radosgw uuid-runtime curl)"
        exit 1
      }
    done
    mkdir -p -- "$2"
    DIR=$(cd -- "$2" && pwd -P) # absolute, symlink-free: it is matched in daemon command lines
    start_cluster
    ;;
  stop)
    [[ $# -eq 2 ]] || usage
    [[ -d "$2" ]] || exit 0
    DIR=$(cd -- "$2" && pwd -P)
    stop_cluster "$DIR"
    ;;
  *) usage ;;
esac
