#!/usr/bin/env python3
"""gen_conv.py: golden cases for mgc's network ops Conv, ConvTranspose and Linear,
computed by torch.nn.functional (conv1d/2d/3d, conv_transpose1d/2d/3d, linear), which is
what MONAI's networks call.

Two kinds of case, under tests/golden/conv/:
- data cases: small random float32 x, weight, bias and g; torch's y and the gradients of
  the scalar loss sum(y * g) with respect to x, weight and bias (autograd). Files
  <case>.<x|w|b|g|y|dx|dw|db>.npy.
- shape cases (no data): torch's output shape for an (x shape, weight shape, bias,
  arguments), or the error torch raises (then mgc must refuse too): the type rule's
  formulas against torch's on many combinations.
cases.json: {"generator", "versions", "inputs": {}, "cases": [...]}; each case has name,
op (mgc's), args (the JSON mgc parses), and either files (name -> .npy) or x, w, bias
(the shapes; bias an int or null) with y (a shape) or error (torch's message).

Usage: python3 tools/golden/gen_conv.py   (from anywhere; needs torch, numpy).
Deterministic for fixed library versions.
"""
import itertools
import os

import numpy as np
import torch
import torch.nn.functional as F

from spatial_common import clear, golden_dir, versions, write_cases

OUT = golden_dir("conv")
gen = torch.Generator().manual_seed(20261123)
cases = []

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONVT = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def rand(*shape):
    return (torch.rand(*shape, generator=gen, dtype=torch.float32) * 2 - 1)


def call(op, x, w, b, args):
    """torch's function for mgc's op and arguments."""
    if op == "Linear":
        return F.linear(x, w, b)
    sd = w.dim() - 2
    kw = dict(args)
    if op == "Conv":
        return CONV[sd](x, w, b, **kw)
    return CONVT[sd](x, w, b, **kw)


def data_case(name, op, xs, ws, bias, args):
    x, w = rand(*xs).requires_grad_(), rand(*ws).requires_grad_()
    b = rand(bias).requires_grad_() if bias else None
    y = call(op, x, w, b, args)
    g = rand(*y.shape)
    (y * g).sum().backward()
    arrays = {"x": x, "w": w, "g": g, "y": y, "dx": x.grad, "dw": w.grad}
    if b is not None:
        arrays.update(b=b, db=b.grad)
    files = {}
    for k, v in arrays.items():
        f = f"{name}.{k}.npy"
        np.save(os.path.join(OUT, f), v.detach().numpy().astype(np.float32))
        files[k] = f
    cases.append({"name": name, "op": op, "args": args, "files": files})


def shape_case(name, op, xs, ws, bias, args):
    c = {"name": name, "op": op, "args": args, "x": list(xs), "w": list(ws), "bias": bias}
    try:
        with torch.no_grad():
            y = call(op, torch.zeros(xs), torch.zeros(ws),
                     torch.zeros(bias) if bias else None, args)
        c["y"] = list(y.shape)
    except RuntimeError as err:
        c["error"] = str(err).splitlines()[0]
    cases.append(c)


clear(OUT)
# data: every spatial rank, odd sizes, strides, dilations, paddings, groups, bias or not
data_case("c1_basic", "Conv", (2, 3, 11), (4, 3, 3), 4, {})
data_case("c1_strided", "Conv", (1, 4, 13), (6, 2, 5), 6,
          {"stride": 3, "padding": 2, "dilation": 2, "groups": 2})
data_case("c1_same", "Conv", (1, 2, 7), (3, 2, 4), None, {"padding": "same"})
data_case("c2_basic", "Conv", (2, 3, 7, 5), (5, 3, 3, 2), 5, {"stride": [2, 1], "padding": [1, 0]})
data_case("c2_same_dil", "Conv", (1, 6, 9, 8), (3, 2, 3, 3), 3,
          {"padding": "same", "dilation": [1, 2], "groups": 3})
data_case("c2_valid", "Conv", (1, 2, 5, 6), (3, 2, 5, 5), 3, {"padding": "valid"})
data_case("c2_depthwise", "Conv", (1, 4, 6, 5), (4, 1, 3, 3), 4, {"padding": 1, "groups": 4})
data_case("c3_basic", "Conv", (1, 3, 5, 4, 3), (2, 3, 3, 3, 3), 2, {"padding": 1})
data_case("c3_mixed", "Conv", (2, 4, 7, 6, 5), (4, 1, 3, 2, 1), 4,
          {"stride": [2, 3, 1], "padding": [1, 0, 0], "dilation": [2, 1, 1], "groups": 4})
data_case("c3_same_even", "Conv", (1, 2, 5, 4, 3), (2, 2, 2, 3, 4), None, {"padding": "same"})
data_case("c3_unit", "Conv", (1, 1, 1, 1, 1), (1, 1, 1, 1, 1), 1, {})
data_case("t1_basic", "ConvTranspose", (2, 3, 5), (3, 4, 3), 4,
          {"stride": 2, "padding": 1, "output_padding": 1})
data_case("t1_dil_groups", "ConvTranspose", (1, 4, 7), (4, 1, 2), None,
          {"dilation": 3, "groups": 2})
data_case("t2_basic", "ConvTranspose", (1, 3, 4, 3), (3, 2, 3, 2), 2,
          {"stride": [2, 3], "padding": [1, 0], "output_padding": [0, 2]})
data_case("t2_up", "ConvTranspose", (2, 4, 3, 3), (4, 2, 2, 2), 2, {"stride": 2})
data_case("t3_up", "ConvTranspose", (1, 2, 3, 2, 2), (2, 3, 2, 2, 2), 3, {"stride": 2})
data_case("t3_mixed", "ConvTranspose", (2, 4, 3, 1, 2), (4, 3, 3, 1, 2), 6,
          {"stride": [1, 2, 3], "padding": [1, 0, 1], "dilation": [2, 1, 1], "groups": 2})
data_case("t3_unet", "ConvTranspose", (1, 4, 3, 3, 3), (4, 2, 3, 3, 3), 2,
          {"stride": 2, "padding": 1, "output_padding": 1})
data_case("l_2d", "Linear", (3, 7), (5, 7), 5, {})
data_case("l_1d", "Linear", (4,), (1, 4), None, {})
data_case("l_4d", "Linear", (2, 1, 3, 6), (4, 6), 4, {})

# shapes: the type rule against torch on many combinations (and torch's refusals)
n = 0
for sd, (size, k, s, p, d) in itertools.product(
        (1, 2, 3), itertools.product((1, 4, 7), (1, 2, 3), (1, 2, 3), (0, 1, 2, "same", "valid"),
                                     (1, 2))):
    if (size * 7 + k * 5 + s * 3 + d + sd + len(str(p))) % 4:  # a quarter of them
        continue
    xs = (1, 2) + tuple(size + i for i in range(sd))
    ws = (3, 2) + (k,) * sd
    shape_case(f"shape_conv_{n}", "Conv", xs, ws, None,
               {"stride": s, "padding": p, "dilation": d})
    n += 1
    if isinstance(p, int):
        for op_ in (0, 1, 2):
            xs_t = (1, 3) + tuple(size + i for i in range(sd))
            ws_t = (3, 2) + (k,) * sd
            shape_case(f"shape_convt_{n}_{op_}", "ConvTranspose", xs_t, ws_t, 2,
                       {"stride": s, "padding": p, "dilation": d, "output_padding": op_})
shape_case("shape_groups_bad", "Conv", (1, 4, 5, 5), (6, 3, 3, 3), None, {"groups": 2})
shape_case("shape_channels_bad", "Conv", (1, 3, 5, 5), (6, 2, 3, 3), None, {})
shape_case("shape_bias_bad", "Conv", (1, 2, 5, 5), (6, 2, 3, 3), 5, {})
shape_case("shape_same_strided", "Conv", (1, 2, 5), (3, 2, 3), None,
           {"padding": "same", "stride": 2})
shape_case("shape_kernel_big", "Conv", (1, 2, 3, 3), (3, 2, 5, 5), None, {})
shape_case("shape_linear", "Linear", (2, 3, 8), (5, 8), 5, {})
shape_case("shape_linear_bad", "Linear", (2, 3, 8), (5, 7), None, {})
write_cases(OUT, "tools/golden/gen_conv.py", versions(), {}, cases)
