/**
 * Making the core optimizer that holds one tf.js variable's params, grads and state.
 *
 * tf.js calls `applyGradients` synchronously, but `Adadelta.create` is async (it may compile
 * and instantiate wasm). So cores are made ahead of time where tf.js gives us an async moment
 * (`adadeltaOptimizer()`, `prepare()`, `setWeights()`), and inside `applyGradients` through
 * `Adadelta.createSync`, which needs only the kernel that `adadeltaOptimizer()` compiled.
 */
import { Adadelta } from '../index.js';
import type { ResolvedOptions } from './options.js';

export function createCore(values: Float32Array, options: ResolvedOptions): Promise<Adadelta> {
  return Adadelta.create([values], options);
}

export function createCoreSync(values: Float32Array, options: ResolvedOptions): Adadelta {
  return Adadelta.createSync([values], options);
}
