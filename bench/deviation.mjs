/**
 * How far each implementation lands from torch.optim.Adadelta after 10 steps on a small fixed
 * problem, against a float64 evaluation of torch's formula (two square roots, as torch does).
 * tf.js divides by the *previous* E[g²]: its first step is `p -= lr * g`, and since E[Δx²] then
 * trails E[g²] by one step, the ratio of the two roots stays near 1, which is SGD. This makes
 * that visible.
 */
import { uniform } from './data.mjs';
import { HYPER } from './implementations.mjs';
import { createOurs } from './ours.mjs';
import { createPlainJs } from './plain-js.mjs';
import { createTfjs, createTfjsAdapter } from './tfjs.mjs';
import { torchReference } from './torch-reference.mjs';

export const PROBLEM = Object.freeze({ params: 1000, steps: 10, seed: 4242, ...HYPER });

/** Runs `steps` steps of an instance with `setGrads`/`step`/`read` and returns the params. */
async function run(inst, gradsByStep) {
  for (const g of gradsByStep) {
    inst.setGrads([g]);
    await inst.activate?.();
    inst.step();
  }
  const [out] = inst.read();
  inst.dispose();
  return out;
}

function compare(actual, expected, p0) {
  let maxAbs = 0;
  let maxTol = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    maxAbs = Math.max(maxAbs, diff);
    maxTol = Math.max(maxTol, diff / (1e-6 + 1e-5 * Math.abs(expected[i])));
  }
  let maxMove = 0;
  for (let i = 0; i < p0.length; i++) maxMove = Math.max(maxMove, Math.abs(actual[i] - p0[i]));
  return { maxAbs, maxTolerance: maxTol, maxMove };
}

/** Each peer's deviation from torch's formula: { id, label, maxAbs, maxTolerance, maxMove }. */
export async function deviations({ withThreads }) {
  const { params: n, steps, seed } = PROBLEM;
  const p0 = uniform(n, 1, seed);
  const gradsByStep = Array.from({ length: steps }, (_, t) => uniform(n, 1, seed + 1 + t));
  const reference = torchReference(p0, gradsByStep, HYPER);

  const plain = createPlainJs([p0], HYPER);
  const peers = [
    ['plain-js', 'plain JS Float32Array loop', { setGrads: ([g]) => plain.params[0].grad.set(g), step: plain.step, read: () => [plain.params[0].data], dispose() {} }],
    ['tfjs-cpu', 'tf.js cpu', await createTfjs('cpu', [p0], HYPER)],
    ['tfjs-wasm', 'tf.js wasm', await createTfjs('wasm', [p0], HYPER)],
    ['adapter-tfjs-cpu', 'adapter on tf.js cpu', await createTfjsAdapter('cpu', [p0], HYPER)],
    ['adapter-tfjs-wasm', 'adapter on tf.js wasm', await createTfjsAdapter('wasm', [p0], HYPER)],
    ['ours-plain', "ours 'plain'", await createOurs([p0], HYPER, { build: 'plain' })],
    ['ours-simd', "ours 'simd'", await createOurs([p0], HYPER, { build: 'simd' })],
  ];
  if (withThreads) peers.push(['ours-simd-2t', "ours 'simd', 2 threads", await createOurs([p0], HYPER, { build: 'simd', threads: 2 })]);

  const rows = [];
  for (const [id, label, inst] of peers) rows.push({ id, label, ...compare(await run(inst, gradsByStep), reference, p0) });
  const torchMove = compare(reference, reference, p0).maxMove;
  const ours = rows.find((r) => r.id === 'ours-simd');
  for (const r of rows) r.vsOurs = r.maxAbs / ours.maxAbs;
  return { problem: PROBLEM, torchMaxMove: torchMove, rows };
}
