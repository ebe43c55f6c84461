/**
 * Making the core optimizer that holds one tf.js variable's params, grads and state.
 *
 * tf.js calls `applyGradients` synchronously, but `Adadelta.create` is async (it may compile
 * and instantiate wasm). So cores are made ahead of time where tf.js gives us an async moment
 * (`adadeltaOptimizer()`, `prepare()`, `setWeights()`), and synchronously only through a
 * synchronous creation hook on the core, `Adadelta.createSync`, when the core has one.
 */
import { Adadelta, AdadeltaError } from '../index.js';
import type { ResolvedOptions } from './options.js';

type CreateSync = (groups: Float32Array[], defaults: object) => Adadelta;

function createSyncHook(): CreateSync | undefined {
  const hook = (Adadelta as unknown as { createSync?: CreateSync }).createSync;
  return typeof hook === 'function' ? hook.bind(Adadelta) : undefined;
}

/** Whether cores can be made inside `applyGradients` for variables never seen before. */
export function canCreateSync(): boolean {
  return createSyncHook() !== undefined;
}

export function createCore(values: Float32Array, options: ResolvedOptions): Promise<Adadelta> {
  return Adadelta.create([values], options);
}

export function createCoreSync(values: Float32Array, options: ResolvedOptions, variableName: string): Adadelta {
  const hook = createSyncHook();
  if (hook === undefined) {
    throw new AdadeltaError(
      `variable ${JSON.stringify(variableName)} has no optimizer state yet, and the wasm memory for it cannot be made inside tf.js's synchronous applyGradients; call \`await optimizer.prepare(model)\` (or pass its variables) before training`,
      'applyGradients',
    );
  }
  return hook([values], options);
}
