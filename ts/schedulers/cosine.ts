/**
 * Cosine schedules: CosineAnnealingLR (torch's chainable form, which its `step()` uses) and
 * CosineAnnealingWarmRestarts (SGDR), after torch.optim.lr_scheduler.
 */
import { COUNT, EPOCH, num, optNum, options } from './check.js';
import { field, LRScheduler, type Field, type SchedulerOptimizer } from './base.js';

export interface CosineAnnealingLROptions {
  tMax: number;
  etaMin?: number;
  lastEpoch?: number;
}

/** Anneals each group's lr from its initial lr to `etaMin` over `tMax` epochs along a cosine, and back. */
export class CosineAnnealingLR extends LRScheduler {
  private tMax: number;
  private etaMin: number;

  constructor(optimizer: SchedulerOptimizer, opts: CosineAnnealingLROptions) {
    super(optimizer, 'CosineAnnealingLR');
    const o = options(opts, this.name, ['tMax', 'etaMin', 'lastEpoch']);
    this.tMax = num(o.tMax, 'CosineAnnealingLR.tMax', COUNT);
    this.etaMin = optNum(o.etaMin, 0.0, 'CosineAnnealingLR.etaMin', { min: 0 });
    this.attach(optNum(o.lastEpoch, -1, 'CosineAnnealingLR.lastEpoch', EPOCH));
  }

  protected getLr(): number[] {
    const { tMax: T, etaMin: eta, lastEpoch: t } = this;
    if (this.isInitial) return this.readLrs();
    if (this.stepCount === 1 && t > 0) {
      return this.baseLrs.map((base) => eta + ((base - eta) * (1 + Math.cos((t * Math.PI) / T))) / 2);
    }
    if ((t - 1 - T) % (2 * T) === 0) {
      return this.readLrs().map((lr, g) => lr + ((this.baseLrs[g]! - eta) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return this.readLrs().map((lr) => ((1 + Math.cos((Math.PI * t) / T)) / (1 + Math.cos((Math.PI * (t - 1)) / T))) * (lr - eta) + eta);
  }

  protected override closedFormLr(): number[] {
    const { tMax: T, etaMin: eta, lastEpoch: t } = this;
    return this.baseLrs.map((base) => eta + ((base - eta) * (1 + Math.cos((Math.PI * t) / T))) / 2);
  }

  protected override fields(): Field[] {
    return [
      ...super.fields(),
      field('T_max', () => this.tMax, (v, f) => num(v, f, COUNT), (v) => (this.tMax = v)),
      field('eta_min', () => this.etaMin, (v, f) => num(v, f, { min: 0 }), (v) => (this.etaMin = v)),
    ];
  }
}

export interface CosineAnnealingWarmRestartsOptions {
  /** Epochs until the first restart. */
  t0: number;
  /** Each period is `tMult` times the one before. */
  tMult?: number;
  etaMin?: number;
  lastEpoch?: number;
}

/** Cosine annealing from each group's initial lr to `etaMin`, restarting after `t0`, `t0 * tMult`, ... epochs. */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  private t0: number;
  private tI: number;
  private tMult: number;
  private etaMin: number;
  private tCur: number;

  constructor(optimizer: SchedulerOptimizer, opts: CosineAnnealingWarmRestartsOptions) {
    super(optimizer, 'CosineAnnealingWarmRestarts');
    const o = options(opts, this.name, ['t0', 'tMult', 'etaMin', 'lastEpoch']);
    this.t0 = num(o.t0, 'CosineAnnealingWarmRestarts.t0', COUNT);
    this.tI = this.t0;
    this.tMult = optNum(o.tMult, 1, 'CosineAnnealingWarmRestarts.tMult', COUNT);
    this.etaMin = optNum(o.etaMin, 0.0, 'CosineAnnealingWarmRestarts.etaMin', { min: 0 });
    const lastEpoch = optNum(o.lastEpoch, -1, 'CosineAnnealingWarmRestarts.lastEpoch', EPOCH);
    this.tCur = lastEpoch;
    this.attach(lastEpoch);
  }

  protected getLr(): number[] {
    const { etaMin: eta } = this;
    return this.baseLrs.map((base) => eta + ((base - eta) * (1 + Math.cos((Math.PI * this.tCur) / this.tI))) / 2);
  }

  /** @internal torch's own `step()`: it counts no `_step_count`. */
  override _step(): void {
    if (this.lastEpoch < 0) {
      // torch takes this as step(epoch=0), which starts the first period.
      this.tI = this.t0;
      this.tCur = 0;
      this.lastEpoch = 0;
    } else {
      this.lastEpoch += 1;
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur = this.tCur % this.tI;
        this.tI = this.tI * this.tMult;
      }
    }
    this.writeLrs(this.getLr());
    this.lastLr = this.readLrs();
  }

  protected override fields(): Field[] {
    const whole = { integer: true };
    return [
      ...super.fields(),
      field('T_0', () => this.t0, (v, f) => num(v, f, COUNT), (v) => (this.t0 = v)),
      field('T_i', () => this.tI, (v, f) => num(v, f, COUNT), (v) => (this.tI = v)),
      field('T_mult', () => this.tMult, (v, f) => num(v, f, COUNT), (v) => (this.tMult = v)),
      field('eta_min', () => this.etaMin, (v, f) => num(v, f, { min: 0 }), (v) => (this.etaMin = v)),
      field('T_cur', () => this.tCur, (v, f) => num(v, f, { ...whole, min: -1 }), (v) => (this.tCur = v)),
    ];
  }
}
