/**
 * Two reference implementations of one Adadelta step over Float32Arrays, in place:
 *
 * - `stepF32Exact` is the kernel's formula with every operation rounded to float32, in the
 *   kernel's order (crate/src/scalar.rs). The kernel must match it bit for bit. Each operation is
 *   computed in float64 and rounded once with Math.fround; for +, -, *, / and sqrt of float32
 *   operands that double rounding is exact (float64 has more than 2*24+2 significand bits).
 * - `stepF64` is torch's textbook formula in float64, with two square roots: the mathematical
 *   reference the float32 results must stay close to.
 */

/** float32's smallest normal and largest finite value: the kernel's one-root range. */
const SAFE_Q_MIN = 2 ** -126;
const F32_MAX = 3.4028234663852886e38;

export interface Hyper {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

/** The state of one param, as plain arrays the references update in place. */
export interface Tensor<A extends Float32Array | Float64Array = Float32Array> {
  p: A;
  sq: A;
  acc: A;
}

const f = Math.fround;

/**
 * One step, float32-exact, in the kernel's operation order:
 *   g = maximize ? -grad : grad;  if (wd != 0) g = g + wd*p
 *   s = sq*rho + ((1-rho)*g)*g;  d = ratio * g, ratio = sqrt(q) if q = (acc+eps)/(s+eps) is a
 *   normal finite float32, else sqrt(acc+eps) / sqrt(s+eps)
 *   acc = acc*rho + ((1-rho)*d)*d;  sq = s;  p = p - lr*d
 * lr, rho, eps and wd are rounded to float32; 1-rho is computed in float64 and rounded once.
 */
export function stepF32Exact(t: Tensor, grad: Float32Array, h: Hyper): void {
  const lr = f(h.lr), rho = f(h.rho), omr = f(1 - h.rho), eps = f(h.eps), wd = f(h.weightDecay);
  const { p, sq, acc } = t;
  for (let i = 0; i < p.length; i++) {
    let g = h.maximize ? -grad[i]! : grad[i]!;
    // Skipped when wd == 0 (after rounding), as torch does: 0 * Infinity would be NaN.
    if (wd !== 0) g = f(g + f(wd * p[i]!));
    const s = f(f(sq[i]! * rho) + f(f(omr * g) * g));
    // The kernel's choice: one root of the quotient where it is a normal finite float32,
    // torch's two roots otherwise (see crate/src/scalar.rs).
    const num = f(acc[i]! + eps);
    const den = f(s + eps);
    const q = f(num / den);
    const ratio = q >= SAFE_Q_MIN && q <= F32_MAX ? f(Math.sqrt(q)) : f(f(Math.sqrt(num)) / f(Math.sqrt(den)));
    const d = f(ratio * g);
    acc[i] = f(f(acc[i]! * rho) + f(f(omr * d) * d));
    sq[i] = s;
    p[i] = f(p[i]! - f(lr * d));
  }
}

/**
 * One step of torch.optim.Adadelta's formula in float64, with two square roots:
 *   sq = rho*sq + (1-rho)*g*g;  d = sqrt(acc+eps)/sqrt(sq+eps)*g;  acc = rho*acc + (1-rho)*d*d;  p -= lr*d
 * The hyperparameters are used as given, in float64: the kernel's float32 rounding of lr, rho, eps
 * and wd (relative 6e-8) is well inside any tolerance, and its `1-rho` is the float64 difference
 * rounded once, so it is close to this one even for rho near 1 (where 1 - fround(rho) is not).
 */
export function stepF64(t: Tensor<Float64Array>, grad: ArrayLike<number>, h: Hyper): void {
  const { lr, rho, eps, weightDecay: wd } = h;
  const { p, sq, acc } = t;
  for (let i = 0; i < p.length; i++) {
    let g = h.maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) g += wd * p[i]!;
    sq[i] = rho * sq[i]! + (1 - rho) * g * g;
    const d = (Math.sqrt(acc[i]! + eps) / Math.sqrt(sq[i]! + eps)) * g;
    acc[i] = rho * acc[i]! + (1 - rho) * d * d;
    p[i] = p[i]! - lr * d;
  }
}

/** A fresh float32 tensor: p copied from `init`, zero state (as torch starts). */
export function freshF32(init: ArrayLike<number>): Tensor {
  const n = init.length;
  return { p: Float32Array.from(init), sq: new Float32Array(n), acc: new Float32Array(n) };
}

/** A fresh float64 tensor: p copied from `init`, zero state. */
export function freshF64(init: ArrayLike<number>): Tensor<Float64Array> {
  const n = init.length;
  return { p: Float64Array.from(init), sq: new Float64Array(n), acc: new Float64Array(n) };
}

/**
 * The first index where two float32 arrays differ by `Object.is` (so -0 differs from +0, and
 * NaN equals NaN whatever its payload), described for a failure message; undefined if none.
 */
export function firstDifference(actual: Float32Array, expected: Float32Array): string | undefined {
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) return `[${i}] ${actual[i]} != ${expected[i]}`;
  }
  return undefined;
}

/**
 * The first index where two float32 arrays differ in their bits, except that any two NaNs are
 * equal: the wasm spec leaves the payload of a NaN produced by arithmetic nondeterministic, so
 * asserting payloads would test the engine, not the kernel.
 */
export function firstBitDifference(a: Float32Array, b: Float32Array): string | undefined {
  if (a.length !== b.length) return `length ${a.length} != ${b.length}`;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      return `[${i}] ${a[i]} (0x${ua[i]!.toString(16)}) != ${b[i]} (0x${ub[i]!.toString(16)})`;
    }
  }
  return undefined;
}
