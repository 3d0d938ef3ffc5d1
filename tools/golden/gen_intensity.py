#!/usr/bin/env python3
"""gen_intensity.py: golden cases for mgc's intensity and channel ops, computed by MONAI.

Runs MONAI's array transforms (ScaleIntensityRange, NormalizeIntensity, EnsureChannelFirst,
CastToType, then ScaleIntensity, ScaleIntensityRangePercentiles, ThresholdIntensity,
ClipIntensityPercentiles, ShiftIntensity, GaussianSmooth, GaussianSharpen,
HistogramNormalize, ForegroundMask; new cases go at the end so the random draws of the
earlier ones, and so their files, stay the same) on small deterministic inputs and writes, under tests/golden/intensity/:
  <case>.in.npy, <case>.out.npy   the input and MONAI's output
  <case>.nii.gz                   the file an EnsureChannelFirst case loads with LoadImage
  cases.json                      {"versions": ..., "cases": [{name, op, args, input,
                                  output, out_dtype, meta, nifti}, ...]}
`args` is exactly the JSON a pipeline file passes: each transform is built from
json.loads of that text, so MONAI sees what mgc's frontend sees (e.g. -57.0 stays a
float). `meta` is the input's metadata as mgc needs it (original_channel_dim, affine),
or null for a plain tensor. Some inputs are saved in Fortran order on purpose: the C
test then feeds strided (x-fastest) tensors to the kernels, as NIfTI loads are.

Usage: python3 tools/golden/gen_intensity.py   (from anywhere; needs monai, torch,
nibabel). Output is deterministic for fixed library versions.
"""
import json
import math
import os
import sys
import warnings

import nibabel as nib
import numpy as np
import torch

import monai
from monai.data import MetaTensor
from monai.transforms import (CastToType, ClipIntensityPercentiles, EnsureChannelFirst,
                              ForegroundMask, GaussianSharpen, GaussianSmooth,
                              HistogramNormalize, LoadImage, NormalizeIntensity,
                              ScaleIntensity, ScaleIntensityRange,
                              ScaleIntensityRangePercentiles, ShiftIntensity,
                              ThresholdIntensity)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "intensity")
TRANSFORMS = {
    "ScaleIntensityRange": ScaleIntensityRange,
    "NormalizeIntensity": NormalizeIntensity,
    "EnsureChannelFirst": EnsureChannelFirst,
    "CastToType": CastToType,
    "ScaleIntensity": ScaleIntensity,
    "ScaleIntensityRangePercentiles": ScaleIntensityRangePercentiles,
    "ThresholdIntensity": ThresholdIntensity,
    "ClipIntensityPercentiles": ClipIntensityPercentiles,
    "ShiftIntensity": ShiftIntensity,
    "GaussianSmooth": GaussianSmooth,
    "GaussianSharpen": GaussianSharpen,
    "HistogramNormalize": HistogramNormalize,
    "ForegroundMask": ForegroundMask,
}

rng = np.random.default_rng(20240611)
cases = []
errors = []


def ct_like(shape, dtype=np.int16):
    """CT-ish values: air, soft tissue and bone, with some exact zeros."""
    v = rng.choice([-1000, -80, 0, 40, 60, 300, 1200], size=shape)
    v = v + rng.integers(-30, 30, size=shape)
    v[rng.random(shape) < 0.1] = 0
    return v.astype(dtype)


def normal(shape, mean=0.0, std=1.0, dtype=np.float32):
    return rng.normal(mean, std, size=shape).astype(dtype)


def with_zeros(x, frac=0.3):
    x = x.copy()
    x[rng.random(x.shape) < frac] = 0
    return x


def to_numpy(out):
    if isinstance(out, torch.Tensor):
        out = out.as_tensor() if isinstance(out, MetaTensor) else out
        return out.detach().cpu().numpy()
    return np.asarray(out)


def channel_dim_json(v):
    if v is None:
        return None
    if isinstance(v, str) or (isinstance(v, float) and math.isnan(v)):
        return "no_channel"
    return int(v)


def meta_json(channel_dim):
    """mgc's view of a MetaTensor's meta: {} when original_channel_dim is not set."""
    return {} if channel_dim is None else {"original_channel_dim": channel_dim_json(channel_dim)}


def add(name, op, args, x, meta=None, fortran=False, nifti=None, plain=False):
    """Runs MONAI's `op` with `args` (as JSON would give them) on x, stores the case."""
    args_json = json.loads(json.dumps(args))
    inp = np.asfortranarray(x) if fortran else np.ascontiguousarray(x)
    np.save(os.path.join(OUT, f"{name}.in.npy"), inp)
    data = torch.from_numpy(np.ascontiguousarray(x).copy())  # MONAI may write in place
    if plain:
        img = data
    else:
        img = MetaTensor(data)
        if meta is not None:
            img.meta["original_channel_dim"] = (float("nan") if meta == "no_channel"
                                                else meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = TRANSFORMS[op](**args_json)(img)
    y = to_numpy(out)
    np.save(os.path.join(OUT, f"{name}.out.npy"), y)
    case = {"name": name, "op": op, "args": args_json, "input": f"{name}.in.npy",
            "output": f"{name}.out.npy", "out_dtype": str(y.dtype),
            "meta": None if plain else meta_json(meta)}
    if op == "EnsureChannelFirst":
        case["out_meta"] = meta_json(out.meta.get("original_channel_dim"))
    if isinstance(out, MetaTensor) and "clipping_values" in out.meta:
        case["out_meta"] = {"clipping_values": [list(v) for v in out.meta["clipping_values"]]}
    if nifti:
        case["nifti"] = nifti
    cases.append(case)


def add_error(name, op, args, x, needle):
    """A case MONAI refuses: its error text, and what mgc's must contain."""
    np.save(os.path.join(OUT, f"{name}.in.npy"), x)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            TRANSFORMS[op](**json.loads(json.dumps(args)))(MetaTensor(torch.from_numpy(x)))
    except Exception as ex:  # noqa: BLE001 - any of MONAI's refusals is the golden
        errors.append({"name": name, "op": op, "args": args, "input": f"{name}.in.npy",
                       "monai_error": f"{type(ex).__name__}: {ex}".splitlines()[0],
                       "needle": needle})
        return
    raise AssertionError(f"{name}: MONAI ran it")


def add_nifti(name, data, affine, args):
    """EnsureChannelFirst on what monai LoadImage reads from a NIfTI file we write."""
    fname = f"{name}.nii.gz"
    path = os.path.join(OUT, fname)
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    nib.save(img, path)
    loaded = LoadImage()(path)  # float32 MetaTensor, original_channel_dim from the reader
    x = to_numpy(loaded)
    np.save(os.path.join(OUT, f"{name}.in.npy"), x)
    # before the call: MONAI writes channel_dim into the input's meta dict
    in_meta = {**meta_json(loaded.meta["original_channel_dim"]),
               "affine": loaded.affine.tolist()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = EnsureChannelFirst(**json.loads(json.dumps(args)))(loaded)
    y = to_numpy(out)
    np.save(os.path.join(OUT, f"{name}.out.npy"), y)
    cases.append({"name": name, "op": "EnsureChannelFirst", "args": args,
                  "input": f"{name}.in.npy", "output": f"{name}.out.npy",
                  "out_dtype": str(y.dtype),
                  "meta": in_meta,
                  "out_meta": meta_json(out.meta["original_channel_dim"]),
                  "nifti": fname})


def scale_intensity_range():
    op = "ScaleIntensityRange"
    spleen = {"a_min": -57.0, "a_max": 164.0, "b_min": 0.0, "b_max": 1.0}
    add("sir_i16_3d_clip", op, {**spleen, "clip": True}, ct_like((1, 6, 5, 4)))
    add("sir_i16_3d_noclip", op, {**spleen, "clip": False}, ct_like((1, 6, 5, 4)),
        fortran=True)
    add("sir_f32_2d_bnone", op, {"a_min": -1.5, "a_max": 2.25},
        normal((1, 8, 7), 0.5, 2.0))
    add("sir_u8_2d_3ch_clip_lo", op, {"a_min": 10.0, "a_max": 200.0, "b_min": 0.0,
                                      "clip": True},
        rng.integers(0, 256, size=(3, 8, 7)).astype(np.uint8))
    add("sir_f32_3d_clip_hi", op, {"a_min": 0.0, "a_max": 100.0, "b_max": 0.5,
                                   "clip": True},
        normal((2, 5, 4, 3), 40.0, 60.0), fortran=True)
    add("sir_f32_eq", op, {"a_min": 3.0, "a_max": 3.0, "b_min": -1.0, "b_max": 1.0,
                           "clip": True},
        normal((1, 6, 5), 3.0, 2.0))
    add("sir_i16_eq_bnone", op, {"a_min": -57.0, "a_max": -57.0}, ct_like((1, 5, 4, 3)))
    add("sir_f64_dtype_none", op, {**spleen, "clip": True, "dtype": None},
        normal((1, 5, 4, 3), 50.0, 100.0, np.float64))
    add("sir_f32_dtype_i16", op, {"a_min": -100.0, "a_max": 100.0, "b_min": -1000.0,
                                  "b_max": 1000.0, "dtype": "int16"},
        normal((1, 7, 6), 0.0, 60.0))
    add("sir_u8_dtype_f64", op, {"a_min": 0.0, "a_max": 255.0, "b_min": -1.0,
                                 "b_max": 1.0, "dtype": "float64"},
        rng.integers(0, 256, size=(1, 9, 8)).astype(np.uint8))
    add("sir_f32_bmin_gt_bmax", op, {"a_min": -1.0, "a_max": 1.0, "b_min": 1.0,
                                     "b_max": 0.0, "clip": True},
        normal((1, 6, 6), 0.0, 1.0))
    add("sir_f32_swin_3d_2ch", op, {"a_min": -175.0, "a_max": 250.0, "b_min": 0.0,
                                    "b_max": 1.0, "clip": True},
        with_zeros(normal((2, 6, 5, 4), 0.0, 300.0)))
    add("sir_i16_dtype_none", op, {"a_min": -1000.0, "a_max": 1000.0, "b_min": -100.0,
                                   "b_max": 100.0, "dtype": None}, ct_like((1, 6, 5)))


def normalize_intensity():
    op = "NormalizeIntensity"
    add("ni_f32_3d_default", op, {}, normal((1, 6, 5, 4), 3.0, 2.0))
    add("ni_i16_3d_default", op, {}, ct_like((1, 6, 5, 4)), fortran=True)
    add("ni_u8_2d_default", op, {}, rng.integers(0, 256, size=(1, 9, 8)).astype(np.uint8))
    add("ni_f32_nonzero", op, {"nonzero": True}, with_zeros(normal((1, 6, 5, 4), 2.0, 1.5)))
    add("ni_f32_nonzero_cw_3ch", op, {"nonzero": True, "channel_wise": True},
        with_zeros(normal((3, 5, 4, 3), 1.0, 2.0), 0.4), fortran=True)
    add("ni_i16_cw_2ch", op, {"channel_wise": True}, ct_like((2, 6, 5, 4)))
    add("ni_f32_cw_sub_div", op, {"subtrahend": [1.0, -2.0], "divisor": [2.0, 0.5],
                                  "channel_wise": True},
        normal((2, 5, 4, 3), 0.0, 3.0))
    add("ni_f32_sub_div_scalar", op, {"subtrahend": 10.0, "divisor": 2.0},
        normal((1, 6, 5), 10.0, 4.0))
    add("ni_f32_div_zero", op, {"subtrahend": 0.5, "divisor": 0.0},
        normal((1, 6, 5), 0.0, 1.0))
    add("ni_f32_sub_only_cw", op, {"subtrahend": [0.25, 0.75], "channel_wise": True},
        normal((2, 6, 5), 1.0, 2.0))
    add("ni_f32_div_only", op, {"divisor": 4.0}, normal((1, 5, 4, 3), 8.0, 3.0))
    add("ni_f32_constant", op, {}, np.full((1, 5, 4, 3), 2.5, np.float32))
    add("ni_f32_constant_nonzero", op, {"nonzero": True},
        with_zeros(np.full((1, 6, 5), -4.0, np.float32)))
    add("ni_f32_all_zero_nonzero", op, {"nonzero": True}, np.zeros((1, 4, 3, 2), np.float32))
    x = with_zeros(normal((3, 5, 4, 3), 5.0, 2.0), 0.3)
    x[1] = 0
    add("ni_f32_cw_nonzero_empty_channel", op, {"nonzero": True, "channel_wise": True}, x)
    add("ni_f64_dtype_none", op, {"dtype": None}, normal((1, 6, 5, 4), -3.0, 7.0, np.float64))
    add("ni_f64_cw_dtype_none", op, {"channel_wise": True, "dtype": None},
        normal((2, 5, 4, 3), 100.0, 30.0, np.float64))
    add("ni_i16_dtype_none", op, {"dtype": None}, ct_like((1, 6, 5, 4)))
    add("ni_f32_dtype_f64", op, {"dtype": "float64"}, normal((1, 7, 6), 1.0, 0.1))
    add("ni_u8_cw_nonzero_2d", op, {"nonzero": True, "channel_wise": True},
        with_zeros(rng.integers(1, 256, size=(2, 9, 8)).astype(np.uint8)))


def ensure_channel_first():
    affine = np.array([[-1.5, 0, 0, 20.0], [0, 2.0, 0, -10.0], [0, 0, 3.0, 5.0], [0, 0, 0, 1]])
    add_nifti("ecf_nifti_3d", ct_like((6, 5, 4)), affine, {})
    add_nifti("ecf_nifti_4d", ct_like((5, 4, 3, 2)), affine, {})
    add_nifti("ecf_nifti_2d", ct_like((7, 6)), affine, {})
    add_nifti("ecf_nifti_4d_no_channel", ct_like((4, 3, 2, 3)), affine,
              {"channel_dim": "no_channel"})
    add("ecf_plain_channel_last", "EnsureChannelFirst", {"channel_dim": -1},
        normal((6, 5, 3)), plain=True)
    add("ecf_plain_no_channel", "EnsureChannelFirst", {"channel_dim": "no_channel"},
        normal((6, 5)), plain=True)
    add("ecf_meta_channel_1", "EnsureChannelFirst", {}, normal((4, 2, 3)), meta=1)
    add("ecf_meta_override", "EnsureChannelFirst", {"channel_dim": 2},
        normal((4, 3, 2)), meta="no_channel", fortran=True)


def cast_to_type():
    op = "CastToType"
    frac = normal((1, 6, 5, 4), 0.0, 50.0)
    add("cast_f32_to_i16", op, {"dtype": "int16"}, frac)
    add("cast_f32_to_u8", op, {"dtype": "uint8"}, np.clip(normal((1, 8, 7), 100.0, 40.0), 0, 250))
    add("cast_f32_to_i32_fortran", op, {"dtype": "int32"}, frac, fortran=True)
    add("cast_i16_to_f32", op, {}, ct_like((1, 6, 5, 4)))
    add("cast_f64_to_f32", op, {"dtype": "float32"}, normal((1, 7, 6), 0.0, 1e3, np.float64))
    add("cast_f32_to_f64", op, {"dtype": "float64"}, normal((2, 4, 3, 2)))
    add("cast_u8_to_i64", op, {"dtype": "int64"},
        rng.integers(0, 256, size=(1, 5, 4)).astype(np.uint8))
    add("cast_i16_to_u16", op, {"dtype": "uint16"},
        rng.integers(0, 3000, size=(1, 5, 4)).astype(np.int16))
    add("cast_f32_to_i8", op, {"dtype": "int8"}, np.clip(normal((1, 6, 5), 0.0, 40.0), -120, 120))
    add("cast_f32_same", op, {"dtype": "float32"}, normal((1, 4, 3)))


def scale_intensity():
    op = "ScaleIntensity"
    add("si_f32_3d_default", op, {}, normal((1, 6, 5, 4), 3.0, 2.0))
    add("si_i16_3d_default", op, {}, ct_like((1, 6, 5, 4)), fortran=True)
    add("si_u8_2d_range", op, {"minv": -1.0, "maxv": 1.0},
        rng.integers(0, 256, size=(1, 9, 8)).astype(np.uint8))
    add("si_f32_cw_3ch", op, {"minv": 10.0, "maxv": 20.0, "channel_wise": True},
        normal((3, 5, 4, 3), 1.0, 4.0), fortran=True)
    add("si_i16_cw_2d", op, {"channel_wise": True}, ct_like((2, 7, 6)))
    add("si_f32_minv_only", op, {"minv": 2.0, "maxv": None}, normal((1, 6, 5), 0.0, 3.0))
    add("si_f32_factor", op, {"minv": None, "maxv": None, "factor": 0.5},
        normal((1, 5, 4, 3), 1.0, 2.0))
    add("si_i16_factor_dtype_none", op, {"minv": None, "maxv": None, "factor": -0.3,
                                         "dtype": None}, ct_like((1, 6, 5)))
    add("si_f32_no_op", op, {"minv": None, "maxv": None}, normal((1, 4, 3)))
    add("si_f32_constant", op, {"minv": 3.0, "maxv": 5.0}, np.full((1, 5, 4, 3), 2.5, np.float32))
    add("si_f32_all_zero", op, {}, np.zeros((1, 4, 3, 2), np.float32))
    add("si_i16_dtype_none", op, {"minv": -100.0, "maxv": 100.0, "dtype": None},
        ct_like((1, 6, 5, 4)))
    add("si_f64_dtype_none", op, {"dtype": None}, normal((2, 5, 4), 0.0, 10.0, np.float64))
    add("si_f32_tiny", op, {"minv": 0.0, "maxv": 255.0, "dtype": "uint8"},
        normal((1, 1, 2), 0.0, 1.0))
    x = normal((3, 4, 3, 2), 5.0, 1.0)
    x[1] = 7.0
    add("si_f32_cw_constant_channel", op, {"channel_wise": True}, x)


def scale_intensity_range_percentiles():
    op = "ScaleIntensityRangePercentiles"
    add("sirp_f32_3d", op, {"lower": 5.0, "upper": 95.0, "b_min": 0.0, "b_max": 1.0},
        normal((1, 6, 5, 4), 40.0, 60.0))
    add("sirp_f32_3d_clip_fortran", op, {"lower": 10.0, "upper": 90.0, "b_min": -1.0,
                                         "b_max": 1.0, "clip": True},
        normal((1, 7, 5, 3), 0.0, 100.0), fortran=True)
    add("sirp_f32_2d_relative", op, {"lower": 12.5, "upper": 87.3, "b_min": 0.0,
                                     "b_max": 200.0, "relative": True, "clip": True},
        normal((1, 9, 8), 3.0, 2.0))
    add("sirp_f32_cw_3ch", op, {"lower": 1.0, "upper": 99.0, "b_min": 0.0, "b_max": 1.0,
                                "channel_wise": True},
        normal((3, 5, 4, 3), 1.0, 4.0))
    add("sirp_f32_cw_2d_clip", op, {"lower": 0.0, "upper": 100.0, "b_min": -5.0,
                                    "b_max": 5.0, "channel_wise": True, "clip": True},
        with_zeros(normal((2, 8, 7), 0.0, 30.0)))
    add("sirp_f32_bnone", op, {"lower": 20.0, "upper": 80.0, "b_min": None, "b_max": None},
        normal((1, 6, 5), 0.0, 1.0))
    add("sirp_f32_constant", op, {"lower": 5.0, "upper": 95.0, "b_min": 0.0, "b_max": 1.0,
                                  "clip": True}, np.full((1, 4, 3, 2), 3.5, np.float32))
    add("sirp_f32_all_zero", op, {"lower": 5.0, "upper": 95.0, "b_min": 0.0, "b_max": 1.0},
        np.zeros((1, 5, 4), np.float32))
    add("sirp_f64_dtype_none", op, {"lower": 2.0, "upper": 98.0, "b_min": 0.0, "b_max": 1.0,
                                    "dtype": None}, normal((1, 6, 5, 4), 100.0, 30.0, np.float64))
    add("sirp_f32_dtype_i16", op, {"lower": 5.0, "upper": 95.0, "b_min": -1000.0,
                                   "b_max": 1000.0, "dtype": "int16"},
        normal((1, 7, 6), 0.0, 60.0))
    add("sirp_f32_tiny", op, {"lower": 25.0, "upper": 75.0, "b_min": 0.0, "b_max": 1.0},
        normal((1, 1, 2), 0.0, 1.0))
    add("sirp_f32_ct_spleen", op, {"lower": 0.5, "upper": 99.5, "b_min": 0.0, "b_max": 1.0,
                                   "clip": True}, ct_like((1, 8, 7, 6)).astype(np.float32))


def threshold_intensity():
    op = "ThresholdIntensity"
    add("thr_f32_3d_above", op, {"threshold": 0.5}, normal((1, 6, 5, 4)))
    add("thr_f32_2d_below_cval", op, {"threshold": 0.1, "above": False, "cval": -7.5},
        normal((2, 8, 7), 0.0, 0.2), fortran=True)
    add("thr_i16_3d_above", op, {"threshold": 40.0, "cval": 1.0}, ct_like((1, 6, 5, 4)))
    add("thr_i16_cval_trunc", op, {"threshold": -80.5, "above": False, "cval": -2.7},
        ct_like((1, 6, 5)))
    add("thr_u8_2d", op, {"threshold": 127.5}, rng.integers(0, 256, size=(3, 6, 5)).astype(np.uint8))
    add("thr_f64_3d", op, {"threshold": 0.1, "above": True, "cval": 0.1},
        normal((1, 5, 4, 3), 0.1, 0.05, np.float64))
    x = np.full((1, 4, 3), 0.1, np.float32)
    add("thr_f32_equal_rounded", op, {"threshold": 0.1, "above": True, "cval": 9.0}, x)
    add("thr_f32_all_zero", op, {"threshold": 0.0, "above": False, "cval": 1.0},
        np.zeros((1, 3, 2, 2), np.float32))


def clip_intensity_percentiles():
    op = "ClipIntensityPercentiles"
    add("cip_f32_3d_hard", op, {"lower": 5.0, "upper": 95.0}, normal((1, 6, 5, 4), 0.0, 10.0))
    add("cip_f32_2d_hard_upper_only", op, {"lower": None, "upper": 90.0},
        normal((1, 9, 8)), fortran=True)
    add("cip_f32_2d_hard_lower_only", op, {"lower": 25.0, "upper": None},
        normal((1, 9, 8)))
    add("cip_f32_cw_hard", op, {"lower": 10.0, "upper": 90.0, "channel_wise": True},
        normal((3, 5, 4, 3), 2.0, 3.0))
    add("cip_f32_soft", op, {"lower": 10.0, "upper": 90.0, "sharpness_factor": 10.0},
        normal((1, 6, 5, 4), 0.0, 1.0))
    add("cip_f32_soft_lower_none", op, {"lower": None, "upper": 80.0, "sharpness_factor": 2.0},
        normal((1, 7, 6), 1.0, 2.0))
    add("cip_f32_soft_cw", op, {"lower": 5.0, "upper": 95.0, "sharpness_factor": 0.5,
                                "channel_wise": True}, normal((2, 6, 5), 0.0, 3.0))
    add("cip_f64_hard", op, {"lower": 1.0, "upper": 99.0}, normal((1, 5, 4, 3), 5.0, 2.0, np.float64))
    add("cip_f64_soft_dtype_none", op, {"lower": 20.0, "upper": 70.0, "sharpness_factor": 3.0,
                                        "dtype": None},
        normal((1, 5, 4, 3), 0.0, 1.0, np.float64))
    add("cip_f64_soft_f32", op, {"lower": 20.0, "upper": 70.0, "sharpness_factor": 3.0},
        normal((1, 6, 5), 0.0, 1.0, np.float64))
    add("cip_f32_constant", op, {"lower": 5.0, "upper": 95.0},
        np.full((1, 4, 3, 2), -2.0, np.float32))
    add("cip_f32_all_zero_soft", op, {"lower": 5.0, "upper": 95.0, "sharpness_factor": 1.0},
        np.zeros((1, 4, 3), np.float32))
    add("cip_f32_tiny", op, {"lower": 30.0, "upper": 70.0}, normal((1, 1, 3), 0.0, 1.0))


def shift_intensity():
    op = "ShiftIntensity"
    add("shift_f32_3d", op, {"offset": 1.25}, normal((1, 6, 5, 4)))
    add("shift_f32_2d_fortran", op, {"offset": -0.1}, normal((2, 8, 7)), fortran=True)
    add("shift_i16_3d", op, {"offset": 100.0}, ct_like((1, 6, 5, 4)))
    add("shift_i16_frac", op, {"offset": -2.5}, ct_like((1, 6, 5)))
    add("shift_u8_safe", op, {"offset": 10.0, "safe": True},
        rng.integers(0, 256, size=(1, 7, 6)).astype(np.uint8))
    add("shift_f64", op, {"offset": 0.1}, normal((1, 5, 4, 3), 0.0, 1.0, np.float64))
    add("shift_f32_all_zero", op, {"offset": 0.0}, np.zeros((1, 3, 2), np.float32))


def gaussian_smooth():
    op = "GaussianSmooth"
    add("gs_f32_3d_default", op, {}, normal((1, 8, 7, 6)))
    add("gs_f32_2d_sigma_list", op, {"sigma": [0.7, 2.0]}, normal((2, 12, 9)), fortran=True)
    add("gs_i16_3d_sigma2", op, {"sigma": 2.0}, ct_like((1, 9, 8, 7)))
    add("gs_f32_3d_sampled", op, {"sigma": [1.0, 0.5, 1.5], "approx": "sampled"},
        normal((1, 7, 6, 5)))
    add("gs_f32_2d_scalespace", op, {"sigma": 1.3, "approx": "scalespace"},
        normal((1, 10, 9)))
    add("gs_f32_2d_scalespace_big", op, {"sigma": 2.5, "approx": "scalespace"},
        normal((1, 12, 11)))
    add("gs_u8_2d_3ch", op, {"sigma": 0.8}, rng.integers(0, 256, size=(3, 8, 7)).astype(np.uint8))
    add("gs_f64_3d", op, {"sigma": 1.0}, normal((1, 6, 5, 4), 0.0, 1.0, np.float64))
    add("gs_f32_constant", op, {"sigma": 1.0}, np.full((1, 6, 5, 4), 2.0, np.float32))
    add("gs_f32_tiny", op, {"sigma": 1.0}, normal((1, 1, 2)))
    add("gs_f32_all_zero", op, {"sigma": 3.0}, np.zeros((1, 4, 3, 2), np.float32))


def gaussian_sharpen():
    op = "GaussianSharpen"
    add("gsh_f32_3d_default", op, {}, normal((1, 8, 7, 6)))
    add("gsh_f32_2d_lists", op, {"sigma1": [1.0, 2.0], "sigma2": [0.5, 0.5], "alpha": 5.0},
        normal((2, 10, 9)), fortran=True)
    add("gsh_i16_2d", op, {"sigma1": 1.5, "sigma2": 0.7, "alpha": 3.0}, ct_like((1, 9, 8)))
    add("gsh_f32_3d_sampled", op, {"sigma1": 1.0, "sigma2": 0.5, "alpha": 2.0,
                                   "approx": "sampled"}, normal((1, 6, 5, 4)))
    add("gsh_f32_2d_scalespace", op, {"sigma1": 1.2, "sigma2": 0.6, "alpha": 4.0,
                                      "approx": "scalespace"}, normal((1, 8, 7)))
    add("gsh_f32_tiny", op, {"sigma1": 1.0, "sigma2": 1.0}, normal((1, 2, 1)))


def histogram_normalize():
    op = "HistogramNormalize"
    add("hn_f32_3d_default", op, {}, normal((1, 6, 5, 4), 0.0, 1.0))
    add("hn_f32_2d_bins", op, {"num_bins": 10, "min": -1, "max": 1},
        normal((2, 8, 7), 3.0, 2.0), fortran=True)
    add("hn_u8_2d", op, {}, rng.integers(0, 256, size=(1, 9, 8)).astype(np.uint8))
    add("hn_i16_3d", op, {"num_bins": 64}, ct_like((1, 6, 5, 4)))
    add("hn_i16_dtype_none", op, {"dtype": None, "max": 1000}, ct_like((1, 6, 5)))
    add("hn_f64_3d", op, {"num_bins": 32}, normal((1, 5, 4, 3), 10.0, 5.0, np.float64))
    add("hn_f32_constant", op, {}, np.full((1, 4, 3, 2), 1.5, np.float32))
    add("hn_f32_all_zero", op, {"num_bins": 8}, np.zeros((1, 4, 3), np.float32))
    add("hn_f32_tiny", op, {"num_bins": 4}, normal((1, 1, 3)))
    add("hn_f32_one_bin", op, {"num_bins": 1}, normal((1, 5, 4)))
    x = normal((1, 7, 6), 0.0, 1.0)
    x[0, :3] = x[0, 0, 0]
    add("hn_f32_ties", op, {"num_bins": 16}, x)


def foreground_mask():
    op = "ForegroundMask"
    add("fm_f32_2d_otsu", op, {}, normal((1, 9, 8), 0.5, 0.3))
    add("fm_f32_3d_otsu_bimodal", op, {},
        np.concatenate([normal((1, 3, 5, 4), 0.2, 0.05), normal((1, 3, 5, 4), 0.8, 0.05)], 1),
        fortran=True)
    add("fm_u8_rgb_otsu", op, {}, rng.integers(0, 256, size=(3, 8, 7)).astype(np.uint8))
    add("fm_u8_rgb_invert", op, {"invert": True},
        rng.integers(0, 256, size=(3, 8, 7)).astype(np.uint8))
    add("fm_i16_3d_otsu", op, {}, ct_like((1, 6, 5, 4)))
    add("fm_f32_mean", op, {"threshold": "mean"}, normal((1, 9, 8), 0.5, 0.3))
    add("fm_i16_mean", op, {"threshold": "mean"}, ct_like((1, 7, 6)))
    add("fm_f32_number", op, {"threshold": 0.1}, normal((2, 6, 5), 0.1, 0.2))
    add("fm_i16_number_invert", op, {"threshold": 50, "invert": True}, ct_like((1, 6, 5, 4)))
    add("fm_f32_invert_mean", op, {"threshold": "mean", "invert": True},
        normal((1, 6, 5), 0.5, 0.2))
    add("fm_f32_4ch", op, {"threshold": 0.0}, normal((4, 5, 4)))
    add("fm_f32_4ch_otsu", op, {}, normal((4, 5, 4), 0.5, 0.3))
    add("fm_f32_constant", op, {}, np.full((1, 4, 3, 2), 0.7, np.float32))
    add("fm_f32_all_zero", op, {}, np.zeros((1, 4, 3), np.float32))
    add("fm_f64_otsu", op, {}, normal((1, 7, 6), 0.0, 1.0, np.float64))


def foreground_mask_methods():
    op = "ForegroundMask"
    for m in ("yen", "isodata", "triangle"):
        add(f"fm_f32_2d_{m}", op, {"threshold": m}, normal((1, 9, 8), 0.5, 0.3))
        add(f"fm_f32_3d_{m}_bimodal", op, {"threshold": m},
            np.concatenate([normal((1, 3, 5, 4), 0.2, 0.05), normal((1, 4, 5, 4), 0.8, 0.1)], 1),
            fortran=True)
        add(f"fm_u8_rgb_{m}", op, {"threshold": m},
            rng.integers(0, 256, size=(3, 8, 7)).astype(np.uint8))
        add(f"fm_i16_3d_{m}", op, {"threshold": m}, ct_like((1, 6, 5, 4)))
        add(f"fm_f64_{m}_invert", op, {"threshold": m, "invert": True},
            normal((1, 7, 6), 0.0, 1.0, np.float64))
        add(f"fm_u8_{m}_constant", op, {"threshold": m}, np.full((1, 4, 3), 9, np.uint8))
    x = normal((1, 12, 10), 0.3, 0.1)
    x[0, :2] = 0.9  # a long right tail: triangle flips
    add("fm_f32_triangle_flip", op, {"threshold": "triangle"}, x)
    add("fm_f32_triangle_skewed", op, {"threshold": "triangle"},
        rng.exponential(1.0, size=(1, 12, 10)).astype(np.float32))


def foreground_mask_hsv():
    op = "ForegroundMask"
    rgb8 = lambda: rng.integers(0, 256, size=(3, 9, 8)).astype(np.uint8)
    add("fm_hsv_u8_number", op, {"threshold": None, "hsv_threshold": 0.9}, rgb8())
    add("fm_hsv_u8_otsu_both", op, {"threshold": "otsu", "hsv_threshold": "otsu"}, rgb8())
    add("fm_hsv_u8_invert", op, {"threshold": 200, "hsv_threshold": "mean", "invert": True},
        rgb8())
    add("fm_hsv_f32", op, {"threshold": None, "hsv_threshold": "yen"},
        rng.random((3, 8, 7)).astype(np.float32), fortran=True)
    add("fm_hsv_f64_3d", op, {"threshold": 0.9, "hsv_threshold": 0.85},
        rng.random((3, 5, 4, 3)))
    add("fm_hsv_i16", op, {"threshold": None, "hsv_threshold": "triangle"},
        rng.integers(-2000, 30000, size=(3, 7, 6)).astype(np.int16))
    x = rgb8()
    x[:, :3] = 128  # grey: delta == 0
    x[0, 5:] = x[1, 5:]  # ties between channels
    add("fm_hsv_u8_grey_ties", op, {"threshold": None, "hsv_threshold": "isodata"}, x)


def foreground_mask_li_minimum():
    op = "ForegroundMask"
    bimodal = lambda shape: np.concatenate(
        [normal((1, shape[0]) + shape[1:], 0.2, 0.05),
         normal((1, shape[0] + 1) + shape[1:], 0.8, 0.1)], 1)
    for m in ("li", "minimum"):
        add(f"fm_f32_3d_{m}_bimodal", op, {"threshold": m}, bimodal((3, 5, 4)), fortran=True)
        add(f"fm_f32_2d_{m}_bimodal", op, {"threshold": m}, bimodal((5, 8)))
        add(f"fm_i16_3d_{m}", op, {"threshold": m}, ct_like((1, 6, 5, 4)))
        add(f"fm_f64_{m}_invert", op, {"threshold": m, "invert": True},
            bimodal((4, 6)).astype(np.float64))
        x = np.concatenate([rng.integers(20, 60, size=(3, 4, 7)),
                            rng.integers(150, 230, size=(3, 5, 7))], 1).astype(np.uint8)
        add(f"fm_u8_rgb_{m}", op, {"threshold": m}, x)
        add(f"fm_u8_{m}_hsv", op, {"threshold": None, "hsv_threshold": m},
            rng.integers(0, 256, size=(3, 9, 8)).astype(np.uint8))
    add("fm_f32_li_normal", op, {"threshold": "li"}, normal((1, 9, 8), 0.5, 0.3))
    add("fm_u8_rgb_li_uniform", op, {"threshold": "LI"},
        rng.integers(0, 256, size=(3, 8, 7)).astype(np.uint8))
    add("fm_u8_li_constant", op, {"threshold": "li"}, np.full((1, 4, 3), 9, np.uint8))
    add("fm_i8_li_wraps", op, {"threshold": "li"},  # x - min wraps in int8, as in skimage
        rng.integers(-128, 128, size=(1, 8, 7)).astype(np.int8))
    x = bimodal((4, 5))
    x[0, 0, :3] = [np.nan, np.inf, -np.inf]
    add("fm_f32_li_nan_inf", op, {"threshold": "li"}, x)
    add("fm_f32_li_all_nan", op, {"threshold": "li"}, np.full((1, 3, 2), np.nan, np.float32))
    add("fm_f32_li_infs", op, {"threshold": "li"},
        np.array([[[np.inf, -np.inf], [np.inf, 1.0]]], np.float32)[:, :, :1].repeat(2, 2))
    add("fm_f32_minimum_trimodal", op, {"threshold": "Minimum"},
        np.concatenate([bimodal((3, 6)), normal((1, 2, 6), 1.5, 0.05)], 1))


def foreground_mask_errors():
    """Images and arguments MONAI refuses: the case keeps MONAI's error and the text
    mgc's error must contain."""
    op = "ForegroundMask"
    x = normal((1, 6, 5), 0.5, 0.2)
    for m in ("local", "niblack", "sauvola", "multiotsu"):
        add_error(f"fm_err_{m}", op, {"threshold": m}, x,
                  f'threshold "{m}" cannot be run by MONAI')
    add_error("fm_err_bogus", op, {"threshold": "bogus"}, x,
              'threshold "bogus" is not a skimage.filters threshold method')
    add_error("fm_err_minimum_constant", op, {"threshold": "minimum"},
              np.full((1, 4, 3), 7, np.uint8), "threshold_minimum finds 0 maxima")
    add_error("fm_err_minimum_one_peak", op, {"threshold": "minimum"},  # counts 1 3 5 3 1
              np.repeat(np.arange(10, 15), [1, 3, 5, 3, 1]).astype(np.uint8).reshape(1, 1, 13),
              "threshold_minimum finds 1 maxima")
    add_error("fm_err_minimum_many_modes", op, {"threshold": "minimum"}, ct_like((1, 7, 6, 5)),
              "maxima in the smoothed histogram, not 2")
    add_error("fm_err_li_one_finite", op, {"threshold": "li"},
              np.array([[[5.0, 5.0, np.inf]]], np.float32), "finite values of this image "
              "are all equal")


def clip_intensity_percentiles_values():
    """return_clipping_values: MONAI's meta["clipping_values"], one (lower, upper) per
    channel group, None for a bound soft clipping was not given."""
    op = "ClipIntensityPercentiles"
    ret = {"return_clipping_values": True}
    add("cip_values_hard", op, {"lower": 5.0, "upper": 95.0, **ret},
        normal((1, 6, 5, 4), 0.0, 10.0))
    add("cip_values_hard_upper_only", op, {"lower": None, "upper": 90.0, **ret},
        normal((1, 9, 8)))
    add("cip_values_cw", op, {"lower": 10.0, "upper": 90.0, "channel_wise": True, **ret},
        normal((3, 5, 4, 3), 2.0, 3.0), fortran=True)
    add("cip_values_soft_lower_none", op, {"lower": None, "upper": 80.0,
                                           "sharpness_factor": 2.0, **ret},
        normal((1, 7, 6), 1.0, 2.0))
    add("cip_values_soft_cw_f64", op, {"lower": 5.0, "upper": None, "sharpness_factor": 0.5,
                                       "channel_wise": True, **ret},
        normal((2, 6, 5), 0.0, 3.0, np.float64))


def percentiles_big():
    """MONAI's percentile() past 1e6 voxels, where it switches from torch.quantile to
    np.percentile: on a float32 image the C test rebuilds from its formula (too big to
    store), x[i] = float32((i * 7919) % 1000003) / 7, for n = 1,100,000."""
    from monai.transforms.utils_pytorch_numpy_unification import percentile
    n = 1_100_000
    i = np.arange(n, dtype=np.int64)
    x = ((i * 7919) % 1000003).astype(np.float32) / np.float32(7)
    qs = [0.0, 0.5, 10.0, 12.345, 33.3, 50.0, 66.6, 87.123, 99.5, 100.0]
    vals = [float(percentile(torch.from_numpy(x), q)) for q in qs]
    return {"n": n, "formula": "float32((i * 7919) % 1000003) / 7", "q": qs, "values": vals}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith((".npy", ".nii.gz")) or f == "cases.json":
            os.remove(os.path.join(OUT, f))
    scale_intensity_range()
    normalize_intensity()
    ensure_channel_first()
    cast_to_type()
    scale_intensity()
    scale_intensity_range_percentiles()
    threshold_intensity()
    clip_intensity_percentiles()
    shift_intensity()
    gaussian_smooth()
    gaussian_sharpen()
    histogram_normalize()
    foreground_mask()
    foreground_mask_methods()
    foreground_mask_hsv()
    foreground_mask_li_minimum()
    foreground_mask_errors()
    clip_intensity_percentiles_values()
    doc = {
        "generator": "tools/golden/gen_intensity.py",
        "versions": {"monai": monai.__version__, "torch": torch.__version__,
                     "numpy": np.__version__, "nibabel": nib.__version__,
                     "python": sys.version.split()[0]},
        "cases": cases,
        "errors": errors,
        "percentiles_big": percentiles_big(),
    }
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(cases)} cases, {size} bytes in {OUT}")


if __name__ == "__main__":
    main()
