#!/usr/bin/env python3
"""gen_utility.py: golden cases for mgc's utility transforms that keep or move item keys
(Identityd, SqueezeDimd, SplitDimd, CopyItemsd, ConcatItemsd, DeleteItemsd,
MaskIntensityd) and the intensity transforms that read a second key (MaskIntensityd's
select_fn thresholds, HistogramNormalized's mask_key), computed by MONAI.

Runs the dict transforms on small dicts of 2D and 3D MetaTensors (float32, int16, uint8)
with oblique, LPS-like, anisotropic affines. select_fn is given as a pipeline file gives
it ("$lambda x: x > 0.5") and evaluated by MONAI's ConfigParser, as a bundle would.
Writes, under tests/golden/utility/:
  <input>.in.npy      an input array (shared by the cases that use it)
  <case>.<key>.out.npy  MONAI's value of an output key
  cases.json          {"generator", "versions", "inputs": {...}, "cases": [...]}
inputs: name -> {"file", "affine"}. Each case: name, op (the dict transform), args
(exactly the JSON a pipeline passes, keys included), items (item key -> input name: the
dict before the transform), outputs (item key -> {"file", "affine": to_affine_nd(3, .)
of the output MetaTensor's affine (MONAI's SqueezeDim leaves a 3x3 for 2D), "dtype"})
holding every key of MONAI's result, and deleted (the input keys MONAI's result lacks).

Usage: python3 tools/golden/gen_utility.py   (from anywhere; needs monai, torch).
Deterministic for fixed library versions.
"""
import json
import os
import warnings

import numpy as np
import monai.transforms as mt
from monai.bundle import ConfigParser
from monai.data.utils import to_affine_nd

from spatial_common import (affine, clear, golden_dir, meta_tensor, rot, save_input,
                            versions, write_cases)

OUT = golden_dir("utility")
rng = np.random.default_rng(20261123)
inputs = {}
cases = []

OBLIQUE = affine(rot(2, 20) @ rot(0, -10), (0.8, 1.1, 2.5), (-12.5, 30.25, 7.0))
LPS = affine(np.diag([-1.0, -1.0, 1.0, 1.0]), (0.7, 0.7, 3.0), (90.0, 110.0, -40.0))
ANISO = affine(np.eye(4), (2.0, 0.5, 1.5), (1.0, -2.0, 3.0))


def add_input(name, shape, aff, dtype=np.float32, values=None):
    n = int(np.prod(shape))
    if values is not None:
        x = np.asarray(values, dtype=dtype).reshape(shape)
    elif dtype == np.float32:
        x = (rng.permutation(n) * 0.25 - 5.5).astype(np.float32).reshape(shape)
    elif dtype == np.int16:
        x = (rng.permutation(n) * 3 - 100).astype(np.int16).reshape(shape)
    else:
        x = rng.permutation(n).astype(dtype).reshape(shape)
    save_input(OUT, inputs, name, x, aff)


def add(name, op, args_text, items):
    args = json.loads(args_text)
    d = {k: meta_tensor(inputs[v]) for k, v in items.items()}
    kw = dict(args)
    if "select_fn" in kw:  # "$lambda x: ..." as a bundle config evaluates it
        kw["select_fn"] = ConfigParser({"f": kw["select_fn"]}).get_parsed_content("f")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = getattr(mt, op)(**kw)(d)
    outputs = {}
    for k, v in r.items():
        f = f"{name}.{k}.out.npy"
        arr = v.as_tensor().numpy()
        np.save(os.path.join(OUT, f), np.ascontiguousarray(arr))
        aff = to_affine_nd(3, np.asarray(v.affine, dtype=np.float64))
        outputs[k] = {"file": f, "affine": aff.tolist(), "dtype": str(arr.dtype)}
    cases.append({"name": name, "op": op, "args": args, "items": items, "outputs": outputs,
                  "deleted": [k for k in items if k not in r]})


clear(OUT)
add_input("f3", (1, 5, 4, 3), OBLIQUE)
add_input("g3", (2, 5, 4, 3), LPS)
add_input("i3", (2, 5, 4, 1), OBLIQUE, np.int16)
add_input("u3", (1, 5, 4, 3), ANISO, np.uint8)
add_input("j3", (1, 5, 4, 3), LPS, np.int16)
add_input("s3", (1, 5, 1, 3), ANISO, np.int16)
add_input("f2", (1, 6, 5), LPS)
add_input("i2", (2, 6, 5), OBLIQUE, np.int16)
add_input("k2", (1, 6, 1), ANISO)
add_input("m3", (1, 5, 4, 3), OBLIQUE,
          values=rng.choice([-1.0, 0.0, 0.25, 0.5, 1.0, 2.0], size=60))
add_input("m3c", (2, 5, 4, 3), OBLIQUE, np.int16,
          values=rng.choice([-2, 0, 1, 3], size=120))
add_input("m2", (1, 6, 5), LPS, values=rng.choice([0.0, 0.75, -3.0, 1.5], size=30))
add_input("mn3", (1, 5, 4, 3), OBLIQUE,
          values=rng.choice([np.nan, 0.0, -0.5, 1.0, 3.0], size=60))
add_input("mb3", (1, 5, 4, 3), LPS, np.uint8, values=rng.choice([0, 1], size=60))
add_input("mz3", (1, 5, 4, 3), OBLIQUE, values=np.zeros(60))
add_input("mb2", (2, 6, 5), OBLIQUE, np.uint8, values=rng.choice([0, 0, 1, 7], size=60))

add("identity_3d", "Identityd", '{"keys": ["img", "lab"]}', {"img": "f3", "lab": "i3"})
add("identity_2d", "Identityd", '{"keys": "img"}', {"img": "i2"})

add("squeeze_c0", "SqueezeDimd", '{"keys": "img"}', {"img": "f3"})
add("squeeze_last_3d", "SqueezeDimd", '{"keys": "img", "dim": -1}', {"img": "i3"})
add("squeeze_3_3d", "SqueezeDimd", '{"keys": "img", "dim": 3}', {"img": "i3"})
add("squeeze_3_no_meta", "SqueezeDimd", '{"keys": "img", "dim": 3, "update_meta": false}',
    {"img": "i3"})
add("squeeze_2_3d", "SqueezeDimd", '{"keys": "img", "dim": 2}', {"img": "s3"})
add("squeeze_2_2d", "SqueezeDimd", '{"keys": "img", "dim": -1}', {"img": "k2"})
add("squeeze_all", "SqueezeDimd", '{"keys": ["img", "lab"], "dim": null}',
    {"img": "s3", "lab": "k2"})

add("split_c_3d", "SplitDimd", '{"keys": "img"}', {"img": "g3"})
add("split_c_nokeep", "SplitDimd", '{"keys": ["img", "lab"], "keepdim": false}',
    {"img": "g3", "lab": "i2"})
add("split_x_3d", "SplitDimd", '{"keys": "img", "dim": 1}', {"img": "f3"})
add("split_z_nokeep", "SplitDimd", '{"keys": "img", "dim": -1, "keepdim": false}',
    {"img": "u3"})
add("split_y_no_meta", "SplitDimd", '{"keys": "img", "dim": 2, "update_meta": false}',
    {"img": "i3"})
add("split_y_2d", "SplitDimd", '{"keys": "img", "dim": -1}', {"img": "i2"})
add("split_postfixes", "SplitDimd",
    '{"keys": "img", "dim": 3, "output_postfixes": ["lo", "mid", "hi"]}', {"img": "f3"})

add("copy_one", "CopyItemsd", '{"keys": "img", "times": 3}', {"img": "f3", "lab": "i3"})
add("copy_default_names", "CopyItemsd", '{"keys": ["img", "lab"], "times": 2}',
    {"img": "f3", "lab": "i3"})
add("copy_names", "CopyItemsd",
    '{"keys": ["img", "lab"], "times": 2, "names": ["i1", "l1", "i2", "l2"]}',
    {"img": "f2", "lab": "i2"})

add("concat_c_3d", "ConcatItemsd", '{"keys": ["a", "b", "c"], "name": "all"}',
    {"a": "f3", "b": "g3", "c": "f3"})
add("concat_promote_f", "ConcatItemsd", '{"keys": ["a", "b"], "name": "ab"}',
    {"a": "j3", "b": "g3"})
add("concat_promote_i", "ConcatItemsd", '{"keys": ["u", "s"], "name": "u"}',
    {"u": "u3", "s": "m3c"})
add("concat_last_2d", "ConcatItemsd", '{"keys": ["b", "a"], "name": "x", "dim": -1}',
    {"a": "f2", "b": "m2"})
add("concat_y_3d", "ConcatItemsd", '{"keys": ["a", "b"], "name": "a", "dim": 2}',
    {"a": "f3", "b": "m3"})

add("delete_one", "DeleteItemsd", '{"keys": "lab"}', {"img": "f3", "lab": "i3"})
add("delete_two", "DeleteItemsd", '{"keys": ["img", "lab", "absent"]}',
    {"img": "f3", "lab": "i3", "other": "f2"})

add("mask_f_3d", "MaskIntensityd", '{"keys": "img", "mask_key": "m"}', {"img": "f3", "m": "m3"})
add("mask_int_truncates", "MaskIntensityd", '{"keys": "img", "mask_key": "m"}',
    {"img": "u3", "m": "m3"})
add("mask_one_channel", "MaskIntensityd", '{"keys": ["img", "lab"], "mask_key": "m"}',
    {"img": "g3", "lab": "m3c", "m": "m3"})
add("mask_channels", "MaskIntensityd", '{"keys": "img", "mask_key": "m"}',
    {"img": "g3", "m": "m3c"})
add("mask_2d", "MaskIntensityd", '{"keys": ["img", "m"], "mask_key": "m"}',
    {"img": "i2", "m": "m2"})

add("mask_sel_gt", "MaskIntensityd", '{"keys": "img", "mask_key": "m", '
    '"select_fn": "$lambda x: x > 0.5"}', {"img": "f3", "m": "m3"})
add("mask_sel_int_ge", "MaskIntensityd", '{"keys": "img", "mask_key": "m", '
    '"select_fn": "$lambda x: x >= 1"}', {"img": "u3", "m": "m3"})
add("mask_sel_int_float", "MaskIntensityd", '{"keys": "img", "mask_key": "m", '
    '"select_fn": "$lambda x: 0.5 < x"}', {"img": "u3", "m": "m3"})
add("mask_sel_lt", "MaskIntensityd", '{"keys": ["img", "lab"], "mask_key": "m", '
    '"select_fn": "$lambda x: x < 0"}', {"img": "g3", "lab": "m3c", "m": "m3c"})
add("mask_sel_ne", "MaskIntensityd", '{"keys": "img", "mask_key": "m", '
    '"select_fn": "$lambda m:0!=m"}', {"img": "i2", "m": "m2"})
add("mask_sel_eq", "MaskIntensityd", '{"keys": "img", "mask_key": "m", '
    '"select_fn": "$lambda x: x == 1.5"}', {"img": "i2", "m": "m2"})
add("mask_sel_nan_ne", "MaskIntensityd", '{"keys": "img", "mask_key": "m", '
    '"select_fn": "$lambda x: x != 0"}', {"img": "f3", "m": "mn3"})
add("mask_sel_nan_le", "MaskIntensityd", '{"keys": "img", "mask_key": "m", '
    '"select_fn": "$lambda x: x <= 1"}', {"img": "f3", "m": "mn3"})
add("mask_sel_is_positive", "MaskIntensityd", '{"keys": "img", "mask_key": "m", '
    '"select_fn": "$monai.transforms.utils.is_positive"}', {"img": "j3", "m": "m3"})

add("hist_mask_f", "HistogramNormalized", '{"keys": "img", "mask_key": "m", "num_bins": 10}',
    {"img": "f3", "m": "m3"})
add("hist_mask_i16", "HistogramNormalized", '{"keys": ["img", "m"], "mask_key": "m"}',
    {"img": "j3", "m": "mb3"})
add("hist_mask_2ch", "HistogramNormalized",
    '{"keys": "img", "mask_key": "m", "num_bins": 7, "min": -10, "max": 10, "dtype": null}',
    {"img": "g3", "m": "m3c"})
add("hist_mask_2d", "HistogramNormalized",
    '{"keys": "img", "mask_key": "m", "dtype": "float64", "max": 100}',
    {"img": "i2", "m": "mb2"})
add("hist_mask_nan", "HistogramNormalized", '{"keys": "img", "mask_key": "m", "num_bins": 5}',
    {"img": "f3", "m": "mn3"})
add("hist_mask_empty", "HistogramNormalized",
    '{"keys": "img", "mask_key": "m", "min": -5, "max": 5}', {"img": "f3", "m": "mz3"})
add("hist_mask_u8", "HistogramNormalized",
    '{"keys": "img", "mask_key": "m", "dtype": "uint8"}', {"img": "u3", "m": "mb3"})

write_cases(OUT, "tools/golden/gen_utility.py", versions(), inputs, cases)
