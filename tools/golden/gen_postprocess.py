#!/usr/bin/env python3
"""gen_postprocess.py: golden cases for mgc's post-processing ops, computed by MONAI.

Runs MONAI's array transforms Activations, AsDiscrete, KeepLargestConnectedComponent,
RemoveSmallObjects, FillHoles, LabelFilter, LabelToContour, MeanEnsemble and VoteEnsemble
on small 2D and 3D inputs (label maps, one-hot and float, int and float dtypes, each
connectivity, a volume with thousands of components, empty images) and writes, under
tests/golden/postprocess/, <input>.in.npy, <case>.out.npy and cases.json (`inputs`: file
and affine; `cases`: name, op, args, input, output, and `plain` when MONAI gets a plain
tensor instead of a MetaTensor). `args` is the JSON a pipeline passes; `other` is a
{"_target_": "torch.nn.X"} component, built here as torch.nn.X(). Every input is copied
before MONAI sees it (several of these transforms write into their input).

Usage: python3 tools/golden/gen_postprocess.py   (from anywhere; needs monai, torch,
scikit-image and scipy). Output is deterministic for fixed library versions.
"""
import json
import os
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spatial_common import (affine, clear, golden_dir, meta_tensor, rot, save_input,  # noqa: E402
                            save_output, versions, write_cases)

import monai.transforms as mt  # noqa: E402
import skimage  # noqa: E402
from skimage import measure  # noqa: E402

OUT = golden_dir("postprocess")
rng = np.random.default_rng(20261123)
inputs, cases = {}, []
AFF2 = affine(rot(2, 20), (0.8, 1.3, 2.0), (10, -4, 3))
AFF3 = affine(rot(0, 30) @ rot(2, -15), (1.5, 0.7, 2.5), (-90, 12, 40))


def blobs_once(shape, labels, n, rmax, dtype):
    x = np.zeros(shape, dtype=np.int64)
    for lab in labels:
        for _ in range(n):
            lo = [rng.integers(0, s) for s in shape]
            hi = [min(s, a + rng.integers(1, rmax + 1)) for a, s in zip(lo, shape)]
            x[tuple(slice(a, b) for a, b in zip(lo, hi))] = lab
    noise = rng.random(shape) < 0.04
    x[noise] = rng.choice(labels, size=int(noise.sum()))
    return x[None].astype(dtype)


def has_ties(fg):
    """Whether the largest components of fg tie in size with the next (numpy's unstable
    argsort breaks such ties in MONAI), for num_components 1 and 2 and each
    connectivity."""
    for conn in range(1, fg.ndim + 1):
        lab = measure.label(fg, connectivity=conn)
        sizes = sorted(np.bincount(lab.ravel())[1:], reverse=True)
        for k in (1, 2):
            if len(sizes) > k and sizes[k - 1] == sizes[k]:
                return True
    return False


def blobs(shape, labels, n, rmax, dtype):
    """A label map (1, *shape) with n random boxes per label and scattered voxels, whose
    largest components never tie (per label, and for the union of any two labels)."""
    for _ in range(1000):
        x = blobs_once(shape, labels, n, rmax, dtype)
        fgs = [x[0] == v for v in labels] + [np.isin(x[0], labels[:2]), x[0] > 0]
        if not any(has_ties(f) for f in fgs):
            return x
    raise AssertionError("no tie-free label map")


def onehot(lab, k, dtype):
    return np.stack([(lab[0] == c) for c in range(k)]).astype(dtype)


def inp(name, x, aff=None, fortran=False):
    if aff is None:
        aff = AFF2 if x.ndim <= 3 else AFF3
    save_input(OUT, inputs, name, x, aff, fortran)
    return name


def component(spec):
    return getattr(torch.nn, spec["_target_"].split(".")[-1])()


def build(op, args):
    kw = dict(args)
    if isinstance(kw.get("other"), dict):
        kw["other"] = component(kw["other"])
    if "dtype" in kw:  # a config's "$torch.uint8"; one_hot takes no dtype names
        kw["dtype"] = getattr(torch, kw["dtype"])
    return getattr(mt, op)(**kw)


def case(name, op, args, input_name, plain=False):
    x = inputs[input_name]["array"]
    t = torch.from_numpy(np.ascontiguousarray(x).copy())
    img = t if plain else meta_tensor({"array": x.copy(), "affine": inputs[input_name]["affine"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = build(op, json.loads(json.dumps(args)))(img)
    y = y.as_tensor() if isinstance(y, monai.data.MetaTensor) else y
    y = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    c = {"name": name, "op": op, "args": args, "input": input_name,
         "output": save_output(OUT, name, y)}
    if plain:
        c["plain"] = True
    cases.append(c)


import monai  # noqa: E402

clear(OUT)

# ---- inputs ---------------------------------------------------------------------------
lab2 = inp("lab2_i16", blobs((14, 12), [1, 2, 3], 3, 5, np.int16))
lab2f = inp("lab2_f32", blobs((12, 11), [1, 2], 3, 5, np.float32), fortran=True)
lab2u8 = inp("lab2_u8", blobs((13, 10), [1, 4], 2, 6, np.uint8))
lab3 = inp("lab3_i16", blobs((9, 8, 7), [1, 2], 3, 4, np.int16), fortran=True)
oh2 = inp("oh2_f32", onehot(inputs[lab2]["array"], 4, np.float32))
oh3 = inp("oh3_u8", onehot(inputs[lab3]["array"], 3, np.uint8))
empty2 = inp("empty2_i16", np.zeros((1, 7, 6), np.int16))
empty3 = inp("empty3_f32", np.zeros((1, 5, 4, 3), np.float32))
# thousands of components: sparse random voxels, face connectivity
sparse = (rng.random((1, 30, 28, 20)) < 0.12).astype(np.uint8)
sparse[0, 3:14, 4:16, 2:9] = 1  # one clear winner
n_sparse = measure.label(sparse[0], connectivity=1).max()
assert n_sparse > 1000, n_sparse
many3 = inp("many3_u8", sparse)
# holes: rings and shells around background and around another label
h2 = np.zeros((1, 12, 13), np.int16)
h2[0, 1:8, 1:8] = 1
h2[0, 3:5, 3:6] = 0
h2[0, 5, 5] = 2
h2[0, 2:11, 9:12] = 3
h2[0, 5:7, 10] = 0
h2[0, 9, 2:5] = 1
h2[0, 10, 3] = 0  # open: on a line touching nothing but itself
h2[0, 6, 1] = 0  # a notch: diagonal leak with connectivity 2 only
hole2 = inp("hole2_i16", h2)
h2d = h2.copy()
h2d[0, 7, 3:6] = 0
h2d[0, 6, 4] = 0
h2d[0, 5, 5] = 0  # a hole that touches the outside only diagonally
h2d[0, 6, 6] = 0
h2d[0, 7, 7] = 0
holed = inp("holediag_i16", h2d)
h3 = np.zeros((1, 8, 8, 7), np.float32)
h3[0, 1:7, 1:7, 1:6] = 2
h3[0, 3:5, 3:5, 2:4] = 0
h3[0, 2, 2, 2] = 1
hole3 = inp("hole3_f32", h3)
holeoh = inp("holeoh_f32", onehot(h2, 4, np.float32))
logit2 = inp("logit2_f32", rng.normal(0, 2, (3, 6, 5)).astype(np.float32))
logit3 = inp("logit3_f64", rng.normal(0, 3, (2, 4, 5, 3)))
logit_i = inp("logit_i16", rng.integers(-3, 4, (2, 5, 4)).astype(np.int16))
prob2 = inp("prob2_f32", rng.random((1, 6, 7)).astype(np.float32))
lab_onehot_src = inp("labsrc_i16", rng.integers(0, 4, (1, 5, 6)).astype(np.int16))
cont2 = np.zeros((1, 9, 10), np.float32)
cont2[0, 2:7, 3:9] = 1
cont2[0, 4, 5] = 0
contour2 = inp("cont2_f32", cont2)
cont3 = inp("cont3_f32", (rng.random((2, 6, 5, 4)) < 0.5).astype(np.float32))
contf = inp("contf_f64", rng.random((1, 6, 5)))
ens = inp("ens_f32", rng.random((3, 2, 6, 5)).astype(np.float32))
ens3 = inp("ens3_f64", rng.random((4, 1, 4, 3, 3)))
voteoh = inp("voteoh_f32", (rng.random((3, 2, 6, 5)) < 0.5).astype(np.float32))
votelab = inp("votelab_i16", rng.integers(0, 3, (5, 1, 6, 5)).astype(np.int16))
votelabf = inp("votelab3_f32", rng.integers(0, 4, (3, 1, 4, 3, 3)).astype(np.float32))
small2 = np.zeros((1, 10, 11), np.uint8)
small2[0, 1:4, 1:4] = 1
small2[0, 6, 6] = 1
small2[0, 7, 7] = 1
small2[0, 8, 1:3] = 1
small2[0, 5:9, 9] = 1
rso2 = inp("rso2_u8", small2)
rso3 = inp("rso3_i16", blobs((8, 7, 6), [1, 2, 3], 3, 3, np.int16))
rsooh = inp("rsooh_f32", onehot(inputs[rso3]["array"], 3, np.float32)[1:])

# ---- cases -----------------------------------------------------------------------------
A = "Activations"
case("act_sigmoid", A, {"sigmoid": True}, logit2)
case("act_softmax", A, {"softmax": True}, logit2)
case("act_softmax_dim1", A, {"softmax": True, "dim": 1}, logit2)
case("act_softmax_f64_3d", A, {"softmax": True}, logit3)
case("act_both", A, {"sigmoid": True, "softmax": True}, logit3)
case("act_none", A, {}, logit2)
case("act_sigmoid_i16", A, {"sigmoid": True}, logit_i)
for o in ["Tanh", "Sigmoid", "ReLU", "SiLU", "GELU", "Identity"]:
    case(f"act_other_{o.lower()}", A, {"other": {"_target_": f"torch.nn.{o}"}}, logit2)
case("act_softmax_tanh_3d", A, {"softmax": True, "other": {"_target_": "torch.nn.Tanh"}}, logit3)

D = "AsDiscrete"
case("ad_argmax", D, {"argmax": True}, logit2)
case("ad_argmax_nokeep", D, {"argmax": True, "keepdim": False}, logit2)
case("ad_argmax_dim1", D, {"argmax": True, "dim": 1}, logit2)
case("ad_argmax_onehot", D, {"argmax": True, "to_onehot": 3}, logit2)
case("ad_argmax_onehot_3d", D, {"argmax": True, "to_onehot": 2}, logit3)
case("ad_onehot_labels", D, {"to_onehot": 4}, lab_onehot_src)
case("ad_onehot_u8", D, {"to_onehot": 5, "dtype": "uint8"}, lab_onehot_src)
case("ad_threshold", D, {"threshold": 0.5}, prob2)
case("ad_threshold_i16", D, {"threshold": 0.5}, logit_i)
case("ad_threshold_f64", D, {"threshold": -0.25, "dtype": "float64"}, logit3)
case("ad_rounding", D, {"rounding": "torchrounding"}, logit3)
case("ad_argmax_onehot_thr", D, {"argmax": True, "to_onehot": 3, "threshold": 0.5,
                                 "dtype": "int16"}, logit2)
case("ad_none_i16", D, {}, logit_i)

K = "KeepLargestConnectedComponent"
case("klcc_2d", K, {}, lab2)
case("klcc_2d_c1", K, {"connectivity": 1}, lab2)
case("klcc_2d_c2", K, {"connectivity": 2}, lab2)
case("klcc_2d_labels1", K, {"applied_labels": [1]}, lab2)
case("klcc_2d_union", K, {"applied_labels": [1, 2], "independent": False, "connectivity": 1},
     lab2)
case("klcc_2d_union_all", K, {"applied_labels": [1, 2, 3], "independent": False}, lab2)
case("klcc_2d_f32", K, {"connectivity": 1}, lab2f)
case("klcc_2d_u8_two", K, {"num_components": 2, "connectivity": 1}, lab2u8)
case("klcc_3d_c1", K, {"connectivity": 1}, lab3)
case("klcc_3d_c2", K, {"connectivity": 2}, lab3)
case("klcc_3d_c3", K, {}, lab3)
case("klcc_oh2", K, {}, oh2)
case("klcc_oh2_c1_labels", K, {"applied_labels": [1, 3], "connectivity": 1}, oh2)
case("klcc_oh2_union", K, {"applied_labels": [1, 2], "independent": False}, oh2)
case("klcc_oh3", K, {"connectivity": 1}, oh3)
case("klcc_oh2_as_labels", K, {"is_onehot": False, "applied_labels": [1]}, oh2)
case("klcc_empty2", K, {}, empty2)
case("klcc_empty3", K, {"connectivity": 1}, empty3)
case("klcc_many3", K, {"connectivity": 1}, many3)
case("klcc_many3_c3", K, {"connectivity": 3}, many3)
case("klcc_zero_components", K, {"num_components": 0, "connectivity": 1}, lab2u8)

R = "RemoveSmallObjects"
case("rso_2d", R, {"min_size": 3}, rso2)
case("rso_2d_c2", R, {"min_size": 3, "connectivity": 2}, rso2)
case("rso_2d_c3", R, {"min_size": 4, "connectivity": 3}, rso2)
case("rso_3d_labels", R, {"min_size": 10}, rso3)
case("rso_3d_notindep", R, {"min_size": 5, "independent_channels": False}, rso3)
case("rso_3d_notindep_c4", R, {"min_size": 5, "independent_channels": False,
                               "connectivity": 4}, rso3)
case("rso_oh_c1", R, {"min_size": 4}, rsooh)
case("rso_oh_c2", R, {"min_size": 4, "connectivity": 2}, rsooh)
case("rso_measure_meta", R, {"min_size": 5, "by_measure": True}, rso2)
case("rso_measure_pixdim", R, {"min_size": 5, "by_measure": True, "pixdim": [2.0, 1.5]},
     rso2, plain=True)
case("rso_measure_pixdim1", R, {"min_size": 20, "by_measure": True, "pixdim": 0.5}, rso2,
     plain=True)
case("rso_many3", R, {"min_size": 2}, many3)
case("rso_empty", R, {"min_size": 2}, empty3)

F = "FillHoles"
case("fh_2d", F, {}, hole2)
case("fh_2d_c1", F, {"connectivity": 1}, hole2)
case("fh_2d_c2", F, {"connectivity": 2}, hole2)
case("fh_2d_label1", F, {"applied_labels": [1]}, hole2)
case("fh_2d_label3", F, {"applied_labels": 3, "connectivity": 1}, hole2)
case("fh_diag_c1", F, {"connectivity": 1}, holed)
case("fh_diag_c2", F, {"connectivity": 2}, holed)
case("fh_3d", F, {}, hole3)
case("fh_3d_c1", F, {"connectivity": 1}, hole3)
case("fh_3d_c2", F, {"connectivity": 2}, hole3)
case("fh_oh", F, {}, holeoh)
case("fh_oh_c1_label", F, {"applied_labels": [1], "connectivity": 1}, holeoh)
case("fh_lab2", F, {"connectivity": 1}, lab2)
case("fh_empty", F, {}, empty2)

L = "LabelFilter"
case("lf_2d", L, {"applied_labels": [1, 3]}, lab2)
case("lf_3d_one", L, {"applied_labels": 2}, lab3)
case("lf_f32", L, {"applied_labels": [2, 7]}, lab2f)

C = "LabelToContour"
case("lc_2d", C, {}, contour2)
case("lc_3d", C, {"kernel_type": "Laplace"}, cont3)
case("lc_f64", C, {}, contf)

M = "MeanEnsemble"
case("me_plain", M, {}, ens)
case("me_weights", M, {"weights": [1, 2, 3]}, ens)
case("me_3d_weights", M, {"weights": [0.5, 1.0, 2.0, 0.25]}, ens3)

V = "VoteEnsemble"
case("ve_onehot", V, {}, voteoh)
case("ve_labels", V, {"num_classes": 3}, votelab)
case("ve_labels_3d", V, {"num_classes": 4}, votelabf)

vers = versions()
vers["scikit-image"] = skimage.__version__
write_cases(OUT, "tools/golden/gen_postprocess.py", vers, inputs, cases)
