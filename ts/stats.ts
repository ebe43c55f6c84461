/**
 * Stats of the effective step size, computed by the kernel in the same pass as the step
 * (`opt.step({ stats: true })`) and summarized here. The region's layout, `STATS`, comes from
 * `crate/src/stats.rs` through the generated `wasm/layout.ts`.
 */
import { STATS } from './wasm/layout.js';

/** The default threshold below which an element's effective learning rate counts as stalled. */
export const DEFAULT_STALLED_BELOW = 1e-4;

export interface StepOptions {
  /** Compute stats in this step's pass; read them with `opt.stats()`. */
  stats?: boolean;
  /** Elements whose effective learning rate is below this count as stalled. Default 1e-4. */
  stalledBelow?: number;
  /** Clip the gradients to this total 2-norm first, as `opt.clipGradNorm(maxNorm)` would, in
   * the same pass as the step (the gradients themselves are left unscaled). */
  clipGradNorm?: number;
}

/** The distribution of the effective learning rate over a group's elements. */
export interface RateDistribution {
  min: number;
  /** p10, median and p90 are estimated from a histogram with eight bins per octave (6.7% to 12.5%
   * wide) over a sample of every 64th element of each range the kernel walks (each tensor, split
   * further between threads; 15,625 samples at 1e6 params, one for a tensor of up to 64): each is
   * the geometric middle of the bin that holds that quantile of the sample's finite rates, so
   * within 6.1% of it. min and max are exact over all elements: Infinity where a rate
   * overflowed float32, NaN where no element has a rate that is a number. */
  p10: number;
  median: number;
  p90: number;
  max: number;
}

/** One param group's stats for one step. */
export interface GroupStats {
  /** Elements in the group. */
  count: number;
  /** `lr * sqrt(acc + eps) / sqrt(sq + eps)`: the factor that multiplied the gradient this step. */
  effectiveLr: RateDistribution;
  /** RMS of the applied update `lr * d` (squares taken in float32, summed in float64). */
  updateRms: number;
  /** `||Δp|| / ||p||`, with p before the step, as in the CS231n notes' update/param ratio. */
  updateToParamRatio: number;
  /** The fraction of elements whose effective learning rate is below `stalledBelow`. */
  stalledFraction: number;
  stalledBelow: number;
  /** Params that are NaN or ±Infinity after the step (a non-finite gradient, an update that
   * overflowed float32, or eps = 0 with 0/0). */
  nonFinite: number;
}

/** The lower edge of histogram bin `b` as a float32 value. */
function binEdge(b: number, scratch: { u32: Uint32Array; f32: Float32Array }): number {
  scratch.u32[0] = b << STATS.histShift;
  return scratch.f32[0]!;
}

/** The histogram bin of a non-negative float32 `rate`. */
function binOf(rate: number, scratch: { u32: Uint32Array; f32: Float32Array }): number {
  scratch.f32[0] = rate;
  return (scratch.u32[0]! >>> STATS.histShift) & (STATS.histBins - 1);
}

/** The sum of several threads' histograms of one group, reused from call to call. */
const mergedHistogram = new Float64Array(STATS.histBins);

/**
 * Summarizes the regions of one or more `step_stats` calls (one per thread) for every group.
 * `regions[k]` is a view of `nGroups * STATS_GROUP_BYTES` bytes.
 */
export function summarize(regions: readonly DataView[], nGroups: number, stalledBelow: number): GroupStats[] {
  const scratchBuffer = new ArrayBuffer(4);
  const scratch = { u32: new Uint32Array(scratchBuffer), f32: new Float32Array(scratchBuffer) };
  const out: GroupStats[] = [];
  for (let g = 0; g < nGroups; g++) {
    const words = new Float64Array(STATS.f64Words);
    words[STATS.minRate] = Infinity;
    words[STATS.maxRate] = -Infinity;
    for (const region of regions) {
      const base = g * STATS.f64Words * 8;
      const read = (field: number) => region.getFloat64(base + field * 8, true);
      for (const field of [STATS.count, STATS.sumUpdateSq, STATS.sumParamSq, STATS.stalled, STATS.nonFinite]) {
        words[field]! += read(field);
      }
      words[STATS.minRate] = Math.min(words[STATS.minRate]!, read(STATS.minRate));
      words[STATS.maxRate] = Math.max(words[STATS.maxRate]!, read(STATS.maxRate));
    }
    const count = words[STATS.count]!;
    // The kernel's max starts at -Infinity and stays there only if no rate was a number (none,
    // or all NaN). An infinite rate (an lr near f32::MAX) is reported as such.
    const rated = words[STATS.maxRate]! !== -Infinity;
    const min = rated ? words[STATS.minRate]! : NaN;
    const max = rated ? words[STATS.maxRate]! : NaN;
    // Every sampled finite rate lies in [min, max], which are exact: only the bins between theirs
    // can be non-zero, often a hundred of the 2,048 (walking them all took 20 µs a call). The
    // bins of infinite and NaN rates, from nonFiniteBin, stay out of the quantiles.
    const lastFinite = STATS.nonFiniteBin - 1;
    const first = rated ? binOf(min, scratch) : 1;
    const last = rated ? Math.min(binOf(max, scratch), lastFinite) : 0;
    const histBase = nGroups * STATS.f64Words * 8 + g * STATS.histBins * 4;
    const hist = mergedHistogram;
    hist.fill(0, first, last + 1);
    for (const region of regions) {
      // A typed view, not DataView reads: wasm memory is little-endian, and so is every host
      // this package runs on (its zero-copy views assume it too).
      const bins = new Uint32Array(region.buffer, region.byteOffset + histBase, STATS.histBins);
      for (let b = first; b <= last; b++) hist[b]! += bins[b]!;
    }
    let sampled = 0;
    for (let b = first; b <= last; b++) sampled += hist[b]!;
    // p10, median and p90 in one walk: each is the bin holding the sample's element at rank
    // floor(q * (sampled - 1)), given as the bin's geometric middle clamped to the exact extremes.
    const quantiles = [0.1, 0.5, 0.9];
    const found = quantiles.map(() => (sampled === 0 ? NaN : max));
    let next = 0;
    let seen = 0;
    for (let b = first; b <= last && next < quantiles.length; b++) {
      if (hist[b] === 0) continue;
      seen += hist[b]!;
      if (seen <= quantiles[next]! * (sampled - 1)) continue;
      const lo = binEdge(b, scratch);
      const hi = binEdge(b + 1, scratch);
      const mid = lo > 0 ? Math.sqrt(lo * hi) : lo;
      for (; next < quantiles.length && seen > quantiles[next]! * (sampled - 1); next++) found[next] = Math.min(Math.max(mid, min), max);
    }
    const [p10, median, p90] = found as [number, number, number];
    const sumUpdateSq = words[STATS.sumUpdateSq]!;
    out.push({
      count,
      effectiveLr: { min, p10, median, p90, max },
      updateRms: count > 0 ? Math.sqrt(sumUpdateSq / count) : NaN,
      updateToParamRatio: Math.sqrt(sumUpdateSq) / Math.sqrt(words[STATS.sumParamSq]!),
      stalledFraction: count > 0 ? words[STATS.stalled]! / count : NaN,
      stalledBelow,
      nonFinite: words[STATS.nonFinite]!,
    });
  }
  return out;
}
