//! `clip.rs` on f32x4 vectors, in the same order, so the builds agree bit for bit.

use crate::clip;
use core::arch::wasm32::*;

/// `clip::grad_sums`: p = 1 and 2 in four f64x2 sums (lanes by index mod 8); other p
/// take the scalar loop, which both builds share.
pub fn grad_sums(g: &[f32], p: f64) -> f64 {
    if p == 2.0 {
        lane_sums::<true>(g)
    } else if p == 1.0 {
        lane_sums::<false>(g)
    } else {
        clip::grad_sums(g, p)
    }
}

#[inline(always)]
fn lane_sums<const SQUARE: bool>(g: &[f32]) -> f64 {
    let n = g.len();
    // Two vectors per iteration into four f64x2 sums: lane j % 8 of clip::grad_sums each.
    let vector_end = n - n % clip::LANES;
    let term = |v: v128| if SQUARE { f64x2_mul(v, v) } else { f64x2_abs(v) };
    let [mut s0, mut s1, mut s2, mut s3] = [f64x2_splat(0.0); 4];
    let mut i = 0;
    while i < vector_end {
        // SAFETY: i + 8 <= vector_end <= n.
        let (v, w) = unsafe { (v128_load(g.as_ptr().add(i) as *const v128), v128_load(g.as_ptr().add(i + 4) as *const v128)) };
        s0 = f64x2_add(s0, term(f64x2_promote_low_f32x4(v)));
        s1 = f64x2_add(s1, term(f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(v, v))));
        s2 = f64x2_add(s2, term(f64x2_promote_low_f32x4(w)));
        s3 = f64x2_add(s3, term(f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(w, w))));
        i += clip::LANES;
    }
    let mut a = [
        f64x2_extract_lane::<0>(s0),
        f64x2_extract_lane::<1>(s0),
        f64x2_extract_lane::<0>(s1),
        f64x2_extract_lane::<1>(s1),
        f64x2_extract_lane::<0>(s2),
        f64x2_extract_lane::<1>(s2),
        f64x2_extract_lane::<0>(s3),
        f64x2_extract_lane::<1>(s3),
    ];
    for (j, &x) in g.iter().enumerate().skip(vector_end) {
        a[j % clip::LANES] += if SQUARE { (x as f64) * (x as f64) } else { (x as f64).abs() };
    }
    clip::add_lanes(&a)
}

/// `clip::scale_grads`.
pub fn scale_grads(g: &mut [f32], scale: f32) {
    let n = g.len();
    let vector_end = n - n % 4;
    let s = f32x4_splat(scale);
    let gp = g.as_mut_ptr();
    let mut i = 0;
    while i < vector_end {
        // SAFETY: i + 4 <= vector_end <= n.
        unsafe { v128_store(gp.add(i) as *mut v128, f32x4_mul(v128_load(gp.add(i) as *const v128), s)) };
        i += 4;
    }
    clip::scale_grads(&mut g[vector_end..], scale);
}

/// `clip::clamp_grads`: `pmin(g, v)` is `v < g ? v : g` and `pmax(x, -v)` is `x < -v ? -v : x`.
pub fn clamp_grads(g: &mut [f32], v: f32) {
    let n = g.len();
    let vector_end = n - n % 4;
    let (hi, lo) = (f32x4_splat(v), f32x4_splat(-v));
    let gp = g.as_mut_ptr();
    let mut i = 0;
    while i < vector_end {
        // SAFETY: i + 4 <= vector_end <= n.
        unsafe {
            let x = v128_load(gp.add(i) as *const v128);
            v128_store(gp.add(i) as *mut v128, f32x4_pmax(f32x4_pmin(x, hi), lo));
        }
        i += 4;
    }
    clip::clamp_grads(&mut g[vector_end..], v);
}
