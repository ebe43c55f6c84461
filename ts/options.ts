/**
 * Defaults and validation: every rule about user-given options lives here, and each failure
 * is an AdadeltaError naming the field.
 */
import { AdadeltaError } from './errors.js';
import { checkKernelSources, type KernelSources } from './wasm/source.js';

/** A group's hyperparameters, with torch.optim.Adadelta's names in camelCase. */
export interface Hyperparameters {
  /** Scales every update. torch and the paper: 1.0. (Keras and tf.js default to 0.001.) */
  lr: number;
  /** Decay of both moving averages, in [0, 1]. */
  rho: number;
  /** Added inside both square roots; sets the size of the first steps. */
  eps: number;
  /** L2 penalty added to the gradient: g += weightDecay * p. */
  weightDecay: number;
  /** Ascend instead of descend. */
  maximize: boolean;
}

export type Build = 'auto' | 'simd' | 'plain';

/** A param: a Float32Array whose values are copied in, or a length for a zero-filled param. */
export type ParamInit = Float32Array | number;

export interface ParamGroupInit extends Partial<Hyperparameters> {
  params: ParamInit[];
}

export interface AdadeltaOptions extends Partial<Hyperparameters> {
  /** Which wasm kernel to run: the SIMD one where supported ('auto'), or force one. */
  build?: Build;
  /**
   * The initial value of E[Δx²] for every element (default 0, as in PyTorch). The first step is
   * about `lr * sqrt((initialAccDelta + eps) / ((1 - rho) g² + eps)) * g`, so with the default 0
   * it is about `lr * sqrt(eps / (1 - rho))` whatever the gradient; a larger value starts bigger.
   */
  initialAccDelta?: number;
  /**
   * Threads that step disjoint element ranges over one shared memory: a count, or 'auto' for
   * the number of cores. Default 1. Where shared memory or workers are unavailable (a browser
   * page without cross-origin isolation), or without wasm SIMD, it falls back to one thread;
   * `opt.threads` reports the count in use.
   */
  threads?: number | 'auto';
  /**
   * Where the wasm kernels come from, per build, for CDNs, strict CSPs and unusual hosts: a URL,
   * a `Response`, the `.wasm` bytes, or a compiled `WebAssembly.Module` (the files ship as
   * `adadelta-wasm/adadelta-simd.wasm`, `…-plain.wasm` and `…-threads.wasm`). Builds left out
   * use the kernels the entry point carries. A given kernel becomes this realm's kernel for its
   * build, so later optimizers and `createSync` use it too.
   */
  wasm?: KernelSources;
}

export const DEFAULTS: Readonly<Hyperparameters> = Object.freeze({
  lr: 1.0,
  rho: 0.9,
  eps: 1e-6,
  weightDecay: 0,
  maximize: false,
});

const HYPER_KEYS = ['lr', 'rho', 'eps', 'weightDecay', 'maximize'] as const;
const OPTION_KEYS: readonly string[] = [...HYPER_KEYS, 'build', 'initialAccDelta', 'threads', 'wasm'];
const GROUP_KEYS: readonly string[] = [...HYPER_KEYS, 'params'];

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function finite(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AdadeltaError(`must be a finite number, got ${describe(value)}`, field);
  }
  return value;
}

/** Checks one hyperparameter and returns it; throws AdadeltaError naming `field` otherwise. */
export function checkHyper<K extends keyof Hyperparameters>(key: K, value: unknown, field: string = key): Hyperparameters[K] {
  if (key === 'maximize') {
    if (typeof value !== 'boolean') throw new AdadeltaError(`must be true or false, got ${describe(value)}`, field);
    return value as Hyperparameters[K];
  }
  const x = finite(field, value);
  if (key === 'rho') {
    if (x < 0 || x > 1) throw new AdadeltaError(`must be in [0, 1], got ${x}`, field);
  } else if (x < 0) {
    throw new AdadeltaError(`must be >= 0, got ${x}`, field);
  }
  return x as Hyperparameters[K];
}

function rejectUnknownKeys(obj: object, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new AdadeltaError(`unknown option ${JSON.stringify(key)} (expected one of ${allowed.join(', ')})`, where);
    }
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

/** The defaults a user passed, merged over torch's and validated. */
export function resolveOptions(options: AdadeltaOptions | undefined): { hyper: Hyperparameters; build: Build; initialAccDelta: number; threads: number | 'auto'; wasm: KernelSources } {
  if (options === undefined) return { hyper: { ...DEFAULTS }, build: 'auto', initialAccDelta: 0, threads: 1, wasm: {} };
  if (!isPlainObject(options)) throw new AdadeltaError(`must be an object, got ${describe(options)}`, 'defaults');
  rejectUnknownKeys(options, OPTION_KEYS, 'defaults');
  const hyper = { ...DEFAULTS };
  for (const key of HYPER_KEYS) {
    if (options[key] !== undefined) (hyper as Record<string, unknown>)[key] = checkHyper(key, options[key], `defaults.${key}`);
  }
  const build = options.build === undefined ? 'auto' : options.build;
  if (build !== 'auto' && build !== 'simd' && build !== 'plain') {
    throw new AdadeltaError(`must be 'auto', 'simd' or 'plain', got ${describe(build)}`, 'defaults.build');
  }
  const initialAccDelta = options.initialAccDelta === undefined ? 0 : nonNegative('defaults.initialAccDelta', options.initialAccDelta);
  const threads: unknown = options.threads === undefined ? 1 : options.threads;
  if (threads !== 'auto' && !(typeof threads === 'number' && Number.isInteger(threads) && threads >= 1 && threads <= 256)) {
    throw new AdadeltaError(`must be an integer from 1 to 256 or 'auto', got ${describe(threads)}`, 'defaults.threads');
  }
  const wasm = options.wasm === undefined ? {} : checkKernelSources(options.wasm, 'defaults.wasm');
  return { hyper, build, initialAccDelta, threads, wasm };
}

/** A finite number >= 0, or an AdadeltaError naming `field`. */
export function nonNegative(field: string, value: unknown): number {
  const x = finite(field, value);
  if (x < 0) throw new AdadeltaError(`must be >= 0, got ${x}`, field);
  return x;
}

/** One validated param: its length and, when given as a Float32Array, its initial values. */
export interface ParamSpec {
  length: number;
  init: Float32Array | undefined;
}

export interface GroupSpec {
  hyper: Hyperparameters;
  params: ParamSpec[];
}

function checkParam(param: unknown, field: string): ParamSpec {
  if (param instanceof Float32Array) {
    if (param.length < 1) throw new AdadeltaError('must not be empty', field);
    // Copied now: create() resolves later, and the caller may change or transfer the array.
    return { length: param.length, init: param.slice() };
  }
  if (typeof param === 'number') {
    if (!Number.isInteger(param) || param < 1) {
      throw new AdadeltaError(`a length must be an integer >= 1, got ${param}`, field);
    }
    return { length: param, init: undefined };
  }
  throw new AdadeltaError(`must be a Float32Array or a length, got ${describe(param)}`, field);
}

/** Array methods skip holes (`[3, , 4]`), so a hole would vanish from the groups but not from
 * their count, and saveState() would write `[a, , b]`: refuse them, naming the first. */
function rejectHoles(list: readonly unknown[], field: string): void {
  for (let i = 0; i < list.length; i++) {
    if (!(i in list)) throw new AdadeltaError('is missing (a hole in the array); give every entry', `${field}[${i}]`);
  }
}

function checkParamList(list: unknown, field: string): ParamSpec[] {
  if (!Array.isArray(list)) throw new AdadeltaError(`must be an array of params, got ${describe(list)}`, field);
  if (list.length === 0) throw new AdadeltaError('must hold at least one param', field);
  rejectHoles(list, field);
  return list.map((p, i) => checkParam(p, `${field}[${i}]`));
}

/**
 * Normalizes `groups` (a list of params, which makes one group, or a list of groups) into
 * validated group specs, each with its hyperparameters resolved over `defaults`.
 */
export function resolveGroups(groups: unknown, defaults: Hyperparameters): GroupSpec[] {
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new AdadeltaError(`must be a non-empty array of params or of param groups, got ${Array.isArray(groups) ? 'an empty array' : describe(groups)}`, 'groups');
  }
  if (!groups.some(isPlainObject)) {
    return [{ hyper: { ...defaults }, params: checkParamList(groups, 'params') }];
  }
  rejectHoles(groups, 'groups');
  return groups.map((group, g) => {
    const where = `groups[${g}]`;
    if (!isPlainObject(group)) {
      throw new AdadeltaError(`must be a param group { params, lr?, ... } like the others, got ${describe(group)}`, where);
    }
    rejectUnknownKeys(group, GROUP_KEYS, where);
    const hyper = { ...defaults };
    for (const key of HYPER_KEYS) {
      if (group[key] !== undefined) (hyper as Record<string, unknown>)[key] = checkHyper(key, group[key], `${where}.${key}`);
    }
    return { hyper, params: checkParamList(group.params, `${where}.params`) };
  });
}
