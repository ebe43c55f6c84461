"""Writes test/golden/torch-adadelta-training-loop.json: golden vectors from PyTorch itself for the
training-loop features of issue 13 that touch the kernel:

- params with no gradient on some steps (`p.grad = None`: torch skips them, creates no state
  for a param until its first gradient, and leaves its `step` count alone), frozen and unfrozen
  mid-run, with weight decay and maximize, in two param groups;
- `torch.nn.utils.clip_grad_norm_` with p = 2, 1, 3 and inf, active (total norm above max_norm)
  and inactive (below), then `optimizer.step()`; the total norms it returns;
- `torch.nn.utils.clip_grad_value_`, then `optimizer.step()`;
- `clip_grad_norm_` of gradients holding an inf or a NaN (error_if_nonfinite=False).

Format: torch-adadelta.json's (test/golden/README.md), plus per case
- `has_grad[t][i]`: false where param i's `.grad` is None at step t (0-based). `grads[i][t]` is
  still given: a test writes it into the frozen param's gradient, which must be ignored;
- `clip[t]`: null, or {"kind": "norm", "max_norm", "norm_type" (a number or "inf"),
  "total_norm" (base64 float32, one value: what clip_grad_norm_ returned), "clipped" (per param,
  base64 of the gradient after clipping, or null without a gradient)}, or {"kind": "value",
  "clip_value", "clipped"}: applied to the step's gradients before step t + 1;
- in `expected[]` also `state_step[i]` (0 while torch has no state for param i) and
  `has_state[i]`; square_avg and acc_delta are zeros where torch has no state.
Deterministic: a fixed seed, CPU, float32. Run with: .venv/bin/python test/interop/golden_training_loop.py
"""
import json
import math
import pathlib

import torch

from golden_cases import adadelta, b64, case_record, random_problem

OUT = pathlib.Path(__file__).resolve().parents[1] / "golden" / "torch-adadelta-training-loop.json"


def group(sizes, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    return dict(sizes=sizes, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)


def every(steps, n, value=True):
    return [[value] * n for _ in range(steps)]


def mask(steps, n, off):
    """has_grad[t][i], True except at the (t, i) pairs in `off`."""
    out = every(steps, n)
    for t, i in off:
        out[t][i] = False
    return out


def spans(*pairs):
    """(param, range of steps) pairs -> the (t, i) pairs without a gradient."""
    return [(t, i) for i, ts in pairs for t in ts]


TWO_GROUPS_DECAY = [
    group([5, 17], lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.1),
    group([9, 33], lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.05, maximize=True),
]
TWO_GROUPS_MAXIMIZE = [
    group([8, 3], lr=0.8, rho=0.85, eps=1e-6, maximize=True),
    group([21, 1, 12], lr=1.2, rho=0.9, eps=1e-6, weight_decay=0.2),
]
CLIP_GROUPS = [
    group([7, 16], lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.01),
    group([25, 2], lr=0.6, rho=0.95, eps=1e-6, maximize=True),
]


def norm_clip(max_norm, norm_type):
    return {"kind": "norm", "max_norm": max_norm, "norm_type": norm_type}


# name, steps, groups, has_grad[t][i], clip[t] (or None), gradient scale, a gradient edit or None
CASES = [
    # Param 0 frozen for steps 4..7 and back; param 1 has no gradient until step 5 (no state
    # until then); param 2 only every other step; param 3 always. Decay in both groups, the
    # second maximizing: a skipped param must get no decay.
    ("no_grad_decay_two_groups", 12, TWO_GROUPS_DECAY,
     mask(12, 4, spans((0, range(3, 7)), (1, range(0, 4)), (2, range(1, 12, 2)))), None, 1.0, None),
    # Maximize without decay beside decay without maximize; param 2 never gets a gradient, param
    # 4 loses it for the last steps, param 0 skips single steps.
    ("no_grad_maximize_and_decay", 10, TWO_GROUPS_MAXIMIZE,
     mask(10, 5, spans((0, [2, 5, 6]), (2, range(10)), (4, range(6, 10)), (1, [0]))), None, 1.0, None),
    # clip_grad_norm_ at p = 2, total norm well above max_norm (clipping active on every step),
    # one param without a gradient on some steps (left out of the norm, as torch leaves it).
    ("clip_norm_2_active", 8, CLIP_GROUPS, mask(8, 4, spans((1, [2, 3]))), [norm_clip(0.5, 2.0)] * 8, 1.0, None),
    # p = 2 with the total norm below max_norm: the gradients are multiplied by 1.
    ("clip_norm_2_inactive", 6, CLIP_GROUPS, every(6, 4), [norm_clip(100.0, 2.0)] * 6, 1.0, None),
    # p = inf, active, with param 3 never getting a gradient.
    ("clip_norm_inf", 8, CLIP_GROUPS, mask(8, 4, spans((3, range(8)))), [norm_clip(0.3, "inf")] * 8, 1.0, None),
    # p = 1 and p = 3, alternating active and inactive max_norms.
    ("clip_norm_1", 6, CLIP_GROUPS, every(6, 4), [norm_clip(m, 1.0) for m in (5.0, 500.0) * 3], 1.0, None),
    ("clip_norm_3", 6, CLIP_GROUPS, mask(6, 4, spans((0, [1]))), [norm_clip(m, 3.0) for m in (0.7, 70.0) * 3], 1.0, None),
    # clip_grad_value_ (active on most elements: grads ~ N(0, 1), clip at 0.25), then steps.
    ("clip_value", 8, CLIP_GROUPS, mask(8, 4, spans((2, [4, 5]))), [{"kind": "value", "clip_value": 0.25}] * 8, 1.0, None),
    # Non-finite gradients with error_if_nonfinite=False: an inf makes the total norm inf and
    # the coefficient 0 (so inf * 0 = NaN), a NaN makes everything NaN.
    ("clip_norm_nonfinite", 3, CLIP_GROUPS, every(3, 4), [norm_clip(1.0, 2.0)] * 3, 1.0,
     {(0, 1, 3): math.inf, (1, 2, 0): -math.inf, (2, 0, 5): math.nan}),
]


def make_case(name, steps, groups, has_grad, clips, grad_scale, edits, gen):
    params0, grads = random_problem(groups, steps, gen, grad_scale=grad_scale)
    for (t, i, j), value in (edits or {}).items():
        grads[i][t][j] = value
    params, opt = adadelta(params0, groups)
    expected, clip_out = [], []
    for t in range(steps):
        for i, p in enumerate(params):
            p.grad = grads[i][t].clone() if has_grad[t][i] else None
        spec = clips[t] if clips else None
        if spec is None:
            clip_out.append(None)
        elif spec["kind"] == "norm":
            norm_type = math.inf if spec["norm_type"] == "inf" else spec["norm_type"]
            total = torch.nn.utils.clip_grad_norm_(params, spec["max_norm"], norm_type=norm_type, error_if_nonfinite=False)
            clip_out.append({**spec, "total_norm": b64(total.reshape(1)), "clipped": [b64(p.grad) if p.grad is not None else None for p in params]})
        else:
            torch.nn.utils.clip_grad_value_(params, spec["clip_value"])
            clip_out.append({**spec, "clipped": [b64(p.grad) if p.grad is not None else None for p in params]})
        opt.step()
        state = [opt.state.get(p, {}) for p in params]
        expected.append({
            "step": t + 1,
            "params": [b64(p) for p in params],
            "square_avg": [b64(s["square_avg"]) if s else b64(torch.zeros_like(p)) for p, s in zip(params, state)],
            "acc_delta": [b64(s["acc_delta"]) if s else b64(torch.zeros_like(p)) for p, s in zip(params, state)],
            "state_step": [int(s["step"]) if s else 0 for s in state],
            "has_state": [bool(s) for s in state],
        })
    return case_record(name, groups, steps, params0, grads, expected, has_grad=has_grad, clip=clip_out if clips else [None] * steps)


def main():
    gen = torch.Generator().manual_seed(20261313)
    cases = [make_case(*c, gen) for c in CASES]
    OUT.write_text(json.dumps({
        "generator": "torch.optim.Adadelta, torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (test/interop/golden_training_loop.py)",
        "float": "base64 little-endian float32",
        "cases": cases,
    }) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()
