/**
 * This package's optimizer, built: the 'plain' and 'simd' kernels, SIMD on 2 threads, and SIMD
 * with diagnostics (`stats`: 'step' times `step({ stats: true })`, 'read' also reads `stats()`
 * after every step, as a training loop that logs them would). Issue 13's training-loop rows:
 * `clipGradNorm: maxNorm` times the fused `step({ clipGradNorm: maxNorm })`, and
 * `frozen: 'half'` sets `requiresGrad = false` on every other param (1, 3, 5, ...) before timing.
 */
import { Adadelta, AdadeltaError } from '../dist/index.js';

/** Creates ours over params initialised from `inits`; `undefined` when `threads` is unknown. */
export async function createOurs(inits, hyper, { build, threads, stats, clipGradNorm, frozen }) {
  const options = { ...hyper, build };
  if (threads !== undefined) options.threads = threads;
  let opt;
  try {
    opt = await Adadelta.create(inits, options);
  } catch (e) {
    if (threads !== undefined && e instanceof AdadeltaError && /threads/.test(e.message) && /unknown option/.test(e.message)) return undefined;
    throw e;
  }
  if (frozen === 'half') opt.params.forEach((p, i) => (p.requiresGrad = i % 2 === 0));
  const withStats = { stats: true };
  const withClip = { clipGradNorm };
  const step =
    clipGradNorm !== undefined
      ? () => opt.step(withClip)
      : stats === 'read'
        ? () => {
            opt.step(withStats);
            opt.stats();
          }
        : stats === 'step'
          ? () => opt.step(withStats)
          : () => opt.step();
  return {
    build: opt.build,
    threads: opt.threads ?? 1,
    params: opt.params,
    step,
    setGrads: (arrays) => arrays.forEach((a, i) => opt.params[i].grad.set(a)),
    read: () => opt.params.map((p) => p.data.slice()),
    dispose: () => opt.dispose(),
  };
}
