#!/usr/bin/env python3
"""Writes torch_reference.json: PyTorch's forward/backward of the demo's LeNet-5
on fixed, formula-made weights and images, for model/torch_test.go.

Run from the repository root with Debian's python3-torch:
    /usr/bin/python3 model/testdata/torch_reference.py > model/testdata/torch_reference.json

The weights and pixels come from integer formulas that the Go test evaluates
with the same IEEE operations, so both sides start from bit-identical inputs
(checked through the parameter sums stored in the file).
"""
import json
import math
import sys

import torch
from torch import nn

# (name, shape, fan_in), in state_dict order
TENSORS = [
    ("convModel.0.weight", [6, 1, 5, 5], 25), ("convModel.0.bias", [6], 25),
    ("convModel.3.weight", [16, 6, 5, 5], 150), ("convModel.3.bias", [16], 150),
    ("lineNet.1.weight", [120, 400], 400), ("lineNet.1.bias", [120], 400),
    ("lineNet.3.weight", [84, 120], 120), ("lineNet.3.bias", [84], 120),
    ("lineNet.5.weight", [10, 84], 84), ("lineNet.5.bias", [10], 84),
]
LABELS = [3, 7, 0, 9]


def param_values(t, n, fan_in):
    # value j of tensor t: an integer in [-1000, 1000] scaled into +-1/sqrt(fan_in)
    bound = 1 / math.sqrt(fan_in)
    return [((j * 7919 + t * 104729 + 13) % 2001 - 1000) / 1000.0 * bound for j in range(n)]


def pixel_bytes(i):
    return [(i * 31 + p * 17 + (p // 28) * 5) % 256 for p in range(784)]


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


def main():
    torch.set_num_threads(1)
    model = LeNet5()
    sd = model.state_dict()
    assert list(sd.keys()) == [n for n, _, _ in TENSORS]
    with torch.no_grad():
        for t, (name, shape, fan_in) in enumerate(TENSORS):
            n = math.prod(shape)
            sd[name].copy_(torch.tensor(param_values(t, n, fan_in), dtype=torch.float32).reshape(shape))
    raw = torch.tensor([pixel_bytes(i) for i in range(len(LABELS))], dtype=torch.uint8)
    # the demo's ToTensor() + Normalize([0.5], [0.5]), in float32
    x = raw.float().div(255).sub(0.5).div(0.5).reshape(len(LABELS), 1, 28, 28)
    y = torch.tensor(LABELS, dtype=torch.long)
    logits = model(x)
    loss = nn.CrossEntropyLoss()(logits, y)
    loss.backward()
    out = {
        "source": "PyTorch %s, model/testdata/torch_reference.py" % torch.__version__,
        "labels": LABELS,
        "logits": [[float(v) for v in row] for row in logits.detach()],
        "loss": float(loss.detach()),
        "params": {},
    }
    for name, p in model.named_parameters():
        g = p.grad.reshape(-1)
        stride = max(1, g.numel() // 16)
        out["params"][name] = {
            "data_sum": float(p.detach().double().sum()),
            "grad_sum": float(g.double().sum()),
            "grad_abs_sum": float(g.double().abs().sum()),
            "grad_at": {str(i): float(g[i]) for i in range(0, g.numel(), stride)},
        }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
