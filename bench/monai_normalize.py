"""MONAI's NormalizeIntensity (nonzero off and on) on the volume bench/kernel_bw.c uses:
1x512x512x128 float32 with x[i] = i % 1000 in C order; the best of RUNS calls after a
warm-up, on torch's default threads and on one. usage: monai_normalize.py [RUNS]"""
import sys
import time

import torch
from monai.transforms import NormalizeIntensity

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
x = (torch.arange(512 * 512 * 128, dtype=torch.int64) % 1000).to(torch.float32)
x = x.reshape(1, 512, 512, 128)
for threads in (torch.get_num_threads(), 1):
    torch.set_num_threads(threads)
    for nonzero in (False, True):
        t = NormalizeIntensity(nonzero=nonzero)
        t(x)
        best = 1e30
        for _ in range(runs):
            t0 = time.perf_counter()
            t(x)
            best = min(best, time.perf_counter() - t0)
        print(f"MONAI NormalizeIntensity{'(nonzero)' if nonzero else ''}, {threads} threads: "
              f"{best * 1e3:.0f} ms")
