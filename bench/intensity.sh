#!/usr/bin/env bash
# ScaleIntensityRange(-57, 164 -> 0, 1, clip) -> NormalizeIntensity(nonzero) ->
# CastToType(float16) on one synthetic 512x512x128 float32 CT: mgc's reference
# kernels (one thread, no elementwise fusion yet) against MONAI on this machine.
# mgc's chain time is the median of (load + chain) minus the median of (load alone);
# MONAI's is timed around the chain on the loaded tensor (bench/monai_intensity.py).
# usage: bench/intensity.sh [RUNS]
set -euo pipefail
runs=${1:-5}
. "$(dirname "$0")/common.sh" intensity
$mgc synth "$work/data" --n 1 --size 512x512x128 --plain >/dev/null
# synth varies each case's size around the nominal one: crop or pad (with air) the image
# to exactly 512x512x128 and store it as float32, when nibabel is there to do it
python3 - "$work/data" <<'PY' 2>/dev/null || echo "(nibabel missing: the synthetic size as is)"
import glob, sys
import nibabel as nib, numpy as np
f = sorted(glob.glob(sys.argv[1] + "/imagesTr/*.nii"))[0]
img = nib.load(f)
out = np.full((512, 512, 128), -1000, np.float32)
a = np.asarray(img.dataobj, np.float32)[:512, :512, :128]
out[:a.shape[0], :a.shape[1], :a.shape[2]] = a
nib.save(nib.Nifti1Image(out, img.affine), f)
PY
chain='{"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": -57, "a_max": 164,
         "b_min": 0.0, "b_max": 1.0, "clip": true},
       {"_target_": "NormalizeIntensityd", "keys": "image", "nonzero": true},
       {"_target_": "CastToTyped", "keys": "image", "dtype": "float16"},'
for p in load chain; do
  cat > "$work/$p.json" <<JSON
{"dataset_dir": "$work/data",
 "datalist": {"_target_": "load_decathlon_datalist", "data_list_file_path": "@dataset_dir",
              "base_dir": "@dataset_dir"},
 "preprocessing": {"_target_": "Compose", "transforms": [
   $([ $p = chain ] && echo "$chain")
   {"_target_": "DataStatsd", "keys": "image", "_disabled_": true}]},
 "dataset": {"_target_": "Dataset", "data": "@datalist", "transform": "@preprocessing"}}
JSON
  # LoadImaged and EnsureChannelFirstd go first in both
  python3 - "$work/$p.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["preprocessing"]["transforms"][:0] = [
    {"_target_": "LoadImaged", "keys": "image"},
    {"_target_": "EnsureChannelFirstd", "keys": "image"}]
p["preprocessing"]["transforms"].pop()
json.dump(p, open(sys.argv[1], "w"), indent=1)
PY
done
hyperfine -w 1 -r "$runs" -N --export-json "$work/h.json" \
  "$mgc run $work/load.json --quiet --threads=1" \
  "$mgc run $work/chain.json --quiet --threads=1" >/dev/null
python3 - "$work/h.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
load, full = (statistics.median(x["times"]) for x in r)
print(f"mgc ref, 1 thread: load {load:.3f} s, load + chain {full:.3f} s, "
      f"chain {full - load:.3f} s (medians of {len(r[0]['times'])})")
PY
if python3 -c "import monai" 2>/dev/null; then
  PYTHONWARNINGS=ignore python3 bench/monai_intensity.py "$work/data" "$runs"
fi
