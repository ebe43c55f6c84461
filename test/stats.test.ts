/** opt.step({ stats: true }) / opt.stats(): the kernel's stats against a float64 computation. */
import { describe, expect, it } from 'vitest';
import { Adadelta, AdadeltaError } from '../dist/index.js';
import { STATS } from '../ts/wasm/layout.js';

const f = Math.fround;

/** One step of the kernel's formula in float32, returning each element's rate and update. */
function referenceStep(p: Float32Array, g: Float32Array, sq: Float32Array, acc: Float32Array, lr: number, rho: number, eps: number) {
  const [lr32, rho32, omr, eps32] = [f(lr), f(rho), f(1 - rho), f(eps)];
  const rates: number[] = [];
  const updates: number[] = [];
  for (let i = 0; i < p.length; i++) {
    const s = f(f(sq[i]! * rho32) + f(f(omr * g[i]!) * g[i]!));
    const [num, den] = [f(acc[i]! + eps32), f(s + eps32)];
    const q = f(num / den);
    const ratio = q >= 2 ** -126 && q <= 3.4028234663852886e38 ? f(Math.sqrt(q)) : f(f(Math.sqrt(num)) / f(Math.sqrt(den)));
    const d = f(ratio * g[i]!);
    acc[i] = f(f(acc[i]! * rho32) + f(f(omr * d) * d));
    sq[i] = s;
    const u = f(lr32 * d);
    p[i] = f(p[i]! - u);
    rates.push(f(lr32 * ratio));
    updates.push(u);
  }
  return { rates, updates };
}

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe.each(['simd', 'plain'] as const)('stats, %s build', (build) => {
  it('matches a float64 computation over several groups, steps and ragged lengths', async () => {
    const sizes = [[1, 13, 1000], [4099]];
    const hyper = [{ lr: 1.0, rho: 0.9, eps: 1e-6 }, { lr: 0.3, rho: 0.5, eps: 1e-3 }];
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const init = sizes.map((group) => group.map((n) => Float32Array.from({ length: n }, rand)));
    const opt = await Adadelta.create(init.map((params, g) => ({ params, ...hyper[g] })), { build });
    const mirror = init.flat().map((p) => ({ p: p.slice(), sq: new Float32Array(p.length), acc: new Float32Array(p.length) }));
    const stalledBelow = 2e-3;
    for (let t = 0; t < 5; t++) {
      const perGroup = sizes.map(() => ({ rates: [] as number[], sampled: [] as number[], updates: [] as number[], params: [] as number[] }));
      let index = 0;
      sizes.forEach((group, g) => {
        for (const _ of group) {
          const grad = Float32Array.from({ length: mirror[index]!.p.length }, () => rand() * (t + 1));
          opt.params[index]!.grad.set(grad);
          const m = mirror[index]!;
          // updateToParamRatio divides by the norm of the params before the step.
          perGroup[g]!.params.push(...m.p);
          const { rates, updates } = referenceStep(m.p, grad, m.sq, m.acc, hyper[g]!.lr, hyper[g]!.rho, hyper[g]!.eps);
          perGroup[g]!.rates.push(...rates);
          // The histogram's sample: one tensor is one range the kernel walks (one thread).
          perGroup[g]!.sampled.push(...rates.filter((_, i) => i % STATS.sampleEvery === 0));
          perGroup[g]!.updates.push(...updates);
          index++;
        }
      });
      opt.step({ stats: true, stalledBelow });
      const stats = opt.stats();
      expect(stats).toHaveLength(2);
      stats.forEach((s, g) => {
        const { rates, updates, params } = perGroup[g]!;
        const sorted = [...rates].sort((a, b) => a - b);
        expect(s.count).toBe(rates.length);
        expect(s.effectiveLr.min).toBe(sorted[0]);
        expect(s.effectiveLr.max).toBe(sorted[sorted.length - 1]);
        const sumU2 = updates.reduce((a, u) => a + u * u, 0);
        const sumP2 = params.reduce((a, p) => a + p * p, 0);
        expect(s.updateRms).toBeCloseTo(Math.sqrt(sumU2 / rates.length), 6);
        expect(Math.abs(s.updateRms / Math.sqrt(sumU2 / rates.length) - 1)).toBeLessThan(1e-5);
        expect(Math.abs(s.updateToParamRatio / Math.sqrt(sumU2 / sumP2) - 1)).toBeLessThan(1e-5);
        expect(s.stalledFraction).toBe(rates.filter((r) => r < f(stalledBelow)).length / rates.length);
        expect(s.stalledBelow).toBe(stalledBelow);
        expect(s.nonFinite).toBe(0);
        // Quantiles are the geometric middle of the histogram bin that holds the sample's
        // quantile. Bins split each octave into eight equal parts, so the widest, [1, 9/8) times
        // a power of two, puts the middle within a factor sqrt(9/8) (6.1%) of any value in it.
        const sample = [...perGroup[g]!.sampled].sort((a, b) => a - b);
        for (const [q, key] of [[0.1, 'p10'], [0.5, 'median'], [0.9, 'p90']] as const) {
          const exact = exactQuantile(sample, q);
          expect(Math.abs(Math.log(s.effectiveLr[key] / exact)), `${key} ${s.effectiveLr[key]} vs ${exact}`).toBeLessThanOrEqual(Math.log(9 / 8) / 2 + 1e-12);
        }
        expect(s.effectiveLr.min).toBeLessThanOrEqual(s.effectiveLr.p10);
        expect(s.effectiveLr.p10).toBeLessThanOrEqual(s.effectiveLr.median);
        expect(s.effectiveLr.median).toBeLessThanOrEqual(s.effectiveLr.p90);
        expect(s.effectiveLr.p90).toBeLessThanOrEqual(s.effectiveLr.max);
      });
    }
    // Collecting stats does not change the step: compare the params with the mirror bit for bit.
    mirror.forEach((m, i) => expect(Array.from(opt.params[i]!.data)).toEqual(Array.from(m.p)));
    opt.dispose();
  });

  // The SIMD kernel compares ratios with a bound derived from lr and the threshold, takes its
  // extremes before multiplying by lr, and reads the update's size off the acc term; rho = 1
  // leaves that term 0 and goes the scalar way. All of it must agree with the rate definition.
  it.each([
    { lr: 0.37, rho: 0.9 },
    { lr: 0, rho: 0.9 },
    { lr: -0, rho: 0.9 },
    { lr: 1, rho: 1 },
    { lr: 3e-3, rho: 0.999999 },
    { lr: 2.5, rho: 0 },
  ])('counts and extremes agree with the rate definition at lr=$lr, rho=$rho, thresholds on exact rates', async ({ lr, rho }) => {
    const n = 2051;
    let seed = 99;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const init = Float32Array.from({ length: n }, () => rand() * 2 - 1);
    const opt = await Adadelta.create([{ params: [init], lr, rho }], { build });
    const m = { p: init.slice(), sq: new Float32Array(n), acc: new Float32Array(n) };
    for (let t = 0; t < 24; t++) {
      // Magnitudes from 1e-6 to 1e3, so the rates spread over decades.
      const grad = Float32Array.from({ length: n }, () => (rand() - 0.5) * 10 ** (rand() * 9 - 6));
      opt.params[0]!.grad.set(grad);
      const { rates, updates } = referenceStep(m.p, grad, m.sq, m.acc, lr, rho, 1e-6);
      const sorted = [...rates].sort((a, b) => a - b);
      // A threshold equal to some element's rate: that element is not stalled (strictly below),
      // though a bound of threshold / lr in ratio space would often count it.
      const stalledBelow = t === 0 ? 1e-3 : sorted[t === 1 ? 0 : t === 2 ? n - 1 : Math.floor(rand() * n)]!;
      opt.step({ stats: true, stalledBelow });
      const [s] = opt.stats();
      expect(s!.effectiveLr.min).toBe(sorted[0]);
      expect(s!.effectiveLr.max).toBe(sorted[n - 1]);
      expect(Math.round(s!.stalledFraction * n)).toBe(rates.filter((r) => r < f(stalledBelow)).length);
      const rms = Math.sqrt(updates.reduce((a, u) => a + u * u, 0) / n);
      if (rms === 0) expect(s!.updateRms).toBe(0);
      else expect(Math.abs(s!.updateRms / rms - 1)).toBeLessThan(1e-5);
    }
    expect(Array.from(opt.params[0]!.data)).toEqual(Array.from(m.p));
    opt.dispose();
  });

  it('reports the first-step rate lr*sqrt(eps/((1-rho) g^2 + eps)) and stalls under a tiny lr', async () => {
    const opt = await Adadelta.create([{ params: [1000], lr: 1e-3 }], { build });
    opt.params[0]!.grad.fill(1);
    opt.step({ stats: true });
    const [s] = opt.stats();
    const expected = 1e-3 * Math.sqrt(1e-6 / (0.1 + 1e-6));
    expect(Math.abs(s!.effectiveLr.median / expected - 1)).toBeLessThan(1e-5);
    expect(s!.stalledFraction).toBe(1); // 3.2e-6 < 1e-4
    opt.dispose();
  });

  it('handles all-zero gradients and all-zero params', async () => {
    const opt = await Adadelta.create([37], { build });
    opt.step({ stats: true });
    const [s] = opt.stats();
    expect(s!.count).toBe(37);
    expect(s!.updateRms).toBe(0);
    // ||Δp|| / ||p|| = 0 / 0: NaN, reported as such rather than hidden.
    expect(s!.updateToParamRatio).toBeNaN();
    // With zero grads, sq stays 0 and the rate is lr*sqrt((0+eps)/(0+eps)) = 1.
    expect(s!.effectiveLr.min).toBe(1);
    expect(s!.effectiveLr.median).toBe(1);
    expect(s!.stalledFraction).toBe(0);
    opt.params[0]!.data.fill(2);
    opt.step({ stats: true });
    expect(opt.stats()[0]!.updateToParamRatio).toBe(0);
    opt.dispose();
  });

  // The SIMD scan keeps four sets of accumulators, vector v going to set v % 4: elements 16
  // apart share a set and a lane. The smallest and the largest rate each sit between two NaNs
  // of their own set and lane, where an accumulator that took up a NaN would lose them.
  it('a NaN rate hides no other element from min and max (each sits between NaNs of its own lane)', async () => {
    const n = 128;
    const opt = await Adadelta.create([n], { build });
    const grad = opt.params[0]!.grad;
    grad.fill(1e-3);
    // The rate falls as |g| grows: g = 1e3 gives the smallest, g = 0 the largest.
    for (const k of [0, 32, 64]) grad[k] = NaN;
    grad[16] = 1e3;
    grad[48] = 0;
    opt.step({ stats: true });
    const [s] = opt.stats();
    const eps = f(1e-6);
    expect(s!.effectiveLr.min).toBe(f(Math.sqrt(f(eps / f(f(f(f(0.1) * 1e3) * 1e3) + eps)))));
    expect(s!.effectiveLr.max).toBe(1);
    expect(s!.nonFinite).toBe(3);
    opt.dispose();
  });

  it('reports an infinite rate as the max, and leaves it out of the quantiles', async () => {
    // acc starts at 100: the rate is lr * sqrt(100 / ((1-rho) g^2 + eps)), past f32::MAX for
    // g = 0 at lr = 1e38 and 3.2e37 for g = 100. Two of the four sampled elements (0, 64, 128,
    // 192) are infinite: counted in, they would make p90 infinite.
    const opt = await Adadelta.create([{ params: [256], lr: 1e38 }], { build, initialAccDelta: 100 });
    opt.params[0]!.grad.fill(100);
    opt.params[0]!.grad[0] = 0;
    opt.params[0]!.grad[64] = 0;
    opt.step({ stats: true });
    const { effectiveLr } = opt.stats()[0]!;
    const finite = f(f(1e38) * f(Math.sqrt(f(f(100 + f(1e-6)) / f(f(f(f(0.1) * 100) * 100) + f(1e-6))))));
    expect(effectiveLr.max).toBe(Infinity);
    expect(effectiveLr.min).toBe(finite);
    for (const q of [effectiveLr.p10, effectiveLr.median, effectiveLr.p90]) expect(Math.abs(Math.log(q / finite))).toBeLessThanOrEqual(Math.log(9 / 8) / 2);
    opt.dispose();
  });

  it('counts non-finite params after a NaN or infinite gradient', async () => {
    const opt = await Adadelta.create([2000], { build });
    const grad = opt.params[0]!.grad;
    grad.fill(0.5);
    grad[3] = NaN;
    grad[1500] = Infinity;
    grad[1999] = -Infinity;
    opt.step({ stats: true });
    expect(opt.stats()[0]!.nonFinite).toBe(3);
    expect(Number.isNaN(opt.params[0]!.data[3])).toBe(true);
    opt.dispose();
  });

  it('counts non-finite params that only the update overflowed to (finite old params and gradients)', async () => {
    // First step: d = sqrt(eps / ((1-rho) g^2 + eps)) * g, about 3e15 here, and lr * d overflows.
    // (1-rho) g^2 = 1e35 stays finite, so the quotient and acc's new term are ordinary floats.
    const opt = await Adadelta.create([{ params: [new Float32Array(1030).fill(1)], lr: 1e30, eps: 1e30 }], { build });
    opt.params[0]!.grad.fill(1e18);
    opt.step({ stats: true });
    expect(opt.params[0]!.data[0]).toBe(-Infinity);
    expect(opt.stats()[0]!.nonFinite).toBe(1030);
    opt.dispose();
  });

  // The SIMD pass counts stalled elements only in blocks (1,024 elements) whose smallest rate is
  // below the threshold, in any of the four lanes; these blocks have none, one in lane 1, 2 or 3,
  // all, and all but NaNs, then a partial block and a scalar tail.
  it('counts stalled elements exactly in blocks with none, one or all of them stalled', async () => {
    const n = 6 * 1024 + 39;
    const init = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const opt = await Adadelta.create([init], { build });
    const mirror = { p: init.slice(), sq: new Float32Array(n), acc: new Float32Array(n) };
    const grad = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const block = Math.floor(i / 1024);
      // g = 0 gives rate 1 on the first step, g = 10 about 3e-4. Element 1024b + 500 + b is in
      // lane b of its vector.
      const lone = block >= 1 && block <= 3 && i === 1024 * block + 500 + block;
      grad[i] = block <= 3 ? (lone ? 10 : 0) : block === 5 && i % 7 === 0 ? NaN : 10;
    }
    const stalledBelow = 1e-2;
    for (let t = 0; t < 2; t++) {
      opt.params[0]!.grad.set(grad);
      const { rates } = referenceStep(mirror.p, grad, mirror.sq, mirror.acc, 1, 0.9, 1e-6);
      opt.step({ stats: true, stalledBelow });
      const [s] = opt.stats();
      const stalled = rates.filter((r) => r < f(stalledBelow)).length;
      expect(stalled).toBeGreaterThan(3 + 1024 + 800); // a sanity check on the set-up itself
      expect(s!.stalledFraction * n).toBeCloseTo(stalled, 6);
      const finite = rates.filter((r) => !Number.isNaN(r));
      expect(s!.effectiveLr.min).toBe(Math.min(...finite));
      expect(s!.effectiveLr.max).toBe(Math.max(...finite));
    }
    opt.dispose();
  });

  it('needs a step with stats before stats(), and validates stalledBelow', async () => {
    const opt = await Adadelta.create([8], { build });
    expect(() => opt.stats()).toThrow(AdadeltaError);
    expect(() => opt.step({ stats: true, stalledBelow: -1 })).toThrow(/stalledBelow/);
    expect(() => opt.step({ stats: true, stalledBelow: NaN })).toThrow(AdadeltaError);
    expect(opt.state(0).step).toBe(0); // the rejected steps did not run
    opt.dispose();
    expect(() => opt.stats()).toThrow(AdadeltaError);
  });
});

describe('the histogram of the effective learning rate', () => {
  it("lists the sample's non-empty bins in ascending order, an eighth of an octave each, holding every sampled element, the same on every build", async () => {
    const n = 64 * 100 + 5; // one tensor: the sample is its elements at multiples of 64, 101 of them
    const histograms = [];
    for (const build of ['simd', 'plain'] as const) {
      const opt = await Adadelta.create([Float32Array.from({ length: n }, (_, i) => Math.sin(i))], { build });
      for (let t = 0; t < 3; t++) {
        opt.params[0]!.grad.set(Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.37 + t) * (1 + (i % 7))));
        opt.step({ stats: true });
      }
      const { effectiveLr } = opt.stats()[0]!;
      const h = effectiveLr.histogram;
      expect(h.reduce((sum, bin) => sum + bin.count, 0)).toBe(101);
      expect(h.length).toBeGreaterThan(3);
      h.forEach((bin, i) => {
        expect(bin.count).toBeGreaterThan(0);
        expect(bin.to / bin.from).toBeGreaterThanOrEqual(1 + 1 / 16);
        expect(bin.to / bin.from).toBeLessThanOrEqual(1 + 1 / 8);
        if (i > 0) expect(bin.from).toBeGreaterThanOrEqual(h[i - 1]!.to);
      });
      // The sample lies within the exact extremes (which see every element); the median is in one of its bins.
      expect(h[0]!.to).toBeGreaterThan(effectiveLr.min);
      expect(h[h.length - 1]!.from).toBeLessThanOrEqual(effectiveLr.max);
      expect(h.some((bin) => bin.from <= effectiveLr.median && effectiveLr.median < bin.to)).toBe(true);
      histograms.push(h);
      opt.dispose();
    }
    expect(histograms[1]).toEqual(histograms[0]);
  });
});
