#!/usr/bin/python3
"""Writes testdata/pytorch-run/legacy/ with real PyTorch: files of the
torch.save format before torch 1.6 (a stream of pickles followed by the raw
storages), which torch >= 1.6 still writes with
_use_new_zipfile_serialization=False and still loads.

    /usr/bin/python3 testdata/pytorch-run/legacy.py     # from the repository root

  legacy/LenetMnist2.pt  the checkpoint dict of run/LenetMnist2.pt, saved in
                         the legacy format; torch.load gives tensors equal to
                         the original's (checked here), so expect.json's entry
                         for run/LenetMnist2.pt describes it too.
  legacy/small.pt        {"start_epoch": 1, "model_state_dict": OrderedDict(
                         w=arange(6).reshape(2, 3), b=[0.5, -0.5])}: a small
                         file to cut and alter in tests and to seed fuzzing.
  legacy/os_system.pt    a hostile dict (its model_state_dict's unpickling
                         calls os.system), in the legacy format.
"""
import collections
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen import Call  # noqa: E402


def main():
    out = os.path.join(HERE, "legacy")
    os.makedirs(out, exist_ok=True)
    src = torch.load(os.path.join(HERE, "run", "LenetMnist2.pt"))
    path = os.path.join(out, "LenetMnist2.pt")
    torch.save(src, path, _use_new_zipfile_serialization=False)
    back = torch.load(path)
    for k, v in src["model_state_dict"].items():
        assert torch.equal(v, back["model_state_dict"][k]), k
    for i, s in src["Optimizer_state_dict"]["state"].items():
        assert torch.equal(s["momentum_buffer"], back["Optimizer_state_dict"]["state"][i]["momentum_buffer"])
    assert src["scheduler_state_dict"] == back["scheduler_state_dict"]
    assert src["Optimizer_state_dict"]["param_groups"] == back["Optimizer_state_dict"]["param_groups"]
    small = collections.OrderedDict(w=torch.arange(6, dtype=torch.float32).reshape(2, 3),
                                    b=torch.tensor([0.5, -0.5]))
    torch.save({"start_epoch": 1, "model_state_dict": small}, os.path.join(out, "small.pt"),
               _use_new_zipfile_serialization=False)
    marker = "/tmp/tbtrain-hostile-pickle-ran"
    torch.save({"start_epoch": 1, "model_state_dict": Call(os.system, f"touch {marker}")},
               os.path.join(out, "os_system.pt"), _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    main()
