#!/usr/bin/env bash
# The spleen bundle's whole training step (examples/spleen_train.json: UNet, DiceCELoss,
# Adam) on a batch of N x 1 x SIZE^3, through `mgc run --step=train` and through MONAI
# (bench/torch_train.py) in the same run: the median step after a first one (mgc's first
# includes the JIT's compile), and their ratio.
# usage: bench/train.sh [N SIZE RUNS]
set -euo pipefail
. "$(dirname "$0")/common.sh" train
n=${1:-2} size=${2:-96} runs=${3:-3}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
out=$($mgc run examples/spleen_train.json --step=train --batch="$n" \
	--patch="$size,$size,$size" --steps=$((runs + 1)))
echo "$out"
m=$(echo "$out" | awk '/^step [0-9]+:/ && $2 != "1:" {print $3}' | median)
t=$(python3 bench/torch_train.py "$n" "$size" "$runs")
echo "$t"
tm=$(echo "$t" | sed -E 's/.*median ([0-9.]+) s.*/\1/')
echo "mgc spleen train step N=$n $size^3: median $m s; MONAI $tm s; mgc / MONAI speed" \
	"$(awk -v a="$m" -v b="$tm" 'BEGIN {printf "%.2fx", b / a}')"
