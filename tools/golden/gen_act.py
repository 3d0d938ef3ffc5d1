#!/usr/bin/env python3
"""gen_act.py: golden cases for mgc's activation ops (ReLU, LeakyReLU, PReLU, ELU, GELU,
Sigmoid, Tanh, Softmax, Dropout), computed by the torch.nn modules MONAI's factory builds
(monai.networks.layers.get_act_layer, the Act names its networks use).

Two kinds of case, under tests/golden/act/:
- data cases: a float32 x (values near 0 for the ReLU family, large |x| for Sigmoid, Tanh
  and Softmax), PReLU's weight w, a random g; the module's y and autograd's gradients of
  sum(y * g) with respect to x (dx) and w (dw). Files <case>.<x|w|g|y|dx|dw>.npy.
- shape cases (no data): x and w shapes with torch's output shape, or the error torch
  raises (mgc must refuse too).
cases.json: {"generator", "versions", "inputs": {}, "cases": [...]}; each case has name,
op (mgc's), args (the JSON mgc parses), act (what get_act_layer got), and files, or x, w
and y (a shape) or error (torch's message).

Usage: python3 tools/golden/gen_act.py   (from anywhere; needs monai, torch, numpy).
Deterministic for fixed library versions.
"""
import os
import warnings

import numpy as np
import torch
from monai.networks.layers import get_act_layer

from spatial_common import clear, golden_dir, versions, write_cases

OUT = golden_dir("act")
gen = torch.Generator().manual_seed(20261123)
cases = []


def rand(shape, scale=1.0):
    return (torch.rand(*shape, generator=gen, dtype=torch.float32) * 2 - 1) * scale


def make_x(shape, kind):
    """near0: uniform [-2, 2) with a quarter of the values within 1e-3 of 0 (never 0);
    large: uniform [-30, 30) with some values at +-100 and +-1000."""
    x = rand(shape, 2.0 if kind == "near0" else 30.0)
    flat = x.view(-1)
    n = flat.numel()
    idx = torch.randperm(n, generator=gen)
    if kind == "near0":
        k = n // 4
        small = rand((k,), 1e-3)
        small[small.abs() < 1e-6] = 1e-6
        flat[idx[:k]] = small
    else:
        k = max(n // 8, 2)
        flat[idx[:k]] = torch.tensor([100.0, -100.0, 1000.0, -1000.0])[torch.arange(k) % 4]
    return x


def module(act):
    """get_act_layer's module; Dropout (MONAI's Dropout factory, not an Act) in eval mode."""
    if act[0] == "dropout":
        return torch.nn.Dropout(**act[1]).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_act_layer(act)


def data_case(name, op, args, act, shape, kind, nw=None):
    m = module(act)
    x = make_x(shape, kind).requires_grad_()
    w = None
    if nw is not None:
        w = rand((nw,), 0.5)
        with torch.no_grad():
            m.weight.copy_(w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = m(x)
    g = rand(y.shape)
    (y * g).sum().backward()
    arrays = {"x": x, "g": g, "y": y, "dx": x.grad}
    if w is not None:
        arrays.update(w=m.weight, dw=m.weight.grad)
    files = {}
    for k, v in arrays.items():
        f = f"{name}.{k}.npy"
        np.save(os.path.join(OUT, f), v.detach().numpy().astype(np.float32))
        files[k] = f
    cases.append({"name": name, "op": op, "args": args, "act": act, "files": files})


def shape_case(name, op, args, act, xs, ws=None):
    c = {"name": name, "op": op, "args": args, "act": act, "x": list(xs)}
    m = module(act)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if ws is not None:
                c["w"] = list(ws)
                m.weight = torch.nn.Parameter(torch.zeros(ws))
            c["y"] = list(m(torch.zeros(xs)).shape)
    except (RuntimeError, IndexError) as err:
        c["error"] = str(err).splitlines()[0]
    cases.append(c)


clear(OUT)
S2, S3 = (2, 3, 5, 4), (1, 4, 3, 3, 2)
data_case("relu_2d", "ReLU", {}, "relu", S2, "near0")
data_case("relu_3d", "ReLU", {"inplace": True}, ("relu", {"inplace": False}), S3, "near0")
data_case("leaky_default", "LeakyReLU", {}, "leakyrelu", S2, "near0")
data_case("leaky_02", "LeakyReLU", {"negative_slope": 0.2}, ("leakyrelu", {"negative_slope": 0.2}),
          S3, "near0")
data_case("prelu_one", "PReLU", {}, "prelu", S2, "near0", nw=1)
data_case("prelu_channels", "PReLU", {"num_parameters": 4}, ("prelu", {"num_parameters": 4}),
          S3, "near0", nw=4)
data_case("prelu_linear", "PReLU", {"num_parameters": 7}, ("prelu", {"num_parameters": 7}),
          (3, 7), "near0", nw=7)
data_case("elu_default", "ELU", {}, "elu", S2, "near0")
data_case("elu_half", "ELU", {"alpha": 0.5}, ("elu", {"alpha": 0.5}), S3, "near0")
data_case("gelu_none", "GELU", {}, "gelu", S2, "near0")
data_case("gelu_tanh", "GELU", {"approximate": "tanh"}, ("gelu", {"approximate": "tanh"}),
          S3, "near0")
data_case("gelu_none_large", "GELU", {"approximate": "none"}, "gelu", S2, "large")
data_case("sigmoid_large", "Sigmoid", {}, "sigmoid", S2, "large")
data_case("sigmoid_small", "Sigmoid", {}, "sigmoid", S3, "near0")
data_case("tanh_large", "Tanh", {}, "tanh", S3, "large")
data_case("tanh_small", "Tanh", {}, "tanh", S2, "near0")
data_case("softmax_ch", "Softmax", {"dim": 1}, ("softmax", {"dim": 1}), S3, "large")
data_case("softmax_last", "Softmax", {"dim": -1}, ("softmax", {"dim": -1}), S2, "large")
data_case("softmax_first", "Softmax", {"dim": 0}, ("softmax", {"dim": 0}), S2, "near0")
data_case("softmax_legacy", "Softmax", {}, ("softmax", {"dim": None}), S2, "large")
data_case("dropout_eval", "Dropout", {"p": 0.3}, ("dropout", {"p": 0.3}), S2, "near0")
data_case("dropout_eval_training_false", "Dropout", {"p": 0.7, "training": False, "seed": 5},
          ("dropout", {"p": 0.7}), S3, "near0")

shape_case("prelu_c3", "PReLU", {"num_parameters": 3}, ("prelu", {"num_parameters": 3}), (2, 3, 4), (3,))
shape_case("prelu_bad_c", "PReLU", {"num_parameters": 4}, ("prelu", {"num_parameters": 4}), (2, 3, 4), (4,))
shape_case("prelu_1d", "PReLU", {}, "prelu", (5,), (1,))
shape_case("prelu_1d_bad", "PReLU", {"num_parameters": 5}, ("prelu", {"num_parameters": 5}), (5,), (5,))
shape_case("prelu_scalar_w", "PReLU", {}, "prelu", (2, 3), ())
shape_case("prelu_2d_w", "PReLU", {}, "prelu", (2, 3), (1, 1))
shape_case("softmax_dim3", "Softmax", {"dim": 3}, ("softmax", {"dim": 3}), (2, 3, 4))
shape_case("softmax_dim_neg4", "Softmax", {"dim": -4}, ("softmax", {"dim": -4}), (2, 3, 4))
shape_case("softmax_dim_neg3", "Softmax", {"dim": -3}, ("softmax", {"dim": -3}), (2, 3, 4))
write_cases(OUT, "tools/golden/gen_act.py", versions(), {}, cases)
