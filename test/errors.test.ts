/**
 * Every validation error and every use after dispose: each must be an AdadeltaError (an Error
 * named 'AdadeltaError') whose `.field` and message name what was wrong.
 */
import { describe, expect, it } from 'vitest';
import { Adadelta, AdadeltaError } from '../dist/index.js';
import { firstBitDifference } from './helpers/reference.js';

function checkError(e: unknown, field: string, mentions?: string): void {
  expect(e, `expected an AdadeltaError for ${field}`).toBeInstanceOf(AdadeltaError);
  expect(e).toBeInstanceOf(Error);
  const err = e as AdadeltaError;
  expect(err.name).toBe('AdadeltaError');
  expect(err.field).toBe(field);
  expect(err.message).toContain(field);
  if (mentions !== undefined) expect(err.message).toContain(mentions);
}

async function expectRejects(promise: Promise<unknown>, field: string, mentions?: string): Promise<void> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) {
    (outcome.value as Adadelta).dispose?.();
    expect.fail(`expected Adadelta.create to reject naming ${field}`);
  }
  checkError(outcome.error, field, mentions);
}

function expectThrows(fn: () => unknown, field: string | undefined, mentions?: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  if (field === undefined) {
    expect(error).toBeInstanceOf(AdadeltaError);
    expect((error as Error).name).toBe('AdadeltaError');
    if (mentions !== undefined) expect((error as Error).message).toContain(mentions);
  } else {
    checkError(error, field, mentions);
  }
}

type NumericKey = 'lr' | 'rho' | 'eps' | 'weightDecay';
const NON_FINITE = [NaN, Infinity, -Infinity];
const NOT_A_NUMBER = ['0.1', null, true, {}];
/** Invalid values of each hyperparameter. */
const INVALID: Record<NumericKey | 'maximize', unknown[]> = {
  lr: [-1, -1e-300, ...NON_FINITE, ...NOT_A_NUMBER],
  rho: [-0.1, -1e-300, 1.0000001, 2, ...NON_FINITE, ...NOT_A_NUMBER],
  eps: [-1e-8, ...NON_FINITE, ...NOT_A_NUMBER],
  weightDecay: [-0.01, ...NON_FINITE, ...NOT_A_NUMBER],
  maximize: ['yes', 1, 0, null, 'false'],
};
const KEYS = Object.keys(INVALID) as (keyof typeof INVALID)[];
const cases = KEYS.flatMap((key) => INVALID[key].map((value) => [key, value] as const));
const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

describe('Adadelta.create validates hyperparameters', () => {
  it.each(cases.map(([k, v]) => [k, show(v), v] as const))('defaults.%s = %s', async (key, _shown, value) => {
    await expectRejects(Adadelta.create([4], { [key]: value }), `defaults.${key}`);
  });

  it.each(cases.map(([k, v]) => [k, show(v), v] as const))('groups[1].%s = %s', async (key, _shown, value) => {
    await expectRejects(Adadelta.create([{ params: [4] }, { params: [2, 3], [key]: value }]), `groups[1].${key}`);
  });

  it('accepts the edges of every valid range', async () => {
    const opt = await Adadelta.create([{ params: [3], lr: 0, rho: 0, eps: 0, weightDecay: 0 }, { params: [3], rho: 1, lr: 1e300, eps: 1e300, weightDecay: 1e300, maximize: true }]);
    expect(opt.paramGroups.map((g) => g.rho)).toEqual([0, 1]);
    expect(opt.paramGroups[1]!.lr).toBe(1e300);
    opt.dispose();
  });
});

describe('Adadelta.create validates params and groups', () => {
  it.each([
    ['length 0', 0],
    ['a non-integer length', 1.5],
    ['a negative length', -3],
    ['a NaN length', NaN],
    ['an infinite length', Infinity],
    ['an empty Float32Array', new Float32Array(0)],
    ['a Float64Array', new Float64Array(3)],
    ['a plain array', [1, 2, 3]],
    ['a string length', '3'],
    ['undefined', undefined],
  ])('rejects %s as a param, naming it', async (_what, bad) => {
    await expectRejects(Adadelta.create([new Float32Array(2), bad as never]), 'params[1]');
    await expectRejects(Adadelta.create([{ params: [2] }, { params: [bad as never] }]), 'groups[1].params[0]');
  });

  it('rejects empty or missing group lists', async () => {
    await expectRejects(Adadelta.create([]), 'groups', 'non-empty');
    await expectRejects(Adadelta.create(undefined as never), 'groups');
    await expectRejects(Adadelta.create(new Float32Array(3) as never), 'groups');
    await expectRejects(Adadelta.create({ params: [3] } as never), 'groups');
  });

  it('rejects a group with no params', async () => {
    await expectRejects(Adadelta.create([{ params: [] }]), 'groups[0].params', 'at least one');
    await expectRejects(Adadelta.create([{ params: [2] }, { lr: 0.1 } as never]), 'groups[1].params');
    await expectRejects(Adadelta.create([{ params: new Float32Array(3) as never }]), 'groups[0].params');
  });

  it('rejects holes in the lists of params and groups, naming the index (saveState would write invalid JSON)', async () => {
    // eslint-disable-next-line no-sparse-arrays
    await expectRejects(Adadelta.create([3, , 4] as never), 'params[1]', 'hole');
    // eslint-disable-next-line no-sparse-arrays
    await expectRejects(Adadelta.create([{ params: [2] }, , { params: [3] }] as never), 'groups[1]', 'hole');
    // eslint-disable-next-line no-sparse-arrays
    await expectRejects(Adadelta.create([{ params: [2, , 5] }] as never), 'groups[0].params[1]', 'hole');
    await expectRejects(Adadelta.create(new Array(2) as never), 'params[0]', 'hole');
  });

  it('rejects a list mixing groups and params', async () => {
    await expectRejects(Adadelta.create([{ params: [2] }, 3] as never), 'groups[1]');
  });

  it('rejects unknown option keys, naming the key (typos do not pass silently)', async () => {
    await expectRejects(Adadelta.create([3], { learningRate: 0.1 } as never), 'defaults', '"learningRate"');
    await expectRejects(Adadelta.create([3], { weight_decay: 0.1 } as never), 'defaults', '"weight_decay"');
    await expectRejects(Adadelta.create([{ params: [3], learningRate: 0.1 } as never]), 'groups[0]', '"learningRate"');
    await expectRejects(Adadelta.create([{ params: [3], build: 'plain' } as never]), 'groups[0]', '"build"');
  });

  it('rejects a bad build and non-object defaults', async () => {
    for (const build of ['gpu', 'SIMD', '', 1, null]) {
      await expectRejects(Adadelta.create([3], { build: build as never }), 'defaults.build');
    }
    for (const defaults of [5, 'fast', [], null, new Float32Array(1)]) {
      await expectRejects(Adadelta.create([3], defaults as never), 'defaults');
    }
  });

  it('rejects params that cannot fit in wasm32 memory, before allocating', async () => {
    await expectRejects(Adadelta.create([2 ** 30]), 'groups', '4 GiB');
  });
});

describe('paramGroups setters', () => {
  it.each(KEYS)('an invalid %s throws, keeps the old value, and the next step uses the old value', async (key) => {
    const init = Float32Array.from({ length: 11 }, (_, i) => (i - 5) / 3);
    const groups = () => [{ params: [init], lr: 0.7, rho: 0.8, eps: 1e-5, weightDecay: 0.02, maximize: false }];
    const opt = await Adadelta.create(groups());
    const twin = await Adadelta.create(groups());
    const group = opt.paramGroups[0]!;
    const before = group[key];
    for (const value of INVALID[key]) {
      expectThrows(() => {
        (group as unknown as Record<string, unknown>)[key] = value;
      }, `paramGroups[0].${key}`);
      expect(group[key]).toBe(before);
    }
    const step = () => {
      for (const o of [opt, twin]) {
        o.params[0]!.grad.set(init.map((x) => x * 2 - 0.1));
        o.step();
      }
    };
    step();
    step();
    expect(firstBitDifference(opt.params[0]!.data, twin.params[0]!.data)).toBeUndefined();
    expect(firstBitDifference(opt.state(0).squareAvg, twin.state(0).squareAvg)).toBeUndefined();
    expect(firstBitDifference(opt.state(0).accDelta, twin.state(0).accDelta)).toBeUndefined();
    // The comparison can tell: a valid change does reach the next step.
    (group as unknown as Record<string, unknown>)[key] = key === 'maximize' ? true : key === 'rho' ? 0.5 : 0.3;
    step();
    expect(firstBitDifference(opt.params[0]!.data, twin.params[0]!.data)).toBeDefined();
    opt.dispose();
    twin.dispose();
  });
});

describe('step options', () => {
  it('rejects unknown keys, naming the key (a typo does not run a plain step silently), and changes nothing', async () => {
    const opt = await Adadelta.create([new Float32Array([1, 2, 3])]);
    opt.params[0]!.grad.fill(1);
    for (const options of [{ stat: true }, { stats: true, stalledbelow: 1e-3 }, { clip: 1 }]) {
      expectThrows(() => opt.step(options as never), 'step options', JSON.stringify(Object.keys(options).at(-1)));
      await expect(opt.stepAsync(options as never)).rejects.toThrow(/step options: unknown option/);
    }
    expect([...opt.params[0]!.data]).toEqual([1, 2, 3]);
    expect(opt.state(0).step).toBe(0);
    opt.step({ stats: true, stalledBelow: 1e-3 });
    expect(opt.state(0).step).toBe(1);
    opt.dispose();
  });
});

describe('paramGroups[g].params', () => {
  it('is read-only: a write throws AdadeltaError and the optimizer still loads its own checkpoints', async () => {
    const opt = await Adadelta.create([{ params: [2, 3] }, { params: [4] }]);
    const saved = opt.saveState();
    expectThrows(() => {
      (opt.paramGroups[0] as unknown as { params: number[] }).params = [1, 0];
    }, 'paramGroups[0].params', 'read-only');
    expect(opt.paramGroups[0]!.params).toEqual([0, 1]);
    expect(() => (opt.paramGroups[1]!.params as number[]).push(7)).toThrow(TypeError);
    expect(() => opt.loadState(saved)).not.toThrow();
    opt.dispose();
  });

  it('and a param\'s length and group cannot be rewritten', async () => {
    const opt = await Adadelta.create([{ params: [2] }, { params: [4] }]);
    const p = opt.params[1]! as unknown as { length: number; group: number };
    expect(() => {
      p.length = 9;
    }).toThrow(TypeError);
    expect(() => {
      p.group = 0;
    }).toThrow(TypeError);
    expect([p.length, p.group]).toEqual([4, 1]);
    opt.dispose();
  });
});

describe('use after dispose', () => {
  it('every method, getter, view and group throws AdadeltaError; outstanding views are detached', async () => {
    const opt = await Adadelta.create([{ params: [new Float32Array([1, 2, 3]), 5] }, { params: [9], lr: 0.5 }]);
    const [p0] = opt.params;
    const data = p0!.data, grad = p0!.grad;
    const group = opt.paramGroups[1]!;
    p0!.grad.fill(1);
    opt.step();
    const copy = opt.state(0);
    opt.dispose();

    expectThrows(() => opt.step(), undefined, 'disposed');
    await expect(opt.stepAsync()).rejects.toBeInstanceOf(AdadeltaError);
    expectThrows(() => opt.zeroGrad(), undefined, 'disposed');
    expectThrows(() => opt.state(0), undefined, 'disposed');
    expectThrows(() => opt.params, undefined, 'disposed');
    expectThrows(() => opt.paramGroups, undefined, 'disposed');
    expectThrows(() => p0!.data, undefined, 'disposed');
    expectThrows(() => p0!.grad, undefined, 'disposed');
    expectThrows(() => group.lr, undefined, 'disposed');
    expectThrows(() => group.params, undefined, 'disposed');
    expectThrows(() => group.toJSON(), undefined, 'disposed');
    expectThrows(() => JSON.stringify(group), undefined, 'disposed');
    expectThrows(() => p0!.length, undefined, 'disposed');
    expectThrows(() => p0!.group, undefined, 'disposed');
    expectThrows(() => {
      group.lr = 0.1;
    }, undefined, 'disposed');
    expectThrows(() => {
      group.maximize = true;
    }, undefined, 'disposed');

    // Views taken before dispose are detached: length 0, and writes land nowhere.
    expect(data.length).toBe(0);
    expect(grad.length).toBe(0);
    grad[0] = 42;
    expect(grad[0]).toBeUndefined();
    // state() gave a copy, which outlives the optimizer.
    expect(copy.squareAvg.length).toBe(3);
    expect(copy.step).toBe(1);
  });

  it('dispose twice is harmless, and Symbol.dispose disposes', async () => {
    const opt = await Adadelta.create([4]);
    const data = opt.params[0]!.data;
    opt.dispose();
    expect(() => opt.dispose()).not.toThrow();

    const other = await Adadelta.create([4]);
    const view = other.params[0]!.data;
    expect(typeof other[Symbol.dispose]).toBe('function');
    other[Symbol.dispose]();
    expect(view.length).toBe(0);
    expectThrows(() => other.step(), undefined, 'disposed');
    expect(() => other[Symbol.dispose]()).not.toThrow();
    expect(data.length).toBe(0);
  });
});

describe('state(i)', () => {
  it.each([-1, 3, 1.5, NaN, Infinity])('rejects the index %s, naming the valid range', async (i) => {
    const opt = await Adadelta.create([2, 3, 4]);
    expectThrows(() => opt.state(i), 'state', '0..2');
    opt.dispose();
  });
});
