/**
 * The one call that steps: the kernel's `step`/`step_stats` exports over the descriptor tables
 * (`table.ts`). The main thread and every worker make it through `stepRange`, so the argument
 * list is spelled once; the worker's code embeds this function's text (threads/worker-source.ts).
 */

/** Where one step finds everything, as byte addresses into the kernel's memory. The same
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
}

/** The kernel exports a step needs (crate/src/lib.rs). Pointers and lengths are u32s. */
export interface StepExports {
  step(tensors: number, nTensors: number, groups: number, nGroups: number, begin: number, end: number): void;
  step_stats(tensors: number, nTensors: number, groups: number, nGroups: number, begin: number, end: number, stats: number, stalledBelow: number): void;
}

/**
 * Steps the elements `[begin, end)` of the concatenated tensors; with a `stalledBelow`
 * threshold it also fills the stats region at `stats`. Self-contained (no outside names): its
 * source text runs in the workers as it is.
 */
export function stepRange(x: StepExports, t: StepTable, begin: number, end: number, stats: number, stalledBelow: number | undefined): void {
  if (stalledBelow === undefined) x.step(t.tensors, t.nTensors, t.groups, t.nGroups, begin, end);
  else x.step_stats(t.tensors, t.nTensors, t.groups, t.nGroups, begin, end, stats, stalledBelow);
}
