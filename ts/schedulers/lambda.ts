/**
 * Schedules given by the user's functions of the epoch: LambdaLR (base lr times f(epoch)) and
 * MultiplicativeLR (the current lr times f(epoch)). As in torch, the functions are not part of
 * the state dict: `lr_lambdas` holds a null per group, and a loaded state keeps the functions.
 */
import { EPOCH, fail, fn, optNum, options, perGroup } from './check.js';
import { field, LRScheduler, type Field, type SchedulerOptimizer } from './base.js';

export type LrLambda = (epoch: number) => number;

export interface LambdaLROptions {
  /** One function for all groups, or one per group. */
  lrLambda: LrLambda | LrLambda[];
  lastEpoch?: number;
}

abstract class LambdaScheduler extends LRScheduler {
  protected lrLambdas: LrLambda[];

  constructor(optimizer: SchedulerOptimizer, opts: LambdaLROptions, name: string) {
    super(optimizer, name);
    const o = options(opts, name, ['lrLambda', 'lastEpoch']);
    this.lrLambdas = perGroup(o.lrLambda, `${name}.lrLambda`, this.groups.length, (v, f) => fn<LrLambda>(v, f));
    this.attach(optNum(o.lastEpoch, -1, `${name}.lastEpoch`, EPOCH));
  }

  /** f(epoch) for group g, checked to be a number. */
  protected factor(g: number): number {
    const x = this.lrLambdas[g]!(this.lastEpoch);
    if (typeof x !== 'number') fail(`${this.name}.lrLambda`, `must return a number, returned ${typeof x} for paramGroups[${g}] at epoch ${this.lastEpoch}`);
    return x;
  }

  protected override fields(): Field[] {
    const nulls = () => this.lrLambdas.map(() => null);
    const parse = (v: unknown, f: string) => {
      if (!Array.isArray(v) || v.length !== this.lrLambdas.length || v.some((x) => x !== null)) {
        fail(f, `must be a list of ${this.lrLambdas.length} nulls: functions are not saved, and a loaded state keeps the scheduler's own`);
      }
      return null;
    };
    return [...super.fields(), field('lr_lambdas', nulls, parse, () => {})];
  }
}

/** Sets each group's lr to its initial lr times `lrLambda(epoch)`. */
export class LambdaLR extends LambdaScheduler {
  constructor(optimizer: SchedulerOptimizer, opts: LambdaLROptions) {
    super(optimizer, opts, 'LambdaLR');
  }

  protected getLr(): number[] {
    return this.baseLrs.map((base, g) => base * this.factor(g));
  }
}

/** Multiplies each group's lr by `lrLambda(epoch)` every epoch after the first. */
export class MultiplicativeLR extends LambdaScheduler {
  constructor(optimizer: SchedulerOptimizer, opts: LambdaLROptions) {
    super(optimizer, opts, 'MultiplicativeLR');
  }

  protected getLr(): number[] {
    if (this.isInitial) return this.readLrs();
    return this.readLrs().map((lr, g) => lr * this.factor(g));
  }
}
