/**
 * The control block one step's threads share: Int32 words in the shared wasm memory. The main
 * thread fills it and bumps GENERATION; each worker wakes on that, runs its element range, and
 * decrements PENDING. worker-source.ts reads the same offsets (it is a string: keep in sync).
 */
export const CONTROL = {
  generation: 0,
  pending: 1,
  stop: 2,
  failed: 3,
  withStats: 4,
  /** float32 bits of the stats threshold. */
  stalledBelow: 5,
  words: 8,
} as const;
