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

function oursImpl(id, label, build, threads, stats) {
  return {
    id,
    label,
    threads: threads ?? 1,
    async create(inits, grads) {
      const opt = await createOurs(inits, HYPER, { build, threads, stats });
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
    oursImpl('ours-simd-stats', "ours 'simd' + stats", 'simd', undefined, 'step'),
    oursImpl('ours-simd-stats-read', "ours 'simd' + stats + stats()", 'simd', undefined, 'read'),
    oursImpl('ours-simd-2t', "ours 'simd', 2 threads", 'simd', 2),
    boundImpl('bound-1t', 'memory-bandwidth bound, 1 thread', 1),
    boundImpl('bound-2t', 'memory-bandwidth bound, 2 threads', 2),
  ];
}
