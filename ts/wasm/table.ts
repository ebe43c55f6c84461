/**
 * The descriptor table that one `step` call walks: a mirror of `crate/src/table.rs`.
 * test/wasm-build.test.ts checks every offset here against the wasm module's `layout_*` exports.
 */

/** Tensor record fields, in u32 words. */
export const TENSOR = {
  param: 0,
  grad: 1,
  squareAvg: 2,
  accDelta: 3,
  len: 4,
  group: 5,
  words: 6,
} as const;

/** Group record fields, in f32 words. `maximize` is 0 or 1. */
export const GROUP = {
  lr: 0,
  rho: 1,
  oneMinusRho: 2,
  eps: 3,
  weightDecay: 4,
  maximize: 5,
  words: 8,
} as const;
