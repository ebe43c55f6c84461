/**
 * Seeded float32 data for property tests. fast-check draws the seed and the kind of data, and
 * these fill arrays of thousands of elements quickly (drawing each element through fast-check
 * would dominate the run time); a failing case is still reproducible from its seed.
 */

/** mulberry32, the benchmark's seeded generator: floats in [0, 1). */
export { rng as mulberry32 } from '../../bench/data.mjs';

/** float32 values that sit on the edges of the format or of the kernel's arithmetic. */
export const SPECIAL_VALUES = [
  0, -0, NaN, Infinity, -Infinity,
  1e-45, -1e-45, // the smallest subnormal
  1.1754942e-38, // the largest subnormal
  3.4028235e38, -3.4028235e38, // the largest finite
  1e19, -3e19, // (1-rho)*g*g is finite only with torch's association
  1e30, 1e-30, 1, -1,
] as const;

/**
 * - `sane`: uniform in [-scale, scale], with one scale per array between 1e-3 and 1e3, and a
 *   few exact zeros;
 * - `wild`: a mix of special values, values over many decades, and random bit patterns (every
 *   exponent, subnormals, infinities, NaNs with any payload).
 */
export type ValueKind = 'sane' | 'wild';

export function randomValues(rng: () => number, n: number, kind: ValueKind): Float32Array {
  const out = new Float32Array(n);
  if (kind === 'sane') {
    const scale = 10 ** (rng() * 6 - 3);
    for (let i = 0; i < n; i++) out[i] = rng() < 0.02 ? 0 : (rng() * 2 - 1) * scale;
    return out;
  }
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.15) out[i] = SPECIAL_VALUES[Math.floor(rng() * SPECIAL_VALUES.length)]!;
    else if (r < 0.6) out[i] = (rng() * 2 - 1) * 10 ** (rng() * 16 - 8);
    else bits[i] = Math.floor(rng() * 2 ** 32);
  }
  return out;
}
