//! The f32x4 step: `scalar::update_one` on four lanes at once, with the same operations in the
//! same order, so that it is bit-identical to the scalar path. Compiled only into the SIMD build.
//! `simd/stats.rs` holds the loop that also gathers `stats.rs`'s statistics.

mod clip;
mod stats;

pub use clip::{clamp_grads, grad_sums, scale_grads};

use crate::scalar::{self, Hyper};
use crate::stats::Accumulator;
use core::arch::wasm32::*;

/// One step over one tensor: a main loop of one f32x4 vector per iteration, then the scalar
/// kernel for the last `len % 4` elements.
pub fn step(p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper) {
    dispatch::<false>(p, grad, sq, acc, h, None);
}

/// The same step, with stats (see `scalar::step_stats`).
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

#[inline(always)]
fn main_loop<const MAXIMIZE: bool, const DECAY: bool, const STATS: bool>(
    p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper, stats: Option<&mut Accumulator>,
) {
    if STATS {
        return stats::main_loop::<MAXIMIZE, DECAY>(p, grad, sq, acc, h, stats.unwrap());
    }
    let n = p.len();
    let vector_end = n - n % 4;
    let k = Constants::new(h);
    let (pp, gp, sp, ap) = (p.as_mut_ptr(), grad.as_ptr(), sq.as_mut_ptr(), acc.as_mut_ptr());
    let mut i = 0;
    while i < vector_end {
        // SAFETY: i + 4 <= vector_end <= n, and all four slices hold n elements (checked in
        // `dispatch`), so every 16-byte load and store is in bounds. v128 loads and stores need
        // no alignment.
        unsafe {
            vector_step::<MAXIMIZE, DECAY>(pp.add(i), gp.add(i), sp.add(i), ap.add(i), &k);
        }
        i += 4;
    }
    for j in vector_end..n {
        scalar::update_one(&mut p[j], grad[j], &mut sq[j], &mut acc[j], h);
    }
}

/// The hyperparameters splatted to f32x4, once per tensor.
#[derive(Clone, Copy)]
struct Constants {
    lr: v128,
    rho: v128,
    omr: v128,
    eps: v128,
    wd: v128,
    scale: v128,
}

impl Constants {
    #[inline(always)]
    fn new(h: &Hyper) -> Self {
        Constants { lr: f32x4_splat(h.lr), rho: f32x4_splat(h.rho), omr: f32x4_splat(h.one_minus_rho), eps: f32x4_splat(h.eps), wd: f32x4_splat(h.weight_decay), scale: f32x4_splat(h.grad_scale) }
    }
}

/// The first half of `scalar::update_one` on four lanes: the loads, the new `sq` (stored) and
/// the quotient whose safety picks the root.
#[derive(Clone, Copy)]
struct Front {
    p: v128,
    g: v128,
    acc: v128,
    num: v128,
    den: v128,
    q: v128,
}

/// # Safety
/// Each pointer must be valid for reading (and, but for `gp`, writing) four f32s.
#[inline(always)]
unsafe fn front<const MAXIMIZE: bool, const DECAY: bool>(pp: *const f32, gp: *const f32, sp: *mut f32, ap: *const f32, k: &Constants) -> Front {
    unsafe {
        let p = v128_load(pp as *const v128);
        let mut g = f32x4_mul(v128_load(gp as *const v128), k.scale);
        let sq = v128_load(sp as *const v128);
        let acc = v128_load(ap as *const v128);
        if MAXIMIZE {
            g = f32x4_neg(g);
        }
        if DECAY {
            g = f32x4_add(g, f32x4_mul(k.wd, p));
        }
        let s = f32x4_add(f32x4_mul(sq, k.rho), f32x4_mul(f32x4_mul(k.omr, g), g));
        v128_store(sp as *mut v128, s);
        let (num, den) = (f32x4_add(acc, k.eps), f32x4_add(s, k.eps));
        Front { p, g, acc, num, den, q: f32x4_div(num, den) }
    }
}

/// `!scalar::q_is_safe` on four lanes, as a mask: all ones where the quotient is NOT a normal
/// finite positive float32. One add and one signed compare (`scalar::UNSAFE_BIAS` says why).
#[inline(always)]
fn unsafe_mask(q: v128) -> v128 {
    i32x4_gt(i32x4_add(q, i32x4_splat(scalar::UNSAFE_BIAS)), i32x4_splat(scalar::UNSAFE_ABOVE))
}

/// Torch's two roots where `unsafe_mask` is set, the one root elsewhere.
#[inline(always)]
fn mixed_ratio(f: &Front, unsafe_mask: v128) -> v128 {
    let two_roots = f32x4_div(f32x4_sqrt(f.num), f32x4_sqrt(f.den));
    v128_bitselect(two_roots, f32x4_sqrt(f.q), unsafe_mask)
}

/// What one group of four lanes gives the stats.
#[derive(Clone, Copy)]
struct Observed {
    /// `sqrt((acc + eps) / (sq + eps))`: the effective rate over `lr`.
    ratio: v128,
    /// `(1 - rho) * d * d`, the term the step adds to `acc`: `update^2 * (1 - rho) / lr^2`.
    acc_term: v128,
    /// The params before the step: loaded first, so summing their squares waits on nothing.
    old_p: v128,
}

/// The second half of `scalar::update_one`: `d`, the new `acc` and the new `p` (stored).
///
/// # Safety
/// `pp` and `ap` must be valid for writing four f32s.
#[inline(always)]
unsafe fn back(f: &Front, ratio: v128, pp: *mut f32, ap: *mut f32, k: &Constants) -> Observed {
    let d = f32x4_mul(ratio, f.g);
    let acc_term = f32x4_mul(f32x4_mul(k.omr, d), d);
    let a = f32x4_add(f32x4_mul(f.acc, k.rho), acc_term);
    let update = f32x4_mul(k.lr, d);
    let new_p = f32x4_sub(f.p, update);
    unsafe {
        v128_store(ap as *mut v128, a);
        v128_store(pp as *mut v128, new_p);
    }
    Observed { ratio, acc_term, old_p: f.p }
}

/// Four elements of `scalar::update_one`, operation for operation; the common case (every
/// quotient safe) costs one branch. One vector per iteration, not two: V8 gives wasm sixteen
/// vector registers, and two vectors in flight spilled enough to make the loop about 5% slower
/// (with stats, 20%).
///
/// # Safety
/// Each pointer must be valid for reading (and, but for `gp`, writing) four f32s.
#[inline(always)]
unsafe fn vector_step<const MAXIMIZE: bool, const DECAY: bool>(pp: *mut f32, gp: *const f32, sp: *mut f32, ap: *mut f32, k: &Constants) -> Observed {
    unsafe {
        let f = front::<MAXIMIZE, DECAY>(pp, gp, sp, ap, k);
        let unsafe_lanes = unsafe_mask(f.q);
        let ratio = if i32x4_bitmask(unsafe_lanes) == 0 { f32x4_sqrt(f.q) } else { mixed_ratio(&f, unsafe_lanes) };
        back(&f, ratio, pp, ap, k)
    }
}
