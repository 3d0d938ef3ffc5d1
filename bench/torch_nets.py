#!/usr/bin/env python3
"""torch_nets.py: the same networks and steps as bench/nets.c in PyTorch with MONAI's
classes: forward (eval, no_grad) or forward + backward of sum(y * g) (train); wall and process
CPU time (on a shared machine a one-thread run's CPU time is its undisturbed wall time).
usage: python3 bench/torch_nets.py unet|segresnet|brats|dynunet|densenet train|eval [N SIZE RUNS]"""
import sys
import time

import torch
from monai.networks.nets import DenseNet121, DynUNet, SegResNet, UNet

PRESETS = {
    "unet": (lambda: UNet(spatial_dims=3, in_channels=1, out_channels=2,
                          channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2),
                          num_res_units=2, norm="batch"), 1),
    "segresnet": (lambda: SegResNet(spatial_dims=3, in_channels=1, out_channels=105,
                                    init_filters=32, blocks_down=(1, 2, 2, 4),
                                    blocks_up=(1, 1, 1), dropout_prob=0.2), 1),
    "brats": (lambda: SegResNet(blocks_down=[1, 2, 2, 4], blocks_up=[1, 1, 1],
                                init_filters=16, in_channels=4, out_channels=3,
                                dropout_prob=0.2), 4),
    "dynunet": (lambda: DynUNet(spatial_dims=3, in_channels=1, out_channels=2,
                                kernel_size=[3] * 6, strides=[1, 2, 2, 2, 2, 2],
                                upsample_kernel_size=[2] * 5), 1),
    "densenet": (lambda: DenseNet121(spatial_dims=3, in_channels=1, out_channels=2), 1),
}

name, mode = sys.argv[1], sys.argv[2]
n, s, runs = (int(a) for a in (sys.argv[3:] + ["2", "96", "3"][len(sys.argv) - 3:])[:3])
make, cin = PRESETS[name]
model = make()
x = torch.randn(n, cin, s, s, s)
times, cpu = [], []
for r in range(runs + 1):
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "train":
        model.train()
        model.zero_grad()
        y = model(x)
        (y * torch.ones_like(y)).sum().backward()
    else:
        model.eval()
        with torch.no_grad():
            y = model(x)
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
first, rest, crest = times[0], sorted(times[1:]), sorted(cpu[1:])
print(f"torch {name} {mode} N={n} {s}^3: median {rest[(runs - 1) // 2]:.3f} s, "
      f"best {rest[0]:.3f} s (first run {first:.3f} s; torch {torch.__version__}, "
      f"{torch.get_num_threads()} threads); CPU time median {crest[(runs - 1) // 2]:.3f} s")
