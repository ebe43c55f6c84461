/** Every case of the PyTorch golden vectors (both files), through the public API, for both builds. */
import { describe, expect, it } from 'vitest';
import { Adadelta } from '../dist/index.js';
import { continueGolden, loadAllGolden } from './helpers/golden.js';

const cases = loadAllGolden();

describe.each(['simd', 'plain'] as const)('torch golden vectors, %s build', (build) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    let index = 0;
    const groups = c.groups.map((g) => ({
      params: g.sizes.map(() => c.params0[index++]!),
      lr: g.lr,
      rho: g.rho,
      eps: g.eps,
      weightDecay: g.weight_decay,
      maximize: g.maximize,
    }));
    const opt = await Adadelta.create(groups, { build });
    expect(opt.build).toBe(build);
    expect(continueGolden(opt, c, 0)).toBe(c.expected.length);
    opt.dispose();
  });
});
