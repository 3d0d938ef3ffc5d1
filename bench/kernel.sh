#!/usr/bin/env bash
# A generated kernel's memory bandwidth against a STREAM-like loop in the same run:
# f32 copy and scale (y = 1.5 x) over 512x512x128 (128 MiB in, 128 MiB out), one thread
# and the pool; GB/s = (bytes read + bytes written) / time, best of 5 after a warm-up.
# Also prints the JIT compile time of the two kernels. The program is bench/kernel_bw.c.
# usage: bench/kernel.sh
set -euo pipefail
. "$(dirname "$0")/common.sh" kernel
[ -x build/bench_kernel ] || cmake --build build --target bench_kernel >/dev/null
build/bench_kernel
