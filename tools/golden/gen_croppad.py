#!/usr/bin/env python3
"""gen_croppad.py: golden cases for mgc's integer crop/pad ops (SpatialCrop,
CenterSpatialCrop, SpatialPad, BorderPad, DivisiblePad), computed by MONAI.

Runs the array transforms on small 2D and 3D MetaTensors (1-2 channels, odd and even
shapes, int16 and float32, some stored in Fortran order) with non-trivial affines:
crops inside, partly outside and wholly outside the image, empty crops, pads of 0, and
every supported pad mode (constant, edge, replicate, reflect, symmetric). Writes, under
tests/golden/croppad/:
  <input>.in.npy      an input array (shared by the cases that use it)
  <case>.out.npy      MONAI's output array
  cases.json          {"generator", "versions", "inputs": {...}, "cases": [...]}
inputs: name -> {"file", "affine"}. Each case: name, op, args (exactly the JSON a
pipeline passes), input, output, out_affine (the output MetaTensor's 4x4 affine),
out_to_in (the voxel map MONAI's lazy mode records for the same call, as 4x4), and
kind ("crop" or "pad"). The generator checks that every output keeps its input's dtype
and takes every value from the input (or is 0 for constant pads), so the C test compares
exactly.

Usage: python3 tools/golden/gen_croppad.py   (from anywhere; needs monai, torch).
Deterministic for fixed library versions.
"""
import json

import numpy as np

from monai.transforms import (BorderPad, CenterSpatialCrop, DivisiblePad, SpatialCrop,
                              SpatialPad)

from spatial_common import (affine, clear, golden_dir, lazy_map, rot, run_transform,
                            save_input, save_output, versions, write_cases)

OUT = golden_dir("croppad")
OPS = {"SpatialCrop": SpatialCrop, "CenterSpatialCrop": CenterSpatialCrop,
       "SpatialPad": SpatialPad, "BorderPad": BorderPad, "DivisiblePad": DivisiblePad}

rng = np.random.default_rng(20240921)
inputs = {}
cases = []


def add_input(name, shape, aff, dtype=np.float32, fortran=False):
    """Distinct nonzero values (a misplaced voxel or a wrong 0 shows)."""
    n = int(np.prod(shape))
    if dtype == np.float32:
        x = (rng.permutation(n) * 0.5 + 1.25).astype(np.float32)
    else:
        x = (rng.permutation(n) * 7 - 1000).astype(np.int16)
        x[x == 0] = 12345
    save_input(OUT, inputs, name, x.reshape(shape), aff, fortran)


def run(op, args, inp, lazy=False):
    return run_transform(lambda: OPS[op](**args), inputs[inp], lazy)


def add(name, op, args_text, inp):
    args = json.loads(args_text)
    y = run(op, args, inp)
    lz = run(op, args, inp, lazy=True)
    x = inputs[inp]["array"]
    out = y.as_tensor().numpy()
    assert out.dtype == x.dtype, name
    assert np.isin(out, np.append(x.ravel(), 0)).all(), name
    sdim = x.ndim - 1
    xform = lazy_map(lz, out.shape[1:], name, required=False)
    f = save_output(OUT, name, out)
    cases.append({"name": name, "op": op, "args": args, "input": inp, "output": f,
                  "kind": "crop" if "Crop" in op else "pad",
                  "out_affine": y.affine.numpy().tolist(), "out_to_in": xform.tolist()})
    assert sdim in (2, 3)


def make_inputs():
    obl = affine(rot(2, 25) @ rot(0, -10), (0.8, 1.3, 2.5), (-40.0, 12.5, 7.0))
    lps = affine(np.diag([-1.0, -1.0, 1.0, 1.0]), (0.7, 0.7, 3.0), (120.0, 95.5, -60.0))
    add_input("obl_f32", (1, 5, 4, 3), obl)
    add_input("lps_i16_c2_fortran", (2, 6, 5, 3), lps, np.int16, fortran=True)
    add_input("lps_i16", (1, 7, 4, 2), lps, np.int16)
    obl2 = affine(rot(2, -30), (0.6, 1.7, 1.0), (10.0, -4.0, 0.0))
    add_input("obl2_f32", (1, 5, 4), obl2)
    add_input("obl2_i16_c2", (2, 7, 3), obl2, np.int16)
    add_input("one2_f32", (1, 1, 6), affine(np.eye(4), (2.0, 0.5, 1.0), (1.0, 2.0, 3.0)))


def crops():
    op = "SpatialCrop"
    for inp, keep in [("obl_f32", range(15)), ("lps_i16_c2_fortran", (0, 2, 4, 8, 12))]:
        for i, a in enumerate([
                '{"roi_center": [2, 1, 1], "roi_size": [3, 2, 2]}',
                '{"roi_center": [1, 1, 1], "roi_size": [5, 4, 1]}',
                '{"roi_center": [2, 2, 1], "roi_size": [20, 20, 20]}',
                '{"roi_center": 2, "roi_size": 3}',
                '{"roi_center": [2, 2, 1], "roi_size": [-3, 2, 2]}',
                '{"roi_center": [9, 2, 1], "roi_size": [2, 2, 2]}',
                '{"roi_start": [1, 0, 1], "roi_end": [4, 3, 3]}',
                '{"roi_start": [1, 1, 1], "roi_end": [10, 10, 10]}',
                '{"roi_start": [7, 0, 0], "roi_end": [9, 2, 2]}',
                '{"roi_start": [-2, 0, 0], "roi_end": [2, 2, 2]}',
                '{"roi_start": [3, 0, 0], "roi_end": [1, 2, 2]}',
                '{"roi_start": [1], "roi_end": [3]}',
                '{"roi_start": 1, "roi_end": [3, 3, 2]}',
                '{"roi_start": [0, 0, 0], "roi_end": [2, 2, 2], "roi_center": [3, 2, 1], '
                '"roi_size": [1, 1, 1], "lazy": false}',
                '{"roi_start": [0, 1], "roi_end": [5, 3]}']):
            add(f"sc_{inp}_{i}", op, a, inp)
    for inp in ["obl2_f32", "obl2_i16_c2"]:
        for i, a in enumerate(['{"roi_center": [2, 1], "roi_size": [3, 2]}',
                               '{"roi_start": [1, 1], "roi_end": [9, 2]}',
                               '{"roi_start": [0, 0, 0], "roi_end": [2, 2, 2]}',
                               '{"roi_center": [3, 3], "roi_size": [4, 5]}']):
            add(f"sc_{inp}_{i}", op, a, inp)
    op = "CenterSpatialCrop"
    for inp in ["obl_f32", "lps_i16_c2_fortran", "lps_i16"]:
        for i, r in enumerate(["[3, 2, 2]", "[4, 3, 1]", "[-1, 2, 0]", "3", "[20, 20, 20]",
                               "[5, 4, 3]", "[1, 1, 1]", "2"]):
            if inp == "obl_f32" or i % 2:
                add(f"csc_{inp}_{i}", op, f'{{"roi_size": {r}}}', inp)
    for inp in ["obl2_f32", "obl2_i16_c2", "one2_f32"]:
        for i, r in enumerate(["[3, 3]", "[2, -1]", "[6, 2]", "4", "[1, 1]"]):
            if inp != "one2_f32" or i in (0, 3):
                add(f"csc_{inp}_{i}", op, f'{{"roi_size": {r}}}', inp)


def pads():
    # modes cycle over the sizes (each size meets several modes across the inputs)
    modes = ['', ', "mode": "edge"', ', "mode": "replicate"', ', "mode": "reflect"',
             ', "mode": "symmetric"']
    kw = [', "value": 0', ', "constant_values": 0', ', "mode": "constant", "value": 0.0']

    def too_far(op, key, sz, inp):
        """torch's reflect refuses a pad >= the axis: MONAI raises (tested in C)."""
        try:
            run(op, json.loads(f'{{"{key}": {sz}, "mode": "reflect"}}'), inp)
            return False
        except ValueError:
            return True

    def cycle(prefix, op, key, sizes, inp, shift, skip_reflect=()):
        n = 0
        for i, sz in enumerate(sizes):
            m = modes[(i + shift) % len(modes)]
            if "reflect" in m and (sz in skip_reflect or too_far(op, key, sz, inp)):
                m = modes[4]
            add(f"{prefix}_{inp}_{n}", op, f'{{"{key}": {sz}{m}}}', inp)
            n += 1

    op = "SpatialPad"
    sizes3 = ['[7, 6, 4]', '[-1, 7, 0]', '8', '[3, 3, 3]', '[6, 6, 5]', '[9, 5, 4]',
              '[5, 8, 3]']
    cycle("sp", op, "spatial_size", sizes3, "obl_f32", 0, ("8",))
    cycle("sp", op, "spatial_size", sizes3, "lps_i16_c2_fortran", 2, ("8",))
    for i, k in enumerate(kw):
        add(f"sp_obl_kw{i}", op, f'{{"spatial_size": [7, 6, 4]{k}}}', "obl_f32")
    for i, m in enumerate(modes):
        add(f"sp_lps_end{i}", op, f'{{"spatial_size": [7, 6, 3], "method": "end"{m}}}',
            "lps_i16")
    sizes2 = ['[8, 5]', '[6, -1]', '9', '[7, 6]', '[5, 4]']
    cycle("sp", op, "spatial_size", sizes2, "obl2_f32", 1, ("9",))
    cycle("sp", op, "spatial_size", sizes2, "obl2_i16_c2", 3, ("9",))
    add("sp_one2_edge", op, '{"spatial_size": [4, 8], "mode": "edge"}', "one2_f32")
    add("sp_one2_symmetric", op, '{"spatial_size": [5, 8], "mode": "symmetric"}', "one2_f32")
    add("sp_obl2_symmetric_big", op, '{"spatial_size": [17, 12], "mode": "symmetric"}',
        "obl2_f32")
    op = "BorderPad"
    borders3 = ['2', '[1, 0, 2]', '[1, 2, 0, 1, 2, 0]', '[-1, 2, 0]', '0']
    cycle("bp", op, "spatial_border", borders3, "obl_f32", 0)
    cycle("bp", op, "spatial_border", borders3, "lps_i16_c2_fortran", 3)
    borders2 = ['1', '[2, 0]', '[0, 1, 2, 1]']
    cycle("bp", op, "spatial_border", borders2, "obl2_f32", 2)
    cycle("bp", op, "spatial_border", borders2, "obl2_i16_c2", 4)
    add("bp_obl_symmetric_big", op, '{"spatial_border": [7, 0, 4], "mode": "symmetric"}',
        "obl_f32")
    add("bp_obl_reflect_max", op, '{"spatial_border": [4, 3, 2], "mode": "reflect"}',
        "obl_f32")
    op = "DivisiblePad"
    ks3 = ['4', '[4, 3, 2]', '[0, 8, -1]', '1', '[3, 3, 4]']
    cycle("dp", op, "k", ks3, "obl_f32", 0, ('[0, 8, -1]',))
    cycle("dp", op, "k", ks3, "lps_i16", 2, ('[0, 8, -1]',))
    add("dp_lps_c2_end", op, '{"k": [3, 3, 4], "method": "end", "mode": "edge"}',
        "lps_i16_c2_fortran")
    add("dp_lps_c2_sym", op, '{"k": [4, 4, 4], "mode": "reflect", "method": "symmetric"}',
        "lps_i16_c2_fortran")
    ks2 = ['3', '[2, 4]', '[5, 0]']
    cycle("dp", op, "k", ks2, "obl2_f32", 1)
    cycle("dp", op, "k", ks2, "obl2_i16_c2", 4)
    add("dp_one2_edge", op, '{"k": 4, "mode": "edge"}', "one2_f32")


def main():
    clear(OUT)
    make_inputs()
    crops()
    pads()
    write_cases(OUT, "tools/golden/gen_croppad.py", versions(), inputs, cases)


if __name__ == "__main__":
    main()
