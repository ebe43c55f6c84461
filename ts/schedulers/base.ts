/**
 * What every LR scheduler shares, after torch.optim.lr_scheduler.LRScheduler: recording
 * `initial_lr`, the initial step, writing each group's lr, and state dicts as plain JSON with
 * torch's keys, validated in full before anything is replaced.
 *
 * Schedulers see the optimizer only through `paramGroups[g].lr` and `.initialLr`, so they know
 * nothing else of it (docs/architecture.md).
 */
import { EPOCH, fail, isPlainObject, LR, num, numbers } from './check.js';

/** The part of a param group a scheduler reads and writes. */
export interface SchedulerGroup {
  lr: number;
  initialLr: number | undefined;
}

/** What a scheduler needs of an optimizer: `Adadelta` is one. */
export interface SchedulerOptimizer {
  readonly paramGroups: readonly SchedulerGroup[];
}

/** A scheduler's state: plain JSON, with the keys of torch's `state_dict()`. */
export type SchedulerState = Record<string, unknown>;

/** One state-dict entry: how to read it, and how to check a loaded value and put it in place. */
export interface Field {
  key: string;
  get(): unknown;
  parse(value: unknown, field: string): unknown;
  set(value: unknown): void;
}

/** A state-dict entry: `get` saves it; `parse` checks a loaded value, and `set` takes what `parse` returned. */
export function field<T, P = T>(key: string, get: () => T, parse: (value: unknown, field: string) => P, set: (value: P) => void): Field {
  return { key, get, parse, set: set as (value: unknown) => void };
}

/** The base of every scheduler: the optimizer it drives, the lrs it last wrote, and its state dict. */
export abstract class Scheduler {
  readonly optimizer: SchedulerOptimizer;
  /** torch's `_last_lr`. */
  protected lastLr: number[];
  /** Names the scheduler in errors and state fields. */
  protected readonly name: string;

  constructor(optimizer: unknown, name: string) {
    this.name = name;
    const groups = (optimizer as SchedulerOptimizer | undefined)?.paramGroups;
    if (!Array.isArray(groups) || groups.length === 0) fail(`${name}.optimizer`, 'must be an optimizer with paramGroups (an Adadelta)');
    this.optimizer = optimizer as SchedulerOptimizer;
    this.lastLr = this.readLrs();
  }

  /** The lrs the last step wrote (torch's `get_last_lr()`). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The state as plain JSON, with torch's keys; functions (lrLambda, scaleFn) are left out. */
  stateDict(): SchedulerState {
    return Object.fromEntries(this.fields().map((f) => [f.key, f.get()]));
  }

  /** Replaces the state with one from `stateDict()`. Every field is checked first: on a bad one
   * it throws AdadeltaError naming it, and nothing changes. */
  loadStateDict(state: SchedulerState): void {
    this._parseState(state, `${this.name}.stateDict`)();
  }

  /** @internal Checks a state dict; the function returned puts it in place. */
  _parseState(state: unknown, where: string): () => void {
    if (!isPlainObject(state)) fail(where, 'must be an object from stateDict()');
    const parsed = this.fields().map((f) => [f, f.parse(state[f.key], `${where}.${f.key}`)] as const);
    return () => parsed.forEach(([f, v]) => f.set(v));
  }

  /** The state dict's entries. */
  protected abstract fields(): Field[];

  protected get groups(): readonly SchedulerGroup[] {
    return this.optimizer.paramGroups;
  }

  protected readLrs(): number[] {
    return this.groups.map((g) => g.lr);
  }

  /** Writes each group's lr; all are checked first, so a bad one changes none. */
  protected writeLrs(lrs: readonly number[]): void {
    const groups = this.groups;
    if (lrs.length !== groups.length) fail(this.name, `computed ${lrs.length} lrs for ${groups.length} param groups`);
    lrs.forEach((lr, g) => {
      if (!(Number.isFinite(lr) && lr >= 0)) fail(this.name, `step() computed lr ${lr} for paramGroups[${g}]; an lr is a finite number >= 0`);
    });
    lrs.forEach((lr, g) => (groups[g]!.lr = lr));
  }

  /** Runs `change`; if it throws, the scheduler's state and the groups' lrs are put back. */
  protected atomically(change: () => void): void {
    const undo = this._parseState(this.stateDict(), this.name);
    const lrs = this.readLrs();
    try {
      change();
    } catch (e) {
      undo();
      this.restoreLrs(lrs);
      throw e;
    }
  }

  /** Puts lrs back, writing only those that changed (a write during a threaded stepAsync throws). */
  protected restoreLrs(lrs: readonly number[]): void {
    this.groups.forEach((g, i) => {
      if (!Object.is(g.lr, lrs[i])) g.lr = lrs[i]!;
    });
  }

  /** A list of lrs, one per group; with `optional`, a state without it keeps the current one. */
  protected lrsField(key: string, get: () => number[], set: (v: number[]) => void, optional = false): Field {
    return field(key, () => [...get()], (v, f) => (optional && v === undefined ? get() : numbers(v, f, this.groups.length, LR)), set);
  }
}

/**
 * torch's LRScheduler: `step()` advances `last_epoch` and writes the lrs `getLr()` computes
 * (torch's chainable form); `closedFormLr()`, where a scheduler has one, is what SequentialLR
 * uses at a milestone.
 */
export abstract class LRScheduler extends Scheduler {
  /** torch's `last_epoch`. */
  protected lastEpoch = -1;
  /** torch's `_step_count`. */
  protected stepCount = 0;
  /** torch's `base_lrs`: each group's `initial_lr` when the scheduler was made. */
  protected baseLrs: number[] = [];
  /** torch's `_is_initial`: true during the step the constructor takes. */
  protected isInitial = false;

  /**
   * torch's `LRScheduler.__init__`: records each group's `initialLr` (if absent, when
   * `lastEpoch` is -1; a resume needs it present), then takes the initial step. `before` runs
   * first (CyclicLR and OneCycleLR set lrs). If anything throws, the groups are put back.
   */
  protected attach(lastEpoch: number, before?: () => void): void {
    const groups = this.groups;
    const saved = groups.map((g) => [g.lr, g.initialLr] as const);
    try {
      before?.();
      groups.forEach((g, i) => {
        if (lastEpoch === -1) g.initialLr ??= g.lr;
        else if (g.initialLr === undefined) fail(`paramGroups[${i}].initialLr`, `is not set: ${this.name} with lastEpoch ${lastEpoch} resumes a schedule, from a checkpoint whose param groups have initial_lr`);
      });
      this.baseLrs = groups.map((g) => g.initialLr!);
      this.lastEpoch = lastEpoch;
      this._initialStep();
    } catch (e) {
      this.restoreLrs(saved.map(([lr]) => lr));
      groups.forEach((g, i) => (g.initialLr = saved[i]![1]));
      throw e;
    }
  }

  /** Computes the next lrs (torch's `get_lr()`). */
  protected abstract getLr(): number[];

  /** torch's `_get_closed_form_lr()`, for schedulers that have one. */
  protected closedFormLr?(): number[];

  /** Advances the schedule by one step and writes each group's lr. If it throws, nothing changes. */
  step(): void {
    this.atomically(() => this._step());
  }

  /** @internal torch's `step()`, unguarded. */
  _step(): void {
    this.stepCount += 1;
    this._updateLr();
  }

  /** @internal torch's `_initial_step()`. */
  _initialStep(): void {
    this.stepCount = 0;
    this.isInitial = true;
    try {
      this._step();
    } finally {
      this.isInitial = false;
    }
  }

  /** @internal torch's `_update_lr(epoch)`: with an epoch (SequentialLR's 0), the closed form. */
  _updateLr(epoch?: number): void {
    let lrs: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      lrs = this.getLr();
    } else {
      this.lastEpoch = epoch;
      lrs = this.closedFormLr ? this.closedFormLr() : this.getLr();
    }
    this.writeLrs(lrs);
    this.lastLr = this.readLrs();
  }

  /** @internal SequentialLR's `recursive_undo`: one step back before its first step. */
  _undo(): void {
    this.lastEpoch -= 1;
  }

  /** @internal Whether SequentialLR can switch to it at a milestone (torch fails on containers). */
  get _switchable(): boolean {
    return true;
  }

  protected override fields(): Field[] {
    return [
      field('last_epoch', () => this.lastEpoch, (v, f) => num(v, f, EPOCH), (v) => (this.lastEpoch = v)),
      field('_step_count', () => this.stepCount, (v, f) => num(v, f, { min: 0, integer: true }), (v) => (this.stepCount = v)),
      this.lrsField('base_lrs', () => this.baseLrs, (v) => (this.baseLrs = v)),
      this.lrsField('_last_lr', () => this.lastLr, (v) => (this.lastLr = v)),
    ];
  }
}
