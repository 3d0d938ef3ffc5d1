"""MONAI running the same chain as examples/preprocess.json, for bench/preprocess.sh.

usage: python3 bench/monai_preprocess.py DATASET_DIR OUTPUT_DIR
Prints the wall time of the transform loop (file IO included), as mgc's run reports it.
"""
import sys
import time

import monai
from monai.data import load_decathlon_datalist
from monai.transforms import (CastToTyped, Compose, EnsureChannelFirstd, LoadImaged,
                              SaveImaged, ScaleIntensityRanged)

data_dir, out_dir = sys.argv[1], sys.argv[2]
items = load_decathlon_datalist(data_dir + "/dataset.json", True, "training", data_dir)
chain = Compose([
    LoadImaged(keys=["image", "label"]),
    EnsureChannelFirstd(keys=["image", "label"]),
    ScaleIntensityRanged(keys="image", a_min=-57, a_max=164, b_min=0.0, b_max=1.0, clip=True),
    CastToTyped(keys=["image", "label"], dtype=["float32", "uint8"]),
    SaveImaged(keys="image", output_dir=out_dir, output_postfix="image", print_log=False),
    SaveImaged(keys="label", output_dir=out_dir, output_postfix="label",
               output_dtype="uint8", print_log=False),
])
t0 = time.perf_counter()
for it in items:
    chain(it)
print(f"monai {monai.__version__}: {len(items)} items in {time.perf_counter() - t0:.3f} s")
