#!/usr/bin/env python3
"""gen_spatial_index.py: golden cases for mgc's index-only spatial ops (Orientation, Flip,
Rotate90), computed by MONAI.

Runs the array transforms monai.transforms.Orientation / Flip / Rotate90 on small 2D and
3D MetaTensors (1-2 channels, odd shapes) whose affines are non-trivial: oblique,
LPS-like, anisotropic, permuted (sagittal-like), sheared, and some taken from the
tests/data/nifti fixtures as MONAI's LoadImage reports them. Writes, under
tests/golden/spatial_index/:
  <input>.in.npy      an input array (shared by the cases that use it)
  <case>.out.npy      MONAI's output array
  cases.json          {"generator", "versions", "inputs": {...}, "cases": [...]}
inputs: name -> {"file", "affine"}: the array and the input MetaTensor's 4x4 affine.
Each case: name, op, args (exactly the JSON a pipeline passes: the transform is built
from json.loads of it), input (a key of inputs), output, out_affine (the output
MetaTensor's 4x4 affine) and out_to_in (the voxel map MONAI's lazy mode records for the
same call, output voxel -> input voxel, as 4x4: to_affine_nd(3, .) of MONAI's 3x3 for 2D).
The generator also checks that every output is an exact rearrangement of its input (no
value changes, same dtype), so the C test may compare exactly.

Usage: python3 tools/golden/gen_spatial_index.py   (from anywhere; needs monai, torch,
nibabel). Deterministic for fixed library versions.
"""
import json

import numpy as np

from monai.transforms import Flip, Orientation, Rotate90

from spatial_common import (affine, clear, fixture_affine, golden_dir, lazy_map, rot,
                            run_transform, save_input, save_output, versions, write_cases)

OUT = golden_dir("spatial_index")
OPS = {"Orientation": Orientation, "Flip": Flip, "Rotate90": Rotate90}

rng = np.random.default_rng(20240918)
inputs = {}
cases = []


def perm(cols, signs):
    """A permutation matrix: voxel axis j follows world axis cols[j] with signs[j]."""
    m = np.eye(4)
    m[:3, :3] = 0
    for j, (c, s) in enumerate(zip(cols, signs)):
        m[c, j] = s
    return m


def add_input(name, shape, aff, dtype=np.float32, fortran=False):
    """Distinct values (so any misplaced voxel shows), in the given dtype."""
    n = int(np.prod(shape))
    if dtype == np.float32:
        x = (rng.permutation(n) * 0.5 - 7.25).astype(np.float32)
    elif dtype == np.int16:
        x = (rng.permutation(n) * 7 - 1000).astype(np.int16)
    else:
        x = rng.permutation(n).astype(dtype)
    save_input(OUT, inputs, name, x.reshape(shape), aff, fortran)


def run(op, args_text, inp, lazy=False):
    # lazy=true in args: what a Compose eventually makes of it (the pending op applied),
    # i.e. the eager result
    args = json.loads(args_text)
    return run_transform(lambda: OPS[op](**args), inputs[inp], lazy)


def add(name, op, args_text, inp):
    y = run(op, args_text, inp)
    lz = run(op, args_text, inp, lazy=True)
    x = inputs[inp]["array"]
    out = y.as_tensor().numpy()
    assert out.dtype == x.dtype, name
    # an index-only op: the same multiset of values, nothing interpolated
    assert np.array_equal(np.sort(out, axis=None), np.sort(x, axis=None)), name
    xform = lazy_map(lz, out.shape[1:], name)
    f = save_output(OUT, name, out)
    cases.append({"name": name, "op": op, "args": json.loads(args_text), "input": inp,
                  "output": f, "out_affine": y.affine.numpy().tolist(),
                  "out_to_in": xform.tolist()})


def make_inputs():
    obl = affine(rot(2, 25) @ rot(0, -10), (0.8, 1.3, 2.5), (-40.0, 12.5, 7.0))
    lps = affine(np.diag([-1.0, -1.0, 1.0, 1.0]), (0.7, 0.7, 3.0), (120.0, 95.5, -60.0))
    # sagittal-like: voxel axes follow S, -A, -R (codes "SPL"), slightly rotated
    sag = affine(perm((2, 1, 0), (1, -1, -1)) @ rot(1, 8), (1.2, 0.9, 0.9), (5.0, -3.0, 2.0))
    shear = fixture_affine("monai_written_i16.nii")  # "ALS", with a shear term
    add_input("obl_f32", (1, 5, 4, 3), obl)
    add_input("obl_f32_c2_fortran", (2, 5, 4, 3), obl, fortran=True)
    add_input("lps_i16", (1, 5, 4, 3), lps, np.int16)
    add_input("lps_u8_c2", (2, 3, 5, 4), lps, np.uint8)
    add_input("sag_f32", (1, 5, 4, 3), sag)
    add_input("shear_i16_fortran", (1, 5, 4, 3), shear, np.int16, fortran=True)
    add_input("qfac_f32", (1, 5, 4, 3), fixture_affine("qfac_neg.nii.gz"))  # "RAI"
    add_input("nib_f32", (2, 3, 4, 5), fixture_affine("nib_saved.nii.gz"))  # "LAS"
    # 2D: the affine stays 4x4 (as loaded); only its top-left 2x2 and x/y translation
    # steer the op, the rest is carried along
    obl2 = affine(rot(2, -30), (0.6, 1.7, 1.0), (10.0, -4.0, 0.0))
    add_input("obl2_f32", (1, 5, 4), obl2)
    add_input("lp2_f32_c2", (2, 7, 3), affine(np.diag([-1.0, -1.0, 1, 1]), (0.5, 2.0, 1.0),
                                               (3.0, 8.0, 0.0)))
    add_input("swap2_i16_fortran", (1, 5, 4), perm((1, 0, 2), (-1, 1, 1)) @
              np.diag([1.5, 0.8, 1.0, 1.0]), np.int16, fortran=True)
    add_input("fix2d_f32", (1, 5, 4), fixture_affine("two_d_oblique.nii.gz"))


def orientation():
    op = "Orientation"
    full = ["RAS", "LPS", "PLI", "SRA", "ASL", "IRP"]
    for inp, codes in [("obl_f32", full), ("sag_f32", full), ("shear_i16_fortran", full),
                       ("qfac_f32", full), ("lps_i16", ["RAS", "SPL"]),
                       ("nib_f32", ["RAS", "AIL"]), ("obl_f32_c2_fortran", ["LPS", "SAR"]),
                       ("lps_u8_c2", ["RAS", "LPS"])]:
        for c in codes:
            add(f"or_{inp}_{c}", op, json.dumps({"axcodes": c}), inp)
    add("or_sag_f32_canonical", op, '{"as_closest_canonical": true}', "sag_f32")
    add("or_shear_canonical_ignores_axcodes", op,
        '{"axcodes": "LPI", "as_closest_canonical": true}', "shear_i16_fortran")
    add("or_obl_labels_null_lazy_false", op,
        '{"axcodes": "LPS", "labels": null, "lazy": false}', "obl_f32")
    for inp, codes in [("obl2_f32", ["RA", "LP", "AL", "PR"]), ("lp2_f32_c2", ["RA", "AL"]),
                       ("swap2_i16_fortran", ["RA", "PL", "AR"]), ("fix2d_f32", ["LP", "PR"])]:
        for c in codes:
            add(f"or_{inp}_{c}", op, json.dumps({"axcodes": c}), inp)
    # MONAI uses axcodes[:2] on a 2D image (with a warning)
    add("or_lp2_RAS_truncated", op, '{"axcodes": "RAS"}', "lp2_f32_c2")
    add("or_swap2_canonical", op, '{"as_closest_canonical": true}', "swap2_i16_fortran")


def flip():
    op = "Flip"
    every = ["null", "0", "1", "2", "-1", "[0, 2]", "[1, -1]", "[]", "[2, 0, 1]"]
    for inp, axes in [("obl_f32", every), ("lps_u8_c2", ["null", "1", "-3", "[0, 2]"]),
                      ("shear_i16_fortran", ["null", "0", "2", "[1, -1]"])]:
        for i, sa in enumerate(axes):
            add(f"flip_{inp}_{i}", op, f'{{"spatial_axis": {sa}}}', inp)
    add("flip_obl_default", op, "{}", "obl_f32_c2_fortran")
    for inp, axes in [("obl2_f32", ["null", "0", "-1", "[0, 1]", "-2"]),
                      ("lp2_f32_c2", ["null", "1", "[1, 0]"]),
                      ("swap2_i16_fortran", ["0", "-1"])]:
        for i, sa in enumerate(axes):
            add(f"flip_{inp}_{i}", op, f'{{"spatial_axis": {sa}}}', inp)


def rotate90():
    op = "Rotate90"
    add("rot_obl_default", op, "{}", "obl_f32")
    every = [[0, 1], [1, 0], [0, 2], [2, 0], [1, 2], [2, 1], [-1, 0]]
    for inp, axes, ks in [("obl_f32_c2_fortran", every, [1, 2, 3]), ("lps_i16", every, [1]),
                          ("nib_f32", [[0, 2], [2, 1], [-2, -3]], [3])]:
        for ax in axes:
            for k in ks:
                add(f"rot_{inp}_{ax[0]}{ax[1]}_k{k}".replace("-", "m"), op,
                    json.dumps({"k": k, "spatial_axes": ax}), inp)
    for k in [0, 4, -1, 5, -6]:
        add(f"rot_obl_k{k}".replace("-", "m"), op, json.dumps({"k": k}), "obl_f32")
    for inp, axes, ks in [("obl2_f32", [[0, 1], [1, 0], [-2, -1]], [1, 2, 3]),
                          ("lp2_f32_c2", [[0, 1], [1, 0]], [1, 3]),
                          ("swap2_i16_fortran", [[1, 0]], [1, 2]),
                          ("fix2d_f32", [[0, 1], [-1, 0]], [1, 3])]:
        for ax in axes:
            for k in ks:
                add(f"rot_{inp}_{ax[0]}{ax[1]}_k{k}".replace("-", "m"), op,
                    json.dumps({"k": k, "spatial_axes": ax}), inp)
    add("rot_lazy_flag", op, '{"k": 1, "lazy": true}', "obl2_f32")


def main():
    clear(OUT)
    make_inputs()
    orientation()
    flip()
    rotate90()
    write_cases(OUT, "tools/golden/gen_spatial_index.py", versions(nibabel=True), inputs,
                cases)


if __name__ == "__main__":
    main()
