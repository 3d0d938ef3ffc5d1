#!/usr/bin/env python3
"""gen_crop_foreground.py: golden cases for mgc's CropForeground, computed by MONAI.

Runs monai.transforms.CropForeground (array form, select_fn is_positive) on small 2D and
3D MetaTensors (1-2 channels, int16 and float32, one stored in Fortran order) with
oblique affines: foreground blobs in the middle and touching the edges, background that
is negative or zero (only x > 0 is foreground), margins (int and per axis) that reach
past the image, allow_smaller true and false, k_divisible (int, per axis, 0), the pad
modes (constant, edge, replicate, reflect, symmetric), channel_indices (positive and
negative) and an image without foreground; and the dict form's source_key: an image
cropped by a label's box (CropForegroundd(keys=[image, label], source_key=label), the
image's output), labels of the same and of other shapes (allow_smaller clips to the
source's shape; the pads are the image's own); select_fn as a pipeline file writes it
(threshold lambdas "$lambda x: x > 0.5", NUMBER OP x, == and != and
"$monai.transforms.utils.is_positive", evaluated by MONAI's own ConfigParser) on those
inputs and on a uint8 image (int literals wrap to uint8 as torch casts them, float
ones compare in float32) and a float32 one with NaNs. Writes, under
tests/golden/crop_foreground/:
  <input>.in.npy      an input array (shared by the cases that use it)
  <case>.out.npy      MONAI's output array
  cases.json          {"generator", "versions", "inputs": {...}, "cases": [...]}
as gen_croppad.py does (each case: name, op, args, input, output, out_affine, out_to_in,
the voxel map MONAI's lazy mode records; source_key cases add "source", the input that
gives the box, and their args name it as source_key). The generator checks every output keeps its
input's dtype and holds only input values or 0, so the C test compares exactly.

Usage: python3 tools/golden/gen_crop_foreground.py   (from anywhere; needs monai, torch).
Deterministic for fixed library versions.
"""
import json
import warnings

import numpy as np

from monai.bundle import ConfigParser
from monai.transforms import CropForeground, CropForegroundd
from monai.transforms.utils import is_positive

from spatial_common import (affine, clear, golden_dir, lazy_map, meta_tensor, rot,
                            run_transform, save_input, save_output, versions, write_cases)

OUT = golden_dir("crop_foreground")

rng = np.random.default_rng(20241123)
inputs = {}
cases = []


def add_input(name, shape, aff, boxes, dtype=np.float32, fortran=False, bg="zero"):
    """Distinct values; voxels inside boxes (per channel: (c, slices)) positive, the rest
    0 or negative (bg="neg")."""
    n = int(np.prod(shape))
    x = (rng.permutation(n) + 1).astype(np.float64).reshape(shape)
    fg = np.zeros(shape, bool)
    for c, sl in boxes:
        fg[(c,) + sl] = True
    x = np.where(fg, x, -x if bg == "neg" else 0)
    if dtype == np.float32:
        x = (x * 0.5).astype(np.float32)
    else:
        x = (x * 3).astype(np.int16)
    save_input(OUT, inputs, name, x, aff, fortran)


def monai_args(args):
    """args with select_fn made the callable MONAI gets from a pipeline file."""
    kw = dict(args)
    if kw.get("select_fn", None) is None or kw["select_fn"] == "is_positive":
        kw["select_fn"] = is_positive  # mgc's string names MONAI's function
    elif kw["select_fn"].startswith("$"):  # as a bundle config's "$lambda x: ..."
        kw["select_fn"] = ConfigParser({"f": kw["select_fn"]}).get_parsed_content("f")
    return kw


def run(args, inp, lazy=False):
    kw = monai_args(args)
    return run_transform(lambda: CropForeground(**kw), inputs[inp], lazy)


def add(name, args_text, inp):
    args = json.loads(args_text)
    y = run(args, inp)
    lz = run(args, inp, lazy=True)
    x = inputs[inp]["array"]
    out = y.as_tensor().numpy()
    assert out.dtype == x.dtype, name
    assert np.isin(out[out == out], np.append(x.ravel(), 0)).all(), name
    xform = lazy_map(lz, out.shape[1:], name, required=False)
    f = save_output(OUT, name, out)
    cases.append({"name": name, "op": "CropForeground", "args": args, "input": inp,
                  "output": f, "out_affine": y.affine.numpy().tolist(),
                  "out_to_in": xform.tolist()})


def add_source(name, args_text, inp, src):
    """CropForegroundd(keys=[inp, src], source_key=src): inp's output."""
    args = json.loads(args_text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = CropForegroundd(keys=["x", "s"], source_key="s", **monai_args(args))(
            {"x": meta_tensor(inputs[inp]), "s": meta_tensor(inputs[src])})
    y, x = d["x"], inputs[inp]["array"]
    out = y.as_tensor().numpy()
    assert out.dtype == x.dtype, name
    assert np.isin(out, np.append(x.ravel(), 0)).all(), name
    f = save_output(OUT, name, out)
    cases.append({"name": name, "op": "CropForeground", "args": dict(args, source_key=src),
                  "input": inp, "source": src, "output": f,
                  "out_affine": y.affine.numpy().tolist()})


def make_inputs():
    obl = affine(rot(2, 25) @ rot(0, -10), (0.8, 1.3, 2.5), (-40.0, 12.5, 7.0))
    lps = affine(np.diag([-1.0, -1.0, 1.0, 1.0]), (0.7, 0.7, 3.0), (120.0, 95.5, -60.0))
    obl2 = affine(rot(2, -30), (0.6, 1.7, 1.0), (10.0, -4.0, 0.0))
    s = np.s_
    add_input("mid3_f32", (1, 9, 8, 6), obl, [(0, s[3:6, 2:5, 2:4])])
    add_input("edge3_i16", (1, 8, 7, 5), lps, [(0, s[0:2, 4:7, 1:3]), (0, s[5:6, 6:7, 4:5])],
              np.int16, bg="neg")
    add_input("ch3_i16_fortran", (2, 7, 6, 5), obl, [(0, s[1:3, 1:2, 0:2]),
                                                    (1, s[4:7, 3:5, 3:4])],
              np.int16, fortran=True)
    add_input("mid2_f32", (1, 11, 9), obl2, [(0, s[4:7, 3:5])], bg="neg")
    add_input("edge2_i16_c2", (2, 8, 6), obl2, [(0, s[0:3, 0:2]), (1, s[6:8, 4:6])], np.int16)
    add_input("empty3_f32", (1, 5, 4, 3), obl, [], bg="neg")
    add_input("empty2_i16", (2, 6, 5), obl2, [], np.int16)
    # image + label pairs for source_key: the image is foreground almost everywhere
    add_input("img3_i16", (1, 9, 8, 6), obl, [(0, s[1:9, 0:8, 0:5])], np.int16)
    add_input("lab3_f32", (1, 9, 8, 6), obl, [(0, s[5:8, 1:3, 3:5])])
    add_input("lab3_small", (1, 7, 6, 5), obl, [(0, s[4:7, 3:6, 0:2])])
    add_input("lab3_big", (1, 12, 9, 8), obl, [(0, s[6:11, 2:4, 3:6])])
    add_input("img2_f32", (2, 11, 9), obl2, [(0, s[0:11, 1:9]), (1, s[2:5, 0:3])])
    add_input("lab2_i16", (1, 11, 9), obl2, [(0, s[0:2, 6:9])], np.int16)
    # select_fn thresholds: a uint8 image (values 0..255 spread over it), a float32 one
    # with NaNs in the background
    u8 = rng.permutation(np.arange(8 * 7 * 6) % 256).astype(np.uint8).reshape(1, 8, 7, 6)
    save_input(OUT, inputs, "u8_3", u8, obl)
    add_input("nan2_f32", (1, 10, 8), obl2, [(0, s[3:6, 2:5])], bg="neg")
    x = inputs["nan2_f32"]["array"]
    x[0, 0, 0] = x[0, 8, 7] = x[0, 9, 1] = np.nan
    x[0, 4, 3] = 0.0
    save_input(OUT, inputs, "nan2_f32", x, obl2)


def all_cases():
    modes = ["constant", "edge", "replicate", "reflect", "symmetric"]
    common = [
        '{}',
        '{"margin": 1}',
        '{"margin": [2, 0, 1]}',
        '{"margin": 3, "allow_smaller": true}',
        '{"margin": 3, "allow_smaller": false}',
        '{"k_divisible": 4}',
        '{"k_divisible": [3, 5, 0], "margin": 1}',
        '{"k_divisible": [4, 4, 4], "margin": 2, "allow_smaller": true}',
        '{"select_fn": "is_positive", "channel_indices": null, "return_coords": false, '
        '"lazy": false}',
    ]
    for inp in ["mid3_f32", "edge3_i16", "ch3_i16_fortran"]:
        for i, a in enumerate(common):
            add(f"cf_{inp}_{i}", a, inp)
        for i, m in enumerate(modes):
            add(f"cf_{inp}_m{i}", f'{{"margin": [2, 1, 1], "k_divisible": 2, '
                f'"mode": "{m}"}}', inp)
    add("cf_ch3_c0", '{"channel_indices": [0], "margin": 1}', "ch3_i16_fortran")
    add("cf_ch3_c1", '{"channel_indices": 1, "margin": 2, "mode": "edge"}', "ch3_i16_fortran")
    add("cf_ch3_cneg", '{"channel_indices": [-1, 0]}', "ch3_i16_fortran")
    add("cf_edge3_value", '{"margin": 2, "value": 0}', "edge3_i16")
    add("cf_edge3_cv", '{"margin": 2, "constant_values": 0}', "edge3_i16")
    for inp in ["mid2_f32", "edge2_i16_c2"]:
        for i, a in enumerate(['{}', '{"margin": 2}', '{"margin": [4, 1]}',
                               '{"margin": 4, "allow_smaller": true}', '{"k_divisible": 5}',
                               '{"k_divisible": [4, 3], "margin": 1, "mode": "symmetric"}',
                               '{"margin": [1, 2], "mode": "edge"}',
                               '{"margin": 1, "mode": "reflect"}']):
            add(f"cf_{inp}_{i}", a, inp)
    add("cf_edge2_c1", '{"channel_indices": [1], "margin": 1, "mode": "replicate"}',
        "edge2_i16_c2")
    for i, a in enumerate(['{}', '{"margin": 2}', '{"margin": [1, 3, 2], "allow_smaller": true}',
                           '{"margin": 2, "k_divisible": 4, "mode": "edge"}',
                           '{"margin": [0, 4, 1], "mode": "symmetric"}']):
        add_source(f"cf_src3_{i}", a, "img3_i16", "lab3_f32")
        add_source(f"cf_src3_small_{i}", a, "img3_i16", "lab3_small")
        add_source(f"cf_src3_big_{i}", a, "img3_i16", "lab3_big")
    for i, a in enumerate(['{}', '{"margin": 3, "allow_smaller": true}',
                           '{"margin": 3, "k_divisible": [4, 5], "mode": "reflect"}']):
        add_source(f"cf_src2_{i}", a, "img2_f32", "lab2_i16")
    add_source("cf_src_empty", '{"margin": 1}', "img3_i16", "empty3_f32")
    lambdas = ["$lambda x: x > 0.5", "$lambda x: x >= 1", "$lambda x: x < 0",
               "$lambda x:x<=-3", "$lambda v: 2.5 < v", "$lambda x: x != 0",
               "$lambda x: x == 0", "$lambda x: x > 7.25", "$lambda x: x >= 100",
               "$monai.transforms.utils.is_positive"]
    for inp in ["mid3_f32", "edge3_i16", "mid2_f32", "edge2_i16_c2"]:
        for i, f in enumerate(lambdas):
            add(f"cf_sel_{inp}_{i}", json.dumps({"select_fn": f, "margin": 1}), inp)
    for i, f in enumerate(["$lambda x: x >= 300", "$lambda x: x > -1", "$lambda x: x > 99.5",
                           "$lambda x: 200 <= x", "$lambda x: x == 0"]):
        add(f"cf_sel_u8_{i}", json.dumps({"select_fn": f}), "u8_3")
    for i, f in enumerate(["$lambda x: x != 0", "$lambda x: x > 0", "$lambda x: x < 0",
                           "$lambda x: x == 0"]):
        add(f"cf_sel_nan_{i}", json.dumps({"select_fn": f, "k_divisible": 3}), "nan2_f32")
    add_source("cf_sel_src", '{"select_fn": "$lambda x: x > 2", "margin": 1}', "img3_i16",
               "lab3_f32")
    for inp in ["empty3_f32", "empty2_i16"]:
        for i, a in enumerate(['{}', '{"margin": 2}', '{"k_divisible": 4, "margin": 1}',
                               '{"allow_smaller": true, "mode": "edge"}']):
            add(f"cf_{inp}_{i}", a, inp)


def main():
    clear(OUT)
    make_inputs()
    all_cases()
    write_cases(OUT, "tools/golden/gen_crop_foreground.py", versions(), inputs, cases)


if __name__ == "__main__":
    main()
