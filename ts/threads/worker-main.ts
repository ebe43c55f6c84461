/**
 * What a worker thread runs: instantiate the threads build over the shared memory, then loop:
 * wait for a new generation, step its element range, report. Real TypeScript, but
 * self-contained: worker-source.ts embeds this function's text, so it may use nothing from
 * outside but its arguments (the control offsets and phases come in `c`, the import helper and
 * the passes as functions).
 */
import type { kernelImports as KernelImports } from '../wasm/imports.js';
import type { RangeCall, RangeExports, StepTable } from '../wasm/step.js';

/** What the pool sends a worker at start. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  table: StepTable;
  /** The control block's byte address and size in words. */
  control: number;
  controlWords: number;
  /** This worker's thread index (1-based: the caller is thread 0), its status words and range. */
  thread: number;
  status: number;
  begin: number;
  end: number;
  /** The stack this instance takes from the shared heap, in bytes. */
  stackSize: number;
}

/** The control block's word offsets and phase numbers (control.ts), as plain numbers. */
export interface WorkerConstants {
  generation: number;
  pending: number;
  stop: number;
  failed: number;
  op: number;
  args: number;
  phaseWord: number;
  seen: number;
  heartbeat: number;
  awake: number;
  asleep: number;
  stepping: number;
  reporting: number;
  stopped: number;
  /** Loads of the control word to spin through before sleeping. */
  spin: number;
}

type WorkerExports = RangeExports & { readonly __wbindgen_externrefs: WebAssembly.Table; __wbindgen_start(stackSize: number): void };

export async function runWorker(
  init: WorkerInit,
  c: WorkerConstants,
  post: (message: { ready: true } | { error: string }) => void,
  imports: typeof KernelImports,
  calls: readonly RangeCall[],
): Promise<void> {
  const self: { exports?: WorkerExports } = {};
  try {
    const unknownImport = (description: string): never => {
      throw new Error(`unexpected import ${description}`);
    };
    const instance = await WebAssembly.instantiate(init.module, imports(init.module, self, init.memory, unknownImport));
    self.exports = instance.exports as unknown as WorkerExports;
    self.exports.__wbindgen_start(init.stackSize);
    post({ ready: true });
  } catch (e) {
    post({ error: String((e as Error)?.stack ?? e) });
    return;
  }
  const x = self.exports;
  const ctl = new Int32Array(init.memory.buffer, init.control, init.controlWords);
  const args = new Float64Array(init.memory.buffer, init.control + c.args * 4, 2);
  const status = init.status;
  try {
    // Not Atomics.load: the first step may have been signalled already, before this line ran.
    let seen = 0;
    for (;;) {
      // Spin a little before sleeping: a training loop's next step often comes soon, and waking
      // a sleeping thread costs tens of microseconds (more in a VM, where the core halts).
      Atomics.store(ctl, status + c.phaseWord, c.awake);
      for (let spin = 0; spin < c.spin && Atomics.load(ctl, c.generation) === seen; spin++);
      Atomics.store(ctl, status + c.phaseWord, c.asleep);
      // Only a new generation ends the wait, never a wake-up alone: the caller publishes a step,
      // then wakes the workers, and if it is descheduled in between, this worker may spin into
      // the step, finish it and sleep again before that wake-up arrives. Trusting it stepped the
      // range twice and drove PENDING below zero (the step then waited 60 s). The 100 ms slices
      // are a second line of defence against a wake-up that never comes.
      // Each slice also beats the heart: a caller waiting on this worker sees it alive.
      while (Atomics.load(ctl, c.generation) === seen) {
        Atomics.wait(ctl, c.generation, seen, 100);
        Atomics.add(ctl, status + c.heartbeat, 1);
      }
      seen = Atomics.load(ctl, c.generation);
      Atomics.store(ctl, status + c.seen, seen);
      if (Atomics.load(ctl, c.stop) !== 0) return;
      Atomics.store(ctl, status + c.phaseWord, c.stepping);
      Atomics.add(ctl, status + c.heartbeat, 1);
      try {
        calls[Atomics.load(ctl, c.op)]!(x, init.table, init.begin, init.end, init.thread, args[0]!, args[1]!);
      } catch {
        Atomics.store(ctl, c.failed, 1);
      }
      Atomics.store(ctl, status + c.phaseWord, c.reporting);
      Atomics.add(ctl, status + c.heartbeat, 1);
      if (Atomics.sub(ctl, c.pending, 1) === 1) Atomics.notify(ctl, c.pending);
    }
  } finally {
    // When the loop ends by an exception (not by terminate(), which runs no finally), say so
    // where a caller blocked in a step looks: it cannot see this worker's exit event until it
    // returns to its event loop. A terminated worker is found by its stopped heartbeat.
    Atomics.store(ctl, status + c.phaseWord, c.stopped);
    Atomics.notify(ctl, c.pending);
  }
}
