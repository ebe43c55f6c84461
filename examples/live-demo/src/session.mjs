/**
 * The live demo's training, with no DOM and no worker in it: the page's worker drives it, and
 * test/demo.test.ts runs the same code in Node to check the page's params bit for bit. The model,
 * the digit split, the minibatch order and the arms are the study's (examples/lr-study).
 */
import { adadeltaArm, armById } from '../../lr-study/arms.mjs';
import { evaluate, initialWeights, lossAndGradient, predict } from '../../lr-study/mlp.mjs';
import { minibatches } from '../../lr-study/train.mjs';
import { mulberry32 } from '../../lr-study/prng.mjs';

/** The demo's run: the study's split, seed and batch size; a 500-digit test subset, evaluated every 25 steps. */
export const RUN = {
  train: 8000,
  test: 2000,
  seed: 42,
  batchSize: 32,
  evalSize: 500,
  evalEvery: 25,
  /** Every this many steps, a point on the charts (the mean loss since the last one) and `step({ stats: true })`. */
  recordEvery: 5,
  /** Test digits in the strip of predictions. */
  stripSize: 12,
};

/** The tuned arm's settings until the reader moves a slider: torch's defaults with E[Δx²] warm-started at 1e-5. */
export const TUNED_DEFAULTS = { lr: 1, rho: 0.9, eps: 1e-6, initialAccDelta: 1e-5 };

/** The arms side by side: ours, the Keras/tf.js lr, and the reader's. */
export function demoArms(tuned) {
  return [armById('adadelta-lr1'), armById('adadelta-lr0.001'), adadeltaArm('tuned', 'Adadelta, your settings', undefined, tuned)];
}

/**
 * The effective learning rate's histogram bins: 4 per decade from 1e-8 to 10, the first and last
 * also holding what falls below and above.
 */
export const HISTOGRAM = { from: -8, to: 1, perDecade: 4 };
const BINS = (HISTOGRAM.to - HISTOGRAM.from) * HISTOGRAM.perDecade;
/** Every this many elements of each param enter the histogram (about 12,700 of 101,770). */
const HISTOGRAM_STRIDE = 8;

/** The bins' centres, for the x axis. */
export function histogramCentres() {
  return Array.from({ length: BINS }, (_, b) => 10 ** (HISTOGRAM.from + (b + 0.5) / HISTOGRAM.perDecade));
}

/**
 * A training session over `data` (the study's `{ train, test }`): every arm starts from the same
 * weights and takes the same minibatches. `threads` is passed to each Adadelta.
 */
export async function createSession(data, { tuned = TUNED_DEFAULTS, threads = 1 } = {}) {
  const weights = initialWeights(mulberry32(RUN.seed + 2));
  const evalSet = data.test.slice(0, RUN.evalSize);
  const strip = data.test.slice(0, RUN.stripSize);
  let arms = [];
  let batches;
  let step = 0;
  let tunedSettings = { ...tuned };

  async function start() {
    for (const arm of arms) arm.optimizer.dispose();
    arms = [];
    for (const arm of demoArms(tunedSettings)) {
      const optimizer = await arm.create(weights, { threads });
      arms.push({ id: arm.id, label: arm.label, optimizer, pending: { loss: 0, steps: 0, gradientMs: 0, stepMs: 0 } });
    }
    batches = minibatches(data.train, RUN.batchSize, RUN.seed);
    step = 0;
  }
  await start();

  return {
    get step() {
      return step;
    },
    get arms() {
      return arms;
    },
    strip,
    /** Back to step 0 with fresh optimizers; the tuned arm takes `tuned` if given. */
    async reset(tuned) {
      if (tuned !== undefined) tunedSettings = { ...tuned };
      await start();
    },
    /** The tuned arm's settings as its optimizer holds them. */
    tunedSettings() {
      const opt = arms[2].optimizer.optimizer;
      const { lr, rho, eps } = opt.paramGroups[0];
      return { lr, rho, eps, initialAccDelta: opt.initialAccDelta };
    },
    /** Sets the tuned arm's lr, rho and eps between steps (initialAccDelta only takes effect at a reset). */
    tune({ lr, rho, eps }) {
      const group = arms[2].optimizer.optimizer.paramGroups[0];
      group.lr = lr;
      group.rho = rho;
      group.eps = eps;
      tunedSettings = { ...tunedSettings, lr, rho, eps };
    },
    /**
     * One step of every arm on the next minibatch. On a record step the optimizers also compute
     * `stats()`, and the return value is the point to plot (else null). With `histogram`, the
     * step also returns each arm's histogram of effective learning rates.
     */
    trainStep({ histogram = false } = {}) {
      const batch = batches.next().value;
      step++;
      const record = step % RUN.recordEvery === 0;
      const histograms = [];
      for (const arm of arms) {
        const { params } = arm.optimizer;
        const t0 = performance.now();
        for (const p of params) p.grad.fill(0);
        const loss = lossAndGradient(params, batch);
        const t1 = performance.now();
        const before = histogram ? accDeltas(arm.optimizer.optimizer) : undefined;
        const t2 = performance.now();
        arm.optimizer.step(record);
        const t3 = performance.now();
        if (before) histograms.push(rateHistogram(arm.optimizer.optimizer, before));
        arm.pending.loss += loss;
        arm.pending.steps++;
        arm.pending.gradientMs += t1 - t0;
        arm.pending.stepMs += t3 - t2;
      }
      const evaluated = step % RUN.evalEvery === 0;
      const point = record
        ? {
            step,
            arms: arms.map((arm) => {
              const { effectiveLr, stalledFraction, nonFinite } = arm.optimizer.sample();
              const loss = arm.pending.loss / arm.pending.steps;
              arm.pending.loss = 0;
              arm.pending.steps = 0;
              return {
                loss,
                p10: effectiveLr.p10,
                median: effectiveLr.median,
                p90: effectiveLr.p90,
                stalled: stalledFraction,
                nonFinite,
                accuracy: evaluated ? evaluate(arm.optimizer.params, evalSet).accuracy : undefined,
              };
            }),
          }
        : null;
      return { point, histograms: histogram ? histograms : null };
    },
    /** Per arm, the time spent since the last call: computing gradients and in `opt.step`. */
    takeTimings() {
      return arms.map((arm) => {
        const { gradientMs, stepMs } = arm.pending;
        arm.pending.gradientMs = 0;
        arm.pending.stepMs = 0;
        return { gradientMs, stepMs };
      });
    },
    /** Each arm's predicted digit for each digit of the strip. */
    predictions() {
      return arms.map((arm) => predict(arm.optimizer.params, strip));
    },
    /** Each arm's params, W1 b1 W2 b2, as one byte array (a copy). */
    paramBytes() {
      return arms.map((arm) => {
        const total = arm.optimizer.params.reduce((n, p) => n + p.data.length, 0);
        const all = new Float32Array(total);
        let at = 0;
        for (const p of arm.optimizer.params) {
          all.set(p.data, at);
          at += p.data.length;
        }
        return new Uint8Array(all.buffer);
      });
    },
    dispose() {
      for (const arm of arms) arm.optimizer.dispose();
      arms = [];
    },
  };
}

/** Every HISTOGRAM_STRIDE-th E[Δx²] of each param, before a step. */
function accDeltas(opt) {
  return opt.params.map((_, i) => strided(opt.state(i).accDelta));
}

function strided(values) {
  const out = new Float32Array(Math.ceil(values.length / HISTOGRAM_STRIDE));
  for (let k = 0, j = 0; k < values.length; k += HISTOGRAM_STRIDE, j++) out[j] = values[k];
  return out;
}

/**
 * The fraction of sampled elements per bin of the effective learning rate of the step just
 * taken, lr·sqrt(E[Δx²] before + eps)/sqrt(E[g²] after + eps): the quantity `stats()` summarizes.
 */
function rateHistogram(opt, accBefore) {
  const { lr, eps } = opt.paramGroups[0];
  const counts = new Float64Array(BINS);
  let n = 0;
  opt.params.forEach((_, i) => {
    const sq = opt.state(i).squareAvg;
    const acc = accBefore[i];
    for (let k = 0, j = 0; k < sq.length; k += HISTOGRAM_STRIDE, j++) {
      const rate = (lr * Math.sqrt(acc[j] + eps)) / Math.sqrt(sq[k] + eps);
      const b = Math.floor((Math.log10(rate) - HISTOGRAM.from) * HISTOGRAM.perDecade);
      counts[Math.min(BINS - 1, Math.max(0, Number.isFinite(b) ? b : 0))]++;
      n++;
    }
  });
  return Array.from(counts, (c) => c / n);
}
