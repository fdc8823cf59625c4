#!/usr/bin/python3
"""The PyTorch side of cmd/ckptinfo's export round-trip test.

    /usr/bin/python3 testdata/pytorch-run/roundtrip.py EXPORTED.pt EXPORTED.safetensors N OUT.json RESAVED.pt

Resumes EXPORTED.pt the way the demo recipe does (torch.load, then
load_state_dict on a fresh LeNet-5, SGD and CosineAnnealingLR), runs the model
on the first N MNIST test images (from the GoMNIST module, as gen.py reads
them), writes the logits, predictions and restored optimizer/scheduler values
to OUT.json, and saves the recipe's dict again with torch.save to RESAVED.pt.
It also reads EXPORTED.safetensors with json and numpy only (the format's own
rules) and checks each tensor against the .pt's weights.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402  (LeNet5 and the MNIST reader of the fixtures' generator)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", e
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"])
    return out, meta


def main():
    pt, st, n, out_json, resaved = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    torch.set_num_threads(1)
    ck = torch.load(pt)
    model = gen.LeNet5()
    model.load_state_dict(ck["model_state_dict"])
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)  # overwritten by load_state_dict
    opt.load_state_dict(ck["optimizer_state_dict"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1, eta_min=0.0)
    sched.load_state_dict(ck["scheduler_state_dict"])
    x, y = gen.load("t10k", n)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    pred = logits.argmax(1)
    weights, meta = read_safetensors(st)
    sd = ck["model_state_dict"]
    st_equal = list(weights) != [] and set(weights) == set(sd) and all(
        np.array_equal(weights[k], sd[k].numpy()) for k in sd)
    group = opt.param_groups[0]
    res = {
        "torch": torch.__version__,
        "logits": logits.tolist(),
        "pred": pred.tolist(),
        "acc": float((pred == y).float().mean()),
        "lr": group["lr"], "momentum": group["momentum"],
        "buffers": sum(1 for s in opt.state.values() if s.get("momentum_buffer") is not None),
        "scheduler": {k: sched.state_dict()[k] for k in ("T_max", "eta_min", "base_lrs", "last_epoch", "_last_lr")},
        "safetensors_equal": st_equal, "safetensors_metadata": meta,
    }
    with open(out_json, "w") as f:
        json.dump(res, f)
    torch.save({"start_epoch": ck["start_epoch"], "model_state_dict": model.state_dict(),
                "optimizer_state_dict": opt.state_dict(), "scheduler_state_dict": sched.state_dict()}, resaved)


if __name__ == "__main__":
    main()
