#!/usr/bin/env bash
# A generated kernel's memory bandwidth against a STREAM-like loop in the same run:
# f32 copy and scale (y = 1.5 x) over 512x512x128 (128 MiB in, 128 MiB out), one thread
# and the pool; GB/s = (bytes read + bytes written) / time, best of 5 after a warm-up.
# Also prints the JIT compile time of the two kernels, the generated resampler and
# NormalizeIntensity's and ScaleIntensityRangePercentiles' generated kernels against their
# reference kernels, and MONAI's on the same volume (bench/monai_normalize.py,
# bench/monai_percentiles.py) when MONAI is there. The load average comes first (the
# machine may be shared).
# The program is bench/kernel_bw.c.
# usage: bench/kernel.sh
set -euo pipefail
. "$(dirname "$0")/common.sh" kernel
[ -x build/bench_kernel ] || cmake --build build --target bench_kernel >/dev/null
uptime
build/bench_kernel
if python3 -c "import monai" 2>/dev/null; then
  PYTHONWARNINGS=ignore python3 bench/monai_normalize.py 5
  PYTHONWARNINGS=ignore python3 bench/monai_percentiles.py 5
fi
uptime
