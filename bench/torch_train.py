#!/usr/bin/env python3
"""torch_train.py: the spleen bundle's whole training step in MONAI (bench/train.sh): UNet
(16-256, strides 2, two residual units, batch norm), DiceCELoss as examples/spleen_train.json
states it, Adam(lr 1e-4): zero_grad, forward, loss, backward, step, on a batch of N x 1 x
SIZE^3 (image uniform in [0, 1), label random classes 0/1).
usage: python3 bench/torch_train.py [N SIZE RUNS]"""
import json
import sys
import time

import torch
from monai.losses import DiceCELoss
from monai.networks.nets import UNet

n, s, runs = (int(a) for a in (sys.argv[1:] + ["2", "96", "3"][len(sys.argv) - 1:])[:3])
cfg = json.load(open("examples/spleen_train.json"))
net = {k: v for k, v in cfg["network_def"].items() if k != "_target_"}
loss_args = {k: v for k, v in cfg["loss"].items() if k != "_target_"}
model = UNet(**net)
loss_fn = DiceCELoss(**loss_args)
opt = torch.optim.Adam(model.parameters(), lr=cfg["optimizer"]["lr"])
g = torch.Generator().manual_seed(1)
x = torch.rand(n, 1, s, s, s, generator=g)
y = torch.randint(0, net["out_channels"], (n, 1, s, s, s), generator=g).float()
model.train()
times = []
for r in range(runs + 1):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    times.append(time.perf_counter() - t0)
rest = sorted(times[1:])
print(f"torch spleen train step N={n} {s}^3: median {rest[(runs - 1) // 2]:.3f} s, best "
      f"{rest[0]:.3f} s (first {times[0]:.3f} s, loss {loss.item():.4f}; torch "
      f"{torch.__version__}, {torch.get_num_threads()} threads)")
