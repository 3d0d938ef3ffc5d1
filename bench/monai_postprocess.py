"""KeepLargestConnectedComponent on a synthetic 512x512x128 label map, for
bench/postprocess.sh.

usage: python3 bench/monai_postprocess.py make DIR
           writes DIR/label.nii (uint8; labels 1 and 2: a few large ellipsoids each plus
           2% scattered voxels, so tens of thousands of components) and DIR/dataset.json
       python3 bench/monai_postprocess.py time DIR RUNS
           MONAI's KeepLargestConnectedComponent (defaults: each label independently,
           full connectivity) on the loaded map, RUNS times on a fresh copy; prints the
           median wall time of the transform alone.
"""
import json
import os
import sys
import time
import warnings

import numpy as np


def make(d):
    import nibabel as nib
    rng = np.random.default_rng(7)
    shape = (512, 512, 128)
    lab = np.zeros(shape, np.uint8)
    g = np.ogrid[:shape[0], :shape[1], :shape[2]]
    for label, n in ((1, 4), (2, 3)):
        for _ in range(n):
            c = [rng.integers(40, s - 40) for s in shape]
            r = [rng.integers(15, 60), rng.integers(15, 60), rng.integers(6, 25)]
            inside = sum(((g[k] - c[k]) / r[k]) ** 2 for k in range(3)) <= 1
            lab[inside] = label
    noise = rng.random(shape) < 0.02
    lab[noise] = rng.integers(1, 3, size=int(noise.sum()), dtype=np.uint8)
    os.makedirs(d, exist_ok=True)
    nib.save(nib.Nifti1Image(lab, np.diag([0.8, 0.8, 2.5, 1.0])), os.path.join(d, "label.nii"))
    with open(os.path.join(d, "dataset.json"), "w") as f:
        json.dump({"training": [{"image": "label.nii", "label": "label.nii"}]}, f)


def bench(d, runs):
    import torch
    import monai
    from monai.transforms import EnsureChannelFirst, KeepLargestConnectedComponent, LoadImage
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img = EnsureChannelFirst()(LoadImage(image_only=True)(os.path.join(d, "label.nii")))
    op = KeepLargestConnectedComponent()
    times = []
    for _ in range(runs + 1):  # the first is a warm-up
        x = img.clone()
        t0 = time.perf_counter()
        y = op(x)
        times.append(time.perf_counter() - t0)
    times = sorted(times[1:])
    print(f"monai {monai.__version__}: KeepLargestConnectedComponent on "
          f"{tuple(img.shape)} {img.dtype}: median {times[len(times) // 2]:.3f} s over "
          f"{runs} runs (kept {int((y > 0).sum())} of {int((img > 0).sum())} voxels)")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        bench(sys.argv[2], int(sys.argv[3]))
