/**
 * Checkpoints cross to real PyTorch and back: our saveState() goes into
 * torch.optim.Adadelta.load_state_dict, a torch checkpoint saved with safetensors comes back
 * into loadState, and both sides then take the same steps and must agree within the contract's
 * tolerance. Needs .venv from scripts/setup-python.sh (run by `npm test`'s pretest).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adadelta } from '../dist/index.js';
import { f32FromBase64, firstMiss } from './helpers/golden.js';
import { splitFile } from './helpers/safetensors.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const python = join(root, '.venv', 'bin', 'python');
const script = join(root, 'test', 'interop', 'torch_adadelta.py');
let dir: string;

/** Fails loudly (in CI and locally) when the Python side is missing, never skips. */
function requireTorch(): void {
  const fix = process.env.CI
    ? 'CI must install it: scripts/setup-python.sh runs from the "pretest" script.'
    : 'Run `bash scripts/setup-python.sh` (or `npm test`, whose pretest runs it) to create .venv with torch and safetensors.';
  if (!existsSync(python)) throw new Error(`PyTorch interop tests cannot run: ${python} does not exist. ${fix}`);
  try {
    execFileSync(python, ['-c', 'import torch, safetensors'], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`PyTorch interop tests cannot run: torch or safetensors does not import in .venv (${String((e as { stderr?: Buffer }).stderr ?? e).trim().slice(-500)}). ${fix}`);
  }
}

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Snapshot {
  params: string[];
  square_avg: string[];
  acc_delta: string[];
  step: number[];
}

/** Runs the jobs in one Python process (importing torch takes seconds). */
function torch(jobs: object[]): any[] {
  const out = execFileSync(python, [script], { input: JSON.stringify({ jobs }), maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'] });
  return JSON.parse(out.toString());
}

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** A deterministic pseudo-random float in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

// Two groups, both with non-default hyperparameters, the second maximizing with weight decay
// (torch negates the gradient, then adds the decay); sizes cover SIMD lanes and a tail.
const SIZES = [[1000, 7], [33]];
const HYPER = [
  { lr: 0.7, rho: 0.93, eps: 1e-6, weightDecay: 0.01, maximize: false },
  { lr: 1.3, rho: 0.8, eps: 1e-5, weightDecay: 0.05, maximize: true },
];
const TORCH_HYPER = HYPER.map((h) => ({ lr: h.lr, rho: h.rho, eps: h.eps, weight_decay: h.weightDecay, maximize: h.maximize }));
const r = rng(7);
const PARAMS0 = SIZES.flat().map((n) => Float32Array.from({ length: n }, () => r()));
/** GRADS[t][i]: param i's gradient at step t; some zeros, some large. */
const GRADS = Array.from({ length: 20 }, (_, t) => SIZES.flat().map((n) => Float32Array.from({ length: n }, (_, j) => (j % 11 === t % 11 ? 0 : r() * (t % 3 === 0 ? 10 : 1)))));

function expectAgree(opt: Adadelta, snap: Snapshot, what: string): void {
  opt.params.forEach((p, i) => {
    const s = opt.state(i);
    expect(s.step, `${what}: step of param ${i}`).toBe(snap.step[i]);
    expect(firstMiss(p.data, f32FromBase64(snap.params[i]!)), `${what}: params[${i}]`).toBeUndefined();
    expect(firstMiss(s.squareAvg, f32FromBase64(snap.square_avg[i]!)), `${what}: square_avg[${i}]`).toBeUndefined();
    expect(firstMiss(s.accDelta, f32FromBase64(snap.acc_delta[i]!)), `${what}: acc_delta[${i}]`).toBeUndefined();
  });
}

const BUILDS = ['simd', 'plain'] as const;
const K_OURS = 6;
const K_TORCH = 8;

/** Per build, our optimizer after K_OURS steps (its checkpoint is in `dir`), and torch's results. */
const ours = new Map<string, Adadelta>();
let fromOurs: Record<string, any>;
let fromTorch: any;
let fromReadme: any;

// Issue 13: steps without a gradient (requiresGrad = false here, `p.grad = None` in torch).
// Param 1 has none for the first LAZY_K steps, so neither side has state for it at the save;
// param 0 has none on two later steps.
const LAZY_K = 4;
const noGrad = (t: number, i: number) => (i === 1 && t < LAZY_K) || (i === 0 && (t === 9 || t === 10));
/** GRADS from step `from` on, with null where the param has no gradient. */
const lazyGrads = (from: number) => GRADS.slice(from).map((perParam, k) => perParam.map((g, i) => (noGrad(from + k, i) ? null : b64(g))));
const createLazy = (params: Float32Array[]) => Adadelta.create(SIZES.map((sizes, g) => ({ params: g === 0 ? params.slice(0, sizes.length) : params.slice(SIZES[0]!.length), ...HYPER[g] })));
function lazyStep(opt: Adadelta, t: number): void {
  opt.params.forEach((p, i) => {
    p.requiresGrad = !noGrad(t, i);
    p.grad.set(GRADS[t]![i]!);
  });
  opt.step();
}
let lazyOurs: Adadelta;
let fromLazyOurs: any;
let fromLazyTorch: any;

beforeAll(async () => {
  requireTorch();
  dir = mkdtempSync(join(tmpdir(), 'adadelta-interop-'));
  const jobs: object[] = [];
  for (const build of BUILDS) {
    let index = 0;
    const opt = await Adadelta.create(SIZES.map((sizes, g) => ({ params: sizes.map(() => PARAMS0[index++]!), ...HYPER[g] })), { build });
    for (let t = 0; t < K_OURS; t++) {
      opt.params.forEach((p, i) => p.grad.set(GRADS[t]![i]!));
      opt.step();
    }
    const file = join(dir, `ours-${build}.safetensors`);
    writeFileSync(file, opt.saveState());
    ours.set(build, opt);
    // torch starts from default hyperparameters: load_state_dict must bring ours.
    jobs.push({
      kind: 'continue',
      checkpoint: file,
      params: opt.params.map((p) => b64(p.data)),
      groups: SIZES.map((s) => ({ count: s.length })),
      grads: GRADS.slice(K_OURS).map((perParam) => perParam.map(b64)),
    });
  }
  jobs.push({
    kind: 'save',
    checkpoint: join(dir, 'torch.safetensors'),
    steps_before: K_TORCH,
    params: PARAMS0.map(b64),
    groups: SIZES.map((s, g) => ({ count: s.length, hyper: TORCH_HYPER[g] })),
    grads: GRADS.map((perParam) => perParam.map(b64)),
  });
  jobs.push(await readmeJob());
  lazyOurs = await createLazy(PARAMS0);
  for (let t = 0; t < LAZY_K; t++) lazyStep(lazyOurs, t);
  writeFileSync(join(dir, 'lazy-ours.safetensors'), lazyOurs.saveState());
  const groups = SIZES.map((s, g) => ({ count: s.length, hyper: TORCH_HYPER[g] }));
  jobs.push({ kind: 'continue', checkpoint: join(dir, 'lazy-ours.safetensors'), params: lazyOurs.params.map((p) => b64(p.data)), groups, grads: lazyGrads(LAZY_K) });
  jobs.push({ kind: 'save', checkpoint: join(dir, 'lazy-torch.safetensors'), steps_before: LAZY_K, params: PARAMS0.map(b64), groups, grads: lazyGrads(0) });
  const results = torch(jobs);
  fromOurs = Object.fromEntries(BUILDS.map((b, i) => [b, results[i]]));
  fromTorch = results[BUILDS.length];
  fromReadme = results[BUILDS.length + 1];
  [fromLazyOurs, fromLazyTorch] = results.slice(BUILDS.length + 2);
});

describe.each(BUILDS)('PyTorch interop, %s build', (build) => {
  it('our saveState() loads into torch.optim.Adadelta and both continue alike', () => {
    const opt = ours.get(build)!;
    const result = fromOurs[build];
    // Right after loading, torch holds exactly our state and hyperparameters.
    opt.params.forEach((_, i) => {
      expect(f32FromBase64(result.loaded.square_avg[i])).toEqual(opt.state(i).squareAvg);
      expect(f32FromBase64(result.loaded.acc_delta[i])).toEqual(opt.state(i).accDelta);
      expect(result.loaded.step[i]).toBe(K_OURS);
    });
    expect(result.loaded.param_groups).toEqual(
      TORCH_HYPER.map((h, g) => ({ ...h, foreach: null, capturable: false, differentiable: false, params: g === 0 ? [0, 1] : [2] })),
    );

    for (let t = K_OURS; t < GRADS.length; t++) {
      opt.params.forEach((p, i) => p.grad.set(GRADS[t]![i]!));
      opt.step();
      expectAgree(opt, result.steps[t - K_OURS], `step ${t + 1}`);
    }
    opt.dispose();
  });

  it('a torch checkpoint saved with safetensors loads into loadState and continues alike', async () => {
    // A fresh optimizer with default hyperparameters over torch's params at the save.
    const params: Float32Array[] = fromTorch.params_at_save.map(f32FromBase64);
    const opt = await Adadelta.create([{ params: params.slice(0, 2) }, { params: params.slice(2) }], { build });
    opt.loadState(new Uint8Array(readFileSync(join(dir, 'torch.safetensors'))));
    expect(opt.paramGroups.map((g) => g.toJSON())).toEqual(HYPER.map((h, g) => ({ ...h, params: g === 0 ? [0, 1] : [2] })));
    expect(opt.state(0).step).toBe(K_TORCH);

    for (let t = K_TORCH; t < GRADS.length; t++) {
      opt.params.forEach((p, i) => p.grad.set(GRADS[t]![i]!));
      opt.step();
      expectAgree(opt, fromTorch.steps[t - K_TORCH], `step ${t + 1}`);
    }
    opt.dispose();
  });
});

describe('PyTorch interop: params without a gradient, and lazy state (issue 13)', () => {
  it('our checkpoint, with no state.1.* for the param that never stepped, loads into torch; both continue alike', () => {
    const names = Object.keys(splitFile(new Uint8Array(readFileSync(join(dir, 'lazy-ours.safetensors')))).header);
    expect(names.filter((n) => n.startsWith('state.1.'))).toEqual([]);
    expect(fromLazyOurs.loaded.has_state).toEqual([true, false, true]);
    expect(fromLazyOurs.loaded.step).toEqual([LAZY_K, 0, LAZY_K]);
    for (let t = LAZY_K; t < GRADS.length; t++) {
      lazyStep(lazyOurs, t);
      expectAgree(lazyOurs, fromLazyOurs.steps[t - LAZY_K], `step ${t + 1}`);
    }
    expect(lazyOurs.state(0).step).toBe(GRADS.length - 2);
    lazyOurs.dispose();
  });

  it("torch's checkpoint, with no state for the param that never had a gradient, loads into loadState; both continue alike", async () => {
    const opt = await createLazy(fromLazyTorch.params_at_save.map(f32FromBase64));
    opt.loadState(new Uint8Array(readFileSync(join(dir, 'lazy-torch.safetensors'))));
    expect(opt.state(1)).toEqual({ step: 0, squareAvg: new Float32Array(SIZES[0]![1]!), accDelta: new Float32Array(SIZES[0]![1]!) });
    expect(opt.state(0).step).toBe(LAZY_K);
    for (let t = LAZY_K; t < GRADS.length; t++) {
      lazyStep(opt, t);
      expectAgree(opt, fromLazyTorch.steps[t - LAZY_K], `step ${t + 1}`);
    }
    opt.dispose();
  });
});

// The README's Python snippets, run as written between a prelude and an epilogue.
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const [README_LOAD, README_SAVE] = [...readme.matchAll(/^```python[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => m[1]!);
let readmeOpt: Adadelta;
let readmeDir: string;

/** Our state for nn.Linear(3, 2)'s params (a [2, 3] weight, a [2] bias: 6 and 2 elements here). */
async function readmeJob(): Promise<object> {
  readmeOpt = await Adadelta.create([{ params: [6, 2], lr: 0.5, rho: 0.85 }]);
  readmeOpt.params.forEach((p, i) => p.grad.fill(i + 0.5));
  readmeOpt.step();
  readmeOpt.step();
  readmeDir = mkdtempSync(join(dir, 'readme-'));
  writeFileSync(join(readmeDir, 'adadelta-state.safetensors'), readmeOpt.saveState());
  const code = [
    'import base64, json, torch',
    'model = torch.nn.Linear(3, 2)',
    README_LOAD,
    'flat = lambda t: base64.b64encode(t.reshape(-1).numpy().tobytes()).decode()',
    'dump = lambda sd: {"groups": sd["param_groups"], "state": {i: {k: (float(v) if k == "step" else flat(v)) for k, v in s.items()} for i, s in sd["state"].items()}}',
    'loaded = dump(optimizer.state_dict())  # now: step() updates the tensors in place',
    'for p in params: p.grad = torch.full_like(p, 0.25)',
    'optimizer.step()',
    README_SAVE,
    'result = {"loaded": loaded, "after": dump(optimizer.state_dict())}',
  ].join('\n');
  return { kind: 'exec', cwd: readmeDir, code };
}

describe("README's Python snippets", () => {
  it('load our file into torch (shaped params), then save torch state that loadState takes', async () => {
    expect(README_LOAD).toContain('load_state_dict');
    expect(README_SAVE).toContain('save_file');
    const out = fromReadme;
    expect(out.loaded.groups).toEqual([{ lr: 0.5, rho: 0.85, eps: 1e-6, weight_decay: 0, foreach: null, maximize: false, capturable: false, differentiable: false, params: [0, 1] }]);
    // JSON keys of the state dict are strings.
    ['0', '1'].forEach((key, i) => {
      expect(out.loaded.state[key].step).toBe(2);
      expect(f32FromBase64(out.loaded.state[key].square_avg)).toEqual(readmeOpt.state(i).squareAvg);
      expect(f32FromBase64(out.loaded.state[key].acc_delta)).toEqual(readmeOpt.state(i).accDelta);
    });

    const back = await Adadelta.create([6, 2]);
    back.loadState(new Uint8Array(readFileSync(join(readmeDir, 'torch-state.safetensors'))));
    expect(back.paramGroups[0]!.toJSON()).toEqual({ lr: 0.5, rho: 0.85, eps: 1e-6, weightDecay: 0, maximize: false, params: [0, 1] });
    ['0', '1'].forEach((key, i) => {
      expect(back.state(i).step).toBe(3);
      expect(back.state(i).squareAvg).toEqual(f32FromBase64(out.after.state[key].square_avg));
      expect(back.state(i).accDelta).toEqual(f32FromBase64(out.after.state[key].acc_delta));
    });
    readmeOpt.dispose();
    back.dispose();
  });
});
