/**
 * The optimizers the study compares, behind one small interface:
 *   params          [{ data, grad }] in the model's order (W1, b1, W2, b2)
 *   step(sample)    one update; when `sample` is true, also measure the effective learning rate
 *   sample()        { effectiveLr: { min, p10, median, p90, max }, stalledFraction, ... } of the
 *                   last sampled step
 * Adadelta is this package; Adagrad and SGD are small reference implementations (torch's rules)
 * over plain Float32Arrays.
 */
import { Adadelta, AdadeltaError } from '../../dist/index.js';

/**
 * Below this effective learning rate a weight counts as stalled. The kernel's default is 1e-4;
 * the study uses 1e-2, a hundredth of the lr the paper implies (1.0), so that the plot shows which
 * settings leave most weights crawling.
 */
export const STALLED_BELOW = 1e-2;

/**
 * This package's Adadelta over copies of `weights`, with the kernel's own diagnostics: the
 * effective learning rate lr*sqrt(acc+eps)/sqrt(sq+eps) comes from `opt.stats()`, computed in
 * the same wasm pass as the step. Returns null when `options` names something this build of the
 * package does not know (so a study can mark that arm as unavailable instead of failing).
 */
export async function adadelta(weights, options) {
  let opt;
  try {
    opt = await Adadelta.create(weights.map((w) => w.slice()), options);
  } catch (error) {
    if (error instanceof AdadeltaError && /unknown option/.test(error.message)) return null;
    throw error;
  }
  if (typeof opt.stats !== 'function') {
    throw new Error('this build of adadelta-wasm has no opt.stats(); rebuild it with `npm run build`');
  }
  return {
    build: opt.build,
    threads: opt.threads,
    /** The package's optimizer itself, for its hyperparameters (`paramGroups`) and `state(i)`. */
    optimizer: opt,
    params: opt.params,
    step(sample) {
      opt.step(sample ? { stats: true, stalledBelow: STALLED_BELOW } : undefined);
    },
    sample() {
      const [group] = opt.stats(); // one param group: W1, b1, W2, b2
      return {
        effectiveLr: group.effectiveLr,
        stalledFraction: group.stalledFraction,
        updateRms: group.updateRms,
        updateToParamRatio: group.updateToParamRatio,
        nonFinite: group.nonFinite,
      };
    },
    dispose: () => opt.dispose(),
  };
}

function plainParams(weights) {
  return weights.map((w) => ({ data: w.slice(), grad: new Float32Array(w.length) }));
}

/** Quantiles of a list of rates, sorted exactly (the reference optimizers can afford it). */
function summarize(rates) {
  rates.sort();
  const at = (q) => rates[Math.min(rates.length - 1, Math.floor(q * rates.length))];
  let stalled = 0;
  for (const r of rates) if (r < STALLED_BELOW) stalled++;
  return {
    effectiveLr: { min: rates[0], p10: at(0.1), median: at(0.5), p90: at(0.9), max: rates[rates.length - 1] },
    stalledFraction: stalled / rates.length,
  };
}

/**
 * Adagrad as torch.optim.Adagrad (no lr decay, accumulator starting at 0):
 *   sum += g*g;  p -= lr * g / (sqrt(sum) + eps)
 * Its effective learning rate lr / (sqrt(sum) + eps) can only fall: `sum` never forgets.
 */
export function adagrad(weights, { lr = 0.01, eps = 1e-10 } = {}) {
  const params = plainParams(weights);
  const sums = weights.map((w) => new Float32Array(w.length));
  const total = weights.reduce((n, w) => n + w.length, 0);
  let last;
  return {
    params,
    step(sample) {
      const rates = sample ? new Float32Array(total) : undefined;
      let r = 0;
      params.forEach(({ data, grad }, i) => {
        const sum = sums[i];
        for (let k = 0; k < data.length; k++) {
          const g = grad[k];
          sum[k] += g * g;
          const rate = lr / (Math.sqrt(sum[k]) + eps);
          data[k] -= rate * g;
          if (rates) rates[r++] = rate;
        }
      });
      if (rates) last = summarize(rates);
    },
    sample: () => last,
    dispose() {},
  };
}

/** Plain SGD, p -= lr * g: its effective learning rate is lr, always. */
export function sgd(weights, { lr = 0.1 } = {}) {
  const params = plainParams(weights);
  const rate = { min: lr, p10: lr, median: lr, p90: lr, max: lr };
  return {
    params,
    step() {
      for (const { data, grad } of params) for (let k = 0; k < data.length; k++) data[k] -= lr * grad[k];
    },
    sample: () => ({ effectiveLr: rate, stalledFraction: lr < STALLED_BELOW ? 1 : 0 }),
    dispose() {},
  };
}
