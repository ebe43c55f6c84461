/**
 * The control block one step's threads share: Int32 words in the shared wasm memory. The main
 * thread fills it and bumps GENERATION; each worker wakes on that, runs its element range, and
 * decrements PENDING. After the fixed words, each worker k (1-based) has STATUS_WORDS words from
 * `statusWord(k)`: its phase, the generation it last took, and its heartbeat, a count it bumps
 * whenever it wakes. A caller blocked in a synchronous step cannot receive a worker's exit event,
 * so the heartbeat is how it tells a dead worker from a slow one (as a step that times out says
 * what the late worker was doing). The worker's code (worker-main.ts) runs from a string: these
 * offsets and phases are handed to it as numbers (worker-source.ts), with its own status offset.
 */
export const CONTROL = {
  generation: 0,
  pending: 1,
  stop: 2,
  failed: 3,
  /** Which pass the step runs: an index into OPS (wasm/step.ts). */
  op: 4,
  /** The pass's two float64 arguments (`ARGS` of them), 8-byte aligned from here. */
  args: 6,
  /** The first worker's status words; the fixed words end here. */
  workers: 10,
} as const;

/** The number of float64 arguments a pass takes (RangeCall's `a` and `b`). */
export const ARGS = 2;

/** Words of one worker's status, from `statusWord(k)`. */
export const STATUS = {
  phase: 0,
  /** The generation the worker last took. */
  seen: 1,
  /** Bumped by the worker on each wake-up and around each step: it never stands still for long
   * in a live worker that has been given a step. */
  heartbeat: 2,
  words: 3,
} as const;

/** A worker's phase, in its first status word. */
export const PHASE = ['starting', 'awake, waiting for a step', 'asleep, waiting for a step', 'stepping', 'reporting', 'stopped'] as const;

/** The phase of a worker whose loop has ended (an exception, or the pool's stop). */
export const STOPPED = PHASE.indexOf('stopped');
/** The phase of a worker running its range: no heartbeat until it ends. */
export const STEPPING = PHASE.indexOf('stepping');

/** The first of worker `k`'s status words (k from 1). */
export function statusWord(k: number): number {
  return CONTROL.workers + STATUS.words * (k - 1);
}

/** The control block's size in words for `threads` threads (the caller needs no status): it
 * ends where a next worker's status would begin. */
export function controlWords(threads: number): number {
  return statusWord(threads);
}

/** Loads of a control word that a waiting thread spins through before it sleeps in
 * Atomics.wait (about 0.2 ms): the caller waiting for workers, and a worker waiting for a step. */
export const SPIN = 20_000;
