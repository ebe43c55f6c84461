/**
 * A param as users see it: zero-copy views into the optimizer's wasm memory, and its flag in
 * the kernel's tensor table.
 */
import { AdadeltaError } from './errors.js';
import { TENSOR } from './wasm/layout.js';

/** One parameter tensor: zero-copy views into the optimizer's wasm memory. */
export interface Param {
  /** The parameter values. Read and write freely; `step()` updates them in place. */
  readonly data: Float32Array;
  /** The gradient. Write it before each `step()`; it is zero-filled at creation. */
  readonly grad: Float32Array;
  /** The number of elements. */
  readonly length: number;
  /** The index of this param's group in `opt.paramGroups`. */
  readonly group: number;
  /**
   * Whether `step()` updates this param (default true). A param set to false is skipped as
   * torch skips one whose `.grad` is None: its data, state and step count stay as they are,
   * no weight decay is applied, and clipping and `stats()` leave it out. Settable between steps.
   */
  requiresGrad: boolean;
}

/** A copy of one param's optimizer state, named as in torch's `state_dict()`. */
export interface ParamState {
  /** How many steps this param has taken. */
  step: number;
  /** E[g²], torch's `square_avg`. */
  squareAvg: Float32Array;
  /** E[Δx²], torch's `acc_delta`. */
  accDelta: Float32Array;
}

/** Views of one param's four buffers in the instance's memory, and of its tensor record. */
export interface ParamViews {
  data: Float32Array;
  grad: Float32Array;
  squareAvg: Float32Array;
  accDelta: Float32Array;
  /** The param's record in the kernel's tensor table (`TENSOR` words). */
  record: Uint32Array;
}

/** A `Param` whose every read first checks that the optimizer is still alive. */
export class ParamView implements Param {
  readonly #views: ParamViews;
  readonly #length: number;
  readonly #group: number;
  readonly #assertLive: () => void;
  readonly #assertIdle: () => void;
  readonly #where: string;
  constructor(views: ParamViews, length: number, group: number, where: string, assertLive: () => void, assertIdle: () => void) {
    this.#views = views;
    this.#length = length;
    this.#group = group;
    this.#where = where;
    this.#assertLive = assertLive;
    this.#assertIdle = assertIdle;
  }
  get requiresGrad(): boolean {
    this.#assertLive();
    return this.#views.record[TENSOR.requiresGrad] !== 0;
  }
  set requiresGrad(value: boolean) {
    // Not while a threaded stepAsync() runs: its workers read this record.
    this.#assertIdle();
    if (typeof value !== 'boolean') throw new AdadeltaError(`must be true or false, got ${String(value)}`, `${this.#where}.requiresGrad`);
    this.#views.record[TENSOR.requiresGrad] = value ? 1 : 0;
  }
  get length(): number {
    this.#assertLive();
    return this.#length;
  }
  get group(): number {
    this.#assertLive();
    return this.#group;
  }
  get data(): Float32Array {
    this.#assertLive();
    return this.#views.data;
  }
  get grad(): Float32Array {
    this.#assertLive();
    return this.#views.grad;
  }
}
