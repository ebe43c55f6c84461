/** Adadelta.createSync: synchronous creation once the kernel is compiled (for tf.js). */
import { describe, expect, it } from 'vitest';
import { Adadelta, AdadeltaError } from '../dist/index.js';

describe('createSync', () => {
  it('needs a compiled kernel, then equals create', async () => {
    // This file runs in its own process: nothing has compiled the plain kernel yet.
    expect(() => Adadelta.createSync([4], { build: 'plain' })).toThrow(AdadeltaError);
    expect(() => Adadelta.createSync([4], { build: 'plain' })).toThrow(/prepare/);
    await Adadelta.prepare('plain');
    const init = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i));
    const sync = Adadelta.createSync([init], { build: 'plain', lr: 0.5 });
    const async_ = await Adadelta.create([init], { build: 'plain', lr: 0.5 });
    for (let t = 0; t < 3; t++) {
      for (const o of [sync, async_]) o.params[0]!.grad.set(init.map((x) => x * (t + 1)));
      sync.step();
      async_.step();
    }
    expect(Array.from(sync.params[0]!.data)).toEqual(Array.from(async_.params[0]!.data));
    expect(sync.build).toBe('plain');
    sync.dispose();
    async_.dispose();
  });

  it('validates like create and runs one thread only', async () => {
    await Adadelta.prepare();
    expect(() => Adadelta.createSync([0])).toThrow(/params\[0\]/);
    expect(() => Adadelta.createSync([4], { lr: -1 })).toThrow(/defaults\.lr/);
    expect(() => Adadelta.createSync([4], { threads: 2 })).toThrow(/defaults\.threads/);
    const opt = Adadelta.createSync([4], { threads: 1 });
    expect(opt.threads).toBe(1);
    opt.dispose();
  });
});

describe('create() input handling', () => {
  it('copies Float32Array params when called, not when it resolves', async () => {
    const init = new Float32Array([1, 2, 3]);
    const pending = Adadelta.create([init]);
    init[0] = 42;
    const opt = await pending;
    expect(Array.from(opt.params[0]!.data)).toEqual([1, 2, 3]);
    opt.dispose();
  });

  it('validates step options', async () => {
    const opt = await Adadelta.create([4]);
    expect(() => opt.step(42 as never)).toThrow(/step options/);
    expect(() => opt.step({ stats: 'yes' as never })).toThrow(/stats/);
    expect(opt.state(0).step).toBe(0);
    await expect(Adadelta.prepare('bogus' as never)).rejects.toThrow(/build/);
    opt.dispose();
    expect(() => opt.size).toThrow(AdadeltaError);
    expect(() => opt.build).toThrow(AdadeltaError);
  });
});
