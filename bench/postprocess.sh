#!/usr/bin/env bash
# KeepLargestConnectedComponent (defaults: each label on its own, full connectivity) on a
# synthetic 512x512x128 uint8 label map (labels 1 and 2: a few large ellipsoids each plus
# 2% scattered voxels, tens of thousands of components): mgc's reference kernel against
# MONAI on this machine, one thread each. mgc's time is the median of a pipeline that
# loads the map, adds the channel and runs the op, minus the median of the same pipeline
# without the op; MONAI's is the op alone, timed in-process.
# usage: bench/postprocess.sh [RUNS]   (needs python3 with numpy and nibabel to make the
# map; MONAI, scikit-image and scipy for its side)
set -euo pipefail
runs=${1:-5}
. "$(dirname "$0")/common.sh" postprocess
python3 bench/monai_postprocess.py make "$work/data"
for op in none klcc; do
  extra=""
  [ $op = klcc ] && extra=', {"_target_": "KeepLargestConnectedComponentd", "keys": "label"}'
  cat > "$work/$op.json" <<JSON
{"preprocessing": {"_target_": "Compose", "transforms": [
   {"_target_": "LoadImaged", "keys": "label"},
   {"_target_": "EnsureChannelFirstd", "keys": "label"}$extra]},
 "dataset": {"_target_": "Dataset", "data": [{"label": "$work/data/label.nii"}],
             "transform": "@preprocessing"}}
JSON
done
hyperfine -w 1 -r "$runs" -N --export-json "$work/h.json" \
  "$mgc run $work/none.json --quiet --threads=1" "$mgc run $work/klcc.json --quiet --threads=1"
python3 - "$work/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
med = [sorted(x["times"])[len(x["times"]) // 2] for x in r]
print(f"mgc: load + channel {med[0]:.3f} s, with KeepLargestConnectedComponent {med[1]:.3f} s: "
      f"the op {med[1] - med[0]:.3f} s (medians)")
PY
if python3 -c "import monai, skimage" 2>/dev/null; then
  python3 bench/monai_postprocess.py time "$work/data" "$runs"
fi
