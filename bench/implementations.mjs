/**
 * Everything the benchmark measures, behind one interface: `create(inits, grads)` resolves to
 * `{ step(), activate?(), dispose() }`, or to `{ skipped: reason }` when it does not run there.
 */
import { createBandwidthProbe } from './bandwidth.mjs';
import { createOurs } from './ours.mjs';
import { createPlainJs } from './plain-js.mjs';
import { createTfjs, createTfjsAdapter } from './tfjs.mjs';

/** torch.optim.Adadelta's defaults, for every implementation. */
export const HYPER = Object.freeze({ lr: 1.0, rho: 0.9, eps: 1e-6 });

const THREADS_NA = 'n/a (threads not available)';

/** The max norm of the clipping rows: the bench's gradients (uniform in [-0.01, 0.01]) have a
 * total norm of about 5.8 at 1e6 and 18 at 1e7, so the clipping is active. */
export const CLIP_MAX_NORM = 1;

const clipSizes = (inits, total) => (inits.length === 1 && (total === 1e6 || total === 1e7) ? undefined : 'n/a (measured at 1e6 and 1e7)');
const modelOnly = (inits) => (inits.length > 1 ? undefined : 'n/a (measured on the many-tensor model)');

/**
 * Issue 13's rows, each beside the plain step of the same threads in the same block:
 * `step({ clipGradNorm })` at 1e6 and 1e7 (target <= 1.25x a plain step), and the 1,000-tensor
 * model with every other tensor frozen (target <= 0.6x all of them). `base`: the row it is
 * compared with; `target`: the largest time ratio to it that meets issue 13's target.
 */
export const TRAINING_LOOP = [
  { id: 'ours-simd-clip', label: "ours 'simd' + step({ clipGradNorm })", clipGradNorm: CLIP_MAX_NORM, only: clipSizes, base: 'ours-simd', target: 1.25 },
  { id: 'ours-simd-2t-clip', label: "ours 'simd', 2 threads + step({ clipGradNorm })", threads: 2, clipGradNorm: CLIP_MAX_NORM, only: clipSizes, base: 'ours-simd-2t', target: 1.25 },
  { id: 'ours-simd-half-frozen', label: "ours 'simd', half the tensors frozen", frozen: 'half', only: modelOnly, base: 'ours-simd', target: 0.6 },
  { id: 'ours-simd-2t-half-frozen', label: "ours 'simd', 2 threads, half the tensors frozen", threads: 2, frozen: 'half', only: modelOnly, base: 'ours-simd-2t', target: 0.6 },
];

function tfjsImpl(id, backend, label, maxParams, make = createTfjs) {
  return {
    id,
    label,
    threads: 1,
    async create(inits, grads, total) {
      if (total > maxParams) return { skipped: `skipped above ${maxParams.toExponential(0)} params (too slow)` };
      const t = await make(backend, inits, HYPER);
      t.setGrads(grads);
      return t;
    },
  };
}

/**
 * `options`: createOurs's `stats`, `clipGradNorm` and `frozen`; `section: 'training-loop'` keeps
 * a row out of the main tables (report.mjs's trainingLoopTable shows it); `only(inits, total)`
 * returns why the row does not run at a size, or undefined where it does.
 */
function oursImpl(id, label, build, threads, { section, base, target, only, ...options } = {}) {
  return {
    id,
    label,
    threads: threads ?? 1,
    ...(section ? { section, base, target } : {}),
    async create(inits, grads, total) {
      const na = only?.(inits, total);
      if (na) return { skipped: na };
      const opt = await createOurs(inits, HYPER, { build, threads, ...options });
      if (opt === undefined) return { skipped: THREADS_NA };
      if (threads !== undefined && opt.threads !== threads) {
        opt.dispose();
        return { skipped: `n/a (asked for ${threads} threads, got ${opt.threads})` };
      }
      opt.setGrads(grads);
      return opt;
    },
  };
}

function boundImpl(id, label, threads) {
  return {
    id,
    label,
    threads,
    bound: true,
    async create(inits, grads, total) {
      // The bound depends only on the bytes moved; the many-tensor model uses the one-tensor
      // bound of the same size, measured in the same block.
      if (inits.length !== 1) return { skipped: 'see the one-tensor row of the same size' };
      const probe = await createBandwidthProbe(total, threads);
      probe.arrays[1].set(grads[0]);
      return probe;
    },
  };
}

/**
 * The implementations in table order. `tfCpuMax` / `tfWasmMax`: the largest size tf.js runs at;
 * `adapterCpuMax` / `adapterWasmMax`: the same for our tf.js adapter.
 */
export function implementations({ tfCpuMax, tfWasmMax, adapterCpuMax, adapterWasmMax }) {
  return [
    {
      id: 'plain-js',
      label: 'plain JS Float32Array loop',
      threads: 1,
      async create(inits, grads) {
        const opt = createPlainJs(inits, HYPER);
        opt.params.forEach((p, i) => p.grad.set(grads[i]));
        return { step: opt.step, dispose() {} };
      },
    },
    tfjsImpl('tfjs-cpu', 'cpu', 'tf.js cpu tf.train.adadelta', tfCpuMax),
    tfjsImpl('tfjs-wasm', 'wasm', 'tf.js wasm tf.train.adadelta', tfWasmMax),
    tfjsImpl('adapter-tfjs-cpu', 'cpu', 'adapter on tf.js cpu', adapterCpuMax, createTfjsAdapter),
    tfjsImpl('adapter-tfjs-wasm', 'wasm', 'adapter on tf.js wasm', adapterWasmMax, createTfjsAdapter),
    oursImpl('ours-plain', "ours 'plain' (scalar wasm)", 'plain'),
    oursImpl('ours-simd', "ours 'simd' (wasm f32x4)", 'simd'),
    oursImpl('ours-simd-stats', "ours 'simd' + stats", 'simd', undefined, { stats: 'step' }),
    oursImpl('ours-simd-stats-read', "ours 'simd' + stats + stats()", 'simd', undefined, { stats: 'read' }),
    oursImpl('ours-simd-2t', "ours 'simd', 2 threads", 'simd', 2),
    ...TRAINING_LOOP.map(({ id, label, threads, ...options }) => oursImpl(id, label, 'simd', threads, { section: 'training-loop', ...options })),
    boundImpl('bound-1t', 'memory-bandwidth bound, 1 thread', 1),
    boundImpl('bound-2t', 'memory-bandwidth bound, 2 threads', 2),
  ];
}
