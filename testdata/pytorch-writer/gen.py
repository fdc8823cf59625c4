#!/usr/bin/python3
"""Reference files of PyTorch's SummaryWriter for tbwriter's tests.

Run from the repository root (needs Debian's python3-torch 1.13, numpy, PIL
and TensorBoard's Python code, see README.md):

    eval "$(tools/tensorboard-env.sh /path/to/tensorboard-source)"
    /usr/bin/python3 testdata/pytorch-writer/gen.py

It writes, under testdata/pytorch-writer/:
  inputs.json   the fixed inputs, so the Go tests call tbwriter on the same data
  run/          what SummaryWriter wrote for them: the event file, the
                add_scalars sub-runs, projector_config.pbtxt and the
                embedding files
  graph.txt     PyTorch's GraphDef of the traced LeNet-5, in text format (for people)

Every input is fixed (no random numbers without a seed); rerunning changes
only the file names and wall times.
"""
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "run")
WALL = 1795952040.5  # a fixed wall time for every event that takes one


class LeNet5(nn.Module):
    """The trainer's network (model/doc.go), with the demo's module names."""

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


def f32list(a):
    """float32 values as JSON numbers that read back exactly."""
    return [float(x) for x in np.asarray(a, dtype=np.float32).reshape(-1)]


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(2024)
    shutil.rmtree(RUN, ignore_errors=True)
    w = SummaryWriter(RUN)
    inputs = {"wall_time": WALL}

    # add_pr_curve: predictions in [0, 1] including both ends and exact
    # bucket edges k/126, so the float32 binning is exercised at its edges.
    n = 300
    pred = rng.random(n, dtype=np.float32)
    pred[:6] = np.array([0.0, 1.0, 0.5, 63 / 126, 1 / 126, 125 / 126], dtype=np.float32)
    labels = rng.random(n) < pred  # positives more likely at high scores
    w.add_pr_curve("pr/default", torch.tensor(labels), torch.tensor(pred), global_step=1, walltime=WALL)
    w.add_pr_curve("pr/t11", torch.tensor(labels), torch.tensor(pred), global_step=2, num_thresholds=11, walltime=WALL)
    inputs["pr"] = {"labels": [bool(x) for x in labels], "predictions": f32list(pred)}

    # add_pr_curve_raw: counts given by the caller (float64 arrays).
    tp = np.array([10, 8, 5, 2, 0], dtype=np.float64)
    fp = np.array([10, 6, 3, 1, 0], dtype=np.float64)
    tn = fp[0] - fp
    fn = tp[0] - tp
    prec = tp / np.maximum(1e-7, tp + fp)
    rec = tp / np.maximum(1e-7, tp + fn)
    w.add_pr_curve_raw("pr/raw", tp, fp, tn, fn, prec, rec, global_step=3, num_thresholds=5, walltime=WALL)
    inputs["pr_raw"] = {k: list(map(float, v)) for k, v in
                        dict(tp=tp, fp=fp, tn=tn, fn=fn, precision=prec, recall=rec).items()}

    # add_audio: one channel (all PyTorch 1.13 writes), a tone that clips.
    t = np.arange(800, dtype=np.float32) / np.float32(8000)
    audio = (np.float32(1.25) * np.sin(np.float32(2 * math.pi * 440) * t)).astype(np.float32)
    audio[:4] = np.array([0.0, -1.0, 1.0, -0.5], dtype=np.float32)
    w.add_audio("audio/tone", torch.tensor(audio), global_step=4, sample_rate=8000, walltime=WALL)
    inputs["audio"] = {"samples": f32list(audio), "sample_rate": 8000}

    # add_embedding: values whose Python repr uses every notation
    # (exponents, trailing .0, long fractions), labels, and 8x6 thumbnails
    # with exact 8-bit values.
    mat = rng.standard_normal((10, 4)).astype(np.float32)
    mat[0] = np.array([1e-5, 1e17, 123.0, -0.0], dtype=np.float32)
    mat[1] = np.array([0.1, 1e16, 1e15, 0.0001], dtype=np.float32)
    labels10 = [str(i % 3) for i in range(10)]
    img_u8 = rng.integers(0, 256, size=(10, 3, 6, 8), dtype=np.uint8)  # N, C, H, W
    img = img_u8.astype(np.float64) / 255.0
    assert np.array_equal(np.uint8((img * 255).clip(0, 255)), img_u8), "thumbnails must survive PyTorch's *255"
    w.add_embedding(torch.tensor(mat), metadata=labels10, label_img=torch.tensor(img), global_step=3, tag="digits")
    rows = [[str(i), "even" if i % 2 == 0 else "odd"] for i in range(10)]
    w.add_embedding(torch.tensor(mat[::-1].copy()), metadata=rows, metadata_header=["index", "parity"],
                    global_step=12, tag="a/b%c")
    inputs["embedding"] = {
        "vectors": [f32list(r) for r in mat],
        "labels": labels10,
        "rows": rows,
        "header": ["index", "parity"],
        "images_nchw_u8": img_u8.reshape(-1).tolist(),
        "images_shape": list(img_u8.shape),
    }

    # add_graph of a traced LeNet-5.
    model = LeNet5()
    w.add_graph(model, torch.zeros(1, 1, 28, 28))

    # add_custom_scalars: a multiline chart and a margin chart.
    layout = {
        "Training": {
            "loss": ["Multiline", ["loss/train", "loss/test"]],
            "accuracy band": ["Margin", ["acc/mean", "acc/lo", "acc/hi"]],
        },
        "Rates": {"lr": ["Multiline", ["lr.*"]]},
    }
    w.add_custom_scalars(layout)

    # add_mesh: a tetrahedron with per-vertex colors.
    verts = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1.5]]], dtype=np.float32)
    faces = np.array([[[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]], dtype=np.int32)
    colors = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [200, 100, 50]]], dtype=np.uint8)
    w.add_mesh("tetra", vertices=torch.tensor(verts), colors=torch.tensor(colors), faces=torch.tensor(faces),
               global_step=7)
    inputs["mesh"] = {"vertices": f32list(verts), "faces": faces.reshape(-1).tolist(),
                      "colors": colors.reshape(-1).tolist()}

    # add_scalars: two keys, three steps.
    for step in range(3):
        w.add_scalars("loss", {"train": 1.0 / (step + 1), "test": 1.5 / (step + 1)}, step, walltime=WALL)
    inputs["scalars"] = {"main_tag": "loss", "keys": ["test", "train"]}

    w.close()
    with open(os.path.join(HERE, "inputs.json"), "w") as f:
        json.dump(inputs, f, indent=1, sort_keys=True)
        f.write("\n")

    from torch.utils.tensorboard._pytorch_graph import graph
    from google.protobuf import text_format
    gd, _ = graph(model, torch.zeros(1, 1, 28, 28))
    with open(os.path.join(HERE, "graph.txt"), "w") as f:
        f.write(text_format.MessageToString(gd))
    print("torch", torch.__version__, "numpy", np.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
