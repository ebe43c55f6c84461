/**
 * The cost of one `opt.stats()` call, timed on its own: it summarizes each group's 2048-bin
 * histogram in JS, so it costs the same at every size, and derived as a difference of two step
 * timings it would drown in their noise at large sizes.
 */
import { Adadelta } from '../dist/index.js';
import { median } from './measure.mjs';

/** Median µs per `stats()` call of a one-group SIMD optimizer, over `reps` runs of ~`targetMs`. */
export async function timeStatsCall(hyper, { reps, targetMs }) {
  const opt = await Adadelta.create([4096], { ...hyper, build: 'simd' });
  try {
    opt.params[0].grad.fill(0.01);
    opt.step({ stats: true });
    let calls = 1;
    for (let t0 = performance.now(); performance.now() - t0 < targetMs; calls++) opt.stats();
    const samples = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) opt.stats();
      samples.push(((performance.now() - t0) * 1e3) / calls);
    }
    return { usPerCall: median(samples), samples, callsPerSample: calls };
  } finally {
    opt.dispose();
  }
}
