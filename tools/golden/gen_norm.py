#!/usr/bin/env python3
"""gen_norm.py: golden cases for mgc's normalization ops BatchNorm, InstanceNorm,
GroupNorm and LayerNorm, computed by the torch modules MONAI's Norm factory builds
(monai.networks.layers.factories.Norm: nn.BatchNormNd, nn.InstanceNormNd, nn.GroupNorm,
nn.LayerNorm), in train or eval mode.

Two kinds of case, under tests/golden/norm/:
- data cases: small random float32 x (off-centre, scaled), weight, bias, running
  statistics and g; torch's y, the running statistics and num_batches_tracked after the
  call, and autograd's gradients of sum(y * g) with respect to x, weight and bias. Files
  <case>.<key>.npy for key in x w b rm rv nbt (inputs, mgc's order), g, y, rm_out,
  rv_out, nbt_out, dx, dw, db (those that apply).
- shape cases (no data): the shapes of mgc's inputs (x first) for a module's arguments,
  and torch's output shape or the error it raises (then mgc must refuse too).
cases.json: {"generator", "versions", "inputs": {}, "cases": [...]}; each case has name,
op (mgc's), args (the JSON mgc parses), and either files (key -> .npy) or shapes with y
(a shape) or error (torch's message).

Usage: python3 tools/golden/gen_norm.py   (from anywhere; needs monai, torch, numpy).
Deterministic for fixed library versions.
"""
import os
import warnings

import numpy as np
import torch
from monai.networks.layers.factories import Norm

from spatial_common import clear, golden_dir, versions, write_cases

OUT = golden_dir("norm")
gen = torch.Generator().manual_seed(20261124)
cases = []


def rand(*shape, lo=-1.0, hi=1.0):
    return torch.rand(*shape, generator=gen, dtype=torch.float32) * (hi - lo) + lo


def module(op, sd, args):
    """The torch module MONAI's Norm factory gives for mgc's op and arguments."""
    kw = {k: v for k, v in args.items() if k != "training"}
    if op == "BatchNorm":
        return Norm[Norm.BATCH, sd](**kw)
    if op == "InstanceNorm":
        return Norm[Norm.INSTANCE, sd](**kw)
    if op == "GroupNorm":
        return Norm[Norm.GROUP, sd](**kw)
    return Norm[Norm.LAYER, sd](**kw)


def params(m):
    """mgc's parameter inputs of module m, in state_dict order."""
    p = {}
    if getattr(m, "weight", None) is not None:
        p["w"] = m.weight
    if getattr(m, "bias", None) is not None:
        p["b"] = m.bias
    if getattr(m, "running_mean", None) is not None:
        p["rm"], p["rv"] = m.running_mean, m.running_var
    return p


def data_case(name, op, xs, args, nbt=None):
    sd = max(len(xs) - 2, 1)
    m = module(op, sd, args)
    m.train(args.get("training", False))
    x = (rand(*xs) * 3 + 0.7).requires_grad_()
    with torch.no_grad():
        for k, t in params(m).items():
            if k in ("w", "rv"):
                t.copy_(rand(*t.shape, lo=0.5, hi=1.5))
            else:
                t.copy_(rand(*t.shape, lo=-0.5, hi=0.5))
        if nbt is not None:
            m.num_batches_tracked.fill_(nbt)
    arrays = {"x": x.detach().clone()}
    for k, t in params(m).items():
        arrays[k] = t.detach().clone()
    if nbt is not None:
        arrays["nbt"] = m.num_batches_tracked.detach().clone()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = m(x)
    g = rand(*y.shape)
    (y * g).sum().backward()
    arrays.update(g=g, y=y)
    if "rm" in arrays:
        arrays.update(rm_out=m.running_mean, rv_out=m.running_var)
    if nbt is not None:
        arrays["nbt_out"] = m.num_batches_tracked
    arrays["dx"] = x.grad
    if "w" in arrays:
        arrays["dw"] = m.weight.grad
    if "b" in arrays:
        arrays["db"] = m.bias.grad
    files = {}
    for k, v in arrays.items():
        f = f"{name}.{k}.npy"
        v = v.detach().numpy()
        np.save(os.path.join(OUT, f), v if k.startswith("nbt") else v.astype(np.float32))
        files[k] = f
    cases.append({"name": name, "op": op, "args": args, "files": files})


def shape_case(name, op, xs, args):
    sd = max(len(xs) - 2, 1)
    c = {"name": name, "op": op, "args": args}
    try:
        m = module(op, sd, args)
        m.train(args.get("training", False))
        c["shapes"] = [list(xs)] + [list(t.shape) for t in params(m).values()]
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c["y"] = list(m(torch.ones(xs)).shape)
    except (RuntimeError, ValueError) as err:
        c["error"] = str(err).splitlines()[0]
    cases.append(c)


clear(OUT)
# BatchNorm: 1d (both ranks), 2d, 3d; train and eval; no affine, no bias, no tracking,
# the cumulative average
data_case("bn1d_flat_eval", "BatchNorm", (3, 5), {"num_features": 5})
data_case("bn1d_train", "BatchNorm", (4, 3, 7), {"num_features": 3, "training": True}, nbt=0)
data_case("bn2d_train", "BatchNorm", (2, 3, 5, 7), {"num_features": 3, "training": True})
data_case("bn2d_eval", "BatchNorm", (2, 3, 5, 7), {"num_features": 3, "eps": 1e-3})
data_case("bn3d_train", "BatchNorm", (2, 4, 3, 5, 3),
          {"num_features": 4, "momentum": 0.3, "training": True}, nbt=5)
data_case("bn3d_eval_noaffine", "BatchNorm", (3, 2, 3, 4, 3), {"num_features": 2, "affine": False})
data_case("bn2d_cumulative", "BatchNorm", (3, 2, 3, 5),
          {"num_features": 2, "momentum": None, "training": True}, nbt=3)
data_case("bn2d_untracked", "BatchNorm", (2, 3, 4, 5),
          {"num_features": 3, "track_running_stats": False})
data_case("bn1d_nobias_train", "BatchNorm", (5, 2, 3),
          {"num_features": 2, "bias": False, "training": True})
# InstanceNorm: MONAI's default (no affine, no tracking) and the variants
data_case("in1d", "InstanceNorm", (2, 3, 9), {"num_features": 3})
data_case("in2d_affine", "InstanceNorm", (3, 2, 5, 6), {"num_features": 2, "affine": True})
data_case("in3d_affine", "InstanceNorm", (2, 3, 4, 5, 3), {"num_features": 3, "affine": True,
                                                           "eps": 1e-4})
data_case("in3d_track_train", "InstanceNorm", (2, 3, 3, 4, 5),
          {"num_features": 3, "affine": True, "track_running_stats": True, "momentum": 0.2,
           "training": True})
data_case("in2d_track_eval", "InstanceNorm", (2, 3, 5, 4),
          {"num_features": 3, "track_running_stats": True})
# GroupNorm
data_case("gn2d", "GroupNorm", (2, 4, 5, 3), {"num_groups": 2, "num_channels": 4})
data_case("gn3d", "GroupNorm", (2, 6, 3, 4, 5), {"num_groups": 3, "num_channels": 6})
data_case("gn1d_noaffine", "GroupNorm", (3, 3, 7), {"num_groups": 1, "num_channels": 3,
                                                    "affine": False})
data_case("gn1d_per_channel", "GroupNorm", (2, 4, 5), {"num_groups": 4, "num_channels": 4,
                                                       "eps": 1e-3})
data_case("gn_flat", "GroupNorm", (4, 18), {"num_groups": 3, "num_channels": 18})
# LayerNorm
data_case("ln_last", "LayerNorm", (2, 3, 7), {"normalized_shape": 7})
data_case("ln_2axes", "LayerNorm", (3, 4, 5), {"normalized_shape": [4, 5], "eps": 1e-3})
data_case("ln_noaffine", "LayerNorm", (2, 3, 4, 5), {"normalized_shape": [3, 4, 5],
                                                     "elementwise_affine": False})
data_case("ln_nobias", "LayerNorm", (4, 6), {"normalized_shape": [6], "bias": False})
data_case("ln_tokens", "LayerNorm", (2, 9, 12), {"normalized_shape": [12]})

# shapes and refusals
shape_case("shape_bn_one_value", "BatchNorm", (1, 3), {"num_features": 3, "training": True})
shape_case("shape_bn_one_value_eval", "BatchNorm", (1, 3), {"num_features": 3})
shape_case("shape_bn_channels", "BatchNorm", (2, 4, 5), {"num_features": 3})
shape_case("shape_bn_3d", "BatchNorm", (2, 3, 2, 2, 2), {"num_features": 3, "training": True})
shape_case("shape_in_one_spatial", "InstanceNorm", (2, 3, 1), {"num_features": 3})
shape_case("shape_in_one_spatial_eval", "InstanceNorm", (2, 3, 1, 1),
           {"num_features": 3, "track_running_stats": True})
shape_case("shape_in_channels_affine", "InstanceNorm", (2, 4, 5),
           {"num_features": 3, "affine": True})
shape_case("shape_in_channels_warn", "InstanceNorm", (2, 4, 5), {"num_features": 3})
shape_case("shape_gn_divisible", "GroupNorm", (2, 6, 5), {"num_groups": 4, "num_channels": 8})
shape_case("shape_gn_channels", "GroupNorm", (2, 6, 5), {"num_groups": 2, "num_channels": 4})
shape_case("shape_gn_one_value", "GroupNorm", (1, 2, 1), {"num_groups": 2, "num_channels": 2})
shape_case("shape_gn_noaffine_channels", "GroupNorm", (2, 6, 5),
           {"num_groups": 2, "num_channels": 4, "affine": False})
shape_case("shape_ln_mismatch", "LayerNorm", (2, 3, 7), {"normalized_shape": [3, 6]})
shape_case("shape_ln_rank", "LayerNorm", (5,), {"normalized_shape": [2, 5]})
shape_case("shape_ln_whole", "LayerNorm", (4, 5), {"normalized_shape": [4, 5]})
write_cases(OUT, "tools/golden/gen_norm.py", versions(), {}, cases)
