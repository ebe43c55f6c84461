/**
 * Diagnostics of the effective step size, computed by the kernel in the same pass as the step
 * (`opt.step({ stats: true })`) and summarized here. The region layout mirrors
 * `crate/src/stats.rs`; test/diagnostics.test.ts checks it against the wasm's `layout_stats_*`.
 */

/** f64 word offsets of one group's accumulators. */
export const STATS = {
  count: 0,
  sumUpdateSq: 1,
  sumParamSq: 2,
  minRate: 3,
  maxRate: 4,
  stalled: 5,
  nonFinite: 6,
  f64Words: 8,
  histShift: 20,
  histBins: 2048,
  /** The first bin of infinite and NaN rates, which quantiles leave out. */
  nonFiniteBin: 0x7f8,
} as const;

/** Bytes of one group's region: the f64 words, then the u32 histogram. */
export const STATS_GROUP_BYTES = STATS.f64Words * 8 + STATS.histBins * 4;

/** The default threshold below which an element's effective learning rate counts as stalled. */
export const DEFAULT_STALLED_BELOW = 1e-4;

export interface StepOptions {
  /** Compute diagnostics in this step's pass; read them with `opt.stats()`. */
  stats?: boolean;
  /** Elements whose effective learning rate is below this count as stalled. Default 1e-4. */
  stalledBelow?: number;
}

/** The distribution of the effective learning rate over a group's elements. */
export interface RateDistribution {
  min: number;
  /** p10, median and p90 are estimated from a histogram with bins 2^(1/8) (about 9%) wide over
   * a sample of every 16th element of each range the kernel walks (each tensor, split further
   * between threads): each is within about 5% of a true quantile of that sample's finite rates.
   * min and max are exact over all elements. */
  p10: number;
  median: number;
  p90: number;
  max: number;
}

/** One param group's diagnostics for one step. */
export interface GroupStats {
  /** Elements in the group. */
  count: number;
  /** `lr * sqrt(acc + eps) / sqrt(sq + eps)`: the factor that multiplied the gradient this step. */
  effectiveLr: RateDistribution;
  /** RMS of the applied update `lr * d` (squares taken in float32, summed in float64). */
  updateRms: number;
  /** `||Δp|| / ||p||`, with p after the step. */
  updateToParamRatio: number;
  /** The fraction of elements whose effective learning rate is below `stalledBelow`. */
  stalledFraction: number;
  stalledBelow: number;
  /** Params that are NaN or ±Infinity after the step (a non-finite gradient, or eps = 0 with 0/0). */
  nonFinite: number;
}

/** The lower edge of histogram bin `b` as a float32 value. */
function binEdge(b: number, scratch: { u32: Uint32Array; f32: Float32Array }): number {
  scratch.u32[0] = b << STATS.histShift;
  return scratch.f32[0]!;
}

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
    const hist = new Float64Array(STATS.histBins);
    for (const region of regions) {
      const base = g * STATS.f64Words * 8;
      const read = (field: number) => region.getFloat64(base + field * 8, true);
      for (const field of [STATS.count, STATS.sumUpdateSq, STATS.sumParamSq, STATS.stalled, STATS.nonFinite]) {
        words[field]! += read(field);
      }
      words[STATS.minRate] = Math.min(words[STATS.minRate]!, read(STATS.minRate));
      words[STATS.maxRate] = Math.max(words[STATS.maxRate]!, read(STATS.maxRate));
      const histBase = nGroups * STATS.f64Words * 8 + g * STATS.histBins * 4;
      for (let b = 0; b < STATS.histBins; b++) hist[b]! += region.getUint32(histBase + b * 4, true);
    }
    const count = words[STATS.count]!;
    const min = count > 0 && Number.isFinite(words[STATS.minRate]!) ? words[STATS.minRate]! : NaN;
    const max = count > 0 && Number.isFinite(words[STATS.maxRate]!) ? words[STATS.maxRate]! : NaN;
    let sampled = 0;
    for (let b = 0; b < STATS.nonFiniteBin; b++) sampled += hist[b]!;
    const quantile = (q: number): number => {
      if (sampled === 0) return NaN;
      const rank = q * (sampled - 1);
      let seen = 0;
      for (let b = 0; b < STATS.nonFiniteBin; b++) {
        seen += hist[b]!;
        if (seen > rank) {
          const lo = binEdge(b, scratch);
          const hi = binEdge(b + 1, scratch);
          // The bin's geometric middle, clamped to the exact extremes.
          const mid = lo > 0 ? Math.sqrt(lo * hi) : lo;
          return Math.min(Math.max(mid, min), max);
        }
      }
      return max;
    };
    const sumUpdateSq = words[STATS.sumUpdateSq]!;
    out.push({
      count,
      effectiveLr: { min, p10: quantile(0.1), median: quantile(0.5), p90: quantile(0.9), max },
      updateRms: count > 0 ? Math.sqrt(sumUpdateSq / count) : NaN,
      updateToParamRatio: Math.sqrt(sumUpdateSq) / Math.sqrt(words[STATS.sumParamSq]!),
      stalledFraction: count > 0 ? words[STATS.stalled]! / count : NaN,
      stalledBelow,
      nonFinite: words[STATS.nonFinite]!,
    });
  }
  return out;
}
