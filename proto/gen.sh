#!/bin/sh
# gen.sh regenerates the Go code for the schema packages under proto/.
#
# Usage: proto/gen.sh [-o OUTROOT] PKG...
#
#   PKG      a directory under proto/ holding *.proto files, e.g. tbpb or ckptpb.
#            Imports between schema files are written relative to proto/
#            (import "tbpb/tensor.proto";) and google/protobuf/*.proto come from
#            protoc's own include directory (Debian: libprotobuf-dev).
#   -o DIR   write PKG/*.pb.go under DIR instead of proto/ (the staleness tests
#            regenerate into a temporary directory and compare).
#
# protoc-gen-go is the version pinned by the `tool` directive in go.mod
# (google.golang.org/protobuf/cmd/protoc-gen-go), built by `go tool -n`.
# protoc itself must be on PATH (Debian package protobuf-compiler).
set -eu

root=$(cd "$(dirname "$0")" && pwd)
out=$root
if [ "${1:-}" = "-o" ]; then
  [ $# -ge 2 ] || { echo "gen.sh: -o needs a directory" >&2; exit 2; }
  mkdir -p "$2"
  out=$(cd "$2" && pwd)
  shift 2
fi
[ $# -ge 1 ] || { echo "usage: gen.sh [-o OUTROOT] PKG..." >&2; exit 2; }

command -v protoc >/dev/null 2>&1 || { echo "gen.sh: protoc not found on PATH (install protobuf-compiler)" >&2; exit 1; }
plugin=$(cd "$root" && go tool -n protoc-gen-go)

for pkg in "$@"; do
  mkdir -p "$out/$pkg"
  # Sorted file list so the invocation is the same on every machine.
  files=$(cd "$root" && ls "$pkg"/*.proto | LC_ALL=C sort)
  # shellcheck disable=SC2086 # word splitting of the file list is intended
  (cd "$root" && protoc -I . --plugin=protoc-gen-go="$plugin" \
    --go_out="$out" --go_opt=paths=source_relative $files)
done
