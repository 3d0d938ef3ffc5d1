#!/usr/bin/env bash
# The spleen chain (examples/spleen_preprocess.json) compiled by `mgc compile` against
# `mgc run` (llvm backend, the default), on synthetic 512x512x128 CTs: start-up time (an
# empty datalist: read the plan and the datalist, start and stop the pool; mgc run also
# parses, resolves and runs the passes), whole-process time on N_ITEMS items (mgc run
# JIT-compiles its kernels in it, the executable has them linked), and the transform loop
# alone (`done: ... in X s`, median of RUNS). The executable compiled with --no-trace (the
# reference kernels) is the third line. hyperfine when installed, else a loop of RUNS.
# usage: bench/compile.sh [N_ITEMS] [RUNS]
set -euo pipefail
n=${1:-2}
runs=${2:-5}
. "$(dirname "$0")/common.sh" compile
ex=examples/spleen_preprocess.json
$mgc synth "$work/data" --n "$n" --size 512x512x128 >/dev/null
mkdir -p "$work/empty" && echo '{"training": []}' > "$work/empty/dataset.json"
t0=$(date +%s.%N)
$mgc compile $ex --dataset_dir="$work/data" -o "$work/spleen" --quiet
t1=$(date +%s.%N)
$mgc compile $ex --dataset_dir="$work/data" -o "$work/spleen_ref" --no-trace --quiet
echo "mgc compile (tracing on one item included): $(echo "$t1 - $t0" | bc -l | xargs printf %.2f) s"
run="$mgc run $ex" exe="$work/spleen" ref="$work/spleen_ref"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # name, command: mean whole-process seconds
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/h.json" "$2" >/dev/null 2>&1
    python3 -c "import json; r = json.load(open('$work/h.json'))['results'][0]; print(f\"%-28s mean %.3f s (min %.3f)\" % ('$1', r['mean'], r['min']))"
  else
    for i in $(seq "$runs"); do s=$(date +%s.%N); $2 >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc -l; done |
      median | xargs printf "%-28s median %.3f s\n" "$1"
  fi
}
echo "start-up (empty datalist):"
timeit "mgc run" "$run --dataset_dir=$work/empty --quiet"
timeit "compiled" "$exe --dataset_dir=$work/empty --quiet"
echo "whole process, $n items:"
timeit "mgc run (llvm, JIT)" "$run --dataset_dir=$work/data --quiet"
timeit "compiled (linked kernels)" "$exe --dataset_dir=$work/data --quiet"
timeit "compiled --no-trace (ref)" "$ref --dataset_dir=$work/data --quiet"
loop() { grep -o 'in [0-9.]* s' | awk '{print $2}'; }
echo "transform loop, $n items (median of $runs):"
for c in "$run" "$exe" "$ref"; do
  for i in $(seq "$runs"); do $c --dataset_dir="$work/data" 2>&1 | loop; done | median |
    xargs printf "%-28s %.3f s\n" "$(basename "${c%% *}")"
done
$run --dataset_dir="$work/data" --verbose 2>&1 | grep -o 'llvm: .*' | sed 's/^/mgc run, in its loop: /'
