"""MONAI running bench/intensity.sh's chain: ScaleIntensityRanged(-57, 164 -> 0, 1,
clip), NormalizeIntensityd(nonzero), CastToTyped(float16), on the image LoadImaged and
EnsureChannelFirstd made (loaded once, outside the timing).

usage: python3 bench/monai_intensity.py DATASET_DIR [RUNS]
Prints the median wall time of the chain over RUNS runs, torch on 1 and on 2 threads.
"""
import statistics
import sys
import time

import monai
import torch
from monai.data import load_decathlon_datalist
from monai.transforms import (CastToTyped, Compose, EnsureChannelFirstd, LoadImaged,
                              NormalizeIntensityd, ScaleIntensityRanged)

runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
items = load_decathlon_datalist(sys.argv[1] + "/dataset.json", True, "training", sys.argv[1])
item = Compose([LoadImaged(keys="image"), EnsureChannelFirstd(keys="image")])(items[0])
chain = Compose([
    ScaleIntensityRanged(keys="image", a_min=-57, a_max=164, b_min=0.0, b_max=1.0, clip=True),
    NormalizeIntensityd(keys="image", nonzero=True),
    CastToTyped(keys="image", dtype="float16"),
])
for threads in (1, 2):
    torch.set_num_threads(threads)
    chain(dict(item))  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = chain(dict(item))
        times.append(time.perf_counter() - t0)
    print(f"monai {monai.__version__}, torch {threads} thread(s): chain "
          f"{statistics.median(times):.3f} s (median of {runs}), image "
          f"{tuple(item['image'].shape)} {item['image'].dtype} -> {out['image'].dtype}")
