/**
 * Giving a disposed threaded optimizer's memory back. A shared wasm memory is freed only when
 * the garbage collector finds it unreachable, and V8 never hurries that: it counts a
 * SharedArrayBuffer's bytes as 0 towards the external memory that triggers a collection
 * (`BackingStore::PerIsolateAccountingLength`), so a program that creates and disposes threaded
 * optimizers keeps every one of them until something else happens to cause a full GC (12 cycles
 * of 3e7 params held 6.4 GB; one thread, whose memory V8 does count, held 1 GB).
 *
 * So before a threaded optimizer reserves its memory, if any has been disposed since, this runs
 * one full collection, as jest's leak detector does: where Node hides `gc`, it exposes it for one
 * new context and hides it again. Browsers offer no such call: there, memory returns at the
 * engine's next full collection (README, "Threads").
 */

import { nodeBuiltin } from '../node-builtin.js';

let disposedSinceCollection = 0;
let collect: (() => void) | undefined | null;
/** Workers told to end whose threads may still hold a shared memory. */
const exiting = new Set<Promise<unknown>>();
/** How long a creation waits for disposed optimizers' workers to end. */
const EXIT_WAIT_MS = 1_000;

/** Records that a threaded optimizer has been disposed: its memory awaits a collection. */
export function sharedMemoryDisposed(): void {
  disposedSinceCollection++;
}

/** Records a worker's end: `terminated` is what its terminate() returned (Node: a promise that
 * settles when the thread is gone; browsers end a worker at once). */
export function workerExiting(terminated: unknown): void {
  if (!(terminated instanceof Promise)) return;
  const settled: Promise<unknown> = terminated.then(
    () => exiting.delete(settled),
    () => exiting.delete(settled),
  );
  exiting.add(settled);
}

/**
 * If threaded optimizers were disposed since the last call: waits (up to a second) until their
 * workers' threads are gone, each of which holds the memory until it is, then runs one full
 * collection (Node only), which frees every disposed memory nothing references any more.
 */
export async function collectDisposedSharedMemory(): Promise<void> {
  if (disposedSinceCollection === 0) return;
  disposedSinceCollection = 0;
  if (exiting.size > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise((resolve) => (timer = setTimeout(resolve, EXIT_WAIT_MS)));
    await Promise.race([Promise.all(exiting), timeout]);
    clearTimeout(timer);
  }
  collect ??= (await fullCollection()) ?? null;
  collect?.();
}

async function fullCollection(): Promise<(() => void) | undefined> {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as () => void;
  const [v8, vm] = (await Promise.all([nodeBuiltin('node:v8'), nodeBuiltin('node:vm')]).catch(() => [])) as [
    { setFlagsFromString(flags: string): void } | undefined,
    { runInNewContext(code: string): unknown } | undefined,
  ];
  if (v8 === undefined || vm === undefined) return undefined;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  } finally {
    // Contexts and workers made from now on must not find a `gc` they did not ask for.
    v8.setFlagsFromString('--no-expose-gc');
  }
}
