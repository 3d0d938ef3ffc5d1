#!/usr/bin/env python3
"""gen_pool.py: golden cases for mgc's pooling, upsampling and shape ops (MaxPool,
AvgPool, AdaptiveAvgPool, Upsample, Concat, Reshape, Flatten, Pad), computed by torch
(F.max_pool*d, F.avg_pool*d, F.adaptive_avg_pool*d, nn.Upsample, torch.cat,
torch.reshape, nn.Flatten, F.pad), which is what MONAI's networks call.

Two kinds of case, under tests/golden/pool/:
- data cases: small random float32 inputs and g; torch's y and the gradients of the
  scalar loss sum(y * g) with respect to each input (autograd). Files
  <case>.<x0|x1..|g|y|dx0|dx1..>.npy.
  Upsample's gradients are the adjoint of torch's forward, computed from the forward
  of every basis image: torch's nearest backward differs from it in 1D and 3D where
  the size stays or doubles (such cases are marked torch_backward_differs).
- error cases (no data): an input shape and arguments torch refuses; mgc must refuse
  them too (the message is stored for the reader).
cases.json: {"generator", "versions", "inputs": {}, "cases": [...]}; each case has name,
op (mgc's), args (the JSON mgc parses), and either files (x, dx: lists; g, y) or x (the
input shapes) and error (torch's message).

Usage: python3 tools/golden/gen_pool.py   (from anywhere; needs torch, numpy).
Deterministic for fixed library versions.
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from spatial_common import clear, golden_dir, versions, write_cases

OUT = golden_dir("pool")
gen = torch.Generator().manual_seed(20261124)
cases = []


def rand(*shape):
    return torch.rand(*shape, generator=gen, dtype=torch.float32) * 2 - 1


def ties(*shape):
    """Small integers: many equal values in a window (MaxPool's first-max rule)."""
    return torch.randint(0, 3, shape, generator=gen).float()


def pool_kw(args, keys):
    return {k: args[k] for k in keys if k in args}


def call(op, xs, args):
    """torch's function for mgc's op and arguments."""
    x = xs[0]
    sd = x.dim() - 2
    if op == "MaxPool":
        f = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[sd - 1]
        return f(x, **pool_kw(args, ("kernel_size", "stride", "padding", "dilation",
                                     "ceil_mode")))
    if op == "AvgPool":
        f = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[sd - 1]
        return f(x, **pool_kw(args, ("kernel_size", "stride", "padding", "ceil_mode",
                                     "count_include_pad", "divisor_override")))
    if op == "AdaptiveAvgPool":
        f = (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[sd - 1]
        return f(x, args["output_size"])
    if op == "Upsample":  # nn.Upsample takes a tuple, not a list, of scale factors
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
        return nn.Upsample(**kw)(x)
    if op == "Concat":
        return torch.cat(xs, **args)
    if op == "Reshape":
        return torch.reshape(x, args["shape"])
    if op == "Flatten":
        return nn.Flatten(**args)(x)
    if op == "Pad":
        return F.pad(x, **args)
    raise ValueError(op)


def data_case(name, op, xs, args, make=rand):
    xs = [make(*s).requires_grad_() for s in xs]
    y = call(op, xs, args)
    g = rand(*y.shape)
    (y * g).sum().backward()
    files = {"x": [], "dx": []}
    case = {"name": name, "op": op, "args": args, "files": files}
    if op == "Upsample":
        # torch's nearest backward takes its 2D kernel's shortcuts (out = in, out = 2 in)
        # in 1D and 3D too, where its forward does not: the gradient stored is the
        # adjoint of torch's forward, from the forward of every basis image
        x = xs[0]
        with torch.no_grad():
            basis = torch.eye(x.numel()).reshape(x.numel() * x.shape[0], *x.shape[1:])
            yb = call(op, [basis], args).reshape(x.numel(), *y.shape)
            adj = torch.einsum("i...,...->i", yb, g).reshape(x.shape)
        if not torch.allclose(adj, x.grad, atol=1e-6):
            case["torch_backward_differs"] = True
        x.grad = adj

    def save(k, v):
        f = f"{name}.{k}.npy"
        np.save(os.path.join(OUT, f), v.detach().numpy().astype(np.float32))
        return f
    for i, x in enumerate(xs):
        files["x"].append(save(f"x{i}", x))
        files["dx"].append(save(f"dx{i}", x.grad))
    files["g"], files["y"] = save("g", g), save("y", y)
    cases.append(case)


def error_case(name, op, xs, args):
    try:
        with torch.no_grad():
            call(op, [torch.zeros(s) for s in xs], args)
    except (RuntimeError, ValueError, NotImplementedError) as err:
        cases.append({"name": name, "op": op, "args": args, "x": [list(s) for s in xs],
                      "error": str(err).splitlines()[0]})
        return
    raise AssertionError(f"{name}: torch accepts it")


clear(OUT)
# MaxPool: every rank, odd sizes, strides, padding, dilation, ceil_mode, ties
data_case("max1_basic", "MaxPool", [(2, 3, 11)], {"kernel_size": 3})
data_case("max1_ceil", "MaxPool", [(1, 2, 10)], {"kernel_size": 3, "stride": 2, "padding": 1,
                                                "ceil_mode": True})
data_case("max1_dil", "MaxPool", [(1, 2, 13)], {"kernel_size": 3, "stride": 2, "dilation": 3,
                                               "padding": 1})
data_case("max2_basic", "MaxPool", [(2, 2, 7, 5)], {"kernel_size": 2})
data_case("max2_mixed", "MaxPool", [(1, 3, 9, 8)], {"kernel_size": [3, 2], "stride": [2, 1],
                                                   "padding": [1, 0], "dilation": [1, 2],
                                                   "ceil_mode": True})
data_case("max2_overlap_ties", "MaxPool", [(1, 2, 7, 7)], {"kernel_size": 3, "stride": 1,
                                                          "padding": 1}, ties)
data_case("max2_ceil_ties", "MaxPool", [(1, 1, 8, 7)], {"kernel_size": 3, "stride": 2,
                                                       "ceil_mode": True}, ties)
data_case("max3_basic", "MaxPool", [(1, 2, 5, 6, 7)], {"kernel_size": 2, "stride": 2,
                                                      "ceil_mode": True})
data_case("max3_mixed", "MaxPool", [(2, 1, 7, 5, 6)], {"kernel_size": [3, 2, 3],
                                                      "stride": [2, 1, 2],
                                                      "padding": [1, 1, 0],
                                                      "dilation": [1, 1, 2]})
data_case("max3_ties", "MaxPool", [(1, 2, 5, 5, 5)], {"kernel_size": 3, "stride": 2,
                                                     "padding": 1}, ties)
# AvgPool: padding counted or not, ceil_mode's partial windows, divisor_override
data_case("avg1_basic", "AvgPool", [(2, 3, 11)], {"kernel_size": 3, "stride": 2})
data_case("avg1_pad", "AvgPool", [(1, 2, 10)], {"kernel_size": 4, "stride": 3, "padding": 2,
                                               "ceil_mode": True, "count_include_pad": False})
data_case("avg2_basic", "AvgPool", [(2, 2, 7, 5)], {"kernel_size": 2})
data_case("avg2_pad_cip", "AvgPool", [(1, 3, 9, 8)], {"kernel_size": [3, 2], "stride": [2, 1],
                                                     "padding": [1, 1], "ceil_mode": True})
data_case("avg2_pad_nocip", "AvgPool", [(1, 3, 9, 8)], {"kernel_size": 3, "stride": 2,
                                                       "padding": 1, "ceil_mode": True,
                                                       "count_include_pad": False})
data_case("avg2_divisor", "AvgPool", [(1, 2, 6, 7)], {"kernel_size": 3, "stride": 2,
                                                     "padding": 1, "divisor_override": 5})
data_case("avg3_basic", "AvgPool", [(1, 2, 5, 6, 7)], {"kernel_size": 2, "ceil_mode": True})
data_case("avg3_mixed", "AvgPool", [(2, 1, 7, 5, 6)], {"kernel_size": [3, 2, 3],
                                                      "stride": [2, 1, 2],
                                                      "padding": [1, 1, 0],
                                                      "count_include_pad": False})
data_case("avg3_divisor", "AvgPool", [(1, 1, 5, 5, 5)], {"kernel_size": 3, "stride": 2,
                                                        "padding": 1, "ceil_mode": True,
                                                        "divisor_override": 4})
# AdaptiveAvgPool: sizes that divide and that do not (overlapping windows), upscaling
data_case("adapt1", "AdaptiveAvgPool", [(2, 3, 11)], {"output_size": 4})
data_case("adapt2", "AdaptiveAvgPool", [(1, 2, 7, 9)], {"output_size": [3, 4]})
data_case("adapt2_one", "AdaptiveAvgPool", [(2, 3, 5, 6)], {"output_size": 1})
data_case("adapt2_up", "AdaptiveAvgPool", [(1, 1, 3, 4)], {"output_size": [5, 7]})
data_case("adapt3", "AdaptiveAvgPool", [(1, 2, 5, 7, 6)], {"output_size": [2, 3, 4]})
# Upsample: sizes and scale factors (non-integer, below 1), align_corners both ways
data_case("up1_nearest", "Upsample", [(2, 2, 5)], {"scale_factor": 2})
data_case("up1_nearest_frac", "Upsample", [(1, 2, 7)], {"scale_factor": 1.7})
data_case("up1_linear", "Upsample", [(1, 2, 7)], {"scale_factor": 2.5, "mode": "linear"})
data_case("up1_linear_ac", "Upsample", [(1, 2, 7)], {"size": 11, "mode": "linear",
                                                    "align_corners": True})
data_case("up1_exact", "Upsample", [(1, 2, 7)], {"scale_factor": 1.6, "mode": "nearest-exact"})
data_case("up2_nearest_size", "Upsample", [(1, 2, 5, 4)], {"size": [7, 9]})
data_case("up2_nearest_down", "Upsample", [(1, 2, 9, 8)], {"scale_factor": [0.6, 0.75]})
data_case("up2_nearest_frac2", "Upsample", [(1, 1, 3, 5)], {"scale_factor": 2.1})
data_case("up2_bilinear", "Upsample", [(2, 2, 5, 4)], {"scale_factor": 2, "mode": "bilinear"})
data_case("up2_bilinear_ac", "Upsample", [(1, 2, 5, 4)], {"scale_factor": [1.5, 2.3],
                                                         "mode": "bilinear",
                                                         "align_corners": True})
data_case("up2_bilinear_frac", "Upsample", [(1, 2, 5, 4)], {"scale_factor": [1.5, 2.3],
                                                           "mode": "bilinear",
                                                           "align_corners": False})
data_case("up2_bilinear_recompute", "Upsample", [(1, 2, 5, 4)],
          {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True})
data_case("up2_bilinear_down", "Upsample", [(1, 2, 9, 7)], {"size": [4, 5], "mode": "bilinear"})
data_case("up2_exact_size", "Upsample", [(1, 2, 5, 4)], {"size": [8, 7], "mode": "nearest-exact"})
data_case("up3_nearest", "Upsample", [(1, 2, 3, 4, 2)], {"scale_factor": 2})
data_case("up3_trilinear", "Upsample", [(1, 2, 3, 4, 3)], {"scale_factor": 2, "mode": "trilinear"})
data_case("up3_trilinear_ac", "Upsample", [(1, 1, 3, 4, 3)], {"size": [5, 6, 4],
                                                             "mode": "trilinear",
                                                             "align_corners": True})
data_case("up1_nearest_2x", "Upsample", [(1, 2, 3)], {"scale_factor": 2.1})
data_case("up3_nearest_keep", "Upsample", [(1, 1, 3, 3, 4)], {"scale_factor": [1.3, 2.1, 1.6]})
data_case("up2_nearest_keep", "Upsample", [(1, 1, 3, 4)], {"scale_factor": [1.3, 1.6]})
data_case("up1_linear_keep", "Upsample", [(1, 2, 3)], {"scale_factor": 1.3, "mode": "linear"})
data_case("up3_trilinear_frac", "Upsample", [(1, 1, 4, 3, 5)], {"scale_factor": [1.5, 1.3, 0.7],
                                                               "mode": "trilinear"})
# Concat, Reshape, Flatten
data_case("cat_channels", "Concat", [(2, 3, 4, 5), (2, 1, 4, 5), (2, 2, 4, 5)], {"dim": 1})
data_case("cat_last", "Concat", [(1, 2, 3), (1, 2, 4)], {"dim": -1})
data_case("cat_first", "Concat", [(1, 2, 3, 2, 2), (2, 2, 3, 2, 2)], {})
data_case("reshape", "Reshape", [(2, 3, 4, 5)], {"shape": [2, -1, 10]})
data_case("reshape_flat", "Reshape", [(2, 3, 5)], {"shape": [-1]})
data_case("flatten", "Flatten", [(2, 3, 4, 5)], {})
data_case("flatten_mid", "Flatten", [(2, 3, 4, 5, 2)], {"start_dim": 2, "end_dim": 3})
# Pad: every mode, negative amounts, 1 to 3 axes
data_case("pad_const", "Pad", [(1, 2, 5, 4)], {"pad": [1, 2, 0, 3], "value": 0.5})
data_case("pad_const_neg", "Pad", [(1, 2, 5, 6)], {"pad": [-1, 2, 2, -2]})
data_case("pad_const_all", "Pad", [(2, 3, 4)], {"pad": [1, 0, 0, 1, 2, 1]})
data_case("pad_reflect1", "Pad", [(1, 2, 6)], {"pad": [3, 5], "mode": "reflect"})
data_case("pad_reflect2", "Pad", [(1, 2, 5, 4)], {"pad": [2, 3, 4, 1], "mode": "reflect"})
data_case("pad_reflect3", "Pad", [(1, 1, 4, 3, 5)], {"pad": [2, 1, 1, 2, 3, 0],
                                                    "mode": "reflect"})
data_case("pad_reflect_neg", "Pad", [(1, 2, 7)], {"pad": [-2, 3], "mode": "reflect"})
data_case("pad_replicate2", "Pad", [(1, 2, 4, 3)], {"pad": [2, 5, 1, 0], "mode": "replicate"})
data_case("pad_replicate3", "Pad", [(1, 1, 3, 3, 4)], {"pad": [1, 1, 2, 0, 0, 3],
                                                      "mode": "replicate"})
data_case("pad_circular2", "Pad", [(1, 2, 4, 5)], {"pad": [5, 2, 3, 4], "mode": "circular"})
data_case("pad_circular_neg", "Pad", [(1, 2, 6)], {"pad": [-2, 3], "mode": "circular"})
data_case("pad_circular_neg2", "Pad", [(1, 2, 5, 7)], {"pad": [2, -3, -1, 4],
                                                      "mode": "circular"})
data_case("pad_replicate_neg", "Pad", [(1, 2, 4, 7)], {"pad": [-2, 3, 2, -1],
                                                      "mode": "replicate"})
data_case("pad_reflect_neg2", "Pad", [(1, 1, 5, 6)], {"pad": [2, -3, -1, 3], "mode": "reflect"})
data_case("pad_circular3", "Pad", [(1, 1, 3, 4, 2)], {"pad": [1, 2, 0, 1, 2, 1],
                                                     "mode": "circular"})

# refusals: mgc must refuse what torch refuses
error_case("max_pad_big", "MaxPool", [(1, 1, 8, 8)], {"kernel_size": 3, "padding": 2})
error_case("max_too_small", "MaxPool", [(1, 1, 2, 8)], {"kernel_size": 3})
error_case("max_dil_small", "MaxPool", [(1, 1, 5)], {"kernel_size": 3, "dilation": 3})
error_case("avg_pad_big", "AvgPool", [(1, 1, 8)], {"kernel_size": 2, "padding": 2})
error_case("avg_div_zero", "AvgPool", [(1, 1, 8, 8)], {"kernel_size": 2, "divisor_override": 0})
error_case("up_both", "Upsample", [(1, 1, 4, 4)], {"size": 8, "scale_factor": 2})
error_case("up_none", "Upsample", [(1, 1, 4, 4)], {})
error_case("up_align_nearest", "Upsample", [(1, 1, 4, 4)], {"scale_factor": 2,
                                                           "align_corners": True})
error_case("up_linear_rank", "Upsample", [(1, 1, 4, 4)], {"scale_factor": 2, "mode": "linear"})
error_case("up_trilinear_rank", "Upsample", [(1, 1, 4, 4)], {"scale_factor": 2,
                                                            "mode": "trilinear"})
error_case("up_recompute_size", "Upsample", [(1, 1, 4, 4)], {"size": 8,
                                                            "recompute_scale_factor": True})
error_case("cat_sizes", "Concat", [(1, 2, 3), (1, 3, 4)], {"dim": 1})
error_case("cat_rank", "Concat", [(1, 2, 3), (1, 2)], {"dim": 1})
error_case("reshape_two", "Reshape", [(2, 6)], {"shape": [-1, -1]})
error_case("reshape_size", "Reshape", [(2, 6)], {"shape": [5, -1]})
error_case("flatten_order", "Flatten", [(2, 3, 4)], {"start_dim": 2, "end_dim": 1})
error_case("pad_odd", "Pad", [(1, 2, 5)], {"pad": [1, 2, 3]})
error_case("pad_long", "Pad", [(2, 5)], {"pad": [1, 1, 1, 1, 1, 1]})
error_case("pad_reflect_big", "Pad", [(1, 2, 5)], {"pad": [5, 0], "mode": "reflect"})
error_case("pad_circular_big", "Pad", [(1, 2, 5)], {"pad": [6, 0], "mode": "circular"})
error_case("pad_reflect_rank", "Pad", [(1, 2, 5, 5)], {"pad": [1, 1], "mode": "reflect"})
error_case("pad_mode_value", "Pad", [(1, 2, 5)], {"pad": [1, 1], "mode": "replicate",
                                                 "value": 1.0})
write_cases(OUT, "tools/golden/gen_pool.py", versions(), {}, cases)
