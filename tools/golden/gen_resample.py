#!/usr/bin/env python3
"""gen_resample.py: golden cases for mgc's reference resampler (runtime/resample.c),
computed by MONAI's SpatialResample, i.e. by torch's affine_grid + grid_sample as MONAI
calls them.

For each case a small input (2D or 3D, 1-2 channels, float32 / int16 / uint8, some saved
in Fortran order so the C test feeds strided tensors) is resampled through a random
affine map M (output voxel -> input voxel: rotation, scale, sometimes a flip, and a shift
that may reach outside the input) for one (mode, padding_mode, align_corners). MONAI is
driven so that its internal matrix is exactly M: the input's affine is the identity and
dst_affine = M, so SpatialResample's xform = solve(I, M) = M bit for bit (checked).
Writes, under tests/golden/resample/:
  <input>.npy           inputs, shared between cases
  <case>.out.npy        SpatialResample's output (float32, as MONAI returns it)
  <case>.out64.npy      the same computation before MONAI's float32 cast: AffineTransform
                        exactly as spatial_resample() calls it, in float64 (checked to
                        cast to <case>.out.npy bit for bit)
  cases.json            {"generator", "versions", "cases": [{name, input, output,
                        output64, sdim, in_shape, out_shape, out_to_in, mode,
                        padding_mode, align_corners}]}
out_to_in is the 4x4 map in mgc's layout (struct mg_grid): for 2D, rows/columns 0-1 hold
the linear part and column 3 the shift. Cases include size-1 input and output axes,
where align_corners=True changes what MONAI samples (see runtime/resample.c).

Usage: python3 tools/golden/gen_resample.py   (from anywhere; needs monai, torch, numpy).
Deterministic for fixed library versions.
"""
import json
import os
import sys
import warnings

import numpy as np
import torch

import monai
from monai.data import MetaTensor
from monai.networks.layers import AffineTransform
from monai.transforms import SpatialResample

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "resample")
MODES = ["nearest", "bilinear", "bicubic"]
PADS = ["zeros", "border", "reflection"]
rng = np.random.default_rng(20240612)

# name -> (array, fortran order on disk)
INPUTS = {
    "in2_f32": (rng.normal(size=(1, 7, 6)).astype(np.float32), False),
    "in2_f32_c2": (rng.normal(size=(2, 5, 4)).astype(np.float32), True),
    "in2_i16": (rng.integers(-1000, 1000, size=(1, 6, 5)).astype(np.int16), False),
    "in3_f32": (rng.normal(size=(1, 5, 4, 3)).astype(np.float32), False),
    "in3_f32_c2": (rng.normal(size=(2, 4, 5, 3)).astype(np.float32), True),
    "in3_u8": (rng.integers(0, 256, size=(1, 4, 3, 5)).astype(np.uint8), False),
    # size-1 axes: where align_corners=True changes the sampled position
    "in2_one": (rng.normal(size=(1, 5, 1)).astype(np.float32), False),
    "in3_one": (rng.normal(size=(2, 4, 1, 3)).astype(np.float32), False),
}


def rotation(sd):
    if sd == 2:
        a = rng.uniform(-0.7, 0.7)
        return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    r = np.eye(3)
    for ax in range(3):
        a = rng.uniform(-0.5, 0.5)
        i, j = [k for k in range(3) if k != ax]
        m = np.eye(3)
        m[i, i] = m[j, j] = np.cos(a)
        m[i, j], m[j, i] = -np.sin(a), np.sin(a)
        r = r @ m
    return r


def random_map(in_shape, out_shape, wide):
    """Output voxel -> input voxel, (sd+1)x(sd+1): the output centre lands near the input
    centre (wide: far from it, scaled up, so much of the output samples the padding)."""
    sd = len(in_shape)
    scale = rng.uniform(0.6, 2.2, sd) if wide else rng.uniform(0.75, 1.3, sd)
    if wide:
        scale *= rng.choice([-1.0, 1.0], sd)
    lin = rotation(sd) @ np.diag(scale)
    c_in = (np.array(in_shape) - 1) / 2
    c_out = (np.array(out_shape) - 1) / 2
    off = rng.uniform(-3.0, 3.0, sd) if wide else rng.uniform(-1.0, 1.0, sd)
    m = np.eye(sd + 1)
    m[:sd, :sd] = lin
    m[:sd, sd] = c_in + off - lin @ c_out
    return m


def sampled_positions(m, in_shape, out_shape, ac):
    """Input positions (sd, N) SpatialResample samples: M·o, except that with
    align_corners=True a size-1 output axis sits at o = 0.5 and a size-1 input axis
    always reads index 0 (runtime/resample.c, effective_map)."""
    sd = len(in_shape)
    o = np.stack(np.meshgrid(*[np.arange(n, dtype=float) for n in out_shape],
                             indexing="ij")).reshape(sd, -1)
    if ac:
        o[np.array(out_shape) == 1] = 0.5
    q = m[:sd, :sd] @ o + m[:sd, sd:]
    if ac:
        q[np.array(in_shape) == 1] = 0
    return q


def mgc_layout(m):
    sd = m.shape[0] - 1
    g = np.eye(4)
    g[:sd, :sd] = m[:sd, :sd]
    g[:sd, 3] = m[:sd, sd]
    return g.tolist()


def save(name, arr, fortran=False):
    np.save(os.path.join(OUT, name), np.asfortranarray(arr) if fortran else arr)


def run_case(name, inp, out_shape, mode, pad, ac, wide):
    x = INPUTS[inp][0]
    sd = x.ndim - 1
    in_shape = x.shape[1:]
    m = random_map(in_shape, out_shape, wide)
    eye = np.eye(sd + 1)
    # the xform SpatialResample will compute must be M itself
    assert np.array_equal(np.linalg.solve(eye, m), m)
    # and must not hit MONAI's "affine unchanged" shortcut (returns the input as is)
    assert not (np.allclose(m, eye, atol=1e-3) and tuple(out_shape) == in_shape)
    if mode == "nearest":
        # keep clear of rounding ties: torch's coordinate differs from M·o in the last
        # bits, so a tie would be decided by noise, not by MONAI's convention
        q = sampled_positions(m, in_shape, out_shape, ac)
        assert np.all(np.abs(q - np.floor(q) - 0.5) > 1e-6), name
    img = MetaTensor(torch.as_tensor(x), affine=torch.eye(sd + 1, dtype=torch.float64))
    xf = SpatialResample(mode=mode, padding_mode=pad, align_corners=ac, dtype=torch.float64)
    out32 = xf(img, dst_affine=torch.as_tensor(m), spatial_size=out_shape).as_tensor()
    at = AffineTransform(normalized=False, mode=mode, padding_mode=pad, align_corners=ac,
                         reverse_indexing=True)
    out64 = at(torch.as_tensor(x).to(torch.float64).unsqueeze(0),
               theta=torch.as_tensor(m), spatial_size=out_shape).squeeze(0)
    assert out32.dtype == torch.float32 and torch.equal(out64.float(), out32), name
    save(name + ".out.npy", out32.numpy())
    save(name + ".out64.npy", out64.numpy())
    return {
        "name": name, "input": inp + ".npy", "output": name + ".out.npy",
        "output64": name + ".out64.npy", "sdim": sd, "in_shape": list(in_shape),
        "out_shape": list(out_shape), "out_to_in": mgc_layout(m), "mode": mode,
        "padding_mode": pad, "align_corners": ac,
    }


def main():
    warnings.simplefilter("ignore")  # affine_grid's unit-size notice, MONAI deprecations
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy") or f == "cases.json":
            os.remove(os.path.join(OUT, f))
    for name, (arr, fortran) in INPUTS.items():
        save(name + ".npy", arr, fortran)
    cases = []
    in2 = ["in2_f32", "in2_f32_c2", "in2_i16"]
    in3 = ["in3_f32", "in3_f32_c2", "in3_u8"]
    out2 = [(6, 5), (7, 6), (5, 7)]
    out3 = [(4, 4, 3), (5, 3, 4), (3, 5, 4)]
    k = 0
    for mode in MODES:
        for pad in PADS:
            for ac in (False, True):
                tag = "%s_%s_%s" % (mode, pad, "ac" if ac else "noac")
                cases.append(run_case("d2_" + tag, in2[k % 3], out2[k % 3], mode, pad, ac,
                                      wide=k % 2 == 0))
                cases.append(run_case("d3_" + tag, in3[k % 3], out3[k % 3], mode, pad, ac,
                                      wide=k % 2 == 1))
                k += 1
    # size-1 axes, in the input and the output
    for mode in MODES:
        for pad in PADS:
            for ac in (False, True):
                tag = "%s_%s_%s" % (mode, pad, "ac" if ac else "noac")
                if k % 2:
                    cases.append(run_case("one2_" + tag, "in2_one", (4, 1), mode, pad, ac,
                                          wide=False))
                else:
                    cases.append(run_case("one3_" + tag, "in3_one", (3, 1, 4), mode, pad,
                                          ac, wide=False))
                k += 1
    doc = {
        "generator": "tools/golden/gen_resample.py",
        "versions": {"monai": monai.__version__, "torch": torch.__version__,
                     "numpy": np.__version__, "python": sys.version.split()[0]},
        "cases": cases,
    }
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        # one case a line: reviewable diffs, small file
        head = json.dumps({k: v for k, v in doc.items() if k != "cases"})[:-1]
        f.write(head + ', "cases": [\n')
        f.write(",\n".join(json.dumps(c) for c in cases))
        f.write("\n]}\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("%d cases, %d bytes in %s" % (len(cases), total, OUT))


if __name__ == "__main__":
    main()
