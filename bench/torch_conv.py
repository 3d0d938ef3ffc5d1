"""bench/torch_conv.py: the same convolution as bench/conv.c in PyTorch on this machine
(forward, backward data, backward weights + bias; plain and channels_last_3d), median
of RUNS after two warm-up calls, the best, and GFLOP per CPU-second. usage: python3 bench/torch_conv.py [N C D RUNS]"""
import sys
import time

import torch

N, C, D, runs = (int(a) for a in (sys.argv[1:] + ["1", "32", "64", "10"][len(sys.argv) - 1:]))
gflop = 2.0 * N * C * C * 27 * D ** 3 / 1e9
w = torch.rand(C, C, 3, 3, 3) - 0.5
b = torch.rand(C) - 0.5
for fmt in (torch.contiguous_format, torch.channels_last_3d):
    x = (torch.rand(N, C, D, D, D) - 0.5).contiguous(memory_format=fmt)
    dy = (torch.rand(N, C, D, D, D) - 0.5).contiguous(memory_format=fmt)
    passes = {
        "forward": lambda: torch.nn.functional.conv3d(x, w, b, padding=1),
        "backward data": lambda: torch.ops.aten.convolution_backward(
            dy, x, w, [C], [1] * 3, [1] * 3, [1] * 3, False, [0] * 3, 1, [True, False, False]),
        "backward weights": lambda: torch.ops.aten.convolution_backward(
            dy, x, w, [C], [1] * 3, [1] * 3, [1] * 3, False, [0] * 3, 1, [False, True, True]),
    }
    name = "plain" if fmt == torch.contiguous_format else "channels-last"
    with torch.no_grad():
        for p, f in passes.items():
            ts, us = [], []
            for r in range(runs + 2):
                t0, u0 = time.perf_counter(), time.process_time()
                f()
                if r >= 2:
                    ts.append(time.perf_counter() - t0)
                    us.append(time.process_time() - u0)
            ts.sort()
            us.sort()
            t = ts[len(ts) // 2]
            print(f"torch {name:13s} {p:16s} {t * 1e3:8.2f} ms {gflop / t:7.1f} GFLOP/s  "
                  f"best {gflop / ts[0]:7.1f}  per CPU-s {gflop / us[len(us) // 2]:6.1f}")
