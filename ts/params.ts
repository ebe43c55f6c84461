/**
 * A param as users see it: zero-copy views into the optimizer's wasm memory.
 */

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

/** Views of one param's four buffers in the instance's memory. */
export interface ParamViews {
  data: Float32Array;
  grad: Float32Array;
  squareAvg: Float32Array;
  accDelta: Float32Array;
}

/** A `Param` whose every read first checks that the optimizer is still alive. */
export class ParamView implements Param {
  readonly #views: ParamViews;
  readonly #length: number;
  readonly #group: number;
  readonly #assertLive: () => void;
  constructor(views: ParamViews, length: number, group: number, assertLive: () => void) {
    this.#views = views;
    this.#length = length;
    this.#group = group;
    this.#assertLive = assertLive;
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
