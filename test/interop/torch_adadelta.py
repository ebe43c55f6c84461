"""torch.optim.Adadelta on the other side of test/torch-interop.test.ts.

Reads {"jobs": [...]} as JSON on stdin and writes the list of results on stdout (one process
for all jobs: importing torch takes seconds). Float arrays travel as base64 of
little-endian float32 bytes. Jobs:

- "continue": load a safetensors checkpoint written by adadelta-wasm's saveState() into
  torch.optim.Adadelta.load_state_dict (safe_open + json.loads of the param_groups metadata),
  then step with the given gradients, reporting params and state after every step.
  A gradient given as null is None for that step (torch skips the param); a param without
  state (it never stepped) is reported with zeros and step 0.
- "exec": run a program (the README's Python snippets) and return its `result`.
- "save": run torch.optim.Adadelta for `steps_before` steps, save its state_dict with
  safetensors' save_file, then keep stepping and report as above.
"""
import base64
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def f32(b64):
    return torch.frombuffer(bytearray(base64.b64decode(b64)), dtype=torch.float32).clone()


def b64(tensor):
    return base64.b64encode(tensor.detach().contiguous().to(torch.float32).numpy().tobytes()).decode()


def make_optimizer(job):
    params = [torch.nn.Parameter(f32(p)) for p in job["params"]]
    groups, i = [], 0
    for g in job["groups"]:
        n = g["count"]
        groups.append({"params": params[i:i + n], **g.get("hyper", {})})
        i += n
    return params, torch.optim.Adadelta(groups)


def snapshot(params, opt):
    state = opt.state_dict()["state"]
    fresh = lambda p: {"square_avg": torch.zeros_like(p), "acc_delta": torch.zeros_like(p), "step": 0.0}
    s = [state.get(i) or fresh(p) for i, p in enumerate(params)]
    return {
        "params": [b64(p) for p in params],
        "square_avg": [b64(x["square_avg"]) for x in s],
        "acc_delta": [b64(x["acc_delta"]) for x in s],
        "step": [float(x["step"]) for x in s],
        "has_state": [i in state for i in range(len(params))],
    }


def run_steps(params, opt, grads):
    """grads[t][i]: param i's gradient at step t. Returns a snapshot after each step."""
    out = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else f32(g)
        opt.step()
        out.append(snapshot(params, opt))
    return out


def load_safetensors_state(path):
    """The five lines a user needs: tensors and param_groups back into a torch state_dict."""
    with safe_open(path, framework="pt") as f:
        groups = json.loads(f.metadata()["param_groups"])
        state = {}
        for name in f.keys():
            _, i, key = name.split(".", 2)
            state.setdefault(int(i), {})[key] = f.get_tensor(name)
    return {"state": state, "param_groups": groups}


def continue_job(job):
    params, opt = make_optimizer(job)
    opt.load_state_dict(load_safetensors_state(job["checkpoint"]))
    loaded = snapshot(params, opt)
    loaded["param_groups"] = opt.state_dict()["param_groups"]
    return {"loaded": loaded, "steps": run_steps(params, opt, job["grads"])}


def save_job(job):
    params, opt = make_optimizer(job)
    k = job["steps_before"]
    run_steps(params, opt, job["grads"][:k])
    sd = opt.state_dict()
    tensors = {f"state.{i}.{key}": value for i, s in sd["state"].items() for key, value in s.items()}
    save_file(tensors, job["checkpoint"], metadata={"param_groups": json.dumps(sd["param_groups"])})
    return {
        "params_at_save": [b64(p) for p in params],
        "param_groups": sd["param_groups"],
        "steps": run_steps(params, opt, job["grads"][k:]),
    }


def exec_job(job):
    """Runs a program (the README's snippets) in `cwd`; it leaves its answer in `result`."""
    import os
    here = os.getcwd()
    os.chdir(job["cwd"])
    try:
        namespace = {}
        exec(job["code"], namespace)
        return namespace["result"]
    finally:
        os.chdir(here)


def main():
    jobs = json.load(sys.stdin)["jobs"]
    run = {"continue": continue_job, "save": save_job, "exec": exec_job}
    json.dump([run[job["kind"]](job) | {"torch": torch.__version__} for job in jobs], sys.stdout)


if __name__ == "__main__":
    main()
