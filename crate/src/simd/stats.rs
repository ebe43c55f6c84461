//! The SIMD step with stats (`stats.rs` says what they are): `simd.rs`'s step, block by
//! block, with the statistics gathered beside it.

use super::{vector_step, Constants};
use crate::scalar::{self, Hyper};
use crate::stats::{self, Accumulator, SAMPLE_EVERY};
use core::arch::wasm32::*;
use core::mem::MaybeUninit;

/// Elements per stats block: the f32 lane sums run at most this long before they are
/// flushed into the f64 accumulator.
const BLOCK: usize = 1024;

/// Below this `1 - rho`, `acc_term` may underflow, or is 0 (rho = 1), and no longer tells the
/// update's size.
const MIN_OMR_FOR_ACC_TERM: f32 = 1.0 / 65536.0;

/// Ratio space needs a positive finite `lr`: `lr * ratio` is then monotone and `lr^2 / (1-rho)`
/// a finite scale. Tensors outside it (lr 0 or -0, an lr past f32::MAX, rho near 1) are rare,
/// and take the scalar kernel, which computes every rate and update itself.
#[inline(always)]
pub(super) fn main_loop<const MAXIMIZE: bool, const DECAY: bool>(p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper, st: &mut Accumulator) {
    if h.one_minus_rho >= MIN_OMR_FOR_ACC_TERM && h.lr > 0.0 && h.lr.is_finite() {
        stats_blocks::<MAXIMIZE, DECAY>(p, grad, sq, acc, h, st);
    } else {
        scalar::step_stats(p, grad, sq, acc, h, st);
    }
}

/// The step with stats, block by block. The step loop sums the squares of the update term
/// and of the params before the step, and keeps each vector's ratio in a 4 KB buffer;
/// `LaneStats::scan` then takes the rate statistics from it, and the histogram samples it.
///
/// Why this shape (each measured against the alternative, `node` scripts alternating plain and
/// steps with stats on one optimizer at 1e6): whatever the step loop adds costs most where it
/// waits on the division and roots, or makes V8 spill its sixteen vector registers. The params
/// before the step are loaded first, so their squares wait on nothing (those of the new params
/// cost 9 points more). The rate statistics run over the buffer in a loop of their own: in the
/// step loop, even deferred to the block before, they spilled and cost more.
#[inline(always)]
fn stats_blocks<const MAXIMIZE: bool, const DECAY: bool>(
    p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper, st: &mut Accumulator,
) {
    let n = p.len();
    let vector_end = n - n % 4;
    let k = Constants::new(h);
    let stalled_ratio = f32x4_splat(stats::stalled_ratio_bound(h.lr, st.stalled_below));
    let scale = RateScale { lr: h.lr, update_sq: (h.lr as f64) * (h.lr as f64) / h.one_minus_rho as f64 };
    let (pp, gp, sp, ap) = (p.as_mut_ptr(), grad.as_ptr(), sq.as_mut_ptr(), acc.as_mut_ptr());
    // Block starts are multiples of SAMPLE_EVERY, so the sampled elements of a block are lane 0
    // of every (SAMPLE_EVERY / 4)-th ratio.
    const _: () = assert!(SAMPLE_EVERY.is_multiple_of(4) && BLOCK.is_multiple_of(SAMPLE_EVERY));
    // Uninitialized: zeroing 4 KB cost a model of 1,000-element tensors a tenth of its step.
    let mut buffer = MaybeUninit::<[v128; BLOCK / 4]>::uninit();
    let mut start = 0;
    while start < vector_end {
        let end = vector_end.min(start + BLOCK);
        let mut update_sq = f32x4_splat(0.0);
        let mut param_sq = f32x4_splat(0.0);
        // The ratio of element `i` is at `i - start` in the buffer, so one index walks both.
        let rp = (buffer.as_mut_ptr() as *mut f32).wrapping_sub(start);
        let mut i = start;
        while i < end {
            // SAFETY: as in `main_loop`; `i - start + 4 <= BLOCK` because `end - start <= BLOCK`.
            unsafe {
                let o = vector_step::<MAXIMIZE, DECAY>(pp.add(i), gp.add(i), sp.add(i), ap.add(i), &k);
                update_sq = f32x4_add(update_sq, o.acc_term);
                param_sq = f32x4_add(param_sq, f32x4_mul(o.old_p, o.old_p));
                v128_store(rp.wrapping_add(i) as *mut v128, o.ratio);
            }
            i += 4;
        }
        let v = (end - start) / 4;
        // SAFETY: the loop above wrote the block's `v` ratios, the first `v` vectors of the buffer.
        let ratios = unsafe { core::slice::from_raw_parts(buffer.as_ptr() as *const v128, v) };
        let mut lanes = LaneStats::new(update_sq, param_sq);
        lanes.scan(ratios, stalled_ratio);
        lanes.flush(st, &p[start..end], &scale);
        for r in ratios.iter().step_by(SAMPLE_EVERY / 4) {
            st.sample(h.lr * f32x4_extract_lane::<0>(*r));
        }
        start = end;
    }
    for j in vector_end..n {
        scalar::update_one_observed(&mut p[j], grad[j], &mut sq[j], &mut acc[j], h, st, j);
    }
}

/// Per-lane stats of one block, flushed into the f64 accumulator at its end so float32
/// sums never run long. They work on the ratio `rate / lr`, not the rate, and on `acc_term`,
/// not `update^2`, which saves multiplications; `flush` converts exactly (see `RateScale`).
#[derive(Clone, Copy)]
struct LaneStats {
    update_sq: v128,
    param_sq: v128,
    min: v128,
    max: v128,
    stalled: v128,
}

impl LaneStats {
    #[inline(always)]
    fn new(update_sq: v128, param_sq: v128) -> Self {
        LaneStats { update_sq, param_sq, min: f32x4_splat(f32::INFINITY), max: f32x4_splat(f32::NEG_INFINITY), stalled: i32x4_splat(0) }
    }

    /// The rate statistics of a block, from the ratios the step loop kept, still in L1: min and
    /// max, then the stalled count, which only a block whose minimum is below the bound needs
    /// (NaN ratios are neither stalled nor seen by min). So a block with a stalled element costs
    /// a second, equally cheap pass. Four sets of accumulators, each taking one vector of four:
    /// two dependent minimums per set and pass ran at half the speed.
    #[inline(always)]
    fn scan(&mut self, ratios: &[v128], stalled_ratio: v128) {
        let mut sets = [*self; 4];
        for set in &mut sets[1..] {
            *set = LaneStats::new(f32x4_splat(0.0), f32x4_splat(0.0));
        }
        let quads = ratios.chunks_exact(4);
        let rest = quads.remainder();
        for r in quads.clone() {
            for (set, &ratio) in sets.iter_mut().zip(r) {
                set.extremes(ratio);
            }
        }
        for (set, &ratio) in sets.iter_mut().zip(rest) {
            set.extremes(ratio);
        }
        let [mut all, b, c, d] = sets;
        all.min = f32x4_pmin(f32x4_pmin(all.min, b.min), f32x4_pmin(c.min, d.min));
        all.max = f32x4_pmax(f32x4_pmax(all.max, b.max), f32x4_pmax(c.max, d.max));
        if v128_any_true(f32x4_lt(all.min, stalled_ratio)) {
            let mut counts = [i32x4_splat(0); 4];
            for r in quads {
                for (count, &ratio) in counts.iter_mut().zip(r) {
                    // A true comparison is all ones (-1 as i32): subtracting it counts.
                    *count = i32x4_sub(*count, f32x4_lt(ratio, stalled_ratio));
                }
            }
            for (count, &ratio) in counts.iter_mut().zip(rest) {
                *count = i32x4_sub(*count, f32x4_lt(ratio, stalled_ratio));
            }
            all.stalled = i32x4_add(all.stalled, i32x4_add(i32x4_add(counts[0], counts[1]), i32x4_add(counts[2], counts[3])));
        }
        *self = all;
    }

    /// pmin(acc, r) keeps the accumulator when r is NaN, as the scalar `<` does; the sets are
    /// combined only at the end, where a NaN can no longer be among them.
    #[inline(always)]
    fn extremes(&mut self, ratio: v128) {
        self.min = f32x4_pmin(self.min, ratio);
        self.max = f32x4_pmax(self.max, ratio);
    }

    #[inline(always)]
    fn flush(self, into: &mut Accumulator, block: &[f32], scale: &RateScale) {
        let w = &mut *into.words;
        if self.may_leave_non_finite_params(scale) {
            w[stats::NON_FINITE] += block.iter().filter(|x| !x.is_finite()).count() as f64;
        }
        w[stats::COUNT] += block.len() as f64;
        for lane in 0..4 {
            let (u, p) = (lane_f32(self.update_sq, lane), lane_f32(self.param_sq, lane));
            let (lo, hi) = scale.rates(lane_f32(self.min, lane), lane_f32(self.max, lane));
            w[stats::SUM_UPDATE_SQ] += u as f64 * scale.update_sq;
            w[stats::SUM_PARAM_SQ] += p as f64;
            if (lo as f64) < w[stats::MIN_RATE] {
                w[stats::MIN_RATE] = lo as f64;
            }
            if (hi as f64) > w[stats::MAX_RATE] {
                w[stats::MAX_RATE] = hi as f64;
            }
            w[stats::STALLED] += lane_i32(self.stalled, lane) as f64;
        }
    }

    /// Whether a param of the block may be NaN or infinite after the step, so that the block must
    /// be searched for them (rare: one more pass over it, still in L1). Finite sums of squares
    /// bound every old param below sqrt(f32::MAX) and every update below `MAX_UPDATE`, and their
    /// difference cannot overflow; anything else, NaN included, sends the block to the search.
    fn may_leave_non_finite_params(&self, scale: &RateScale) -> bool {
        const MAX_UPDATE: f64 = f32::MAX as f64 / 4.0;
        !(0..4).all(|lane| {
            let (u, p) = (lane_f32(self.update_sq, lane), lane_f32(self.param_sq, lane));
            p.is_finite() && u.is_finite() && (u as f64) * scale.update_sq <= MAX_UPDATE * MAX_UPDATE
        })
    }
}

/// How the ratio-space lane statistics map back to rates and updates.
struct RateScale {
    lr: f32,
    /// What a lane's sum of `acc_term` is multiplied by to give its sum of `update^2`:
    /// `lr^2 / (1 - rho)`.
    update_sq: f64,
}

impl RateScale {
    /// `lr * ratio` is monotone in the ratio for a positive finite `lr` (`main_loop` sends no
    /// other here), so the lane's extreme ratios give its extreme rates exactly, as float32
    /// products like the scalar kernel's.
    fn rates(&self, min_ratio: f32, max_ratio: f32) -> (f32, f32) {
        (self.lr * min_ratio, self.lr * max_ratio)
    }
}

fn lane_f32(v: v128, lane: usize) -> f32 {
    match lane {
        0 => f32x4_extract_lane::<0>(v),
        1 => f32x4_extract_lane::<1>(v),
        2 => f32x4_extract_lane::<2>(v),
        _ => f32x4_extract_lane::<3>(v),
    }
}

/// Lane extraction moves bits unchanged, so an i32 lane is the f32 lane's bit pattern.
fn lane_i32(v: v128, lane: usize) -> i32 {
    lane_f32(v, lane).to_bits() as i32
}
