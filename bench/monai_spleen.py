"""MONAI running the deterministic part of the spleen tutorial's training chain (the
transforms before its first random one, what CacheDataset caches), as
examples/spleen_preprocess.json, for bench/spleen.sh.

usage: python3 bench/monai_spleen.py DATASET_DIR
Prints the wall time of the transform loop (file reading included), as mgc run's
"done: ... in X s" line reports it.
"""
import sys
import time

import monai
import torch
from monai.data import load_decathlon_datalist
from monai.transforms import (Compose, CropForegroundd, EnsureChannelFirstd, LoadImaged,
                              Orientationd, ScaleIntensityRanged, Spacingd)

data_dir = sys.argv[1]
items = load_decathlon_datalist(data_dir + "/dataset.json", True, "training", data_dir)
chain = Compose([
    LoadImaged(keys=["image", "label"]),
    EnsureChannelFirstd(keys=["image", "label"]),
    ScaleIntensityRanged(keys="image", a_min=-57, a_max=164, b_min=0.0, b_max=1.0, clip=True),
    CropForegroundd(keys=["image", "label"], source_key="image"),
    Orientationd(keys=["image", "label"], axcodes="RAS"),
    Spacingd(keys=["image", "label"], pixdim=(1.5, 1.5, 2.0), mode=("bilinear", "nearest")),
])
t0 = time.perf_counter()
for it in items:
    chain(it)
print(f"done: {len(items)} items in {time.perf_counter() - t0:.3f} s "
      f"(monai {monai.__version__}, torch threads {torch.get_num_threads()})")
