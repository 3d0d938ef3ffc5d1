#!/usr/bin/env bash
# The libm activations (Sigmoid, Tanh, ELU, GELU both forms, GELUGrad) over a float32
# 2x32x96^3 activation map: reference kernel against generated kernel, 1 thread and the
# pool; then torch on the same input when it is installed. The program is bench/act.c.
# usage: bench/act.sh
set -euo pipefail
. "$(dirname "$0")/common.sh" act
[ -x build/bench_act ] || cmake --build build --target bench_act >/dev/null
build/bench_act
# torch's float32 kernels on the same input, for scale (they round each step: not equal)
if python3 -c "import torch" 2>/dev/null; then
  python3 - <<'PY'
import time, torch
n = 2 * 32 * 96 ** 3
i = torch.arange(n, dtype=torch.int64)
x = ((i * 7919 % 12000).double() / 1000 - 6).float().reshape(2, 32, 96, 96, 96)
dy = ((i % 17).float() / 16).reshape(x.shape)
ops = [("Sigmoid", torch.sigmoid), ("Tanh", torch.tanh), ("ELU", torch.nn.functional.elu),
       ("GELU", torch.nn.functional.gelu),
       ("GELU(tanh)", lambda t: torch.nn.functional.gelu(t, approximate="tanh")),
       ("GELUGrad", lambda t: torch.ops.aten.gelu_backward(dy, t))]
for threads in (1, 2):
    torch.set_num_threads(threads)
    row = []
    for name, f in ops:
        f(x)
        best = 1e30
        for _ in range(3):
            t0 = time.perf_counter(); f(x); best = min(best, time.perf_counter() - t0)
        row.append("%s %.0f ms" % (name, best * 1e3))
    print("torch %d thread%s: %s" % (threads, "s" if threads > 1 else "", ", ".join(row)))
PY
fi
