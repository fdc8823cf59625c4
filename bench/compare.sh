#!/usr/bin/env bash
# compare.sh: training (and optionally evaluation and peak memory) speed of
# tbtrain side by side with PyTorch on this machine, in one run.
#
# Training: our BenchmarkEpoch (package bench: one epoch of 60,000 MNIST images
# at batch 16 and at batch 64 = shuffle, gather, forward+backward, SGD step,
# after a warm-up epoch), once per kern code path (bench's -kern flag: avx512,
# avx2, generic; by default every path this CPU has), and bench/pytorch_lenet.py
# at batch 16 and 64 (the same work in PyTorch, data pre-loaded, after a
# warm-up epoch) run alternately, ours, theirs, ours, theirs..., so that drift
# in the machine's load hits both sides alike. Each round gives one sample per
# side, path and batch size; the script prints every sample, the median img/s
# of each, the ratio of the medians and the median of the per-round ratios.
# With --kernels each round also runs internal/kern's BenchmarkSgemm (every
# matrix product of a training step, -cpu 1) on the same paths and on gonum's
# pure-Go Sgemm, and the script prints the median CPU-GFLOP/s of each product
# and path and their geometric means.
#
# Needs: go, /usr/bin/python3 with torch (Debian: apt-get install -y
# python3-torch), /usr/bin/time for --rss. Installs nothing; benchstat is used
# for our side's statistics if it is installed
# (go install golang.org/x/perf/cmd/benchstat@latest).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/compare.sh [options]

  -n, --rounds N     interleaved rounds (one epoch per side, path and batch size
                     per round; default 6, the fewest for which benchstat gives a
                     confidence interval)
  --paths LIST       our kern code paths, comma-separated (avx512,avx2,generic;
                     default: every path this CPU can run, fastest first)
  --kernels          also measure every matrix product of a training step on
                     each path (internal/kern BenchmarkSgemm, -cpu 1, one
                     sample per round) and print CPU-GFLOP/s per product and
                     path, with gonum's Sgemm for reference
  --eval             also compare evaluation of the 10,000 test images at
                     batch 16 and 1000 (our BenchmarkEval vs pytorch_lenet.py
                     --eval-batch-sizes) in the same rounds
  --rss              also measure peak RSS (/usr/bin/time -v): a full default
                     cmd/train run, our epoch benchmark, and pytorch_lenet.py's
                     training epoch at batch 64 (it has no full-run mode)
  --rss-epochs E     epochs of the cmd/train run for --rss (default 20 = the
                     default run; it also prints the final test accuracy)
  --keep DIR         write raw outputs (go.txt, torch_*.json, logs) to DIR
                     instead of a temporary directory that is removed
  -h, --help         this text

Run from anywhere; paths are relative to the repository. The PyTorch side is
bench/pytorch_lenet.py (the same LeNet-5, SGD with momentum, in-memory MNIST
from the GoMNIST module, 2 threads, a warm-up epoch; see its --help). One round
takes 2 x (Go epochs at batch 16 and 64) per path + 2 x (PyTorch epochs at
batch 16 and 64) + PyTorch start-up: with all three paths, about 5 minutes on
a 2-core machine (the generic path takes 2 of them); --kernels adds about
half a minute per round.
EOF
}

rounds=6
paths=""
do_eval=0
do_kernels=0
do_rss=0
rss_epochs=20
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--rounds) rounds="$2"; shift 2 ;;
    --paths) paths="$2"; shift 2 ;;
    --eval) do_eval=1; shift ;;
    --kernels) do_kernels=1; shift ;;
    --rss) do_rss=1; shift ;;
    --rss-epochs) rss_epochs="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$rounds" in ''|*[!0-9]*|0) echo "compare.sh: --rounds wants a positive integer, got '$rounds'" >&2; exit 2 ;; esac
case "$rss_epochs" in ''|*[!0-9]*|0) echo "compare.sh: --rss-epochs wants a positive integer, got '$rss_epochs'" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.."
repo=$(pwd)
py=/usr/bin/python3
torch_bench="$repo/bench/pytorch_lenet.py"

# Check everything first; install nothing.
if [ ! -x "$py" ]; then
  echo "compare.sh: $py not found; install it with: apt-get install -y python3 python3-torch" >&2
  exit 1
fi
if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "compare.sh: $py cannot import torch; install it with: apt-get install -y python3-torch" >&2
  exit 1
fi
if [ "$do_rss" = 1 ] && [ ! -x /usr/bin/time ]; then
  echo "compare.sh: --rss needs GNU time at /usr/bin/time; install it with: apt-get install -y time" >&2
  exit 1
fi
benchstat=$(command -v benchstat || true)
if [ -z "$benchstat" ] && [ -x "$(go env GOPATH)/bin/benchstat" ]; then
  benchstat="$(go env GOPATH)/bin/benchstat"
fi

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  out=$(cd "$keep" && pwd)
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

echo "== machine"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "commit:   $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
echo "cpu:      $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) cpus"
echo "go:       $(go version)"
echo "torch:    $("$py" -c 'import torch; print(torch.__version__)') (pytorch_lenet.py sets its default --threads 2)"
before_load=$(uptime)
echo "before:   $before_load"

echo "== building the benchmark binary"
go test -c -o "$out/bench.test" ./bench
"$out/bench.test" -test.run '^$' -test.bench '^$' >/dev/null # fails early if it cannot start
# The kern code paths: those asked for, or every one this CPU can run.
if [ -z "$paths" ]; then
  for p in avx512 avx2 generic; do
    if "$out/bench.test" -kern "$p" -test.run '^$' -test.bench '^$' >/dev/null 2>&1; then
      paths="$paths${paths:+,}$p"
    else
      echo "(kern path $p: $("$out/bench.test" -kern "$p" -test.run '^$' -test.bench '^$' 2>&1 | head -1))"
    fi
  done
fi
IFS=, read -r -a path_list <<<"$paths"
for p in "${path_list[@]}"; do
  "$out/bench.test" -kern "$p" -test.run '^$' -test.bench '^$' >/dev/null || exit 1
done
echo "kern paths: ${path_list[*]}"
if [ "$do_kernels" = 1 ]; then
  go test -c -o "$out/kern.test" ./internal/kern
  kern_impls="gonum"
  for p in "${path_list[@]}"; do kern_impls="$kern_impls|$p"; done
fi

gobench='^BenchmarkEpoch$'
torch_eval=()
if [ "$do_eval" = 1 ]; then
  torch_eval=(--eval-batch-sizes 16,1000)
fi

: >"$out/go.txt"
: >"$out/kern.txt"
for i in $(seq 1 "$rounds"); do
  for p in "${path_list[@]}"; do
    bench=$gobench
    if [ "$do_eval" = 1 ] && [ "$p" = "${path_list[0]}" ]; then
      bench='^Benchmark(Epoch|Eval)$'
    fi
    echo "== round $i/$rounds: tbtrain on kern path $p ($bench)"
    "$out/bench.test" -kern "$p" -test.run '^$' -test.bench "$bench" -test.count 1 | tee "$out/go_${p}_$i.txt"
    { echo "kern: $p"; grep '^Benchmark' "$out/go_${p}_$i.txt"; } >>"$out/go.txt"
  done
  if [ "$do_kernels" = 1 ]; then
    echo "== round $i/$rounds: matrix products (internal/kern BenchmarkSgemm, impl=$kern_impls, -cpu 1)"
    (cd internal/kern && "$out/kern.test" -test.run '^$' -test.bench "^BenchmarkSgemm\$/.*/impl=($kern_impls)\$" \
      -test.cpu 1 -test.count 1 -test.benchtime 0.1s) >"$out/kern_$i.txt"
    grep -c '^BenchmarkSgemm' "$out/kern_$i.txt" | sed 's/$/ products measured/'
    grep '^Benchmark' "$out/kern_$i.txt" >>"$out/kern.txt"
  fi
  echo "== round $i/$rounds: PyTorch (bench/pytorch_lenet.py --batch-sizes 16,64 ${torch_eval[*]})"
  "$py" "$torch_bench" --batch-sizes 16,64 "${torch_eval[@]}" --out "$out/torch_$i.json"
  if [ ! -s "$out/torch_$i.json" ]; then
    echo "compare.sh: $torch_bench wrote no $out/torch_$i.json" >&2
    exit 1
  fi
done
after_load=$(uptime)

if [ -n "$benchstat" ]; then
  echo "== benchstat (tbtrain, $rounds runs per kern path)"
  "$benchstat" -col kern "$out/go.txt"
  if [ "$do_kernels" = 1 ]; then
    echo "== benchstat (matrix products, $rounds runs, CPU-GFLOP/s)"
    "$benchstat" -col /impl -filter '.unit:cpu-GFLOP/s' "$out/kern.txt"
  fi
else
  echo "== (benchstat not installed: go install golang.org/x/perf/cmd/benchstat@latest)"
fi

echo "== summary"
"$py" - "$out" "$rounds" "$do_eval" "$paths" "$do_kernels" <<'PYEOF'
import json, math, os, re, statistics, sys

out, rounds, do_eval, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1', sys.argv[4].split(',')
do_kernels = sys.argv[5] == '1'

def go_metric(path, name):
    """img/s and cpu-µs/img of the benchmark line whose name starts with name."""
    for line in open(path, encoding='utf-8'):
        f = line.split()
        if f and re.fullmatch(re.escape(name) + r'(-\d+)?', f[0]):
            vals = {f[k + 1]: float(f[k]) for k in range(2, len(f) - 1, 2)}
            return vals['img/s'], vals.get('cpu-µs/img')
    raise SystemExit('compare.sh: no %s line in %s' % (name, path))

def med(v):
    return statistics.median(v)

loads, threads = [], set()
tr_t, tr_t_cpu = {16: [], 64: []}, {16: [], 64: []}
ev_t, ev16_t = [], []
for i in range(1, rounds + 1):
    R = json.load(open(os.path.join(out, 'torch_%d.json' % i)))
    for bs in (16, 64):
        a = R['train'][str(bs)]
        tr_t[bs].append(a['images'] / a['runs'][0]['seconds'])
        tr_t_cpu[bs].append(1e6 * a['runs'][0]['cpu_s'] / a['images'])
    loads.append((R['machine']['loadavg_start'][0], R['machine']['loadavg_end'][0]))
    threads.add(R['machine']['torch_threads'])
    if do_eval:
        ev_t.append(R['eval']['1000']['img_per_s_best'])
        ev16_t.append(R['eval']['16']['img_per_s_best'])

procs = re.search(r'^BenchmarkEpoch/batch=64-(\d+)\s', open(os.path.join(out, 'go_%s_1.txt' % paths[0]), encoding='utf-8').read(), re.M)
print('threads: PyTorch %s (torch.set_num_threads); tbtrain GOMAXPROCS %s' % (
    ', '.join(map(str, sorted(threads))), procs.group(1) if procs else '1'))
table = []
for bs in (16, 64):
    theirs = tr_t[bs]
    print('training, one epoch at batch %d (img/s, wall clock), PyTorch median %.0f img/s, %.1f CPU-µs/img:' % (
        bs, med(theirs), med(tr_t_cpu[bs])))
    for p in paths:
        ours, ours_cpu = [], []
        for i in range(1, rounds + 1):
            ips, cpu = go_metric(os.path.join(out, 'go_%s_%d.txt' % (p, i)), 'BenchmarkEpoch/batch=%d' % bs)
            ours.append(ips); ours_cpu.append(cpu)
        print('  %-8s rounds: %s' % (p, '  '.join('%.0f (%.2fx)' % (a, a / b) for a, b in zip(ours, theirs))))
        print('  %-8s median %9.0f img/s, ratio of medians %.2f, median of round ratios %.2f, %.1f CPU-µs/img' % (
            p, med(ours), med(ours) / med(theirs), med([a / b for a, b in zip(ours, theirs)]), med(ours_cpu)))
        table.append((bs, p, med(ours), med(ours) / med(theirs)))
    table.append((bs, 'PyTorch', med(theirs), 1.0))
print('  PyTorch 1-min load average at its start/end per round: %s' %
      ', '.join('%.1f/%.1f' % l for l in loads))
print('summary (medians):')
print('  | batch | side | img/s | ratio to PyTorch |')
print('  | ---: | --- | ---: | ---: |')
for bs, side, ips, r in table:
    print('  | %d | %s | %.0f | %.2f× |' % (bs, side if side == 'PyTorch' else 'tbtrain ' + side, ips, r))
if do_kernels:
    # BenchmarkSgemm/<product>/impl=<impl>-1 ... <v> cpu-GFLOP/s ...
    gf, order = {}, []
    for line in open(os.path.join(out, 'kern.txt'), encoding='utf-8'):
        f = line.split()
        m = re.fullmatch(r'BenchmarkSgemm/(.+)/impl=([a-z0-9]+)(-\d+)?', f[0]) if f else None
        if not m:
            continue
        vals = {f[k + 1]: float(f[k]) for k in range(2, len(f) - 1, 2)}
        v = vals.get('cpu-GFLOP/s', vals.get('GFLOP/s'))
        if m.group(1) not in gf:
            order.append(m.group(1))
        gf.setdefault(m.group(1), {}).setdefault(m.group(2), []).append(v)
    impls = paths + ['gonum']
    print('matrix products of a training step, CPU-GFLOP/s (median of %d rounds, -cpu 1; gonum: its pure-Go Sgemm,'
          ' which has no counterpart for conv1\'s row products):' % rounds)
    print('  | product | ' + ' | '.join(impls) + ' |')
    print('  | --- | ' + ' | '.join('---:' for _ in impls) + ' |')
    logs = {i: [] for i in impls}
    for name in order:
        row = []
        for i in impls:
            v = gf[name].get(i)
            if v:
                row.append('%.2f' % med(v) if med(v) < 10 else '%.1f' % med(v))
                logs[i].append(math.log(med(v)))
            else:
                row.append('')
        print('  | %s | %s |' % (name, ' | '.join(row)))
    print('  | geomean | %s |' % ' | '.join(
        ('%.2f' % math.exp(statistics.fmean(logs[i]))) if logs[i] else '' for i in impls))
    print('  (gonum\'s geomean is over the products it has: all but conv1\'s two row products)')
if do_eval:
    ev_o, ev16_o = [], []
    for i in range(1, rounds + 1):
        g = os.path.join(out, 'go_%s_%d.txt' % (paths[0], i))
        ev_o.append(go_metric(g, 'BenchmarkEval/batch=1000')[0])
        ev16_o.append(go_metric(g, 'BenchmarkEval/batch=16')[0])
    print('evaluation of the 10,000 test images on kern path %s, batch 1000, untrained weights on both sides' % paths[0])
    print('(img/s; tbtrain: mean over its b.Loop passes; PyTorch: best of its 3 passes):')
    for i, (a, b) in enumerate(zip(ev_o, ev_t), 1):
        print('  round %d: tbtrain %9.0f img/s   PyTorch %9.0f img/s   ratio %5.2f' % (i, a, b, a / b))
    print('  median : tbtrain %9.0f img/s   PyTorch %9.0f img/s   ratio of medians %.2f,'
          ' median of round ratios %.2f' % (med(ev_o), med(ev_t), med(ev_o) / med(ev_t),
                                            med([a / b for a, b in zip(ev_o, ev_t)])))
    print('evaluation at batch 16 (median img/s): tbtrain %.0f, PyTorch %.0f, ratio %.2f' % (
        med(ev16_o), med(ev16_t), med(ev16_o) / med(ev16_t)))
PYEOF
echo "load before: $before_load"
echo "load after:  $after_load"

if [ "$do_rss" = 1 ]; then
  echo "== peak RSS (/usr/bin/time -v)"
  go build -o "$out/train" ./cmd/train
  maxrss() { sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$1"; }
  elapsed() { sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1"; }

  echo "-- tbtrain: cmd/train --epochs $rss_epochs (default config otherwise), log dir $out/runs"
  /usr/bin/time -v -o "$out/time_train.txt" "$out/train" --epochs "$rss_epochs" --logdir "$out/runs" \
    >"$out/train.log" 2>&1 || { echo "compare.sh: cmd/train failed:" >&2; tail -20 "$out/train.log" >&2; exit 1; }
  grep -E '^epoch [0-9]+ +step' "$out/train.log" || true
  grep '^done:' "$out/train.log" || true
  echo "-- tbtrain: bench epoch benchmark (warm-up epoch + 1 timed epoch at batch 64)"
  /usr/bin/time -v -o "$out/time_goepoch.txt" "$out/bench.test" -test.run '^$' \
    -test.bench '^BenchmarkEpoch$/^batch=64$' -test.benchtime 1x >/dev/null
  echo "-- PyTorch: bench/pytorch_lenet.py --batch-sizes 64 (warm-up epoch + 1 timed epoch)"
  /usr/bin/time -v -o "$out/time_torch.txt" "$py" "$torch_bench" --batch-sizes 64 >/dev/null
  rt=$(maxrss "$out/time_train.txt"); rg=$(maxrss "$out/time_goepoch.txt"); rp=$(maxrss "$out/time_torch.txt")
  printf '  tbtrain cmd/train, %2d epochs : %7d KiB peak RSS  (%s wall)\n' "$rss_epochs" "$rt" "$(elapsed "$out/time_train.txt")"
  printf '  tbtrain epoch benchmark      : %7d KiB peak RSS\n' "$rg"
  printf '  PyTorch training, batch 64   : %7d KiB peak RSS\n' "$rp"
  awk -v t="$rt" -v g="$rg" -v p="$rp" 'BEGIN {
    printf "  cmd/train full run / PyTorch training: %.3f (PyTorch at %.1f x ours)\n", t / p, p / t
    printf "  epoch benchmark / PyTorch training   : %.3f (PyTorch at %.1f x ours)\n", g / p, p / g }'
  echo "  (pytorch_lenet.py has no full-run mode: it trains like a run but"
  echo "   skips evaluation, checkpoints and logging, which would only add to its peak.)"
  echo "after rss: $(uptime)"
fi
