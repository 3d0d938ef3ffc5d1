#!/usr/bin/env python3
"""gen_nets.py: golden cases for mgc's networks, made by MONAI's own classes.

Under tests/golden/nets/:
- <config>.params.json: the state_dict of the network MONAI builds from a config's
  arguments: every key in order with its shape, dtype and the mean, standard deviation
  and largest magnitude of torch's initial values, and the parameter count
  (sum of numel over model.parameters()). Configurations: the spleen tutorial's UNet, the
  BraTS bundle's SegResNet, the whole-body CT bundle's SegResNet (105 classes), and
  small ones of every network mgc builds.
- <case>.safetensors (weights: MONAI's initialisation from a fixed seed, then the
  norm layers' running statistics and affine parameters perturbed so eval mode is not
  the identity), <case>.x.npy, <case>.y.npy (eval-mode forward) and, for training-mode
  cases, <case>.g.npy and <case>.grads.safetensors: autograd's gradients of
  sum(y * g) with respect to every parameter (keys "<name>.grad") and the input ("x.grad").
cases.json lists the cases: config name, MONAI class, its arguments (the JSON a bundle's
network_def holds), the files and the mode.

Usage: python3 tools/golden/gen_nets.py   (needs monai, torch, safetensors, numpy).
"""
import json
import os

import numpy as np
import torch
from monai.networks import nets
from safetensors.torch import save_file

from spatial_common import golden_dir, versions

OUT = golden_dir("nets")

# configurations whose state_dict names and shapes mgc must reproduce
PARAMS = {
    "spleen_unet": ("UNet", dict(spatial_dims=3, in_channels=1, out_channels=2,
                                 channels=[16, 32, 64, 128, 256], strides=[2, 2, 2, 2],
                                 num_res_units=2, norm="batch")),
    "brats_segresnet": ("SegResNet", dict(blocks_down=[1, 2, 2, 4], blocks_up=[1, 1, 1],
                                          init_filters=16, in_channels=4, out_channels=3,
                                          dropout_prob=0.2)),
    "wholebody_segresnet": ("SegResNet", dict(spatial_dims=3, in_channels=1, out_channels=105,
                                              init_filters=32, blocks_down=[1, 2, 2, 4],
                                              blocks_up=[1, 1, 1], dropout_prob=0.2)),
    "unet_small_res": ("UNet", dict(spatial_dims=3, in_channels=1, out_channels=2,
                                    channels=[4, 8, 16], strides=[2, 2], num_res_units=2,
                                    norm="batch")),
    "unet_small_plain": ("UNet", dict(spatial_dims=3, in_channels=2, out_channels=3,
                                      channels=[4, 8, 16], strides=[2, 2])),
    "unet_2d": ("UNet", dict(spatial_dims=2, in_channels=1, out_channels=2,
                             channels=[4, 8, 16], strides=[2, 1], num_res_units=1,
                             act="relu", kernel_size=5, up_kernel_size=3)),
    "basicunet": ("BasicUNet", dict(spatial_dims=3, in_channels=1, out_channels=2,
                                    features=[4, 4, 8, 16, 32, 4])),
    "basicunet_2d": ("BasicUNet", dict(spatial_dims=2, in_channels=1, out_channels=2,
                                       features=[4, 4, 8, 8, 16, 4])),
    "dynunet": ("DynUNet", dict(spatial_dims=3, in_channels=1, out_channels=2,
                                kernel_size=[3, 3, 3], strides=[1, 2, 2],
                                upsample_kernel_size=[2, 2], filters=[4, 8, 16])),
    "densenet121": ("DenseNet121", dict(spatial_dims=3, in_channels=1, out_channels=2)),
    "segresnet_small": ("SegResNet", dict(spatial_dims=3, init_filters=8, in_channels=1,
                                          out_channels=2, blocks_down=[1, 1],
                                          blocks_up=[1])),
    # nnU-Net-like anisotropic levels: residual blocks, instance norm, two deep
    # supervision heads; a strided input block (the output is half the input's size)
    "dynunet_2d": ("DynUNet", dict(spatial_dims=2, in_channels=1, out_channels=2,
                                   kernel_size=[[3, 3], [3, 1], [3, 3], [1, 3]],
                                   strides=[[2, 1], [2, 2], [1, 2], [2, 2]],
                                   upsample_kernel_size=[[2, 2], [1, 2], [2, 2]],
                                   filters=[3, 4, 4, 6], res_block=True,
                                   deep_supervision=True, deep_supr_num=2)),
    # plain blocks, batch norm, biased transposed convolutions, one head
    "dynunet_3d": ("DynUNet", dict(spatial_dims=3, in_channels=2, out_channels=3,
                                   kernel_size=[[1, 3, 3], [1, 3, 3], 3, [3, 3, 1]],
                                   strides=[1, [1, 2, 2], 2, [1, 2, 1]],
                                   upsample_kernel_size=[[1, 2, 2], 2, [1, 2, 1]],
                                   filters=[3, 4, 4, 6, 99], norm_name="batch",
                                   trans_bias=True, deep_supervision=True, deep_supr_num=1)),
    "densenet_small": ("DenseNet121", dict(spatial_dims=3, in_channels=1, out_channels=3,
                                           init_features=4, growth_rate=4,
                                           block_config=[2, 2], bn_size=2)),
    "densenet_2d": ("DenseNet", dict(spatial_dims=2, in_channels=1, out_channels=2,
                                     init_features=6, growth_rate=3, block_config=[1, 2, 1],
                                     bn_size=2, norm="instance",
                                     act=["elu", {"alpha": 0.5}])),
}

# forward (and gradient) cases: config, input shape, training?
DATA = [
    ("unet_small_res", [1, 1, 12, 12, 12], False),
    ("unet_small_res", [2, 1, 8, 8, 8], True),
    ("unet_small_plain", [1, 2, 12, 12, 12], False),
    ("unet_small_plain", [1, 2, 8, 8, 8], True),
    ("unet_2d", [2, 1, 16, 16], False),
    ("segresnet_small", [1, 1, 8, 8, 8], False),
    ("segresnet_small", [1, 1, 8, 8, 8], True),
    ("basicunet_2d", [1, 1, 36, 36], False),
    ("basicunet_2d", [2, 1, 36, 36], True),
    ("dynunet_2d", [1, 1, 16, 16], False),
    ("dynunet_2d", [2, 1, 16, 8], True),
    ("dynunet_3d", [1, 2, 8, 8, 8], False),
    ("dynunet_3d", [2, 2, 4, 8, 4], True),
    ("densenet_small", [1, 1, 12, 12, 12], False),
    ("densenet_small", [2, 1, 8, 8, 8], True),
    ("densenet_2d", [1, 1, 32, 32], False),
    ("densenet_2d", [2, 1, 32, 32], True),
]


def build(name):
    cls, args = PARAMS[name]
    return getattr(nets, cls)(**args)


def perturb(model, gen):
    """Norm layers get non-trivial running statistics and affine parameters."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._NormBase):
                if m.running_mean is not None:
                    m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                    m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            if isinstance(m, (torch.nn.modules.batchnorm._NormBase, torch.nn.GroupNorm)):
                if getattr(m, "weight", None) is not None:
                    m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=gen))
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    cases = []
    for name, (cls, args) in PARAMS.items():
        torch.manual_seed(0)
        m = build(name)
        sd = m.state_dict()
        rec = {"config": name, "class": cls, "args": args,
               "count": sum(p.numel() for p in m.parameters()),
               "keys": [[k, list(v.shape), str(v.dtype).replace("torch.", ""),
                         # torch's initial values: mean, standard deviation, max |x|
                         [float(v.double().mean()) if v.numel() else 0.0,
                          float(v.double().std()) if v.numel() > 1 else 0.0,
                          float(v.double().abs().max()) if v.numel() else 0.0]]
                        for k, v in sd.items()]}
        with open(os.path.join(OUT, f"{name}.params.json"), "w") as f:
            json.dump(rec, f)
        print(f"{name}: {len(sd)} tensors, {rec['count']} parameters")
    gen = torch.Generator().manual_seed(20261123)
    weights = {}  # one weights file per configuration, shared by its cases
    for i, (name, shape, training) in enumerate(DATA):
        torch.manual_seed(100)
        m = build(name)
        if name not in weights:
            perturb(m, gen)
            weights[name] = {k: v.clone().contiguous() for k, v in m.state_dict().items()}
            save_file(weights[name], os.path.join(OUT, f"{name}.safetensors"))
        m.load_state_dict(weights[name])
        case = f"{name}_{'train' if training else 'eval'}_{i}"
        x = torch.randn(shape, generator=gen)
        np.save(os.path.join(OUT, f"{case}.x.npy"), x.numpy())
        m.train(training)
        xr = x.clone().requires_grad_(training)
        y = m(xr)
        np.save(os.path.join(OUT, f"{case}.y.npy"), y.detach().numpy())
        files = {"weights": f"{name}.safetensors", "x": f"{case}.x.npy", "y": f"{case}.y.npy"}
        if training:
            g = torch.randn(y.shape, generator=gen)
            (y * g).sum().backward()
            np.save(os.path.join(OUT, f"{case}.g.npy"), g.numpy())
            grads = {f"{k}.grad": p.grad.contiguous() for k, p in m.named_parameters()}
            grads["x.grad"] = xr.grad.contiguous()
            # the running statistics after the step (training updates them)
            # (named_buffers: once each, where state_dict repeats DynUNet's shared blocks)
            grads.update({f"{k}.after": v.contiguous() for k, v in m.named_buffers()
                          if "running" in k or "num_batches" in k})
            save_file(grads, os.path.join(OUT, f"{case}.grads.safetensors"))
            files["g"] = f"{case}.g.npy"
            files["grads"] = f"{case}.grads.safetensors"
        cases.append({"name": case, "config": name, "training": training, "files": files})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"generator": "tools/golden/gen_nets.py", "versions": versions(),
                   "cases": cases}, f, indent=1)
    for f in os.listdir(OUT):
        os.chmod(os.path.join(OUT, f), 0o644)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(cases)} data cases, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
