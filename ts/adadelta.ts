/**
 * The Adadelta optimizer: params, grads and state in the wasm memory of one kernel instance,
 * zero-copy views over them, and one wasm call per step.
 */
import { AdadeltaError } from './errors.js';
import { ParamGroup } from './groups.js';
import { resolveGroups, resolveOptions, type AdadeltaOptions, type ParamGroupInit, type ParamInit } from './options.js';
import { resolveBuild } from './wasm/load.js';
import { allocationBytes, KernelInstance, WASM32_MAX_BYTES } from './wasm/kernel.js';
import { GROUP, TENSOR } from './wasm/table.js';

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

/** The buffers of one param, as byte addresses and views into the instance's memory. */
interface Buffers {
  data: Float32Array;
  grad: Float32Array;
  squareAvg: Float32Array;
  accDelta: Float32Array;
}

class ParamView implements Param {
  readonly #buffers: Buffers;
  readonly #assertLive: () => void;
  constructor(buffers: Buffers, readonly length: number, readonly group: number, assertLive: () => void) {
    this.#buffers = buffers;
    this.#assertLive = assertLive;
  }
  get data(): Float32Array {
    this.#assertLive();
    return this.#buffers.data;
  }
  get grad(): Float32Array {
    this.#assertLive();
    return this.#buffers.grad;
  }
}

/** Where the one `step` call finds its descriptor tables. */
interface StepTable {
  tensors: number;
  nTensors: number;
  groups: number;
  nGroups: number;
  /** Total elements over all params. */
  total: number;
}

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');

export class Adadelta {
  readonly #kernel: KernelInstance;
  readonly #buffers: Buffers[];
  readonly #steps: Float64Array;
  readonly #params: readonly Param[];
  readonly #groups: readonly ParamGroup[];
  readonly #table: StepTable;
  #disposed = false;

  private constructor(
    kernel: KernelInstance,
    buffers: Buffers[],
    params: readonly Param[],
    groups: readonly ParamGroup[],
    table: StepTable,
  ) {
    this.#kernel = kernel;
    this.#buffers = buffers;
    this.#params = params;
    this.#groups = groups;
    this.#table = table;
    this.#steps = new Float64Array(buffers.length);
  }

  /**
   * Creates an optimizer over `groups`: a list of params (one group), or a list of param groups
   * `{ params, lr?, rho?, eps?, weightDecay?, maximize? }`. A param is a Float32Array (its values
   * are copied in) or a length (a zero-filled param). `defaults` follow torch.optim.Adadelta:
   * `{ lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false }`.
   */
  static async create(groups: ParamInit[] | ParamGroupInit[], defaults?: AdadeltaOptions): Promise<Adadelta> {
    // Everything the user gave is validated before any wasm work.
    const { hyper, build } = resolveOptions(defaults);
    const specs = resolveGroups(groups, hyper);
    const flat = specs.flatMap((g, gi) => g.params.map((p) => ({ ...p, group: gi })));
    const total = flat.reduce((n, p) => n + p.length, 0);

    const kernel = await KernelInstance.create(resolveBuild(build));
    const needed =
      kernel.baseBytes +
      flat.reduce((n, p) => n + 4 * allocationBytes(p.length), 0) +
      allocationBytes(flat.length * TENSOR.words) +
      allocationBytes(specs.length * GROUP.words);
    if (needed > WASM32_MAX_BYTES) {
      throw new AdadeltaError(
        `${flat.length} params of ${total} elements need ${needed} bytes of wasm memory (params, grads and two state buffers); wasm32 memory is limited to ${WASM32_MAX_BYTES} bytes (4 GiB)`,
        'groups',
      );
    }

    // Allocate everything first: an allocation may grow the memory, which detaches views.
    const ptrs = flat.map((p, i) => {
      const what = `params[${i}] (${p.length} elements)`;
      return [kernel.alloc(p.length, what), kernel.alloc(p.length, what), kernel.alloc(p.length, what), kernel.alloc(p.length, what)] as const;
    });
    const tensorsPtr = kernel.alloc(flat.length * TENSOR.words, 'the tensor table');
    const groupsPtr = kernel.alloc(specs.length * GROUP.words, 'the group table');

    // From here the memory never grows: these views are final.
    const tensorTable = kernel.u32(tensorsPtr, flat.length * TENSOR.words);
    const buffers = flat.map((p, i) => {
      const [data, grad, squareAvg, accDelta] = ptrs[i]!;
      const record = tensorTable.subarray(i * TENSOR.words, (i + 1) * TENSOR.words);
      record[TENSOR.param] = data;
      record[TENSOR.grad] = grad;
      record[TENSOR.squareAvg] = squareAvg;
      record[TENSOR.accDelta] = accDelta;
      record[TENSOR.len] = p.length;
      record[TENSOR.group] = p.group;
      const views = {
        data: kernel.f32(data, p.length),
        grad: kernel.f32(grad, p.length),
        squareAvg: kernel.f32(squareAvg, p.length),
        accDelta: kernel.f32(accDelta, p.length),
      };
      if (p.init) views.data.set(p.init);
      return views;
    });

    let opt: Adadelta | undefined;
    const assertLive = () => opt!.#assertLive();
    const groupTable = kernel.f32(groupsPtr, specs.length * GROUP.words);
    let index = 0;
    const paramGroups = specs.map((g, gi) => {
      const indices = g.params.map(() => index++);
      const record = groupTable.subarray(gi * GROUP.words, (gi + 1) * GROUP.words);
      return new ParamGroup(g.hyper, record, indices, `paramGroups[${gi}]`, assertLive);
    });
    const params = Object.freeze(flat.map((p, i) => new ParamView(buffers[i]!, p.length, p.group, assertLive)));
    opt = new Adadelta(kernel, buffers, params, Object.freeze(paramGroups), {
      tensors: tensorsPtr,
      nTensors: flat.length,
      groups: groupsPtr,
      nGroups: specs.length,
      total,
    });
    return opt;
  }

  #assertLive(): void {
    if (this.#disposed) throw new AdadeltaError('this optimizer has been disposed');
  }

  /** The params, numbered across groups in order, as in torch's `state_dict()`. */
  get params(): readonly Param[] {
    this.#assertLive();
    return this.#params;
  }

  /** Each group's hyperparameters; assign to them between steps (schedules). */
  get paramGroups(): readonly ParamGroup[] {
    this.#assertLive();
    return this.#groups;
  }

  /** Which kernel runs: 'simd' or 'plain'. */
  get build(): 'simd' | 'plain' {
    return this.#kernel.build;
  }

  /** The total number of parameter elements. */
  get size(): number {
    return this.#table.total;
  }

  /** Applies one Adadelta step to every param, in one wasm call. */
  step(): void {
    this.#assertLive();
    const t = this.#table;
    this.#kernel.exports.step(t.tensors, t.nTensors, t.groups, t.nGroups, 0, t.total);
    const steps = this.#steps;
    for (let i = 0; i < steps.length; i++) steps[i]! += 1;
  }

  /** The same as `step()`, returning a promise (single-threaded: it resolves at once). */
  async stepAsync(): Promise<void> {
    this.step();
  }

  /** Zero-fills every gradient. */
  zeroGrad(): void {
    this.#assertLive();
    for (const b of this.#buffers) b.grad.fill(0);
  }

  /** A copy of param `i`'s state. */
  state(i: number): ParamState {
    this.#assertLive();
    const b = this.#buffers[i];
    if (!Number.isInteger(i) || b === undefined) {
      throw new AdadeltaError(`no param ${i}; this optimizer has params 0..${this.#buffers.length - 1}`, 'state');
    }
    return { step: this.#steps[i]!, squareAvg: b.squareAvg.slice(), accDelta: b.accDelta.slice() };
  }

  /**
   * Frees the wasm memory: every view handed out is detached (length 0), and any later use of
   * the optimizer throws AdadeltaError. Calling it twice is harmless.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // Detach first, so no stale view can write into memory that might be reused; the instance
    // and its memory are then unreachable and released by the garbage collector.
    this.#kernel.detachViews();
  }

  declare [Symbol.dispose]: () => void;
}

Object.defineProperty(Adadelta.prototype, disposeSymbol, {
  value: function (this: Adadelta) {
    this.dispose();
  },
  writable: true,
  configurable: true,
});
