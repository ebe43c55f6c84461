/**
 * ReduceLROnPlateau, after torch.optim.lr_scheduler: `step(metric)` lowers each group's lr by
 * `factor` once the metric has not improved for `patience` steps.
 */
import { fail, LR, num, numbers, oneOf, optNum, options, perGroup } from './check.js';
import { field, Scheduler, type Field, type SchedulerOptimizer } from './base.js';

export interface ReduceLROnPlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  /** One for all groups, or one per group. */
  minLr?: number | number[];
  eps?: number;
}

const MODES = ['min', 'max'] as const;
const THRESHOLD_MODES = ['rel', 'abs'] as const;
const FACTOR = { min: 0, max: 1, below: true };
const WHOLE = { min: 0, integer: true };

/** JSON has no infinities: the best metric so far is saved as a number, or "inf" / "-inf". */
function saveBest(x: number): number | string {
  return Number.isFinite(x) ? x : x > 0 ? 'inf' : '-inf';
}

function parseBest(v: unknown, f: string): number {
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (typeof v === 'number' && !Number.isNaN(v)) return v;
  return fail(f, `must be a number, "inf" or "-inf", got ${JSON.stringify(v)}`);
}

/** Lowers each group's lr by `factor` when a metric stops improving. Not chainable (as in torch). */
export class ReduceLROnPlateau extends Scheduler {
  private mode: 'min' | 'max';
  private factor: number;
  private patience: number;
  private threshold: number;
  private thresholdMode: 'rel' | 'abs';
  private cooldown: number;
  private minLrs: number[];
  private defaultMinLr: number | null;
  private eps: number;
  private lastEpoch = 0;
  private best: number;
  private cooldownCounter = 0;
  private numBadEpochs = 0;

  constructor(optimizer: SchedulerOptimizer, opts: ReduceLROnPlateauOptions = {}) {
    super(optimizer, 'ReduceLROnPlateau');
    const o = options(opts, this.name, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    this.factor = optNum(o.factor, 0.1, 'ReduceLROnPlateau.factor', FACTOR);
    const minLr = o.minLr ?? 0;
    this.minLrs = perGroup(minLr, 'ReduceLROnPlateau.minLr', this.groups.length, (v, f) => num(v, f, LR));
    this.defaultMinLr = Array.isArray(minLr) ? null : this.minLrs[0]!;
    this.patience = optNum(o.patience, 10, 'ReduceLROnPlateau.patience', WHOLE);
    this.cooldown = optNum(o.cooldown, 0, 'ReduceLROnPlateau.cooldown', WHOLE);
    this.eps = optNum(o.eps, 1e-8, 'ReduceLROnPlateau.eps', { min: 0 });
    this.mode = oneOf(o.mode ?? 'min', 'ReduceLROnPlateau.mode', MODES);
    this.threshold = optNum(o.threshold, 1e-4, 'ReduceLROnPlateau.threshold', { min: 0 });
    this.thresholdMode = oneOf(o.thresholdMode ?? 'rel', 'ReduceLROnPlateau.thresholdMode', THRESHOLD_MODES);
    this.best = this.modeWorse;
  }

  private get modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1.0 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1.0);
    return a > best + this.threshold;
  }

  /** Takes the epoch's metric (a loss in mode 'min'); lowers the lrs after `patience` bad epochs. */
  step(metric: number): void {
    if (typeof metric !== 'number') fail('ReduceLROnPlateau.step', `metric must be a number, got ${typeof metric}`);
    this.atomically(() => {
      this.lastEpoch += 1;
      if (this.isBetter(metric, this.best)) {
        this.best = metric;
        this.numBadEpochs = 0;
      } else {
        this.numBadEpochs += 1;
      }
      if (this.cooldownCounter > 0) {
        this.cooldownCounter -= 1;
        this.numBadEpochs = 0;
      }
      if (this.numBadEpochs > this.patience) {
        this.reduceLr();
        this.cooldownCounter = this.cooldown;
        this.numBadEpochs = 0;
      }
      this.lastLr = this.readLrs();
    });
  }

  private reduceLr(): void {
    const lrs = this.readLrs().map((old, g) => {
      const lr = Math.max(old * this.factor, this.minLrs[g]!);
      return old - lr > this.eps ? lr : old;
    });
    this.writeLrs(lrs);
  }

  protected fields(): Field[] {
    const n = this.groups.length;
    return [
      field('factor', () => this.factor, (v, f) => num(v, f, FACTOR), (v) => (this.factor = v)),
      field('min_lrs', () => [...this.minLrs], (v, f) => numbers(v, f, n, LR), (v) => (this.minLrs = v)),
      field('default_min_lr', () => this.defaultMinLr, (v, f) => (v === null ? null : num(v, f, LR)), (v) => (this.defaultMinLr = v)),
      field('patience', () => this.patience, (v, f) => num(v, f, WHOLE), (v) => (this.patience = v)),
      field('cooldown', () => this.cooldown, (v, f) => num(v, f, WHOLE), (v) => (this.cooldown = v)),
      field('eps', () => this.eps, (v, f) => num(v, f, { min: 0 }), (v) => (this.eps = v)),
      field('last_epoch', () => this.lastEpoch, (v, f) => num(v, f, WHOLE), (v) => (this.lastEpoch = v)),
      this.lrsField('_last_lr', () => this.lastLr, (v) => (this.lastLr = v)),
      field('mode', () => this.mode, (v, f) => oneOf(v, f, MODES), (v) => (this.mode = v)),
      field('threshold', () => this.threshold, (v, f) => num(v, f, { min: 0 }), (v) => (this.threshold = v)),
      field('threshold_mode', () => this.thresholdMode, (v, f) => oneOf(v, f, THRESHOLD_MODES), (v) => (this.thresholdMode = v)),
      field('best', () => saveBest(this.best), parseBest, (v) => (this.best = v as number)),
      field('cooldown_counter', () => this.cooldownCounter, (v, f) => num(v, f, WHOLE), (v) => (this.cooldownCounter = v)),
      field('num_bad_epochs', () => this.numBadEpochs, (v, f) => num(v, f, WHOLE), (v) => (this.numBadEpochs = v)),
    ];
  }
}
