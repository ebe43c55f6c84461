"""Writes test/golden/torch-adadelta-maximize-decay.json: golden vectors from
torch.optim.Adadelta itself for what test/golden/torch-adadelta.json (a copy of the shared
golden file, made elsewhere) has no case of: maximize together with weight decay, alone and
beside a minimizing group, with large params so that the decay term dominates some steps.

Same format as torch-adadelta.json (test/golden/README.md). Deterministic: a fixed seed, CPU,
float32. Run with the repo's .venv:  .venv/bin/python test/interop/golden_cases.py
"""
import base64
import json
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parents[1] / "golden" / "torch-adadelta-maximize-decay.json"

# name, steps, groups (sizes and torch's hyperparameters), param scale, gradient scale
CASES = [
    ("maximize_weight_decay", 15, [dict(sizes=[1, 4, 7, 33], lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.1, maximize=True)], 1.0, 1.0),
    ("maximize_decay_beside_minimize", 12, [
        dict(sizes=[9, 16], lr=0.7, rho=0.93, eps=1e-6, weight_decay=0.01, maximize=True),
        dict(sizes=[5], lr=1.3, rho=0.8, eps=1e-5, weight_decay=0.05, maximize=False),
    ], 1.0, 1.0),
    # Params of ~10 and small gradients: weight_decay * p outweighs the gradient, so a kernel
    # that adds the decay before negating (or skips it when maximizing) is far off.
    ("maximize_decay_dominates", 10, [dict(sizes=[13, 8], lr=0.5, rho=0.95, eps=1e-6, weight_decay=0.2, maximize=True)], 10.0, 0.01),
]


def b64(t):
    return base64.b64encode(t.detach().contiguous().to(torch.float32).numpy().tobytes()).decode()


def random_problem(groups, steps, gen, param_scale=1.0, grad_scale=1.0):
    """params0[i] uniform in [-param_scale, param_scale] and grads[i][t] normal, some exact zeros."""
    sizes = [n for g in groups for n in g["sizes"]]
    params0 = [(torch.rand(n, generator=gen) * 2 - 1) * param_scale for n in sizes]
    # grads[i][t]; some exact zeros, as in torch-adadelta.json's sparse case.
    grads = [[(torch.randn(n, generator=gen) * grad_scale) * (torch.rand(n, generator=gen) > 0.1) for _ in range(steps)] for n in sizes]
    return params0, grads


def adadelta(params0, groups):
    """torch.optim.Adadelta over copies of params0, in the case's groups."""
    params = [torch.nn.Parameter(p.clone()) for p in params0]
    torch_groups, i = [], 0
    for g in groups:
        k = len(g["sizes"])
        torch_groups.append({"params": params[i:i + k], **{key: g[key] for key in ("lr", "rho", "eps", "weight_decay", "maximize")}})
        i += k
    return params, torch.optim.Adadelta(torch_groups)


def case_record(name, groups, steps, params0, grads, expected, **extra):
    """One case in the golden files' format; `extra` goes between the grads and `expected`."""
    return {
        "name": name,
        "torch": torch.__version__,
        "groups": groups,
        "steps": steps,
        "params0": [b64(p) for p in params0],
        "grads": [[b64(g) for g in per_param] for per_param in grads],
        **extra,
        "expected": expected,
    }


def make_case(name, steps, groups, param_scale, grad_scale, gen):
    params0, grads = random_problem(groups, steps, gen, param_scale, grad_scale)
    params, opt = adadelta(params0, groups)
    expected = []
    for t in range(steps):
        for p, gs in zip(params, grads):
            p.grad = gs[t].clone()
        opt.step()
        state = [opt.state[p] for p in params]
        expected.append({
            "step": t + 1,
            "params": [b64(p) for p in params],
            "square_avg": [b64(s["square_avg"]) for s in state],
            "acc_delta": [b64(s["acc_delta"]) for s in state],
        })
    return case_record(name, groups, steps, params0, grads, expected)


def main():
    gen = torch.Generator().manual_seed(20261130)
    cases = [make_case(*c, gen) for c in CASES]
    OUT.write_text(json.dumps({"generator": "torch.optim.Adadelta (test/interop/golden_cases.py)", "float": "base64 little-endian float32", "cases": cases}) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()
