#!/usr/bin/env python3
"""gen_invert.py: golden cases for mgc's Invertd, CropForegroundd(source_key) and
SaveImage(resample=True), computed by MONAI on whole dict pipelines.

Writes two small NIfTI inputs per item (an int16 CT-like image and a uint8 label, 3D and
2D, with oblique LPS affines) and runs MONAI's pipelines on them:
  pre  = Compose([LoadImaged, EnsureChannelFirstd] + chain)
  post = [Invertd(transform=pre, ...), SaveImaged(...)...]   (MONAI writes the files)
Each case records its chain and post transforms as the JSON mgc reads ("@pre" and
"@output_dir" are references the C test defines) and, per file MONAI wrote, its path
relative to the output folder, its data (.npy, float32) and affine, and how to compare:
"exact" (labels with nearest, index-only chains) or atol (images). Under
tests/golden/invert/: the .nii.gz inputs, <case>__<file>.npy, cases.json.
tests/test_invert.c runs `mgc run` on the same pipelines and compares.

Usage: python3 tools/golden/gen_invert.py   (from anywhere; needs monai, torch, nibabel).
Deterministic for fixed library versions.
"""
import json
import os
import tempfile
import warnings

import nibabel as nib
import numpy as np

import monai.transforms as mt
from spatial_common import affine, golden_dir, rot, versions

OUT = golden_dir("invert")
rng = np.random.default_rng(20261123)


def make_inputs(tag, shape, aff):
    """<tag>ct: a smooth positive body in a zero background (int16); <tag>lab: 0/1/2 blobs
    in it (uint8). shape is 3D, or 2D (z = 0 then)."""
    grids = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    x, y = grids[0], grids[1]
    z = grids[2] if len(shape) == 3 else np.zeros(shape)
    cz = (shape[2] - 1) / 2 if len(shape) == 3 else 0.0
    body = (((x - shape[0] / 2) / (shape[0] / 3.1)) ** 2 +
            ((y - shape[1] / 2) / (shape[1] / 3.2)) ** 2 + ((z - cz) / 3.4) ** 2 < 1)
    ct = np.where(body, 200 + 40 * x - 15 * y + 9 * z + 30 * np.sin(x * 0.9 + y * 0.4), 0)
    lab = np.zeros(shape, np.uint8)
    lab[((x - shape[0] * 0.45) / 3.5) ** 2 + ((y - shape[1] / 2) / 3) ** 2 +
        ((z - cz) / 2.2) ** 2 < 1] = 1
    lab[(abs(x - shape[0] * 0.65) <= 1) & (abs(y - shape[1] * 0.37) <= 2) &
        (abs(z - cz + 1) <= 1)] = 2
    files = {}
    for name, arr, dt in [("ct", ct, np.int16), ("lab", lab, np.uint8)]:
        f = f"{tag}{name}.nii.gz"
        nib.save(nib.Nifti1Image(arr.astype(dt), aff), os.path.join(OUT, f))
        files[name] = f
    return {"image": files["ct"], "label": files["lab"]}


def build(spec, refs):
    args = {k: (refs[v[1:]] if isinstance(v, str) and v[:1] == "@" else v)
            for k, v in spec.items() if k != "_target_"}
    return getattr(mt, spec["_target_"])(**args)


LOAD = [{"_target_": "LoadImaged", "keys": ["image", "label"]},
        {"_target_": "EnsureChannelFirstd", "keys": ["image", "label"]}]


def save(key, postfix, **kw):
    return dict({"_target_": "SaveImaged", "keys": key, "output_dir": "@output_dir",
                 "output_postfix": postfix, "output_dtype": "float32",
                 "separate_folder": False, "print_log": False}, **kw)


def add(cases, item, name, chain, post, exact, atol=0.0):
    """exact: the output postfixes compared exactly; the others within atol."""
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refs = {"output_dir": tmp}
        refs["pre"] = mt.Compose([build(s, refs) for s in LOAD + chain])
        d = refs["pre"]({k: os.path.join(OUT, v) for k, v in item.items()})
        for s in post:
            d = build(s, refs)(d)
        outs = []
        for f in sorted(os.listdir(tmp)):
            img = nib.load(os.path.join(tmp, f))
            npy = f"{name}__{f.replace('.nii.gz', '')}.npy"
            np.save(os.path.join(OUT, npy), np.asarray(img.dataobj, dtype=np.float32))
            postfix = f.replace(".nii.gz", "").split("_")[-1]
            outs.append({"path": f, "file": npy, "affine": img.affine.tolist(),
                         "exact": postfix in exact, "atol": atol})
    cases.append({"name": name, "item": item, "chain": chain, "post": post, "outputs": outs})


def all_cases(item, item2):
    cases = []
    k2 = ["image", "label"]
    ocsp = [{"_target_": "Orientationd", "keys": k2, "axcodes": "RAS"},
            {"_target_": "Spacingd", "keys": k2, "pixdim": [1.1, 1.1, 2.0],
             "mode": ["bilinear", "nearest"]},
            {"_target_": "CropForegroundd", "keys": k2, "source_key": "image", "margin": 2,
             "k_divisible": 4},
            {"_target_": "SpatialPadd", "keys": k2, "spatial_size": [24, 24, 12]}]
    inv = {"_target_": "Invertd", "keys": k2, "transform": "@pre",
           "nearest_interp": [False, True]}
    # the forward chain itself (source_key), then its inverse
    add(cases, item, "ocsp_fwd", ocsp, [save("image", "img"), save("label", "lab")],
        ["img", "lab"])
    add(cases, item, "ocsp", ocsp, [inv, save("image", "img"), save("label", "lab")],
        ["lab"], atol=1e-4)
    # a prediction inverted with the image's record (nearest)
    add(cases, item, "ocsp_pred", ocsp,
        [{"_target_": "Invertd", "keys": "label", "orig_keys": "image", "transform": "@pre"},
         save("label", "pred")], ["pred"])
    # index-only: exact, zeros where the forward chain cropped
    idx = [{"_target_": "Orientationd", "keys": k2, "axcodes": "PLI"},
           {"_target_": "Flipd", "keys": k2, "spatial_axis": 0},
           {"_target_": "Rotate90d", "keys": k2, "k": 1, "spatial_axes": [0, 1]},
           {"_target_": "SpatialCropd", "keys": k2, "roi_start": [2, 3, 1],
            "roi_end": [14, 17, 8]},
           {"_target_": "BorderPadd", "keys": k2, "spatial_border": 2}]
    add(cases, item, "index", idx,
        [{"_target_": "Invertd", "keys": k2, "transform": "@pre"}, save("image", "img"),
         save("label", "lab")], ["img", "lab"])
    # the box from the label, reaching past the edges (padded), and clipped
    for i, args in enumerate([{"margin": [1, 2, 0], "allow_smaller": True},
                              {"margin": 6, "k_divisible": 5, "mode": "edge"},
                              {"margin": [3, 0, 4], "mode": "symmetric"}]):
        cf = [{"_target_": "CropForegroundd", "keys": k2, "source_key": "label", **args}]
        add(cases, item, f"cf_source{i}", cf, [save("image", "img"), save("label", "lab")],
            ["img", "lab"])
    # SaveImage(resample=True): back to the affine and shape as loaded
    sp = ocsp[:3]
    add(cases, item, "save_resample", sp,
        [save("image", "img", resample=True, mode="bilinear"),
         save("label", "lab", resample=True)], ["lab"], atol=1e-4)
    # 2D: Spacingd and a rotation by 90 degrees, inverted
    ch2 = [{"_target_": "Spacingd", "keys": k2, "pixdim": [1.1, 0.9],
            "mode": ["bilinear", "nearest"]},
           {"_target_": "Rotate90d", "keys": k2},
           {"_target_": "CropForegroundd", "keys": k2, "source_key": "label", "margin": 1}]
    add(cases, item2, "spacing2d", ch2, [inv, save("image", "img"), save("label", "lab")],
        ["lab"], atol=1e-4)
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    lps = np.diag([-1.0, -1.0, 1.0, 1.0])
    item = make_inputs("", (20, 16, 10),
                       affine(lps @ rot(2, 20) @ rot(0, -8), (0.8, 1.3, 2.5),
                              (40.0, 22.5, -30.0)))
    item2 = make_inputs("d2_", (22, 17), affine(lps @ rot(2, -25), (0.7, 1.2, 1.0),
                                                 (-12.0, 30.5, 0.0)))
    cases = all_cases(item, item2)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        f.write('{"generator": "tools/golden/gen_invert.py", "versions": %s,\n'
                ' "cases": [\n' % json.dumps(versions(nibabel=True)))
        f.write(",\n".join("  " + json.dumps(c) for c in cases))
        f.write("\n]}\n")


if __name__ == "__main__":
    main()
