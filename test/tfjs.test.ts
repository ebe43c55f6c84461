/**
 * The TensorFlow.js adapter (`adadelta-wasm/tfjs`), on tf.js's cpu backend: exact against the
 * core API, better than tf.js's own adadelta, save/reload through model.save, and state keyed
 * by variable name.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adadelta, AdadeltaError } from '../dist/index.js';
import { AdadeltaOptimizer, adadeltaOptimizer } from '../dist/tfjs.js';
import { mulberry32 } from './helpers/random.js';

const STEPS = 30;
const N = 64;

/** A seeded generator, so weights and data are the same on every run. */
const random = mulberry32;

function uniform(rand: () => number, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => (2 * rand() - 1) * scale);
}

/** y = sin(x0) + x1*x2 - 0.5*x3, on 64 fixed points. */
function data(): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const x = uniform(random(7), N * 4, 1);
  const y = Float32Array.from({ length: N }, (_, i) => Math.sin(x[4 * i]!) + x[4 * i + 1]! * x[4 * i + 2]! - 0.5 * x[4 * i + 3]!);
  return { xs: tf.tensor2d(x, [N, 4]), ys: tf.tensor2d(y, [N, 1]) };
}

/** A 4-16-1 tanh MLP with the same fixed weights every time. */
function mlp(): tf.Sequential {
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 16, inputShape: [4], activation: 'tanh' }), tf.layers.dense({ units: 1 })],
  });
  const rand = random(42);
  model.setWeights(model.getWeights().map((w) => tf.tensor(uniform(rand, w.size, 0.5), w.shape)));
  return model;
}

/** The loss exactly as model.fit computes it for loss 'meanSquaredError' (training.js). */
function fitLoss(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor): tf.Scalar {
  return tf.mean(tf.metrics.meanSquaredError(ys, model.apply(xs, { training: true }) as tf.Tensor)) as tf.Scalar;
}

function variablesOf(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** The bits of every weight, so that equality means bit-identical (NaN-safe, -0 distinct). */
function bits(model: tf.LayersModel): Uint32Array[] {
  return model.getWeights().map((w) => new Uint32Array(Float32Array.from(w.dataSync()).buffer));
}

function lossOf(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor): number {
  return tf.tidy(() => fitLoss(model, xs, ys).dataSync()[0]!);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('adadelta-wasm/tfjs training', () => {
  it('model.compile + model.fit with the adapter matches the core API fed tf.variableGrads, bit for bit, for 30 steps', async () => {
    const { xs, ys } = data();

    // The adapter, as a tf.js user would use it.
    const model = mlp();
    const optimizer = await adadeltaOptimizer({ lr: 1.0 });
    model.compile({ optimizer, loss: 'meanSquaredError' });
    if (!AdadeltaOptimizer.createsStateLazily) await optimizer.prepare(model);
    const history = await model.fit(xs, ys, { epochs: STEPS, batchSize: N, shuffle: false, verbose: 0 });
    expect(optimizer.iterations).toBe(STEPS);

    // The same run through the core API: one param per variable, grads from tf.variableGrads.
    const reference = mlp();
    const vars = variablesOf(reference);
    const core = await Adadelta.create(vars.map((v) => Float32Array.from(v.dataSync())), { lr: 1.0 });
    const referenceLosses: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      const { value, grads } = tf.variableGrads(() => fitLoss(reference, xs, ys), vars);
      referenceLosses.push(value.dataSync()[0]!);
      vars.forEach((v, i) => core.params[i]!.grad.set(grads[v.name]!.dataSync()));
      core.step();
      vars.forEach((v, i) => v.assign(tf.tensor(core.params[i]!.data.slice(), v.shape)));
      tf.dispose([value, ...Object.values(grads)]);
    }

    expect(history.history.loss).toEqual(referenceLosses);
    expect(bits(model)).toEqual(bits(reference));
    // And it learned something: guards against two runs that agree by doing nothing.
    expect(referenceLosses[STEPS - 1]!).toBeLessThan(referenceLosses[0]! / 2);
    for (const v of variablesOf(model)) expect(optimizer.state(v.name)!.step).toBe(STEPS);
    core.dispose();
    optimizer.dispose();
  });

  /** Loss before each of STEPS steps, then after the last, training a fresh mlp() with minimize(). */
  async function curve(optimizer: tf.Optimizer): Promise<number[]> {
    const { xs, ys } = data();
    const model = mlp();
    if (optimizer instanceof AdadeltaOptimizer) await optimizer.prepare(model);
    const losses: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      const loss = optimizer.minimize(() => fitLoss(model, xs, ys), true, variablesOf(model))!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    losses.push(lossOf(model, xs, ys));
    optimizer.dispose();
    return losses;
  }

  function table(title: string, ours: number[], theirs: number[]): string {
    const rows = ours.map((l, i) => `  ${String(i).padStart(2)}  ${l.toPrecision(7).padStart(14)}  ${theirs[i]!.toPrecision(7).padStart(14)}`);
    return `${title}\n  step  adadelta-wasm  tf.train.adadelta\n${rows.join('\n')}`;
  }

  it("beats tf.js's own tf.train.adadelta at the same settings on the same data, which is plain SGD (both curves recorded)", async () => {
    const settings = { lr: 1.0, rho: 0.9, eps: 1e-6 };
    const ours = await curve(await adadeltaOptimizer(settings));
    const theirs = await curve(tf.train.adadelta(settings.lr, settings.rho, settings.eps));
    console.log(table(`Loss, ${STEPS} steps from the same weights, lr=${settings.lr} rho=${settings.rho} eps=${settings.eps} for both:`, ours, theirs));

    expect(ours[0]).toBe(theirs[0]); // the same start
    // tf.js divides by the accumulator from before this step's update, so its update is exactly
    // lr*g: its curve is plain SGD's, bit for bit. At Adadelta's lr 1.0 that diverges here.
    expect(theirs).toEqual(await curve(tf.train.sgd(settings.lr)));
    for (let i = 1; i <= STEPS; i++) expect(ours[i]!).toBeLessThan(ours[i - 1]!);
    expect(ours[STEPS]!).toBeLessThan(ours[0]! / 2);
    expect(Number.isFinite(theirs[STEPS]!) ? theirs[STEPS]! : Infinity).toBeGreaterThan(ours[STEPS]!);
  });

  it("beats tf.train.adadelta when each runs at its own defaults (ours: torch's lr 1.0; tf.js: lr 0.001)", async () => {
    const ours = await curve(await adadeltaOptimizer());
    const theirs = await curve(tf.train.adadelta());
    console.log(table(`Loss, ${STEPS} steps from the same weights, each optimizer at its defaults:`, ours, theirs));
    expect(ours[0]).toBe(theirs[0]);
    expect(ours[STEPS]!).toBeLessThan(theirs[STEPS]! / 2);
  });
});

describe('adadelta-wasm/tfjs save and reload', () => {
  /** model.save into memory, with the optimizer; then tf.loadLayersModel from that memory. */
  async function saveAndReload(model: tf.LayersModel): Promise<tf.LayersModel> {
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
      { includeOptimizer: true },
    );
    return tf.loadLayersModel(tf.io.fromMemory(artifacts!));
  }

  const fitOnce = (model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor) => model.fit(xs, ys, { epochs: 1, batchSize: N, shuffle: false, verbose: 0 });

  it('model.save(..., { includeOptimizer: true }) and tf.loadLayersModel continue bit-identically', async () => {
    const { xs, ys } = data();
    const model = mlp();
    const optimizer = await adadeltaOptimizer({ lr: 0.5, rho: 0.95, eps: 1e-6 });
    model.compile({ optimizer, loss: 'meanSquaredError' });
    if (!AdadeltaOptimizer.createsStateLazily) await optimizer.prepare(model);
    for (let step = 0; step < 10; step++) await fitOnce(model, xs, ys);

    const reloaded = await saveAndReload(model);
    const restored = reloaded.optimizer as AdadeltaOptimizer;
    expect(restored).toBeInstanceOf(AdadeltaOptimizer);
    expect(restored.getConfig()).toEqual(optimizer.getConfig());
    expect(restored.iterations).toBe(10);
    // Loaded again in the same page, tfjs-layers renames the variables (`…/kernel` becomes
    // `…/kernel_1`); the state saved under the old names still finds them (ts/tfjs/names.ts).
    const names = variablesOf(model).map((v) => v.name);
    expect(variablesOf(reloaded).map((v) => v.name)).toEqual(names.map((n) => `${n}_1`));
    expect(bits(reloaded)).toEqual(bits(model));

    // A control that restores the model but not the optimizer: it must fall behind, or this test
    // could not tell restored state from fresh state.
    const control = await saveAndReload(model);
    (control.optimizer as AdadeltaOptimizer).dispose(); // the restored one, replaced below
    const freshOptimizer = await adadeltaOptimizer({ lr: 0.5, rho: 0.95, eps: 1e-6 });
    control.compile({ optimizer: freshOptimizer, loss: 'meanSquaredError' });
    if (!AdadeltaOptimizer.createsStateLazily) await freshOptimizer.prepare(control);

    for (let step = 0; step < 10; step++) {
      await fitOnce(model, xs, ys);
      await fitOnce(reloaded, xs, ys);
      await fitOnce(control, xs, ys);
      expect(bits(reloaded)).toEqual(bits(model));
      expect(bits(control)).not.toEqual(bits(model));
    }
    variablesOf(model).forEach((v, i) => {
      const s = restored.state(variablesOf(reloaded)[i]!.name)!;
      expect(s.step).toBe(20);
      expect(s).toEqual(optimizer.state(v.name));
    });
    expect(restored.iterations).toBe(20);
    [optimizer, restored, freshOptimizer].forEach((o) => o.dispose());
  });
});

