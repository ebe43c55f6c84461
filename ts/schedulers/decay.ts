/**
 * Schedules that multiply the lr by a constant at set epochs: StepLR, MultiStepLR, ConstantLR,
 * LinearLR, ExponentialLR and PolynomialLR, after torch.optim.lr_scheduler (the chainable
 * `get_lr()` that torch's `step()` uses, and the closed form SequentialLR uses at a milestone).
 */
import { COUNT, EPOCH, isPlainObject, milestones, num, optNum, options, type Range } from './check.js';
import { field, LRScheduler, type Field, type SchedulerOptimizer } from './base.js';

const FACTOR: Range = { min: 0, max: 1 };
const GAMMA: Range = { min: 0 };

/** Python's bisect_right: how many of the sorted `xs` are <= x. */
function bisectRight(xs: readonly number[], x: number): number {
  let n = 0;
  while (n < xs.length && xs[n]! <= x) n++;
  return n;
}

export interface StepLROptions {
  stepSize: number;
  gamma?: number;
  lastEpoch?: number;
}

/** Multiplies each group's lr by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  private stepSize: number;
  private gamma: number;

  constructor(optimizer: SchedulerOptimizer, opts: StepLROptions) {
    super(optimizer, 'StepLR');
    const o = options(opts, this.name, ['stepSize', 'gamma', 'lastEpoch']);
    this.stepSize = num(o.stepSize, 'StepLR.stepSize', COUNT);
    this.gamma = optNum(o.gamma, 0.1, 'StepLR.gamma', GAMMA);
    this.attach(optNum(o.lastEpoch, -1, 'StepLR.lastEpoch', EPOCH));
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.readLrs();
    return this.readLrs().map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }

  protected override fields(): Field[] {
    return [
      ...super.fields(),
      field('step_size', () => this.stepSize, (v, f) => num(v, f, COUNT), (v) => (this.stepSize = v)),
      field('gamma', () => this.gamma, (v, f) => num(v, f, GAMMA), (v) => (this.gamma = v)),
    ];
  }
}

/** Saved milestones: our list, or torch's Counter as json.dumps writes it ({"5": 1, "12": 2}). */
function savedMilestones(v: unknown, f: string): number[] {
  if (!isPlainObject(v)) return milestones(v, f, false);
  const list = Object.entries(v).flatMap(([m, count]) => Array<number>(num(count, `${f}.${m}`, COUNT)).fill(num(Number(m), `${f}.${m}`, { integer: true })));
  return list.sort((a, b) => a - b);
}

export interface MultiStepLROptions {
  /** Epochs, non-decreasing; an epoch listed twice multiplies by gamma twice, as in torch. */
  milestones: number[];
  gamma?: number;
  lastEpoch?: number;
}

/** Multiplies each group's lr by `gamma` at each milestone. */
export class MultiStepLR extends LRScheduler {
  private milestones: number[];
  private gamma: number;

  constructor(optimizer: SchedulerOptimizer, opts: MultiStepLROptions) {
    super(optimizer, 'MultiStepLR');
    const o = options(opts, this.name, ['milestones', 'gamma', 'lastEpoch']);
    this.milestones = milestones(o.milestones, 'MultiStepLR.milestones', false);
    this.gamma = optNum(o.gamma, 0.1, 'MultiStepLR.gamma', GAMMA);
    this.attach(optNum(o.lastEpoch, -1, 'MultiStepLR.lastEpoch', EPOCH));
  }

  protected getLr(): number[] {
    // torch keeps a Counter: a milestone listed k times multiplies by gamma ** k.
    const count = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (count === 0) return this.readLrs();
    return this.readLrs().map((lr) => lr * this.gamma ** count);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** bisectRight(this.milestones, this.lastEpoch));
  }

  protected override fields(): Field[] {
    return [
      ...super.fields(),
      field('milestones', () => [...this.milestones], savedMilestones, (v) => (this.milestones = v)),
      field('gamma', () => this.gamma, (v, f) => num(v, f, GAMMA), (v) => (this.gamma = v)),
    ];
  }
}

export interface ConstantLROptions {
  factor?: number;
  totalIters?: number;
  lastEpoch?: number;
}

/** Multiplies each group's lr by `factor` until epoch `totalIters`. */
export class ConstantLR extends LRScheduler {
  private factor: number;
  private totalIters: number;

  constructor(optimizer: SchedulerOptimizer, opts: ConstantLROptions = {}) {
    super(optimizer, 'ConstantLR');
    const o = options(opts, this.name, ['factor', 'totalIters', 'lastEpoch']);
    this.factor = optNum(o.factor, 1.0 / 3, 'ConstantLR.factor', FACTOR);
    this.totalIters = optNum(o.totalIters, 5, 'ConstantLR.totalIters', { min: 0, integer: true });
    this.attach(optNum(o.lastEpoch, -1, 'ConstantLR.lastEpoch', EPOCH));
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.readLrs().map((lr) => lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return this.readLrs();
    return this.readLrs().map((lr) => lr * (1.0 / this.factor));
  }

  protected override closedFormLr(): number[] {
    const done = this.lastEpoch >= this.totalIters ? 1 : 0;
    return this.baseLrs.map((base) => base * (this.factor + done * (1 - this.factor)));
  }

  protected override fields(): Field[] {
    return [
      ...super.fields(),
      field('factor', () => this.factor, (v, f) => num(v, f, FACTOR), (v) => (this.factor = v)),
      field('total_iters', () => this.totalIters, (v, f) => num(v, f, { min: 0, integer: true }), (v) => (this.totalIters = v)),
    ];
  }
}

export interface LinearLROptions {
  startFactor?: number;
  endFactor?: number;
  totalIters?: number;
  lastEpoch?: number;
}

const START: Range = { min: 0, above: true, max: 1 };

/** Moves each group's lr linearly from `startFactor` to `endFactor` times its base over `totalIters` epochs. */
export class LinearLR extends LRScheduler {
  private startFactor: number;
  private endFactor: number;
  private totalIters: number;

  constructor(optimizer: SchedulerOptimizer, opts: LinearLROptions = {}) {
    super(optimizer, 'LinearLR');
    const o = options(opts, this.name, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch']);
    this.startFactor = optNum(o.startFactor, 1.0 / 3, 'LinearLR.startFactor', START);
    this.endFactor = optNum(o.endFactor, 1.0, 'LinearLR.endFactor', FACTOR);
    this.totalIters = optNum(o.totalIters, 5, 'LinearLR.totalIters', COUNT);
    this.attach(optNum(o.lastEpoch, -1, 'LinearLR.lastEpoch', EPOCH));
  }

  protected getLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n, lastEpoch: t } = this;
    if (t === 0) return this.readLrs().map((lr) => lr * s);
    if (this.isInitial || t > n) return this.readLrs();
    return this.readLrs().map((lr) => lr * (1.0 + (e - s) / (n * s + (t - 1) * (e - s))));
  }

  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n, lastEpoch: t } = this;
    return this.baseLrs.map((base) => base * (s + ((e - s) * Math.min(n, t)) / n));
  }

  protected override fields(): Field[] {
    return [
      ...super.fields(),
      field('start_factor', () => this.startFactor, (v, f) => num(v, f, START), (v) => (this.startFactor = v)),
      field('end_factor', () => this.endFactor, (v, f) => num(v, f, FACTOR), (v) => (this.endFactor = v)),
      field('total_iters', () => this.totalIters, (v, f) => num(v, f, COUNT), (v) => (this.totalIters = v)),
    ];
  }
}

export interface ExponentialLROptions {
  gamma: number;
  lastEpoch?: number;
}

/** Multiplies each group's lr by `gamma` every epoch. */
export class ExponentialLR extends LRScheduler {
  private gamma: number;

  constructor(optimizer: SchedulerOptimizer, opts: ExponentialLROptions) {
    super(optimizer, 'ExponentialLR');
    const o = options(opts, this.name, ['gamma', 'lastEpoch']);
    this.gamma = num(o.gamma, 'ExponentialLR.gamma', GAMMA);
    this.attach(optNum(o.lastEpoch, -1, 'ExponentialLR.lastEpoch', EPOCH));
  }

  protected getLr(): number[] {
    if (this.isInitial) return this.readLrs();
    return this.readLrs().map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** this.lastEpoch);
  }

  protected override fields(): Field[] {
    return [...super.fields(), field('gamma', () => this.gamma, (v, f) => num(v, f, GAMMA), (v) => (this.gamma = v))];
  }
}

export interface PolynomialLROptions {
  totalIters?: number;
  power?: number;
  lastEpoch?: number;
}

/** Decays each group's lr to 0 over `totalIters` epochs as `(1 - t / totalIters) ** power`. */
export class PolynomialLR extends LRScheduler {
  private totalIters: number;
  private power: number;

  constructor(optimizer: SchedulerOptimizer, opts: PolynomialLROptions = {}) {
    super(optimizer, 'PolynomialLR');
    const o = options(opts, this.name, ['totalIters', 'power', 'lastEpoch']);
    this.totalIters = optNum(o.totalIters, 5, 'PolynomialLR.totalIters', COUNT);
    this.power = optNum(o.power, 1.0, 'PolynomialLR.power', { min: 0 });
    this.attach(optNum(o.lastEpoch, -1, 'PolynomialLR.lastEpoch', EPOCH));
  }

  protected getLr(): number[] {
    const { totalIters: n, lastEpoch: t } = this;
    if (this.isInitial || t > n) return this.readLrs();
    const decay = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** this.power;
    return this.readLrs().map((lr) => lr * decay);
  }

  protected override closedFormLr(): number[] {
    const { totalIters: n, lastEpoch: t } = this;
    return this.baseLrs.map((base) => base * (1.0 - Math.min(n, t) / n) ** this.power);
  }

  protected override fields(): Field[] {
    return [
      ...super.fields(),
      field('total_iters', () => this.totalIters, (v, f) => num(v, f, COUNT), (v) => (this.totalIters = v)),
      field('power', () => this.power, (v, f) => num(v, f, { min: 0 }), (v) => (this.power = v)),
    ];
  }
}
