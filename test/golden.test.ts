/** Every case of the PyTorch golden vectors, through the public API, for both builds. */
import { describe, expect, it } from 'vitest';
import { Adadelta } from '../dist/index.js';
import { firstMiss, loadGolden } from './helpers/golden.js';

const cases = loadGolden();

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
    const expectedByStep = new Map(c.expected.map((e) => [e.step, e]));
    let checked = 0;
    for (let t = 0; t < c.steps; t++) {
      opt.params.forEach((p, i) => p.grad.set(c.grads[i]![t]!));
      opt.step();
      const e = expectedByStep.get(t + 1);
      if (!e) continue;
      opt.params.forEach((p, i) => {
        const s = opt.state(i);
        expect(s.step).toBe(t + 1);
        expect(firstMiss(p.data, e.params[i]!), `params[${i}] after step ${t + 1}`).toBeUndefined();
        expect(firstMiss(s.squareAvg, e.square_avg[i]!), `square_avg[${i}] after step ${t + 1}`).toBeUndefined();
        expect(firstMiss(s.accDelta, e.acc_delta[i]!), `acc_delta[${i}] after step ${t + 1}`).toBeUndefined();
      });
      checked++;
    }
    expect(checked).toBe(c.expected.length);
    opt.dispose();
  });
});
