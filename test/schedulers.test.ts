/**
 * LR schedulers beyond the golden lrs: every bad option and bad state dict is an AdadeltaError
 * naming the field that changes nothing, a step that fails changes nothing, torch's initial_lr
 * bookkeeping, and initial_lr in checkpoints.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  Adadelta,
  AdadeltaError,
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
} from '../dist/index.js';
import { splitFile, torchCheckpoint, torchGroup } from './helpers/safetensors.js';

const twoGroups = () => Adadelta.create([{ params: [2], lr: 0.9 }, { params: [3], lr: 0.3 }]);

/** What a scheduler or a failed call could have changed. */
const snapshot = (opt: Adadelta) => opt.paramGroups.map((g) => ({ lr: g.lr, initialLr: g.initialLr }));

function expectError(fn: () => unknown, field: string | undefined, mentions?: string | RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected an AdadeltaError naming ${field}`).toBeInstanceOf(AdadeltaError);
  if (field !== undefined) expect((error as AdadeltaError).field).toBe(field);
  if (mentions !== undefined) expect((error as Error).message).toMatch(mentions);
}

describe('scheduler options', () => {
  type Case = [string, (opt: Adadelta) => unknown, string, (string | RegExp)?];
  const cases: Case[] = [
    ['StepLR without stepSize', (o) => new StepLR(o, {} as never), 'StepLR.stepSize'],
    ['StepLR stepSize 0', (o) => new StepLR(o, { stepSize: 0 }), 'StepLR.stepSize', '>= 1'],
    ['StepLR stepSize 2.5', (o) => new StepLR(o, { stepSize: 2.5 }), 'StepLR.stepSize', 'whole'],
    ['StepLR negative gamma', (o) => new StepLR(o, { stepSize: 2, gamma: -0.5 }), 'StepLR.gamma'],
    ['StepLR NaN gamma', (o) => new StepLR(o, { stepSize: 2, gamma: NaN }), 'StepLR.gamma', 'finite'],
    ['an unknown option', (o) => new StepLR(o, { stepSize: 2, step_size: 3 } as never), 'StepLR.options', '"step_size"'],
    ['options not an object', (o) => new ExponentialLR(o, 0.9 as never), 'ExponentialLR.options'],
    ['lastEpoch -2', (o) => new ExponentialLR(o, { gamma: 0.9, lastEpoch: -2 }), 'ExponentialLR.lastEpoch'],
    ['a resume without initialLr', (o) => new StepLR(o, { stepSize: 2, lastEpoch: 4 }), 'paramGroups[0].initialLr', 'lastEpoch 4'],
    ['MultiStepLR decreasing milestones', (o) => new MultiStepLR(o, { milestones: [5, 3] }), 'MultiStepLR.milestones', 'non-decreasing'],
    ['MultiStepLR a fractional milestone', (o) => new MultiStepLR(o, { milestones: [1.5] }), 'MultiStepLR.milestones[0]'],
    ['ConstantLR factor above 1', (o) => new ConstantLR(o, { factor: 1.5 }), 'ConstantLR.factor', '<= 1'],
    ['LinearLR startFactor 0', (o) => new LinearLR(o, { startFactor: 0 }), 'LinearLR.startFactor', '> 0'],
    ['LinearLR endFactor above 1', (o) => new LinearLR(o, { endFactor: 1.1 }), 'LinearLR.endFactor'],
    ['PolynomialLR totalIters 0', (o) => new PolynomialLR(o, { totalIters: 0 }), 'PolynomialLR.totalIters'],
    ['CosineAnnealingLR without tMax', (o) => new CosineAnnealingLR(o, {} as never), 'CosineAnnealingLR.tMax'],
    ['CosineAnnealingWarmRestarts t0 0', (o) => new CosineAnnealingWarmRestarts(o, { t0: 0 }), 'CosineAnnealingWarmRestarts.t0'],
    ['CosineAnnealingWarmRestarts tMult 1.5', (o) => new CosineAnnealingWarmRestarts(o, { t0: 3, tMult: 1.5 }), 'CosineAnnealingWarmRestarts.tMult'],
    ['LambdaLR lrLambda not a function', (o) => new LambdaLR(o, { lrLambda: 0.5 as never }), 'LambdaLR.lrLambda', 'function'],
    ['LambdaLR one lambda too few', (o) => new LambdaLR(o, { lrLambda: [() => 1] }), 'LambdaLR.lrLambda', '2 param groups'],
    ['MultiplicativeLR a bad lambda in the list', (o) => new MultiplicativeLR(o, { lrLambda: [() => 1, 'x' as never] }), 'MultiplicativeLR.lrLambda[1]'],
    ['CyclicLR cycleMomentum true', (o) => new CyclicLR(o, { baseLr: 0.1, maxLr: 1, cycleMomentum: true as never }), 'CyclicLR.cycleMomentum', /Adadelta has no momentum/],
    ['CyclicLR a bad mode', (o) => new CyclicLR(o, { baseLr: 0.1, maxLr: 1, mode: 'sawtooth' as never }), 'CyclicLR.mode', '"triangular"'],
    ['CyclicLR maxLr list too long', (o) => new CyclicLR(o, { baseLr: 0.1, maxLr: [1, 1, 1] }), 'CyclicLR.maxLr', '3 values'],
    ['CyclicLR stepSizeUp 0', (o) => new CyclicLR(o, { baseLr: 0.1, maxLr: 1, stepSizeUp: 0 }), 'CyclicLR.stepSizeUp'],
    ['OneCycleLR without totalSteps nor epochs', (o) => new OneCycleLR(o, { maxLr: 1 }), 'OneCycleLR.totalSteps', 'epochs and stepsPerEpoch'],
    ['OneCycleLR epochs without stepsPerEpoch', (o) => new OneCycleLR(o, { maxLr: 1, epochs: 3 }), 'OneCycleLR.totalSteps'],
    ['OneCycleLR cycleMomentum true', (o) => new OneCycleLR(o, { maxLr: 1, totalSteps: 10, cycleMomentum: true as never }), 'OneCycleLR.cycleMomentum', /no momentum/],
    ['OneCycleLR pctStart 1.2', (o) => new OneCycleLR(o, { maxLr: 1, totalSteps: 10, pctStart: 1.2 }), 'OneCycleLR.pctStart'],
    ['OneCycleLR a bad annealStrategy', (o) => new OneCycleLR(o, { maxLr: 1, totalSteps: 10, annealStrategy: 'cosine' as never }), 'OneCycleLR.annealStrategy'],
    ['ReduceLROnPlateau factor 1', (o) => new ReduceLROnPlateau(o, { factor: 1 }), 'ReduceLROnPlateau.factor', '< 1'],
    ['ReduceLROnPlateau a bad mode', (o) => new ReduceLROnPlateau(o, { mode: 'least' as never }), 'ReduceLROnPlateau.mode'],
    ['ReduceLROnPlateau a bad thresholdMode', (o) => new ReduceLROnPlateau(o, { thresholdMode: 'relative' as never }), 'ReduceLROnPlateau.thresholdMode'],
    ['ReduceLROnPlateau minLr per group, one short', (o) => new ReduceLROnPlateau(o, { minLr: [0.1] }), 'ReduceLROnPlateau.minLr'],
    ['not an optimizer', () => new StepLR({} as never, { stepSize: 2 }), 'StepLR.optimizer'],
    ['SequentialLR no schedulers', (o) => new SequentialLR(o, { schedulers: [], milestones: [] }), 'SequentialLR.schedulers'],
    ['SequentialLR milestones not increasing', (o) => new SequentialLR(o, { schedulers: [new ConstantLR(o), new ExponentialLR(o, { gamma: 0.9 }), new ConstantLR(o)], milestones: [5, 5] }), 'SequentialLR.milestones', 'increasing'],
    ['SequentialLR one milestone too many', (o) => new SequentialLR(o, { schedulers: [new ConstantLR(o), new ExponentialLR(o, { gamma: 0.9 })], milestones: [3, 6] }), 'SequentialLR.milestones', 'one fewer'],
    ['SequentialLR with ReduceLROnPlateau', (o) => new SequentialLR(o, { schedulers: [new ConstantLR(o), new ReduceLROnPlateau(o) as never], milestones: [3] }), 'SequentialLR.schedulers[1]', 'ReduceLROnPlateau'],
    ['SequentialLR with a ChainedScheduler second', (o) => new SequentialLR(o, { schedulers: [new ConstantLR(o), new ChainedScheduler([new ExponentialLR(o, { gamma: 0.9 })])], milestones: [3] }), 'SequentialLR.schedulers[1]', 'first'],
    ['ChainedScheduler empty', () => new ChainedScheduler([]), 'ChainedScheduler.schedulers'],
  ];

  it.each(cases)('%s: AdadeltaError naming the option, and the optimizer unchanged', async (_name, make, field, mentions) => {
    const opt = await twoGroups();
    const before = snapshot(opt);
    expectError(() => make(opt), field, mentions);
    // Schedulers made inside the call (SequentialLR's) have run; only the failing one must not.
    if (!/SequentialLR|Chained/.test(field)) expect(snapshot(opt)).toEqual(before);
    opt.dispose();
  });

  it('schedulers of another optimizer cannot be chained or sequenced', async () => {
    const [a, b] = [await twoGroups(), await twoGroups()];
    const sa = new ExponentialLR(a, { gamma: 0.9 });
    const sb = new ExponentialLR(b, { gamma: 0.9 });
    expectError(() => new ChainedScheduler([sa, sb]), 'ChainedScheduler.schedulers[1]', 'another optimizer');
    expectError(() => new ChainedScheduler([sa], b), 'ChainedScheduler.schedulers[0]', 'another optimizer');
    expectError(() => new SequentialLR(a, { schedulers: [sa, sb], milestones: [2] }), 'SequentialLR.schedulers[1]', 'another optimizer');
    a.dispose();
    b.dispose();
  });

  it('cycleMomentum: false and momentum values are accepted, as torch takes them', async () => {
    const opt = await twoGroups();
    const s = new CyclicLR(opt, { baseLr: 0.1, maxLr: 1, stepSizeUp: 2, cycleMomentum: false, baseMomentum: 0.8, maxMomentum: [0.9, 0.95] });
    s.step();
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.55, 0.55]);
    opt.dispose();
  });
});

describe('initial_lr, as torch records it', () => {
  it('the first scheduler records each group lr; later ones keep it; OneCycleLR sets maxLr / divFactor', async () => {
    const opt = await twoGroups();
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([undefined, undefined]);
    expect(opt.paramGroups[0]!.toJSON()).not.toHaveProperty('initialLr');
    new StepLR(opt, { stepSize: 2 });
    opt.paramGroups[0]!.lr = 0.5;
    new ExponentialLR(opt, { gamma: 0.9 });
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([0.9, 0.3]);
    expect(opt.paramGroups[0]!.toJSON()).toMatchObject({ lr: 0.5, initialLr: 0.9 });
    new OneCycleLR(opt, { maxLr: [1, 0.5], totalSteps: 10 });
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([1 / 25, 0.5 / 25]);
    opt.dispose();
  });

  it('initialLr is validated on assignment and can be cleared', async () => {
    const opt = await twoGroups();
    opt.paramGroups[1]!.initialLr = 0.7;
    expectError(() => (opt.paramGroups[1]!.initialLr = -1), 'paramGroups[1].initialLr', '>= 0');
    expectError(() => (opt.paramGroups[1]!.initialLr = '0.1' as never), 'paramGroups[1].initialLr');
    expect(opt.paramGroups[1]!.initialLr).toBe(0.7);
    opt.paramGroups[1]!.initialLr = undefined;
    expect(opt.paramGroups[1]!.initialLr).toBeUndefined();
    opt.dispose();
  });

  it('saveState writes initial_lr into param_groups where set, and loadState reads it back', async () => {
    const opt = await twoGroups();
    expect(splitFile(opt.saveState()).header.__metadata__.param_groups).not.toContain('initial_lr');
    opt.paramGroups[0]!.initialLr = 0.9;
    const groups = JSON.parse(splitFile(opt.saveState()).header.__metadata__.param_groups);
    expect(groups[0]).toMatchObject({ lr: 0.9, initial_lr: 0.9, params: [0] });
    expect(groups[1]).not.toHaveProperty('initial_lr');
    const back = await Adadelta.create([{ params: [2] }, { params: [3] }]);
    back.paramGroups[1]!.initialLr = 2;
    back.loadState(opt.saveState());
    // As torch's load_state_dict: the checkpoint's groups replace ours, initial_lr with them.
    expect(snapshot(back)).toEqual([{ lr: 0.9, initialLr: 0.9 }, { lr: 0.3, initialLr: undefined }]);
    expect(back.saveState()).toEqual(opt.saveState());
    opt.dispose();
    back.dispose();
  });

  it('a torch checkpoint with a bad initial_lr is refused, naming it, and nothing changes', async () => {
    const opt = await twoGroups();
    opt.paramGroups[0]!.initialLr = 0.4;
    const before = opt.saveState();
    for (const bad of [-1, 'x', null, [1]]) {
      const file = torchCheckpoint([{ ...torchGroup([0], { lr: 0.5 }), initial_lr: bad }, torchGroup([1])], {});
      expectError(() => opt.loadState(file), 'checkpoint.param_groups[0].initial_lr');
      expect(opt.saveState()).toEqual(before);
    }
    opt.dispose();
  });
});

describe('a step that fails changes nothing', () => {
  it('a lambda that returns NaN, or not a number', async () => {
    const opt = await twoGroups();
    const s = new LambdaLR(opt, { lrLambda: [(e) => (e === 3 ? NaN : 0.5 ** e), (e) => (e === 5 ? ('1' as never) : 1)] });
    s.step();
    s.step();
    const [lrs, state] = [snapshot(opt), s.stateDict()];
    expectError(() => s.step(), 'LambdaLR', /lr NaN for paramGroups\[0\]/);
    expect(snapshot(opt)).toEqual(lrs);
    expect(s.stateDict()).toEqual(state);
    expect(s.getLastLr()).toEqual([0.9 * 0.25, 0.3]);
    opt.dispose();
  });

  it('OneCycleLR stepped past totalSteps, as torch refuses', async () => {
    const opt = await twoGroups();
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    const [lrs, state] = [snapshot(opt), s.stateDict()];
    expectError(() => s.step(), 'OneCycleLR.step', 'tried to step 4 times');
    expect(snapshot(opt)).toEqual(lrs);
    expect(s.stateDict()).toEqual(state);
    opt.dispose();
  });

  it('a ChainedScheduler whose second scheduler fails puts back what the first wrote', async () => {
    const opt = await twoGroups();
    const s = new ChainedScheduler([new ExponentialLR(opt, { gamma: 0.5 }), new MultiplicativeLR(opt, { lrLambda: (e) => (e === 1 ? -1 : 1) })]);
    const [lrs, state] = [snapshot(opt), s.stateDict()];
    expectError(() => s.step(), 'MultiplicativeLR', 'lr -0.45');
    expect(snapshot(opt)).toEqual(lrs);
    expect(s.stateDict()).toEqual(state);
    opt.dispose();
  });

  it('ReduceLROnPlateau with a metric that is not a number', async () => {
    const opt = await twoGroups();
    const s = new ReduceLROnPlateau(opt);
    expectError(() => s.step('0.5' as never), 'ReduceLROnPlateau.step', 'number');
    expect(s.stateDict()).toMatchObject({ last_epoch: 0, best: 'inf' });
    opt.dispose();
  });
});

describe('during a threaded stepAsync, whose workers read the lrs', () => {
  it('a scheduler cannot be made or stepped, and nothing changes: not even initialLr', async () => {
    const opt = await Adadelta.create([{ params: [1 << 20], lr: 0.9 }, { params: [3], lr: 0.3 }], { threads: 2 });
    const exp = new ExponentialLR(opt, { gamma: 0.5 });
    opt.paramGroups.forEach((g) => (g.initialLr = undefined));
    const [lrs, state] = [snapshot(opt), exp.stateDict()];
    const pending = opt.stepAsync();
    expectError(() => new StepLR(opt, { stepSize: 2 }), undefined, 'running');
    expect(snapshot(opt)).toEqual(lrs);
    expectError(() => exp.step(), undefined, 'running');
    expect(snapshot(opt)).toEqual(lrs);
    expect(exp.stateDict()).toEqual(state);
    await pending;
    exp.step();
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.45, 0.15]);
    opt.dispose();
  });
});

describe('loadStateDict', () => {
  const bad: [string, (opt: Adadelta) => { stateDict(): Record<string, unknown>; loadStateDict(s: unknown): void }, string, unknown, string][] = [
    ['StepLR', (o) => new StepLR(o, { stepSize: 3 }), 'step_size', 0, 'StepLR.stateDict.step_size'],
    ['StepLR', (o) => new StepLR(o, { stepSize: 3 }), 'last_epoch', 'x', 'StepLR.stateDict.last_epoch'],
    ['StepLR', (o) => new StepLR(o, { stepSize: 3 }), 'base_lrs', [0.1], 'StepLR.stateDict.base_lrs'],
    ['StepLR', (o) => new StepLR(o, { stepSize: 3 }), '_last_lr', [0.1, -1], 'StepLR.stateDict._last_lr[1]'],
    ['StepLR', (o) => new StepLR(o, { stepSize: 3 }), 'gamma', undefined, 'StepLR.stateDict.gamma'],
    ['LambdaLR', (o) => new LambdaLR(o, { lrLambda: () => 1 }), 'lr_lambdas', [{ a: 1 }, null], 'LambdaLR.stateDict.lr_lambdas'],
    ['CyclicLR', (o) => new CyclicLR(o, { baseLr: 0.1, maxLr: 1 }), 'mode', 'zigzag', 'CyclicLR.stateDict.mode'],
    ['CyclicLR', (o) => new CyclicLR(o, { baseLr: 0.1, maxLr: 1 }), 'cycle_momentum', true, 'CyclicLR.stateDict.cycle_momentum'],
    ['OneCycleLR', (o) => new OneCycleLR(o, { maxLr: 1, totalSteps: 9 }), '_schedule_phases', [{ end_step: 2, start_lr: 'lr', end_lr: 'max_lr', start_momentum: '', end_momentum: '' }], 'OneCycleLR.stateDict._schedule_phases[0].start_lr'],
    ['ReduceLROnPlateau', (o) => new ReduceLROnPlateau(o), 'best', NaN, 'ReduceLROnPlateau.stateDict.best'],
    ['ReduceLROnPlateau', (o) => new ReduceLROnPlateau(o), 'threshold_mode', 'both', 'ReduceLROnPlateau.stateDict.threshold_mode'],
    ['SequentialLR', (o) => new SequentialLR(o, { schedulers: [new ConstantLR(o), new StepLR(o, { stepSize: 2 })], milestones: [4] }), '_milestones', [4, 5], 'SequentialLR.stateDict._milestones'],
    ['ChainedScheduler', (o) => new ChainedScheduler([new ConstantLR(o), new StepLR(o, { stepSize: 2 })]), '_schedulers', 'x', 'ChainedScheduler.stateDict._schedulers'],
  ];

  it.each(bad)('%s with a bad %s: AdadeltaError naming it, nothing changed', async (_name, make, key, value, field) => {
    const opt = await twoGroups();
    const s = make(opt);
    const before = s.stateDict();
    expectError(() => s.loadStateDict({ ...before, [key]: value }), field);
    expect(s.stateDict()).toEqual(before);
    opt.dispose();
  });

  it('a nested state with one bad scheduler replaces none of them', async () => {
    const opt = await twoGroups();
    const s = new SequentialLR(opt, { schedulers: [new ConstantLR(opt), new StepLR(opt, { stepSize: 2 })], milestones: [4] });
    for (let i = 0; i < 6; i++) s.step();
    const saved = s.stateDict();
    const fresh = new SequentialLR(opt, { schedulers: [new ConstantLR(opt), new StepLR(opt, { stepSize: 2 })], milestones: [4] });
    const before = fresh.stateDict();
    const schedulers = saved._schedulers as Record<string, unknown>[];
    expectError(() => fresh.loadStateDict({ ...saved, _schedulers: [schedulers[0], { ...schedulers[1], gamma: -1 }] }), 'SequentialLR.stateDict._schedulers[1].gamma');
    expect(fresh.stateDict()).toEqual(before);
    expectError(() => fresh.loadStateDict(null as never), 'SequentialLR.stateDict');
    fresh.loadStateDict(saved);
    expect(fresh.stateDict()).toEqual(saved);
    opt.dispose();
  });

  it('is plain JSON: functions are left out, infinities are named', async () => {
    const opt = await twoGroups();
    const l = new LambdaLR(opt, { lrLambda: () => 1 });
    expect(l.stateDict()).toMatchObject({ lr_lambdas: [null, null], last_epoch: 0, _step_count: 1, base_lrs: [0.9, 0.3] });
    const p = new ReduceLROnPlateau(opt, { mode: 'max' });
    expect(p.stateDict().best).toBe('-inf');
    p.step(-Infinity);
    p.step(2);
    expect(JSON.parse(JSON.stringify(p.stateDict()))).toEqual(p.stateDict());
    expect(p.stateDict().best).toBe(2);
    opt.dispose();
  });
});

describe('tree-shaking', () => {
  /** The package's ESM build bundled (minified) for a module that imports `names`. */
  async function bundle(names: string): Promise<string> {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const out = await build({
      stdin: { contents: `import { ${names} } from ${JSON.stringify(entry)}; console.log(${names});`, loader: 'js', resolveDir: fileURLToPath(new URL('.', import.meta.url)) },
      bundle: true,
      write: false,
      minify: true,
      format: 'esm',
      platform: 'neutral',
    });
    return out.outputFiles[0]!.text;
  }
  const NAMES = ['"LambdaLR"', '"StepLR"', '"CosineAnnealingLR"', '"CyclicLR"', '"OneCycleLR"', '"ReduceLROnPlateau"', '"SequentialLR"', '"ChainedScheduler"'];

  it('an app that imports no scheduler bundles none, and one that imports StepLR bundles only it', async () => {
    const none = await bundle('Adadelta');
    expect(NAMES.filter((n) => none.includes(n))).toEqual([]);
    const step = await bundle('Adadelta, StepLR');
    expect(NAMES.filter((n) => step.includes(n))).toEqual(['"StepLR"']);
  });
});
