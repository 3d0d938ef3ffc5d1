#!/usr/bin/env bash
# conv3d 3x3x3, 32->32 channels on 1x32x64^3 (padding 1): forward, backward data and
# backward weights through mgc's oneDNN interface (bench/conv.c) with plain NCDHW and
# channels-last activations, then PyTorch on this machine in the same run (same shapes,
# both memory formats). Threads: oneDNN's OpenMP and torch's defaults (every core), then
# both on one thread (OMP_NUM_THREADS=1). Each line: median wall time and GFLOP/s, the
# best run, and GFLOP per second of process CPU time (steadier on a shared machine).
# usage: bench/conv.sh [N C D RUNS]
set -euo pipefail
. "$(dirname "$0")/common.sh" conv
[ -x build/bench_conv ] || cmake --build build --target bench_conv >/dev/null
echo "== threads: default"
build/bench_conv "$@"
python3 bench/torch_conv.py "$@"
echo "== threads: 1"
OMP_NUM_THREADS=1 build/bench_conv "$@"
OMP_NUM_THREADS=1 python3 bench/torch_conv.py "$@"
