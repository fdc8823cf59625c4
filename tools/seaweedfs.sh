#!/usr/bin/env bash
# seaweedfs.sh builds SeaweedFS (an Apache-2.0 object store with an S3
# gateway) from the Go module proxy and runs it on 127.0.0.1, so that the S3
# tests of this repository talk to a real server. Nothing of SeaweedFS is
# written into this repository: its source and binary live in a cache dir.
#
# Usage:
#   tools/seaweedfs.sh build         build once (about 9 minutes on 2 cores and
#                                    ~2 GB of module downloads; later calls are
#                                    instant) and print the binary's path
#   tools/seaweedfs.sh path          print the cached binary's path; exit 1 if
#                                    it is not built
#   tools/seaweedfs.sh start DIR     start a server keeping its data in DIR (made
#                                    if absent) on free loopback ports, wait until
#                                    its S3 gateway answers, and print
#                                      export TBTRAIN_S3_ENDPOINT=http://127.0.0.1:P
#                                    (eval the output; DIR/weed.pid, DIR/weed.log,
#                                    DIR/endpoint hold the rest). Starting again on
#                                    the same DIR reuses the ports and the data.
#   tools/seaweedfs.sh stop DIR      stop the server started on DIR (SIGTERM, then
#                                    SIGKILL after 10 s: SeaweedFS 2026-11 does not
#                                    finish a SIGTERM shutdown in that time)
#   tools/seaweedfs.sh kill DIR      kill it at once (SIGKILL), as a crash would;
#                                    what it acknowledged stays readable after a
#                                    start on DIR (the tests' restarts and
#                                    teardown use this)
#
# The S3 tests (storage/s3store and the cmd/train S3 tests) read
# TBTRAIN_S3_ENDPOINT; without it they look for the cached binary (TBTRAIN_WEED
# or the path printed by `path`) and start a server of their own; with neither
# they skip, which CI=true turns into a failure.
#
# The module version is pinned below. `go install` refuses this module (its
# go.mod has replace directives), so the module's source is copied out of the
# module cache into a writable dir and `go build ./weed` runs there.
#
# Environment: TBTRAIN_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/tbtrain)
# is where the binary goes, under seaweedfs/<version>/weed. GOMODCACHE and
# GOCACHE are honoured, so a cold build can be timed with fresh ones.
set -euo pipefail

module=github.com/seaweedfs/seaweedfs
version=v0.0.0-20261109003541-7506e5f91cd6
cache=${TBTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tbtrain}
out=$cache/seaweedfs/$version
bin=$out/weed

die() { echo "seaweedfs.sh: $*" >&2; exit 1; }

build() {
  if [ -x "$bin" ]; then echo "$bin"; return; fi
  command -v go >/dev/null || die "go is not on PATH"
  mkdir -p "$out"
  local work
  work=$(mktemp -d "$out/build.XXXXXX")
  # The module's go.mod must not be mistaken for ours: run outside any module.
  local dir
  dir=$(cd "$work" && GOFLAGS=-mod=mod GO111MODULE=on go mod download -json "$module@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download $module@$version gave no module dir"
  cp -r "$dir" "$work/src"
  chmod -R u+w "$work/src"
  # -trimpath: the binary names no path of this machine. GOFLAGS is cleared so a
  # caller's -mod=vendor or similar does not reach the module's own build.
  (cd "$work/src" && GOFLAGS= GOWORK=off go build -trimpath -o "$work/weed" ./weed) >&2 ||
    die "go build ./weed failed in $work/src (left there for inspection)"
  mv "$work/weed" "$bin"
  rm -rf "$work"
  echo "$bin"
}

freeport() {
  # Ask the kernel for a free loopback port (python3 is on every Debian image
  # this project targets; /dev/tcp cannot bind).
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start() {
  local dir=${1:?usage: $0 start DIR}
  [ -x "$bin" ] || die "not built: run $0 build"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/weed.pid" ] && kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null; then
    echo "export TBTRAIN_S3_ENDPOINT=$(cat "$dir/endpoint")"
    return
  fi
  # Fresh ports are free when chosen but not reserved: another process (a
  # test package starting its own server at the same time) may bind one
  # before weed does, and weed then exits with "address already in use".
  # Then new ports are chosen and weed starts again, up to 5 times. Ports
  # kept in DIR from an earlier start are reused as they are (a restart
  # keeps its endpoint).
  local attempt fresh=0
  [ -f "$dir/ports" ] || fresh=1
  for attempt in 1 2 3 4 5; do
    if [ ! -f "$dir/ports" ]; then
      echo "$(freeport) $(freeport) $(freeport) $(freeport) $(freeport) $(freeport) $(freeport) $(freeport)" >"$dir/ports"
    fi
    launch "$dir" && return
    if [ "$fresh" = 1 ] && [ "$attempt" -lt 5 ] && grep -q 'address already in use' "$dir/weed.log"; then
      echo "seaweedfs.sh: a port was taken before weed bound it; starting again on new ports" >&2
      rm -rf "$dir/ports" "$dir/weed.pid" "$dir/data"
      continue
    fi
    tail -20 "$dir/weed.log" >&2
    die "weed exited; log in $dir/weed.log"
  done
}

# launch starts weed on the ports in DIR/ports and waits until its S3
# gateway answers: it prints the export line and returns 0 then, returns 1
# if weed exits first, and dies if it does not answer within 60 s.
launch() {
  local dir=$1
  local s3 master volume filer s3g masterg volumeg filerg
  read -r s3 master volume filer s3g masterg volumeg filerg <"$dir/ports"
  mkdir -p "$dir/data"
  # Everything binds 127.0.0.1, every port is given (SeaweedFS would take
  # gRPC ports at HTTP port + 10000, and fixed defaults for its Iceberg and
  # Lance catalogs, which are switched off). 64 MB volumes (at most 100; each
  # bucket grows 7 at its first write; none is preallocated) keep the disk
  # use small; -volume.preStopSeconds=0 makes stop prompt
  # (the default waits 10 s for the master to notice); a 1 s election timeout
  # (default 10 s) lets the single master lead again soon after a restart.
  "$bin" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$master" -master.port.grpc="$masterg" \
    -volume.port="$volume" -volume.port.grpc="$volumeg" \
    -filer.port="$filer" -filer.port.grpc="$filerg" \
    -master.volumeSizeLimitMB=64 -volume.max=100 -volume.preStopSeconds=0 -master.electionTimeout=1s \
    -s3 -s3.port="$s3" -s3.port.grpc="$s3g" -s3.port.iceberg=0 -s3.port.lance=0 \
    >"$dir/weed.log" 2>&1 &
  echo $! >"$dir/weed.pid"
  local endpoint=http://127.0.0.1:$s3
  echo "$endpoint" >"$dir/endpoint"
  local i
  for i in $(seq 1 120); do
    if curl -s -o /dev/null "$endpoint/" 2>/dev/null; then
      echo "export TBTRAIN_S3_ENDPOINT=$endpoint"
      return 0
    fi
    kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null || return 1
    sleep 0.5
  done
  die "S3 gateway did not answer on $endpoint within 60 s; log in $dir/weed.log"
}

stop() {
  local dir=${1:?usage: $0 stop DIR}
  [ -f "$dir/weed.pid" ] || return 0
  local pid
  pid=$(cat "$dir/weed.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    local i
    for i in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$dir/weed.pid"
}

kill_() {
  local dir=${1:?usage: $0 kill DIR}
  [ -f "$dir/weed.pid" ] || return 0
  local pid
  pid=$(cat "$dir/weed.pid")
  kill -KILL "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  rm -f "$dir/weed.pid"
}

case ${1:-} in
  build) build ;;
  path) [ -x "$bin" ] || exit 1; echo "$bin" ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  kill) kill_ "${2:-}" ;;
  *) echo "usage: $0 build|path|start DIR|stop DIR|kill DIR" >&2; exit 2 ;;
esac
