#!/usr/bin/python3
"""Prints reference numbers from real PyTorch for the trainer tests.

Run:  /usr/bin/python3 trainer/testdata/torch_reference.py > trainer/testdata/torch_reference.json
(Debian python3-torch; the committed JSON records torch.__version__.)

Float32 values are written as their IEEE-754 bit patterns (uint32) so the Go
test can compare bit for bit; float64 learning rates are written with repr(),
which round-trips exactly.
"""
import json
import math
import struct

import torch


def bits(t):
    return [struct.unpack("<I", struct.pack("<f", float(v)))[0] for v in t.detach().reshape(-1).tolist()]


def cosine(base_lr, eta_min, t_max, epochs):
    # Drive the real scheduler with a dummy optimizer, as a training loop does:
    # the lr used in epoch e is the group's lr after e calls of scheduler.step().
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)
    stepped, closed = [], []
    for e in range(epochs):
        stepped.append(opt.param_groups[0]["lr"])
        closed.append(sched._get_closed_form_lr()[0])
        opt.step()
        sched.step()
    return {"base_lr": base_lr, "eta_min": eta_min, "t_max": t_max,
            "stepped": stepped, "closed_form": closed}


def sgd_case(name, n, steps, lrs, momentum, scale, seed):
    g = torch.Generator().manual_seed(seed)
    p = torch.nn.Parameter((torch.randn(n, generator=g) * scale).float())
    grads = [(torch.randn(n, generator=g) * scale).float() for _ in range(steps)]
    case = {"name": name, "momentum": momentum, "lrs": lrs, "param0": bits(p),
            "grads": [bits(x) for x in grads], "params": [], "buffers": []}
    opt = torch.optim.SGD([p], lr=lrs[0], momentum=momentum, dampening=0,
                          nesterov=False, weight_decay=0)
    for s in range(steps):
        for group in opt.param_groups:
            group["lr"] = lrs[s]
        p.grad = grads[s].clone()
        opt.step()
        case["params"].append(bits(p))
        case["buffers"].append(bits(opt.state[p]["momentum_buffer"]))
    return case


def main():
    sched20 = cosine(0.01, 1e-4, 20, 25)  # 5 epochs past T_max: shows the closed form's periodic tail
    sched7 = cosine(0.1, 0.0, 7, 7)
    out = {
        "source": "PyTorch %s, torch.optim.SGD and torch.optim.lr_scheduler.CosineAnnealingLR "
                  "(trainer/testdata/torch_reference.py)" % torch.__version__,
        "cosine": [sched20, sched7],
        "sgd": [
            sgd_case("default-lr", 37, 6, [0.01] * 6, 0.9, 1.0, 1),
            sgd_case("cosine-lrs", 64, 20, sched20["stepped"][:20], 0.9, 3.0, 2),
            sgd_case("tiny-grads", 16, 8, sched7["stepped"] + [0.05], 0.5, 1e-3, 3),
            sgd_case("large-values", 16, 5, [0.3, 0.1, 0.7, 1e-4, 0.01], 0.99, 1e4, 4),
        ],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
