#!/usr/bin/env bash
# tb-s3-check.sh shows that TensorBoard's own Python loader reads a tbtrain run
# kept in S3 as one curve per tag, after the run was killed with SIGKILL and
# resumed on "another machine" (another working directory and HOME) several
# times.
#
# Usage:  tools/tb-s3-check.sh TENSORBOARD_SOURCE [TRAIN FLAGS...]
#   TENSORBOARD_SOURCE  a TensorBoard source tree or git directory (see
#                       tools/tensorboard-env.sh)
#   TRAIN FLAGS         default: a quick run (--limit-train 12000 --epochs 3
#                       --save-every-steps 50)
#
# It starts SeaweedFS on 127.0.0.1 (tools/seaweedfs.sh; built once), trains
# with --logdir s3://tbcheck/runs, SIGKILLs the trainer KILLS times (default
# 3) at random moments, resumes each time with --resume s3://tbcheck/runs/<run>
# from a fresh directory and HOME once the killed trainer's lease has lapsed,
# then runs tools/tb-steps.py on s3://tbcheck/runs with S3_ENDPOINT set, which
# loads the run with TensorBoard's EventMultiplexer (through boto3, Debian's
# python3-boto3) and exits 1 if any tag repeats a step. The server is killed
# at the end. Needs: go, curl, python3-boto3 and tensorboard-env.sh's needs.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: $0 TENSORBOARD_SOURCE [TRAIN FLAGS...]}
shift
flags=("$@")
if [ ${#flags[@]} -eq 0 ]; then
  flags=(--limit-train 12000 --limit-test 2000 --epochs 3 --save-every-steps 50)
fi
kills=${KILLS:-3}

work=$(mktemp -d)
trap 'tools/seaweedfs.sh kill "$work/s3" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
tools/seaweedfs.sh build >/dev/null
eval "$(tools/seaweedfs.sh start "$work/s3")"
export AWS_ENDPOINT_URL_S3=$TBTRAIN_S3_ENDPOINT S3_ENDPOINT=$TBTRAIN_S3_ENDPOINT
export AWS_ACCESS_KEY_ID=tbcheck AWS_SECRET_ACCESS_KEY=tbcheck-secret AWS_REGION=us-east-1
curl -sf -X PUT "$S3_ENDPOINT/tbcheck" >/dev/null # make the bucket (SeaweedFS without IAM config)
go build -o "$work/train" ./cmd/train
# The MNIST files come with a Go module; a fresh HOME would hide the module
# cache, so name it (a new machine would download it, as go run does).
GOMODCACHE=$(go env GOMODCACHE)
export GOMODCACHE

# A fresh "machine": its own working directory and HOME.
machine() {
  local d
  d=$(mktemp -d "$work/machine.XXXX")
  mkdir -p "$d/home"
  echo "$d"
}

m=$(machine)
(cd "$m" && HOME=$m/home exec "$work/train" --logdir s3://tbcheck/runs --no-progress --lease-ttl 3s --step-delay 10ms "${flags[@]}" >"$m/out" 2>&1) &
pid=$!
run=""
for _ in $(seq 1 600); do # the MNIST files load first
  run=$(grep -o 's3://tbcheck/runs/[0-9_-]*' "$m/out" | head -1 || true)
  [ -n "$run" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$m/out"; exit 1; }
  sleep 0.1
done
[ -n "$run" ] || { echo "no run started:"; cat "$m/out"; exit 1; }
echo "run $run"
for i in $(seq 1 "$kills"); do
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.1f", 1 + (r % 20) / 10 }')"
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  echo "kill $i: SIGKILL after: $(grep -E '^epoch|^resuming' "$m/out" | tail -1)"
  sleep 3.5 # the killed trainer's 3 s lease lapses
  m=$(machine)
  (cd "$m" && HOME=$m/home exec "$work/train" --resume "$run" --no-progress --lease-ttl 3s --step-delay 10ms "${flags[@]}" >"$m/out" 2>&1) &
  pid=$!
  sleep 1
  grep -m1 '^resuming' "$m/out" || true
done
wait "$pid" || { cat "$m/out"; exit 1; }
tail -1 "$m/out"

eval "$("tools/tensorboard-env.sh" "$src")"
echo "== TensorBoard's loader on s3://tbcheck/runs (S3_ENDPOINT=$S3_ENDPOINT)"
out=$("${TBTRAIN_PYTHON:-/usr/bin/python3}" tools/tb-steps.py s3://tbcheck/runs) || { echo "$out"; exit 1; }
echo "$out"
[ -n "$out" ] || { echo "TensorBoard found no run in s3://tbcheck/runs"; exit 1; }
