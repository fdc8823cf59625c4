#!/usr/bin/env bash
# run.sh checks end to end that TensorBoard serves every kind tbwriter writes:
# a Go program (main.go) writes a run with a PR curve, audio, a video, a
# graph, a custom scalars layout, a mesh, an embedding, AddScalars sub-runs and
# an explicit wall time; check.py loads it with TensorBoard's Python loader and
# asks each plugin's data route for it. Not part of CI (it needs TensorBoard's
# source and Debian's python3 packages; see tools/tensorboard-env.sh).
#
# Usage: tools/tbcheck/run.sh TENSORBOARD_SOURCE [LOGDIR]
#   TENSORBOARD_SOURCE  a clone (or bare git dir) of tensorflow/tensorboard
#   LOGDIR              where to write the run (default: a temporary directory,
#                       removed afterwards)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src=${1:?usage: $0 TENSORBOARD_SOURCE [LOGDIR]}
logdir=${2:-}
if [ -z "$logdir" ]; then
  logdir=$(mktemp -d)
  trap 'rm -rf "$logdir"' EXIT
fi
eval "$("$root/tools/tensorboard-env.sh" "$src")"
(cd "$root" && go run ./tools/tbcheck -logdir "$logdir")
"$TBTRAIN_PYTHON" "$root/tools/tbcheck/check.py" "$logdir"
