/**
 * A param group's hyperparameters: mutable between steps (for schedules), validated on every
 * write, and mirrored into the group record that the kernel reads, so `step()` writes nothing.
 */
import { AdadeltaError } from './errors.js';
import { checkHyper, type Hyperparameters } from './options.js';
import { GROUP } from './wasm/layout.js';

export class ParamGroup implements Hyperparameters {
  #hyper: Hyperparameters;
  readonly #record: Float32Array;
  readonly #assertLive: () => void;
  readonly #assertIdle: () => void;
  readonly #where: string;
  readonly #params: readonly number[];
  #initialLr: number | undefined;

  /** Groups are made by the optimizer (`ParamGroup.of`): the declarations keep this private, so
   * `new ParamGroup()` does not type-check for users. */
  private constructor(hyper: Hyperparameters, record: Float32Array, params: readonly number[], where: string, assertLive: () => void, assertIdle: () => void) {
    this.#hyper = { ...hyper };
    this.#record = record;
    this.#params = Object.freeze([...params]);
    this.#where = where;
    this.#assertLive = assertLive;
    this.#assertIdle = assertIdle;
    writeRecord(record, this.#hyper);
  }

  /** @internal The optimizer's group `where` over its `record` in the kernel's group table. */
  static of(hyper: Hyperparameters, record: Float32Array, params: readonly number[], where: string, assertLive: () => void, assertIdle: () => void): ParamGroup {
    return new ParamGroup(hyper, record, params, where, assertLive, assertIdle);
  }

  #set<K extends keyof Hyperparameters>(key: K, value: unknown): void {
    // Not while a threaded stepAsync() runs: its workers read this record.
    this.#assertIdle();
    // Validate first: an invalid value throws and leaves the old one in place.
    this.#hyper[key] = checkHyper(key, value, `${this.#where}.${key}`);
    writeRecord(this.#record, this.#hyper);
  }

  #get<K extends keyof Hyperparameters>(key: K): Hyperparameters[K] {
    this.#assertLive();
    return this.#hyper[key];
  }

  get lr(): number { return this.#get('lr'); }
  set lr(value: number) { this.#set('lr', value); }
  get rho(): number { return this.#get('rho'); }
  set rho(value: number) { this.#set('rho', value); }
  get eps(): number { return this.#get('eps'); }
  set eps(value: number) { this.#set('eps', value); }
  get weightDecay(): number { return this.#get('weightDecay'); }
  set weightDecay(value: number) { this.#set('weightDecay', value); }
  get maximize(): boolean { return this.#get('maximize'); }
  set maximize(value: boolean) { this.#set('maximize', value); }

  /** The group's lr before any schedule (torch's `initial_lr`): undefined until an LR scheduler
   * records it, then saved in checkpoints and read back from them. */
  get initialLr(): number | undefined {
    this.#assertLive();
    return this.#initialLr;
  }
  set initialLr(value: number | undefined) {
    this.#assertLive();
    this.#initialLr = value === undefined ? undefined : checkHyper('lr', value, `${this.#where}.initialLr`);
  }

  /** The indices of this group's params in `opt.params`. Read-only: the optimizer's layout,
   * which its checkpoints record, is fixed at creation. */
  get params(): readonly number[] {
    this.#assertLive();
    return this.#params;
  }
  set params(_value: never) {
    throw new AdadeltaError("is read-only: a group's params are fixed at creation", `${this.#where}.params`);
  }

  /** A plain copy of the hyperparameters, with `initialLr` once a scheduler has set it. */
  toJSON(): Hyperparameters & { initialLr?: number; params: number[] } {
    this.#assertLive();
    const initial = this.#initialLr === undefined ? {} : { initialLr: this.#initialLr };
    return { ...this.#hyper, ...initial, params: [...this.#params] };
  }

  /** @internal Replaces all hyperparameters at once (already validated); a checkpoint's group
   * replaces `initialLr` too, absent or not, as torch's load_state_dict replaces the group. */
  replace(hyper: Hyperparameters & { initialLr?: number | undefined }): void {
    const { initialLr, ...rest } = hyper;
    this.#initialLr = initialLr;
    this.#hyper = rest;
    writeRecord(this.#record, this.#hyper);
  }
}

/** Rounds each value to float32 as torch does for a float32 tensor; 1 - rho is rounded once. */
function writeRecord(record: Float32Array, h: Hyperparameters): void {
  record[GROUP.lr] = h.lr;
  record[GROUP.rho] = h.rho;
  record[GROUP.oneMinusRho] = 1 - h.rho;
  record[GROUP.eps] = h.eps;
  record[GROUP.weightDecay] = h.weightDecay;
  record[GROUP.maximize] = h.maximize ? 1 : 0;
}
