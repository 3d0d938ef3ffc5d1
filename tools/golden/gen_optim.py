"""torch.optim's Adam, AdamW and SGD on small tensors: three steps from a given parameter
and given gradients, the parameter and the optimizer's state after each step, for
tests/test_optim.c. Float64 tensors (torch then computes in float64, as mgc's reference
kernels do) and one float32 case. Writes tests/golden/optim/cases.json."""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden", "optim")

CASES = [
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "maximize": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.05, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.03, "weight_decay": 0.2, "amsgrad": True}),
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "maximize": True}),
]
STATE = {"Adam": ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
         "AdamW": ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
         "SGD": ["step", "momentum_buffer"]}


def run(name, args, dtype, shape, seed):
    g = torch.Generator().manual_seed(seed)
    p0 = torch.randn(shape, generator=g, dtype=dtype)
    p = torch.nn.Parameter(p0.clone())
    opt = getattr(torch.optim, name)([p], **args)
    grads, steps = [], []
    for _ in range(3):
        gr = torch.randn(shape, generator=g, dtype=dtype)
        p.grad = gr.clone()
        opt.step()
        st = opt.state[p]
        state = {}
        for k in STATE[name]:
            if k == "step" and name == "SGD":
                continue
            if k in st:
                state[k] = st[k].double().flatten().tolist()
        grads.append(gr.double().flatten().tolist())
        steps.append({"param": p.detach().double().flatten().tolist(), "state": state})
    return {"op": name, "args": args, "dtype": "float32" if dtype == torch.float32 else
            "float64", "shape": list(shape), "param": p0.double().flatten().tolist(),
            "grads": grads, "steps": steps}


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = [run(n, a, torch.float64, (2, 3, 4), 10 + i) for i, (n, a) in enumerate(CASES)]
    cases.append(run("Adam", {"lr": 0.01}, torch.float32, (5,), 99))
    cases.append(run("SGD", {"lr": 0.01, "momentum": 0.5}, torch.float32, (3, 2), 98))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=0)


if __name__ == "__main__":
    main()
