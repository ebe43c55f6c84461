"""Writes test/golden/torch-schedulers.json: the lr sequence of every torch.optim.lr_scheduler
class that adadelta-wasm exports, recorded from torch itself on a torch.optim.Adadelta with two
param groups of different lrs.

Each case names a scheduler spec: {"type": class name, "kwargs": torch's keyword arguments},
where a lambda is named ({"fn": "pow95"}, the same table as test/schedulers-golden.test.ts),
and SequentialLR/ChainedScheduler take specs of their schedulers. Per case: the group lrs and
`initial_lr`s after construction, then after each of 40 optimizer.step() + scheduler.step()
(ReduceLROnPlateau: step(metric) with the case's metrics) the group lrs and get_last_lr(),
and torch's own scheduler.state_dict() after step 20 through json (null where json cannot hold
it: ReduceLROnPlateau's infinities).
CyclicLR and OneCycleLR get cycle_momentum=False here (Adadelta has no momentum), which is
adadelta-wasm's default: their specs leave it out.

Deterministic (no randomness). Run with the repo's .venv:
    .venv/bin/python test/interop/golden_schedulers.py
"""
import json
import math
import pathlib

import torch
from torch.optim import lr_scheduler

OUT = pathlib.Path(__file__).resolve().parents[1] / "golden" / "torch-schedulers.json"
STEPS = 40
STATE_AT = 20
GROUP_LRS = [0.9, 0.3]

# Named functions for lr_lambda; test/schedulers-golden.test.ts has the same table in JS.
FNS = {
    "pow95": lambda epoch: 0.95 ** epoch,
    "warmup10": lambda epoch: min(1.0, (epoch + 1) / 10),
    "const97": lambda epoch: 0.97,
    "alternate": lambda epoch: 1.1 if epoch % 2 == 0 else 0.85,
}

# A metric that improves, stalls, gets worse and improves again (ReduceLROnPlateau).
METRICS = [1.0 / (1 + t) if t < 8 else 0.2 + 0.01 * ((t * 7) % 5) if t < 25 else 0.3 - 0.005 * (t - 25) for t in range(STEPS)]
METRICS_MAX = [math.sin(t / 3.0) + t / 20.0 for t in range(STEPS)]


def spec(type_, **kwargs):
    return {"type": type_, "kwargs": kwargs}


CASES = [
    ("LambdaLR one fn", spec("LambdaLR", lr_lambda={"fn": "pow95"})),
    ("LambdaLR per group", spec("LambdaLR", lr_lambda=[{"fn": "warmup10"}, {"fn": "pow95"}])),
    ("MultiplicativeLR one fn", spec("MultiplicativeLR", lr_lambda={"fn": "const97"})),
    ("MultiplicativeLR per group", spec("MultiplicativeLR", lr_lambda=[{"fn": "alternate"}, {"fn": "const97"}])),
    ("StepLR", spec("StepLR", step_size=7, gamma=0.5)),
    ("StepLR default gamma", spec("StepLR", step_size=3)),
    ("StepLR resumed at last_epoch 9", spec("StepLR", step_size=4, gamma=0.7, last_epoch=9), [1.0, 0.5]),
    ("MultiStepLR with a repeated milestone", spec("MultiStepLR", milestones=[5, 12, 12, 30], gamma=0.3)),
    ("ConstantLR", spec("ConstantLR", factor=0.5, total_iters=8)),
    ("ConstantLR defaults", spec("ConstantLR")),
    ("LinearLR warmup", spec("LinearLR", start_factor=0.25, end_factor=1.0, total_iters=10)),
    ("LinearLR decay", spec("LinearLR", start_factor=1.0, end_factor=0.1, total_iters=30)),
    ("LinearLR defaults", spec("LinearLR")),
    ("ExponentialLR", spec("ExponentialLR", gamma=0.9)),
    ("PolynomialLR", spec("PolynomialLR", total_iters=25, power=2.0)),
    ("PolynomialLR defaults", spec("PolynomialLR")),
    ("CosineAnnealingLR over several periods", spec("CosineAnnealingLR", T_max=10, eta_min=0.01)),
    ("CosineAnnealingLR", spec("CosineAnnealingLR", T_max=40)),
    ("CosineAnnealingWarmRestarts T_mult 2", spec("CosineAnnealingWarmRestarts", T_0=5, T_mult=2, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts T_mult 1", spec("CosineAnnealingWarmRestarts", T_0=7)),
    ("CyclicLR triangular", spec("CyclicLR", base_lr=[0.1, 0.05], max_lr=[1.0, 0.5], step_size_up=4)),
    ("CyclicLR triangular2", spec("CyclicLR", base_lr=0.1, max_lr=1.0, step_size_up=3, step_size_down=5, mode="triangular2")),
    ("CyclicLR exp_range", spec("CyclicLR", base_lr=[0.1, 0.02], max_lr=1.0, step_size_up=5, mode="exp_range", gamma=0.95)),
    ("OneCycleLR cos", spec("OneCycleLR", max_lr=[1.0, 0.4], total_steps=40)),
    ("OneCycleLR linear", spec("OneCycleLR", max_lr=1.0, total_steps=45, anneal_strategy="linear", pct_start=0.4)),
    ("OneCycleLR three_phase", spec("OneCycleLR", max_lr=[1.0, 0.4], total_steps=41, three_phase=True)),
    ("OneCycleLR epochs x steps_per_epoch", spec("OneCycleLR", max_lr=0.8, epochs=8, steps_per_epoch=5, pct_start=0.25, div_factor=10.0, final_div_factor=100.0)),
    ("ReduceLROnPlateau min rel", spec("ReduceLROnPlateau", patience=2, factor=0.5, cooldown=1, min_lr=[0.01, 0.05]), None, METRICS),
    ("ReduceLROnPlateau max abs", spec("ReduceLROnPlateau", mode="max", threshold_mode="abs", threshold=0.1, patience=1, factor=0.7, min_lr=0.02), None, METRICS_MAX),
    ("ReduceLROnPlateau defaults", spec("ReduceLROnPlateau"), None, METRICS),
    ("SequentialLR warmup then cosine", spec("SequentialLR", schedulers=[spec("LinearLR", start_factor=0.1, total_iters=5), spec("CosineAnnealingLR", T_max=30)], milestones=[5])),
    ("SequentialLR three", spec("SequentialLR", schedulers=[spec("ConstantLR", factor=0.5, total_iters=2), spec("ExponentialLR", gamma=0.9), spec("StepLR", step_size=4, gamma=0.5)], milestones=[3, 15])),
    ("SequentialLR warmup then restarts", spec("SequentialLR", schedulers=[spec("LinearLR", start_factor=0.2, total_iters=6), spec("CosineAnnealingWarmRestarts", T_0=4, T_mult=2)], milestones=[6])),
    ("SequentialLR into LambdaLR", spec("SequentialLR", schedulers=[spec("ExponentialLR", gamma=0.8), spec("LambdaLR", lr_lambda={"fn": "pow95"})], milestones=[10])),
    ("ChainedScheduler constant and exponential", spec("ChainedScheduler", schedulers=[spec("ConstantLR", factor=0.1, total_iters=2), spec("ExponentialLR", gamma=0.9)])),
    ("ChainedScheduler linear, step, multiplicative", spec("ChainedScheduler", schedulers=[spec("LinearLR", start_factor=0.5, total_iters=4), spec("StepLR", step_size=6, gamma=0.5), spec("MultiplicativeLR", lr_lambda={"fn": "const97"})])),
]


def build(s, opt):
    kwargs = dict(s["kwargs"])
    for key in ("lr_lambda",):
        if key in kwargs:
            v = kwargs[key]
            kwargs[key] = [FNS[f["fn"]] for f in v] if isinstance(v, list) else FNS[v["fn"]]
    if s["type"] in ("CyclicLR", "OneCycleLR"):
        kwargs["cycle_momentum"] = False
    cls = getattr(lr_scheduler, s["type"])
    if s["type"] == "ChainedScheduler":
        return cls([build(c, opt) for c in kwargs["schedulers"]])
    if s["type"] == "SequentialLR":
        kwargs["schedulers"] = [build(c, opt) for c in kwargs["schedulers"]]
    return cls(opt, **kwargs)


def run(name, s, preset_initial_lr=None, metrics=None):
    opt = torch.optim.Adadelta([{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in GROUP_LRS])
    if preset_initial_lr is not None:
        for g, lr in zip(opt.param_groups, preset_initial_lr):
            g["initial_lr"] = lr
    sched = build(s, opt)
    out = {
        "name": name,
        "scheduler": s,
        "group_lrs": GROUP_LRS,
        "initial_lr": [g.get("initial_lr") for g in opt.param_groups],
        "lrs": [[g["lr"] for g in opt.param_groups]],
        "last_lr": [list(sched.get_last_lr())],
    }
    if preset_initial_lr is not None:
        out["preset_initial_lr"] = preset_initial_lr
    if metrics is not None:
        out["metrics"] = metrics
    for t in range(STEPS):
        opt.step()
        if metrics is not None:
            sched.step(metrics[t])
        else:
            sched.step()
        out["lrs"].append([g["lr"] for g in opt.param_groups])
        out["last_lr"].append(list(sched.get_last_lr()))
        if t + 1 == STATE_AT:
            try:
                out["state_at"] = {"step": STATE_AT, "state": json.loads(json.dumps(sched.state_dict(), allow_nan=False))}
            except ValueError:
                out["state_at"] = None
    return out


def main():
    cases = [run(c[0], c[1], *c[2:]) for c in CASES]
    OUT.write_text(json.dumps({"generator": f"torch {torch.__version__} torch.optim.lr_scheduler (test/interop/golden_schedulers.py)", "steps": STEPS, "cases": cases}, indent=None) + "\n")


if __name__ == "__main__":
    main()
