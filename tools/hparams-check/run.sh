#!/usr/bin/env bash
# run.sh checks with TensorBoard's own loader and hparams plugin what the
# HParams tab shows for runs trained by cmd/train in the ways that used to
# show a wrong row: a run extended with a larger --epochs, a session killed
# just before or just after its last commit, a run whose --epochs was
# lowered to the epochs done, and a finished run resumed from an older
# checkpoint (a new timeline). check.py asks the hparams plugin's
# session-groups handler (list_session_groups.py, as the HParams tab's
# /data/plugin/hparams/session_groups route does) and compares every row with
# the checkpoint that ended it (ckptinfo --json): status SUCCESS, end time =
# the checkpoint's commit time, the epochs hyperparameter, and the final
# metrics at the final step. Not part of CI: it needs TensorBoard's source and
# Debian's python3 packages (see tools/tensorboard-env.sh); the Go tests of
# package trainer check the same files with tbwriter's reader.
#
# Usage: tools/hparams-check/run.sh TENSORBOARD_SOURCE [WORKDIR]
#   TENSORBOARD_SOURCE  a clone (or bare git dir) of tensorflow/tensorboard
#   WORKDIR             where to write the runs (default: a temporary
#                       directory, removed afterwards)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src=${1:?usage: $0 TENSORBOARD_SOURCE [WORKDIR]}
work=${2:-}
if [ -z "$work" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
eval "$("$root/tools/tensorboard-env.sh" "$src")"
(cd "$root" && go build -o "$work/train" ./cmd/train && go build -o "$work/ckptinfo" ./cmd/ckptinfo)
train=$work/train
tiny=(--limit-train 640 --limit-test 200 --batch-size 16 --seed 7 --no-progress)

# killwhen LOGDIR MARKER ENV... -- ARGS...: run train with the test markers
# and the given delays, and SIGKILL it once a stderr line contains MARKER.
killwhen() {
  local logdir=$1 marker=$2
  shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local err=$work/stderr.$$
  : >"$err"
  env TBTRAIN_TEST_MARKERS=1 "${envs[@]}" "$train" "${tiny[@]}" --logdir "$logdir" "$@" >/dev/null 2>"$err" &
  local pid=$!
  until grep -q -- "$marker" "$err"; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "run.sh: train ended before $marker" >&2; cat "$err" >&2; exit 1; fi
    sleep 0.01
  done
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
}

echo "== extended: 2 epochs, then --resume latest --epochs 3"
"$train" "${tiny[@]}" --epochs 2 --logdir "$work/extended" >/dev/null
"$train" "${tiny[@]}" --resume latest --epochs 3 --logdir "$work/extended" >/dev/null

echo "== killed-before-last-commit: SIGKILL inside the save of the last checkpoint, then --resume latest"
killwhen "$work/killed-before" "commit-begin .*LenetMnist1.ckpt" TBTRAIN_TEST_COMMIT_DELAY=3s -- --epochs 2
"$train" "${tiny[@]}" --resume latest --logdir "$work/killed-before" >/dev/null

echo "== killed-after-last-commit: SIGKILL right after the last checkpoint is committed, then --resume latest"
killwhen "$work/killed-after" "commit-end .*LenetMnist1.ckpt" TBTRAIN_TEST_FLUSH_DELAY=1s -- --epochs 2
"$train" "${tiny[@]}" --resume latest --logdir "$work/killed-after" >/dev/null

echo "== lowered: --epochs 3 killed in epoch 2, resumed from LenetMnist1.ckpt with --epochs 2, then a plain --resume latest"
killwhen "$work/lowered" "commit-end .*LenetMnist2-step100.ckpt" -- --epochs 3 --save-every-steps 10
"$train" "${tiny[@]}" --resume "$(ls -d "$work"/lowered/*/)LenetMnist1.ckpt" --epochs 2 --logdir "$work/lowered" >/dev/null
"$train" "${tiny[@]}" --resume latest --logdir "$work/lowered" | grep -q "has finished all 2 epochs"

echo "== new-timeline: a finished run resumed from its LenetMnist0.ckpt"
"$train" "${tiny[@]}" --epochs 2 --logdir "$work/new-timeline" >/dev/null
"$train" "${tiny[@]}" --resume "$(ls -d "$work"/new-timeline/*/)LenetMnist0.ckpt" --logdir "$work/new-timeline" >/dev/null

"$TBTRAIN_PYTHON" "$root/tools/hparams-check/check.py" "$work/ckptinfo" \
  "$work/extended" "$work/killed-before" "$work/killed-after" "$work/lowered" "$work/new-timeline"
