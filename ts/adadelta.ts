/**
 * The Adadelta optimizer's lifecycle: creation over a planned layout (layout.ts), one wasm call
 * per thread per step, stats, checkpoints and disposal. Params, grads and state live in the
 * wasm memory of one kernel instance, behind zero-copy views (params.ts).
 */
import { disposable } from './dispose.js';
import { AdadeltaError } from './errors.js';
import { ParamGroup } from './groups.js';
import { allocate, normBlocks, planLayout, sharedMemoryDescriptor, type Allocation, type LayoutPlan } from './layout.js';
import { nonNegative, resolveOptions, type AdadeltaOptions, type Build, type ParamGroupInit, type ParamInit } from './options.js';
import { ParamView, type Param, type ParamState, type ParamViews } from './params.js';
import { decodeCheckpoint, encodeCheckpoint } from './state/checkpoint.js';
import { WorkerPool } from './threads/pool.js';
import { collectDisposedSharedMemory, sharedMemoryDisposed } from './threads/release.js';
import { DEFAULT_STALLED_BELOW, summarize, type GroupStats, type StepOptions } from './stats.js';
import { KernelInstance } from './wasm/kernel.js';
import { GROUP, STACK_BYTES, STATS_GROUP_BYTES, TENSOR } from './wasm/layout.js';
import { resolveBuild } from './wasm/load.js';
import { RANGE_CALLS, type Op, type StepTable } from './wasm/step.js';
import { checkClipOptions, clipCoefficient, normOfBlocks, type ClipGradNormOptions } from './clip.js';

// `Symbol.dispose` is in lib esnext.disposable, not in ES2022: declare it (as @types/node does),
// so our declarations compile for consumers whose lib lacks it. Here, beside the class that
// uses it: the declaration bundler keeps a `declare global` only from a module it emits.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

export class Adadelta {
  readonly #kernel: KernelInstance;
  readonly #pool: WorkerPool | undefined;
  readonly #views: ParamViews[];
  /** The block sums of the last gradient norm (`StepTable.norms`). */
  readonly #norms: Float64Array;
  readonly #params: readonly Param[];
  readonly #groups: readonly ParamGroup[];
  readonly #table: StepTable;
  readonly #initialAccDelta: number;
  /** The threshold of the last step that collected stats; undefined until one has. */
  #statsStalledBelow: number | undefined;
  /** The stats threshold of the step in progress, undefined for a step without stats. */
  #stalledBelow: number | undefined;
  /** The max norm of the step in progress's fused clipping, undefined for none. */
  #clipGradNorm: number | undefined;
  /** The pass #runOwn runs, and its arguments. */
  #op: Op = 'step';
  #a = 1;
  #b = 0;
  /** The end of the calling thread's element range: all of them without a pool. */
  readonly #ownEnd: number;
  #disposed = false;
  /** Why the state is torn (a threaded step failed part-way), until loadState replaces it. */
  #torn: string | undefined;
  /** True while a threaded stepAsync() is in flight: its workers are writing the state. */
  #stepping = false;

  private constructor(
    kernel: KernelInstance,
    pool: WorkerPool | undefined,
    buffers: ParamViews[],
    params: readonly Param[],
    groups: readonly ParamGroup[],
    table: StepTable,
    initialAccDelta: number,
  ) {
    this.#kernel = kernel;
    this.#pool = pool;
    this.#views = buffers;
    this.#params = params;
    this.#groups = groups;
    this.#table = table;
    this.#initialAccDelta = initialAccDelta;
    this.#norms = kernel.f64(table.norms, normBlocks(table.total));
    this.#ownEnd = pool?.ownEnd ?? table.total;
  }

  /**
   * Creates an optimizer over `groups`: a list of params (one group), or a list of param groups
   * `{ params, lr?, rho?, eps?, weightDecay?, maximize? }`. A param is a Float32Array (its values
   * are copied in) or a length (a zero-filled param). `defaults` follow torch.optim.Adadelta:
   * `{ lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false }`.
   */
  static async create(groups: ParamInit[] | ParamGroupInit[], defaults?: AdadeltaOptions): Promise<Adadelta> {
    const plan = planLayout(groups, defaults);
    if (plan.threads === 1) {
      const kernel = await KernelInstance.create(plan.build, plan.wasm);
      return Adadelta.#assemble(kernel, undefined, plan, allocate(kernel, plan));
    }
    // Disposed threaded optimizers' memories first: they go only when a full GC runs.
    await collectDisposedSharedMemory();
    const kernel = await KernelInstance.create('threads', plan.wasm, new WebAssembly.Memory(sharedMemoryDescriptor(plan)));
    const allocation = allocate(kernel, plan);
    let pool: WorkerPool;
    try {
      // Workers take their stacks from the shared heap here, before any view is made.
      pool = await WorkerPool.start(kernel.module, kernel.memory, allocation.table, allocation.control!, STACK_BYTES);
    } catch {
      // Workers could not start (a CSP that forbids blob: workers, a resource limit): run one
      // thread, as where shared memory is missing; opt.threads reports it.
      return Adadelta.create(groups, { ...defaults, threads: 1 });
    }
    return Adadelta.#assemble(kernel, pool, plan, allocation);
  }

  /**
   * The same as `create`, synchronously, for callers that cannot await (tf.js's
   * `applyGradients`). It needs the kernel compiled already, by `await Adadelta.prepare()` or any
   * earlier `create`, and runs one thread. Throws AdadeltaError otherwise.
   */
  static createSync(groups: ParamInit[] | ParamGroupInit[], defaults?: AdadeltaOptions): Adadelta {
    if (defaults?.threads !== undefined && defaults.threads !== 1) {
      throw new AdadeltaError('createSync runs one thread: starting workers needs the async create()', 'defaults.threads');
    }
    const plan = planLayout(groups, defaults);
    const kernel = KernelInstance.createSync(plan.build, plan.wasm);
    return Adadelta.#assemble(kernel, undefined, plan, allocate(kernel, plan));
  }

  /** Throws the AdadeltaError that `create(groups, defaults)` would for these defaults, without
   * creating anything: for adapters that take options long before they create an optimizer. */
  static checkOptions(defaults: AdadeltaOptions): void {
    resolveOptions(defaults);
  }

  /**
   * Compiles the kernel that `build` picks ('auto' as create does), so createSync can run;
   * from `wasm[build]` where given (see the `wasm` option), else from the entry's own kernel.
   */
  static async prepare(options: Build | Pick<AdadeltaOptions, 'build' | 'wasm'> = 'auto'): Promise<void> {
    const resolved = resolveOptions(typeof options === 'string' ? { build: options } : options);
    await KernelInstance.precompile(resolveBuild(resolved.build), resolved.wasm);
  }

  /** Makes the views, the group records and the optimizer over allocated memory. */
  static #assemble(kernel: KernelInstance, pool: WorkerPool | undefined, plan: LayoutPlan, allocation: Allocation): Adadelta {
    // From here the memory never grows: these views are final.
    const { flat, specs } = plan;
    const tensorTable = kernel.u32(allocation.table.tensors, flat.length * TENSOR.words);
    const buffers = flat.map((p, i): ParamViews => {
      const [data, grad, squareAvg, accDelta] = allocation.buffers[i]!;
      const record = tensorTable.subarray(i * TENSOR.words, (i + 1) * TENSOR.words);
      record[TENSOR.param] = data;
      record[TENSOR.grad] = grad;
      record[TENSOR.squareAvg] = squareAvg;
      record[TENSOR.accDelta] = accDelta;
      record[TENSOR.len] = p.length;
      record[TENSOR.group] = p.group;
      record[TENSOR.requiresGrad] = 1;
      const views = {
        data: kernel.f32(data, p.length),
        grad: kernel.f32(grad, p.length),
        squareAvg: kernel.f32(squareAvg, p.length),
        accDelta: kernel.f32(accDelta, p.length),
        record,
      };
      if (p.init) views.data.set(p.init);
      if (plan.initialAccDelta !== 0) views.accDelta.fill(plan.initialAccDelta);
      return views;
    });

    let opt: Adadelta | undefined;
    const assertLive = () => opt!.#assertLive();
    const assertIdle = () => opt!.#assertIdle();
    const groupTable = kernel.f32(allocation.table.groups, specs.length * GROUP.words);
    let index = 0;
    const paramGroups = specs.map((g, gi) => {
      const indices = g.params.map(() => index++);
      const record = groupTable.subarray(gi * GROUP.words, (gi + 1) * GROUP.words);
      return ParamGroup.of(g.hyper, record, indices, `paramGroups[${gi}]`, assertLive, assertIdle);
    });
    const params = Object.freeze(flat.map((p, i) => new ParamView(buffers[i]!, p.length, p.group, `params[${i}]`, assertLive, assertIdle)));
    opt = new Adadelta(kernel, pool, buffers, params, Object.freeze(paramGroups), allocation.table, plan.initialAccDelta);
    return opt;
  }

  #assertLive(): void {
    if (this.#disposed) throw new AdadeltaError('this optimizer has been disposed');
  }

  /** For everything that reads or writes state: not while a stepAsync() is still running. */
  #assertIdle(): void {
    this.#assertLive();
    if (this.#stepping) throw new AdadeltaError('a stepAsync() is still running: await it first');
  }

  /** For what reads the state: not after a threaded step failed part-way through it. */
  #assertWhole(): void {
    this.#assertIdle();
    if (this.#torn !== undefined) {
      throw new AdadeltaError(`the state is incomplete (${this.#torn}): some elements took the failed step and some did not; loadState() a checkpoint to go on`, 'state');
    }
  }

  /**
   * A threaded step failed part-way (a worker died or trapped, or did not answer in time):
   * some ranges stepped and some did not. If a worker had already started, the pool is broken;
   * if the step was refused before it started, the state is whole and only the error passes.
   */
  #tear(e: unknown): never {
    if (this.#pool?.inStep) this.#torn = (e as Error).message;
    throw e;
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

  /** Which kernel runs: 'simd' or 'plain' (the threaded kernel is the SIMD one). */
  get build(): 'simd' | 'plain' {
    this.#assertLive();
    return this.#kernel.build === 'plain' ? 'plain' : 'simd';
  }

  /** The number of threads stepping: 1, or the worker pool's size with the calling thread. */
  get threads(): number {
    this.#assertLive();
    return this.#pool?.size ?? 1;
  }

  /** The total number of parameter elements. */
  get size(): number {
    this.#assertLive();
    return this.#table.total;
  }

  /** Validates a step's options and records them (no allocation). */
  #readStepOptions(options: StepOptions | undefined): void {
    this.#assertIdle();
    this.#stalledBelow = undefined;
    this.#clipGradNorm = undefined;
    if (options === undefined) return;
    if (typeof options !== 'object' || options === null) throw new AdadeltaError(`must be an object like { stats: true }, got ${String(options)}`, 'step options');
    // A typo such as { stat: true } must not run a plain step silently. for-in, not
    // Object.keys: it walks the object's enum cache and allocates no array on the hot path.
    for (const key in options) {
      if (key !== 'stats' && key !== 'stalledBelow' && key !== 'clipGradNorm') throw new AdadeltaError(`unknown option ${JSON.stringify(key)} (expected stats, stalledBelow, clipGradNorm)`, 'step options');
    }
    if (options.stats !== undefined && typeof options.stats !== 'boolean') throw new AdadeltaError(`must be true or false, got ${String(options.stats)}`, 'stats');
    const stalledBelow = options.stalledBelow === undefined ? DEFAULT_STALLED_BELOW : nonNegative('stalledBelow', options.stalledBelow);
    const clip = options.clipGradNorm === undefined ? undefined : checkClipOptions(options.clipGradNorm, undefined, 'clipGradNorm').maxNorm;
    this.#stalledBelow = options.stats === true ? stalledBelow : undefined;
    this.#clipGradNorm = clip;
  }

  /** The calling thread's share of a pass: everything, or the first range with a pool. */
  readonly #runOwn = (): void => {
    RANGE_CALLS[this.#op](this.#kernel.exports, this.#table, 0, this.#ownEnd, 0, this.#a, this.#b);
  };

  /** Records the pass #runOwn runs (fields, not a closure: a step allocates nothing). */
  #setPass(op: Op, a: number, b: number): void {
    this.#op = op;
    this.#a = a;
    this.#b = b;
  }

  /** A pass failed with threads: a step that failed part-way tears the state (#tear); the
   * clipping passes leave the state alone. */
  #passFailed(op: Op, e: unknown): never {
    if (op === 'step' || op === 'stepStats') this.#tear(e);
    throw e;
  }

  /** Runs one pass over every element, on every thread. */
  #pass(op: Op, a: number, b: number): void {
    this.#setPass(op, a, b);
    if (!this.#pool) return this.#runOwn();
    try {
      this.#pool.run(op, a, b, this.#runOwn);
    } catch (e) {
      this.#passFailed(op, e);
    }
  }

  /** The same with a pool, awaiting the workers; the caller holds #stepping. */
  async #passAsync(pool: WorkerPool, op: Op, a: number, b: number): Promise<void> {
    this.#setPass(op, a, b);
    try {
      await pool.runAsync(op, a, b, this.#runOwn);
    } catch (e) {
      this.#passFailed(op, e);
    }
  }

  #finishStep(): void {
    if (this.#stalledBelow !== undefined) this.#statsStalledBelow = this.#stalledBelow;
  }

  /**
   * Applies one Adadelta step to every param, in one wasm call per thread. With
   * `{ stats: true }` the same pass also computes diagnostics of the effective step size; read
   * them with `stats()`. Synchronous, with or without threads: the calling thread steps its own
   * range, then waits for the workers (spinning where it may not block, as on a browser's main
   * thread).
   */
  step(options?: StepOptions): void {
    this.#readStepOptions(options);
    const scale = this.#clipGradNorm === undefined ? 1 : clipCoefficient(this.#clipGradNorm, this.#gradNorm(2));
    this.#pass(this.#stalledBelow === undefined ? 'step' : 'stepStats', scale, this.#stalledBelow ?? 0);
    this.#finishStep();
  }

  /**
   * The same as `step()`, but with threads it awaits the workers instead of blocking the
   * calling thread. With one thread it steps at once and resolves.
   */
  async stepAsync(options?: StepOptions): Promise<void> {
    // One thread: step at once, with nothing awaited in between (a caller's step() or zeroGrad()
    // must not land between a fused clip's norm and its step).
    const pool = this.#pool;
    if (!pool) return this.step(options);
    this.#readStepOptions(options);
    // From here until it settles, nothing may touch what its passes read or write, nor the
    // options just read (every other call is refused by #assertIdle).
    this.#stepping = true;
    try {
      let scale = 1;
      if (this.#clipGradNorm !== undefined) {
        await this.#passAsync(pool, 'gradNorm', 2, 0);
        scale = clipCoefficient(this.#clipGradNorm, normOfBlocks(this.#norms, 2));
      }
      await this.#passAsync(pool, this.#stalledBelow === undefined ? 'step' : 'stepStats', scale, this.#stalledBelow ?? 0);
    } finally {
      this.#stepping = false;
    }
    this.#finishStep();
  }

  /** The `normType`-norm of all gradients of params with `requiresGrad`, as one vector. */
  #gradNorm(normType: number): number {
    this.#pass('gradNorm', normType, 0);
    return normOfBlocks(this.#norms, normType);
  }

  /**
   * `torch.nn.utils.clip_grad_norm_` over the gradients of the params with `requiresGrad`:
   * returns their total norm (as one vector) before clipping, and multiplies them by
   * `min(1, maxNorm / (total + 1e-6))`. `normType` is a number >= 1 or Infinity. With
   * `errorIfNonfinite`, a NaN or infinite total throws AdadeltaError and changes nothing.
   * `step({ clipGradNorm })` does the same inside the step, without writing the gradients.
   */
  clipGradNorm(maxNorm: number, options?: ClipGradNormOptions): number {
    this.#assertIdle();
    const { normType, errorIfNonfinite } = checkClipOptions(maxNorm, options, 'clipGradNorm');
    const total = this.#gradNorm(normType);
    if (errorIfNonfinite && !Number.isFinite(total)) {
      throw new AdadeltaError(`the total norm of order ${normType} of the gradients is ${total}, so they cannot be clipped (errorIfNonfinite is set); nothing was changed`, 'clipGradNorm');
    }
    const scale = clipCoefficient(maxNorm, total);
    // A coefficient of 1 changes no bit: skip the pass.
    if (scale !== 1) this.#pass('scaleGrads', scale, 0);
    return total;
  }

  /** `torch.nn.utils.clip_grad_value_`: clamps the gradients of the params with `requiresGrad`
   * to `[-clipValue, clipValue]`. */
  clipGradValue(clipValue: number): void {
    this.#assertIdle();
    // Infinity clamps nothing, as in torch.
    if (clipValue === Infinity) return;
    this.#pass('clampGrads', nonNegative('clipValue', clipValue), 0);
  }

  /**
   * Diagnostics of the last step that ran with `{ stats: true }`, one entry per param group:
   * the distribution of the effective learning rate, the update's RMS, `||Δp|| / ||p||`, the
   * stalled fraction and the count of non-finite params.
   */
  stats(): GroupStats[] {
    this.#assertWhole();
    if (this.#statsStalledBelow === undefined) {
      throw new AdadeltaError('no step has collected stats yet: call step({ stats: true }) first', 'stats');
    }
    const t = this.#table;
    const regions = t.stats.map((ptr) => new DataView(this.#kernel.memory.buffer, ptr, t.nGroups * STATS_GROUP_BYTES));
    return summarize(regions, t.nGroups, this.#statsStalledBelow);
  }

  /** The initial E[Δx²] this optimizer's fresh state starts from (0 unless set at creation). */
  get initialAccDelta(): number {
    this.#assertLive();
    return this.#initialAccDelta;
  }

  /** Zero-fills every gradient. */
  zeroGrad(): void {
    this.#assertIdle();
    for (const b of this.#views) b.grad.fill(0);
  }

  /** A copy of param `i`'s state. */
  state(i: number): ParamState {
    this.#assertWhole();
    const b = this.#views[i];
    if (!Number.isInteger(i) || b === undefined) {
      throw new AdadeltaError(`no param ${i}; this optimizer has params 0..${this.#views.length - 1}`, 'state');
    }
    return { step: b.record[TENSOR.step]!, squareAvg: b.squareAvg.slice(), accDelta: b.accDelta.slice() };
  }

  /**
   * The optimizer state as a safetensors file shaped like torch's `state_dict()`: tensors
   * `state.{i}.square_avg`, `state.{i}.acc_delta`, `state.{i}.step` and the JSON of
   * `param_groups` in `__metadata__`. Params are not included.
   */
  saveState(): Uint8Array {
    this.#assertWhole();
    return encodeCheckpoint({
      groups: this.#groups.map((g) => {
        const { params, ...hyper } = g.toJSON();
        return { hyper, params };
      }),
      // As torch's lazy state: a param that has never stepped has none.
      states: this.#views.map((b) => (b.record[TENSOR.step] === 0 ? undefined : { step: b.record[TENSOR.step]!, squareAvg: b.squareAvg, accDelta: b.accDelta })),
      initialAccDelta: this.#initialAccDelta,
    });
  }

  /**
   * Replaces state and group hyperparameters from a `saveState()` file or a torch checkpoint.
   * Everything is validated first; on any problem it throws AdadeltaError and changes nothing.
   * Params are untouched.
   */
  loadState(bytes: Uint8Array): void {
    this.#assertIdle();
    const loaded = decodeCheckpoint(bytes, {
      groups: this.#groups.map((g) => g.params),
      lengths: this.#views.map((b) => b.squareAvg.length),
      initialAccDelta: this.#initialAccDelta,
    });
    // Validated: from here nothing can fail.
    loaded.groups.forEach((g, gi) => this.#groups[gi]!.replace(g.hyper));
    loaded.states.forEach((s, i) => {
      this.#views[i]!.squareAvg.set(s.squareAvg);
      this.#views[i]!.accDelta.set(s.accDelta);
      this.#views[i]!.record[TENSOR.step] = s.step;
    });
    this.#torn = undefined;
  }

  /**
   * Frees the wasm memory: every view handed out is detached (length 0), and any later use of
   * the optimizer throws AdadeltaError. Calling it twice is harmless. With threads the memory
   * is shared and cannot be detached: the workers end, and the memory is collected before the
   * next threaded optimizer takes its own (threads/release.ts).
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#pool) {
      this.#pool.terminate();
      sharedMemoryDisposed();
    }
    // Detach first, so no stale view can write into memory that might be reused; the instance
    // and its memory are then unreachable and released by the garbage collector.
    this.#kernel.detachViews();
  }

  declare [Symbol.dispose]: () => void;
}

disposable(Adadelta);
