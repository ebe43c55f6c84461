/**
 * Property: a scheduler's stateDict(), through JSON, taken mid-schedule and loaded into a fresh
 * scheduler on a fresh optimizer (restored with loadState, which brings lr and initial_lr),
 * continues bit-identically to the one that never stopped. For every scheduler, with random
 * options, stop points and metrics.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Adadelta,
  ChainedScheduler,
  ConstantLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  CyclicLR,
  ExponentialLR,
  LambdaLR,
  LinearLR,
  MultiplicativeLR,
  MultiStepLR,
  OneCycleLR,
  PolynomialLR,
  ReduceLROnPlateau,
  SequentialLR,
  StepLR,
  type LRScheduler,
} from '../dist/index.js';

type Sched = LRScheduler | ReduceLROnPlateau;
type Make = (opt: Adadelta) => Sched;

const factor = fc.double({ min: 0.05, max: 1, noNaN: true });
const gamma = fc.double({ min: 0.5, max: 1.2, noNaN: true });
const small = fc.integer({ min: 1, max: 12 });

/** Each scheduler, as an arbitrary of factories with random options. */
const makers: fc.Arbitrary<Make>[] = [
  fc.tuple(small, gamma).map(([stepSize, g]) => (opt: Adadelta) => new StepLR(opt, { stepSize, gamma: g })),
  fc.tuple(fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 5 }), gamma).map(([m, g]) => (opt: Adadelta) => new MultiStepLR(opt, { milestones: [...m].sort((a, b) => a - b), gamma: g })),
  fc.tuple(factor, small).map(([f, totalIters]) => (opt: Adadelta) => new ConstantLR(opt, { factor: f, totalIters })),
  fc.tuple(factor, factor, small).map(([startFactor, endFactor, totalIters]) => (opt: Adadelta) => new LinearLR(opt, { startFactor, endFactor, totalIters })),
  gamma.map((g) => (opt: Adadelta) => new ExponentialLR(opt, { gamma: g })),
  fc.tuple(small, fc.double({ min: 0, max: 3, noNaN: true })).map(([totalIters, power]) => (opt: Adadelta) => new PolynomialLR(opt, { totalIters, power })),
  fc.tuple(small, fc.double({ min: 0, max: 0.1, noNaN: true })).map(([tMax, etaMin]) => (opt: Adadelta) => new CosineAnnealingLR(opt, { tMax, etaMin })),
  fc.tuple(small, fc.integer({ min: 1, max: 3 })).map(([t0, tMult]) => (opt: Adadelta) => new CosineAnnealingWarmRestarts(opt, { t0, tMult, etaMin: 0.001 })),
  fc.tuple(small, fc.constantFrom('triangular', 'triangular2', 'exp_range') as fc.Arbitrary<'triangular' | 'triangular2' | 'exp_range'>).map(([up, mode]) => (opt: Adadelta) => new CyclicLR(opt, { baseLr: [0.01, 0.02], maxLr: 1, stepSizeUp: up, mode, gamma: 0.97 })),
  fc.tuple(fc.boolean(), fc.constantFrom('cos', 'linear') as fc.Arbitrary<'cos' | 'linear'>).map(([threePhase, annealStrategy]) => (opt: Adadelta) => new OneCycleLR(opt, { maxLr: [1, 0.5], totalSteps: 60, threePhase, annealStrategy })),
  gamma.map((g) => (opt: Adadelta) => new LambdaLR(opt, { lrLambda: (e) => g ** e })),
  gamma.map((g) => (opt: Adadelta) => new MultiplicativeLR(opt, { lrLambda: [() => g, (e) => (e % 2 ? 1 : g)] })),
  fc.tuple(small, fc.integer({ min: 0, max: 3 })).map(([patience, cooldown]) => (opt: Adadelta) => new ReduceLROnPlateau(opt, { patience, cooldown, factor: 0.5, minLr: [0, 0.01] })),
  small.map((m) => (opt: Adadelta) => new SequentialLR(opt, { schedulers: [new LinearLR(opt, { startFactor: 0.1, totalIters: m }), new CosineAnnealingWarmRestarts(opt, { t0: 5, tMult: 2 })], milestones: [m] })),
  gamma.map((g) => (opt: Adadelta) => new ChainedScheduler([new ConstantLR(opt, { factor: 0.5, totalIters: 3 }), new ExponentialLR(opt, { gamma: g })])),
];

const metric = (t: number) => 1 / (1 + t) + ((t * 7) % 5) * 0.01;

function advance(s: Sched, t: number): void {
  if (s instanceof ReduceLROnPlateau) s.step(metric(t));
  else s.step();
}

describe('scheduler stateDict round trip', () => {
  it('a state saved mid-schedule, loaded into a fresh scheduler and optimizer, continues identically', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(...makers), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 25 }), async (make, stopAt, more) => {
        const groups = () => [{ params: [3], lr: 0.8 }, { params: [2], lr: 0.3 }];
        const a = await Adadelta.create(groups());
        const sa = make(a);
        for (let t = 0; t < stopAt; t++) advance(sa, t);
        const saved = JSON.parse(JSON.stringify(sa.stateDict()));

        const b = await Adadelta.create([{ params: [3] }, { params: [2] }]);
        const sb = make(b);
        b.loadState(a.saveState());
        sb.loadStateDict(saved);
        expect(sb.stateDict()).toEqual(sa.stateDict());
        for (let t = stopAt; t < stopAt + more; t++) {
          advance(sa, t);
          advance(sb, t);
          b.paramGroups.forEach((g, i) => {
            expect(Object.is(g.lr, a.paramGroups[i]!.lr), `lr of group ${i} at step ${t + 1}`).toBe(true);
            expect(g.initialLr).toBe(a.paramGroups[i]!.initialLr);
          });
          expect(sb.getLastLr()).toEqual(sa.getLastLr());
        }
        a.dispose();
        b.dispose();
      }),
      { numRuns: 300 },
    );
  });
});
