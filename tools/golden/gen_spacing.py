#!/usr/bin/env python3
"""gen_spacing.py: golden cases for mgc's Spacing op, computed by MONAI.

Runs monai.transforms.Spacing on small 2D/3D MetaTensors with non-trivial affines
(oblique, sheared, LPS-like, anisotropic; some taken from tests/data/nifti fixtures as
MONAI's LoadImage reports them) and writes, under tests/golden/spacing/:
  <case>.in.npy, <case>.out.npy   the input and MONAI's output (always float32)
  cases.json                      {"generator", "versions", "cases": [...]}
Each case: name, args (exactly the JSON a pipeline passes: the transform is built from
json.loads of it), input, output, in_affine (the input MetaTensor's 4x4 affine),
out_affine (the output's affine; MONAI gives 3x3 for 2D recompute_affine cases, stored
here as to_affine_nd(3, .)), out_shape (spatial), out_to_in (the voxel map MONAI's lazy
mode records for the same call: solve(src_affine, dst_affine), as 4x4), identity (MONAI
returned the input as is: same shape and affine), center (compute_shape_offset fell back
to centre alignment) and max_tie (nearest cases: the largest |frac - 0.5| closeness of a
sampled input coordinate to a rounding tie; cases are built so no coordinate is within
1e-6 of one, since there torch's rounding of its normalised coordinate decides).

Usage: python3 tools/golden/gen_spacing.py   (from anywhere; needs monai, torch, nibabel).
Deterministic for fixed library versions. `--bench` instead times MONAI's
Spacing(pixdim=(1.5, 1.5, 2.0)) once on a 1x512x512x128 float32 volume of spacing
0.8x0.8x2.5 with 2 torch threads, and writes nothing.
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import torch

import monai
from monai.data import MetaTensor
from monai.data.utils import to_affine_nd
from monai.transforms import Spacing

from spatial_common import (affine, clear, fixture_affine, golden_dir, image_makers, rot,
                            versions)

OUT = golden_dir("spacing")

rng = np.random.default_rng(20240917)
cases = []


smooth, ct_like = image_makers(rng, 100.0)


OBL = affine(rot(2, 20) @ rot(0, -12), (0.8, 0.8, 2.5), (-30.0, 12.5, 40.0))
LPS = np.array([[-0.8, 0, 0, 90.0], [0, -0.8, 0, 110.0], [0, 0, 2.5, -60.0], [0, 0, 0, 1]])
LPS1 = np.array([[-1.0, 0, 0, 4.0], [0, -1.0, 0, 3.0], [0, 0, 1.0, -2.0], [0, 0, 0, 1]])
SHEAR = np.array([[0.9, 0.25, 0.1, 5.0], [0.05, 1.1, -0.3, -7.0], [0, 0.2, 1.8, 3.0],
                  [0, 0, 0, 1]])
TINY_SHEAR = np.array([[1.0, 2e-4, 0, 1.0], [0, 1.0, 0, 2.0], [0, 0, 1.0, 3.0], [0, 0, 0, 1]])
ROT2 = affine(rot(2, 30), (0.7, 1.1, 1.0), (3.0, -4.0, 0.0))
EYE = np.eye(4)


def center_fallback(a_nd, dst, shape, scale_extent):
    """Replays compute_shape_offset's corner loop on MONAI's own affines."""
    sr = len(shape)
    new = dst.copy()
    new[:sr, -1] = 0
    coords = [(-0.5, d - 0.5) if scale_extent else (0.0, d - 1.0) for d in shape]
    corners = np.asarray(np.meshgrid(*coords, indexing="ij")).reshape((sr, -1))
    corners = np.concatenate((corners, np.ones_like(corners[:1])))
    dist = (np.linalg.solve(new, a_nd) @ corners)[:-1]
    for i in range(corners.shape[1]):
        if np.allclose(np.min(dist - dist[:, i:i + 1], 1), 0.0, rtol=1e-3):
            return False
    return True


def closest_tie(xform, out_shape):
    """How close any sampled input coordinate comes to a .5 rounding tie."""
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in out_shape], indexing="ij"))
    idx = idx.reshape(len(out_shape), -1)
    pts = xform[:-1, :-1] @ idx + xform[:-1, -1:]
    return float(np.min(np.abs(np.abs(pts - np.floor(pts)) - 0.5)))


def add(name, args, x, aff, fortran=False):
    """Runs MONAI's Spacing(**args) on x (affine aff), stores the case."""
    args = json.loads(json.dumps(args))
    sr = x.ndim - 1
    inp = np.asfortranarray(x) if fortran else np.ascontiguousarray(x)
    np.save(os.path.join(OUT, f"{name}.in.npy"), inp)

    def img():
        return MetaTensor(torch.from_numpy(np.ascontiguousarray(x).copy()),
                          affine=torch.as_tensor(aff, dtype=torch.float64))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Spacing(**args)(img())
        lazy = Spacing(**{**args, "recompute_affine": False}, lazy=True)(img())
    y = out.as_tensor().numpy()
    assert y.dtype == np.float32, y.dtype
    np.save(os.path.join(OUT, f"{name}.out.npy"), y)
    pend = lazy.pending_operations[-1]
    xform = to_affine_nd(sr, np.asarray(pend["lazy_affine"], dtype=np.float64))
    out_shape = [int(v) for v in y.shape[1:]]
    assert [int(v) for v in pend["lazy_shape"]] == out_shape
    a_nd = to_affine_nd(sr, aff)
    out_aff = np.asarray(out.affine, dtype=np.float64)
    out_aff4 = to_affine_nd(3, out_aff) if out_aff.shape[0] != 4 else out_aff
    case = {"name": name, "args": args, "input": f"{name}.in.npy",
            "output": f"{name}.out.npy", "in_dtype": str(x.dtype),
            "in_affine": np.asarray(aff, dtype=np.float64).tolist(),
            "out_affine": out_aff4.tolist(), "out_shape": out_shape,
            "out_to_in": to_affine_nd(3, xform).tolist(),
            "identity": bool(out_shape == list(x.shape[1:]) and
                             np.array_equal(out_aff, np.asarray(aff))),
            "center": center_fallback(a_nd, a_nd @ xform, list(x.shape[1:]),
                                      bool(args.get("scale_extent", False)))}
    if args.get("mode") == "nearest":
        case["max_tie"] = closest_tie(xform, out_shape)
        assert case["identity"] or case["max_tie"] > 1e-6, (name, case["max_tie"])
    cases.append(case)


def cases_3d():
    add("s3_obl_default", {"pixdim": [1.0, 1.0, 2.0]}, smooth((1, 7, 6, 5)), OBL)
    add("s3_obl_nearest_i16", {"pixdim": [1.13, 0.93, 1.7], "mode": "nearest"},
        ct_like((1, 7, 6, 5)), OBL)
    # diagonal=True on an oblique affine: the output box reads outside the input
    add("s3_obl_zeros_diag", {"pixdim": [0.9, 1.3, 2.2], "padding_mode": "zeros",
                              "diagonal": True}, smooth((1, 7, 6, 5)), OBL)
    add("s3_obl_reflection_diag", {"pixdim": [0.9, 1.3, 2.2], "padding_mode": "reflection",
                                   "diagonal": True}, smooth((1, 7, 6, 5)), OBL)
    add("s3_obl_reflection_ac_diag", {"pixdim": [0.9, 1.3, 2.2], "padding_mode": "reflection",
                                      "align_corners": True, "diagonal": True},
        smooth((1, 7, 6, 5)), OBL)
    add("s3_obl_nonpos", {"pixdim": [-1.0, 0.0, 1.6]}, smooth((1, 6, 5, 4)), OBL)
    add("s3_obl_2ch_fortran", {"pixdim": [1.1, 1.0, 1.9]}, smooth((2, 6, 5, 4)), OBL,
        fortran=True)
    add("s3_lps_up", {"pixdim": [0.55, 0.6, 1.45]}, smooth((1, 5, 4, 3)), LPS)
    add("s3_lps_down", {"pixdim": [2.1, 1.7, 3.1]}, smooth((1, 9, 8, 6)), LPS)
    add("s3_lps_diag", {"pixdim": [0.9, 0.7, 2.0], "diagonal": True}, smooth((1, 6, 5, 4)),
        LPS)
    add("s3_lps_minmax_keep", {"pixdim": [1.0, 1.0, 1.0], "min_pixdim": [0.5, 0.5, 0.5],
                               "max_pixdim": [3.0, 3.0, 3.0]}, ct_like((1, 6, 5, 4)), LPS)
    add("s3_lps_min_scalar", {"pixdim": 1.0, "min_pixdim": 0.5}, smooth((1, 6, 5, 4)), LPS)
    add("s3_lps_max", {"pixdim": [2.0], "max_pixdim": [3.0, 3.0, 3.0]},
        smooth((1, 8, 7, 4)), LPS)
    add("s3_flip_diag_i16", {"pixdim": [1.0, 1.0, 1.0], "diagonal": True},
        ct_like((1, 5, 4, 3)), LPS1)
    add("s3_identity_i16", {"pixdim": 1.0}, ct_like((1, 5, 4, 3)), EYE)
    add("s3_tiny_shear_identity", {"pixdim": [1.0, 1.0, 1.0]}, smooth((1, 5, 4, 3)),
        TINY_SHEAR)
    add("s3_scalar_qfac", {"pixdim": 1.3}, smooth((1, 6, 5, 4)),
        fixture_affine("qfac_neg.nii.gz"))
    add("s3_short_sform", {"pixdim": [0.9, 1.4]}, smooth((1, 6, 5, 4)),
        fixture_affine("sform_only.nii.gz"))
    add("s3_long_shear", {"pixdim": [1.1, 1.1, 1.8, 7.0]}, smooth((1, 6, 5, 4)), SHEAR)
    add("s3_shear_diag", {"pixdim": [1.0, 0.8, 1.5], "diagonal": True},
        smooth((1, 6, 5, 4)), SHEAR)
    add("s3_extent_ac", {"pixdim": [1.3, 1.1, 2.0], "scale_extent": True,
                         "align_corners": True}, smooth((1, 7, 6, 5)), OBL)
    add("s3_extent_lps", {"pixdim": [1.5, 1.2, 2.0], "scale_extent": True},
        smooth((1, 7, 6, 5)), LPS)
    add("s3_recompute", {"pixdim": [1.0, 1.0, 2.0], "recompute_affine": True},
        smooth((1, 6, 5, 4)), OBL)
    add("s3_recompute_ac", {"pixdim": [0.6, 0.9, 2.0], "recompute_affine": True,
                            "align_corners": True}, smooth((1, 5, 4, 3)), LPS)
    add("s3_dtype_f32", {"pixdim": [1.0, 1.0, 2.0], "dtype": "float32"},
        smooth((1, 6, 5, 4), 1.0), OBL)
    add("s3_z_one", {"pixdim": [0.7, 0.8, 5.0]}, smooth((1, 5, 4, 1)),
        fixture_affine("z_one.nii.gz"))
    add("s3_z_one_ac", {"pixdim": [0.7, 0.8, 5.0], "align_corners": True},
        smooth((1, 5, 4, 1)), fixture_affine("z_one.nii.gz"))


def cases_3d_bicubic():
    """Tricubic: torch's grid_sample has it since 2.x and MONAI 1.6.1 passes it through."""
    add("s3_obl_bicubic", {"pixdim": [0.9, 1.2, 1.6], "mode": "bicubic"},
        smooth((1, 7, 6, 5)), OBL)
    add("s3_lps_bicubic_zeros_diag", {"pixdim": [0.7, 0.8, 2.2], "mode": "bicubic",
                                      "padding_mode": "zeros", "diagonal": True},
        smooth((1, 6, 5, 4)), LPS)
    add("s3_shear_bicubic_reflection_ac", {"pixdim": [1.0, 0.8, 1.5], "mode": "bicubic",
                                           "padding_mode": "reflection",
                                           "align_corners": True},
        smooth((2, 6, 5, 4)), SHEAR)


def cases_2d():
    obl2 = fixture_affine("two_d_oblique.nii.gz")  # 4x4 with z cross terms
    add("s2_obl_fixture", {"pixdim": [0.5, 0.6]}, smooth((1, 9, 8)), obl2)
    add("s2_obl_nearest_i16", {"pixdim": [0.47, 0.73], "mode": "nearest"},
        ct_like((1, 10, 8)), obl2)
    add("s2_rot_diag_center", {"pixdim": [0.8, 0.9], "diagonal": True},
        smooth((1, 9, 7)), ROT2)
    add("s2_rot_bicubic", {"pixdim": [0.6, 0.75], "mode": "bicubic"}, smooth((1, 8, 7)),
        ROT2)
    add("s2_rot_bicubic_zeros_diag", {"pixdim": [0.9, 0.8], "mode": "bicubic",
                                      "padding_mode": "zeros", "diagonal": True},
        smooth((1, 8, 7)), ROT2)
    add("s2_rot_bicubic_reflection_ac", {"pixdim": [0.9, 0.8], "mode": "bicubic",
                                         "padding_mode": "reflection",
                                         "align_corners": True, "diagonal": True},
        smooth((1, 8, 7)), ROT2)
    add("s2_rot_reflection_diag", {"pixdim": [0.9, 0.8], "padding_mode": "reflection",
                                   "diagonal": True}, smooth((1, 8, 7)), ROT2)
    add("s2_rot_nearest_zeros_diag", {"pixdim": [0.85, 0.95], "mode": "nearest",
                                      "padding_mode": "zeros", "diagonal": True},
        ct_like((1, 8, 6)), ROT2)
    add("s2_lps_flip_diag", {"pixdim": [1.0, 1.0], "diagonal": True}, smooth((1, 6, 5)),
        LPS1)
    add("s2_identity_f32", {"pixdim": [1.0, -1.0]}, smooth((1, 6, 5)), EYE)
    add("s2_recompute", {"pixdim": [0.5, 0.7], "recompute_affine": True},
        smooth((1, 6, 5)), obl2)
    add("s2_extent_ac", {"pixdim": [1.4, 0.6], "scale_extent": True, "align_corners": True},
        smooth((1, 7, 6)), ROT2)
    add("s2_2ch_down", {"pixdim": 2.3}, smooth((2, 11, 9)), ROT2)


def bench():
    """MONAI's time for Spacing(pixdim=(1.5, 1.5, 2.0)) on 1x512x512x128 float32."""
    torch.set_num_threads(2)
    x = MetaTensor(torch.rand(1, 512, 512, 128),
                   affine=torch.diag(torch.tensor([0.8, 0.8, 2.5, 1.0], dtype=torch.float64)))
    t = time.perf_counter()
    y = Spacing(pixdim=(1.5, 1.5, 2.0))(x)
    print(f"MONAI {monai.__version__}, torch {torch.__version__}, 2 threads: "
          f"{time.perf_counter() - t:.2f} s, out {tuple(y.shape)}")


def main():
    if "--bench" in sys.argv:
        return bench()
    clear(OUT)
    cases_3d()
    cases_2d()
    cases_3d_bicubic()
    doc = {
        "generator": "tools/golden/gen_spacing.py",
        "versions": versions(nibabel=True),
        "cases": cases,
    }
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(cases)} cases, {size} bytes in {OUT}")


if __name__ == "__main__":
    main()
