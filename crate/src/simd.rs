//! The f32x4 step: `kernel::update_one` on four lanes at once, with the same operations in the
//! same order, so that it is bit-identical to the scalar path. Compiled only into the SIMD build.

use crate::kernel::{self, Hyper};
use core::arch::wasm32::*;

/// One step over one tensor: a main loop of two f32x4 vectors per iteration, then the scalar
/// kernel for the last `len % 8` elements.
pub fn step(p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper) {
    let n = p.len();
    assert!(grad.len() == n && sq.len() == n && acc.len() == n, "tensor slices differ in length");
    // Monomorphize on the two branches so the hot loop has none.
    match (h.maximize, h.weight_decay != 0.0) {
        (false, false) => main_loop::<false, false>(p, grad, sq, acc, h),
        (false, true) => main_loop::<false, true>(p, grad, sq, acc, h),
        (true, false) => main_loop::<true, false>(p, grad, sq, acc, h),
        (true, true) => main_loop::<true, true>(p, grad, sq, acc, h),
    }
}

#[inline(always)]
fn main_loop<const MAXIMIZE: bool, const DECAY: bool>(p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper) {
    let n = p.len();
    let vector_end = n - n % 8;
    let lr = f32x4_splat(h.lr);
    let rho = f32x4_splat(h.rho);
    let omr = f32x4_splat(h.one_minus_rho);
    let eps = f32x4_splat(h.eps);
    let wd = f32x4_splat(h.weight_decay);
    let (pp, gp, sp, ap) = (p.as_mut_ptr(), grad.as_ptr(), sq.as_mut_ptr(), acc.as_mut_ptr());
    let mut i = 0;
    while i < vector_end {
        // SAFETY: i + 8 <= vector_end <= n, and all four slices hold n elements (checked in
        // `step`), so every 16-byte load and store below is in bounds. v128 loads and stores
        // need no alignment.
        unsafe {
            lane4::<MAXIMIZE, DECAY>(pp.add(i), gp.add(i), sp.add(i), ap.add(i), lr, rho, omr, eps, wd);
            lane4::<MAXIMIZE, DECAY>(pp.add(i + 4), gp.add(i + 4), sp.add(i + 4), ap.add(i + 4), lr, rho, omr, eps, wd);
        }
        i += 8;
    }
    for j in vector_end..n {
        kernel::update_one(&mut p[j], grad[j], &mut sq[j], &mut acc[j], h);
    }
}

/// Four elements of `kernel::update_one`, operation for operation.
///
/// # Safety
/// Each pointer must be valid for reading (and, but for `g`, writing) four f32s.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn lane4<const MAXIMIZE: bool, const DECAY: bool>(
    pp: *mut f32, gp: *const f32, sp: *mut f32, ap: *mut f32,
    lr: v128, rho: v128, omr: v128, eps: v128, wd: v128,
) {
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
        let d = f32x4_mul(f32x4_sqrt(f32x4_div(f32x4_add(acc, eps), f32x4_add(s, eps))), g);
        let a = f32x4_add(f32x4_mul(acc, rho), f32x4_mul(f32x4_mul(omr, d), d));
        v128_store(ap as *mut v128, a);
        v128_store(sp as *mut v128, s);
        v128_store(pp as *mut v128, f32x4_sub(p, f32x4_mul(lr, d)));
    }
}
