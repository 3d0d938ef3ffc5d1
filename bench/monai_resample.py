"""MONAI's Affine on bench/kernel_bw.c's resampling: a float32 (1, 512, 512, 128) volume
rotated by 10 degrees about the last axis and zoomed by 0.9 about its centre, bilinear
and bicubic, zeros and reflection padding (transforms.Resample -> grid_sample, MONAI's
default float32 compute), on 1 and 2 torch threads.

usage: python3 bench/monai_resample.py [REPS]
Prints the best wall time of REPS calls (after a warm-up) per mode, padding and thread
count.
"""
import math
import sys
import time

import monai
import torch
from monai.transforms import Affine

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
img = (torch.arange(512 * 512 * 128, dtype=torch.int64) % 1000).float().reshape(1, 512, 512, 128)
print(f"monai {monai.__version__}, torch {torch.__version__}")
for mode, pad in [("bilinear", "zeros"), ("bilinear", "reflection"), ("bicubic", "zeros"),
                  ("bicubic", "reflection")]:
    for threads in (1, 2):
        torch.set_num_threads(threads)
        aff = Affine(rotate_params=(0, 0, math.radians(10)), scale_params=(0.9,) * 3,
                     mode=mode, padding_mode=pad, image_only=True)
        best = 1e30
        for r in range(reps + 1):
            t0 = time.perf_counter()
            out = aff(img)
            t = time.perf_counter() - t0
            if r:
                best = min(best, t)
        print(f"monai Affine {mode} {pad}, {threads} thread(s): {1e3 * best:.0f} ms "
              f"{tuple(out.shape)}")
