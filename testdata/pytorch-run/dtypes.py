#!/usr/bin/python3
"""Writes testdata/pytorch-run/dtypes/ with real PyTorch: the demo checkpoint
run/LenetMnist2.pt with every tensor (weights and momentum buffers) saved in
another floating type, as a script that trains with model.double() or
model.half() saves it, and what a float32 LeNet-5 gets from each file.

    /usr/bin/python3 testdata/pytorch-run/dtypes.py     # from the repository root

  dtypes/float64.pt, float16.pt, bfloat16.pt
      torch.save of the checkpoint dict of run/LenetMnist2.pt with the tensors
      converted by Tensor.to(dtype); optimizer and scheduler values unchanged.
      The float64 tensors get a relative perturbation of about 1e-9 first
      (seeded), so that they use float64's precision as a float64 training
      would, and loading them has to round.
  dtypes/int64.pt
      start_epoch and the model_state_dict only, float32 but one weight saved
      as int64 (torch.round): a file that is not floating point where
      weights are expected.
  dtypes/expect.json
      per file, the SHA-256 of the float32 bytes (little-endian, row-major)
      of every parameter and momentum buffer of a float32 LeNet-5 and its SGD
      after the recipe's own model.load_state_dict and
      optimizer.load_state_dict of that file: PyTorch converts a float64
      tensor to float32 by rounding to nearest (Tensor.copy_, and
      Optimizer.load_state_dict casts floating state to the parameter's
      dtype); float16 and bfloat16 convert exactly.
"""
import hashlib
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen import LeNet5, LR, MOMENTUM, EPOCHS, ETA_MIN  # noqa: E402


def sha(t):
    return hashlib.sha256(t.detach().contiguous().numpy().astype("<f4").tobytes()).hexdigest()


def convert(ck, dtype):
    def to(v):
        v = v.to(dtype)
        if dtype == torch.float64:
            v = v * (1 + 1e-9 * torch.randn(v.shape, dtype=torch.float64))
        return v

    torch.manual_seed(64)
    out = dict(ck)
    out["model_state_dict"] = type(ck["model_state_dict"])(
        (k, to(v)) for k, v in ck["model_state_dict"].items())
    opt = ck["Optimizer_state_dict"]
    out["Optimizer_state_dict"] = {
        "state": {i: {"momentum_buffer": to(s["momentum_buffer"])} for i, s in opt["state"].items()},
        "param_groups": opt["param_groups"],
    }
    return out


def loaded(path):
    """What the recipe's float32 model and optimizer hold after loading path."""
    ck = torch.load(path)
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS, eta_min=ETA_MIN)
    model.load_state_dict(ck["model_state_dict"])
    opt.load_state_dict(ck["Optimizer_state_dict"])
    params = dict(model.named_parameters())
    assert all(p.dtype == torch.float32 for p in params.values())
    bufs = {}
    for name, p in params.items():
        b = opt.state[p]["momentum_buffer"]
        assert b.dtype == torch.float32, b.dtype
        bufs[name] = sha(b)
    return {"model": {k: sha(v) for k, v in model.state_dict().items()}, "momentum_buffer": bufs}


def main():
    out = os.path.join(HERE, "dtypes")
    os.makedirs(out, exist_ok=True)
    ck = torch.load(os.path.join(HERE, "run", "LenetMnist2.pt"))
    expect = {"torch": torch.__version__}
    for name, dtype in [("float64", torch.float64), ("float16", torch.float16), ("bfloat16", torch.bfloat16)]:
        path = os.path.join(out, f"{name}.pt")
        torch.save(convert(ck, dtype), path)
        expect[f"{name}.pt"] = loaded(path)
    bad = {"start_epoch": ck["start_epoch"]}
    bad["model_state_dict"] = type(ck["model_state_dict"])(ck["model_state_dict"])
    bad["model_state_dict"]["lineNet.5.bias"] = torch.round(ck["model_state_dict"]["lineNet.5.bias"]).to(torch.int64)
    torch.save(bad, os.path.join(out, "int64.pt"))
    with open(os.path.join(out, "expect.json"), "w") as f:
        json.dump(expect, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
