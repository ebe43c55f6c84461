/**
 * The adapter's options and their round trip through tf.js's serialization (getConfig /
 * fromConfig). Validation of values is the core's: every value is passed to `Adadelta.create`.
 */
import { Adadelta, AdadeltaError } from '../index.js';

/** Options of `adadeltaOptimizer()`. Defaults are torch.optim.Adadelta's, not tf.js's. */
export interface AdadeltaOptimizerOptions {
  /**
   * Scales every update. Default 1.0, as in PyTorch and in Zeiler's paper: Adadelta's update
   * already has the units of the parameter, so lr is a multiplier, not a step size. tf.js and
   * Keras default to 0.001, which makes every step 1000x smaller than the method intends.
   */
  lr?: number;
  /** Decay of both moving averages, in [0, 1]. Default 0.9. */
  rho?: number;
  /** Added inside both square roots; sets the size of the first steps. Default 1e-6. */
  eps?: number;
  /** L2 penalty added to the gradient (torch's weight_decay). Default 0. */
  weightDecay?: number;
  /** Which wasm kernel runs: 'auto' (SIMD where supported), 'simd' or 'plain'. */
  build?: 'auto' | 'simd' | 'plain';
}

export interface CoreHyper {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
}

export interface ResolvedOptions extends CoreHyper {
  build: 'auto' | 'simd' | 'plain';
}

export const TFJS_DEFAULTS: Readonly<ResolvedOptions> = Object.freeze({ lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, build: 'auto' });

const KEYS: readonly string[] = Object.keys(TFJS_DEFAULTS);

/**
 * Options with defaults filled in, validated by the core's rules (at construction, not at the
 * first step); other keys are refused here, because getConfig() could not carry them through a
 * model.save.
 */
export function resolveAdapterOptions(options: AdadeltaOptimizerOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new AdadeltaError('must be an object { lr?, rho?, eps?, weightDecay?, build? }', 'options');
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new AdadeltaError(`unknown option ${JSON.stringify(key)} (expected one of ${KEYS.join(', ')})`, 'options');
  }
  const resolved = { ...TFJS_DEFAULTS, ...withoutUndefined(options) } as ResolvedOptions;
  Adadelta.checkOptions(resolved);
  return resolved;
}

/**
 * Reads a config written by `getConfig()`. tfjs-layers converts config keys to snake_case when
 * it saves a model and back when it loads one, so both spellings are accepted.
 */
export function optionsFromConfig(config: Record<string, unknown>): AdadeltaOptimizerOptions {
  return withoutUndefined({
    lr: config['lr'],
    rho: config['rho'],
    eps: config['eps'],
    weightDecay: config['weightDecay'] ?? config['weight_decay'],
    build: config['build'],
  }) as AdadeltaOptimizerOptions;
}

function withoutUndefined(obj: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
