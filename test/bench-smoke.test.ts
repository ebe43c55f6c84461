/**
 * The benchmark compares like with like: its plain-JS baseline and its float64 reference
 * compute torch's Adadelta, and its bandwidth probe moves exactly the 28 bytes per param it
 * claims. No timing here.
 */
import { describe, expect, it } from 'vitest';
import { Adadelta } from '../dist/index.js';
import { createBandwidthProbe } from '../bench/bandwidth.mjs';
import { CLIP_MAX_NORM, implementations } from '../bench/implementations.mjs';
import { createOurs } from '../bench/ours.mjs';
import { mainImpls, trainingLoopTable } from '../bench/report.mjs';
import { createPlainJs } from '../bench/plain-js.mjs';
import { createTfjs, createTfjsAdapter, initTfjs } from '../bench/tfjs.mjs';
import { torchReference } from '../bench/torch-reference.mjs';
import { firstMiss, loadGolden } from './helpers/golden.js';

// The benchmark runs without weight decay or maximize, in one group.
const plainCases = loadGolden().filter(
  (c) => c.groups.length === 1 && c.groups[0]!.weight_decay === 0 && !c.groups[0]!.maximize,
);

describe('bench baselines against the PyTorch golden vectors', () => {
  it('has cases to check', () => expect(plainCases.length).toBeGreaterThanOrEqual(3));

  it.each(plainCases.map((c) => [c.name, c] as const))('%s: plain-JS loop and float64 reference', (_name, c) => {
    const hyper = { lr: c.groups[0]!.lr, rho: c.groups[0]!.rho, eps: c.groups[0]!.eps };
    const js = createPlainJs(c.params0, hyper);
    const byStep = new Map(c.expected.map((e) => [e.step, e]));
    for (let t = 0; t < c.steps; t++) {
      js.params.forEach((p, i) => p.grad.set(c.grads[i]![t]!));
      js.step();
      const e = byStep.get(t + 1);
      if (!e) continue;
      js.params.forEach((p, i) => {
        expect(firstMiss(p.data, e.params[i]!), `plain JS params[${i}] after step ${t + 1}`).toBeUndefined();
        const reference = torchReference(c.params0[i]!, c.grads[i]!.slice(0, t + 1), hyper);
        expect(firstMiss(reference, e.params[i]!), `float64 reference params[${i}] after step ${t + 1}`).toBeUndefined();
      });
    }
  });
});

describe('bench plain-JS loop against the package', () => {
  it('lands within the contract tolerance of ours after 50 steps on the bench data', async () => {
    const n = 4099; // not a multiple of 8: the SIMD kernel's scalar tail is exercised too
    const hyper = { lr: 1, rho: 0.9, eps: 1e-6 };
    const p0 = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const js = createPlainJs([p0], hyper);
    const ours = await Adadelta.create([p0], { ...hyper, build: 'simd' });
    for (let t = 0; t < 50; t++) {
      const g = Float32Array.from({ length: n }, (_, i) => Math.cos(i * (t + 1)) * 0.01);
      js.params[0]!.grad.set(g);
      ours.params[0]!.grad.set(g);
      js.step();
      ours.step();
    }
    expect(firstMiss(js.params[0]!.data, ours.params[0]!.data)).toBeUndefined();
    expect(firstMiss(js.params[0]!.sq, ours.state(0).squareAvg)).toBeUndefined();
    expect(firstMiss(js.params[0]!.acc, ours.state(0).accDelta)).toBeUndefined();
    // The update actually moved the params, so the comparison is not of two untouched copies.
    expect(Math.max(...js.params[0]!.data.map((x, i) => Math.abs(x - p0[i]!)))).toBeGreaterThan(1e-3);
    ours.dispose();
  });
});

describe('bandwidth probe', () => {
  it.each([1, 2] as const)('reads 4 arrays and writes 3, each element exactly once (%i thread(s))', async (threads) => {
    const n = 1003; // odd: the two threads' split and the padding must not skip or repeat
    const probe = await createBandwidthProbe(n, threads);
    try {
      const [p, g, s, a] = probe.arrays as [Float32Array, Float32Array, Float32Array, Float32Array];
      for (let i = 0; i < n; i++) {
        p[i] = i;
        g[i] = 0.5 + i;
        s[i] = 2 * i;
        a[i] = 3 * i;
      }
      probe.step();
      probe.step();
      for (let i = 0; i < n; i++) {
        const twice = 2 * (0.5 + i);
        if (p[i] !== i + twice || s[i] !== 2 * i + twice || a[i] !== 3 * i + twice || g[i] !== 0.5 + i) {
          throw new Error(`element ${i}: p=${p[i]} g=${g[i]} s=${s[i]} a=${a[i]}`);
        }
      }
    } finally {
      await probe.dispose();
    }
  });
});

describe('bench rows of the diagnostics and the tf.js adapter', () => {
  // They must time the same update as ours 'simd', or their figures compare unlike things.
  it("'+ stats', '+ stats()' and the adapter on both backends step exactly as ours 'simd'", async () => {
    await initTfjs();
    const hyper = { lr: 1, rho: 0.9, eps: 1e-6 };
    const inits = [Float32Array.from({ length: 1003 }, (_, i) => Math.sin(i)), Float32Array.from({ length: 17 }, (_, i) => Math.cos(i))];
    const grads = inits.map((p) => p.map((x) => x * 0.3 - 0.1));
    const make = {
      simd: () => createOurs(inits, hyper, { build: 'simd' }),
      stats: () => createOurs(inits, hyper, { build: 'simd', stats: 'step' }),
      statsRead: () => createOurs(inits, hyper, { build: 'simd', stats: 'read' }),
      adapterCpu: () => createTfjsAdapter('cpu', inits, hyper),
      adapterWasm: () => createTfjsAdapter('wasm', inits, hyper),
      tfjsCpu: () => createTfjs('cpu', inits, hyper),
    };
    const after: Record<string, Float32Array[]> = {};
    for (const [name, create] of Object.entries(make)) {
      const inst = (await create())!;
      inst.setGrads(grads);
      for (let t = 0; t < 3; t++) {
        await inst.activate?.();
        inst.step();
      }
      after[name] = inst.read().map((a) => Float32Array.from(a));
      await inst.dispose();
    }
    for (const name of ['stats', 'statsRead', 'adapterCpu', 'adapterWasm']) {
      after[name]!.forEach((a, i) => expect(a, `${name} params[${i}]`).toEqual(after.simd![i]));
    }
    // And the comparison can fail: tf.js's own Adadelta (SGD in disguise) lands elsewhere.
    expect(after.tfjsCpu![0]).not.toEqual(after.simd![0]);
  }, 60_000);
});

describe("bench rows of issue 13's training loop", () => {
  const hyper = { lr: 1, rho: 0.9, eps: 1e-6 };
  const inits = [1003, 17, 64, 5].map((n, k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + k)));
  // Large enough that CLIP_MAX_NORM clips, as the bench's gradients at 1e6 are.
  const grads = inits.map((p) => p.map((x) => x * 3 - 0.5));

  it("'+ step({ clipGradNorm })' steps exactly as clipGradNorm() then step()", async () => {
    const row = (await createOurs(inits, hyper, { build: 'simd', clipGradNorm: CLIP_MAX_NORM }))!;
    const reference = await Adadelta.create(inits, { ...hyper, build: 'simd' });
    row.setGrads(grads);
    let clipped = false;
    for (let t = 0; t < 3; t++) {
      row.step();
      reference.params.forEach((p, i) => p.grad.set(grads[i]!));
      if (reference.clipGradNorm(CLIP_MAX_NORM) > CLIP_MAX_NORM) clipped = true;
      reference.step();
    }
    expect(clipped, 'the clipping is active').toBe(true);
    row.read().forEach((a, i) => expect(a, `params[${i}]`).toEqual(reference.params[i]!.data));
    row.dispose();
    reference.dispose();
  });

  it("'half the tensors frozen' leaves every other tensor alone and steps the rest as ours 'simd'", async () => {
    const half = (await createOurs(inits, hyper, { build: 'simd', frozen: 'half' }))!;
    const all = (await createOurs(inits, hyper, { build: 'simd' }))!;
    for (const inst of [half, all]) {
      inst.setGrads(grads);
      for (let t = 0; t < 3; t++) inst.step();
    }
    const [a, b] = [half.read(), all.read()];
    a.forEach((p, i) => expect(p, `params[${i}]`).toEqual(i % 2 === 0 ? b[i] : inits[i]));
    half.dispose();
    all.dispose();
  });

  it('each row runs only where it is compared with its plain step, which runs there too', async () => {
    const impls = implementations({ tfCpuMax: 0, tfWasmMax: 0, adapterCpuMax: 0, adapterWasmMax: 0 });
    const rows = impls.filter((i) => i.section === 'training-loop');
    expect(rows.map((r) => r.id)).toEqual(['ours-simd-clip', 'ours-simd-2t-clip', 'ours-simd-half-frozen', 'ours-simd-2t-half-frozen']);
    for (const r of rows) expect(impls.find((i) => i.id === r.base && !i.section), `${r.id}'s base row`).toBeDefined();
    expect(mainImpls(impls).some((i) => i.section)).toBe(false);
    const one = [new Float32Array(1000)];
    for (const r of rows) expect((await r.create(one, one, 1000)).skipped, `${r.id} at 1e3`).toMatch(/^n\/a/);
    const model = Array.from({ length: 4 }, () => new Float32Array(250));
    for (const r of rows.filter((r) => r.id.includes('clip'))) expect((await r.create(model, model, 1000)).skipped).toMatch(/^n\/a/);
  });

  it('the training-loop table reports each row as a time ratio to its base row, against its target', () => {
    const impls = [
      { id: 'ours-simd', label: 'simd' },
      { id: 'ours-simd-clip', label: 'clip', section: 'training-loop', base: 'ours-simd', target: 1.25 },
      { id: 'ours-simd-half-frozen', label: 'half frozen', section: 'training-loop', base: 'ours-simd', target: 0.6 },
    ];
    const results = {
      '1e6': { 'ours-simd': { nsPerParam: 0.5 }, 'ours-simd-clip': { nsPerParam: 0.6 }, 'ours-simd-half-frozen': { skipped: 'n/a' } },
      '1000x1000': { 'ours-simd': { nsPerParam: 0.6 }, 'ours-simd-clip': { skipped: 'n/a' }, 'ours-simd-half-frozen': { nsPerParam: 0.39 } },
    };
    const table = trainingLoopTable(results, impls);
    expect(table).toContain('| clip | 1e6 | 0.600 | 0.500 | 1.20x | <= 1.25x | PASS |');
    expect(table).toContain('| half frozen | 1000x1000 | 0.390 | 0.600 | 0.65x | <= 0.6x | MISS |');
    expect(trainingLoopTable(results, impls.slice(0, 1))).toBe('');
  });
});
