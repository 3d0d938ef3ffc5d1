#!/usr/bin/env python3
"""gen_save_paths.py: golden output paths for mgc's SaveImage, computed by MONAI.

For each case (the source file name in the image's meta, and SaveImage's output_dir,
data_root_dir, separate_folder, output_postfix, output_ext) this asks MONAI's own
FolderLayout.filename, i.e. monai.data.utils.create_file_basename plus the extension,
which is what SaveImage(...)(img) writes to, and stores the string in
tests/golden/save_paths/cases.json:
  {"generator", "versions", "cases": [{name, source, args, expected, monai_raises?}]}
`args` is the JSON a pipeline file would pass to SaveImage. The paths are computed with
makedirs off; `monai_raises` marks the cases where MONAI's SaveImage (makedirs on) would
fail instead, in os.makedirs("") (output_dir "" with separate_folder false): mgc documents
that as a deviation (it writes into the current folder).

The cases use relative paths that do not climb above the current folder's grandparent,
and absolute ones, so the answers do not depend on the folder they are computed in: the
script computes each case from two different folders and refuses to write if they
differ. tests/test_save_paths.c runs in a fresh folder two levels deep.

Usage: python3 tools/golden/gen_save_paths.py   (from anywhere; needs monai).
"""
import json
import os
import sys
import tempfile

import monai
from monai.data.folder_layout import FolderLayout

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "save_paths")

# name, source, output_dir, data_root_dir, separate_folder, output_postfix, output_ext
CASES = [
    ("empty_dir", "imgs/a.nii.gz", "", "", True, "trans", ".nii.gz"),
    ("empty_dir_flat", "imgs/a.nii.gz", "", "", False, "trans", ".nii.gz"),
    ("default_dir", "imgs/a.nii.gz", "./", "", True, "trans", ".nii.gz"),
    ("root_above", "imgs/sub/a.nii.gz", "out", "imgs", True, "trans", ".nii.gz"),
    ("root_above_empty_dir", "imgs/sub/a.nii.gz", "", "imgs", True, "trans", ".nii.gz"),
    ("root_is_folder", "imgs/a.nii.gz", "out", "imgs", True, "trans", ".nii.gz"),
    ("root_is_folder_slash", "imgs/a.nii.gz", "out/", "imgs/", False, "seg", ".nii"),
    ("root_beside", "imgs/sub/a.nii.gz", "out", "other", True, "trans", ".nii.gz"),
    ("root_beside_empty_dir", "imgs/sub/a.nii.gz", "", "other/deeper", False, "x", ".nii"),
    ("root_below_source", "imgs/a.nii", "out", "imgs/sub", True, "trans", ".nii.gz"),
    ("no_source_folder", "a.nii.gz", "out", "imgs", True, "trans", ".nii.gz"),
    ("double_slashes", "imgs//sub//a.nii", "out//", "imgs/", False, "seg", ".nii"),
    ("dotted_name", "imgs/a.b.nii.gz", "out", "", True, "trans", ".nii.gz"),
    ("hidden_name", "imgs/.nii.gz", "out", "", True, "trans", ".nii.gz"),
    ("upper_case", "imgs/A.NII.GZ", "out", "", True, "trans", ".nii.gz"),
    ("pair_name", "imgs/a.hdr", "out", "", False, "", ".nii"),
    ("abs_below_root", "/data/x/a.nii.gz", "out", "/data", True, "trans", ".nii.gz"),
    ("abs_beside_root", "/data/x/a.nii.gz", "out", "/data/y", True, "trans", ".nii.gz"),
    ("abs_at_slash", "/a.nii.gz", "out", "/", True, "trans", ".nii.gz"),
    ("abs_no_root", "/data/x/a.nii.gz", "", "", True, "label", ".nii.gz"),
]


def path_of(case, makedirs=False):
    _, source, out, root, separate, postfix, ext = case
    layout = FolderLayout(output_dir=out, postfix=postfix, extension=ext, parent=separate,
                          makedirs=makedirs, data_root_dir=root)
    return str(layout.filename(subject=source))


def raises_with_makedirs(case):
    try:
        path_of(case, makedirs=True)
    except OSError:
        return True
    return False


def main():
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        here = os.getcwd()
        answers = []
        for sub in ("p/q", "r/s"):
            os.makedirs(os.path.join(tmp, sub))
            os.chdir(os.path.join(tmp, sub))
            answers.append([path_of(c) for c in CASES])
        raises = [raises_with_makedirs(c) for c in CASES]  # creates folders under tmp
        os.chdir(here)
    if answers[0] != answers[1]:
        sys.exit("some answers depend on the current folder: %s" % [
            c[0] for c, a, b in zip(CASES, *answers) if a != b])
    for c, expected, raised in zip(CASES, answers[0], raises):
        name, source, out, root, separate, postfix, ext = c
        case = {"name": name, "source": source,
                "args": {"output_dir": out, "data_root_dir": root,
                         "separate_folder": separate, "output_postfix": postfix,
                         "output_ext": ext},
                "expected": expected}
        if raised:
            case["monai_raises"] = True
        cases.append(case)
    os.makedirs(OUT, exist_ok=True)
    doc = {"generator": "tools/golden/gen_save_paths.py",
           "versions": {"monai": monai.__version__,
                        "python": "%d.%d.%d" % sys.version_info[:3]},
           "cases": cases}
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
