/**
 * A `tf.Optimizer` that runs torch.optim.Adadelta in the wasm kernel.
 *
 * State is keyed by variable NAME (tf.js's own optimizers key it by position in the gradient
 * list, so a subset or a reordering silently feeds one variable's state to another). Each
 * variable gets its own core optimizer, so stepping a subset touches only that subset's state.
 *
 * Per step and variable the data moves once each way: the gradient with `dataSync()` into the
 * core's grad view, and the new values back with `variable.assign`. Param values are read from
 * the variable only when something other than this optimizer has changed it.
 */
import {
  engine,
  Optimizer,
  scalar,
  Tensor,
  tensor,
  Variable,
  type NamedTensorMap,
} from '@tensorflow/tfjs-core';
import { AdadeltaError, type Adadelta } from '../index.js';
import { encodeCheckpoint } from '../state/checkpoint.js';
import { createCore, createCoreSync } from './core.js';
import { matchSavedName } from './names.js';
import { optionsFromConfig, resolveAdapterOptions, type AdadeltaOptimizerOptions, type ResolvedOptions } from './options.js';

/** A named tensor, as tf.js's Optimizer API passes them (the type is not exported by tfjs-core). */
export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

/** A copy of one variable's optimizer state, named as in torch's `state_dict()`. */
export interface VariableState {
  step: number;
  squareAvg: Float32Array;
  accDelta: Float32Array;
}

/** One variable's core optimizer. */
interface Slot {
  /** The variable name this state belongs to (while unclaimed: the name it was saved under). */
  name: string;
  shape: number[];
  core: Adadelta;
  /**
   * The tensor data our last write left in the variable. When the variable holds anything else
   * (setWeights, model.loadWeights, a manual assign), its values are read in before the step.
   */
  written: unknown;
}

/** Suffixes of the three weights saved per variable, named as in torch's state_dict. */
const STATE_SUFFIXES = ['square_avg', 'acc_delta', 'step'] as const;

/** Something that holds tf.js variables: a LayersModel, or a list of variables / LayerVariables. */
export type VariableSource = { trainableWeights: readonly { read(): Tensor }[] } | readonly (Variable | { read(): Tensor })[];

export class AdadeltaOptimizer extends Optimizer {
  /** The name under which tf.js serializes this class (tf.js's own is 'Adadelta'). */
  static get className(): string {
    return 'AdadeltaWasm';
  }

  readonly #options: ResolvedOptions;
  /** Cores in use, keyed by the variable name they serve. */
  readonly #slots = new Map<string, Slot>();
  /** Cores restored by setWeights that no variable has claimed yet, keyed by saved name. */
  #unclaimed = new Map<string, Slot>();
  #disposed = false;

  /**
   * Prefer `await adadeltaOptimizer(options)`, which validates the options and compiles the
   * kernel. The constructor is what tf.js's deserialization calls.
   */
  constructor(options: AdadeltaOptimizerOptions = {}) {
    super();
    this.#options = resolveAdapterOptions(options);
  }

  get lr(): number { return this.#options.lr; }
  get rho(): number { return this.#options.rho; }
  get eps(): number { return this.#options.eps; }
  get weightDecay(): number { return this.#options.weightDecay; }

  /** The names of the variables that have optimizer state, in the order they were first seen. */
  get variableNames(): string[] {
    this.#assertLive();
    return [...this.#slots.keys()];
  }

  /** A copy of one variable's state: `{ step, squareAvg, accDelta }`, or undefined if it has none. */
  state(variableName: string): VariableState | undefined {
    this.#assertLive();
    return this.#slots.get(variableName)?.core.state(0);
  }

  /**
   * Makes optimizer state for every variable of `source` that has none, so that the first
   * `applyGradients` can run without creating wasm memory synchronously. Idempotent.
   */
  async prepare(source: VariableSource): Promise<this> {
    this.#assertLive();
    const list: readonly (Variable | { read(): Tensor })[] = 'trainableWeights' in source ? source.trainableWeights : source;
    const variables = list.map(toVariable);
    for (const variable of variables) {
      if (this.#slots.has(variable.name)) {
        this.#checkShape(this.#slots.get(variable.name)!, variable);
        continue;
      }
      if (this.#claimSaved(variable) !== undefined) continue;
      checkFloat32(variable);
      const core = await createCore(variable.dataSync() as Float32Array, this.#options);
      if (this.#disposed) {
        core.dispose();
        this.#assertLive();
      }
      this.#slots.set(variable.name, { name: variable.name, shape: [...variable.shape], core, written: variable.dataId });
    }
    return this;
  }

  override applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    this.#assertLive();
    const entries = gradientEntries(variableGradients);

    // Check everything, read every gradient, and find or make every core, before any variable
    // or state changes: a bad gradient late in the list must not leave the earlier ones stepped.
    const seen = new Set<string>();
    const work: { variable: Variable; grad: Float32Array | Int32Array | Uint8Array; values: Float32Array | undefined; slot: Slot }[] = [];
    const created: Slot[] = [];
    const claimed = new Set<string>();
    try {
      for (const [name, grad] of entries) {
        if (seen.has(name)) throw new AdadeltaError(`variable ${JSON.stringify(name)} appears twice`, 'applyGradients');
        seen.add(name);
        // As in tf.js: a variable without a gradient takes no step, and its state is untouched.
        if (grad == null) continue;
        checkTensor(grad, `the gradient of ${JSON.stringify(name)}`, 'applyGradients');
        const variable = engine().registeredVariables[name];
        if (variable === undefined) {
          throw new AdadeltaError(`no tf.Variable named ${JSON.stringify(name)} is registered`, 'applyGradients');
        }
        checkFloat32(variable);
        if (!sameShape(grad.shape, variable.shape)) {
          throw new AdadeltaError(
            `the gradient of ${JSON.stringify(name)} has shape [${grad.shape}], but the variable has shape [${variable.shape}]`,
            'applyGradients',
          );
        }
        let slot = this.#slots.get(name) ?? this.#peekSaved(variable, claimed);
        if (slot !== undefined && !this.#slots.has(name)) claimed.add(slot.name);
        if (slot === undefined) {
          slot = { name, shape: [...variable.shape], core: createCoreSync(variable.dataSync() as Float32Array, this.#options), written: variable.dataId };
          created.push(slot);
        }
        this.#checkShape(slot, variable);
        // Read now: a tensor that cannot be read (a backend's failure) fails before any step.
        const values = variable.dataId === slot.written ? undefined : (readData(variable, `variable ${JSON.stringify(name)}`) as Float32Array);
        work.push({ variable, grad: readData(grad, `the gradient of ${JSON.stringify(name)}`), values, slot });
      }
    } catch (e) {
      for (const slot of created) slot.core.dispose();
      throw e;
    }

    for (const { variable, grad, values, slot } of work) {
      if (slot.name !== variable.name || !this.#slots.has(variable.name)) {
        this.#unclaimed.delete(slot.name);
        slot.name = variable.name;
        this.#slots.set(variable.name, slot);
      }
      const param = slot.core.params[0]!;
      if (values !== undefined) param.data.set(values);
      param.grad.set(grad);
      slot.core.step();
      // A copy: tf.tensor keeps a Float32Array it is given, and this view is ours to overwrite.
      const next = tensor(param.data.slice(), variable.shape, 'float32');
      variable.assign(next);
      next.dispose();
      slot.written = variable.dataId;
    }
    this.incrementIterations();
  }

  /**
   * 'iter' first (as every tf.js optimizer), then for each variable `<name>/square_avg`,
   * `<name>/acc_delta` and `<name>/step` (torch's state names). tf.js's own Adadelta saves
   * all `<name>/accum_grad` and then all `<name>/accum_var`, and restores them by position.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.#assertLive();
    const weights: NamedTensor[] = [await this.saveIterations()];
    for (const slot of [...this.#slots.values(), ...this.#unclaimed.values()]) {
      const s = slot.core.state(0);
      weights.push(
        { name: `${slot.name}/square_avg`, tensor: tensor(s.squareAvg, slot.shape, 'float32') },
        { name: `${slot.name}/acc_delta`, tensor: tensor(s.accDelta, slot.shape, 'float32') },
        { name: `${slot.name}/step`, tensor: scalar(s.step, 'float32') },
      );
    }
    return weights;
  }

  /**
   * Replaces all optimizer state with `weights` as written by `getWeights()`. State is matched
   * to variables by name at their next step (see names.ts for models loaded twice in a page);
   * their current values are read in then. Validates everything before changing anything.
   */
  override async setWeights(weights: NamedTensor[]): Promise<void> {
    this.#assertLive();
    if (!Array.isArray(weights)) throw new AdadeltaError('must be a list of { name, tensor }, as getWeights() returns', 'setWeights');
    // An index loop, not forEach: a hole must be refused as a weight, not skipped.
    for (let i = 0; i < weights.length; i++) {
      const w: unknown = weights[i];
      if (typeof w !== 'object' || w === null || typeof (w as NamedTensor).name !== 'string') {
        throw new AdadeltaError(`weight ${i} must be { name, tensor } with a string name`, 'setWeights');
      }
      checkTensor((w as NamedTensor).tensor, `weight ${JSON.stringify((w as NamedTensor).name)}`, 'setWeights');
    }
    const [iter, ...rest] = weights;
    if (iter === undefined || iter.name !== 'iter' || iter.tensor.size !== 1) {
      throw new AdadeltaError(`the first weight must be the scalar 'iter', got ${JSON.stringify(iter?.name)}`, 'setWeights');
    }
    const byVariable = new Map<string, Partial<Record<(typeof STATE_SUFFIXES)[number], Tensor>>>();
    for (const { name, tensor: t } of rest) {
      const cut = name.lastIndexOf('/');
      const suffix = name.slice(cut + 1) as (typeof STATE_SUFFIXES)[number];
      if (cut <= 0 || !STATE_SUFFIXES.includes(suffix)) {
        throw new AdadeltaError(`unexpected weight ${JSON.stringify(name)}; expected <variable>/${STATE_SUFFIXES.join('|')}`, 'setWeights');
      }
      const entry = byVariable.get(name.slice(0, cut)) ?? {};
      if (entry[suffix] !== undefined) throw new AdadeltaError(`weight ${JSON.stringify(name)} appears twice`, 'setWeights');
      entry[suffix] = t;
      byVariable.set(name.slice(0, cut), entry);
    }
    const restored = new Map<string, Slot>();
    try {
      for (const [name, { square_avg: sq, acc_delta: acc, step }] of byVariable) {
        if (sq === undefined || acc === undefined || step === undefined) {
          throw new AdadeltaError(`variable ${JSON.stringify(name)} needs all of ${STATE_SUFFIXES.map((s) => `${name}/${s}`).join(', ')}`, 'setWeights');
        }
        if (!sameShape(sq.shape, acc.shape) || step.size !== 1 || sq.size === 0) {
          throw new AdadeltaError(`the state of ${JSON.stringify(name)} has inconsistent shapes [${sq.shape}], [${acc.shape}], [${step.shape}]`, 'setWeights');
        }
        const core = await createCore(new Float32Array(sq.size), this.#options);
        restored.set(name, { name, shape: [...sq.shape], core, written: undefined });
        loadVariableState(core, { step: (await step.data())[0]!, squareAvg: await float32(sq), accDelta: await float32(acc) });
      }
    } catch (e) {
      for (const slot of restored.values()) slot.core.dispose();
      throw e;
    }
    const iterations = (await iter.tensor.data())[0]!;
    this.#assertLive();
    this.#disposeCores();
    this.#unclaimed = restored;
    this.iterations_ = iterations;
  }

  override getConfig(): { lr: number; rho: number; eps: number; weightDecay: number; build: string } {
    const { lr, rho, eps, weightDecay, build } = this.#options;
    return { lr, rho, eps, weightDecay, build };
  }

  static override fromConfig<T>(cls: new (options: AdadeltaOptimizerOptions) => T, config: Record<string, unknown>): T {
    return new cls(optionsFromConfig(config));
  }

  /** Frees every core's wasm memory. Any later use throws AdadeltaError. */
  override dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#disposeCores();
    super.dispose();
  }

  /** Whether variables never seen before can be stepped without `prepare()`: always, since
   * the core's `Adadelta.createSync` makes their state inside `applyGradients` (see core.ts). */
  static get createsStateLazily(): boolean {
    return true;
  }

  #disposeCores(): void {
    for (const slot of [...this.#slots.values(), ...this.#unclaimed.values()]) slot.core.dispose();
    this.#slots.clear();
    this.#unclaimed.clear();
  }

  /** The unclaimed saved state that belongs to `variable`, without claiming it. */
  #peekSaved(variable: Variable, alreadyClaimed: ReadonlySet<string> = new Set()): Slot | undefined {
    const unclaimed = [...this.#unclaimed.keys()].filter((saved) => !alreadyClaimed.has(saved));
    const saved = matchSavedName(variable.name, unclaimed);
    return saved === undefined ? undefined : this.#unclaimed.get(saved);
  }

  /** Moves the saved state that belongs to `variable` (if any) to its slot and returns it. */
  #claimSaved(variable: Variable): Slot | undefined {
    const slot = this.#peekSaved(variable);
    if (slot === undefined) return undefined;
    this.#checkShape(slot, variable);
    this.#unclaimed.delete(slot.name);
    slot.name = variable.name;
    this.#slots.set(variable.name, slot);
    return slot;
  }

  #checkShape(slot: Slot, variable: Variable): void {
    if (!sameShape(slot.shape, variable.shape)) {
      throw new AdadeltaError(
        `variable ${JSON.stringify(variable.name)} has shape [${variable.shape}], but its optimizer state has shape [${slot.shape}]; a variable cannot change shape under an optimizer`,
        'applyGradients',
      );
    }
  }

  #assertLive(): void {
    if (this.#disposed) throw new AdadeltaError('this optimizer has been disposed');
  }
}

// tf.Optimizer answers `instanceof` by duck typing (so that copies of tfjs-core agree), and
// subclasses inherit that: without this, every tf.js optimizer would pass
// `instanceof AdadeltaOptimizer`. Restore the ordinary prototype check for this class.
Object.defineProperty(AdadeltaOptimizer, Symbol.hasInstance, {
  value: function (this: abstract new (...args: never[]) => unknown, instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, instance);
  },
});

/** A tf.Variable, or the tf.Variable behind a tfjs-layers LayerVariable. */
function toVariable(v: Variable | { read(): Tensor }): Variable {
  const variable = 'assign' in v ? v : v.read();
  if (!(variable instanceof Variable)) throw new AdadeltaError('expected tf.Variables, LayerVariables or a model', 'prepare');
  return variable;
}

/** The (name, gradient) pairs of either form applyGradients takes. */
function gradientEntries(variableGradients: NamedTensorMap | NamedTensor[]): [string, unknown][] {
  if (Array.isArray(variableGradients)) {
    // Array.from, not map: a hole must be refused as an entry, not skipped.
    return Array.from(variableGradients, (g: unknown, i) => {
      if (typeof g !== 'object' || g === null || typeof (g as NamedTensor).name !== 'string') {
        throw new AdadeltaError(`entry ${i} must be { name, tensor } with a string name`, 'applyGradients');
      }
      return [(g as NamedTensor).name, (g as NamedTensor).tensor];
    });
  }
  if (typeof variableGradients !== 'object' || variableGradients === null) {
    throw new AdadeltaError('must be a map of variable names to gradients, or a list of { name, tensor }', 'applyGradients');
  }
  return Object.entries(variableGradients);
}

/** A live tensor of real numbers, or an AdadeltaError naming `what`. */
function checkTensor(t: unknown, what: string, field: string): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new AdadeltaError(`${what} must be a tf.Tensor, got ${t === null ? 'null' : typeof t}`, field);
  if (t.isDisposed) throw new AdadeltaError(`${what} is disposed`, field);
  if (t.dtype === 'string' || t.dtype === 'complex64') throw new AdadeltaError(`${what} is a ${t.dtype} tensor; Adadelta takes real numbers`, field);
}

/** A tensor's values; a backend's failure to read them is an AdadeltaError naming `what`. */
function readData(t: Tensor, what: string): Float32Array | Int32Array | Uint8Array {
  try {
    return t.dataSync() as Float32Array | Int32Array | Uint8Array;
  } catch (e) {
    throw new AdadeltaError(`${what} could not be read: ${(e as Error).message}`, 'applyGradients');
  }
}

function checkFloat32(variable: Variable): void {
  if (variable.dtype !== 'float32') {
    throw new AdadeltaError(`variable ${JSON.stringify(variable.name)} is ${variable.dtype}; Adadelta runs on float32 variables`, 'applyGradients');
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

async function float32(t: Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.data());
}

/**
 * Gives a one-param core the state `getWeights()` wrote, through the core's own checkpoint:
 * `loadState` validates it as it would a torch file (a non-integer step, a wrong length), and
 * the group's hyperparameters are the core's own, so they are unchanged.
 */
function loadVariableState(core: Adadelta, state: VariableState): void {
  const { params, ...hyper } = core.paramGroups[0]!.toJSON();
  core.loadState(encodeCheckpoint({ groups: [{ hyper, params }], states: [state] }));
}
