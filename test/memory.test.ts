/**
 * Memory behaviour through the public API: views stay valid whatever other optimizers do,
 * optimizers do not disturb each other, views are zero-copy and state() is a copy.
 */
import { describe, expect, it } from 'vitest';
import { Adadelta, hasSimd } from '../dist/index.js';
import { mulberry32, randomValues } from './helpers/random.js';
import { firstBitDifference, firstDifference, freshF32, stepF32Exact, type Hyper, type Tensor } from './helpers/reference.js';

const TORCH_DEFAULTS: Hyper = { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false };

function expectMatches(opt: Adadelta, i: number, ref: Tensor, what: string): void {
  const s = opt.state(i);
  expect(firstDifference(opt.params[i]!.data, ref.p), `${what} param`).toBeUndefined();
  expect(firstDifference(s.squareAvg, ref.sq), `${what} squareAvg`).toBeUndefined();
  expect(firstDifference(s.accDelta, ref.acc), `${what} accDelta`).toBeUndefined();
}

describe.each(['simd', 'plain'] as const)('%s build', (build) => {
  it('views kept from before stay valid after a large second optimizer is created and stepped', async () => {
    const rng = mulberry32(1);
    const init = randomValues(rng, 1003, 'sane');
    const a = await Adadelta.create([init, 5], { build, rho: 0.8 });
    const h = { ...TORCH_DEFAULTS, rho: 0.8 };
    const [data, grad] = [a.params[0]!.data, a.params[0]!.grad];
    const buffer = data.buffer;

    // 3e7 elements: 480 MB of params, grads and state in B's own memory.
    const big = 30_000_000;
    const b = await Adadelta.create([big], { build });
    const bGrad = b.params[0]!.grad;
    for (let i = 0; i < big; i += 4099) bGrad[i] = (i % 7) - 3;
    b.step();
    // Spot-check B against the reference: every element's step is independent.
    const bData = b.params[0]!.data;
    for (let i = 0; i < big; i += 4099 * 37) {
      const ref = freshF32([0]);
      stepF32Exact(ref, Float32Array.of(bGrad[i]!), TORCH_DEFAULTS);
      expect(bData[i], `B[${i}]`).toBe(ref.p[0]);
    }

    // A's old views are still attached to A's memory and still the ones step() uses.
    expect(data.length).toBe(1003);
    expect(data.buffer).toBe(buffer);
    expect(a.params[0]!.data).toBe(data);
    const ref = freshF32(init);
    for (let t = 0; t < 3; t++) {
      const g = randomValues(rng, 1003, 'sane');
      grad.set(g); // through the old view
      a.step();
      stepF32Exact(ref, g, h);
    }
    expect(firstDifference(data, ref.p), 'A through the old view').toBeUndefined();
    expectMatches(a, 0, ref, 'A');
    b.dispose();
    // Disposing B leaves A alone.
    expect(data.length).toBe(1003);
    expectMatches(a, 0, ref, 'A after B is disposed');
    a.dispose();
  });

  it('two optimizers side by side do not disturb each other (interleaved steps equal each alone)', async () => {
    const rng = mulberry32(2);
    const initA = [randomValues(rng, 37, 'sane'), randomValues(rng, 8, 'sane')];
    const initB = [randomValues(rng, 19, 'sane')];
    const gradsA = Array.from({ length: 4 }, () => initA.map((p) => randomValues(rng, p.length, 'sane')));
    const gradsB = Array.from({ length: 4 }, () => initB.map((p) => randomValues(rng, p.length, 'sane')));
    const makeA = () => Adadelta.create([{ params: initA, lr: 0.5 }], { build, weightDecay: 0.01 });
    const makeB = () => Adadelta.create(initB, { build, rho: 0.95, maximize: true });
    const run = (opt: Adadelta, grads: Float32Array[][], t: number) => {
      opt.params.forEach((p, i) => p.grad.set(grads[t]![i]!));
      opt.step();
    };

    const [a, b] = [await makeA(), await makeB()];
    for (let t = 0; t < 4; t++) {
      run(a, gradsA, t);
      run(b, gradsB, t);
    }
    const [aloneA, aloneB] = [await makeA(), await makeB()];
    for (let t = 0; t < 4; t++) run(aloneA, gradsA, t);
    for (let t = 0; t < 4; t++) run(aloneB, gradsB, t);

    const compare = (x: Adadelta, y: Adadelta, what: string) => {
      x.params.forEach((p, i) => {
        expect(firstBitDifference(p.data, y.params[i]!.data), `${what} params[${i}]`).toBeUndefined();
        expect(firstBitDifference(x.state(i).squareAvg, y.state(i).squareAvg), `${what} squareAvg[${i}]`).toBeUndefined();
        expect(firstBitDifference(x.state(i).accDelta, y.state(i).accDelta), `${what} accDelta[${i}]`).toBeUndefined();
      });
    };
    compare(a, aloneA, 'A');
    compare(b, aloneB, 'B');
    // And the lone runs are right, so equality above is not two optimizers equally wrong.
    const ref = freshF32(initA[0]!);
    for (let t = 0; t < 4; t++) stepF32Exact(ref, gradsA[t]![0]!, { ...TORCH_DEFAULTS, lr: 0.5, weightDecay: 0.01 });
    expectMatches(aloneA, 0, ref, 'A alone');

    // Disposing one leaves the other intact, and it keeps stepping correctly.
    a.dispose();
    run(b, gradsB, 0);
    run(aloneB, gradsB, 0);
    compare(b, aloneB, 'B after A is disposed');
    for (const o of [b, aloneA, aloneB]) o.dispose();
  });

  it('views are zero-copy: writing data changes what step() uses; state() returns copies', async () => {
    const opt = await Adadelta.create([6], { build });
    const p = opt.params[0]!;
    const values = Float32Array.of(1, -2, 3.5, 0, 1e-3, -7);
    p.data.set(values);
    const grad = Float32Array.of(0.5, 0.5, -1, 2, 0, 3);
    p.grad.set(grad);
    opt.step();
    const ref = freshF32(values);
    stepF32Exact(ref, grad, TORCH_DEFAULTS);
    expectMatches(opt, 0, ref, 'after writing data');

    const s = opt.state(0);
    s.squareAvg.fill(123);
    s.accDelta.fill(-1);
    expect(s.squareAvg.buffer).not.toBe(p.data.buffer);
    expectMatches(opt, 0, ref, 'after mutating a state() copy');
    const before = s.squareAvg.slice();
    opt.step();
    expect(firstDifference(s.squareAvg, before), 'a copy does not follow later steps').toBeUndefined();
    opt.dispose();
  });

  it('zeroGrad zero-fills every gradient and nothing else', async () => {
    const opt = await Adadelta.create([new Float32Array([1, 2, 3]), 9, 17], { build });
    for (const p of opt.params) p.grad.set(randomValues(mulberry32(p.length), p.length, 'wild'));
    const data = opt.params.map((p) => p.data.slice());
    opt.zeroGrad();
    opt.params.forEach((p, i) => {
      expect(p.grad.every((x) => Object.is(x, 0)), `grad ${i} is all +0`).toBe(true);
      expect(firstDifference(p.data, data[i]!)).toBeUndefined();
    });
    opt.dispose();
  });

  it('stepAsync equals step', async () => {
    const init = randomValues(mulberry32(3), 29, 'sane');
    const [x, y] = [await Adadelta.create([init], { build, lr: 0.3 }), await Adadelta.create([init], { build, lr: 0.3 })];
    for (let t = 0; t < 3; t++) {
      const g = randomValues(mulberry32(10 + t), 29, 'sane');
      x.params[0]!.grad.set(g);
      y.params[0]!.grad.set(g);
      x.step();
      const pending = y.stepAsync();
      expect(pending).toBeInstanceOf(Promise);
      await pending;
    }
    expect(y.state(0).step).toBe(3);
    expect(firstBitDifference(x.params[0]!.data, y.params[0]!.data)).toBeUndefined();
    expect(firstBitDifference(x.state(0).squareAvg, y.state(0).squareAvg)).toBeUndefined();
    expect(firstBitDifference(x.state(0).accDelta, y.state(0).accDelta)).toBeUndefined();
    x.dispose();
    y.dispose();
  });

  it('Float32Array initial values are copied in, not aliased', async () => {
    const src = Float32Array.of(1, 2, 3, 4, 5);
    const opt = await Adadelta.create([src], { build });
    src.fill(-9);
    expect(Array.from(opt.params[0]!.data)).toEqual([1, 2, 3, 4, 5]);
    opt.params[0]!.grad.fill(1);
    opt.step();
    expect(Array.from(src)).toEqual([-9, -9, -9, -9, -9]);
    opt.dispose();
  });

  it('size, build and numbering are sane', async () => {
    const opt = await Adadelta.create([{ params: [3, new Float32Array(5)] }, { params: [7], lr: 0.1 }], { build });
    expect(opt.build).toBe(build);
    expect(opt.size).toBe(15);
    expect(opt.params.map((p) => [p.length, p.group, p.data.length, p.grad.length])).toEqual([[3, 0, 3, 3], [5, 0, 5, 5], [7, 1, 7, 7]]);
    expect(opt.paramGroups.map((g) => g.params)).toEqual([[0, 1], [2]]);
    expect(opt.state(2)).toEqual({ step: 0, squareAvg: new Float32Array(7), accDelta: new Float32Array(7) });
    opt.dispose();
  });
});

it("build 'auto' (the default) picks simd exactly where the engine has wasm SIMD", async () => {
  const opt = await Adadelta.create([1]);
  expect(opt.build).toBe(hasSimd() ? 'simd' : 'plain');
  // Node 20+ has wasm SIMD, so 'auto' must pick it here.
  expect(hasSimd()).toBe(true);
  opt.dispose();
});
