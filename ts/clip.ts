/**
 * Gradient clipping as `torch.nn.utils.clip_grad_norm_` does it: the options' rules, the
 * total norm from the kernel's block sums (crate/src/clip.rs), and the clip coefficient.
 */
import { AdadeltaError } from './errors.js';

/** Options of `opt.clipGradNorm`, torch's keyword arguments in camelCase. */
export interface ClipGradNormOptions {
  /** The order of the norm: a number >= 1, or Infinity (the largest |g|). Default 2. */
  normType?: number;
  /** Throw AdadeltaError (and change nothing) when the total norm is NaN or infinite. Default false. */
  errorIfNonfinite?: boolean;
}

const KEYS = ['normType', 'errorIfNonfinite'];

/** Validates clipping's arguments; `field` names the call in errors. */
export function checkClipOptions(maxNorm: unknown, options: ClipGradNormOptions | undefined, field: string): { maxNorm: number; normType: number; errorIfNonfinite: boolean } {
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0)) throw new AdadeltaError(`maxNorm must be a number >= 0, got ${String(maxNorm)}`, field);
  if (options === undefined) return { maxNorm, normType: 2, errorIfNonfinite: false };
  if (typeof options !== 'object' || options === null) throw new AdadeltaError(`options must be an object like { normType: 2 }, got ${String(options)}`, field);
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new AdadeltaError(`unknown option ${JSON.stringify(key)} (expected ${KEYS.join(', ')})`, field);
  }
  const { normType = 2, errorIfNonfinite = false } = options;
  if (typeof normType !== 'number' || !(normType >= 1)) throw new AdadeltaError(`normType must be a number >= 1 or Infinity, got ${String(normType)}`, field);
  if (typeof errorIfNonfinite !== 'boolean') throw new AdadeltaError(`errorIfNonfinite must be true or false, got ${String(errorIfNonfinite)}`, field);
  return { maxNorm, normType, errorIfNonfinite };
}

/** float32's largest finite value. */
const F32_MAX = 3.4028234663852886e38;

/** The total norm from the kernel's block sums of `|g|^p` (block maxima for p = Infinity),
 * added in block order: the same bits from every build and thread count. The sums are float64,
 * but torch's are float32: where the sum passes float32's range, torch's norm is Infinity (and
 * the gradients are clipped to 0, or errorIfNonfinite throws), so ours is too. */
export function normOfBlocks(blocks: Float64Array, normType: number): number {
  if (normType === Infinity) {
    let max = 0;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (Number.isNaN(b)) return NaN;
      if (b > max) max = b;
    }
    return max;
  }
  let sum = 0;
  for (let i = 0; i < blocks.length; i++) sum += blocks[i]!;
  if (sum > F32_MAX) return Infinity;
  return normType === 1 ? sum : normType === 2 ? Math.sqrt(sum) : sum ** (1 / normType);
}

/** torch's `clamp(max_norm / (total_norm + 1e-6), max=1.0)`, in float32 as torch's tensors
 * compute it: a Python float over a tensor is `tensor.reciprocal() * max_norm`. NaN stays NaN
 * (torch's clamp keeps it), so the gradients become NaN. */
export function clipCoefficient(maxNorm: number, total: number): number {
  const f = Math.fround;
  return Math.min(f(f(1 / f(f(total) + f(1e-6))) * f(maxNorm)), 1);
}
