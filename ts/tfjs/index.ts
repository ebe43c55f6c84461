/**
 * `adadelta-wasm/tfjs`: torch.optim.Adadelta as a drop-in `tf.Optimizer` for TensorFlow.js.
 * A separate entry point, so that users of the core never load tf.js.
 */
import { serialization } from '@tensorflow/tfjs-core';
import { AdadeltaOptimizer } from './optimizer.js';
import { createCore } from './core.js';
import { resolveAdapterOptions, type AdadeltaOptimizerOptions } from './options.js';

// Lets tf.loadLayersModel rebuild this optimizer from a model saved with includeOptimizer.
serialization.registerClass(AdadeltaOptimizer);

/**
 * Creates the optimizer: validates the options and compiles the wasm kernel, so it is ready for
 * tf.js's synchronous `applyGradients`. Defaults are PyTorch's (lr 1.0, rho 0.9, eps 1e-6).
 */
export async function adadeltaOptimizer(options: AdadeltaOptimizerOptions = {}): Promise<AdadeltaOptimizer> {
  // A one-element core checks every option exactly as the core does, and warms the compile cache.
  (await createCore(new Float32Array(1), resolveAdapterOptions(options))).dispose();
  return new AdadeltaOptimizer(options);
}

export { AdadeltaOptimizer };
export type { NamedTensor, VariableSource, VariableState } from './optimizer.js';
export type { AdadeltaOptimizerOptions } from './options.js';
