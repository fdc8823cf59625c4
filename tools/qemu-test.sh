#!/usr/bin/env bash
# qemu-test.sh: run the test suite built for another architecture under
# qemu-user, so that code paths of that architecture (the NEON and portable
# kernels on arm64, its atomics and memory model, the per-platform files) are
# tested on this amd64 machine; it prints the kern code paths the numerics
# tests ran on.
#
#   tools/qemu-test.sh [-short] [GOARCH]     (GOARCH: arm64, the default)
#
# Each package's tests are compiled with `GOARCH=... go test -c` and the
# binary runs under qemu-<arch>-static (Debian: apt-get install -y
# qemu-user-static) in the package's directory, as `go test` would run it.
# Without binfmt_misc (containers) a test binary cannot start itself under
# qemu: the tests that do skip through internal/selfexec, and this script
# lists every skip with its reason. Three packages are not run, and of
# trainer only the architecture-sensitive tests run (see notrun and only
# below, which say why).
#
# Each package gets at most $QEMU_TEST_TIMEOUT (default 8m; the slowest,
# trainer, takes 1-2 minutes), so a hang fails in minutes with every
# goroutine's stack instead of using up CI's time.
#
# Note that qemu-user on an x86 host does not keep arm64's ordering of a
# store-release followed by a load-acquire (Go's atomic Store then Load): a
# handshake that relies on it (see model's team) hangs here although it is
# correct on arm64 hardware. Use a read-modify-write (Swap) for such a store.
#
# Exit status: 0 if every package passed, 1 otherwise.
set -euo pipefail
timeout="${QEMU_TEST_TIMEOUT:-8m}"

short=()
if [ "${1:-}" = "-short" ]; then short=(-test.short); shift; fi
arch="${1:-arm64}"
case "$arch" in
  arm64) qemu=qemu-aarch64-static ;;
  *) qemu="qemu-$arch-static" ;;
esac
if ! command -v "$qemu" >/dev/null 2>&1; then
  echo "qemu-test.sh: $qemu not found; install it with: apt-get install -y qemu-user-static" >&2
  exit 1
fi

cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Packages not run, with the reason.
declare -A notrun=(
  [github.com/tbtrain/tbtrain/internal/chaos]="its children are cmd/train built for the host by the go command: under qemu it would retest the host's architecture"
  [github.com/tbtrain/tbtrain/bench]="whole-epoch speed benchmarks on the full MNIST set: minutes under emulation, and no arm64 speed can be measured there (the allocation checks of the kernels and the model run in their own packages)"
  [github.com/tbtrain/tbtrain/storage/s3store]="an HTTP client of the host's SeaweedFS server with nothing architecture-specific, a minute under emulation; the storage conformance suite runs on arm64 in package storage"
)

# Packages of which only some tests run under emulation, with the reason.
declare -A only=(
  [github.com/tbtrain/tbtrain/trainer]='^(TestResumeBitExact|TestEveryStepOnce|TestAcrossKernPaths|TestTrainingLearns|TestCosineLRMatchesPyTorch|TestSGDMatchesPyTorch|TestFMA32|TestSGDSetBuffersRoundTrip|TestPermute.*|TestResumePyTorchBits|TestConfusion.*|TestRunLocked|TestBuildRecorded|Example.*)$'
)
declare -A onlywhy=(
  [github.com/tbtrain/tbtrain/trainer]="the numerics, determinism, file-format and flock tests; its run-management tests (retention, set-aside, leases, resume rules) are portable Go logic run natively, and all of them would take 10+ minutes under emulation"
)

failed=()
start=$SECONDS
while read -r pkg dir; do
  if [ -n "${notrun[$pkg]:-}" ]; then
    echo "-- $pkg: not run (${notrun[$pkg]})"
    continue
  fi
  run=()
  if [ -n "${only[$pkg]:-}" ]; then
    run=(-test.run "${only[$pkg]}")
    echo "-- $pkg: only ${only[$pkg]} (${onlywhy[$pkg]})"
  fi
  bin="$out/$(basename "$dir").test"
  GOARCH="$arch" go test -c -o "$bin" "$pkg"
  t0=$SECONDS
  if (cd "$dir" && go tool test2json -p "$pkg" "$qemu" "$bin" -test.v=test2json "${short[@]}" "${run[@]}" -test.timeout="$timeout" \
        </dev/null >"$out/log.json" 2>&1); then
    status=ok
  else
    status=FAIL
    failed+=("$pkg")
  fi
  echo "$status $pkg ($((SECONDS - t0)) s under $qemu)"
  # Every skipped test with its reason, and the output of failed tests.
  python3 - "$out/log.json" <<'PYEOF'
import json, sys
out, result = {}, {}
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    t = e.get('Test')
    if not t:
        continue
    if e['Action'] == 'output' and not e['Output'].lstrip().startswith(('=== ', '--- ')):
        out.setdefault(t, []).append(e['Output'].rstrip())
    elif e['Action'] in ('pass', 'fail', 'skip'):
        result[t] = e['Action']
# Which kern code paths the numerics tests ran on (kern's TestPaths and
# model's numerics tests log them).
for t, lines in out.items():
    for l in lines:
        if 'code paths tested here' in l or 'kern code paths:' in l:
            print('     %s: %s' % (t, l.strip()))
for t, r in result.items():
    if r == 'skip':
        print('     skip %s: %s' % (t, ' '.join(l.strip() for l in out.get(t, [])) or '(no reason given)'))
    elif r == 'fail':
        print('     FAIL %s:\n%s' % (t, '\n'.join(out.get(t, [])[-30:])))
PYEOF
done < <(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' ./...)

echo "qemu-test.sh: GOARCH=$arch, $((SECONDS - start)) s in all"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "qemu-test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
