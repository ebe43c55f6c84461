/**
 * Optimizer state <-> a safetensors file shaped like torch.optim.Adadelta's `state_dict()`:
 * tensors `state.{i}.square_avg`, `state.{i}.acc_delta` (F32 [len]) and `state.{i}.step`
 * (F32 []), and `__metadata__.param_groups`, the JSON of torch's `param_groups` list. Loading
 * validates everything against the optimizer's layout and returns fresh arrays; it changes
 * nothing, so the caller can apply the result atomically.
 */
import { AdadeltaError } from '../errors.js';
import { checkHyper, type Hyperparameters } from '../options.js';
import { MAX_JSON_DEPTH, overJsonLimits, preview } from './json-limits.js';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, type F32Tensor, type HeaderLimits } from './safetensors.js';

/** One param's state, as the optimizer holds it. */
export interface ParamStateSnapshot {
  step: number;
  squareAvg: Float32Array;
  accDelta: Float32Array;
}

export interface GroupSnapshot {
  /** With `initialLr`, torch's `initial_lr`, where an LR scheduler has recorded one. */
  hyper: Hyperparameters & { initialLr?: number | undefined };
  /** The indices of the group's params, numbered across groups. */
  params: readonly number[];
}

export interface Checkpoint {
  groups: GroupSnapshot[];
  /** Per param; undefined for a param that has never stepped, which has no state (as torch's
   * lazy state has none). */
  states: (ParamStateSnapshot | undefined)[];
  /** The optimizer's initialAccDelta, recorded in `__metadata__.initial_acc_delta` (torch ignores
   * unknown metadata); a record of how fresh state was started, not read back. */
  initialAccDelta?: number;
}

/** What a checkpoint must match: each group's param indices and each param's length. */
export interface CheckpointLayout {
  groups: readonly (readonly number[])[];
  lengths: readonly number[];
  /** The E[Δx²] a fresh param starts from (the optimizer's `initialAccDelta`, 0 like torch). */
  initialAccDelta: number;
}

const STATE_KEYS = ['square_avg', 'acc_delta', 'step'] as const;

/** The largest step count a param can have: the kernel counts in a u32. */
const MAX_STEP = 0xffff_ffff;
type StateKey = (typeof STATE_KEYS)[number];

/** torch's names for our hyperparameters, in the order torch's `param_groups` lists them. */
const TORCH_NAMES: readonly (readonly [keyof Hyperparameters, string])[] = [
  ['lr', 'lr'],
  ['rho', 'rho'],
  ['eps', 'eps'],
  ['weightDecay', 'weight_decay'],
  ['maximize', 'maximize'],
];

function fail(message: string): never {
  throw new AdadeltaError(message, 'checkpoint');
}

/** A number as Python's json.dumps writes a float (1.0, not 1), so torch sees floats. */
function pythonFloat(x: number): string {
  const s = JSON.stringify(x);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

function paramGroupsJson(groups: readonly GroupSnapshot[]): string {
  const parts = groups.map((g) => {
    const h = g.hyper;
    const initialLr = h.initialLr === undefined ? '' : `"initial_lr": ${pythonFloat(h.initialLr)}, `;
    return `{"lr": ${pythonFloat(h.lr)}, "rho": ${pythonFloat(h.rho)}, "eps": ${pythonFloat(h.eps)}, "weight_decay": ${pythonFloat(h.weightDecay)}, "foreach": null, "maximize": ${h.maximize}, "capturable": false, "differentiable": false, ${initialLr}"params": [${g.params.join(', ')}]}`;
  });
  return `[${parts.join(', ')}]`;
}

/** Encodes the optimizer's state as a torch-compatible safetensors file. */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const tensors: [string, F32Tensor][] = [];
  checkpoint.states.forEach((s, i) => {
    if (s === undefined) return;
    tensors.push([`state.${i}.square_avg`, { shape: [s.squareAvg.length], data: s.squareAvg }]);
    tensors.push([`state.${i}.acc_delta`, { shape: [s.accDelta.length], data: s.accDelta }]);
    tensors.push([`state.${i}.step`, { shape: [], data: new Float32Array([s.step]) }]);
  });
  const metadata: Record<string, string> = { param_groups: paramGroupsJson(checkpoint.groups) };
  if (checkpoint.initialAccDelta !== undefined) metadata.initial_acc_delta = pythonFloat(checkpoint.initialAccDelta);
  return encodeSafetensors(tensors, metadata);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function sameList(a: unknown, b: readonly number[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
}

function decodeGroups(metadata: Record<string, string> | undefined, layout: CheckpointLayout): GroupSnapshot[] {
  const json = metadata?.param_groups;
  if (json === undefined) fail('the file has no __metadata__.param_groups (the JSON of torch\'s state_dict()["param_groups"])');
  const over = overJsonLimits(json, {
    maxDepth: MAX_JSON_DEPTH,
    // Not the group count: a wrong count gets its own, clearer message after the parse.
    maxMembers: Infinity,
    // Slack, so that a file with a few groups too many gets the clearer message below.
    maxValues: layout.lengths.length + PARAM_GROUP_VALUES * (layout.groups.length + 16),
  });
  if (over !== undefined) fail(`__metadata__.param_groups ${over} for this optimizer of ${layout.groups.length} groups and ${layout.lengths.length} params`);
  let groups: unknown;
  try {
    groups = JSON.parse(json);
  } catch (e) {
    fail(`__metadata__.param_groups is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(groups)) fail(`__metadata__.param_groups must be a list of param groups, got ${preview(groups)}`);
  if (groups.length !== layout.groups.length) {
    fail(`param_groups has ${groups.length} groups; this optimizer has ${layout.groups.length}`);
  }
  return groups.map((group: unknown, g) => {
    const where = `param_groups[${g}]`;
    if (!isPlainObject(group)) fail(`${where} must be an object, got ${preview(group)}`);
    const ours = layout.groups[g]!;
    if (!sameList(group.params, ours)) {
      fail(`${where}.params is ${preview(group.params)}; this optimizer's group ${g} has params [${ours.join(', ')}]`);
    }
    // Unknown keys (torch adds foreach, capturable...; OneCycleLR max_lr, min_lr) are ignored.
    const hyper = {} as Record<keyof Hyperparameters, unknown>;
    for (const [ours, torch] of TORCH_NAMES) {
      // The same validation as creation; the error names the torch field.
      hyper[ours] = checkHyper(ours, group[torch], `checkpoint.${where}.${torch}`);
    }
    // LR schedulers' initial_lr is kept, so that a scheduler resumes from the checkpoint.
    const initialLr = group.initial_lr === undefined ? {} : { initialLr: checkHyper('lr', group.initial_lr, `checkpoint.${where}.initial_lr`) };
    return { hyper: { ...(hyper as Hyperparameters), ...initialLr }, params: [...ours] };
  });
}

const STATE_NAME = /^state\.(0|[1-9]\d{0,9})\.(square_avg|acc_delta|step)$/;

function decodeStates(tensors: Map<string, F32Tensor>, lengths: readonly number[], initialAccDelta: number): ParamStateSnapshot[] {
  const found: Partial<Record<StateKey, F32Tensor>>[] = lengths.map(() => ({}));
  for (const [name, tensor] of tensors) {
    const match = STATE_NAME.exec(name);
    if (!match) fail(`unexpected tensor ${preview(name)}; expected only state.{i}.square_avg, state.{i}.acc_delta and state.{i}.step`);
    const index = Number(match[1]);
    if (index >= lengths.length) fail(`tensor ${preview(name)} is for param ${index}; this optimizer has params 0..${lengths.length - 1}`);
    found[index]![match[2] as StateKey] = tensor;
  }
  return found.map((entry, i) => {
    const length = lengths[i]!;
    const present = STATE_KEYS.filter((k) => entry[k] !== undefined);
    // Like torch: a param that never stepped has no state at all, and starts fresh.
    if (present.length === 0) return { step: 0, squareAvg: new Float32Array(length), accDelta: new Float32Array(length).fill(initialAccDelta) };
    if (present.length < STATE_KEYS.length) {
      const missing = STATE_KEYS.filter((k) => entry[k] === undefined).map((k) => `state.${i}.${k}`);
      fail(`param ${i} has ${present.map((k) => `state.${i}.${k}`).join(', ')} but not ${missing.join(', ')}; a param has all three state tensors or none`);
    }
    // Our params are flat; torch's are shaped (a Linear weight is [out, in]) but laid out
    // row-major, so any shape with the param's element count maps onto it element by element.
    for (const key of ['square_avg', 'acc_delta'] as const) {
      const { shape, data } = entry[key]!;
      if (data.length !== length) {
        fail(`tensor state.${i}.${key} has shape [${shape.join(', ')}] (${data.length} elements); param ${i} has ${length}`);
      }
    }
    const stepTensor = entry.step!;
    if (stepTensor.shape.length !== 0) fail(`tensor state.${i}.step has shape [${stepTensor.shape.join(', ')}]; a step count has shape []`);
    const step = stepTensor.data[0]!;
    // The kernel keeps each count in a u32 word of its tensor table.
    if (!Number.isFinite(step) || step < 0 || !Number.isInteger(step) || step > MAX_STEP) {
      fail(`tensor state.${i}.step is ${step}; a step count is a whole number from 0 to ${MAX_STEP}`);
    }
    return { step, squareAvg: entry.square_avg!.data, accDelta: entry.acc_delta!.data };
  });
}

/** Header bytes allowed per param: what encodeCheckpoint writes (about 260 at 500,000 params,
 * 340 at most, with 10-digit indices and 16-digit offsets) with room for torch's shapes of up
 * to eight dimensions. */
const HEADER_BYTES_PER_PARAM = 512;
/** JSON values allowed per tensor entry: its name, dtype, offsets and a shape of up to 8 dims. */
const HEADER_VALUES_PER_TENSOR = 16;
/** Values of one torch param group besides its param indices (torch writes 9, schedulers add). */
const PARAM_GROUP_VALUES = 64;
/** Room for metadata besides param_groups (strings: each a single value). */
const METADATA_VALUES = 1024;
/** Stray tensors let through to the parse, so that the error names them (a tensor of a param
 * this optimizer lacks, an Adam state); thousands are refused before it. */
const STRAY_TENSORS = 64;

/**
 * What a checkpoint of this layout can hold: at most three tensors per param, and a header no
 * longer than this optimizer's own saveState() writes (or than the 100 MB any torch-written file
 * is within). Anything bigger is refused before its header is parsed.
 */
export function checkpointLimits(layout: CheckpointLayout): HeaderLimits {
  const params = layout.lengths.length;
  return {
    maxHeaderBytes: Math.max(MAX_HEADER_BYTES, HEADER_BYTES_PER_PARAM * params),
    maxTensors: STATE_KEYS.length * params + STRAY_TENSORS,
    maxValues: HEADER_VALUES_PER_TENSOR * (STATE_KEYS.length * params + STRAY_TENSORS) + METADATA_VALUES,
    reason: `for this optimizer of ${params} params (${STATE_KEYS.length} state tensors each)`,
  };
}

/**
 * Decodes and validates a checkpoint against the optimizer's layout. Throws AdadeltaError on
 * any problem; on success every array returned is a fresh copy.
 */
export function decodeCheckpoint(bytes: Uint8Array, layout: CheckpointLayout): Omit<Checkpoint, 'states'> & { states: ParamStateSnapshot[] } {
  const { metadata, tensors } = decodeSafetensors(bytes, checkpointLimits(layout));
  const groups = decodeGroups(metadata, layout);
  const states = decodeStates(tensors, layout.lengths, layout.initialAccDelta);
  return { groups, states };
}
