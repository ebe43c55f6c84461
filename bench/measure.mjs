/**
 * Interleaved timing: every implementation of a block is set up first, then each repetition
 * times each implementation once, in an order rotated every repetition, so that drift (turbo,
 * thermal, a neighbour's load) hits all of them alike. The figure is the median ns per param.
 */

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `step` until `ms` have passed (at least `minSteps` times); returns ms per step. */
async function warmUp(inst, ms, minSteps) {
  await inst.activate?.();
  let steps = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (steps < minSteps || elapsed < ms) {
    inst.step();
    steps++;
    elapsed = performance.now() - t0;
  }
  return elapsed / steps;
}

/**
 * Measures `entries` ({ key, impl, inst, params }) of one block interleaved, `reps` times,
 * each measurement lasting about `targetMs` (at least one step). Calls `progress(line)` once
 * per measurement. Returns, per entry, { nsPerParam, samples, itersPerSample }.
 */
export async function measureInterleaved(entries, { reps, targetMs, warmMs, progress }) {
  for (const e of entries) {
    const msPerStep = await warmUp(e.inst, warmMs, 2);
    e.iters = Math.max(1, Math.round(targetMs / msPerStep));
    e.samples = [];
  }
  for (let rep = 0; rep < reps; rep++) {
    for (let k = 0; k < entries.length; k++) {
      const e = entries[(k + rep) % entries.length];
      await e.inst.activate?.();
      const t0 = performance.now();
      for (let i = 0; i < e.iters; i++) e.inst.step();
      const ns = ((performance.now() - t0) * 1e6) / e.iters / e.params;
      e.samples.push(ns);
      progress(`${e.key.padStart(9)}  rep ${String(rep + 1).padStart(2)}/${reps}  ${e.impl.label.padEnd(36)} ${ns.toFixed(3).padStart(9)} ns/param  (${e.iters} steps)`);
    }
  }
  return entries.map((e) => ({ nsPerParam: median(e.samples), samples: e.samples, itersPerSample: e.iters }));
}
