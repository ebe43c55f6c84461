/**
 * The live demo's training, with no DOM and no worker in it: the page's worker drives it, and
 * test/demo.test.ts runs the same code in Node to check the page's params bit for bit. The model,
 * the digit split, the minibatch order and the arms are the study's (examples/lr-study).
 */
import { adadeltaArm, armById } from '../../lr-study/arms.mjs';
import { evaluate, initialWeights, lossAndGradient, predict } from '../../lr-study/mlp.mjs';
import { minibatches } from '../../lr-study/train.mjs';
import { mulberry32 } from '../../lr-study/prng.mjs';

/**
 * The demo's run: the study's split and seed; a 500-digit test subset, evaluated every 25 steps.
 * Batches of 64, twice the study's: in Chromium's worker the gradient of 32 digits took 3.5 ms,
 * against 0.27 ms for the step of 101,770 params, 7-8% of a training step; at 64 the step's share
 * halves, and the curves look alike.
 */
export const RUN = {
  train: 8000,
  test: 2000,
  seed: 42,
  batchSize: 64,
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
     * step computes `stats()` too and also returns each arm's histogram of effective learning
     * rates, from `stats()`'s.
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
        arm.optimizer.step(record || histogram);
        const t2 = performance.now();
        if (histogram) histograms.push(rebin(arm.optimizer.sample().effectiveLr.histogram));
        arm.pending.loss += loss;
        arm.pending.steps++;
        arm.pending.gradientMs += t1 - t0;
        arm.pending.stepMs += t2 - t1;
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

/**
 * `stats()`'s histogram of the step's effective learning rates (a sample of every 64th element,
 * eight bins per octave) as fractions in the page's bins, 4 per decade: each of its bins goes
 * whole to the page's bin that holds its geometric middle.
 */
function rebin(bins) {
  const counts = new Float64Array(BINS);
  let n = 0;
  for (const { from, to, count } of bins) {
    const b = Math.floor((Math.log10(Math.sqrt(from * to) || from) - HISTOGRAM.from) * HISTOGRAM.perDecade);
    counts[Math.min(BINS - 1, Math.max(0, Number.isFinite(b) ? b : 0))] += count;
    n += count;
  }
  return Array.from(counts, (c) => (n > 0 ? c / n : 0));
}
