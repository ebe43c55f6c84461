/**
 * CyclicLR and OneCycleLR, after torch.optim.lr_scheduler. Both cycle momentum in torch by
 * default; Adadelta has none, so here `cycleMomentum` defaults to false and true is an error.
 */
import { bool, EPOCH, fail, fn, LR, num, oneOf, optNum, options, perGroup } from './check.js';
import { field, LRScheduler, type Field, type SchedulerOptimizer } from './base.js';

function noMomentum(value: unknown, field: string): false {
  if (value !== undefined && bool(value, field)) {
    fail(field, 'must be false: Adadelta has no momentum or betas to cycle (torch raises the same for such an optimizer)');
  }
  return false;
}

/** baseMomentum / maxMomentum: accepted as in torch, unused without cycleMomentum. */
function momentum(value: unknown, field: string, groups: number): void {
  if (value !== undefined) perGroup(value, field, groups, (v, f) => num(v, f));
}

const POSITIVE = { min: 0, above: true };
const MODES = ['triangular', 'triangular2', 'exp_range'] as const;
const SCALE_MODES = ['cycle', 'iterations'] as const;

export type CyclicMode = (typeof MODES)[number];

export interface CyclicLROptions {
  baseLr: number | number[];
  maxLr: number | number[];
  stepSizeUp?: number;
  stepSizeDown?: number | null;
  mode?: CyclicMode;
  gamma?: number;
  /** A custom scale policy; replaces `mode`. Not saved in the state dict. */
  scaleFn?: ((x: number) => number) | null;
  scaleMode?: 'cycle' | 'iterations';
  cycleMomentum?: false;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  lastEpoch?: number;
}

/** Cycles each group's lr between `baseLr` and `maxLr` (Smith, 2017). */
export class CyclicLR extends LRScheduler {
  private maxLrs: number[];
  private totalSize: number;
  private stepRatio: number;
  private mode: string;
  private gamma: number;
  private scaleFnCustom: ((x: number) => number) | null;
  private scaleMode: 'cycle' | 'iterations';

  constructor(optimizer: SchedulerOptimizer, opts: CyclicLROptions) {
    super(optimizer, 'CyclicLR');
    const n = this.groups.length;
    const o = options(opts, this.name, ['baseLr', 'maxLr', 'stepSizeUp', 'stepSizeDown', 'mode', 'gamma', 'scaleFn', 'scaleMode', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'lastEpoch']);
    const baseLrs = perGroup(o.baseLr, 'CyclicLR.baseLr', n, (v, f) => num(v, f, LR));
    this.maxLrs = perGroup(o.maxLr, 'CyclicLR.maxLr', n, (v, f) => num(v, f, LR));
    const up = optNum(o.stepSizeUp, 2000, 'CyclicLR.stepSizeUp', POSITIVE);
    const down = o.stepSizeDown == null ? up : num(o.stepSizeDown, 'CyclicLR.stepSizeDown', POSITIVE);
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    this.scaleFnCustom = o.scaleFn == null ? null : fn<(x: number) => number>(o.scaleFn, 'CyclicLR.scaleFn');
    this.mode = this.scaleFnCustom ? String(o.mode ?? 'triangular') : oneOf(o.mode ?? 'triangular', 'CyclicLR.mode', MODES);
    this.gamma = optNum(o.gamma, 1.0, 'CyclicLR.gamma', { min: 0 });
    this.scaleMode = oneOf(o.scaleMode ?? 'cycle', 'CyclicLR.scaleMode', SCALE_MODES);
    noMomentum(o.cycleMomentum, 'CyclicLR.cycleMomentum');
    momentum(o.baseMomentum, 'CyclicLR.baseMomentum', n);
    momentum(o.maxMomentum, 'CyclicLR.maxMomentum', n);
    this.initScaleFn();
    const lastEpoch = optNum(o.lastEpoch, -1, 'CyclicLR.lastEpoch', EPOCH);
    // As torch: the groups start at baseLr, initial_lr is recorded (if absent) from that, and
    // the initial step runs with base_lrs = initial_lr before base_lrs becomes baseLr.
    this.attach(lastEpoch, () => {
      if (lastEpoch === -1) this.groups.forEach((g, i) => (g.lr = baseLrs[i]!));
    });
    this.baseLrs = baseLrs;
  }

  /** torch's `_init_scale_fn`: the built-in modes fix the scale mode. */
  private initScaleFn(): void {
    if (this.scaleFnCustom) return;
    this.scaleMode = this.mode === 'exp_range' ? 'iterations' : 'cycle';
  }

  private scale(x: number): number {
    if (this.scaleFnCustom) return this.scaleFnCustom(x);
    if (this.mode === 'triangular2') return 1 / 2.0 ** (x - 1);
    if (this.mode === 'exp_range') return this.gamma ** x;
    return 1.0;
  }

  protected getLr(): number[] {
    const t = this.lastEpoch;
    const cycle = Math.floor(1 + t / this.totalSize);
    const x = 1.0 + t / this.totalSize - cycle;
    const scaleFactor = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const s = this.scale(this.scaleMode === 'cycle' ? cycle : t);
    return this.baseLrs.map((base, g) => base + (this.maxLrs[g]! - base) * scaleFactor * s);
  }

  protected override fields(): Field[] {
    const custom = () => this.scaleFnCustom !== null;
    return [
      ...super.fields(),
      this.lrsField('max_lrs', () => this.maxLrs, (v) => (this.maxLrs = v)),
      field('total_size', () => this.totalSize, (v, f) => num(v, f, POSITIVE), (v) => (this.totalSize = v)),
      field('step_ratio', () => this.stepRatio, (v, f) => num(v, f, { ...POSITIVE, max: 1 }), (v) => (this.stepRatio = v)),
      field('mode', () => this.mode, (v, f) => (custom() ? String(v) : oneOf(v, f, MODES)), (v) => (this.mode = v)),
      field('gamma', () => this.gamma, (v, f) => num(v, f, { min: 0 }), (v) => (this.gamma = v)),
      field('scale_mode', () => this.scaleMode, (v, f) => oneOf(v, f, SCALE_MODES), (v) => {
        this.scaleMode = v;
        this.initScaleFn();
      }),
      field('cycle_momentum', () => false, (v, f) => noMomentum(v, f), () => {}),
      field('_scale_fn_custom', () => null, (v, f) => (v === null ? null : fail(f, 'must be null: a scaleFn is not saved, and a loaded state keeps the scheduler\'s own')), () => {}),
    ];
  }
}

export interface OneCycleLROptions {
  maxLr: number | number[];
  /** The schedule's length; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number | null;
  epochs?: number | null;
  stepsPerEpoch?: number | null;
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  cycleMomentum?: false;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
  lastEpoch?: number;
}

type PhaseLr = 'initial_lr' | 'max_lr' | 'min_lr';
interface Phase {
  end_step: number;
  start_lr: PhaseLr;
  end_lr: PhaseLr;
  start_momentum: string;
  end_momentum: string;
}
const PHASE_LRS = ['initial_lr', 'max_lr', 'min_lr'] as const;

function phase(endStep: number, startLr: PhaseLr, endLr: PhaseLr, startMomentum: string, endMomentum: string): Phase {
  return { end_step: endStep, start_lr: startLr, end_lr: endLr, start_momentum: startMomentum, end_momentum: endMomentum };
}

function parsePhases(value: unknown, where: string): Phase[] {
  if (!Array.isArray(value) || value.length < 1) fail(where, 'must be a non-empty list of phases');
  return value.map((p: unknown, i) => {
    const at = `${where}[${i}]`;
    const o = (typeof p === 'object' && p !== null ? p : fail(at, 'must be an object')) as Record<string, unknown>;
    const m = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : fail(`${at}.${k}`, 'must be a string'));
    return phase(num(o.end_step, `${at}.end_step`), oneOf(o.start_lr, `${at}.start_lr`, PHASE_LRS), oneOf(o.end_lr, `${at}.end_lr`, PHASE_LRS), m('start_momentum'), m('end_momentum'));
  });
}

/** The 1cycle policy (Smith and Topin, 2018): from maxLr / divFactor up to maxLr, then down to far below. */
export class OneCycleLR extends LRScheduler {
  private totalSteps: number;
  private phases: Phase[];
  private anneal: 'cos' | 'linear';
  /** torch keeps these two in the param groups (max_lr, min_lr); here they are the scheduler's. */
  private maxLrs: number[];
  private minLrs: number[];

  constructor(optimizer: SchedulerOptimizer, opts: OneCycleLROptions) {
    super(optimizer, 'OneCycleLR');
    const n = this.groups.length;
    const o = options(opts, this.name, ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase', 'lastEpoch']);
    const whole = { min: 1, integer: true };
    if (o.totalSteps != null) this.totalSteps = num(o.totalSteps, 'OneCycleLR.totalSteps', whole);
    else if (o.epochs != null && o.stepsPerEpoch != null) {
      this.totalSteps = num(o.epochs, 'OneCycleLR.epochs', whole) * num(o.stepsPerEpoch, 'OneCycleLR.stepsPerEpoch', whole);
    } else fail('OneCycleLR.totalSteps', 'is required, or both epochs and stepsPerEpoch');
    const pct = optNum(o.pctStart, 0.3, 'OneCycleLR.pctStart', { min: 0, max: 1 });
    const total = this.totalSteps;
    this.phases =
      o.threePhase !== undefined && bool(o.threePhase, 'OneCycleLR.threePhase')
        ? [
            phase(pct * total - 1, 'initial_lr', 'max_lr', 'max_momentum', 'base_momentum'),
            phase(2 * pct * total - 2, 'max_lr', 'initial_lr', 'base_momentum', 'max_momentum'),
            phase(total - 1, 'initial_lr', 'min_lr', 'max_momentum', 'max_momentum'),
          ]
        : [phase(pct * total - 1, 'initial_lr', 'max_lr', 'max_momentum', 'base_momentum'), phase(total - 1, 'max_lr', 'min_lr', 'base_momentum', 'max_momentum')];
    this.anneal = oneOf(o.annealStrategy ?? 'cos', 'OneCycleLR.annealStrategy', ['cos', 'linear'] as const);
    this.maxLrs = perGroup(o.maxLr, 'OneCycleLR.maxLr', n, (v, f) => num(v, f, LR));
    const div = optNum(o.divFactor, 25.0, 'OneCycleLR.divFactor', POSITIVE);
    const finalDiv = optNum(o.finalDivFactor, 1e4, 'OneCycleLR.finalDivFactor', POSITIVE);
    this.minLrs = this.maxLrs.map((max) => max / div / finalDiv);
    noMomentum(o.cycleMomentum, 'OneCycleLR.cycleMomentum');
    momentum(o.baseMomentum, 'OneCycleLR.baseMomentum', n);
    momentum(o.maxMomentum, 'OneCycleLR.maxMomentum', n);
    const lastEpoch = optNum(o.lastEpoch, -1, 'OneCycleLR.lastEpoch', EPOCH);
    // As torch: a fresh schedule sets initial_lr (not only if absent) to maxLr / divFactor.
    this.attach(lastEpoch, () => {
      if (lastEpoch === -1) this.groups.forEach((g, i) => (g.initialLr = this.maxLrs[i]! / div));
    });
  }

  private lrOf(which: PhaseLr, g: number): number {
    if (which === 'max_lr') return this.maxLrs[g]!;
    if (which === 'min_lr') return this.minLrs[g]!;
    const initial = this.groups[g]!.initialLr;
    return initial ?? fail(`paramGroups[${g}].initialLr`, 'is not set; OneCycleLR reads it (torch: initial_lr)');
  }

  protected getLr(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps) fail('OneCycleLR.step', `tried to step ${step} times; totalSteps is ${this.totalSteps}`);
    return this.groups.map((_, g) => {
      let start = 0.0;
      for (let i = 0; i < this.phases.length; i++) {
        const p = this.phases[i]!;
        if (step <= p.end_step || i === this.phases.length - 1) {
          const pct = (step - start) / (p.end_step - start);
          const [a, b] = [this.lrOf(p.start_lr, g), this.lrOf(p.end_lr, g)];
          return this.anneal === 'cos' ? b + ((a - b) / 2.0) * (Math.cos(Math.PI * pct) + 1) : (b - a) * pct + a;
        }
        start = p.end_step;
      }
      return NaN; // unreachable: the last phase always matches
    });
  }

  protected override fields(): Field[] {
    return [
      ...super.fields(),
      field('total_steps', () => this.totalSteps, (v, f) => num(v, f, { min: 1, integer: true }), (v) => (this.totalSteps = v)),
      field('_schedule_phases', () => this.phases.map((p) => ({ ...p })), parsePhases, (v) => (this.phases = v)),
      field('_anneal_func_type', () => this.anneal, (v, f) => oneOf(v, f, ['cos', 'linear'] as const), (v) => (this.anneal = v)),
      field('cycle_momentum', () => false, (v, f) => noMomentum(v, f), () => {}),
      // torch keeps these in the param groups, so its state dict has neither: then ours stay.
      this.lrsField('max_lrs', () => this.maxLrs, (v) => (this.maxLrs = v), true),
      this.lrsField('min_lrs', () => this.minLrs, (v) => (this.minLrs = v), true),
    ];
  }
}
