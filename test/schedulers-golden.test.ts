/**
 * Every LR scheduler against torch.optim.lr_scheduler itself: test/golden/torch-schedulers.json
 * (made by test/interop/golden_schedulers.py) records, per case, the group lrs and initial_lr
 * after construction and the lrs and get_last_lr() after each of 40 steps, on two groups with
 * different lrs. Ours must match within 1e-12 relative: the same float64 formulas, where only
 * Math.cos / ** may differ from C's libm by an ulp. torch's own state_dict() (as JSON) taken
 * mid-schedule must load into ours and go on to the same lrs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as lib from '../dist/index.js';
import { Adadelta } from '../dist/index.js';

interface Spec {
  type: string;
  kwargs: Record<string, unknown>;
}
interface Case {
  name: string;
  scheduler: Spec;
  group_lrs: number[];
  preset_initial_lr?: number[];
  initial_lr: (number | null)[];
  metrics?: number[];
  lrs: number[][];
  last_lr: number[][];
  /** torch's scheduler.state_dict() after `step` steps, through json; null where json cannot hold it. */
  state_at: { step: number; state: Record<string, unknown> } | null;
}

const golden = JSON.parse(readFileSync(new URL('golden/torch-schedulers.json', import.meta.url), 'utf8')) as { steps: number; cases: Case[] };

/** The same table as FNS in golden_schedulers.py. */
const FNS: Record<string, (epoch: number) => number> = {
  pow95: (epoch) => 0.95 ** epoch,
  warmup10: (epoch) => Math.min(1.0, (epoch + 1) / 10),
  const97: () => 0.97,
  alternate: (epoch) => (epoch % 2 === 0 ? 1.1 : 0.85),
};

/** torch's keyword to ours: step_size_up -> stepSizeUp, T_max -> tMax, T_0 -> t0. */
export const camel = (key: string) => key.split('_').map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1))).join('');

function value(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(value);
  if (v !== null && typeof v === 'object' && 'fn' in v) return FNS[(v as { fn: string }).fn];
  return v;
}

type Ctor = new (...args: unknown[]) => lib.LRScheduler | lib.ReduceLROnPlateau;

export function build(spec: Spec, opt: Adadelta): lib.LRScheduler | lib.ReduceLROnPlateau {
  const opts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec.kwargs)) opts[camel(k)] = k === 'schedulers' ? (v as Spec[]).map((s) => build(s, opt)) : value(v);
  const Class = (lib as unknown as Record<string, Ctor>)[spec.type]!;
  expect(Class, spec.type).toBeTypeOf('function');
  if (spec.type === 'ChainedScheduler') return new Class(opts.schedulers);
  return new Class(opt, opts);
}

/** |a - e| <= 1e-12 |e| for each lr (so a 0 must be 0). */
function expectClose(actual: number[], expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, g) => {
    const e = expected[g]!;
    if (!(Math.abs(a - e) <= 1e-12 * Math.abs(e))) expect.fail(`${what}, group ${g}: ${a} vs torch ${e} (relative ${Math.abs(a - e) / Math.abs(e)})`);
  });
}

describe('LR schedulers match torch.optim.lr_scheduler', () => {
  it('covers every exported scheduler', () => {
    const types = new Set<string>();
    const walk = (s: Spec): void => {
      types.add(s.type);
      ((s.kwargs.schedulers as Spec[] | undefined) ?? []).forEach(walk);
    };
    golden.cases.forEach((c) => walk(c.scheduler));
    expect([...types].sort()).toEqual(
      ['LambdaLR', 'MultiplicativeLR', 'StepLR', 'MultiStepLR', 'ConstantLR', 'LinearLR', 'ExponentialLR', 'PolynomialLR', 'CosineAnnealingLR', 'CosineAnnealingWarmRestarts', 'CyclicLR', 'OneCycleLR', 'SequentialLR', 'ChainedScheduler', 'ReduceLROnPlateau'].sort(),
    );
    expect(golden.steps).toBe(40);
  });

  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const opt = await Adadelta.create(c.group_lrs.map((lr) => ({ params: [2], lr })));
    c.preset_initial_lr?.forEach((lr, g) => (opt.paramGroups[g]!.initialLr = lr));
    const sched = build(c.scheduler, opt);
    expect(opt.paramGroups.map((g) => g.initialLr ?? null), 'initial_lr').toEqual(c.initial_lr);
    const lrs = () => opt.paramGroups.map((g) => g.lr);
    expectClose(lrs(), c.lrs[0]!, 'lrs after construction');
    expectClose(sched.getLastLr(), c.last_lr[0]!, 'getLastLr() after construction');
    for (let t = 0; t < golden.steps; t++) {
      opt.step();
      if (sched instanceof lib.ReduceLROnPlateau) sched.step(c.metrics![t]!);
      else sched.step();
      expectClose(lrs(), c.lrs[t + 1]!, `lrs after step ${t + 1}`);
      expectClose(sched.getLastLr(), c.last_lr[t + 1]!, `getLastLr() after step ${t + 1}`);
    }
    opt.dispose();
  });
});

describe("torch's scheduler state_dict, as JSON, loads into ours and continues as torch does", () => {
  const resumable = golden.cases.filter((c) => c.state_at !== null);

  it('holds every scheduler but ReduceLROnPlateau (its state has infinities, which JSON has not)', () => {
    expect(golden.cases.filter((c) => c.state_at === null).map((c) => c.scheduler.type)).toEqual(['ReduceLROnPlateau', 'ReduceLROnPlateau', 'ReduceLROnPlateau']);
  });

  it.each(resumable.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { step, state } = c.state_at!;
    const opt = await Adadelta.create(c.group_lrs.map((lr) => ({ params: [2], lr })));
    c.preset_initial_lr?.forEach((lr, g) => (opt.paramGroups[g]!.initialLr = lr));
    const sched = build(c.scheduler, opt) as lib.LRScheduler;
    // What torch's optimizer.load_state_dict brings back: each group's lr and initial_lr.
    opt.paramGroups.forEach((g, i) => {
      g.lr = c.lrs[step]![i]!;
      g.initialLr = c.initial_lr[i] ?? undefined;
    });
    sched.loadStateDict(state);
    expectClose(sched.getLastLr(), c.last_lr[step]!, 'getLastLr() after loading');
    for (let t = step; t < golden.steps; t++) {
      sched.step();
      expectClose(opt.paramGroups.map((g) => g.lr), c.lrs[t + 1]!, `lrs after step ${t + 1}`);
    }
    opt.dispose();
  });
});
