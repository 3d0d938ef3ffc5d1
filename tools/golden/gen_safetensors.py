#!/usr/bin/env python3
"""gen_safetensors.py: safetensors files written and judged by the reference implementation
(the `safetensors` package), for mgc's reader and writer (runtime/safetensors.c).

Writes, under tests/golden/safetensors/:
  dtypes.safetensors   every dtype mgc has, shapes incl. 0-d and empty, special floats,
                       metadata with escapes and UTF-8 (safetensors.torch.save_file)
  dtypes.<name>.npy    each tensor's bytes (bfloat16 as its uint16 bits)
  bool.safetensors     a BOOL tensor (mgc reads it as uint8)
  unet.safetensors     the state_dict of a tiny MONAI UNet (batch norm: a 0-d int64)
  misaligned.safetensors  hand-made, F32/F64 data at odd offsets (read as copies)
  empty.safetensors    no tensors
  mgc_written.safetensors + interop in cases.json: a file mgc wrote (run with --mgc
                       PATH-TO-test_safetensors), read back here by the safetensors package
  cases.json           {"generator", "versions", "files", "bad", "interop"}
and under tests/data/safetensors/ the bad files (truncated, header too long, bad JSON,
bad offsets, overlaps, wrong byte counts, unknown dtype, ...) with, in cases.json's "bad",
the text mgc's error must contain and what the safetensors package says of each file
(it is laxer in places: duplicates, a leading space, more than 6 dimensions), plus two
good seeds for the fuzz target.

Usage: python3 tools/golden/gen_safetensors.py [--mgc build/tests/test_safetensors]
(from anywhere; needs torch, monai, safetensors: `pip install safetensors`, for this
script only). Without --mgc the committed mgc_written.safetensors is read back again.
"""
import argparse
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import safetensors
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import monai
from monai.networks.nets import UNet

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
OUT = os.path.join(ROOT, "tests/golden/safetensors")
BAD = os.path.join(ROOT, "tests/data/safetensors")
ST_NAMES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
            torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
            torch.uint32: "U32", torch.int16: "I16", torch.uint16: "U16", torch.int8: "I8",
            torch.uint8: "U8", torch.bool: "BOOL"}


def raw(t):
    """The tensor's bytes as numpy sees them (bfloat16 as uint16 bits)."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16)
    if t.dtype in (torch.uint16, torch.uint32):
        return t.to(torch.int64).numpy().astype({torch.uint16: np.uint16,
                                                  torch.uint32: np.uint32}[t.dtype])
    return t.numpy()


def entry(name, t, **extra):
    return dict(name=name, dtype=ST_NAMES[t.dtype], shape=list(t.shape), **extra)


def read_all(path):
    """What the safetensors package reads: tensors in its keys() order, metadata."""
    with safe_open(path, framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()


def dtypes_file(files):
    g = torch.Generator().manual_seed(20241124)
    specials = [0.0, -0.0, 1.0, -2.5, float("inf"), float("-inf"), float("nan"), 1e-7, 6e4]
    ts = {
        "f64.3d": torch.randn(2, 3, 4, generator=g, dtype=torch.float64),
        "f32.vec": torch.tensor(specials + [3.4e38, 1e-40], dtype=torch.float32),
        "f32.scalar": torch.tensor(-1.25, dtype=torch.float32),
        "f16.mat": torch.tensor(specials + [6e-8], dtype=torch.float16).reshape(2, 5),
        "bf16.mat": torch.tensor(specials + [1e-39, 3e38, 7.0], dtype=torch.float32)
                    .to(torch.bfloat16).reshape(3, 4),
        "i64.big": torch.tensor([-2**63, 2**63 - 1, 2**53 + 1, -1, 0], dtype=torch.int64),
        "i32.2d": torch.randint(-2**31, 2**31 - 1, (3, 2), generator=g, dtype=torch.int32),
        "u32.vec": torch.tensor([0, 1, 2**32 - 1, 123456789], dtype=torch.int64)
                   .to(torch.uint32),
        "i16.4d": torch.arange(-12, 12, dtype=torch.int16).reshape(1, 2, 3, 4) * 1365,
        "u16.vec": torch.tensor([0, 65535, 256, 7], dtype=torch.int32).to(torch.uint16),
        "i8.vec": torch.tensor([-128, 127, 0, -1, 5], dtype=torch.int8),
        "u8.6d": torch.arange(64, dtype=torch.uint8).reshape(1, 2, 2, 2, 2, 4) * 4,
        "empty.f32": torch.zeros(0, 3, dtype=torch.float32),
        "empty.i64": torch.zeros(2, 0, dtype=torch.int64),
        "odd.u8": torch.tensor([9, 8, 7], dtype=torch.uint8),  # 3 bytes: later data stays aligned
    }
    meta = {"format": "pt", "note": "caf\u00e9 \"quoted\"\n\ttab \\ back"}
    path = os.path.join(OUT, "dtypes.safetensors")
    save_file(ts, path, metadata=meta)
    got, gmeta = read_all(path)
    assert gmeta == meta
    tensors = []
    order = file_order(path)
    for name in order:
        t = ts[name]
        assert raw(got[name]).tobytes() == raw(t).tobytes()
        npy = f"dtypes.{name}.npy"
        np.save(os.path.join(OUT, npy), raw(t))
        tensors.append(entry(name, t, npy=npy))
    files.append(dict(file="dtypes.safetensors", metadata=list(meta.items()), rewrite=True,
                      tensors=tensors))


def file_order(path):
    """Tensor names by data offset: the order mgc lists them in."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        h = json.loads(f.read(n))
    h.pop("__metadata__", None)
    return sorted(h, key=lambda k: tuple(h[k]["data_offsets"]))


def simple_file(files, fname, ts, meta=None, rewrite=False):
    path = os.path.join(OUT, fname)
    save_file(ts, path, metadata=meta)
    got, _ = read_all(path)
    tensors = []
    for name in file_order(path):
        b = raw(ts[name]).tobytes()
        assert raw(got[name]).tobytes() == b
        tensors.append(entry(name, ts[name], crc32=zlib.crc32(b), nbytes=len(b)))
    files.append(dict(file=fname, metadata=list((meta or {}).items()), rewrite=rewrite,
                      tensors=tensors))


def unet_file(files):
    torch.manual_seed(0)
    net = UNet(spatial_dims=2, in_channels=1, out_channels=2, channels=(4, 8), strides=(2,),
               num_res_units=1, norm="batch")
    sd = {k: v.contiguous() for k, v in net.state_dict().items()}
    simple_file(files, "unet.safetensors", sd, rewrite=True)


def header_file(header, data=b"", pad=True):
    """Bytes of a file with this header text (padded with spaces to 8) and data."""
    h = header.encode() if isinstance(header, str) else header
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def misaligned_file(files):
    """U8 first, so the F32 and F64 after it sit at odd offsets: mgc copies them."""
    a = np.array([7], np.uint8)
    b = np.array([1.5, -2.25], np.float32)
    c = np.array([[3.0e300, -0.0]], np.float64)
    hdr = json.dumps({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                      "b": {"dtype": "F32", "shape": [2], "data_offsets": [1, 9]},
                      "c": {"dtype": "F64", "shape": [1, 2], "data_offsets": [9, 25]}},
                     separators=(",", ":"))
    data = a.tobytes() + b.tobytes() + c.tobytes()
    path = os.path.join(OUT, "misaligned.safetensors")
    with open(path, "wb") as f:
        f.write(header_file(hdr, data))
    got, _ = read_all(path)
    tensors = []
    for name, arr in (("a", a), ("b", b), ("c", c)):
        assert got[name].numpy().tobytes() == arr.tobytes()
        tensors.append(dict(name=name, dtype={1: "U8", 4: "F32", 8: "F64"}[arr.itemsize],
                            shape=list(arr.shape), crc32=zlib.crc32(arr.tobytes()),
                            nbytes=arr.nbytes))
    files.append(dict(file="misaligned.safetensors", metadata=[], rewrite=False,
                      tensors=tensors))
    shutil.copy(path, os.path.join(BAD, "ok_misaligned.safetensors"))


def python_verdict(path):
    try:
        got, _ = read_all(path)
        return "accepts"
    except Exception as ex:  # the package raises several types
        return "error: " + str(ex).splitlines()[0][:160]


def bad_files():
    T = '"%s":{"dtype":"%s","shape":%s,"data_offsets":%s}'

    def one(dtype="F32", shape="[2]", offs="[0,8]", name="w"):
        return "{" + T % (name, dtype, shape, offs) + "}"
    good = header_file(one(), b"\0" * 8)
    two = '{' + T % ("a", "F32", "[2]", "%s") + "," + T % ("b", "F32", "[2]", "%s") + "}"
    cases = [
        ("truncated", good[:-3], "end outside the data area"),
        ("too_short", good[:5], "too short for a safetensors file"),
        ("header_past_end", struct.pack("<Q", 1000) + good[8:], "runs past the end"),
        ("header_absurd", struct.pack("<Q", 1 << 40) + good[8:], "is absurd"),
        ("header_zero", struct.pack("<Q", 0) + b"\0" * 8, "does not start with '{'"),
        ("not_json", header_file('{"w": {"dtype": "F32", ', b"\0" * 8), "not valid JSON"),
        ("not_object", header_file('[1, 2]'), "does not start with '{'"),
        ("leading_space", header_file(" " + one(), b"\0" * 8), "does not start with '{'"),
        ("junk_after_json", header_file(one() + "xy", b"\0" * 8), "after its JSON"),
        ("nul_padding", header_file(one().encode() + b"\0" * 6, b"\0" * 8, pad=False),
         "after its JSON"),
        ("not_utf8", header_file(b'{"w\xff":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
                                 b"\0" * 8), "not UTF-8"),
        ("entry_not_dict", header_file('{"w": 5}'), "expected a dict, got a number"),
        ("no_dtype", header_file('{"w":{"shape":[2],"data_offsets":[0,8]}}', b"\0" * 8),
         "has no 'dtype'"),
        ("no_shape", header_file('{"w":{"dtype":"F32","data_offsets":[0,8]}}', b"\0" * 8),
         "has no 'shape'"),
        ("no_offsets", header_file('{"w":{"dtype":"F32","shape":[2]}}', b"\0" * 8),
         "has no 'data_offsets'"),
        ("dtype_not_string", header_file(one(dtype='5').replace('"5"', "5"), b"\0" * 8),
         "dtype is a number, not a string"),
        ("dtype_unknown", header_file(one(dtype="F99"), b"\0" * 8), "dtype 'F99' is not one"),
        ("dtype_u64", header_file(one(dtype="U64", shape="[1]"), b"\0" * 8),
         "dtype 'U64' is not one"),
        ("dtype_f8", header_file(one(dtype="F8_E4M3", shape="[8]"), b"\0" * 8),
         "dtype 'F8_E4M3' is not one"),
        ("shape_not_list", header_file(one(shape='"2"'), b"\0" * 8),
         "shape is a string, not a list"),
        ("negative_dim", header_file(one(shape="[-2]"), b"\0" * 8),
         "shape entry 0 is not an integer in 0..2^53"),
        ("fractional_dim", header_file(one(shape="[2, 0.5]"), b"\0" * 8),
         "shape entry 1 is not an integer in 0..2^53"),
        ("overflow_dims", header_file(one(shape="[4294967296,4294967296,4294967296]"),
                                      b"\0" * 8), "element count overflows"),
        ("overflow_bytes", header_file(one(dtype="F64", shape="[2147483648,2147483648]"),
                                       b"\0" * 8), "byte count overflows"),
        ("rank7", header_file(one(shape="[1,1,1,1,1,1,2]"), b"\0" * 8),
         "has 7 dimensions, mgc handles up to 6"),
        ("offsets_reversed", header_file(one(offs="[8,0]"), b"\0" * 8),
         "data_offsets must be [begin, end]"),
        ("offsets_three", header_file(one(offs="[0,4,8]"), b"\0" * 8),
         "data_offsets must be [begin, end]"),
        ("offsets_negative", header_file(one(offs="[-8,0]"), b"\0" * 8),
         "data_offsets must be [begin, end]"),
        ("wrong_byte_count", header_file(one(shape="[3]"), b"\0" * 8),
         "hold 8 bytes, but F32 3 elements take 12"),
        ("offsets_outside", header_file(one(offs="[8,16]"), b"\0" * 8),
         "end outside the data area (8 bytes)"),
        ("overlap", header_file(two % ("[0,8]", "[4,12]"), b"\0" * 12),
         "tensors 'a' and 'b' overlap"),
        ("same_bytes", header_file(two % ("[0,8]", "[0,8]"), b"\0" * 8), "overlap"),
        ("hole", header_file(two % ("[0,8]", "[12,20]"), b"\0" * 20),
         "bytes 8..12 before it belong to no tensor"),
        ("trailing_data", header_file(one(), b"\0" * 12), "4 bytes after the last tensor"),
        ("duplicate", header_file('{' + T % ("w", "F32", "[1]", "[0,4]") + "," +
                                  T % ("w", "F32", "[1]", "[4,8]") + "}", b"\0" * 8),
         "tensor 'w' appears twice"),
        ("meta_not_dict", header_file('{"__metadata__":[1],' + one()[1:], b"\0" * 8),
         "'__metadata__' is a list, not a dict"),
        ("meta_not_string", header_file('{"__metadata__":{"k":1},' + one()[1:], b"\0" * 8),
         "'__metadata__' key 'k' is a number, not a string"),
        ("meta_duplicate_key", header_file('{"__metadata__":{"k":"a","k":"b"},' + one()[1:],
                                           b"\0" * 8), "'__metadata__' key 'k' appears twice"),
        ("meta_twice", header_file('{"__metadata__":{},"__metadata__":{},' + one()[1:],
                                   b"\0" * 8), "'__metadata__' appears twice"),
    ]
    bad = []
    for name, data, err in cases:
        fname = f"bad_{name}.safetensors"
        path = os.path.join(BAD, fname)
        with open(path, "wb") as f:
            f.write(data)
        bad.append(dict(file=fname, error=err, python=python_verdict(path)))
    with open(os.path.join(BAD, "ok_small.safetensors"), "wb") as f:
        f.write(header_file('{"__metadata__":{"format":"pt"},' +
                            T % ("b", "I64", "[]", "[0,8]") + "," +
                            T % ("a", "F16", "[1,3]", "[8,14]") + "," +
                            T % ("e", "U8", "[0]", "[14,14]") + "}",
                            struct.pack("<q", -3) + np.array([1, 2, 3], np.float16).tobytes()))
    return bad


def interop(mgc):
    """mgc's file, read by the safetensors package: values, dtypes, shapes, metadata."""
    path = os.path.join(OUT, "mgc_written.safetensors")
    if mgc:
        subprocess.run([mgc, "--write-interop", path], check=True)
    got, meta = read_all(path)
    tensors = []
    for name in file_order(path):
        t = got[name]
        vals = t.to(torch.float64).flatten().tolist() if t.dtype != torch.uint64 else None
        tensors.append(entry(name, t, values=vals))
    return dict(file="mgc_written.safetensors", reader=f"safetensors {safetensors.__version__}",
                metadata=list((meta or {}).items()), tensors=tensors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mgc", help="test_safetensors binary, to write mgc_written.safetensors")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(BAD, exist_ok=True)
    keep = {"mgc_written.safetensors"}
    for f in glob.glob(os.path.join(OUT, "*")) + glob.glob(os.path.join(BAD, "*")):
        if os.path.basename(f) not in keep:
            os.remove(f)
    files = []
    dtypes_file(files)
    simple_file(files, "bool.safetensors",
                {"mask": torch.tensor([[True, False, True], [False, False, True]])})
    unet_file(files)
    misaligned_file(files)
    simple_file(files, "empty.safetensors", {}, rewrite=True)
    bad = bad_files()
    inter = interop(args.mgc)
    vers = {"safetensors": safetensors.__version__, "torch": torch.__version__,
            "monai": monai.__version__, "python": sys.version.split()[0]}
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        f.write('{"generator": "tools/golden/gen_safetensors.py",\n "versions": %s,\n'
                % json.dumps(vers))
        f.write(' "files": [\n  ' + ",\n  ".join(json.dumps(x) for x in files) + "\n ],\n")
        f.write(' "bad": [\n  ' + ",\n  ".join(json.dumps(x) for x in bad) + "\n ],\n")
        f.write(' "interop": %s}\n' % json.dumps(inter))
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(OUT, "*")) +
               glob.glob(os.path.join(BAD, "*")))
    print(f"{len(files)} files, {len(bad)} bad files, {size} bytes")


if __name__ == "__main__":
    main()
