#!/usr/bin/env python3
"""gen_losses.py: golden cases for mgc's loss ops (DiceLoss, DiceCELoss, FocalLoss,
DiceFocalLoss, CrossEntropyLoss), computed by monai.losses' classes and
torch.nn.CrossEntropyLoss with autograd.

Two kinds of case, under tests/golden/losses/:
- data cases: float32 logits x (N, C, spatial...), a target t (labels (N, 1, ...) with
  classes absent from some items, one-hot or soft (N, C, ...)), the loss (a float in
  cases.json, the float32 value MONAI returns) and autograd's dloss/dx. Files
  <case>.<x|t|dx>.npy.
- error cases (no data files): shapes x and t and the arguments MONAI (or torch) refuses,
  with its message; mgc must refuse too.
cases.json: {"generator", "versions", "inputs": {}, "cases": [...]}; each case has name,
op (mgc's), args (the JSON mgc parses, MONAI's keyword arguments), and files and loss, or
x, t (shapes) and error.

Usage: python3 tools/golden/gen_losses.py   (from anywhere; needs monai, torch, numpy).
Deterministic for fixed library versions.
"""
import os
import warnings

import numpy as np
import torch
from monai import losses

from spatial_common import clear, golden_dir, versions, write_cases

OUT = golden_dir("losses")
gen = torch.Generator().manual_seed(20261124)
cases = []


def module(op, args):
    kw = dict(args)
    if op == "CrossEntropyLoss":
        if "weight" in kw:
            kw["weight"] = torch.tensor(kw["weight"])
        return torch.nn.CrossEntropyLoss(**kw)
    if op == "DiceCELoss" and "weight" in kw:
        kw["weight"] = torch.tensor(kw["weight"])  # DiceCELoss slices it as a tensor
    return getattr(losses, op)(**kw)


def logits(shape):
    return (torch.rand(*shape, generator=gen) * 6 - 3).float()


def labels(shape, c, absent=None):
    """Class labels in 0..c-1 as float32 (N, 1, ...); item 0 lacks class `absent`."""
    t = torch.randint(0, c, shape, generator=gen).float()
    if absent is not None:
        t[0][t[0] == absent] = (absent + 1) % c
    return t


def onehot(shape, c, absent=None):
    lab = labels((shape[0], 1) + tuple(shape[2:]), c, absent).long()
    return torch.zeros(shape).scatter_(1, lab, 1.0)


def soft(shape):
    return torch.rand(*shape, generator=gen).float()


def data_case(name, op, args, x, t, tdtype=np.float32):
    x = x.clone().requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tt = t.long() if op == "CrossEntropyLoss" and t.dim() == x.dim() - 1 else t
        loss = module(op, args)(x, tt)
    loss.backward()
    files = {}
    for k, v in {"x": x.detach().numpy(), "t": t.numpy().astype(tdtype),
                 "dx": x.grad.numpy()}.items():
        f = f"{name}.{k}.npy"
        np.save(os.path.join(OUT, f), v)
        files[k] = f
    cases.append({"name": name, "op": op, "args": args, "files": files,
                  "loss": float(loss.detach())})


def error_case(name, op, args, xs, t):
    """t: the target tensor (its shape goes to cases.json; labels matter for range errors)."""
    c = {"name": name, "op": op, "args": args, "x": list(xs), "t": list(t.shape)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module(op, args)(torch.zeros(xs), t)
        raise SystemExit(f"{name}: MONAI accepted it")
    except (ValueError, AssertionError, RuntimeError, IndexError) as err:
        c["error"] = str(err).splitlines()[0]
    if t.numel() and float(t.max()) >= xs[1]:
        c["label"] = float(t.max())
    cases.append(c)


clear(OUT)
S2, S3 = (2, 3, 6, 5), (2, 2, 4, 3, 3)
L2, L3 = (2, 1, 6, 5), (2, 1, 4, 3, 3)

# DiceLoss
data_case("dice_softmax_onehot_2d", "DiceLoss", {"softmax": True, "to_onehot_y": True},
          logits(S2), labels(L2, 3, absent=2))
data_case("dice_sigmoid_3d", "DiceLoss", {"sigmoid": True}, logits(S3), onehot(S3, 2))
data_case("dice_nobg_batch", "DiceLoss", {"softmax": True, "to_onehot_y": True,
          "include_background": False, "batch": True}, logits(S2), labels(L2, 3, absent=1))
data_case("dice_squared_jaccard_sum", "DiceLoss", {"softmax": True, "to_onehot_y": True,
          "squared_pred": True, "jaccard": True, "reduction": "sum",
          "weight": [0.5, 2.0, 1.0]}, logits(S2), labels(L2, 3), np.uint8)
data_case("dice_soft_label", "DiceLoss", {"sigmoid": True, "soft_label": True,
          "smooth_nr": 0.0, "smooth_dr": 1e-3}, logits(S3), soft(S3))
data_case("dice_weight_nobg_3d", "DiceLoss", {"sigmoid": True, "include_background": False,
          "weight": 3.0, "squared_pred": True}, logits((1, 3, 4, 4, 3)),
          onehot((1, 3, 4, 4, 3), 3, absent=0))
data_case("dice_no_act", "DiceLoss", {"jaccard": True}, soft(S2), onehot(S2, 3))

# DiceCELoss
data_case("dicece_spleen_3d", "DiceCELoss", {"to_onehot_y": True, "softmax": True},
          logits(S3), labels(L3, 2))
data_case("dicece_spleen_bundle", "DiceCELoss", {"to_onehot_y": True, "softmax": True,
          "squared_pred": True, "batch": True, "smooth_nr": 1e-5, "smooth_dr": 1e-5,
          "lambda_dice": 0.5, "lambda_ce": 0.5}, logits(S3), labels(L3, 2, absent=1))
data_case("dicece_weight_smoothing", "DiceCELoss", {"to_onehot_y": True, "softmax": True,
          "include_background": False, "weight": [1.0, 2.0, 0.5], "label_smoothing": 0.1},
          logits(S2), labels(L2, 3, absent=2))
data_case("dicece_prob_target_sum", "DiceCELoss", {"sigmoid": True, "reduction": "sum",
          "label_smoothing": 0.2, "jaccard": True}, logits(S2), soft(S2))
data_case("dicece_one_channel", "DiceCELoss", {"sigmoid": True, "weight": [2.0]},
          logits((2, 1, 5, 4)), labels((2, 1, 5, 4), 2))

# FocalLoss
data_case("focal_sigmoid", "FocalLoss", {}, logits(S2), onehot(S2, 3))
data_case("focal_alpha_weight_sum", "FocalLoss", {"to_onehot_y": True, "gamma": 1.5,
          "alpha": 0.25, "weight": [1.0, 2.0, 3.0], "reduction": "sum"}, logits(S2),
          labels(L2, 3, absent=0))
data_case("focal_softmax_alpha_3d", "FocalLoss", {"use_softmax": True, "to_onehot_y": True,
          "alpha": 0.3}, logits((2, 3, 3, 3, 2)), labels((2, 1, 3, 3, 2), 3))
data_case("focal_softmax_nobg_alpha_list", "FocalLoss", {"use_softmax": True,
          "include_background": False, "alpha": [0.2, 0.7], "gamma": 0.0}, logits(S2),
          onehot(S2, 3))
data_case("focal_sigmoid_alpha_list_soft", "FocalLoss", {"alpha": [0.2, 0.6, 0.9],
          "gamma": 2.5}, logits(S2), onehot(S2, 3))

# DiceFocalLoss
data_case("dicefocal_softmax_onehot", "DiceFocalLoss", {"softmax": True, "to_onehot_y": True,
          "alpha": 0.25}, logits(S3), labels(L3, 2))
data_case("dicefocal_sigmoid_nobg_sum", "DiceFocalLoss", {"sigmoid": True,
          "include_background": False, "gamma": 1.0, "weight": [1.0, 3.0],
          "lambda_focal": 2.0, "reduction": "sum"}, logits(S2), onehot(S2, 3, absent=2))

# torch's CrossEntropyLoss
data_case("ce_indices", "CrossEntropyLoss", {}, logits(S2), labels((2, 6, 5), 3))
data_case("ce_weight_smoothing_3d", "CrossEntropyLoss", {"weight": [1.0, 2.0, 0.5],
          "label_smoothing": 0.3}, logits((2, 3, 3, 4, 2)), labels((2, 3, 4, 2), 3))
data_case("ce_probs_sum", "CrossEntropyLoss", {"reduction": "sum", "label_smoothing": 0.1,
          "weight": [1.0, 2.0, 3.0]}, logits(S2), soft(S2))

# what MONAI refuses
error_case("dice_spatial_mismatch", "DiceLoss", {"to_onehot_y": True}, S2,
           labels((2, 1, 6, 4), 3))
error_case("dice_label_target_no_onehot", "DiceLoss", {"softmax": True}, S2, labels(L2, 3))
error_case("dice_sigmoid_softmax", "DiceLoss", {"sigmoid": True, "softmax": True}, S2,
           onehot(S2, 3))
error_case("dice_weight_length", "DiceLoss", {"weight": [1.0, 2.0]}, S2, onehot(S2, 3))
error_case("dice_onehot_of_onehot", "DiceLoss", {"to_onehot_y": True}, S2, onehot(S2, 3))
error_case("dicece_bad_channels", "DiceCELoss", {"softmax": True}, S2,
           onehot((2, 2, 6, 5), 2))
error_case("dicece_rank_mismatch", "DiceCELoss", {"to_onehot_y": True}, S2,
           labels((2, 6, 5), 3))
error_case("dicece_label_out_of_range", "DiceCELoss", {"to_onehot_y": True}, S2,
           labels(L2, 3) + 3)
error_case("dicefocal_batch_mismatch", "DiceFocalLoss", {"to_onehot_y": True}, S2,
           labels((3, 1, 6, 5), 3))
error_case("focal_alpha_length", "FocalLoss", {"alpha": [0.2, 0.5]}, S2, onehot(S2, 3))
error_case("ce_weight_length", "CrossEntropyLoss", {"weight": [1.0, 2.0]}, S2,
           labels((2, 6, 5), 3).long())

write_cases(OUT, "tools/golden/gen_losses.py", versions(), {}, cases)
