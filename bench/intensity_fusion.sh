#!/usr/bin/env bash
# ScaleIntensityRange(-57..164 -> 0..1, clip) -> NormalizeIntensity(nonzero) ->
# CastToType(float16) on a synthetic 512x512x128 int16 CT (plain .nii, loading included,
# nothing saved), with mgc's reference backend and the fuse-elementwise pass off and on:
# hyperfine medians, then each mode's per-step profile (`mgc run --verbose`: ms and MB of
# data made per step).
# usage: bench/intensity_fusion.sh [RUNS]
set -euo pipefail
runs=${1:-5}
. "$(dirname "$0")/common.sh" intensity
$mgc synth "$work/data" --n 1 --size 512x512x128 --plain >/dev/null
cat > "$work/p.json" <<JSON
{"dataset_dir": "$work/data",
 "datalist": {"_target_": "load_decathlon_datalist", "data_list_file_path": "@dataset_dir",
              "base_dir": "@dataset_dir"},
 "preprocessing": {"_target_": "Compose", "transforms": [
   {"_target_": "LoadImaged", "keys": "image"},
   {"_target_": "EnsureChannelFirstd", "keys": "image"},
   {"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": -57, "a_max": 164,
    "b_min": 0.0, "b_max": 1.0, "clip": true},
   {"_target_": "NormalizeIntensityd", "keys": "image", "nonzero": true},
   {"_target_": "CastToTyped", "keys": "image", "dtype": "float16"}]},
 "dataset": {"_target_": "Dataset", "data": "@datalist", "transform": "@preprocessing"}}
JSON
hyperfine -w 1 -r "$runs" -N --export-json "$work/h.json" \
  "$mgc run $work/p.json --quiet --threads=1 --disable=fuse-elementwise" \
  "$mgc run $work/p.json --quiet --threads=1"
python3 - "$work/h.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"median {r['median']:.3f} s  {r['command']}")
PY
for mode in "--disable=fuse-elementwise" ""; do
  echo "== profile ${mode:-fused}"
  $mgc run "$work/p.json" --threads=1 --verbose $mode 2>&1 | sed -n '/^op /,$p'
done
