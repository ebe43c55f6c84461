/**
 * What this environment offers threads: whether it can run workers over shared memory, how
 * many cores it has, and whether this thread may block in Atomics.wait.
 */

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

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
export function canBlock(words: Int32Array): boolean {
  try {
    // Where blocking is allowed this returns 'not-equal' or 'timed-out' at once.
    Atomics.wait(words, 0, Atomics.load(words, 0) + 1, 0);
    return true;
  } catch {
    return false;
  }
}

