/**
 * The control block one step's threads share: Int32 words in the shared wasm memory. The main
 * thread fills it and bumps GENERATION; each worker wakes on that, runs its element range, and
 * decrements PENDING. After the fixed words, each worker k (1-based) reports where it is, in
 * words `workers + 2 * (k - 1)`: its phase and the generation it last took, so that a step that
 * times out can say what the late worker was doing. worker-source.ts reads the same offsets (it
 * is a string: keep in sync).
 */
export const CONTROL = {
  generation: 0,
  pending: 1,
  stop: 2,
  failed: 3,
  withStats: 4,
  /** float32 bits of the stats threshold. */
  stalledBelow: 5,
  /** The first worker's status words; the fixed words end here. */
  workers: 8,
} as const;

/** A worker's phase, in its first status word. */
export const PHASE = ['starting', 'awake, waiting for a step', 'asleep, waiting for a step', 'stepping', 'reporting', 'stopped'] as const;

/** The phase of a worker whose loop has ended (an exception, or the pool's stop). */
export const STOPPED = PHASE.indexOf('stopped');

/** The first of worker `k`'s two status words (k from 1): its phase, then the step it took. */
export function statusWord(k: number): number {
  return CONTROL.workers + 2 * (k - 1);
}

/** The control block's size in words for `threads` threads (the caller needs no status): it
 * ends where a next worker's status would begin. */
export function controlWords(threads: number): number {
  return statusWord(threads);
}
