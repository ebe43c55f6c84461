/**
 * initial_lr crosses to real PyTorch and back with the optimizer's checkpoint, so a schedule
 * resumes on either side: torch loads our saveState() (with initial_lr) and resumes a scheduler
 * with last_epoch, which torch allows only when initial_lr is there; and our loadState() keeps
 * torch's initial_lr, and our scheduler takes torch's scheduler.state_dict() (as JSON) and
 * continues as torch does. Needs .venv (scripts/setup-python.sh), like torch-interop.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adadelta, CosineAnnealingLR, StepLR } from '../dist/index.js';
import { splitFile } from './helpers/safetensors.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const python = join(root, '.venv', 'bin', 'python');
const script = join(root, 'test', 'interop', 'torch_adadelta.py');
let dir: string;
let result: any;
let ours: Adadelta;

const GROUPS = () => [{ params: [2], lr: 0.9 }, { params: [3], lr: 0.3 }];
const closeTo = (a: number[], e: number[]) => a.length === e.length && a.every((x, i) => Math.abs(x - e[i]!) <= 1e-12 * Math.abs(e[i]!));

beforeAll(async () => {
  if (!existsSync(python)) throw new Error(`${python} does not exist: run bash scripts/setup-python.sh (npm test's pretest does)`);
  dir = mkdtempSync(join(tmpdir(), 'adadelta-sched-interop-'));
  ours = await Adadelta.create(GROUPS());
  const sched = new StepLR(ours, { stepSize: 2, gamma: 0.5 });
  for (let t = 0; t < 3; t++) {
    ours.params.forEach((p) => p.grad.fill(0.1 * (t + 1)));
    ours.step();
    sched.step();
  }
  writeFileSync(join(dir, 'ours.safetensors'), ours.saveState());
  const code = `
import json, torch
from torch.optim import lr_scheduler
from safetensors.torch import save_file
from torch_adadelta import load_safetensors_state

def make(lrs=(1.0, 1.0)):
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    return torch.optim.Adadelta([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)])

lrs = lambda opt: [g["lr"] for g in opt.param_groups]

# Ours into torch, and a StepLR resumed with last_epoch (it needs initial_lr).
opt = make()
opt.load_state_dict(load_safetensors_state("ours.safetensors"))
loaded = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5, last_epoch=3)
resumed = [lrs(opt)]
for _ in range(6):
    opt.step(); sched.step(); resumed.append(lrs(opt))

# Torch's checkpoint and scheduler state, then torch going on.
opt = make((0.9, 0.3))
sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
for _ in range(4):
    opt.step(); sched.step()
sd = opt.state_dict()
save_file({f"state.{i}.{k}": v for i, s in sd["state"].items() for k, v in s.items()}, "torch.safetensors", metadata={"param_groups": json.dumps(sd["param_groups"])})
torch_groups = sd["param_groups"]
sched_state = json.loads(json.dumps(sched.state_dict()))
going_on = []
for _ in range(12):
    opt.step(); sched.step(); going_on.append(lrs(opt))
result = {"loaded": loaded, "resumed": resumed, "torch_groups": torch_groups, "sched_state": sched_state, "going_on": going_on}
`;
  const out = execFileSync(python, [script], { input: JSON.stringify({ jobs: [{ kind: 'exec', cwd: dir, code }] }), maxBuffer: 1 << 24, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONPATH: join(root, 'test', 'interop') } });
  result = JSON.parse(out.toString())[0];
});

afterAll(() => {
  ours?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('initial_lr round trips through PyTorch', () => {
  it('torch loads our checkpoint with initial_lr, and a scheduler resumed from it runs as ours does', async () => {
    expect(result.loaded.map((g: any) => [g.lr, g.initial_lr])).toEqual([[0.45, 0.9], [0.15, 0.3]]);
    // Ours, resumed the same way on the same checkpoint.
    const opt = await Adadelta.create([{ params: [2] }, { params: [3] }]);
    opt.loadState(readFileSync(join(dir, 'ours.safetensors')));
    const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5, lastEpoch: 3 });
    const lrs = [opt.paramGroups.map((g) => g.lr)];
    for (let t = 0; t < 6; t++) {
      sched.step();
      lrs.push(opt.paramGroups.map((g) => g.lr));
    }
    lrs.forEach((l, t) => expect(closeTo(l, result.resumed[t]), `step ${t}: ${l} vs torch ${result.resumed[t]}`).toBe(true));
    opt.dispose();
  });

  it("our loadState keeps torch's initial_lr, and torch's scheduler state_dict continues here as in torch", async () => {
    expect(result.torch_groups.map((g: any) => g.initial_lr)).toEqual([0.9, 0.3]);
    const opt = await Adadelta.create([{ params: [2] }, { params: [3] }]);
    opt.loadState(readFileSync(join(dir, 'torch.safetensors')));
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([0.9, 0.3]);
    const sched = new CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.01 });
    sched.loadStateDict(result.sched_state);
    for (let t = 0; t < 12; t++) {
      sched.step();
      const l = opt.paramGroups.map((g) => g.lr);
      expect(closeTo(l, result.going_on[t]), `step ${t + 5}: ${l} vs torch ${result.going_on[t]}`).toBe(true);
    }
    // Saved again, torch's initial_lr is still there.
    const groups = JSON.parse(splitFile(opt.saveState()).header.__metadata__.param_groups);
    expect(groups.map((g: any) => g.initial_lr)).toEqual([0.9, 0.3]);
    opt.dispose();
  });
});
