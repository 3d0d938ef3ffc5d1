#!/usr/bin/env python3
"""gen_affine.py: golden cases for mgc's Affine and Rotate ops, computed by MONAI.

Runs monai.transforms.Affine / Rotate (eagerly) on small 2D and 3D MetaTensors (float32
and int16, 1-2 channels) whose affines are oblique, LPS-like or anisotropic, over every
mode x padding_mode, align_corners both ways, keep_size both ways, spatial_size given,
matrices given (3x3, 4x4, normalized) and the dtype argument. Writes, under
tests/golden/affine/:
  <input>.in.npy      an input array (shared by the cases that use it)
  <case>.out.npy      MONAI's output (always float32)
  cases.json          {"generator", "versions", "inputs": {...}, "cases": [...]}
Each case: name, op, args (exactly the JSON a pipeline passes), input, output,
out_affine (the output MetaTensor's 4x4 affine), out_to_in and ties.
out_to_in is where MONAI really sampled: torch's grid_sample is wrapped, the grid it gets
is taken back to input voxel indices (its own unnormalisation for the align_corners it
is called with) and an affine map output voxel -> input voxel is fitted to them by
least squares (4x4; to_affine_nd(3, .) for 2D); fit_err is the fit's largest residual
(float32 grid rounding). ties (nearest cases): how many output voxels have a sampled
coordinate within 1e-4 of a rounding tie (x.5), where MONAI's float32 grid and mgc's
float64 map may round to different voxels.

Usage: python3 tools/golden/gen_affine.py   (from anywhere; needs monai, torch, nibabel).
Deterministic for fixed library versions.
"""
import json
import warnings

import numpy as np
import torch

from monai.transforms import Affine, Rotate

from spatial_common import (affine, clear, fixture_affine, golden_dir, image_makers,
                            meta_tensor, rot, save_input, save_output, versions, write_cases)

OUT = golden_dir("affine")
OPS = {"Affine": Affine, "Rotate": Rotate}

rng = np.random.default_rng(20241123)
inputs = {}
cases = []
captured = []

_grid_sample = torch.nn.functional.grid_sample


def recording_grid_sample(input, grid, mode="bilinear", padding_mode="zeros",
                          align_corners=None):
    # a MetaTensor input comes back here through __torch_function__: record it once
    if not captured or captured[-1][3] is not input:
        captured.append((list(input.shape[2:]), grid.detach().double().numpy().copy(),
                         bool(align_corners), input))
    return _grid_sample(input, grid, mode=mode, padding_mode=padding_mode,
                        align_corners=align_corners)


torch.nn.functional.grid_sample = recording_grid_sample


smooth, ct_like = image_makers(rng, 10.0)


def make_inputs():
    obl = affine(rot(2, 25) @ rot(0, -10), (0.8, 1.3, 2.5), (-40.0, 12.5, 7.0))
    lps = affine(np.diag([-1.0, -1.0, 1.0, 1.0]), (0.7, 0.7, 3.0), (120.0, 95.5, -60.0))
    obl2 = affine(rot(2, -30), (0.6, 1.7, 1.0), (10.0, -4.0, 0.0))
    lps2 = affine(np.diag([-1.0, -1.0, 1.0, 1.0]), (0.5, 2.0, 1.0), (3.0, 8.0, 0.0))
    save_input(OUT, inputs, "obl3_f32", smooth((1, 7, 6, 5)), obl)
    save_input(OUT, inputs, "lps3_i16", ct_like((1, 6, 7, 4)), lps)
    save_input(OUT, inputs, "obl3_f32_c2_fortran", smooth((2, 6, 5, 4)), obl, fortran=True)
    save_input(OUT, inputs, "z1_f32", smooth((1, 6, 5, 1)), fixture_affine("z_one.nii.gz"))
    save_input(OUT, inputs, "obl2_f32", smooth((1, 9, 8)), obl2)
    save_input(OUT, inputs, "lps2_i16", ct_like((1, 8, 9)), lps2)
    save_input(OUT, inputs, "fix2_f32_c2", smooth((2, 7, 6)), fixture_affine("two_d_oblique.nii.gz"))


def sampled_map(out_shape):
    """The affine map output voxel -> input voxel grid_sample was really asked for."""
    assert len(captured) == 1, len(captured)
    in_shape, grid, ac, _ = captured.pop()
    sd = len(in_shape)
    g = grid[0].reshape(-1, sd)
    x = np.empty_like(g)
    for i in range(sd):
        gi, n = g[:, sd - 1 - i], in_shape[i]
        x[:, i] = (gi + 1) / 2 * (n - 1) if ac else ((gi + 1) * n - 1) / 2
    o = np.stack(np.meshgrid(*[np.arange(n) for n in out_shape], indexing="ij"))
    o = np.concatenate([o.reshape(sd, -1), np.ones((1, x.shape[0]))]).T
    m, *_ = np.linalg.lstsq(o, x, rcond=None)
    fit = np.eye(4)
    fit[:sd, :sd] = m[:sd].T
    fit[:sd, 3] = m[sd]
    err = float(np.max(np.abs(o @ m - x))) if x.size else 0.0
    frac = np.abs(x - np.floor(x) - 0.5)
    ties = int(np.sum(np.any(frac < 1e-4, axis=1)))
    return fit, err, ties


def add(name, op, args, inp):
    args = json.loads(json.dumps(args))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = dict(args)
        if "affine" in kw:  # MONAI takes an array, not nested lists (its configs use $np.array)
            kw["affine"] = np.asarray(kw["affine"], dtype=np.float64)
        # lazy=true in args: what a Compose eventually makes of it, the eager result
        y = OPS[op](**kw)(meta_tensor(inputs[inp]), lazy=False)
    if isinstance(y, tuple):  # Affine(image_only=False): (image, matrix)
        y = y[0]
    out = y.as_tensor().numpy()
    assert out.dtype == np.float32, (name, out.dtype)
    fit, err, ties = sampled_map(out.shape[1:])
    case = {"name": name, "op": op, "args": args, "input": inp,
            "output": save_output(OUT, name, out),
            "out_affine": np.asarray(y.affine, dtype=np.float64).tolist(),
            "out_to_in": fit.tolist(), "fit_err": err}
    if args.get("mode") == "nearest":
        case["ties"] = ties
    cases.append(case)


MODES = ["nearest", "bilinear", "bicubic"]
PADS = ["zeros", "border", "reflection"]


def affine_cases():
    op = "Affine"
    add("aff2_default_rot", op, {"rotate_params": 0.3}, "obl2_f32")
    add("aff2_all_params_i16", op, {"rotate_params": [0.4], "shear_params": [0.1, -0.2],
                                    "translate_params": [1.5, -0.7],
                                    "scale_params": [1.2, 0.9]}, "lps2_i16")
    add("aff3_all_params", op, {"rotate_params": [0.2, -0.3, 0.5],
                                "shear_params": [0.1, 0.0, -0.1, 0.05, 0.2, 0.0],
                                "translate_params": [0.5, -1.25, 0.75],
                                "scale_params": [1.1, 0.8, 1.3]}, "obl3_f32")
    for ac in [False, True]:
        for m in MODES:
            for p in PADS:
                a = {"rotate_params": 0.35, "scale_params": [0.8, 1.15],
                     "translate_params": [0.6, -0.4], "mode": m, "padding_mode": p,
                     "align_corners": ac}
                add(f"aff2_{m}_{p}_ac{int(ac)}", op, a, "obl2_f32")
                a = {"rotate_params": [0.25, -0.15, 0.4], "scale_params": [0.85, 1.1, 0.9],
                     "translate_params": [0.3, 0.0, -0.6], "mode": m, "padding_mode": p,
                     "align_corners": ac}
                add(f"aff3_{m}_{p}_ac{int(ac)}", op, a,
                    "lps3_i16" if m == "nearest" else "obl3_f32_c2_fortran")
    add("aff2_nearest_i16", op, {"rotate_params": 0.7, "mode": "nearest",
                                 "padding_mode": "zeros"}, "lps2_i16")
    add("aff2_spatial_size", op, {"rotate_params": -0.2, "spatial_size": [11, 6]},
        "fix2_f32_c2")
    add("aff2_spatial_size_keep", op, {"scale_params": [1.3, 0.7], "spatial_size": [-1, 10]},
        "obl2_f32")
    add("aff3_spatial_size_scalar", op, {"rotate_params": [0.1, 0.2, 0.3], "spatial_size": 6},
        "obl3_f32")
    add("aff3_spatial_size_zero", op, {"shear_params": [0.2], "spatial_size": [0, 8, 3],
                                       "align_corners": True}, "obl3_f32")
    add("aff3_scale_scalar", op, {"scale_params": 1.5}, "obl3_f32")
    add("aff3_translate_short", op, {"translate_params": [2.0]}, "lps3_i16")
    add("aff3_rotate_two", op, {"rotate_params": [0.3, -0.2]}, "obl3_f32")
    add("aff3_rotate_order_zyx", op, {"rotate_params": [0.3, -0.2, 0.6], "rotate_order": "zyx"},
        "obl3_f32")
    add("aff3_rotate_order_ZX", op, {"rotate_params": [0.3, -0.2], "rotate_order": "ZX"},
        "obl3_f32")
    add("aff2_identity_i16", op, {}, "lps2_i16")
    add("aff2_identity_ac_i16", op, {"align_corners": True}, "lps2_i16")
    add("aff3_int_translate_zeros", op, {"translate_params": [2, -1, 1], "padding_mode": "zeros",
                                         "mode": "nearest"}, "lps3_i16")
    m2 = [[0.9, -0.3, 1.2], [0.25, 1.1, -0.5], [0.0, 0.0, 1.0]]
    add("aff2_matrix", op, {"affine": m2}, "obl2_f32")
    add("aff2_matrix_f64", op, {"affine": m2, "dtype": "float64"}, "obl2_f32")
    add("aff2_matrix4", op, {"affine": [[0.9, -0.3, 0.2, 1.2], [0.25, 1.1, 0.1, -0.5],
                                        [0.3, 0.0, 2.0, 0.4], [0.0, 0.0, 0.0, 1.0]]},
        "fix2_f32_c2")
    add("aff2_normalized", op, {"affine": [[0.18, -0.05, 0.1], [0.04, 0.22, -0.05],
                                           [0.0, 0.0, 1.0]], "normalized": True}, "obl2_f32")
    m3 = [[0.95, 0.1, -0.05, 0.7], [-0.12, 1.05, 0.2, -0.3], [0.05, -0.1, 0.9, 0.25],
          [0, 0, 0, 1]]
    add("aff3_matrix", op, {"affine": m3, "padding_mode": "zeros"}, "lps3_i16")
    add("aff3_matrix_ac", op, {"affine": m3, "align_corners": True}, "obl3_f32")
    add("aff3_dtype_f64", op, {"rotate_params": [0.2, 0.1, -0.3], "dtype": "float64"},
        "obl3_f32")
    add("aff3_z1", op, {"rotate_params": [0.0, 0.0, 0.4]}, "z1_f32")
    add("aff3_z1_ac", op, {"rotate_params": [0.0, 0.0, 0.4], "align_corners": True}, "z1_f32")
    add("aff3_flags", op, {"rotate_params": [0.1, 0.0, 0.0], "lazy": True, "image_only": True},
        "obl3_f32")


def rotate_cases():
    op = "Rotate"
    add("rot2_default", op, {"angle": 0.5}, "obl2_f32")
    add("rot2_grow", op, {"angle": 0.5, "keep_size": False}, "obl2_f32")
    add("rot2_grow_90", op, {"angle": float(np.pi / 2), "keep_size": False}, "lps2_i16")
    add("rot2_grow_neg", op, {"angle": -2.3, "keep_size": False, "mode": "nearest"}, "lps2_i16")
    for ac in [False, True]:
        for m in MODES:
            for p in PADS:
                a = {"angle": 0.45, "mode": m, "padding_mode": p, "align_corners": ac}
                add(f"rot2_{m}_{p}_ac{int(ac)}", op, a, "fix2_f32_c2")
                a = {"angle": [0.3, -0.25, 0.5], "mode": m, "padding_mode": p,
                     "align_corners": ac, "keep_size": ac}
                add(f"rot3_{m}_{p}_ac{int(ac)}", op, a,
                    "lps3_i16" if m == "nearest" else "obl3_f32")
    add("rot3_scalar", op, {"angle": 0.2}, "obl3_f32")
    add("rot3_grow", op, {"angle": [0.6, 0.1, -0.4], "keep_size": False}, "obl3_f32_c2_fortran")
    add("rot3_order_zyx", op, {"angle": [0.3, 0.2, -0.1], "rotate_order": "zyx",
                               "keep_size": False}, "obl3_f32")
    add("rot3_dtype_f64", op, {"angle": [0.3, 0.2, -0.1], "dtype": "float64"}, "lps3_i16")
    add("rot3_z1", op, {"angle": [0.0, 0.0, 0.7]}, "z1_f32")
    add("rot3_z1_ac", op, {"angle": [0.0, 0.0, 0.7], "align_corners": True}, "z1_f32")
    add("rot3_lazy_flag", op, {"angle": [0.0, 0.3, 0.0], "lazy": True}, "obl3_f32")


def main():
    clear(OUT)
    make_inputs()
    affine_cases()
    rotate_cases()
    write_cases(OUT, "tools/golden/gen_affine.py", versions(), inputs, cases)


if __name__ == "__main__":
    main()
