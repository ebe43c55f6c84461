//! The scalar Adadelta step: the contract's formula in exactly one place.
//!
//! Every operation is a single IEEE-754 binary32 operation, in the order written here, and
//! `simd.rs` performs the same operations in the same order on four lanes at once. wasm has
//! no fused multiply-add outside relaxed SIMD, and sqrt/div are correctly rounded, so the
//! two paths are bit-identical.
//!
//! The ratio `sqrt(acc + eps) / sqrt(sq + eps)` is the costly part: two square roots and a
//! division, which bound the SIMD kernel's speed. So the kernel takes one root of the quotient,
//! `sqrt((acc + eps) / (sq + eps))`, whenever that quotient is a normal finite float32 (within
//! the contract's tolerance of torch: a rounding or two), and torch's two roots otherwise. For
//! gradients past about 1e18 the quotient falls into float32's subnormal range, where one root
//! would lose the significant bits torch keeps (0.25% off at g = 1e19), and it can overflow
//! where torch's form does not. The choice depends only on the element's own quotient, so the
//! scalar and SIMD kernels choose alike. The products keep torch's association,
//! `(value * t1) * t2` as in `addcmul`, so that huge gradients overflow (or do not) exactly
//! where torch's do.

use crate::stats::{Accumulator, SAMPLE_EVERY};

/// One param group's hyperparameters, as the kernel consumes them (all float32, like torch
/// casts its Python floats for a float32 tensor).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hyper {
    pub lr: f32,
    pub rho: f32,
    /// `1 - rho`, rounded once from the exact (float64) difference, as torch passes
    /// `value=1 - rho` computed in Python.
    pub one_minus_rho: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub maximize: bool,
    /// What the gradient is multiplied by first: the clip coefficient of a fused
    /// `step({ clipGradNorm })`, else 1 (which changes no bit).
    pub grad_scale: f32,
}

impl Hyper {
    /// Hyperparameters from their float64 values, rounded as torch rounds them.
    pub fn from_f64(lr: f64, rho: f64, eps: f64, weight_decay: f64, maximize: bool) -> Self {
        Hyper {
            lr: lr as f32,
            rho: rho as f32,
            one_minus_rho: (1.0 - rho) as f32,
            eps: eps as f32,
            weight_decay: weight_decay as f32,
            maximize,
            grad_scale: 1.0,
        }
    }
}

/// The smallest quotient whose one square root keeps full precision: float32's smallest normal.
pub const SAFE_Q_MIN: f32 = f32::MIN_POSITIVE;

/// Whether `sqrt(q)` may stand for `sqrt(num) / sqrt(den)`: `q` is normal and finite. NaN is not.
#[inline(always)]
pub fn q_is_safe(q: f32) -> bool {
    (SAFE_Q_MIN..=f32::MAX).contains(&q)
}

/// `!q_is_safe` on the bits, as the SIMD kernel decides it: `bits + UNSAFE_BIAS` (wrapping, as
/// i32) is above `UNSAFE_ABOVE` exactly when `q` is not safe. The bias maps the safe patterns
/// `0x0080_0000..=0x7f7f_ffff` onto `i32::MIN..=-0x0100_0001`; zero, subnormals, infinities,
/// NaNs and every negative pattern land above.
pub const UNSAFE_BIAS: i32 = 0x7f80_0000;
pub const UNSAFE_ABOVE: i32 = -0x0100_0001;

/// The update of one element, in place. Returns `(rate, update)`: the effective learning rate
/// `lr * sqrt((acc + eps) / (sq + eps))` this step applied to `g`, and the update `lr * d`
/// subtracted from `p`; the stats use them, the step does not.
#[inline(always)]
pub fn update_one(p: &mut f32, grad: f32, sq: &mut f32, acc: &mut f32, h: &Hyper) -> (f32, f32) {
    // As torch's clip_grad_norm_ before the step: the gradient scaled in float32, then negated.
    let grad = grad * h.grad_scale;
    let mut g = if h.maximize { -grad } else { grad };
    // torch skips the term when weight_decay == 0, which matters when p is inf (0 * inf = NaN).
    if h.weight_decay != 0.0 {
        g += h.weight_decay * *p;
    }
    let s = *sq * h.rho + h.one_minus_rho * g * g;
    let (num, den) = (*acc + h.eps, s + h.eps);
    let q = num / den;
    let ratio = if q_is_safe(q) { q.sqrt() } else { num.sqrt() / den.sqrt() };
    let d = ratio * g;
    *acc = *acc * h.rho + h.one_minus_rho * d * d;
    *sq = s;
    let update = h.lr * d;
    *p -= update;
    (h.lr * ratio, update)
}

/// The scalar step over one tensor. All four slices have the same length.
pub fn step(p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper) {
    let n = p.len();
    assert!(grad.len() == n && sq.len() == n && acc.len() == n, "tensor slices differ in length");
    for i in 0..n {
        update_one(&mut p[i], grad[i], &mut sq[i], &mut acc[i], h);
    }
}

/// The scalar step with stats; the histogram samples every `SAMPLE_EVERY`-th element of
/// the slice, as the SIMD kernel does.
pub fn step_stats(p: &mut [f32], grad: &[f32], sq: &mut [f32], acc: &mut [f32], h: &Hyper, stats: &mut Accumulator) {
    let n = p.len();
    assert!(grad.len() == n && sq.len() == n && acc.len() == n, "tensor slices differ in length");
    for i in 0..n {
        update_one_observed(&mut p[i], grad[i], &mut sq[i], &mut acc[i], h, stats, i);
    }
}

/// `update_one` with its stats; `index` is the element's place in the walked slice, which
/// decides whether the histogram samples it. Also the SIMD kernel's scalar tail.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn update_one_observed(p: &mut f32, grad: f32, sq: &mut f32, acc: &mut f32, h: &Hyper, stats: &mut Accumulator, index: usize) {
    let old_p = *p;
    let (rate, update) = update_one(p, grad, sq, acc, h);
    stats.observe(rate, update, old_p, *p);
    if index.is_multiple_of(SAMPLE_EVERY) {
        stats.sample(rate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// torch's formula in float64 with two square roots: the mathematical reference.
    fn reference_f64(p: &mut f64, grad: f64, sq: &mut f64, acc: &mut f64, lr: f64, rho: f64, eps: f64, wd: f64, maximize: bool) {
        let mut g = if maximize { -grad } else { grad };
        if wd != 0.0 {
            g += wd * *p;
        }
        *sq = rho * *sq + (1.0 - rho) * g * g;
        let d = (*acc + eps).sqrt() / (*sq + eps).sqrt() * g;
        *acc = rho * *acc + (1.0 - rho) * d * d;
        *p -= lr * d;
    }

    /// A small deterministic generator, so the test needs no crates.
    struct Lcg(u64);
    impl Lcg {
        fn next_f64(&mut self) -> f64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
        }
        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.next_f64()
        }
    }

    #[test]
    fn tracks_the_float64_formula_over_many_steps() {
        let mut rng = Lcg(7);
        for case in 0..200 {
            let (lr, rho, eps, wd) = (rng.range(0.0, 2.0), rng.range(0.0, 1.0), 10f64.powf(rng.range(-8.0, -2.0)), if case % 3 == 0 { rng.range(0.0, 0.1) } else { 0.0 });
            let maximize = case % 4 == 1;
            let h = Hyper::from_f64(lr, rho, eps, wd, maximize);
            let n = 1 + (case % 13);
            let mut p: Vec<f32> = (0..n).map(|_| rng.range(-2.0, 2.0) as f32).collect();
            let mut sq = vec![0f32; n];
            let mut acc = vec![0f32; n];
            let (mut p64, mut sq64, mut acc64): (Vec<f64>, Vec<f64>, Vec<f64>) = (p.iter().map(|&x| x as f64).collect(), vec![0.0; n], vec![0.0; n]);
            for _ in 0..30 {
                let grad: Vec<f32> = (0..n).map(|_| rng.range(-3.0, 3.0) as f32).collect();
                step(&mut p, &grad, &mut sq, &mut acc, &h);
                for i in 0..n {
                    // The f64 reference runs on the float32-rounded hyperparameters, as torch does.
                    reference_f64(&mut p64[i], grad[i] as f64, &mut sq64[i], &mut acc64[i], h.lr as f64, h.rho as f64, h.eps as f64, h.weight_decay as f64, maximize);
                }
            }
            for i in 0..n {
                // The contract's tolerance (API.md), no looser: 30 steps of float32 rounding,
                // one-root shortcut included, stay well inside it.
                let close = |a: f32, e: f64| ((a as f64) - e).abs() <= 1e-6 + 1e-5 * e.abs();
                assert!(close(p[i], p64[i]), "case {case}: p {} vs {}", p[i], p64[i]);
                assert!(close(sq[i], sq64[i]), "case {case}: sq {} vs {}", sq[i], sq64[i]);
                assert!(close(acc[i], acc64[i]), "case {case}: acc {} vs {}", acc[i], acc64[i]);
            }
        }
    }

    #[test]
    fn the_simd_bit_test_agrees_with_q_is_safe() {
        // Every pattern near the edges of the safe range and of each sign, and a sweep of the
        // rest (all 2^32 were checked once, outside the suite, in 4 s of release build).
        let edges = [0u32, 0x007f_ffff, 0x0080_0000, 0x7f7f_ffff, 0x7f80_0000, 0x7fc0_0000, 0x7fff_ffff, 0x8000_0000, 0x807f_ffff, 0x8080_0000, 0xff80_0000, u32::MAX];
        let near = edges.iter().flat_map(|&e| (0..64u32).flat_map(move |d| [e.wrapping_add(d), e.wrapping_sub(d)]));
        for bits in near.chain((0..=u32::MAX).step_by(4099)) {
            let by_bits = (bits as i32).wrapping_add(UNSAFE_BIAS) > UNSAFE_ABOVE;
            assert_eq!(by_bits, !q_is_safe(f32::from_bits(bits)), "bits {bits:#010x}");
        }
    }

    #[test]
    fn first_step_is_lr_sqrt_eps_over_one_minus_rho_for_large_gradients() {
        // acc starts at 0, so d = sqrt(eps / ((1-rho) g^2 + eps)) * g ~ sqrt(eps/(1-rho)) * sign(g).
        let h = Hyper::from_f64(1.0, 0.9, 1e-6, 0.0, false);
        let (mut p, mut sq, mut acc) = ([0f32], [0f32], [0f32]);
        step(&mut p, &[10.0], &mut sq, &mut acc, &h);
        let expected = -(1e-6f64 / 0.1).sqrt();
        assert!(((p[0] as f64) - expected).abs() < 1e-7, "{} vs {expected}", p[0]);
    }

    #[test]
    fn huge_gradients_take_torchs_two_roots() {
        // g = 1e19: (acc + eps) / (sq + eps) is about 1e-43, subnormal; one root of it is 0.25% off.
        let h = Hyper::from_f64(1.0, 0.9, 1e-6, 0.0, false);
        let (mut p, mut sq, mut acc) = ([0f32], [0f32], [0f32]);
        step(&mut p, &[1e19], &mut sq, &mut acc, &h);
        let s = (0.1f32 * 1e19f32) * 1e19f32;
        let torch = -((1e-6f32.sqrt() / (s + 1e-6).sqrt()) * 1e19);
        assert_eq!(p[0], torch);
    }

    #[test]
    fn zero_weight_decay_skips_the_term_even_for_infinite_params() {
        let h = Hyper::from_f64(1.0, 0.9, 1e-6, 0.0, false);
        let (mut p, mut sq, mut acc) = ([f32::INFINITY], [0f32], [0f32]);
        step(&mut p, &[0.0], &mut sq, &mut acc, &h);
        assert_eq!(sq[0], 0.0);
        assert_eq!(acc[0], 0.0);
        assert_eq!(p[0], f32::INFINITY);
    }

    #[test]
    fn products_associate_like_torch_addcmul() {
        // (0.1 * 3e19) * 3e19 = 9e37 is finite; 0.1 * (3e19 * 3e19) would overflow to inf.
        let h = Hyper::from_f64(1.0, 0.9, 1e-6, 0.0, false);
        let (mut p, mut sq, mut acc) = ([0f32], [0f32], [0f32]);
        step(&mut p, &[3e19], &mut sq, &mut acc, &h);
        assert!(sq[0].is_finite() && sq[0] > 8e37, "sq = {}", sq[0]);
    }

    #[test]
    fn maximize_is_the_mirror_image() {
        // torch negates the gradient first and adds weight decay after, so maximizing with g is
        // minimizing with -g, bit for bit, weight decay included.
        let decay = Hyper::from_f64(0.5, 0.8, 1e-4, 0.05, false);
        let run = |h: &Hyper, sign: f32| {
            let (mut p, mut s, mut a) = ([0.3f32, -1.5, 2.0, 0.0, 7.0], [0f32; 5], [0f32; 5]);
            for g in [0.5f32, -1.0, 2.0, 0.25] {
                let grad = [g, -g, 3.0 * g, g, 0.0].map(|x| sign * x);
                step(&mut p, &grad, &mut s, &mut a, h);
            }
            (p, s, a)
        };
        let maximized = run(&Hyper { maximize: true, ..decay }, 1.0);
        assert_eq!(maximized, run(&decay, -1.0));
        // Not vacuous: the decay term changed every param that is not zero, and maximizing
        // walked a different path than minimizing (but for param 4: zero gradient, decay only).
        let without_decay = run(&Hyper { maximize: true, weight_decay: 0.0, ..decay }, 1.0);
        for i in [0, 1, 2, 4] {
            assert_ne!(maximized.0[i], without_decay.0[i], "param {i}: weight decay had no effect");
        }
        let minimized = run(&decay, 1.0);
        for i in 0..4 {
            assert_ne!(maximized.0[i], minimized.0[i], "param {i}");
        }
        // Without decay, from p = 0, the two directions are exact negatives.
        let plain = Hyper { weight_decay: 0.0, ..decay };
        let from_zero = |h: &Hyper| {
            let (mut p, mut s, mut a) = ([0f32; 3], [0f32; 3], [0f32; 3]);
            for g in [0.5f32, -1.0, 2.0] {
                step(&mut p, &[g, -2.0 * g, 1e-3], &mut s, &mut a, h);
            }
            p
        };
        let (down, up) = (from_zero(&plain), from_zero(&Hyper { maximize: true, ..plain }));
        assert!(down.iter().all(|&x| x != 0.0));
        assert_eq!(up, down.map(|x| -x));
    }

    #[test]
    fn step_stats_steps_like_step_and_observes_every_element() {
        use crate::stats::{self, Accumulator, HIST_BINS, STATS_F64};
        let h = Hyper::from_f64(0.5, 0.9, 1e-6, 0.01, false);
        let n = 130; // histogram samples at 0, 64 and 128
        let mut rng = Lcg(11);
        let p0: Vec<f32> = (0..n).map(|_| rng.range(-2.0, 2.0) as f32).collect();
        let grad: Vec<f32> = (0..n).map(|_| rng.range(-3.0, 3.0) as f32).collect();
        let (mut p1, mut sq1, mut acc1) = (p0.clone(), vec![0f32; n], vec![0f32; n]);
        step(&mut p1, &grad, &mut sq1, &mut acc1, &h);
        let (mut p2, mut sq2, mut acc2) = (p0.clone(), vec![0f32; n], vec![0f32; n]);
        let (mut words, mut hist) = (vec![0f64; STATS_F64], Box::new([0u32; HIST_BINS]));
        let mut acc = Accumulator { words: &mut words, hist: &mut hist, stalled_below: 1e-3 };
        acc.reset();
        step_stats(&mut p2, &grad, &mut sq2, &mut acc2, &h, &mut acc);
        assert_eq!((&p1, &sq1, &acc1), (&p2, &sq2, &acc2));
        // From zero state the rate is lr * sqrt(eps / ((1 - rho) g'^2 + eps)), g' = g + wd * p.
        let rates: Vec<f64> = (0..n)
            .map(|i| {
                let g = grad[i] as f64 + h.weight_decay as f64 * p0[i] as f64;
                h.lr as f64 * (h.eps as f64 / (h.one_minus_rho as f64 * g * g + h.eps as f64)).sqrt()
            })
            .collect();
        let near = |a: f64, e: f64| (a - e).abs() <= 1e-5 * e.abs();
        let (min, max) = rates.iter().fold((f64::INFINITY, 0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        assert!(near(words[stats::MIN_RATE], min) && near(words[stats::MAX_RATE], max), "rates {:?} vs {min} {max}", &words[3..5]);
        assert_eq!(words[stats::COUNT], n as f64);
        assert_eq!(words[stats::STALLED], rates.iter().filter(|&&r| r < 1e-3).count() as f64);
        let update_sq: f64 = (0..n).map(|i| ((p0[i] - p2[i]) as f64).powi(2)).sum();
        let param_sq: f64 = p0.iter().map(|&x| (x as f64).powi(2)).sum();
        // p0 - p2 is the update only up to p's rounding (updates here are ~1e-3 of p).
        assert!((words[stats::SUM_UPDATE_SQ] - update_sq).abs() <= 1e-3 * update_sq && near(words[stats::SUM_PARAM_SQ], param_sq));
        assert_eq!(hist.iter().sum::<u32>(), 3);
        assert!(words[stats::STALLED] > 0.0 && words[stats::STALLED] < n as f64, "the threshold splits the elements");
    }
}
