"""MONAI running bench/spatial.sh's chain: LoadImaged, EnsureChannelFirstd,
Orientationd(RAS), Spacingd(1.5, 1.5, 2.0) on image (bilinear) and label (nearest),
CropForegroundd on image and label by the image's box.

usage: python3 bench/monai_spatial.py DATASET_DIR
Prints the wall time of the transform loop (loading included).
"""
import sys
import time

import monai
import torch
from monai.data import load_decathlon_datalist
from monai.transforms import (Compose, CropForegroundd, EnsureChannelFirstd, LoadImaged,
                              Orientationd, Spacingd)

torch.set_num_threads(2)
items = load_decathlon_datalist(sys.argv[1] + "/dataset.json", True, "training", sys.argv[1])
chain = Compose([
    LoadImaged(keys=["image", "label"]),
    EnsureChannelFirstd(keys=["image", "label"]),
    Orientationd(keys=["image", "label"], axcodes="RAS"),
    Spacingd(keys=["image", "label"], pixdim=(1.5, 1.5, 2.0), mode=("bilinear", "nearest")),
    CropForegroundd(keys=["image", "label"], source_key="image", allow_smaller=True),
])
t0 = time.perf_counter()
for it in items:
    out = chain(it)
print(f"monai {monai.__version__}: {len(items)} items in {time.perf_counter() - t0:.3f} s, "
      f"image {tuple(out['image'].shape)}")
