"""torch_mixed.py writes mixed_kinds/ with PyTorch's SummaryWriter (see README.md).

    /usr/bin/python3 testdata/tensorboard-reads/torch_mixed.py testdata/tensorboard-reads

One tag, "mix", logged as scalars (steps 0-2), then as an image (step 3) and
as text (step 4): PyTorch accepts it. A clean scalar tag "loss" beside it.
"""
import os
import shutil
import sys

import numpy as np
from torch.utils.tensorboard import SummaryWriter

out = os.path.join(sys.argv[1], "mixed_kinds")
shutil.rmtree(out, ignore_errors=True)
w = SummaryWriter(log_dir=out)
for step in range(3):
    w.add_scalar("mix", float(step), step, walltime=1700000000 + step)
    w.add_scalar("loss", 1.0 / (step + 1), step, walltime=1700000000 + step)
w.add_image("mix", np.zeros((1, 2, 2), dtype=np.uint8), 3, walltime=1700000003)
w.add_text("mix", "text under a scalar tag", 4, walltime=1700000004)
w.close()
