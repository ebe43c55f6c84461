//! Stats accumulated in the same pass as the step (opt-in): per param group, the
//! distribution of the effective learning rate `lr * sqrt((acc + eps) / (sq + eps))`, the size of
//! the applied update, and how many elements stalled or went non-finite.
//!
//! The region a `step_stats` call fills has `STATS_F64` f64 words per group followed by
//! `HIST_BINS` u32 histogram bins per group; `ts/wasm/layout.ts` is rendered from the `STATS`
//! record below (see `layout.rs`), and `ts/stats.ts` summarizes the region.
//!
//! Quantiles come from a histogram of the rate's float32 bit pattern (`bits >> 20`: exponent
//! plus three mantissa bits: eight bins per octave, 6.7% to 12.5% wide). To keep the pass fast
//! the histogram samples every 64th element of each slice the kernel walks (index % 64 == 0):
//! 15,625 samples at 1e6 params; every 16th cost 7 more points of a plain step. Min, max, sums
//! and counts see every element. Both builds sample the same elements, so their histograms
//! agree. Infinite and NaN rates land in the top bins (from `NON_FINITE_BIN`, 0x7f8), which the
//! summary leaves out of the quantiles.

use crate::layout::record;

record! {
    /// f64 word offsets of one group's accumulators, then the histogram's shape.
    STATS {
        count: COUNT = 0,
        sumUpdateSq: SUM_UPDATE_SQ = 1,
        /// Of the params before the step, as in `||update|| / ||param||` (Karpathy's CS231n notes).
        sumParamSq: SUM_PARAM_SQ = 2,
        minRate: MIN_RATE = 3,
        maxRate: MAX_RATE = 4,
        stalled: STALLED = 5,
        /// Params that are NaN or ±Inf after the step.
        nonFinite: NON_FINITE = 6,
        f64Words: STATS_F64 = 8,
        histShift: HIST_SHIFT = 20,
        /// The sign bit is always 0: rates are >= 0 or NaN.
        histBins: HIST_BINS = 1 << (32 - HIST_SHIFT - 1),
        /// The histogram samples the elements whose index in each range the kernel walks is a
        /// multiple of this.
        sampleEvery: SAMPLE_EVERY = 64,
        /// The first bin of infinite and NaN rates, which quantiles leave out.
        nonFiniteBin: NON_FINITE_BIN = 0x7f80_0000 >> HIST_SHIFT,
    }
}

/// The ratio `sqrt((acc + eps) / (sq + eps))` below which an element counts as stalled, so that
/// the SIMD loop can compare ratios instead of multiplying each by `lr`: the smallest `r` in
/// [0, inf] with `!(lr * r < stalled_below)` in float32. `lr * r` never decreases as `r` grows
/// (and with `lr == 0` it is 0 until `r` is infinite, where it is NaN), so `r < bound` holds
/// exactly when `lr * r < stalled_below` does.
pub fn stalled_ratio_bound(lr: f32, stalled_below: f32) -> f32 {
    let stalled = |bits: u32| lr * f32::from_bits(bits) < stalled_below;
    const INF: u32 = 0x7f80_0000;
    // stalled(INF) never holds: lr * inf is inf or NaN.
    let (mut lo, mut hi) = (0u32, INF);
    if !stalled(lo) {
        return 0.0;
    }
    // `stalled_below / lr` is within a few ulps of the bound: narrow the bracket to it first,
    // since the SIMD kernel asks once per tensor, and a model may have thousands of small ones.
    let guess = (stalled_below / lr).to_bits().min(INF);
    let (below, above) = (guess.saturating_sub(4), (guess + 4).min(INF));
    if stalled(below) {
        lo = below;
    }
    if !stalled(above) {
        hi = above;
    }
    // stalled(lo) holds and stalled(hi) does not: bisect the bit patterns, which order
    // non-negative floats.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if stalled(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    f32::from_bits(hi)
}

/// One group's accumulators while a tensor is walked (flushed into the wasm region after it).
pub struct Accumulator<'a> {
    pub words: &'a mut [f64],
    pub hist: &'a mut [u32; HIST_BINS],
    pub stalled_below: f32,
}

impl Accumulator<'_> {
    pub fn reset(&mut self) {
        self.words.fill(0.0);
        self.words[MIN_RATE] = f64::INFINITY;
        self.words[MAX_RATE] = f64::NEG_INFINITY;
        self.hist.fill(0);
    }

    /// Sample one rate into the histogram.
    #[inline(always)]
    pub fn sample(&mut self, rate: f32) {
        // The mask keeps the index in bounds without a check (rates have no sign bit but -0.0).
        self.hist[(rate.to_bits() >> HIST_SHIFT) as usize & (HIST_BINS - 1)] += 1;
    }

    /// Everything but the histogram, for one element (the scalar path and SIMD tails): `old_p`
    /// is the param before the step, `new_p` after it.
    #[inline(always)]
    pub fn observe(&mut self, rate: f32, update: f32, old_p: f32, new_p: f32) {
        let w = &mut *self.words;
        w[COUNT] += 1.0;
        w[SUM_UPDATE_SQ] += (update * update) as f64;
        w[SUM_PARAM_SQ] += (old_p * old_p) as f64;
        if (rate as f64) < w[MIN_RATE] {
            w[MIN_RATE] = rate as f64;
        }
        if (rate as f64) > w[MAX_RATE] {
            w[MAX_RATE] = rate as f64;
        }
        if rate < self.stalled_below {
            w[STALLED] += 1.0;
        }
        if !new_p.is_finite() {
            w[NON_FINITE] += 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::stalled_ratio_bound;

    /// Around the bound, and at the ends of the range, `r < bound` must say what `lr * r < t`
    /// says: the SIMD kernel counts stalled elements by the first, the scalar kernel by the second.
    #[test]
    fn the_ratio_bound_counts_exactly_like_the_rate() {
        let lrs = [0.0f32, 1.0, 0.37, 1e-3, 3.0e-38, 7.5e30, f32::MIN_POSITIVE, 1.0e-45];
        let thresholds = [0.0f32, 1e-4, 1.0, 0.1, 3.4e38, f32::INFINITY, 1.0e-45, 2.5e-39];
        for lr in lrs {
            for t in thresholds {
                let bound = stalled_ratio_bound(lr, t);
                let around = |x: f32| [x, f32::from_bits(x.to_bits().saturating_sub(1)), f32::from_bits((x.to_bits() + 1).min(f32::INFINITY.to_bits()))];
                let probes = [around(bound), around(0.0), around(1.0), around(f32::MAX), around(f32::INFINITY), around(t / lr.max(f32::MIN_POSITIVE))];
                for r in probes.into_iter().flatten().filter(|r| !r.is_nan() && *r >= 0.0) {
                    assert_eq!(r < bound, lr * r < t, "lr {lr:e}, threshold {t:e}, ratio {r:e}, bound {bound:e}");
                }
            }
        }
    }
}
