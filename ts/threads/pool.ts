/**
 * A pool of workers that step disjoint element ranges of one shared wasm memory. The calling
 * thread steps the first range itself, so `threads: 2` means one worker. Ranges split the
 * concatenation of all tensors, not tensors, so one huge tensor still splits; every element
 * sees the same operations whichever thread runs it, so results are bit-identical to one thread.
 */
import { AdadeltaError } from '../errors.js';
import { CONTROL, controlWords, PHASE, STATUS, statusWord, STEPPING, STOPPED } from './control.js';
import { nodeBuiltin } from '../node-builtin.js';
import { workerExiting } from './release.js';
import { WORKER_SOURCE } from './worker-source.js';

/** What every thread needs to step its range: the descriptor tables (byte addresses). */
export interface StepPlan {
  tensors: number;
  nTensors: number;
  groups: number;
  nGroups: number;
  total: number;
  /** The control block: `controlWords(threads)` int32 words. */
  control: number;
  /** One diagnostics region per thread; thread k fills statsRegions[k]. */
  statsRegions: readonly number[];
}

/** The range of thread `k` of `threads`, in elements, aligned to 8 (whole f32x4 vectors). */
export function threadRange(total: number, threads: number, k: number): [number, number] {
  const size = Math.ceil(total / threads / 8) * 8;
  return [Math.min(total, k * size), Math.min(total, (k + 1) * size)];
}

/** Why this environment cannot run worker threads over shared memory, or undefined if it can. */
export function threadsUnavailable(): string | undefined {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; Worker?: unknown; process?: { versions?: { node?: string } } };
  if (typeof g.SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available';
  if (g.crossOriginIsolated === false) return 'the page is not cross-origin isolated (COOP/COEP headers)';
  if (g.process?.versions?.node === undefined && typeof g.Worker !== 'function') return 'Web Workers are not available';
  return undefined;
}

/** The CPU count in Node's diagnostic report, read once: for Node before 20.16 (see coreCount). */
let reportedCpus: number | undefined;

/** The number of cores: `threads: 'auto'`. */
export function coreCount(): number {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    process?: { getBuiltinModule?: (id: string) => unknown; report?: { getReport?: () => { header?: { cpus?: unknown[] } } } };
  };
  const os = g.process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number; cpus(): unknown[] } | undefined;
  if (os) return os.availableParallelism?.() ?? os.cpus().length;
  // Node 20.0-20.15 has neither getBuiltinModule nor navigator, and node:os only through an
  // import that settles after create() has sized its threads; its diagnostic report lists the
  // CPUs synchronously (about 30 ms, so once).
  reportedCpus ??= g.process?.report?.getReport?.().header?.cpus?.length;
  if (reportedCpus) return reportedCpus;
  return Math.max(1, g.navigator?.hardwareConcurrency ?? 1);
}

interface AnyWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
  /** Node's workers are EventEmitters. */
  removeAllListeners?(): void;
  on?(event: string, cb: (arg: unknown) => void): void;
  /** Web workers have handler properties. */
  onmessage?: unknown;
  onerror?: unknown;
}

type WorkerThreads = { Worker: new (code: string, options: { eval: true }) => AnyWorker & { on(event: string, cb: (arg: unknown) => void): void; unref(): void } };

async function nodeWorkerThreads(): Promise<WorkerThreads | undefined> {
  return (await nodeBuiltin('node:worker_threads')) as WorkerThreads | undefined;
}

/** Loads of the control word to spin through before sleeping in Atomics.wait (about 0.2 ms). */
const SPIN = 20_000;

/** How long a step may wait for its workers before the pool is declared broken. */
const STEP_TIMEOUT_MS = 60_000;

/**
 * A worker that was handed a step beats its heart within milliseconds: the step's wake-up
 * ends its wait, and every 100 ms wait slice beats too. One whose heartbeat stands still this
 * long while it owes a step is dead: terminated, or killed by a resource limit, which runs none
 * of its code, so nothing but this silence tells a caller blocked in a synchronous step (its
 * exit event cannot be delivered until the step returns).
 */
const SILENT_DEAD_MS = 1_000;
/**
 * Silence is counted in the caller's own checks, each gap at most this long (the checks come
 * every 100 ms wait slice at the most): a pause of the whole process (a suspended job, a
 * frozen container or VM) makes the clock jump, and must not make a live worker look dead.
 */
const CHECK_GAP_MAX_MS = 150;
/** While it runs its range a worker cannot beat: it may take this many times as long as the
 * caller took for its own range of the same size (a descheduled thread, a busy machine). */
const STEPPING_SLACK = 50;

export class WorkerPool {
  readonly #workers: AnyWorker[];
  readonly #control: Int32Array;
  readonly #stalledBelow: Float32Array;
  #broken: string | undefined;
  /** Between a step's signal and its successful end: a failure then leaves the state torn. */
  #inStep = false;
  #canBlock: boolean;
  /** Per worker: the heartbeat last seen in this step, and the silence since it changed (ms,
   * summed over this thread's checks, each gap capped at CHECK_GAP_MAX_MS). */
  readonly #heartbeats: Int32Array;
  readonly #silentMs: Float64Array;
  /** When this thread last looked at the heartbeats. */
  #checkedAt = 0;
  /** How long the calling thread took for its own range in this step (ms). */
  #ownMs = 0;
  /** @internal For tests: a pause between publishing a step and waking the workers. */
  wakeDelayMs = 0;

  private constructor(workers: AnyWorker[], memory: WebAssembly.Memory, plan: StepPlan) {
    const threads = plan.statsRegions.length;
    this.#workers = workers;
    this.#control = new Int32Array(memory.buffer, plan.control, controlWords(threads));
    this.#stalledBelow = new Float32Array(memory.buffer, plan.control + CONTROL.stalledBelow * 4, 1);
    this.#canBlock = canBlock(this.#control);
    this.#heartbeats = new Int32Array(threads - 1);
    this.#silentMs = new Float64Array(threads - 1);
  }

  /** Starts `threads - 1` workers over `memory` and waits until each has its instance. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, plan: StepPlan, threads: number): Promise<WorkerPool> {
    const workerThreads = await nodeWorkerThreads();
    const workers: AnyWorker[] = [];
    const pool = new WorkerPool(workers, memory, plan);
    try {
      await Promise.all(
        Array.from({ length: threads - 1 }, async (_, i) => {
          const k = i + 1;
          const [begin, end] = threadRange(plan.total, threads, k);
          const init = {
            module,
            memory,
            control: plan.control,
            tensors: plan.tensors,
            nTensors: plan.nTensors,
            groups: plan.groups,
            nGroups: plan.nGroups,
            begin,
            end,
            stats: plan.statsRegions[k],
            index: k,
            status: statusWord(k),
            controlWords: controlWords(threads),
            stackSize: 65536,
          };
          // Listed before it is ready, so that a failed start terminates it too; slot k-1 is worker k.
          await (workerThreads ? startNodeWorker(workerThreads, init, pool, workers, i) : startWebWorker(init, pool, workers, i));
        }),
      );
    } catch (e) {
      pool.terminate();
      throw e instanceof AdadeltaError ? e : new AdadeltaError(`could not start worker threads: ${(e as Error).message}`, 'threads');
    }
    return pool;
  }

  get size(): number {
    return this.#workers.length + 1;
  }

  /** @internal Called by a worker's error or exit handler. */
  markBroken(reason: string): void {
    this.#broken ??= reason;
  }

  #signal(withStats: boolean, stalledBelow: number): void {
    if (this.#broken !== undefined) throw new AdadeltaError(`a worker thread failed (${this.#broken}); this optimizer cannot step any more`, 'threads');
    const ctl = this.#control;
    this.#inStep = true;
    Atomics.store(ctl, CONTROL.failed, 0);
    Atomics.store(ctl, CONTROL.withStats, withStats ? 1 : 0);
    this.#stalledBelow[0] = stalledBelow;
    Atomics.store(ctl, CONTROL.pending, this.#workers.length);
    // Heartbeats are judged from here: each worker owes a sign of life from now on.
    this.#checkedAt = performance.now();
    for (let i = 0; i < this.#heartbeats.length; i++) {
      this.#heartbeats[i] = Atomics.load(ctl, statusWord(i + 1) + STATUS.heartbeat);
      this.#silentMs[i] = 0;
    }
    Atomics.add(ctl, CONTROL.generation, 1);
    if (this.wakeDelayMs > 0) for (const until = performance.now() + this.wakeDelayMs; performance.now() < until; );
    Atomics.notify(ctl, CONTROL.generation);
  }

  #finish(): void {
    if (Atomics.load(this.#control, CONTROL.failed) !== 0) this.#fail('the kernel trapped in a worker');
    this.#inStep = false;
  }

  /** Whether the last step failed after it had started: some ranges may have stepped. */
  get started(): boolean {
    return this.#inStep;
  }

  /** Ends the pool for good: no worker may go on writing into the state. */
  #fail(reason: string): never {
    this.markBroken(reason);
    this.terminate();
    throw new AdadeltaError(`a worker thread failed (${reason})`, 'threads');
  }

  /** The calling thread's own range; if it traps, the pool cannot be trusted any more. */
  #runOwn(runOwn: () => void): void {
    const started = performance.now();
    try {
      runOwn();
    } catch (e) {
      this.#fail(`the kernel trapped on the calling thread: ${(e as Error).message}`);
    }
    this.#ownMs = performance.now() - started;
  }

  /** Fails the step if a worker's loop has ended or its heartbeat has stopped (it will never
   * answer), or if more workers reported than were asked: a protocol error that would
   * otherwise wait out the timeout. */
  #checkWorkers(): void {
    const ctl = this.#control;
    if (Atomics.load(ctl, CONTROL.pending) < 0) this.#fail('a worker reported a step twice');
    const generation = Atomics.load(ctl, CONTROL.generation);
    const now = performance.now();
    const gap = Math.min(now - this.#checkedAt, CHECK_GAP_MAX_MS);
    this.#checkedAt = now;
    for (let i = 0; i < this.#heartbeats.length; i++) {
      const status = statusWord(i + 1);
      const phase = Atomics.load(ctl, status + STATUS.phase);
      if (phase === STOPPED) this.#fail(`worker ${i + 1} stopped`);
      const heartbeat = Atomics.load(ctl, status + STATUS.heartbeat);
      if (heartbeat !== this.#heartbeats[i]) {
        this.#heartbeats[i] = heartbeat;
        this.#silentMs[i] = 0;
        continue;
      }
      // Done with this step (it took it and is past its range): it owes nothing.
      if (Atomics.load(ctl, status + STATUS.seen) === generation && phase !== STEPPING) continue;
      const allowed = phase === STEPPING ? Math.max(SILENT_DEAD_MS, STEPPING_SLACK * this.#ownMs) : SILENT_DEAD_MS;
      const silent = this.#silentMs[i]! + gap;
      this.#silentMs[i] = silent;
      if (silent > allowed) {
        this.#fail(`worker ${i + 1} is dead: no heartbeat for ${Math.round(silent)} ms while ${PHASE[phase] ?? phase} (last took step ${Atomics.load(ctl, status + STATUS.seen)} of ${generation})`);
      }
    }
  }

  #timeOut(): never {
    const generation = Atomics.load(this.#control, CONTROL.generation);
    const late = this.#workers.map((_, i) => {
      const [phase, seen] = [Atomics.load(this.#control, statusWord(i + 1) + STATUS.phase), Atomics.load(this.#control, statusWord(i + 1) + STATUS.seen)];
      return `worker ${i + 1}: ${PHASE[phase] ?? phase}, last took step ${seen} of ${generation}`;
    });
    this.#fail(`no answer within ${STEP_TIMEOUT_MS / 1000} s (${late.join('; ')})`);
  }

  /** One step: workers run their ranges while `runOwn` runs the calling thread's range. */
  run(withStats: boolean, stalledBelow: number, runOwn: () => void): void {
    this.#signal(withStats, stalledBelow);
    this.#runOwn(runOwn);
    const ctl = this.#control;
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    // The workers usually finish about when this thread does: spin before sleeping.
    for (let spin = 0; spin < SPIN && Atomics.load(ctl, CONTROL.pending) !== 0; spin++);
    for (let pending = Atomics.load(ctl, CONTROL.pending); pending !== 0; pending = Atomics.load(ctl, CONTROL.pending)) {
      // A browser's main thread may not block in Atomics.wait: spin there instead.
      if (this.#canBlock) Atomics.wait(ctl, CONTROL.pending, pending, 100);
      this.#checkWorkers();
      if (Date.now() > deadline) this.#timeOut();
    }
    this.#finish();
  }

  /** The same as `run`, awaiting the workers without blocking the calling thread. */
  async runAsync(withStats: boolean, stalledBelow: number, runOwn: () => void): Promise<void> {
    this.#signal(withStats, stalledBelow);
    this.#runOwn(runOwn);
    const ctl = this.#control;
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    const waitAsync = (Atomics as { waitAsync?: (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;
    // Node does not count a pending Atomics.waitAsync as work, and the workers are unref'd: a
    // program whose last act is `await opt.stepAsync()` would exit mid-step (code 13). A timer
    // holds the event loop open until the step settles.
    const keepAlive = setInterval(() => {}, STEP_TIMEOUT_MS);
    try {
      for (let pending = Atomics.load(ctl, CONTROL.pending); pending !== 0; pending = Atomics.load(ctl, CONTROL.pending)) {
        const result = waitAsync?.(ctl, CONTROL.pending, pending, 100);
        if (result?.async) await result.value;
        else if (!result) await new Promise((resolve) => setTimeout(resolve, 0));
        if (this.#broken !== undefined) this.#fail(this.#broken);
        this.#checkWorkers();
        if (Date.now() > deadline) this.#timeOut();
      }
    } finally {
      clearInterval(keepAlive);
    }
    this.#finish();
  }

  /** Stops every worker. */
  terminate(): void {
    this.#broken ??= 'the optimizer was disposed';
    Atomics.store(this.#control, CONTROL.stop, 1);
    Atomics.add(this.#control, CONTROL.generation, 1);
    Atomics.notify(this.#control, CONTROL.generation);
    for (const w of this.#workers) {
      // A terminated worker stays referenced until its exit event is handled, and our handlers
      // hold this pool and so the shared memory: drop them first (a no-op 'error' handler keeps
      // a late error from throwing), then terminate, whose promise settles when the thread is
      // gone and with it the worker's own hold on the memory.
      if (w.removeAllListeners) {
        w.removeAllListeners();
        w.on?.('error', () => {});
      } else {
        w.onmessage = null;
        w.onerror = null;
      }
      workerExiting(w.terminate());
    }
  }

  /** @internal For tests: ends one worker as if it had crashed. */
  async killWorker(index: number): Promise<void> {
    await this.#workers[index]?.terminate();
  }
}

function canBlock(ctl: Int32Array): boolean {
  try {
    // Where blocking is allowed this returns 'not-equal' at once (the word is not -1).
    Atomics.wait(ctl, CONTROL.failed, -1, 0);
    return true;
  } catch {
    return false;
  }
}

function startNodeWorker(wt: WorkerThreads, init: object, pool: WorkerPool, workers: AnyWorker[], slot: number): Promise<AnyWorker> {
  return new Promise((resolve, reject) => {
    const worker = new wt.Worker(WORKER_SOURCE, { eval: true });
    workers[slot] = worker;
    let ready = false;
    worker.on('message', (m) => {
      const msg = m as { ready?: boolean; error?: string };
      if (msg.ready) {
        ready = true;
        // A finished program must not wait for its workers (dispose() also ends them). Not
        // before now: the start must keep the process alive, and a listener added after
        // unref() refs the worker's port again.
        worker.unref();
        resolve(worker);
      } else if (msg.error) {
        reject(new AdadeltaError(`a worker could not start: ${msg.error}`, 'threads'));
      }
    });
    worker.on('error', (e) => {
      pool.markBroken(`worker error: ${(e as Error).message}`);
      if (!ready) reject(e);
    });
    worker.on('exit', (code) => {
      pool.markBroken(`worker exited with code ${code as number}`);
      if (!ready) reject(new AdadeltaError(`a worker exited before it started (code ${code as number})`, 'threads'));
    });
    worker.postMessage(init);
  });
}

function startWebWorker(init: object, pool: WorkerPool, workers: AnyWorker[], slot: number): Promise<AnyWorker> {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new Worker(url);
    workers[slot] = worker;
    let ready = false;
    worker.onmessage = (e: MessageEvent) => {
      const msg = e.data as { ready?: boolean; error?: string };
      // The script has loaded by the time it answers: the URL can go.
      URL.revokeObjectURL(url);
      if (msg.ready) {
        ready = true;
        resolve(worker);
      } else if (msg.error) {
        reject(new AdadeltaError(`a worker could not start: ${msg.error}`, 'threads'));
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      pool.markBroken(`worker error: ${e.message}`);
      if (!ready) reject(new AdadeltaError(`a worker could not start: ${e.message}`, 'threads'));
    };
    worker.postMessage(init);
  });
}
