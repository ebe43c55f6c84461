/**
 * The passes over the descriptor tables (`layout.ts`) that threads split by element range: the
 * step, the step with stats, and the gradient-clipping passes. The main thread and every worker
 * call the kernel through `RANGE_CALLS`, so each export's argument list is spelled once; the
 * workers run these functions' source text (threads/worker-source.ts).
 */

/** Where every pass finds everything, as byte addresses into the kernel's memory. The same
 * object is handed to every thread. */
export interface StepTable {
  /** The tensor records (`TENSOR.words` u32 words each). */
  tensors: number;
  nTensors: number;
  /** The group records (`GROUP.words` f32 words each). */
  groups: number;
  nGroups: number;
  /** Total elements over all tensors: the range that threads split. */
  total: number;
  /** One stats region per thread (`STATS_GROUP_BYTES` per group); thread k fills `stats[k]`. */
  stats: readonly number[];
  /** A gradient norm's block sums: `ceil(total / NORM_BLOCK)` f64 words. */
  norms: number;
}

/** The kernel exports the passes call (crate/src/lib.rs). Pointers and lengths are u32s. */
export interface RangeExports {
  step(tensors: number, nTensors: number, groups: number, nGroups: number, begin: number, end: number, gradScale: number): void;
  step_stats(tensors: number, nTensors: number, groups: number, nGroups: number, begin: number, end: number, stats: number, stalledBelow: number, gradScale: number): void;
  grad_norm(tensors: number, nTensors: number, begin: number, end: number, normType: number, blocks: number): void;
  scale_grads(tensors: number, nTensors: number, begin: number, end: number, scale: number): void;
  clamp_grads(tensors: number, nTensors: number, begin: number, end: number, clip: number): void;
}

/** One pass over thread `thread`'s range `[begin, end)`, with up to two numeric arguments. */
export type RangeCall = (x: RangeExports, t: StepTable, begin: number, end: number, thread: number, a: number, b: number) => void;

// Each is self-contained (no outside names): its source text runs in the workers as it is.
/** A step; `a` scales the gradients (1, or a fused clip's coefficient). */
function step(x: RangeExports, t: StepTable, begin: number, end: number, _thread: number, a: number): void {
  x.step(t.tensors, t.nTensors, t.groups, t.nGroups, begin, end, a);
}
/** A step that fills the thread's stats region; `a` scales the gradients, `b` is the stalled threshold. */
function stepStats(x: RangeExports, t: StepTable, begin: number, end: number, thread: number, a: number, b: number): void {
  x.step_stats(t.tensors, t.nTensors, t.groups, t.nGroups, begin, end, t.stats[thread]!, b, a);
}
/** The block sums of `|g|^a` (a = normType) into `t.norms`. */
function gradNorm(x: RangeExports, t: StepTable, begin: number, end: number, _thread: number, a: number): void {
  x.grad_norm(t.tensors, t.nTensors, begin, end, a, t.norms);
}
/** `grad *= a`. */
function scaleGrads(x: RangeExports, t: StepTable, begin: number, end: number, _thread: number, a: number): void {
  x.scale_grads(t.tensors, t.nTensors, begin, end, a);
}
/** `grad = clamp(grad, -a, a)`. */
function clampGrads(x: RangeExports, t: StepTable, begin: number, end: number, _thread: number, a: number): void {
  x.clamp_grads(t.tensors, t.nTensors, begin, end, a);
}

/** The passes, by name; a pass's number (what the control block carries) is its index in OPS. */
export const RANGE_CALLS = { step, stepStats, gradNorm, scaleGrads, clampGrads } satisfies Record<string, RangeCall>;
export type Op = keyof typeof RANGE_CALLS;
export const OPS = Object.keys(RANGE_CALLS) as readonly Op[];
