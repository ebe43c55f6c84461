/**
 * A pool of workers that step disjoint element ranges of one shared wasm memory. The calling
 * thread steps the first range itself, so `threads: 2` means one worker. Ranges split the
 * concatenation of all tensors, not tensors, so one huge tensor still splits; every element
 * sees the same operations whichever thread runs it, so results are bit-identical to one thread.
 * This module is the Atomics protocol; starting a worker is launcher.ts's, and what a worker
 * runs is worker-main.ts's.
 */
import { AdadeltaError } from '../errors.js';
import { NORM_BLOCK } from '../wasm/layout.js';
import { OPS, type Op, type StepTable } from '../wasm/step.js';
import { ARGS, CONTROL, controlWords, PHASE, SPIN, STATUS, statusWord, STEPPING, STOPPED } from './control.js';
import { canBlock } from './environment.js';
import { poolHooks } from './hooks.js';
import { workerLauncher, type WorkerHandle } from './launcher.js';
import { workerExiting } from './release.js';

/** The range of thread `k` of `threads`, in elements: whole blocks of a gradient norm's sum
 * (NORM_BLOCK, a multiple of the f32x4 width), so that every block is summed by one thread. */
function threadRange(total: number, threads: number, k: number): [number, number] {
  const size = Math.ceil(total / threads / NORM_BLOCK) * NORM_BLOCK;
  return [Math.min(total, k * size), Math.min(total, (k + 1) * size)];
}

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
  readonly #workers: WorkerHandle[];
  readonly #control: Int32Array;
  readonly #args: Float64Array;
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
  /** The end of the calling thread's own range (it starts at 0). */
  readonly ownEnd: number;

  private constructor(workers: WorkerHandle[], memory: WebAssembly.Memory, table: StepTable, control: number) {
    const threads = table.stats.length;
    this.#workers = workers;
    this.ownEnd = threadRange(table.total, threads, 0)[1];
    this.#control = new Int32Array(memory.buffer, control, controlWords(threads));
    this.#args = new Float64Array(memory.buffer, control + CONTROL.args * 4, ARGS);
    this.#canBlock = canBlock(this.#control);
    this.#heartbeats = new Int32Array(threads - 1);
    this.#silentMs = new Float64Array(threads - 1);
  }

  /**
   * Starts a worker for each stats region of `table` but the first (the calling thread's), over
   * `memory`, and waits until each has its instance. `control` is the byte address of
   * `controlWords(threads)` words; `stackSize` the stack each worker instance takes.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, table: StepTable, control: number, stackSize: number): Promise<WorkerPool> {
    const launch = await workerLauncher();
    const threads = table.stats.length;
    const workers: WorkerHandle[] = [];
    const pool = new WorkerPool(workers, memory, table, control);
    try {
      await Promise.all(
        Array.from({ length: threads - 1 }, (_, i) => {
          const thread = i + 1;
          const [begin, end] = threadRange(table.total, threads, thread);
          const init = { module, memory, table, control, controlWords: controlWords(threads), thread, status: statusWord(thread), begin, end, stackSize };
          const { worker, ready } = launch(init, (reason) => pool.#markBroken(reason));
          // Listed before it is ready, so that a failed start terminates it too; slot k-1 is worker k.
          workers[i] = worker;
          poolHooks.workerStarted?.(() => worker.terminate());
          return ready;
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

  /** A worker's error or exit: the next step fails. */
  #markBroken(reason: string): void {
    this.#broken ??= reason;
  }

  /** Publishes a pass and its arguments. */
  #signal(op: Op, a: number, b: number): void {
    // Refused before it starts, a pass changes nothing: whatever failed before is not in progress.
    this.#inStep = false;
    if (this.#broken !== undefined) throw new AdadeltaError(`a worker thread failed (${this.#broken}); this optimizer cannot step any more`, 'threads');
    const ctl = this.#control;
    this.#inStep = true;
    Atomics.store(ctl, CONTROL.failed, 0);
    Atomics.store(ctl, CONTROL.op, OPS.indexOf(op));
    this.#args[0] = a;
    this.#args[1] = b;
    Atomics.store(ctl, CONTROL.pending, this.#workers.length);
    // Heartbeats are judged from here: each worker owes a sign of life from now on.
    this.#checkedAt = performance.now();
    for (let i = 0; i < this.#heartbeats.length; i++) {
      this.#heartbeats[i] = Atomics.load(ctl, statusWord(i + 1) + STATUS.heartbeat);
      this.#silentMs[i] = 0;
    }
    Atomics.add(ctl, CONTROL.generation, 1);
    poolHooks.beforeWake?.();
    Atomics.notify(ctl, CONTROL.generation);
  }

  #finish(): void {
    if (Atomics.load(this.#control, CONTROL.failed) !== 0) this.#fail('the kernel trapped in a worker');
    this.#inStep = false;
  }

  /** Whether a step has been handed to the workers and has not ended: if it fails now, some
   * ranges may have stepped and others not. */
  get inStep(): boolean {
    return this.#inStep;
  }

  /** Ends the pool for good: no worker may go on writing into the state. */
  #fail(reason: string): never {
    this.#markBroken(reason);
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

  /** One pass: workers run their ranges while `runOwn` runs the calling thread's range. */
  run(op: Op, a: number, b: number, runOwn: () => void): void {
    this.#signal(op, a, b);
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
  async runAsync(op: Op, a: number, b: number, runOwn: () => void): Promise<void> {
    this.#signal(op, a, b);
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
      // hold this pool and so the shared memory: drop them first, then terminate, whose promise
      // settles when the thread is gone and with it the worker's own hold on the memory.
      w.detach();
      workerExiting(w.terminate());
    }
  }
}
