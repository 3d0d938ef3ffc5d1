#!/usr/bin/env bash
# The issue's network figures: MONAI's spleen UNet (channels 16-256, strides 2, two
# residual units, batch norm), forward + backward on a batch of 2 x 1 x 96^3, and the
# whole-body CT SegResNet (105 classes) forward on 1 x 1 x 96^3, through mgc (bench/nets.c)
# and PyTorch with MONAI's classes (bench/torch_nets.py) in the same run.
# usage: bench/nets.sh [RUNS]
set -euo pipefail
. "$(dirname "$0")/common.sh" nets
[ -x build/bench_nets ] || cmake --build build --target bench_nets >/dev/null
runs=${1:-3}
build/bench_nets unet train 2 96 "$runs"
python3 bench/torch_nets.py unet train 2 96 "$runs"
build/bench_nets segresnet eval 1 96 "$runs"
python3 bench/torch_nets.py segresnet eval 1 96 "$runs"
