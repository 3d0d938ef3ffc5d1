"""MONAI's ScaleIntensityRangePercentiles(5, 95, 0, 1, clip=True) on the volume
bench/kernel_bw.c uses: 1x512x512x128 float32 with x[i] = i % 1000 in C order (above 1e6
voxels MONAI takes np.percentile); the best of RUNS calls after a warm-up, on torch's
default threads and on one. usage: monai_percentiles.py [RUNS]"""
import sys
import time

import torch
from monai.transforms import ScaleIntensityRangePercentiles

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
x = (torch.arange(512 * 512 * 128, dtype=torch.int64) % 1000).to(torch.float32)
x = x.reshape(1, 512, 512, 128)
t = ScaleIntensityRangePercentiles(lower=5, upper=95, b_min=0.0, b_max=1.0, clip=True)
for threads in (torch.get_num_threads(), 1):
    torch.set_num_threads(threads)
    t(x)
    best = 1e30
    for _ in range(runs):
        t0 = time.perf_counter()
        t(x)
        best = min(best, time.perf_counter() - t0)
    print(f"MONAI ScaleIntensityRangePercentiles, {threads} threads: {best * 1e3:.0f} ms")
