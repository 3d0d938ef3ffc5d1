#!/usr/bin/env bash
# The example pipeline (load, channel first, ScaleIntensityRange, cast, save image and
# label) over synthetic 512x512x128 CTs: mgc's reference backend against MONAI on this
# machine, in one run. usage: bench/preprocess.sh [N_ITEMS] [RUNS]
set -euo pipefail
n=${1:-2}
runs=${2:-5}
. "$(dirname "$0")/common.sh" preprocess
$mgc synth "$work/data" --n "$n" --size 512x512x128 >/dev/null
for gz in 1 6; do
  hyperfine -w 1 -r "$runs" -N --export-json "$work/mgc-gz$gz.json" \
    "$mgc run examples/preprocess.json --dataset_dir=$work/data --output_dir=$work/mgc --quiet --gz_level=$gz"
done
if python3 -c "import monai" 2>/dev/null; then
  hyperfine -w 1 -r "$runs" -N --export-json "$work/monai.json" \
    "python3 bench/monai_preprocess.py $work/data $work/monai"
  python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
med = lambda f: sorted(json.load(open(f"{w}/{f}"))["results"][0]["times"])[len(json.load(open(f"{w}/{f}"))["results"][0]["times"]) // 2]
m1, m6, mo = med("mgc-gz1.json"), med("mgc-gz6.json"), med("monai.json")
print(f"median: mgc gz1 {m1:.3f} s, mgc gz6 {m6:.3f} s, monai {mo:.3f} s (incl. python start-up)")
print(f"ratio monai/mgc: gz1 {mo / m1:.1f}x, gz6 {mo / m6:.1f}x")
PY
fi
