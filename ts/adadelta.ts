/**
 * The Adadelta optimizer: params, grads and state in the wasm memory of one kernel instance,
 * zero-copy views over them, and one wasm call per step.
 */
import { DEFAULT_STALLED_BELOW, summarize, type GroupStats, type StepOptions } from './stats.js';
import { AdadeltaError } from './errors.js';
import { ParamGroup } from './groups.js';
import { nonNegative, resolveGroups, resolveOptions, type AdadeltaOptions, type Build, type GroupSpec, type ParamGroupInit, type ParamInit, type ParamSpec } from './options.js';
import { decodeCheckpoint, encodeCheckpoint } from './state/checkpoint.js';
import { hasKernel, resolveBuild } from './wasm/load.js';
import type { KernelSources } from './wasm/source.js';
import { allocationBytes, KernelInstance, PAGE, WASM32_MAX_BYTES } from './wasm/kernel.js';
import { controlWords } from './threads/control.js';
import { coreCount, threadRange, threadsUnavailable, WorkerPool } from './threads/pool.js';
import { collectDisposedSharedMemory, sharedMemoryDisposed } from './threads/release.js';
import { GROUP, STATS_GROUP_BYTES, TENSOR } from './wasm/layout.js';

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
  readonly #length: number;
  readonly #group: number;
  readonly #assertLive: () => void;
  constructor(buffers: Buffers, length: number, group: number, assertLive: () => void) {
    this.#buffers = buffers;
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
  /** Diagnostics regions, one per thread: nGroups * STATS_GROUP_BYTES bytes each. */
  stats: readonly number[];
  /** The calling thread's element range (all of them without a worker pool). */
  end: number;
}

// `Symbol.dispose` is in lib esnext.disposable, not in ES2022: declare it (as @types/node does),
// so our declarations compile for consumers whose lib lacks it. Runtimes without it get the
// registered symbol below.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');

/** For tests: `opt[KILL_WORKER](k)` ends worker k as if it had crashed. */
export const KILL_WORKER: unique symbol = Symbol.for('adadelta-wasm.killWorker') as never;

/** For tests: `opt[DELAY_WAKE](ms)` makes each step busy-wait `ms` between publishing the step
 * and waking the workers, as when the OS deschedules the calling thread right there. */
export const DELAY_WAKE: unique symbol = Symbol.for('adadelta-wasm.delayWake') as never;

/** The bytes a shared memory needs beyond the buffers: the kernel's stack and data, slack for
 * the allocator, and each worker's stack and TLS. */
const SHARED_MEMORY_SLACK = 2 * 1024 * 1024;
/** 'auto' threads: the fewest elements worth a thread (about 50 µs of one thread's work). */
const AUTO_MIN_ELEMENTS_PER_THREAD = 65536;
/** At least the threads build's declared minimum (its stack and data; test/threads.test.ts checks). */
const SHARED_MEMORY_INITIAL_PAGES = 32;

/** Everything creation decides before touching wasm: validated groups, build, threads, size. */
interface LayoutPlan {
  specs: GroupSpec[];
  flat: (ParamSpec & { group: number })[];
  total: number;
  build: 'simd' | 'plain';
  threads: number;
  initialAccDelta: number;
  /** Kernels the user gave (the `wasm` option). */
  wasm: KernelSources;
  /** Bytes of wasm memory the optimizer's buffers need. */
  needed: number;
}

/** Validates everything the user gave and sizes the memory; nothing here touches wasm. */
function planLayout(groups: unknown, defaults: AdadeltaOptions | undefined): LayoutPlan {
  const options = resolveOptions(defaults);
  const specs = resolveGroups(groups, options.hyper);
  const flat = specs.flatMap((g, gi) => g.params.map((p) => ({ ...p, group: gi })));
  const total = flat.reduce((n, p) => n + p.length, 0);
  const build = resolveBuild(options.build);
  // Threads run the SIMD kernel over a shared memory; without either, one thread it is.
  // 'auto' gives each thread at least AUTO_MIN_ELEMENTS_PER_THREAD elements: below that, handing
  // a step to a worker costs more than the worker saves. An explicit count is taken as asked.
  let threads = options.threads === 'auto' ? Math.min(coreCount(), Math.ceil(total / AUTO_MIN_ELEMENTS_PER_THREAD)) : options.threads;
  if (threads > 1 && (build !== 'simd' || threadsUnavailable() !== undefined || !hasKernel('threads', options.wasm))) threads = 1;
  threads = Math.max(1, Math.min(threads, Math.ceil(total / 8)));
  const needed =
    ARENAS.reduce((n, arena) => n + allocationBytes(arenaWords(flat) + arena.skew), 0) +
    allocationBytes(flat.length * TENSOR.words) +
    allocationBytes(specs.length * GROUP.words) +
    threads * allocationBytes((specs.length * STATS_GROUP_BYTES) / 4) +
    SHARED_MEMORY_SLACK * (threads > 1 ? 1 + threads : 0);
  if (needed > WASM32_MAX_BYTES) {
    throw new AdadeltaError(
      `${flat.length} params of ${total} elements need ${needed} bytes of wasm memory (params, grads and two state buffers); wasm32 memory is limited to ${WASM32_MAX_BYTES} bytes (4 GiB)`,
      'groups',
    );
  }
  return { specs, flat, total, build, threads, initialAccDelta: options.initialAccDelta, wasm: options.wasm, needed };
}

/** The four buffers of every param, in this order; skews in f32 words (64 bytes apart). */
const ARENAS = [
  { name: 'params', skew: 0 },
  { name: 'grads', skew: 16 },
  { name: 'square averages', skew: 32 },
  { name: 'update averages', skew: 48 },
] as const;

function roundUp4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** Words of one arena: each tensor rounded up to 16 bytes. */
function arenaWords(flat: readonly { length: number }[]): number {
  return flat.reduce((n, p) => n + roundUp4(p.length), 0);
}

interface Allocation {
  /** Per param: the byte addresses of data, grad, squareAvg and accDelta. */
  buffers: (readonly [number, number, number, number])[];
  table: StepTable;
}

/** Allocates every buffer. An allocation may grow the memory, which detaches views: views are
 * made only after this. */
function allocate(kernel: KernelInstance, plan: LayoutPlan): Allocation {
  // Four arenas, one per kind of buffer, each tensor at the same 16-byte-aligned offset in
  // each. Keeping a tensor's four buffers in one allocation after another was measured at 1.4
  // ns/param for 1,000 tensors of 1,000 (against 0.5 for one tensor): with the streams a few
  // KiB apart, their cache lines collide. The skews keep the arenas' starts off one another.
  const words = arenaWords(plan.flat);
  const bases = ARENAS.map((arena) => kernel.alloc(words + arena.skew, `the ${arena.name} of ${plan.total} elements`) + arena.skew * 4);
  let offset = 0;
  const buffers = plan.flat.map((p) => {
    const at = offset * 4;
    offset += roundUp4(p.length);
    return [bases[0]! + at, bases[1]! + at, bases[2]! + at, bases[3]! + at] as const;
  });
  const tensors = kernel.alloc(plan.flat.length * TENSOR.words, 'the tensor table');
  const groups = kernel.alloc(plan.specs.length * GROUP.words, 'the group table');
  const stats = Array.from({ length: plan.threads }, () => kernel.alloc((plan.specs.length * STATS_GROUP_BYTES) / 4, 'the diagnostics region'));
  return {
    buffers,
    table: {
      tensors,
      nTensors: plan.flat.length,
      groups,
      nGroups: plan.specs.length,
      total: plan.total,
      stats,
      end: threadRange(plan.total, plan.threads, 0)[1],
    },
  };
}

export class Adadelta {
  readonly #kernel: KernelInstance;
  readonly #pool: WorkerPool | undefined;
  readonly #buffers: Buffers[];
  readonly #steps: Float64Array;
  readonly #params: readonly Param[];
  readonly #groups: readonly ParamGroup[];
  readonly #table: StepTable;
  readonly #initialAccDelta: number;
  /** The threshold of the last step that collected stats; undefined until one has. */
  #statsStalledBelow: number | undefined;
  /** The threshold of the step in progress, for #runOwn. */
  #stalledBelow = 0;
  #withStats = false;
  #disposed = false;
  /** Why the state is torn (a threaded step failed part-way), until loadState replaces it. */
  #torn: string | undefined;
  /** True while a threaded stepAsync() is in flight: its workers are writing the state. */
  #stepping = false;

  private constructor(
    kernel: KernelInstance,
    pool: WorkerPool | undefined,
    buffers: Buffers[],
    params: readonly Param[],
    groups: readonly ParamGroup[],
    table: StepTable,
    initialAccDelta: number,
  ) {
    this.#kernel = kernel;
    this.#pool = pool;
    this.#buffers = buffers;
    this.#params = params;
    this.#groups = groups;
    this.#table = table;
    this.#initialAccDelta = initialAccDelta;
    this.#steps = new Float64Array(buffers.length);
  }

  /**
   * Creates an optimizer over `groups`: a list of params (one group), or a list of param groups
   * `{ params, lr?, rho?, eps?, weightDecay?, maximize? }`. A param is a Float32Array (its values
   * are copied in) or a length (a zero-filled param). `defaults` follow torch.optim.Adadelta:
   * `{ lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false }`.
   */
  static async create(groups: ParamInit[] | ParamGroupInit[], defaults?: AdadeltaOptions): Promise<Adadelta> {
    const plan = planLayout(groups, defaults);
    let sharedMemory: WebAssembly.Memory | undefined;
    if (plan.threads > 1) {
      // Disposed threaded optimizers' memories first: they go only when a full GC runs.
      await collectDisposedSharedMemory();
      // Start small: the allocator grows the memory itself and would not use pages it did not
      // grow. The maximum bounds what the engine reserves for a memory that cannot move.
      const pages = Math.ceil(plan.needed / PAGE);
      sharedMemory = new WebAssembly.Memory({ initial: SHARED_MEMORY_INITIAL_PAGES, maximum: Math.min(65536, pages + 64), shared: true });
    }
    const kernel = await KernelInstance.create(plan.threads > 1 ? 'threads' : plan.build, plan.wasm, sharedMemory);
    const allocation = allocate(kernel, plan);
    let pool: WorkerPool | undefined;
    if (plan.threads > 1) {
      const control = kernel.alloc(controlWords(plan.threads), 'the thread control block');
      // Workers take their stacks from the shared heap here, before any view is made.
      try {
        pool = await WorkerPool.start(kernel.module, kernel.memory, { ...allocation.table, control, statsRegions: allocation.table.stats }, plan.threads);
      } catch {
        // Workers could not start (a CSP that forbids blob: workers, a resource limit): run one
        // thread, as where shared memory is missing; opt.threads reports it.
        return Adadelta.create(groups, { ...defaults, threads: 1 });
      }
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
    const buffers = flat.map((p, i) => {
      const [data, grad, squareAvg, accDelta] = allocation.buffers[i]!;
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
      return new ParamGroup(g.hyper, record, indices, `paramGroups[${gi}]`, assertLive, assertIdle);
    });
    const params = Object.freeze(flat.map((p, i) => new ParamView(buffers[i]!, p.length, p.group, assertLive)));
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
    if (this.#pool?.started) this.#torn = (e as Error).message;
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

  /** Validates a step's options and records them for #runOwn (no allocation). */
  #prepare(options: StepOptions | undefined): void {
    this.#assertIdle();
    if (options === undefined) {
      this.#withStats = false;
      return;
    }
    if (typeof options !== 'object' || options === null) throw new AdadeltaError(`must be an object like { stats: true }, got ${String(options)}`, 'step options');
    // A typo such as { stat: true } must not run a plain step silently. for-in, not
    // Object.keys: it walks the object's enum cache and allocates no array on the hot path.
    for (const key in options) {
      if (key !== 'stats' && key !== 'stalledBelow') throw new AdadeltaError(`unknown option ${JSON.stringify(key)} (expected stats, stalledBelow)`, 'step options');
    }
    if (options.stats !== undefined && typeof options.stats !== 'boolean') throw new AdadeltaError(`must be true or false, got ${String(options.stats)}`, 'stats');
    const stalledBelow = options.stalledBelow === undefined ? DEFAULT_STALLED_BELOW : nonNegative('stalledBelow', options.stalledBelow);
    this.#withStats = options.stats === true;
    this.#stalledBelow = stalledBelow;
  }

  /** The calling thread's share of a step: everything, or the first range with a pool. */
  readonly #runOwn = (): void => {
    const t = this.#table;
    const x = this.#kernel.exports;
    if (this.#withStats) x.step_stats(t.tensors, t.nTensors, t.groups, t.nGroups, 0, t.end, t.stats[0]!, this.#stalledBelow);
    else x.step(t.tensors, t.nTensors, t.groups, t.nGroups, 0, t.end);
  };

  #finishStep(): void {
    if (this.#withStats) this.#statsStalledBelow = this.#stalledBelow;
    const steps = this.#steps;
    for (let i = 0; i < steps.length; i++) steps[i]! += 1;
  }

  /**
   * Applies one Adadelta step to every param, in one wasm call per thread. With
   * `{ stats: true }` the same pass also computes diagnostics of the effective step size; read
   * them with `stats()`. Synchronous, with or without threads: the calling thread steps its own
   * range, then waits for the workers (spinning where it may not block, as on a browser's main
   * thread).
   */
  step(options?: StepOptions): void {
    this.#prepare(options);
    if (this.#pool) {
      try {
        this.#pool.run(this.#withStats, this.#stalledBelow, this.#runOwn);
      } catch (e) {
        this.#tear(e);
      }
    } else {
      this.#runOwn();
    }
    this.#finishStep();
  }

  /**
   * The same as `step()`, but with threads it awaits the workers instead of blocking the
   * calling thread. With one thread it steps at once and resolves.
   */
  async stepAsync(options?: StepOptions): Promise<void> {
    this.#prepare(options);
    if (this.#pool) {
      this.#stepping = true;
      try {
        await this.#pool.runAsync(this.#withStats, this.#stalledBelow, this.#runOwn);
      } catch (e) {
        this.#tear(e);
      } finally {
        this.#stepping = false;
      }
    } else {
      this.#runOwn();
    }
    this.#finishStep();
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

  /** @internal For tests of worker failure. */
  async [KILL_WORKER](k: number): Promise<void> {
    await this.#pool?.killWorker(k);
  }

  /** @internal For tests of a late wake-up. */
  [DELAY_WAKE](ms: number): void {
    if (this.#pool) this.#pool.wakeDelayMs = ms;
  }

  /** The initial E[Δx²] this optimizer's fresh state starts from (0 unless set at creation). */
  get initialAccDelta(): number {
    this.#assertLive();
    return this.#initialAccDelta;
  }

  /** Zero-fills every gradient. */
  zeroGrad(): void {
    this.#assertIdle();
    for (const b of this.#buffers) b.grad.fill(0);
  }

  /** A copy of param `i`'s state. */
  state(i: number): ParamState {
    this.#assertWhole();
    const b = this.#buffers[i];
    if (!Number.isInteger(i) || b === undefined) {
      throw new AdadeltaError(`no param ${i}; this optimizer has params 0..${this.#buffers.length - 1}`, 'state');
    }
    return { step: this.#steps[i]!, squareAvg: b.squareAvg.slice(), accDelta: b.accDelta.slice() };
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
      states: this.#buffers.map((b, i) => ({ step: this.#steps[i]!, squareAvg: b.squareAvg, accDelta: b.accDelta })),
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
      lengths: this.#buffers.map((b) => b.squareAvg.length),
      initialAccDelta: this.#initialAccDelta,
    });
    // Validated: from here nothing can fail.
    loaded.groups.forEach((g, gi) => this.#groups[gi]!.replace(g.hyper));
    loaded.states.forEach((s, i) => {
      this.#buffers[i]!.squareAvg.set(s.squareAvg);
      this.#buffers[i]!.accDelta.set(s.accDelta);
      this.#steps[i] = s.step;
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

Object.defineProperty(Adadelta.prototype, disposeSymbol, {
  value: function (this: Adadelta) {
    this.dispose();
  },
  writable: true,
  configurable: true,
});
