"""spatial_common.py: what the spatial golden generators share (gen_spatial_index.py,
gen_croppad.py, gen_crop_foreground.py, gen_spacing.py, gen_affine.py, gen_resize.py):
test affines, input makers, inputs saved as .npy and registered in an `inputs` table, a
transform run on one, MONAI's lazy voxel map, and the one-case-per-line cases.json they
all write. Imported by those scripts; runs nothing itself.
"""
import json
import os
import sys
import warnings

import numpy as np
import torch

import monai
from monai.data import MetaTensor
from monai.data.utils import to_affine_nd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "data", "nifti")


def golden_dir(name):
    return os.path.join(ROOT, "tests", "golden", name)


def rot(axis, deg):
    """4x4 rotation by deg degrees about world axis `axis`."""
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    i, j = [k for k in range(3) if k != axis]
    r = np.eye(4)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def affine(m, zooms, t):
    """m (4x4 rotation) times diag(zooms), translated to t."""
    a = m @ np.diag(list(zooms) + [1.0])
    a[:3, 3] = t
    return a


def fixture_affine(name):
    """The affine MONAI's LoadImage reports for tests/data/nifti/<name>."""
    from monai.transforms import LoadImage
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LoadImage(image_only=True)(os.path.join(FIXTURES, name)).affine.numpy()


def clear(out):
    """Makes `out` and empties it of what a previous run wrote."""
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".npy") or f == "cases.json":
            os.remove(os.path.join(out, f))


def save_input(out, inputs, name, x, aff, fortran=False):
    """Saves x as <name>.in.npy (Fortran order on request, so the C test sees a strided
    tensor) and registers it in inputs with its affine."""
    if fortran:
        x = np.asfortranarray(x)
    f = f"{name}.in.npy"
    np.save(os.path.join(out, f), x)
    inputs[name] = {"file": f, "affine": np.asarray(aff, dtype=np.float64).tolist(),
                    "array": x}


def meta_tensor(inp):
    """The MetaTensor of a registered input."""
    return MetaTensor(torch.from_numpy(np.ascontiguousarray(inp["array"])),
                      affine=torch.tensor(inp["affine"], dtype=torch.float64))


def run_transform(make, inp, lazy=False):
    """make() (a MONAI transform, built here so its warnings are silenced too) on the
    registered input inp, eagerly or lazily; warnings are noise for a generator."""
    t = meta_tensor(inp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()(t, lazy=lazy)


def image_makers(rng, scale):
    """Two input makers drawing from rng: smooth(shape, scale), float32 values with
    structure (so interpolation matters) plus some noise, and ct_like(shape), int16
    CT-like tissue values with noise."""
    def smooth(shape, scale=scale):
        grids = np.meshgrid(*[np.linspace(0, 3, n) for n in shape[1:]], indexing="ij")
        base = sum(np.sin(g * (i + 1.3)) for i, g in enumerate(grids))
        x = np.stack([base * scale * (c + 1) for c in range(shape[0])])
        x = x + rng.normal(0, scale / 5, size=shape)
        return x.astype(np.float32)

    def ct_like(shape):
        v = rng.choice([-1000, -80, 0, 40, 60, 300, 1200], size=shape)
        return (v + rng.integers(-30, 30, size=shape)).astype(np.int16)

    return smooth, ct_like


def lazy_map(lz, out_shape, name, required=True):
    """The voxel map (output -> input, 4x4) MONAI's lazy mode recorded in lz; the identity
    when nothing is pending and not required."""
    if not lz.pending_operations:
        assert not required, name
        return np.eye(4)
    op = lz.pending_operations[-1]
    assert list(op["lazy_shape"]) == list(out_shape), name
    return to_affine_nd(3, np.asarray(op["lazy_affine"], dtype=np.float64))


def save_output(out, name, arr):
    f = f"{name}.out.npy"
    np.save(os.path.join(out, f), np.ascontiguousarray(arr))
    return f


def versions(nibabel=False):
    v = {"monai": monai.__version__, "torch": torch.__version__, "numpy": np.__version__}
    if nibabel:
        import nibabel as nib
        v["nibabel"] = nib.__version__
    v["python"] = sys.version.split()[0]
    return v


def write_cases(out, generator, vers, inputs, cases):
    """cases.json with one input or case per line (small files, readable diffs); checks it
    reads back and prints a summary."""
    for v in inputs.values():
        v.pop("array", None)
    with open(os.path.join(out, "cases.json"), "w") as f:
        f.write('{"generator": %s,\n "versions": %s,\n "inputs": {\n' %
                (json.dumps(generator), json.dumps(vers)))
        f.write(",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in inputs.items()))
        f.write('\n },\n "cases": [\n')
        f.write(",\n".join(f"  {json.dumps(c)}" for c in cases))
        f.write("\n ]}\n")
    with open(os.path.join(out, "cases.json")) as f:
        assert json.load(f)["cases"] == json.loads(json.dumps(cases))
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"{len(cases)} cases, {len(inputs)} inputs, {size} bytes in {out}")
