#!/usr/bin/env bash
# Orientation(RAS) -> Spacing(1.5, 1.5, 2.0) -> CropForeground (both keys, by the image's
# box: x > 0, the body)
# on a synthetic 512x512x128 int16 CT with spacing 0.8x0.8x2.5 (image bilinear, label
# nearest), loading included, no saving:
# mgc's reference backend with the fuse-spatial pass off and on, and MONAI, in one run.
# usage: bench/spatial.sh [RUNS]
set -euo pipefail
runs=${1:-5}
. "$(dirname "$0")/common.sh" spatial
$mgc synth "$work/data" --n 1 --size 512x512x128 --spacing 0.8x0.8x2.5 --plain >/dev/null
cat > "$work/p.json" <<JSON
{"dataset_dir": "$work/data",
 "datalist": {"_target_": "load_decathlon_datalist", "data_list_file_path": "@dataset_dir",
              "base_dir": "@dataset_dir"},
 "preprocessing": {"_target_": "Compose", "transforms": [
   {"_target_": "LoadImaged", "keys": ["image", "label"]},
   {"_target_": "EnsureChannelFirstd", "keys": ["image", "label"]},
   {"_target_": "Orientationd", "keys": ["image", "label"], "axcodes": "RAS"},
   {"_target_": "Spacingd", "keys": ["image", "label"], "pixdim": [1.5, 1.5, 2.0],
    "mode": ["bilinear", "nearest"]},
   {"_target_": "CropForegroundd", "keys": ["image", "label"], "source_key": "image",
    "allow_smaller": true}]},
 "dataset": {"_target_": "Dataset", "data": "@datalist", "transform": "@preprocessing"}}
JSON
hyperfine -w 1 -r "$runs" -N --export-json "$work/h.json" \
  "$mgc run $work/p.json --quiet --threads=1 --disable=fuse-spatial" \
  "$mgc run $work/p.json --quiet --threads=1"
# what each step made (MB) and its time, one run each way
for flag in --disable=fuse-spatial ""; do
  echo "profile ${flag:-fused}:"
  $mgc run $work/p.json --quiet --threads=1 --verbose $flag 2>&1 | sed -n '/MB\/call/,$p'
done
if python3 -c "import monai" 2>/dev/null; then
  export PYTHONWARNINGS=ignore
  for i in $(seq "$runs"); do python3 bench/monai_spatial.py "$work/data"; done
fi
