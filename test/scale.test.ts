/** Scale: 2e8 params (3.2 GB of wasm memory) work; past wasm32's 4 GiB creation fails cleanly. */
import { describe, expect, it } from 'vitest';
import { Adadelta, AdadeltaError } from '../dist/index.js';

describe('scale', () => {
  it('creates and steps an optimizer of 2e8 params, on one thread and on two', async () => {
    for (const threads of [1, 2]) {
      const opt = await Adadelta.create([2e8], { threads });
      expect(opt.threads).toBe(threads);
      const { data, grad } = opt.params[0]!;
      expect(data.length).toBe(2e8);
      grad.fill(1);
      grad[199_999_999] = -1;
      opt.step();
      // The first step is about lr*sqrt(eps/(1-rho)) against the gradient, at both ends.
      expect(data[0]).toBeCloseTo(-Math.sqrt(1e-6 / 0.1), 6);
      expect(data[199_999_999]).toBeCloseTo(Math.sqrt(1e-6 / 0.1), 6);
      opt.dispose();
    }
  });

  it('refuses more than 4 GiB with an AdadeltaError naming the size and the limit, and leaks nothing', async () => {
    for (const groups of [[3e8], [2e8, 7e7]]) {
      const error = await Adadelta.create(groups).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AdadeltaError);
      expect((error as Error).message).toMatch(/need \d+ bytes/);
      expect((error as Error).message).toContain('4294967296');
    }
    // Nothing was left behind: a large optimizer still fits right after.
    const opt = await Adadelta.create([2e8]);
    opt.params[0]!.grad.fill(1);
    opt.step();
    expect(opt.params[0]!.data[0]).toBeLessThan(0);
    opt.dispose();
  });
});
