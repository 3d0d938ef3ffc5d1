#!/usr/bin/env python3
"""make_nifti_fixtures.py: writes the NIfTI fixtures under tests/data/nifti/ with nibabel
and records in expected.json what nibabel and MONAI report for each of them: MONAI's
affine (LoadImage), pixdim after MONAI's header correction, nibabel's data (dtype, shape,
values, sums), aff2axcodes, header fields for `mgc info`, plus nibabel io_orientation
results for a set of affines and the files MONAI's NibabelWriter writes.

tests/test_nifti.c compares mgc against this file; nothing here runs mgc.
Run from anywhere: python3 tools/golden/make_nifti_fixtures.py (nibabel, monai, numpy).
"""
import gzip
import itertools
import json
import math
import os
import warnings

import nibabel as nib
import numpy as np
from monai.data import NibabelReader, NibabelWriter
from monai.data.utils import correct_nifti_header_if_necessary, to_affine_nd
from monai.transforms import LoadImage
from nibabel.orientations import aff2axcodes, io_orientation

warnings.filterwarnings("ignore")
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "data", "nifti")


def ramp(shape, dtype):
    """Deterministic values in file (F) order, negative where the dtype allows."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    v = (i * 37) % 251 - 100 if np.dtype(dtype).kind != "u" else (i * 37) % 251
    if np.dtype(dtype).kind == "f":
        v = v * 0.25 + 0.125
    return v.astype(dtype).reshape(shape, order="F")


def rot(b, c, d):
    """Rotation matrix of the unit quaternion with vector part (b, c, d)."""
    w = math.sqrt(1 - b * b - c * c - d * d)
    return nib.quaternions.quat2mat([w, b, c, d])


def header(shape, dtype, endian="<", pixdim=None, **fields):
    h = nib.Nifti1Header(endianness=endian)
    h.set_data_dtype(dtype)
    h.set_data_shape(shape)
    if pixdim is not None:
        p = h["pixdim"]
        p[: len(pixdim)] = pixdim
        h["pixdim"] = p
    for k, v in fields.items():
        h[k] = v
    h["vox_offset"] = 352
    return h


def write_raw(name, h, data, ext=b""):
    """Header bytes as nibabel serialises them, then the data as is: nibabel's own save
    would recompute scl_slope and the xforms we want to keep odd."""
    endian = h.endianness
    if ext:
        h["vox_offset"] = 352 + len(ext)
    raw = h.binaryblock + (b"\x01\0\0\0" + ext if ext else b"\0\0\0\0")
    raw += np.asarray(data).astype(data.dtype.newbyteorder(endian)).tobytes(order="F")
    path = os.path.join(OUT, name)
    if name.endswith(".gz"):
        with open(path, "wb") as f, gzip.GzipFile("", "wb", fileobj=f, mtime=0) as z:
            z.write(raw)  # no name or time in the gzip header: reproducible bytes
    else:
        with open(path, "wb") as f:
            f.write(raw)


def sform_fields(a):
    return {"srow_x": a[0], "srow_y": a[1], "srow_z": a[2]}


def fixtures():
    sh = (5, 4, 3)
    R = rot(0.1, -0.2, 0.3)
    q = dict(quatern_b=0.1, quatern_c=-0.2, quatern_d=0.3, qoffset_x=-10, qoffset_y=20,
             qoffset_z=5.5)
    # qform only, oblique, sform fields hold junk that must be ignored
    write_raw("qform_only.nii", header(sh, np.int16, pixdim=[1, 1.5, 2, 2.5], qform_code=1,
              sform_code=0, **q, **sform_fields(np.diag([9.0, 9, 9, 1]))),
              ramp(sh, np.int16))
    # sform only, oblique, consistent with pixdim
    S = np.eye(4)
    S[:3, :3] = rot(-0.3, 0.05, 0.2) @ np.diag([0.8, 1.2, 3.0])
    S[:3, 3] = [100, -50.25, 7]
    write_raw("sform_only.nii.gz", header(sh, np.float32, pixdim=[1, 0.8, 1.2, 3.0],
              qform_code=0, sform_code=2, **sform_fields(S)), ramp(sh, np.float32))
    # both coded and different: the sform wins
    write_raw("both.nii", header(sh, np.uint8, pixdim=[1, 0.8, 1.2, 3.0], qform_code=1,
              sform_code=1, **q, **sform_fields(S)), ramp(sh, np.uint8))
    # neither: the base affine from the shape and zooms
    write_raw("neither.nii.gz", header(sh, np.int32, pixdim=[1, 2, 3, 4]), ramp(sh, np.int32))
    # sform column norms disagree with pixdim, the qform agrees: MONAI takes the qform
    M = np.diag([2.0, 2, 2, 1])
    M[:3, 3] = [1, 2, 3]
    write_raw("sform_mismatch.nii", header(sh, np.int16, pixdim=[1, 1, 1, 3], qform_code=1,
              sform_code=1, **q, **sform_fields(M)), ramp(sh, np.int16))
    # ... even when the qform is not coded
    write_raw("sform_mismatch_qcode0.nii.gz", header(sh, np.int16, pixdim=[1, 1, 1, 3],
              qform_code=0, sform_code=1, **q, **sform_fields(M)), ramp(sh, np.int16))
    # sform uncoded, the coded qform is fine (3D qforms always match their pixdim)
    write_raw("qform_sform_junk.nii.gz", header(sh, np.float32, pixdim=[-1, 2, 2, 2],
              qform_code=2, sform_code=0, **q, **sform_fields(M)), ramp(sh, np.float32))
    # scaling
    write_raw("scaled_i16.nii", header(sh, np.int16, pixdim=[1, 1, 1, 1], scl_slope=0.5,
              scl_inter=-100), ramp(sh, np.int16))
    write_raw("scaled_f32.nii.gz", header(sh, np.float32, pixdim=[1, 1, 1, 1], scl_slope=2,
              scl_inter=0), ramp(sh, np.float32))
    write_raw("unit_scale_u16.nii.gz", header(sh, np.uint16, scl_slope=1, scl_inter=0),
              ramp(sh, np.uint16))
    write_raw("zero_slope_i8.nii.gz", header(sh, np.int8, scl_slope=0, scl_inter=5),
              ramp(sh, np.int8))
    # big-endian
    write_raw("big_endian_i16.nii", header(sh, np.int16, endian=">", pixdim=[1, 0.8, 1.2, 3],
              sform_code=1, **sform_fields(S)), ramp(sh, np.int16))
    write_raw("big_endian_f64.nii.gz", header(sh, np.float64, endian=">", qform_code=1, **q,
              pixdim=[-1, 1.5, 2, 2.5]), ramp(sh, np.float64))
    # 4D: MONAI's check compares 4 "spacings" (the 4th from the translation column), so
    # it always rewrites pixdim and keeps this mismatched sform
    S4 = S.copy()
    S4[:3, 0] *= 2
    write_raw("four_d.nii.gz", header(sh + (2,), np.float32, pixdim=[1, 0.8, 1.2, 3.0, 2.5],
              sform_code=1, qform_code=1, **q, **sform_fields(S4)), ramp(sh + (2,), np.float32))
    write_raw("four_d_t1.nii.gz", header(sh + (1,), np.int16, pixdim=[1, 1, 1, 1, 1]),
              ramp(sh + (1,), np.int16))
    # 2D: MONAI checks the top-left 2x2 only
    write_raw("two_d.nii", header((5, 4), np.uint8, pixdim=[1, 0.7, 0.9], sform_code=1,
              **sform_fields(np.diag([0.7, 0.9, 1, 1]))), ramp((5, 4), np.uint8))
    write_raw("two_d_oblique.nii.gz", header((5, 4), np.int16, pixdim=[1, 0.8, 1.2, 1],
              qform_code=1, **q, **sform_fields(S)), ramp((5, 4), np.int16))
    # the qform's 2x2 block disagrees and the uncoded sform is zero: MONAI raises
    write_raw("two_d_zero_sform.nii", header((5, 4), np.int16, pixdim=[1, 1, 1, 1],
              qform_code=1, **q), ramp((5, 4), np.int16))
    write_raw("z_one.nii.gz", header((5, 4, 1), np.float32, pixdim=[1, 1, 1, 5]),
              ramp((5, 4, 1), np.float32))
    write_raw("five_d.nii.gz", header((5, 4, 3, 1, 2), np.float32, pixdim=[1, 1, 1, 1]),
              ramp((5, 4, 3, 1, 2), np.float32))
    # qfac -1, and nibabel's load-time fixes: zero and negative pixdim, bad codes
    write_raw("qfac_neg.nii.gz", header(sh, np.int16, pixdim=[-1, 1.5, 2, 2.5], qform_code=1,
              **q), ramp(sh, np.int16))
    write_raw("pixdim_fix.nii.gz", header(sh, np.int16, pixdim=[0.5, 0, -2, 3], qform_code=1,
              sform_code=9, **q), ramp(sh, np.int16))
    # an extension moves the data to 352 + 32
    ext = np.array([32, 6], "<i4").tobytes() + b"mgc fixture comment\0\0\0\0\0"
    write_raw("extension.nii", header(sh, np.int16, pixdim=[1, 1, 1, 1]), ramp(sh, np.int16),
              ext)
    # every dtype, with extremes
    for dt in ["uint8", "int8", "uint16", "int16", "uint32", "int32", "int64", "float32",
               "float64"]:
        d = ramp((3, 2, 2), dt)
        info = np.iinfo(dt) if np.dtype(dt).kind in "iu" else np.finfo(dt)
        lo, hi = (-1e300, 1e300) if dt == "float64" else (info.min, info.max)  # finite sums
        d.flat[[1, 2]] = [lo, hi]  # flat is C order: entries (0,0,1), (0,1,0)
        write_raw(f"dtype_{dt}.nii.gz", header((3, 2, 2), dt, pixdim=[1, 1, 1, 1]), d)
    # written by nibabel's image API: sform_code 2, qform_code 0
    A = np.array([[-0.9, 0.1, 0, 90], [0, 1.1, -0.2, -126], [0.05, 0, 2.5, -72],
                  [0, 0, 0, 1]])
    nib.Nifti1Image(ramp(sh, np.int16), A).to_filename(os.path.join(OUT, "nib_saved.nii.gz"))
    pair = nib.Nifti1Pair(ramp(sh, np.float32), A)
    pair.to_filename(os.path.join(OUT, "pair.hdr"))


def monai_writer_refs():
    """Files from MONAI's NibabelWriter (what SaveImage writes), for header comparison.
    The data is ramp() of the dtype; the C test writes the same and compares bytes."""
    A = np.array([[0.0, -2, 0.3, 10], [1.5, 0, 0, -20], [0, 0.2, 2.5, 5], [0, 0, 0, 1]])
    B = np.array([[0.7, 0.1, 0, -3], [-0.1, 0.9, 0, 4], [0, 0, 1, 0], [0, 0, 0, 1]])
    refs = [("monai_written_i16.nii", (5, 4, 3), "int16", A),
            ("monai_written_f32.nii.gz", (5, 4, 3, 2), "float32", A),
            ("monai_written_2d.nii", (5, 4), "uint8", B)]
    out = []
    for name, shape, dt, aff in refs:
        w = NibabelWriter(output_dtype=np.dtype(dt))
        data = ramp(shape, dt)
        chan = data[None] if len(shape) < 4 else np.moveaxis(data, -1, 0)
        w.set_data_array(chan, channel_dim=0)
        if len(shape) > 2:
            w.set_metadata({"affine": aff, "original_affine": aff}, resample=False)
        else:  # set_metadata fails on 2D with a 4x4 affine (monai 1.4); it is a no-op here
            w.affine = aff
        w.write(os.path.join(OUT, name))
        out.append({"file": name, "shape": list(shape), "dtype": dt, "affine": aff.tolist()})
    return out


def codes(ornt):
    return "".join("?" if np.isnan(ax) else ("RAS" if fl > 0 else "LPI")[int(ax)]
                   for ax, fl in ornt)


def source(path, affine):
    """Which of the loaded header's transforms the final affine came from."""
    h = nib.load(path).header
    for name, m in (("sform", h.get_sform()), ("qform", h.get_qform()),
                    ("base", h.get_base_affine())):
        if np.allclose(m, affine, atol=1e-4):
            return name
    return "?"


INFO_FOR = {"qform_only.nii", "sform_mismatch.nii", "pixdim_fix.nii.gz", "big_endian_i16.nii",
            "two_d_oblique.nii.gz"}


def expected_for(name):
    """MONAI's NibabelReader (what LoadImage uses for .nii/.nii.gz; called directly so
    that .hdr pairs and big-endian files, which LoadImage(dtype=None) cannot turn into
    tensors, are covered too)."""
    path = os.path.join(OUT, name)
    e = {"file": name}
    try:
        reader = NibabelReader()
        data, meta = reader.get_data(reader.read(path))
    except Exception as ex:  # noqa: BLE001 - any failure is the expectation
        e["error"] = f"{type(ex).__name__}: {ex}".splitlines()[0]
        return e
    if name.endswith((".nii", ".nii.gz")):  # LoadImage reports the same affine
        li = LoadImage(image_only=True)(path)
        assert np.array_equal(np.asarray(li.affine), meta["affine"]), name
    nimg = nib.load(path)
    assert np.array_equal(np.asanyarray(nimg.dataobj), data), name
    flat = data.ravel(order="F").astype(np.float64)
    aff = np.asarray(meta["affine"], dtype=np.float64)
    sdim = 2 if len(data.shape) == 2 else 3
    raw = nib.Nifti1Header(open_bytes(path)[:348], check=False)
    hdr = nimg.header
    ocd = meta["original_channel_dim"]
    e.update({
        "error": None,
        "shape": list(data.shape),
        "dtype": data.dtype.name,
        "affine": aff.tolist(),
        "pixdim": [float(x) for x in meta["pixdim"][1:4]],
        "spatial_shape": [int(x) for x in meta["spatial_shape"]],
        "original_channel_dim": None if isinstance(ocd, float) and math.isnan(ocd) else int(ocd),
        "values": flat[:8].tolist(),
        "last": float(flat[-1]),
        "sum": math.fsum(flat),  # exact: order-free, so the C side can match it
        "wsum": math.fsum(flat * (np.arange(flat.size) % 7 + 1)),
        "axcodes": codes(io_orientation(to_affine_nd(sdim, aff))),
        "affine_source": source(path, aff),
    })
    if sdim == 2:  # nibabel labels the whole 4x4; MONAI's Orientation the 2x2 block
        e["axcodes_nibabel"] = "".join(c or "?" for c in aff2axcodes(aff))
    if name in INFO_FOR:
        e["info"] = {
            "ndim": int(hdr["dim"][0]),
            "dims": [int(x) for x in hdr["dim"][1:8]],
            "pixdim": [float(x) for x in hdr["pixdim"]],
            "datatype": int(hdr["datatype"]),
            "qform_code": int(hdr["qform_code"]),
            "sform_code": int(hdr["sform_code"]),
            "qform": hdr.get_qform().tolist(),
            "sform": hdr.get_sform().tolist(),
            "scl_slope": float(raw["scl_slope"]),
            "scl_inter": float(raw["scl_inter"]),
        }
    return e


def open_bytes(path):
    if path.endswith(".gz"):
        with gzip.open(path) as f:
            return f.read()
    with open(path, "rb") as f:
        return f.read()


def orientation_cases():
    """io_orientation on signed permutations, random oblique affines and degenerate ones."""
    rng = np.random.default_rng(20240611)
    mats = []
    for n in (2, 3):
        for perm in itertools.permutations(range(n)):
            for signs in list(itertools.product((1, -1), repeat=n))[:: 5 if n == 3 else 2]:
                m = np.zeros((n, n))
                for i, p in enumerate(perm):
                    m[p, i] = signs[i] * rng.uniform(0.3, 4)
                mats.append(m)
        for _ in range(8 if n == 2 else 16):
            q = rng.normal(size=4)
            q /= np.linalg.norm(q)
            r = nib.quaternions.quat2mat(q)[:n, :n]
            m = r @ np.diag(rng.uniform(0.2, 5, n) * rng.choice([-1, 1], n))
            m += rng.normal(scale=0.15, size=(n, n))  # shear
            mats.append(m)
    mats += [np.diag([1.0, 0, 2]), np.zeros((3, 3)), np.array([[1.0, 1, 0], [1, 1, 0], [0, 0, 2]]),
             np.array([[0.0, 2, 0], [0, 0, 0], [3, 0, 0]]), np.diag([0.0, 1]),
             np.array([[1e-12, 1.0, 0], [1, 0, 0], [0, 0, 1]])]
    cases = []
    for m in mats:
        n = m.shape[0]
        a = np.eye(4)
        a[:n, :n] = np.round(m, 4)  # short decimals: the C side parses the same doubles
        a[:3, 3] = np.round(rng.uniform(-100, 100, 3), 1)
        if n == 2:  # junk outside the 2x2 block must not matter
            a[2, :3] = [0.3, -0.4, 1.7]
            a[:2, 2] = [0.5, 0.25]
        ornt = io_orientation(to_affine_nd(n, a))
        cases.append({"affine": a.tolist(), "sdim": n, "codes": codes(ornt)})
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    fixtures()
    writes = monai_writer_refs()
    names = sorted(f for f in os.listdir(OUT) if f.endswith((".nii", ".nii.gz", ".hdr"))
                   and not f.startswith("monai_written"))
    doc = {
        "generator": "tools/golden/make_nifti_fixtures.py",
        "nibabel": nib.__version__,
        "monai": __import__("monai").__version__,
        "numpy": np.__version__,
        "fixtures": [expected_for(n) for n in names],
        "writes": writes,
        "orientation": orientation_cases(),
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(names)} fixtures, {len(doc['orientation'])} orientation cases, "
          f"{total} bytes in {OUT}")


if __name__ == "__main__":
    main()
