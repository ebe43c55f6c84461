/**
 * `adadelta-wasm/tfjs` keys optimizer state by variable NAME. tf.js's own optimizers key it by
 * position in the gradient list, which these tests show misassigning state on a subset or a
 * reordering; ours does not. Also: new variables, shape changes, getWeights/setWeights, errors.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adadelta, AdadeltaError } from '../dist/index.js';
import { AdadeltaOptimizer, adadeltaOptimizer } from '../dist/tfjs.js';

const SETTINGS = { lr: 1.0, rho: 0.9, eps: 1e-6 };
const A0 = [1, 2, 3];
const B0 = [-1, 0.5, 4];
const GA = [0.1, 0.2, 0.3];
const GB = [3, -2, 1];

let serial = 0;
/** A fresh tf.Variable; names are unique because tf.js's variable registry is global. */
function variable(label: string, values: number[]): tf.Variable {
  return tf.variable(tf.tensor1d(values), true, `${label}_${serial++}`);
}

function grads(pairs: [tf.Variable, number[]][]): { name: string; tensor: tf.Tensor }[] {
  return pairs.map(([v, g]) => ({ name: v.name, tensor: tf.tensor(g, v.shape) }));
}

function bitsOf(values: ArrayLike<number>): number[] {
  return [...new Uint32Array(Float32Array.from(values).buffer)];
}

/** What a correct optimizer gives one variable: the core API, stepped with `gradients` in turn. */
async function reference(init: number[], gradients: number[][]): Promise<{ values: number[]; state: { step: number; squareAvg: number[]; accDelta: number[] } }> {
  const core = await Adadelta.create([Float32Array.from(init)], SETTINGS);
  for (const g of gradients) {
    core.params[0]!.grad.set(g);
    core.step();
  }
  const s = core.state(0);
  const result = { values: bitsOf(core.params[0]!.data), state: { step: s.step, squareAvg: bitsOf(s.squareAvg), accDelta: bitsOf(s.accDelta) } };
  core.dispose();
  return result;
}

function observed(opt: AdadeltaOptimizer, v: tf.Variable): { values: number[]; state: { step: number; squareAvg: number[]; accDelta: number[] } } {
  const s = opt.state(v.name)!;
  return { values: bitsOf(v.dataSync()), state: { step: s.step, squareAvg: bitsOf(s.squareAvg), accDelta: bitsOf(s.accDelta) } };
}

/** Makes state up front when this core cannot make it inside applyGradients (see ts/tfjs/core.ts). */
async function ready(opt: AdadeltaOptimizer, vars: tf.Variable[]): Promise<void> {
  if (!AdadeltaOptimizer.createsStateLazily) await opt.prepare(vars);
}

async function namedWeights(opt: tf.Optimizer): Promise<Map<string, number[]>> {
  return new Map((await opt.getWeights()).map((w) => [w.name, bitsOf(w.tensor.dataSync())]));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe("tf.js's own adadelta keys state by position", () => {
  it('a subset step moves the state saved for a variable that took no step, and not the one that did', async () => {
    const a = variable('a', A0);
    const b = variable('b', B0);
    const opt = tf.train.adadelta(SETTINGS.lr, SETTINGS.rho, SETTINGS.eps);
    opt.applyGradients(grads([[a, GA], [b, GB]]));
    const before = await namedWeights(opt);
    opt.applyGradients(grads([[b, GB]])); // only b
    const after = await namedWeights(opt);
    expect(after.get(`${a.name}/accum_grad`)).not.toEqual(before.get(`${a.name}/accum_grad`)); // a's state moved
    expect(after.get(`${b.name}/accum_grad`)).toEqual(before.get(`${b.name}/accum_grad`)); // b's did not
  });

  it("a reordered step feeds b's gradient into the state named for a", async () => {
    const [a1, b1, a2, b2] = [variable('a', A0), variable('b', B0), variable('a', A0), variable('b', B0)];
    const ordered = tf.train.adadelta(SETTINGS.lr, SETTINGS.rho, SETTINGS.eps);
    const reordered = tf.train.adadelta(SETTINGS.lr, SETTINGS.rho, SETTINGS.eps);
    ordered.applyGradients(grads([[a1, GA], [b1, GB]]));
    ordered.applyGradients(grads([[a1, GA], [b1, GB]]));
    reordered.applyGradients(grads([[a2, GA], [b2, GB]]));
    reordered.applyGradients(grads([[b2, GB], [a2, GA]]));
    // The same gradients reached each variable, yet the states differ: position, not name, decides.
    const [o, r] = [await namedWeights(ordered), await namedWeights(reordered)];
    expect(r.get(`${a2.name}/accum_grad`)).not.toEqual(o.get(`${a1.name}/accum_grad`));
  });
});

describe('adadelta-wasm/tfjs keys state by name', () => {
  it('a subset step leaves the other variables and their state untouched', async () => {
    const a = variable('a', A0);
    const b = variable('b', B0);
    const opt = await adadeltaOptimizer(SETTINGS);
    await ready(opt, [a, b]);
    opt.applyGradients(grads([[a, GA], [b, GB]]));
    opt.applyGradients(grads([[b, GB]])); // only b
    expect(observed(opt, a)).toEqual(await reference(A0, [GA]));
    expect(observed(opt, b)).toEqual(await reference(B0, [GB, GB]));
    expect(opt.iterations).toBe(2);
    opt.dispose();
  });

  it('a reordered step, as an array or as a map, gives each variable its own state', async () => {
    const [a, b] = [variable('a', A0), variable('b', B0)];
    const opt = await adadeltaOptimizer(SETTINGS);
    await ready(opt, [a, b]);
    opt.applyGradients(grads([[a, GA], [b, GB]]));
    opt.applyGradients(grads([[b, GB], [a, GA]]));
    opt.applyGradients({ [b.name]: tf.tensor(GB), [a.name]: tf.tensor(GA) });
    expect(observed(opt, a)).toEqual(await reference(A0, [GA, GA, GA]));
    expect(observed(opt, b)).toEqual(await reference(B0, [GB, GB, GB]));
    opt.dispose();
  });

  it('getWeights/setWeights restore state by name, whatever order the next step uses', async () => {
    const [a, b] = [variable('a', A0), variable('b', B0)];
    const first = await adadeltaOptimizer(SETTINGS);
    await ready(first, [a, b]);
    first.applyGradients(grads([[a, GA], [b, GB]]));
    const weights = await first.getWeights();
    // Our names: 'iter', then per variable <name>/square_avg, <name>/acc_delta, <name>/step.
    expect(weights.map((w) => w.name)).toEqual([
      'iter',
      `${a.name}/square_avg`, `${a.name}/acc_delta`, `${a.name}/step`,
      `${b.name}/square_avg`, `${b.name}/acc_delta`, `${b.name}/step`,
    ]);
    first.dispose();

    const second = await adadeltaOptimizer(SETTINGS);
    await second.setWeights([weights[0]!, ...weights.slice(1).reverse()]); // entry order is irrelevant too
    expect(second.iterations).toBe(1);
    second.applyGradients(grads([[b, GB], [a, GA]]));
    expect(observed(second, a)).toEqual(await reference(A0, [GA, GA]));
    expect(observed(second, b)).toEqual(await reference(B0, [GB, GB]));
    second.dispose();
  });

  it('a variable first seen later gets fresh state; the others continue', async () => {
    const [a, b, c] = [variable('a', A0), variable('b', B0), variable('c', [5, 6, 7])];
    const opt = await adadeltaOptimizer(SETTINGS);
    await ready(opt, [a, b]);
    opt.applyGradients(grads([[a, GA], [b, GB]]));
    expect(opt.state(c.name)).toBeUndefined();
    await ready(opt, [a, b, c]);
    opt.applyGradients(grads([[c, GB], [a, GA], [b, GB]]));
    expect(observed(opt, c)).toEqual(await reference([5, 6, 7], [GB]));
    expect(observed(opt, a)).toEqual(await reference(A0, [GA, GA]));
    expect(opt.variableNames).toEqual([a.name, b.name, c.name]);
    opt.dispose();
  });

  it.runIf(!AdadeltaOptimizer.createsStateLazily)(
    'without prepare(), an unseen variable is an AdadeltaError that says what to do, and nothing changes',
    async () => {
      const [a, b] = [variable('a', A0), variable('b', B0)];
      const opt = await adadeltaOptimizer(SETTINGS);
      await opt.prepare([a]);
      expect(() => opt.applyGradients(grads([[a, GA], [b, GB]]))).toThrow(AdadeltaError);
      expect(() => opt.applyGradients(grads([[a, GA], [b, GB]]))).toThrow(/prepare/);
      expect(bitsOf(a.dataSync())).toEqual(bitsOf(A0));
      expect(opt.state(a.name)!.step).toBe(0);
      expect(opt.iterations).toBe(0);
      opt.dispose();
    },
  );

  it.runIf(AdadeltaOptimizer.createsStateLazily)('an unseen variable gets fresh state inside applyGradients, with no prepare()', async () => {
    const [a, b] = [variable('a', A0), variable('b', B0)];
    const opt = await adadeltaOptimizer(SETTINGS);
    opt.applyGradients(grads([[a, GA], [b, GB]]));
    expect(observed(opt, a)).toEqual(await reference(A0, [GA]));
    expect(observed(opt, b)).toEqual(await reference(B0, [GB]));
    opt.dispose();
  });

  it('a variable whose shape changed is an AdadeltaError, and nothing changes', async () => {
    const a = variable('a', A0);
    const b = variable('b', B0);
    const opt = await adadeltaOptimizer(SETTINGS);
    await ready(opt, [a, b]);
    opt.applyGradients(grads([[a, GA], [b, GB]]));
    const name = a.name;
    const stateBefore = observed(opt, b);
    a.dispose();
    const wider = tf.variable(tf.tensor1d([1, 2, 3, 4]), true, name); // same name, new shape
    const step = () => opt.applyGradients([...grads([[b, GB]]), { name, tensor: tf.tensor1d([1, 1, 1, 1]) }]);
    expect(step).toThrow(AdadeltaError);
    expect(step).toThrow(/shape \[4\].*\[3\]/);
    await expect(opt.prepare([wider])).rejects.toThrow(AdadeltaError);
    expect(observed(opt, b)).toEqual(stateBefore);
    expect(bitsOf(wider.dataSync())).toEqual(bitsOf([1, 2, 3, 4]));
    expect(opt.iterations).toBe(1);
    opt.dispose();
  });

  it('a value set from outside (setWeights, assign) is read in before the next step', async () => {
    const a = variable('a', A0);
    const opt = await adadeltaOptimizer(SETTINGS);
    await ready(opt, [a]);
    opt.applyGradients(grads([[a, GA]]));
    a.assign(tf.tensor1d([10, 20, 30]));
    opt.applyGradients(grads([[a, GA]]));
    // Reference: step 1 from A0, then the values replaced, state kept.
    const core = await Adadelta.create([Float32Array.from(A0)], SETTINGS);
    core.params[0]!.grad.set(GA);
    core.step();
    core.params[0]!.data.set([10, 20, 30]);
    core.step();
    expect(bitsOf(a.dataSync())).toEqual(bitsOf(core.params[0]!.data));
    core.dispose();
    opt.dispose();
  });

  it('bad input is an AdadeltaError naming the problem', async () => {
    await expect(adadeltaOptimizer({ lr: -1 })).rejects.toThrow(/defaults\.lr/);
    await expect(adadeltaOptimizer({ rho: 2 })).rejects.toThrow(AdadeltaError);
    await expect(adadeltaOptimizer({ learningRate: 0.1 } as never)).rejects.toThrow(/learningRate/);
    const a = variable('a', A0);
    const opt = await adadeltaOptimizer(SETTINGS);
    await ready(opt, [a]);
    expect(() => opt.applyGradients([{ name: 'no_such_variable', tensor: tf.tensor1d(GA) }])).toThrow(/no_such_variable/);
    expect(() => opt.applyGradients([{ name: a.name, tensor: tf.tensor1d([1, 2]) }])).toThrow(/shape/);
    expect(() => opt.applyGradients([...grads([[a, GA]]), ...grads([[a, GA]])])).toThrow(/twice/);
    await expect(opt.setWeights([{ name: 'iter', tensor: tf.scalar(1, 'int32') }, { name: `${a.name}/square_avg`, tensor: tf.zeros([3]) }])).rejects.toThrow(/acc_delta/);
    // None of those stepped anything.
    expect(opt.state(a.name)?.step ?? 0).toBe(0);
    expect(bitsOf(a.dataSync())).toEqual(bitsOf(A0));
    expect(opt.iterations).toBe(0);
    opt.dispose();
    expect(() => opt.applyGradients(grads([[a, GA]]))).toThrow(/disposed/);
  });

  it('applyGradients is atomic: a bad gradient anywhere in the list is an AdadeltaError, and no variable steps', async () => {
    const [a, b] = [variable('a', A0), variable('b', B0)];
    const opt = await adadeltaOptimizer(SETTINGS);
    await opt.prepare([a, b]);
    const disposed = tf.tensor1d(GB);
    disposed.dispose();
    const bad: [string, unknown, RegExp][] = [
      ['a disposed tensor', disposed, /gradient of "b_\d+" is disposed/],
      ['a string tensor', tf.tensor1d(['x', 'y', 'z']), /string tensor/],
      ['a number', 3, /must be a tf.Tensor, got number/],
      ['a plain object', { shape: [3] }, /must be a tf.Tensor, got object/],
    ];
    for (const [what, tensor, message] of bad) {
      const step = () => opt.applyGradients([...grads([[a, GA]]), { name: b.name, tensor: tensor as tf.Tensor }]);
      expect(step, what).toThrow(AdadeltaError);
      expect(step, what).toThrow(message);
    }
    expect(() => opt.applyGradients([...grads([[a, GA]]), null as never])).toThrow(AdadeltaError);
    expect(() => opt.applyGradients(null as never)).toThrow(AdadeltaError);
    // A hole in the list: refused as an entry, not skipped (nor a TypeError).
    const holey = grads([[a, GA], [b, GB]]);
    delete (holey as unknown[])[1];
    expect(() => opt.applyGradients(holey)).toThrow(/applyGradients: entry 1 must be \{ name, tensor \}/);
    expect(bitsOf(a.dataSync())).toEqual(bitsOf(A0));
    expect(opt.state(a.name)!.step).toBe(0);
    expect(opt.iterations).toBe(0);
    // The same list with a good gradient steps both.
    opt.applyGradients(grads([[a, GA], [b, GB]]));
    expect(observed(opt, a)).toEqual(await reference(A0, [GA]));
    opt.dispose();
  });

  it('setWeights refuses null, non-tensors, disposed and string tensors with an AdadeltaError, keeping the state', async () => {
    const a = variable('a', A0);
    const opt = await adadeltaOptimizer(SETTINGS);
    await opt.prepare([a]);
    opt.applyGradients(grads([[a, GA]]));
    const weights = await opt.getWeights();
    const before = await namedWeights(opt);
    const disposed = tf.zeros([3]);
    disposed.dispose();
    const swaps: [string, unknown][] = [
      ['null', null],
      ['a Float32Array', new Float32Array(3)],
      ['a disposed tensor', disposed],
      ['a string tensor', tf.tensor1d(['x', 'y', 'z'])],
    ];
    for (const [what, tensor] of swaps) {
      const bad = weights.map((w, i) => (i === 2 ? { name: w.name, tensor } : w));
      await expect(opt.setWeights(bad as never), what).rejects.toBeInstanceOf(AdadeltaError);
    }
    await expect(opt.setWeights(null as never)).rejects.toBeInstanceOf(AdadeltaError);
    await expect(opt.setWeights([null] as never)).rejects.toBeInstanceOf(AdadeltaError);
    const holey = [...weights];
    delete (holey as unknown[])[1];
    await expect(opt.setWeights(holey)).rejects.toThrow(/setWeights: weight 1 must be \{ name, tensor \}/);
    expect(await namedWeights(opt)).toEqual(before);
    opt.dispose();
  });

  it('invalid options fail at construction, not at the first step', () => {
    for (const options of [{ lr: NaN }, { rho: 2 }, { eps: -1 }, { weightDecay: Infinity }, { build: 'gpu' }]) {
      expect(() => new AdadeltaOptimizer(options as never), JSON.stringify(options)).toThrow(AdadeltaError);
    }
    expect(() => new AdadeltaOptimizer({ lr: NaN })).toThrow(/defaults\.lr/);
    expect(() => AdadeltaOptimizer.fromConfig(AdadeltaOptimizer, { lr: -1 })).toThrow(AdadeltaError);
  });

  it('defaults are PyTorch\'s, and the config round-trips through tf.js serialization', async () => {
    const opt = await adadeltaOptimizer();
    expect(opt.getConfig()).toEqual({ lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, build: 'auto' });
    const custom = await adadeltaOptimizer({ lr: 0.5, rho: 0.95, eps: 1e-7, weightDecay: 0.01 });
    const copy = AdadeltaOptimizer.fromConfig(AdadeltaOptimizer, custom.getConfig());
    expect(copy.getConfig()).toEqual(custom.getConfig());
    expect(tf.serialization.SerializationMap.getMap().classNameMap['AdadeltaWasm']?.[0]).toBe(AdadeltaOptimizer);
    expect(tf.train.adadelta()).not.toBeInstanceOf(AdadeltaOptimizer);
    expect(opt).toBeInstanceOf(tf.Optimizer);
    [opt, custom, copy].forEach((o) => o.dispose());
  });
});
