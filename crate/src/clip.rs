//! Gradient clipping (`torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`), the scalar
//! loops; `simd/clip.rs` has the f32x4 ones, bit-identical to these.
//!
//! A norm must come out the same, bit for bit, from every build and thread count. Its sum is
//! therefore taken in a fixed order that neither changes: the element range is cut into
//! blocks of `NORM_BLOCK` elements at fixed places (the threads' ranges are multiples of it, so
//! each block is one thread's), each block sums its pieces (one per tensor it holds) in table
//! order, each piece sums in eight f64 lanes by its elements' index mod 8 (the SIMD loop keeps
//! four f64x2 sums, two vectors in flight) and adds the lanes as
//! `((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))`, and the caller adds the blocks in order. Each term `|g|^p` is
//! exact in f64 for p = 1 and 2 (a float32 squared fits a float64's mantissa).

/// The sum (or, for p = inf, the NaN-propagating maximum) of `|g|^p` over one piece. The
/// scalar reference of `simd::grad_sums`.
pub fn grad_sums(g: &[f32], p: f64) -> f64 {
    if p == f64::INFINITY {
        return max_abs(g);
    }
    let mut a = [0f64; LANES];
    if p == 2.0 {
        for (j, &x) in g.iter().enumerate() {
            a[j % LANES] += (x as f64) * (x as f64);
        }
    } else if p == 1.0 {
        for (j, &x) in g.iter().enumerate() {
            a[j % LANES] += (x as f64).abs();
        }
    } else {
        for (j, &x) in g.iter().enumerate() {
            a[j % LANES] += (x as f64).abs().powf(p);
        }
    }
    add_lanes(&a)
}

/// The lanes of a piece's sum: element j adds into lane `j % LANES`.
pub const LANES: usize = 8;

/// The lanes added pairwise, in the one order both builds use.
#[inline(always)]
pub fn add_lanes(a: &[f64; LANES]) -> f64 {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

/// The largest `|g|`, or NaN if any element is NaN (as torch's inf-norm is).
pub fn max_abs(g: &[f32]) -> f64 {
    let mut m = 0f32;
    for &x in g {
        let a = x.abs();
        if a.is_nan() || m.is_nan() {
            m = f32::NAN;
        } else if a > m {
            m = a;
        }
    }
    m as f64
}

/// Adds a piece's value into its block: a sum, or a maximum for p = inf.
pub fn combine(block: f64, piece: f64, p: f64) -> f64 {
    if p != f64::INFINITY {
        block + piece
    } else if block.is_nan() || piece.is_nan() {
        f64::NAN
    } else {
        block.max(piece)
    }
}

/// `g *= scale` in float32, as `grad.mul_(clip_coef)` does.
pub fn scale_grads(g: &mut [f32], scale: f32) {
    for x in g {
        *x *= scale;
    }
}

/// `g = clamp(g, -v, v)`; NaN stays NaN. The SIMD kernel's `pmin`/`pmax` make the same choices.
pub fn clamp_grads(g: &mut [f32], v: f32) {
    for x in g {
        let below = if v < *x { v } else { *x };
        *x = if below < -v { -v } else { below };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_follow_the_four_lane_order() {
        let g = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(grad_sums(&g, 2.0), (((1.0 + 81.0) + (4.0 + 100.0)) + (9.0 + 16.0)) + ((25.0 + 36.0) + (49.0 + 64.0)));
        let g = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(grad_sums(&g, 1.0), 21.0);
        assert_eq!(grad_sums(&[-7.0, 3.0], f64::INFINITY), 7.0);
        assert!(grad_sums(&[1.0, f32::NAN, 9.0], f64::INFINITY).is_nan());
        assert!((grad_sums(&[2.0, 2.0], 3.0) - 16.0).abs() < 1e-12);
    }

    #[test]
    fn clamp_keeps_nan_and_signed_zero() {
        let mut g = [5.0f32, -5.0, 0.5, f32::NAN, -0.0];
        clamp_grads(&mut g, 1.0);
        assert_eq!(&g[..3], &[1.0, -1.0, 0.5]);
        assert!(g[3].is_nan());
        assert!(g[4] == 0.0 && g[4].is_sign_negative());
    }
}
