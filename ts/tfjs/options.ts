/**
 * The adapter's options and their round trip through tf.js's serialization (getConfig /
 * fromConfig). The types, defaults and validation are the core's: the adapter picks the options
 * that getConfig() can carry through a model.save, and passes every value to the core's checks.
 */
import { Adadelta, AdadeltaError, DEFAULTS, type Build, type Hyperparameters } from '../index.js';

/**
 * Options of `adadeltaOptimizer()`: the core's `lr`, `rho`, `eps`, `weightDecay` and `build`.
 * Defaults are torch.optim.Adadelta's, not tf.js's: lr 1.0, rho 0.9, eps 1e-6, weightDecay 0,
 * build 'auto'. Adadelta's update already has the units of the parameter, so lr is a
 * multiplier, not a step size; tf.js and Keras default to 0.001, which makes every step 1000x
 * smaller than the method intends.
 */
export interface AdadeltaOptimizerOptions extends Partial<ResolvedOptions> {}

/** The adapter's options resolved: the core's hyperparameters but `maximize` (tf.js minimizes). */
export interface ResolvedOptions extends Pick<Hyperparameters, 'lr' | 'rho' | 'eps' | 'weightDecay'> {
  /** Which wasm kernel runs: 'auto' (SIMD where supported), 'simd' or 'plain'. */
  build: Build;
}

export const TFJS_DEFAULTS: Readonly<ResolvedOptions> = Object.freeze({
  lr: DEFAULTS.lr,
  rho: DEFAULTS.rho,
  eps: DEFAULTS.eps,
  weightDecay: DEFAULTS.weightDecay,
  build: 'auto',
});

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
