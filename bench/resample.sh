#!/usr/bin/env bash
# The resampler's modes on a 512x512x128 float32 volume, rotated by 10 degrees and zoomed
# by 0.9 (an Affine, or Spacing + Orientation fused): linear and cubic, zeros and
# reflection padding; the reference resampler (1 thread) against the generated one
# (ops/spatial_gen.c, 1 thread and the pool), then MONAI's Affine on the same volume
# (bench/monai_resample.py, 1 and 2 torch threads) when MONAI is there.
# The program is bench/kernel_bw.c.
# usage: bench/resample.sh [MONAI_REPS]
set -euo pipefail
. "$(dirname "$0")/common.sh" resample
[ -x build/bench_kernel ] || cmake --build build --target bench_kernel >/dev/null
build/bench_kernel resample
if python3 -c "import monai" 2>/dev/null; then
  PYTHONWARNINGS=ignore python3 bench/monai_resample.py "${1:-3}"
fi
