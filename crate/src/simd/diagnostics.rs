//! The SIMD step with diagnostics (`stats.rs` says what they are): `simd.rs`'s step, block by
//! block, with the statistics gathered beside it.

use super::{pair, Constants};
use crate::kernel::{self, Hyper};
use crate::stats::{self, Accumulator, SAMPLE_EVERY};
use core::arch::wasm32::*;

/// Elements per diagnostics block: the f32 lane sums run at most this long before they are
/// flushed into the f64 accumulator.
const BLOCK: usize = 1024;

/// Below this `1 - rho`, `acc_term` may underflow, or is 0 (rho = 1), and no longer tells the
/// update's size.
const MIN_OMR_FOR_ACC_TERM: f32 = 1.0 / 65536.0;

/// Ratio space needs a positive finite `lr`: `lr * ratio` is then monotone and `lr^2 / (1-rho)`
/// a finite scale. Tensors outside it (lr 0 or -0, an lr past f32::MAX, rho near 1) are rare,
/// and take the scalar kernel, which computes every rate and update itself.
#[inline(always)]
pub(super) fn stats_loop<const MAXIMIZE: bool, const DECAY: bool>(p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper, st: &mut Accumulator) {
    if h.one_minus_rho >= MIN_OMR_FOR_ACC_TERM && h.lr > 0.0 && h.lr.is_finite() {
        stats_blocks::<MAXIMIZE, DECAY>(p, grad, sq, acc, h, st);
    } else {
        kernel::step_stats(p, grad, sq, acc, h, st);
    }
}

/// The step with diagnostics, block by block. The step loop sums the squares of the update term
/// and of the new params, and keeps each vector's ratio in a 4 KB buffer; `LaneStats::scan`
/// then takes the rate statistics from it, and the histogram samples it.
#[inline(always)]
fn stats_blocks<const MAXIMIZE: bool, const DECAY: bool>(
    p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper, st: &mut Accumulator,
) {
    let n = p.len();
    let vector_end = n - n % 8;
    let k = Constants::new(h);
    let stalled_ratio = f32x4_splat(stats::stalled_ratio_bound(h.lr, st.stalled_below));
    let scale = RateScale { lr: h.lr, update_sq: (h.lr as f64) * (h.lr as f64) / h.one_minus_rho as f64 };
    let (pp, gp, sp, ap) = (p.as_mut_ptr(), grad.as_ptr(), sq.as_mut_ptr(), acc.as_mut_ptr());
    // Block starts are multiples of 16, so element `16m` of a block is lane 0 of ratio 4m.
    const _: () = assert!(SAMPLE_EVERY == 16 && BLOCK.is_multiple_of(SAMPLE_EVERY));
    let mut ratios = [f32x4_splat(0.0); BLOCK / 4];
    let mut start = 0;
    while start < vector_end {
        let end = vector_end.min(start + BLOCK);
        let mut update_sq = f32x4_splat(0.0);
        let mut param_sq = f32x4_splat(0.0);
        let mut i = start;
        let mut v = 0;
        while i < end {
            // SAFETY: as in `main_loop`; `v + 1 < BLOCK / 4` because `end - start <= BLOCK`.
            unsafe {
                let (a, b) = pair::<MAXIMIZE, DECAY>(pp.add(i), gp.add(i), sp.add(i), ap.add(i), &k);
                update_sq = f32x4_add(update_sq, f32x4_add(a.acc_term, b.acc_term));
                param_sq = f32x4_add(param_sq, f32x4_add(f32x4_mul(a.new_p, a.new_p), f32x4_mul(b.new_p, b.new_p)));
                *ratios.get_unchecked_mut(v) = a.ratio;
                *ratios.get_unchecked_mut(v + 1) = b.ratio;
            }
            i += 8;
            v += 2;
        }
        let mut lanes = LaneStats::new(update_sq, param_sq);
        lanes.scan(&ratios[..v], stalled_ratio);
        lanes.flush(st, &p[start..end], &scale);
        for r in ratios[..v].iter().step_by(SAMPLE_EVERY / 4) {
            st.sample(h.lr * f32x4_extract_lane::<0>(*r));
        }
        start = end;
    }
    for j in vector_end..n {
        let (rate, update) = kernel::update_one(&mut p[j], grad[j], &mut sq[j], &mut acc[j], h);
        st.observe(rate, update, p[j]);
        if j.is_multiple_of(SAMPLE_EVERY) {
            st.sample(rate);
        }
    }
}


/// Per-lane diagnostics of one block, flushed into the f64 accumulator at its end so float32
/// sums never run long. They work on the ratio `rate / lr`, not the rate, and on `acc_term`,
/// not `update^2`, which saves multiplications; `flush` converts exactly (see `RateScale`).
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
        LaneStats {
            update_sq,
            param_sq,
            min: f32x4_splat(f32::INFINITY),
            max: f32x4_splat(f32::NEG_INFINITY),
            stalled: i32x4_splat(0),
        }
    }

    /// The rate statistics of a block, from the ratios the step loop kept, still in L1. A
    /// separate loop, because inside the step loop these operations competed with the step's
    /// own for V8's sixteen vector registers and spilled. Two sets of accumulators, so that no
    /// operation waits on the one before.
    #[inline(always)]
    fn scan(&mut self, ratios: &[v128], stalled_ratio: v128) {
        let mut other = LaneStats::new(f32x4_splat(0.0), f32x4_splat(0.0));
        // The step loop keeps ratios in pairs, so the remainder of fours is a pair or nothing.
        let quads = ratios.chunks_exact(4);
        if let [a, b] = *quads.remainder() {
            other.observe(a, b, stalled_ratio);
        }
        for r in quads {
            self.observe(r[0], r[1], stalled_ratio);
            other.observe(r[2], r[3], stalled_ratio);
        }
        self.min = f32x4_pmin(self.min, other.min);
        self.max = f32x4_pmax(self.max, other.max);
        self.stalled = i32x4_add(self.stalled, other.stalled);
    }

    #[inline(always)]
    fn observe(&mut self, ra: v128, rb: v128, stalled_ratio: v128) {
        // pmin(acc, r) keeps the accumulator when r is NaN, as the scalar `<` does. Not
        // pmin(ra, rb) first: a NaN ra would carry through it and hide rb.
        self.min = f32x4_pmin(f32x4_pmin(self.min, ra), rb);
        self.max = f32x4_pmax(f32x4_pmax(self.max, ra), rb);
        // A true comparison is all ones (-1 as i32): subtracting it counts.
        self.stalled = i32x4_sub(self.stalled, i32x4_add(f32x4_lt(ra, stalled_ratio), f32x4_lt(rb, stalled_ratio)));
    }

    #[inline(always)]
    fn flush(self, into: &mut Accumulator, block: &[f32], scale: &RateScale) {
        let w = &mut *into.words;
        // Non-finite params are rare: count them only when the block's sum of squares says
        // there may be some (NaN or Inf, or squares past f32::MAX), by one more pass over the
        // block, which is still in L1.
        if !(0..4).all(|lane| lane_f32(self.param_sq, lane).is_finite()) {
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
}

/// How the ratio-space lane statistics map back to rates and updates.
struct RateScale {
    lr: f32,
    /// What a lane's sum of `acc_term` is multiplied by to give its sum of `update^2`:
    /// `lr^2 / (1 - rho)`.
    update_sq: f64,
}

impl RateScale {
    /// `lr * ratio` is monotone in the ratio for a positive finite `lr` (`stats_loop` sends no
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

fn lane_i32(v: v128, lane: usize) -> i32 {
    match lane {
        0 => i32x4_extract_lane::<0>(v),
        1 => i32x4_extract_lane::<1>(v),
        2 => i32x4_extract_lane::<2>(v),
        _ => i32x4_extract_lane::<3>(v),
    }
}
