//! The f32x4 step: `kernel::update_one` on four lanes at once, with the same operations in the
//! same order, so that it is bit-identical to the scalar path. Compiled only into the SIMD build.

use crate::kernel::{self, Hyper};
use crate::stats::{self, Accumulator, SAMPLE_EVERY};
use core::arch::wasm32::*;

/// One step over one tensor: a main loop of two f32x4 vectors per iteration, then the scalar
/// kernel for the last `len % 8` elements.
pub fn step(p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper) {
    dispatch::<false>(p, grad, sq, acc, h, None);
}

/// The same step, with diagnostics (see `kernel::step_stats`).
pub fn step_stats(p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper, stats: &mut Accumulator) {
    dispatch::<true>(p, grad, sq, acc, h, Some(stats));
}

#[inline(always)]
fn dispatch<const STATS: bool>(p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper, stats: Option<&mut Accumulator>) {
    let n = p.len();
    assert!(grad.len() == n && sq.len() == n && acc.len() == n, "tensor slices differ in length");
    // Monomorphize on the two branches so the hot loop has none.
    match (h.maximize, h.weight_decay != 0.0) {
        (false, false) => main_loop::<false, false, STATS>(p, grad, sq, acc, h, stats),
        (false, true) => main_loop::<false, true, STATS>(p, grad, sq, acc, h, stats),
        (true, false) => main_loop::<true, false, STATS>(p, grad, sq, acc, h, stats),
        (true, true) => main_loop::<true, true, STATS>(p, grad, sq, acc, h, stats),
    }
}

/// Per-lane diagnostics of the vector loop, flushed into the f64 accumulator every `FLUSH`
/// vectors so float32 sums never run long.
struct LaneStats {
    update_sq: v128,
    param_sq: v128,
    min: v128,
    max: v128,
    stalled: v128,
    count: usize,
}

const FLUSH: usize = 256;

impl LaneStats {
    fn new() -> Self {
        LaneStats {
            update_sq: f32x4_splat(0.0),
            param_sq: f32x4_splat(0.0),
            min: f32x4_splat(f32::INFINITY),
            max: f32x4_splat(f32::NEG_INFINITY),
            stalled: i32x4_splat(0),
            count: 0,
        }
    }

    #[inline(always)]
    fn observe(&mut self, rate: v128, update: v128, param: v128, stalled_below: v128) {
        self.update_sq = f32x4_add(self.update_sq, f32x4_mul(update, update));
        self.param_sq = f32x4_add(self.param_sq, f32x4_mul(param, param));
        // pmin/pmax keep the accumulator when the rate is NaN, as the scalar `<` does.
        self.min = f32x4_pmin(self.min, rate);
        self.max = f32x4_pmax(self.max, rate);
        // A true comparison is all ones (-1 as i32): subtracting it counts.
        self.stalled = i32x4_sub(self.stalled, f32x4_lt(rate, stalled_below));
        self.count += 4;
    }

    // Inlined, so that `LaneStats` never needs an address and its vectors stay in wasm locals
    // instead of round-tripping through the shadow stack in linear memory.
    #[inline(always)]
    fn flush(&mut self, into: &mut Accumulator, block: &[f32]) {
        let w = &mut *into.words;
        // Non-finite params are rare: count them only when the block's sum of squares says
        // there may be some (NaN or Inf, or squares past f32::MAX), by one more pass over the
        // block, which is still in L1.
        if !(0..4).all(|lane| lane_f32(self.param_sq, lane).is_finite()) {
            w[stats::NON_FINITE] += block.iter().filter(|x| !x.is_finite()).count() as f64;
        }
        w[stats::COUNT] += self.count as f64;
        for lane in 0..4 {
            let (u, p, lo, hi) = (lane_f32(self.update_sq, lane), lane_f32(self.param_sq, lane), lane_f32(self.min, lane), lane_f32(self.max, lane));
            w[stats::SUM_UPDATE_SQ] += u as f64;
            w[stats::SUM_PARAM_SQ] += p as f64;
            if (lo as f64) < w[stats::MIN_RATE] {
                w[stats::MIN_RATE] = lo as f64;
            }
            if (hi as f64) > w[stats::MAX_RATE] {
                w[stats::MAX_RATE] = hi as f64;
            }
            w[stats::STALLED] += lane_i32(self.stalled, lane) as f64;
        }
        *self = LaneStats::new();
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

#[inline(always)]
fn main_loop<const MAXIMIZE: bool, const DECAY: bool, const STATS: bool>(
    p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper, mut stats: Option<&mut Accumulator>,
) {
    let n = p.len();
    let vector_end = n - n % 8;
    let lr = f32x4_splat(h.lr);
    let rho = f32x4_splat(h.rho);
    let omr = f32x4_splat(h.one_minus_rho);
    let eps = f32x4_splat(h.eps);
    let wd = f32x4_splat(h.weight_decay);
    let (pp, gp, sp, ap) = (p.as_mut_ptr(), grad.as_ptr(), sq.as_mut_ptr(), acc.as_mut_ptr());
    // Two sets of lane accumulators, one per vector of the unrolled pair: each add then waits on
    // the one two vectors back, not on the previous, which halves the dependency chains.
    let mut lanes = LaneStats::new();
    let stalled_below = f32x4_splat(stats.as_ref().map_or(0.0, |s| s.stalled_below));
    const _: () = assert!(SAMPLE_EVERY.is_multiple_of(8));
    let mut block_start = 0;
    let mut i = 0;
    while i < vector_end {
        // SAFETY: i + 8 <= vector_end <= n, and all four slices hold n elements (checked in
        // `dispatch`), so every 16-byte load and store is in bounds. v128 loads and stores need
        // no alignment.
        let (rate_a, update_a, param_a) = unsafe { lane4::<MAXIMIZE, DECAY>(pp.add(i), gp.add(i), sp.add(i), ap.add(i), lr, rho, omr, eps, wd) };
        let (rate_b, update_b, param_b) = unsafe { lane4::<MAXIMIZE, DECAY>(pp.add(i + 4), gp.add(i + 4), sp.add(i + 4), ap.add(i + 4), lr, rho, omr, eps, wd) };
        i += 8;
        if STATS {
            lanes.observe(rate_a, update_a, param_a, stalled_below);
            lanes.observe(rate_b, update_b, param_b, stalled_below);
            // The histogram samples lane 0 where the slice index is a multiple of SAMPLE_EVERY.
            if (i - 8).is_multiple_of(SAMPLE_EVERY) {
                stats.as_deref_mut().unwrap().sample(f32x4_extract_lane::<0>(rate_a));
            }
            if lanes.count >= FLUSH * 4 {
                lanes.flush(stats.as_deref_mut().unwrap(), &p[block_start..i]);
                block_start = i;
            }
        }
    }
    if STATS {
        let st = stats.as_deref_mut().unwrap();
        lanes.flush(st, &p[block_start..vector_end]);
        for j in vector_end..n {
            let (rate, update) = kernel::update_one(&mut p[j], grad[j], &mut sq[j], &mut acc[j], h);
            st.observe(rate, update, p[j]);
            if j.is_multiple_of(SAMPLE_EVERY) {
                st.sample(rate);
            }
        }
    } else {
        for j in vector_end..n {
            kernel::update_one(&mut p[j], grad[j], &mut sq[j], &mut acc[j], h);
        }
    }
}

/// Four elements of `kernel::update_one`, operation for operation. Returns the rate, the
/// update and the new param, for diagnostics.
///
/// # Safety
/// Each pointer must be valid for reading (and, but for `g`, writing) four f32s.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn lane4<const MAXIMIZE: bool, const DECAY: bool>(
    pp: *mut f32, gp: *const f32, sp: *mut f32, ap: *mut f32,
    lr: v128, rho: v128, omr: v128, eps: v128, wd: v128,
) -> (v128, v128, v128) {
    unsafe {
        let p = v128_load(pp as *const v128);
        let mut g = v128_load(gp as *const v128);
        let sq = v128_load(sp as *const v128);
        let acc = v128_load(ap as *const v128);
        if MAXIMIZE {
            g = f32x4_neg(g);
        }
        if DECAY {
            g = f32x4_add(g, f32x4_mul(wd, p));
        }
        let s = f32x4_add(f32x4_mul(sq, rho), f32x4_mul(f32x4_mul(omr, g), g));
        // kernel::update_one's choice, lane by lane: one root where the quotient is safe.
        let (num, den) = (f32x4_add(acc, eps), f32x4_add(s, eps));
        let q = f32x4_div(num, den);
        let safe = v128_and(f32x4_ge(q, f32x4_splat(kernel::SAFE_Q_MIN)), f32x4_le(q, f32x4_splat(f32::MAX)));
        let fast = f32x4_sqrt(q);
        let ratio = if i32x4_all_true(safe) { fast } else { v128_bitselect(fast, f32x4_div(f32x4_sqrt(num), f32x4_sqrt(den)), safe) };
        let d = f32x4_mul(ratio, g);
        let a = f32x4_add(f32x4_mul(acc, rho), f32x4_mul(f32x4_mul(omr, d), d));
        let update = f32x4_mul(lr, d);
        let new_p = f32x4_sub(p, update);
        v128_store(ap as *mut v128, a);
        v128_store(sp as *mut v128, s);
        v128_store(pp as *mut v128, new_p);
        (f32x4_mul(lr, ratio), update, new_p)
    }
}
