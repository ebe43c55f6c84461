/**
 * Property tests of the step through the public API, for both builds:
 *  (i)  results are bit-identical (by Object.is: -0 is not +0, any NaN equals any NaN) to the
 *       float32-exact reference in the kernel's operation order, over the full valid ranges;
 *  (ii) the simd and plain builds are bit-identical to each other (NaN payloads aside: the wasm
 *       spec leaves them nondeterministic);
 *  (iii) results stay close to torch's formula in float64 for sane ranges (see below);
 * and pinned extremes (eps = 0, rho = 0 or 1, huge, tiny and non-finite gradients, ...).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Adadelta } from '../dist/index.js';
import { mulberry32, randomValues, type ValueKind } from './helpers/random.js';
import {
  firstBitDifference,
  firstDifference,
  freshF32,
  freshF64,
  stepF32Exact,
  stepF64,
  type Hyper,
  type Tensor,
} from './helpers/reference.js';

const BUILDS = ['simd', 'plain'] as const;
type BuildName = (typeof BUILDS)[number];
const TORCH_DEFAULTS: Hyper = { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false };
const f = Math.fround;
/** 1 - rho for torch's default rho, as the kernel holds it: the float64 difference rounded once. */
const OMR = f(1 - 0.9);

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** A hyperparameter >= 0 over its full valid range: 0, ordinary values, and any finite double
 * (above 3.4e38 it rounds to float32 Infinity, which the reference mirrors). */
const nonNegative = fc.oneof(
  { arbitrary: fc.constant(0), weight: 1 },
  { arbitrary: fc.double({ min: 0, max: 10, noNaN: true }), weight: 4 },
  { arbitrary: fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true }), weight: 1 },
);
const fullRho = fc.oneof(
  fc.constant(0),
  fc.constant(1),
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.double({ min: 0.99, max: 1, noNaN: true }),
);
const fullHyper = fc.record({ lr: nonNegative, rho: fullRho, eps: nonNegative, weightDecay: nonNegative, maximize: fc.boolean() });

/** Lengths 1..5000, with the short ones (every tail length mod 8, and 1..2 vectors) common. */
const length = fc.oneof(fc.integer({ min: 1, max: 17 }), fc.integer({ min: 1, max: 5000 }));

interface ParamPlan {
  length: number;
  /** Given as a Float32Array of initial values (true) or as a length, zero-filled (false). */
  init: boolean;
}
interface GroupPlan {
  /** The keys this group sets; the rest come from the defaults. */
  hyper: Partial<Hyper>;
  params: ParamPlan[];
}
interface Plan {
  defaults: Partial<Hyper>;
  groups: GroupPlan[];
  /** With one group: pass a plain list of params (hyperparameters from the defaults). */
  asList: boolean;
  steps: number;
  seed: number;
  paramKind: ValueKind;
  gradKind: ValueKind;
}

function planArbitrary(hyper: fc.Arbitrary<Hyper>, lengthArb: fc.Arbitrary<number>, maxSteps: number, kinds: ValueKind[]): fc.Arbitrary<Plan> {
  // Partial records: each key may be missing, so defaults and torch's defaults fill in.
  const partial = hyper.chain((h) => fc.subarray(Object.keys(h) as (keyof Hyper)[]).map((keys) => Object.fromEntries(keys.map((k) => [k, h[k]])) as Partial<Hyper>));
  return fc.record({
    defaults: partial,
    groups: fc.array(fc.record({ hyper: partial, params: fc.array(fc.record({ length: lengthArb, init: fc.boolean() }), { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 3 }),
    asList: fc.boolean(),
    steps: fc.integer({ min: 1, max: maxSteps }),
    seed: fc.integer(),
    paramKind: fc.constantFrom(...kinds),
    gradKind: fc.constantFrom(...kinds),
  });
}

// ---------------------------------------------------------------------------------------------
// Running a plan

interface Realized {
  /** The first argument of Adadelta.create. */
  groups: Float32Array[] | number[] | { params: (Float32Array | number)[] }[];
  /** Each param's effective hyperparameters and initial values. */
  hyper: Hyper[];
  init: Float32Array[];
  /** grads[t][i]: param i's gradient at step t. */
  grads: Float32Array[][];
}

function realize(plan: Plan): Realized {
  const rng = mulberry32(plan.seed);
  const asList = plan.asList && plan.groups.length === 1;
  const hyper: Hyper[] = [];
  const init: Float32Array[] = [];
  const groups = plan.groups.map((g) => {
    const own = asList ? {} : g.hyper;
    const h = { ...TORCH_DEFAULTS, ...plan.defaults, ...own };
    const params = g.params.map((p) => {
      const values = p.init ? randomValues(rng, p.length, plan.paramKind) : new Float32Array(p.length);
      hyper.push(h);
      init.push(values);
      return p.init ? values : p.length;
    });
    return { ...own, params };
  });
  const grads = Array.from({ length: plan.steps }, () => init.map((p) => randomValues(rng, p.length, plan.gradKind)));
  return { groups: asList ? (groups[0]!.params as Float32Array[] | number[]) : groups, hyper, init, grads };
}

function compareState(opt: Adadelta, i: number, ref: Tensor, step: number, what: string): void {
  const s = opt.state(i);
  expect(s.step, `${what} step count`).toBe(step);
  expect(firstDifference(opt.params[i]!.data, ref.p), `${what} param`).toBeUndefined();
  expect(firstDifference(s.squareAvg, ref.sq), `${what} squareAvg`).toBeUndefined();
  expect(firstDifference(s.accDelta, ref.acc), `${what} accDelta`).toBeUndefined();
}

function compareBuilds(a: Adadelta, b: Adadelta, i: number, what: string): void {
  const sa = a.state(i), sb = b.state(i);
  expect(firstBitDifference(a.params[i]!.data, b.params[i]!.data), `${what} param`).toBeUndefined();
  expect(firstBitDifference(sa.squareAvg, sb.squareAvg), `${what} squareAvg`).toBeUndefined();
  expect(firstBitDifference(sa.accDelta, sb.accDelta), `${what} accDelta`).toBeUndefined();
}

/** Runs a plan on both builds in lockstep with the float32-exact reference, checking every step. */
async function checkAgainstF32Reference(plan: Plan): Promise<void> {
  const r = realize(plan);
  const opts = await Promise.all(BUILDS.map((build) => Adadelta.create(r.groups as never, { ...plan.defaults, build })));
  try {
    const refs = r.init.map((p) => freshF32(p));
    opts.forEach((opt, b) => {
      expect(opt.build).toBe(BUILDS[b]);
      expect(opt.params.length).toBe(r.init.length);
      // Zero-filled params start at +0; Float32Array ones hold a copy of their values.
      opt.params.forEach((p, i) => expect(firstDifference(p.data, r.init[i]!), `${BUILDS[b]} params[${i}] at creation`).toBeUndefined());
    });
    for (let t = 0; t < plan.steps; t++) {
      for (const opt of opts) opt.params.forEach((p, i) => p.grad.set(r.grads[t]![i]!));
      for (const opt of opts) opt.step();
      refs.forEach((ref, i) => stepF32Exact(ref, r.grads[t]![i]!, r.hyper[i]!));
      for (let i = 0; i < refs.length; i++) {
        opts.forEach((opt, b) => compareState(opt, i, refs[i]!, t + 1, `${BUILDS[b]} params[${i}] after step ${t + 1}`));
        compareBuilds(opts[0]!, opts[1]!, i, `simd vs plain params[${i}] after step ${t + 1}`);
      }
    }
  } finally {
    for (const opt of opts) opt.dispose();
  }
}

// ---------------------------------------------------------------------------------------------

describe('bit-identical to the float32-exact reference, simd and plain alike', () => {
  it('random layouts, lengths 1..5000, full hyperparameter ranges, sane and wild values', async () => {
    await fc.assert(
      fc.asyncProperty(planArbitrary(fullHyper, length, 5, ['sane', 'wild']), checkAgainstF32Reference),
      { numRuns: 500 },
    );
  });

  it('every length 1..17 (each tail length mod 4, around one to four vectors) and around 4096', async () => {
    const lengths = [...Array.from({ length: 17 }, (_, i) => i + 1), 4093, 4094, 4095, 4096, 4097, 4098, 4099, 4100];
    const hypers: Hyper[] = [
      TORCH_DEFAULTS,
      { lr: 0.5, rho: 0.95, eps: 1e-4, weightDecay: 0.01, maximize: false },
      { lr: 2, rho: 0.3, eps: 1e-8, weightDecay: 0.5, maximize: true },
    ];
    for (const n of lengths) {
      for (const [k, h] of hypers.entries()) {
        // One param of length n, and the same length after an odd-length param (unaligned offsets).
        await checkAgainstF32Reference({
          defaults: h,
          groups: [{ hyper: {}, params: [{ length: n, init: true }] }, { hyper: { lr: h.lr / 2 }, params: [{ length: 3, init: true }, { length: n, init: true }] }],
          asList: false,
          steps: 3,
          seed: n * 31 + k,
          paramKind: 'sane',
          gradKind: k === 2 ? 'wild' : 'sane',
        });
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (iii) Close to torch's formula in float64.
//
// Sane ranges: lr in [0, 2], rho in [0, 1], eps in [1e-10, 1], weightDecay 0 or in [0, 0.1],
// either maximize, params and grads uniform in [-scale, scale] with scale in [1e-3, 1e3] (and
// some exact zeros), up to 20 steps. Float32 rounding errors accumulate along the path each
// value travels, so each element's tolerance is
//   |actual - expected| <= 1e-6 + 1e-5 * (|expected| + scale)
// where `scale` is computed alongside the float64 reference: for p the path length
// sum_t lr*ratio_t*(|grad_t| + |wd*p_t|), for squareAvg and accDelta the same moving averages
// with |g| replaced by |grad| + |wd*p| (which bounds the error when grad + wd*p cancels).

const saneHyper = fc.record({
  lr: fc.double({ min: 0, max: 2, noNaN: true }),
  rho: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1)),
  eps: fc.double({ min: -10, max: 0, noNaN: true }).map((e) => 10 ** e),
  weightDecay: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.1, noNaN: true })),
  maximize: fc.boolean(),
});

interface Scales {
  p: Float64Array;
  sq: Float64Array;
  acc: Float64Array;
}

/** Advances the error scales of one param by one step (see the comment above). */
function advanceScales(s: Scales, ref: Tensor<Float64Array>, grad: Float32Array, h: Hyper): void {
  for (let i = 0; i < grad.length; i++) {
    const mag = Math.abs(grad[i]!) + Math.abs(h.weightDecay * ref.p[i]!);
    s.sq[i] = h.rho * s.sq[i]! + (1 - h.rho) * mag * mag;
    const ratio = Math.sqrt(ref.acc[i]! + h.eps) / Math.sqrt(s.sq[i]! + h.eps);
    s.acc[i] = h.rho * s.acc[i]! + (1 - h.rho) * (ratio * mag) ** 2;
    s.p[i] = s.p[i]! + h.lr * ratio * mag;
  }
}

function firstMissF64(actual: Float32Array, expected: Float64Array, scale: Float64Array): string | undefined {
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (!(Math.abs(a - e) <= 1e-6 + 1e-5 * (Math.abs(e) + scale[i]!))) return `[${i}] ${a} vs ${e} (scale ${scale[i]})`;
  }
  return undefined;
}

describe('close to the float64 formula with two square roots (sane ranges)', () => {
  it.each(BUILDS)('%s build', async (build) => {
    await fc.assert(
      fc.asyncProperty(planArbitrary(saneHyper, fc.integer({ min: 1, max: 40 }), 20, ['sane']), async (plan) => {
        const r = realize(plan);
        const opt = await Adadelta.create(r.groups as never, { ...plan.defaults, build });
        try {
          const refs = r.init.map((p) => freshF64(p));
          const scales = r.init.map((p) => ({ p: new Float64Array(p.length), sq: new Float64Array(p.length), acc: new Float64Array(p.length) }));
          for (let t = 0; t < plan.steps; t++) {
            opt.params.forEach((p, i) => p.grad.set(r.grads[t]![i]!));
            opt.step();
            refs.forEach((ref, i) => {
              advanceScales(scales[i]!, ref, r.grads[t]![i]!, r.hyper[i]!);
              stepF64(ref, r.grads[t]![i]!, r.hyper[i]!);
            });
          }
          refs.forEach((ref, i) => {
            const s = opt.state(i);
            expect(firstMissF64(opt.params[i]!.data, ref.p, scales[i]!.p), `params[${i}]`).toBeUndefined();
            expect(firstMissF64(s.squareAvg, ref.sq, scales[i]!.sq), `squareAvg[${i}]`).toBeUndefined();
            expect(firstMissF64(s.accDelta, ref.acc, scales[i]!.acc), `accDelta[${i}]`).toBeUndefined();
          });
        } finally {
          opt.dispose();
        }
      }),
      { numRuns: 400 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Pinned extremes. Each runs one param of 19 elements that all share the same history (four
// f32x4 vectors would be 16; 19 puts elements in the vector loop and in the scalar tail), checks
// every element against the float32-exact reference, and returns element 0 (vector loop) and
// element 18 (tail) for the closed-form claims.

interface Outcome {
  p: number;
  sq: number;
  acc: number;
}

async function scenario(build: BuildName, hyper: Partial<Hyper>, p0: number, grads: number[]): Promise<Outcome[]> {
  const n = 19;
  const h = { ...TORCH_DEFAULTS, ...hyper };
  const opt = await Adadelta.create([new Float32Array(n).fill(p0)], { ...hyper, build });
  const ref = freshF32(new Float32Array(n).fill(p0));
  for (const g of grads) {
    const grad = new Float32Array(n).fill(g);
    opt.params[0]!.grad.set(grad);
    opt.step();
    stepF32Exact(ref, grad, h);
  }
  compareState(opt, 0, ref, grads.length, `${build} ${JSON.stringify({ hyper, p0, grads })}`);
  const s = opt.state(0);
  const at = (i: number) => ({ p: opt.params[0]!.data[i]!, sq: s.squareAvg[i]!, acc: s.accDelta[i]! });
  const out = [at(0), at(n - 1)];
  opt.dispose();
  return out;
}

describe.each(BUILDS)('pinned extremes, %s build', (build) => {
  it('eps = 0 with a zero gradient and zero state: 0/0 makes the param and accDelta NaN, as in PyTorch', async () => {
    // torch: std = sqrt(0 + 0) = 0, delta = sqrt(0 + 0) / std = 0/0 = NaN, times grad 0 is NaN.
    for (const o of await scenario(build, { eps: 0 }, 1.5, [0])) {
      expect(o.p).toBeNaN();
      expect(o.acc).toBeNaN();
      expect(Object.is(o.sq, 0)).toBe(true);
    }
  });

  it('eps = 0 with nonzero gradients: acc stays 0, so the param never moves (as in PyTorch)', async () => {
    for (const o of await scenario(build, { eps: 0 }, 1.5, [2, -3, 0.5])) {
      expect(o.p).toBe(1.5);
      expect(Object.is(o.acc, 0)).toBe(true);
      expect(o.sq).toBeGreaterThan(0);
    }
  });

  it('rho = 0: squareAvg is g*g and accDelta is d*d of this step alone', async () => {
    const [o] = await scenario(build, { rho: 0 }, 0, [3, 2]);
    expect(o!.sq).toBe(f(2 * 2));
    // Step 1: d1 = sqrt(eps / (9 + eps)) * 3; step 2: d2 = sqrt((d1^2 + eps) / (4 + eps)) * 2.
    const eps = f(1e-6);
    const d1 = f(f(Math.sqrt(f(eps / f(9 + eps)))) * 3);
    const d2 = f(f(Math.sqrt(f(f(f(d1 * d1) + eps) / f(4 + eps)))) * 2);
    expect(o!.acc).toBe(f(d2 * d2));
    expect(o!.p).toBe(f(f(0 - d1) - d2));
  });

  it('rho = 1: the averages stay 0 and the step is plain SGD, p -= lr * g', async () => {
    const grads = [3, -2, 0.25, 7];
    let p = f(0.75);
    for (const g of grads) p = f(p - f(f(0.1) * g));
    for (const o of await scenario(build, { rho: 1, lr: 0.1 }, 0.75, grads)) {
      expect(o.p).toBe(p);
      expect(Object.is(o.sq, 0)).toBe(true);
      expect(Object.is(o.acc, 0)).toBe(true);
    }
  });

  it('huge finite gradients: (1-rho)*g*g associates like torch, overflowing only past ~5.8e19', async () => {
    for (const g of [1e19, 3e19]) {
      // (0.1 * g) * g is finite (9e37 for 3e19) where g * g would overflow: the step is the usual first step.
      for (const o of await scenario(build, {}, 0, [g])) {
        expect(o.sq).toBe(f(f(OMR * f(g)) * f(g)));
        expect(Number.isFinite(o.sq)).toBe(true);
        // About the usual first step -sqrt(eps / (1-rho)); only to 1%, see the known deviation below.
        expect(Math.abs(o.p / -Math.sqrt(1e-6 / 0.1) - 1)).toBeLessThan(0.01);
      }
    }
    // 1e30: squareAvg overflows to Infinity, so d = sqrt(eps / Infinity) * g = 0 * 1e30 = 0: the
    // param stays put (torch computes the same in float32).
    for (const o of await scenario(build, {}, 0.5, [1e30])) {
      expect(o.sq).toBe(Infinity);
      expect(o.p).toBe(0.5);
      expect(Object.is(o.acc, 0)).toBe(true);
    }
  });

  // A one-root kernel, sqrt((acc + eps) / (sq + eps)), fails this: for |g| past about 1e17 its
  // quotient is subnormal (about 1e-43 for g = 1e19) and keeps only a few significant bits, so d
  // is off by up to ~0.3%. torch's sqrt(acc + eps) / sqrt(sq + eps) stays in the normal range.
  it('huge finite gradients: the first step matches torch (two square roots) within the contract tolerance', async () => {
    for (const g of [1e19, 3e19]) {
      const s = f(f(OMR * f(g)) * f(g));
      const eps = f(1e-6);
      const torchP = -f(f(f(Math.sqrt(eps)) / f(Math.sqrt(f(s + eps)))) * f(g));
      const [o] = await scenario(build, {}, 0, [g]);
      expect(Math.abs(o!.p - torchP), `g = ${g}: ${o!.p} vs torch ${torchP}`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(torchP));
    }
  });

  it('infinite gradients make the param and accDelta NaN and squareAvg Infinity (as in PyTorch)', async () => {
    // d = sqrt(eps / Infinity) * Infinity = 0 * Infinity = NaN.
    for (const g of [Infinity, -Infinity]) {
      for (const o of await scenario(build, {}, 0.5, [g])) {
        expect(o.sq).toBe(Infinity);
        expect(o.p).toBeNaN();
        expect(o.acc).toBeNaN();
      }
    }
  });

  it('tiny and subnormal gradients are not flushed to zero', async () => {
    // (1-rho)*g*g underflows to 0, so d = sqrt(eps/eps) * g = g exactly.
    for (const g of [1e-30, 1e-45]) {
      for (const o of await scenario(build, {}, 0, [g])) {
        expect(o.p).toBe(-f(g));
        expect(o.p).not.toBe(0);
        expect(Object.is(o.sq, 0)).toBe(true);
        expect(Object.is(o.acc, 0)).toBe(true);
      }
    }
  });

  it('a NaN gradient makes that element NaN (param and both averages), and only that element', async () => {
    // Documented behaviour, as in PyTorch: NaN propagates, nothing is hidden or skipped.
    for (const o of await scenario(build, {}, 1, [0.5, NaN])) {
      expect(o.p).toBeNaN();
      expect(o.sq).toBeNaN();
      expect(o.acc).toBeNaN();
    }
    const n = 21;
    const opt = await Adadelta.create([n], { build });
    const grad = Float32Array.from({ length: n }, (_, i) => i - 10);
    for (const i of [2, 5, 17]) grad[i] = NaN; // in a vector's lane, and in the tail
    opt.params[0]!.grad.set(grad);
    opt.step();
    const ref = freshF32(new Float32Array(n));
    stepF32Exact(ref, grad, TORCH_DEFAULTS);
    compareState(opt, 0, ref, 1, 'NaN neighbours');
    opt.params[0]!.data.forEach((v, i) => expect(Number.isNaN(v), `element ${i}`).toBe([2, 5, 17].includes(i)));
    opt.dispose();
  });

  it('weight decay 0 skips the term, so an infinite param stays Infinity; weight decay > 0 makes it NaN', async () => {
    for (const o of await scenario(build, { weightDecay: 0 }, Infinity, [0, 1])) {
      expect(o.p).toBe(Infinity);
      expect(o.sq).toBe(f(f(OMR * 1) * 1)); // 0 * Infinity was never added
      expect(Number.isFinite(o.acc)).toBe(true);
    }
    for (const o of await scenario(build, { weightDecay: 0.1 }, Infinity, [0])) {
      expect(o.sq).toBe(Infinity);
      expect(o.p).toBeNaN();
    }
  });

  it('the first step is about lr * sqrt(eps / (1 - rho)) against the gradient, when (1-rho) g^2 >> eps', async () => {
    for (const lr of [1, 0.1]) {
      for (const rho of [0.9, 0.5, 0.95]) {
        for (const eps of [1e-6, 1e-8]) {
          for (const g of [30, -1e3]) {
            for (const maximize of [false, true]) {
              const [o] = await scenario(build, { lr, rho, eps, maximize }, 0, [g]);
              const expected = -Math.sign(g) * (maximize ? -1 : 1) * lr * Math.sqrt(eps / (1 - rho));
              expect(Math.abs(o!.p - expected), JSON.stringify({ lr, rho, eps, g, maximize, p: o!.p })).toBeLessThanOrEqual(1e-5 * Math.abs(expected));
            }
          }
        }
      }
    }
  });
});
