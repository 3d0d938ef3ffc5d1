#!/usr/bin/env python3
"""gen_resize.py: golden cases for mgc's Resize, Zoom and ResizeWithPadOrCrop, computed by
MONAI (which calls torch.nn.functional.interpolate for the first two).

Runs the array transforms on small 2D and 3D MetaTensors (1-2 channels, float32 and
int16, some in Fortran order, size-1 axes) with oblique, LPS and anisotropic affines:
every interpolate mode (area, nearest, nearest-exact, linear, bicubic in 2D),
align_corners both ways, up- and down-sampling by non-integer ratios, spatial_size with
-1, size_mode longest, unchanged shapes (MONAI skips the work), float64 compute; Zoom
with keep_size true and false, zooms below and above 1 and mixed, each padding mode;
ResizeWithPadOrCrop with both methods and each pad mode. Writes, under
tests/golden/resize/:
  <input>.in.npy      an input array (shared by the cases that use it)
  <case>.out.npy      MONAI's output array
  cases.json          {"generator", "versions", "inputs": {...}, "cases": [...]}
inputs: name -> {"file", "affine"}. Each case: name, op, args (exactly the JSON a
pipeline passes), input, output, out_affine (the output MetaTensor's 4x4 affine) and
out_to_in (the voxel map MONAI's lazy mode records for the same call, as 4x4: the
geometry MONAI writes into the affine; for the area and nearest modes torch samples by
its own index rules, not at that map).

Usage: python3 tools/golden/gen_resize.py   (from anywhere; needs monai, torch).
Deterministic for fixed library versions.
"""

import numpy as np

from monai.transforms import Resize, ResizeWithPadOrCrop, Zoom

from spatial_common import (affine, clear, golden_dir, lazy_map, rot, run_transform,
                            save_input, save_output, versions, write_cases)

OUT = golden_dir("resize")
OPS = {"Resize": Resize, "Zoom": Zoom, "ResizeWithPadOrCrop": ResizeWithPadOrCrop}

rng = np.random.default_rng(20241107)
inputs = {}
cases = []


def add_input(name, shape, aff, dtype=np.float32, fortran=False):
    """Random values (float32 in [-50, 50), int16 in [-1000, 1000)), nonzero so a wrong
    constant pad shows."""
    if dtype == np.float32:
        x = rng.uniform(-50, 50, size=shape).astype(np.float32)
    else:
        x = rng.integers(-1000, 1000, size=shape).astype(np.int16)
    x[x == 0] = 7
    save_input(OUT, inputs, name, x, aff, fortran)


def run(op, args, inp, lazy=False):
    return run_transform(lambda: OPS[op](**args), inputs[inp], lazy)


def add(name, op, args, inp):
    y = run(op, args, inp)
    lz = run(op, args, inp, lazy=True)
    out = y.as_tensor().numpy()
    x = inputs[inp]["array"]
    if op == "ResizeWithPadOrCrop":
        assert out.dtype == x.dtype, name
    else:
        assert out.dtype == np.float32, name
    xform = lazy_map(lz, out.shape[1:], name, required=False)
    f = save_output(OUT, name, out)
    cases.append({"name": name, "op": op, "args": args, "input": inp, "output": f,
                  "out_affine": y.affine.numpy().tolist(), "out_to_in": xform.tolist()})


def make_inputs():
    obl = affine(rot(2, 25) @ rot(0, -10), (0.8, 1.3, 2.5), (-40.0, 12.5, 7.0))
    lps = affine(np.diag([-1.0, -1.0, 1.0, 1.0]), (0.7, 0.7, 3.0), (120.0, 95.5, -60.0))
    add_input("obl_f32", (1, 7, 5, 4), obl)
    add_input("lps_i16_c2_fortran", (2, 6, 5, 3), lps, np.int16, fortran=True)
    add_input("flat_f32", (1, 5, 4, 1), obl)
    obl2 = affine(rot(2, -30), (0.6, 1.7, 1.0), (10.0, -4.0, 0.0))
    add_input("obl2_f32", (1, 7, 5), obl2)
    add_input("obl2_i16_c2", (2, 5, 6), obl2, np.int16)
    add_input("one2_f32", (1, 1, 6), affine(np.eye(4), (2.0, 0.5, 1.0), (1.0, 2.0, 3.0)))
    add_input("long2_f32", (1, 26, 6), obl2)


def linear(sdim):
    return "bilinear" if sdim == 2 else "trilinear"


def resize():
    op = "Resize"
    sizes3 = [[3, 3, 3], [10, 8, 6], [4, 9, 2], [-1, 3, 7], [1, 5, 4], [14, 2, 1]]
    sizes2 = [[3, 3], [10, 8], [4, 11], [-1, 3], [1, 6], [7, 5]]
    for inp, sizes in [("obl_f32", sizes3), ("lps_i16_c2_fortran", sizes3[1:3]),
                       ("obl2_f32", sizes2), ("obl2_i16_c2", sizes2[1:3])]:
        sdim = inputs[inp]["array"].ndim - 1
        modes = [("area", None), ("nearest", None), ("nearest-exact", None),
                 (linear(sdim), False), (linear(sdim), True)]
        if sdim == 2:
            modes += [("bicubic", False), ("bicubic", True)]
        for m, ac in modes:
            for i, sz in enumerate(sizes):
                args = {"spatial_size": sz, "mode": m}
                if ac is not None:
                    args["align_corners"] = ac
                tag = m.replace("-", "_") + ("" if ac is None else "_ac" if ac else "_noac")
                add(f"rs_{inp}_{tag}_{i}", op, args, inp)
    # defaults (area), "linear" spelled as such, float64 compute, size-1 input axes
    add("rs_obl_default", op, {"spatial_size": [5, 3, 2]}, "obl_f32")
    add("rs_obl_linear", op, {"spatial_size": [9, 4, 5], "mode": "linear"}, "obl_f32")
    add("rs_obl_f64_trilinear", op, {"spatial_size": [9, 4, 5], "mode": "trilinear",
                                     "dtype": "float64"}, "obl_f32")
    add("rs_obl2_f64_bicubic", op, {"spatial_size": [9, 8], "mode": "bicubic",
                                    "dtype": "float64", "align_corners": False}, "obl2_f32")
    add("rs_obl2_f64_area", op, {"spatial_size": [3, 4], "dtype": "float64"}, "obl2_f32")
    for m, ac in [("area", None), ("nearest", None), ("trilinear", False),
                  ("trilinear", True)]:
        args = {"spatial_size": [3, 6, 3], "mode": m}
        if ac is not None:
            args["align_corners"] = ac
        add(f"rs_flat_{m}_{ac}", op, args, "flat_f32")
    for m, ac in [("area", None), ("nearest-exact", None), ("bilinear", True),
                  ("bicubic", False)]:
        args = {"spatial_size": [3, 4], "mode": m}
        if ac is not None:
            args["align_corners"] = ac
        add(f"rs_one2_{m}_{ac}", op, args, "one2_f32")
    # sizes where torch's float32 index differs from the exact floor(o * in / out):
    # 26 -> 22 at o = 11 (nearest), 26 -> 11 at o = 5 and 6 -> 37 at o = 18 (nearest-exact)
    add("rs_long2_nearest_f32_index", op, {"spatial_size": [22, 37], "mode": "nearest"},
        "long2_f32")
    add("rs_long2_nearest_exact_f32_index", op, {"spatial_size": [11, 37],
                                                 "mode": "nearest-exact"}, "long2_f32")
    add("rs_long2_area", op, {"spatial_size": [11, 37]}, "long2_f32")
    # size_mode longest, unchanged shapes, anti_aliasing that does not apply (upsampling)
    add("rs_obl_longest", op, {"spatial_size": 10, "size_mode": "longest"}, "obl_f32")
    add("rs_obl_longest_down", op, {"spatial_size": 3, "size_mode": "longest",
                                    "mode": "trilinear"}, "obl_f32")
    add("rs_obl2_longest", op, {"spatial_size": 9, "size_mode": "longest",
                                "mode": "nearest"}, "obl2_i16_c2")
    add("rs_obl_same", op, {"spatial_size": [7, 5, 4]}, "obl_f32")
    add("rs_lps_same_i16", op, {"spatial_size": [-1, 5, 0], "mode": "trilinear"},
        "lps_i16_c2_fortran")
    add("rs_obl2_aa_up", op, {"spatial_size": [9, 8], "anti_aliasing": True,
                              "mode": "bilinear"}, "obl2_f32")
    add("rs_obl_lazy_flag", op, {"spatial_size": [4, 4, 4], "lazy": False}, "obl_f32")


def zoom():
    op = "Zoom"
    zooms = [0.6, 1.5, [0.5, 1.3, 1.0], [1.7, 0.8, 0.55]]
    pads = ["edge", "constant", "reflect", "symmetric", "replicate"]
    for inp in ["obl_f32", "lps_i16_c2_fortran", "obl2_f32", "obl2_i16_c2"]:
        sdim = inputs[inp]["array"].ndim - 1
        modes = [("area", None), ("nearest", None), ("nearest-exact", None),
                 (linear(sdim), False), (linear(sdim), True)]
        if sdim == 2:
            modes += [("bicubic", False)]
        n = 0
        for j, (m, ac) in enumerate(modes):
            for i, z in enumerate(zooms):
                if isinstance(z, list):
                    z = z[:sdim]
                for keep in (True, False):
                    if not keep and (i + j) % 2:
                        continue
                    args = {"zoom": z, "mode": m, "keep_size": keep}
                    if ac is not None:
                        args["align_corners"] = ac
                    if keep:
                        args["padding_mode"] = pads[(i + j) % len(pads)]
                        try:
                            run(op, args, inp)
                        except ValueError:  # torch's reflect: pad smaller than the axis
                            args["padding_mode"] = "symmetric"
                    add(f"zm_{inp}_{n}", op, args, inp)
                    n += 1
    add("zm_obl_default", op, {"zoom": 0.7}, "obl_f32")
    add("zm_obl2_default", op, {"zoom": [1.4, 0.6]}, "obl2_f32")
    add("zm_obl_one", op, {"zoom": 1.0, "mode": "trilinear"}, "obl_f32")
    add("zm_flat_area", op, {"zoom": [0.7, 1.6, 2.0]}, "flat_f32")
    add("zm_one2_nearest", op, {"zoom": [3.0, 0.5], "mode": "nearest", "keep_size": False},
        "one2_f32")


def pad_or_crop():
    op = "ResizeWithPadOrCrop"
    modes = [None, "edge", "reflect", "symmetric", "constant", "replicate"]
    sizes3 = [[9, 3, 4], [4, 8, 6], [-1, 7, 2], 6, [7, 5, 4], [2, 2, 1]]
    sizes2 = [[9, 3], [4, 8], [-1, 4], 6, [3, 11]]
    n = 0
    for inp, sizes in [("obl_f32", sizes3), ("lps_i16_c2_fortran", sizes3),
                       ("obl2_f32", sizes2), ("obl2_i16_c2", sizes2)]:
        for i, sz in enumerate(sizes):
            for method in ("symmetric", "end"):
                m = modes[(i + n) % len(modes)]
                args = {"spatial_size": sz, "method": method}
                if m is not None:
                    args["mode"] = m
                try:
                    run(op, args, inp)
                except ValueError:  # torch's reflect needs a pad smaller than the axis
                    args["mode"] = "symmetric"
                add(f"rpc_{inp}_{i}_{method}", op, args, inp)
                n += 1
    add("rpc_one2_edge", op, {"spatial_size": [3, 4], "mode": "edge"}, "one2_f32")


def main():
    clear(OUT)
    make_inputs()
    resize()
    zoom()
    pad_or_crop()
    write_cases(OUT, "tools/golden/gen_resize.py", versions(), inputs, cases)


if __name__ == "__main__":
    main()
