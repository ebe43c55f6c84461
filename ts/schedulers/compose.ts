/**
 * Schedulers made of schedulers, after torch.optim.lr_scheduler: SequentialLR (one after
 * another, switching at milestones) and ChainedScheduler (all of them, every step). Their state
 * dicts hold their schedulers' under `_schedulers`, as torch's do.
 */
import { EPOCH, fail, milestones, num, optNum, options } from './check.js';
import { field, LRScheduler, type Field, type SchedulerOptimizer } from './base.js';

/** The schedulers, checked: at least one, each an LRScheduler (not ReduceLROnPlateau) of `optimizer`. */
function members(value: unknown, where: string, optimizer: SchedulerOptimizer | undefined): LRScheduler[] {
  if (!Array.isArray(value) || value.length === 0) fail(where, 'must be a non-empty list of schedulers');
  return value.map((s: unknown, i) => {
    if (!(s instanceof LRScheduler)) {
      fail(`${where}[${i}]`, 'must be an LR scheduler made for this optimizer (ReduceLROnPlateau takes a metric, so it cannot be chained, as in torch)');
    }
    if (optimizer !== undefined && s.optimizer !== optimizer) fail(`${where}[${i}]`, "belongs to another optimizer; all schedulers must share the first one's");
    return s;
  });
}

/** Checks each member's saved state; the function returned puts them all in place. */
function memberStates(schedulers: readonly LRScheduler[]) {
  return (v: unknown, f: string): (() => void)[] => {
    if (!Array.isArray(v) || v.length !== schedulers.length) fail(f, `must be a list of ${schedulers.length} scheduler states`);
    return schedulers.map((s, i) => s._parseState(v[i], `${f}[${i}]`));
  };
}

/** What SequentialLR and ChainedScheduler share: their schedulers, and no lr formula of their own. */
abstract class Composite extends LRScheduler {
  protected schedulers: LRScheduler[] = [];

  protected getLr(): number[] {
    return fail(this.name, 'has no lr formula of its own');
  }

  /** @internal */
  override _undo(): void {
    this.schedulers.forEach((s) => s._undo());
  }

  /** @internal */
  override get _switchable(): boolean {
    return false;
  }

  /** `_last_lr` and the schedulers' own states under `_schedulers`, as torch saves them. */
  protected compositeFields(): Field[] {
    return [
      this.lrsField('_last_lr', () => this.lastLr, (v) => (this.lastLr = v)),
      field('_schedulers', () => this.schedulers.map((s) => s.stateDict()), memberStates(this.schedulers), (apply) => apply.forEach((a) => a())),
    ];
  }
}

export interface SequentialLROptions {
  schedulers: LRScheduler[];
  /** Epochs at which the next scheduler takes over: increasing, one fewer than the schedulers. */
  milestones: number[];
  lastEpoch?: number;
}

/** Runs `schedulers` one after another; at each milestone the next one starts from its epoch 0. */
export class SequentialLR extends Composite {
  private milestones: number[];

  constructor(optimizer: SchedulerOptimizer, opts: SequentialLROptions) {
    super(optimizer, 'SequentialLR');
    const o = options(opts, this.name, ['schedulers', 'milestones', 'lastEpoch']);
    const schedulers = members(o.schedulers, 'SequentialLR.schedulers', optimizer);
    this.milestones = milestones(o.milestones, 'SequentialLR.milestones', true);
    if (this.milestones.length !== schedulers.length - 1) {
      fail('SequentialLR.milestones', `has ${this.milestones.length} milestones for ${schedulers.length} schedulers; it needs one fewer`);
    }
    schedulers.forEach((s, i) => {
      // torch fails at the milestone: a container has no lr formula of its own to restart from.
      if (i > 0 && !s._switchable) fail(`SequentialLR.schedulers[${i}]`, 'a SequentialLR or ChainedScheduler can only come first');
    });
    const lastEpoch = optNum(o.lastEpoch, -1, 'SequentialLR.lastEpoch', EPOCH);
    this.schedulers = schedulers;
    this.groups.forEach((g, i) => {
      if (g.initialLr === undefined) fail(`paramGroups[${i}].initialLr`, 'is not set; the schedulers record it when made');
    });
    // torch: reset the lrs, undo each scheduler's initial step, and redo the first one's.
    this.lastEpoch = lastEpoch + 1;
    this.atomically(() => {
      this.groups.forEach((g) => (g.lr = g.initialLr!));
      this._undo();
      this.schedulers[this.index(0)]!._initialStep();
    });
    this.lastLr = this.schedulers[this.index(0)]!.getLastLr();
  }

  /** Python's bisect_right(milestones, epoch): which scheduler runs at `epoch`. */
  private index(epoch: number): number {
    let i = 0;
    while (i < this.milestones.length && this.milestones[i]! <= epoch) i++;
    return i;
  }

  /** @internal */
  override _step(): void {
    this.lastEpoch += 1;
    const i = this.index(this.lastEpoch);
    const s = this.schedulers[i]!;
    if (i > 0 && this.milestones[i - 1] === this.lastEpoch) s._updateLr(0);
    else s._step();
    this.lastLr = s.getLastLr();
  }

  protected override fields(): Field[] {
    return [
      field('_milestones', () => [...this.milestones], (v, f) => {
        const m = milestones(v, f, true);
        if (m.length !== this.schedulers.length - 1) fail(f, `must have ${this.schedulers.length - 1} milestones`);
        return m;
      }, (v) => (this.milestones = v)),
      field('last_epoch', () => this.lastEpoch, (v, f) => num(v, f, EPOCH), (v) => (this.lastEpoch = v)),
      ...this.compositeFields(),
    ];
  }
}

/** Steps all `schedulers` at every step, each multiplying in its own factor. */
export class ChainedScheduler extends Composite {
  /** As torch: `new ChainedScheduler([s1, s2])`, or with the optimizer second. */
  constructor(schedulers: LRScheduler[], optimizer?: SchedulerOptimizer) {
    const list = members(schedulers, 'ChainedScheduler.schedulers', optimizer);
    super(optimizer ?? list[0]!.optimizer, 'ChainedScheduler');
    members(list, 'ChainedScheduler.schedulers', this.optimizer);
    this.schedulers = list;
    this.lastLr = this.readLrs();
  }

  /** @internal */
  override _step(): void {
    this.schedulers.forEach((s) => s._step());
    this.lastLr = this.readLrs();
  }

  protected override fields(): Field[] {
    return this.compositeFields();
  }
}

