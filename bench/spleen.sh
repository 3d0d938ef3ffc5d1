#!/usr/bin/env bash
# The spleen tutorial's deterministic chain (examples/spleen_preprocess.json: load,
# channel first, ScaleIntensityRange, CropForeground, Orientation, Spacing) on synthetic
# 512x512x128 CTs: mgc's llvm backend against its reference backend and against MONAI on
# this machine, in one run. Each figure is the median of RUNS runs of the transform loop
# (file reading included, process start-up and JIT compilation excluded: `done: ... in X s`).
# usage: bench/spleen.sh [N_ITEMS] [RUNS]
set -euo pipefail
n=${1:-2}
runs=${2:-5}
. "$(dirname "$0")/common.sh" spleen
$mgc synth "$work/data" --n "$n" --size 512x512x128 >/dev/null
loop() { grep -o 'in [0-9.]* s' | awk '{print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for b in ref llvm; do
  for i in $(seq "$runs"); do
    $mgc run examples/spleen_preprocess.json --dataset_dir="$work/data" --backend=$b 2>&1 | loop
  done | median > "$work/$b"
done
ref=$(cat "$work/ref") llvm=$(cat "$work/llvm")
echo "median loop time, $n items: ref $ref s, llvm $llvm s (llvm is $(echo "$ref / $llvm" | bc -l | xargs printf %.2f)x ref)"
if python3 -c "import monai" 2>/dev/null; then
  for i in $(seq "$runs"); do python3 bench/monai_spleen.py "$work/data" | loop; done | median > "$work/monai"
  monai=$(cat "$work/monai")
  echo "MONAI $monai s: llvm is $(echo "$monai / $llvm" | bc -l | xargs printf %.1f)x faster, ref $(echo "$monai / $ref" | bc -l | xargs printf %.1f)x"
fi
