/**
 * Validation for the schedulers' options and state dicts: each failure is an AdadeltaError
 * that names the field (`StepLR.stepSize`, `StepLR.stateDict.step_size`).
 */
import { AdadeltaError } from '../errors.js';

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

export function fail(field: string, message: string): never {
  throw new AdadeltaError(message, field);
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

/** The options object (or `{}`), with no keys besides `allowed`. */
export function options(value: unknown, where: string, allowed: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail(`${where}.options`, `must be an object, got ${show(value)}`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${where}.options`, `unknown option ${JSON.stringify(key)} (expected one of ${allowed.join(', ')})`);
  }
  return value;
}

export interface Range {
  /** Lower bound, inclusive unless `above`. */
  min?: number;
  above?: boolean;
  /** Upper bound, inclusive unless `below`. */
  max?: number;
  below?: boolean;
  integer?: boolean;
}

/** A finite number (a whole one with `integer`) within the range. */
export function num(value: unknown, field: string, range: Range = {}): number {
  const { min, max, above = false, below = false, integer = false } = range;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(field, `must be a finite number, got ${show(value)}`);
  if (integer && !Number.isInteger(value)) fail(field, `must be a whole number, got ${value}`);
  if (min !== undefined && (above ? value <= min : value < min)) fail(field, `must be ${above ? '>' : '>='} ${min}, got ${value}`);
  if (max !== undefined && (below ? value >= max : value > max)) fail(field, `must be ${below ? '<' : '<='} ${max}, got ${value}`);
  return value;
}

/** `value` when given, else `fallback`, checked as `num`. */
export function optNum(value: unknown, fallback: number, field: string, range?: Range): number {
  return num(value === undefined ? fallback : value, field, range);
}

export const LR: Range = { min: 0 };
export const COUNT: Range = { min: 1, integer: true };
export const EPOCH: Range = { min: -1, integer: true };

/** One value per param group: a single value for all, or a list as long as the groups. */
export function perGroup<T>(value: unknown, field: string, groups: number, check: (v: unknown, field: string) => T): T[] {
  if (!Array.isArray(value)) return Array.from({ length: groups }, () => check(value, field));
  if (value.length !== groups) fail(field, `has ${value.length} values; the optimizer has ${groups} param groups`);
  return value.map((v, i) => check(v, `${field}[${i}]`));
}

/** A list of `groups` numbers (a state dict's lrs). */
export function numbers(value: unknown, field: string, groups: number, range: Range = {}): number[] {
  if (!Array.isArray(value)) fail(field, `must be a list of ${groups} numbers, got ${show(value)}`);
  return perGroup(value, field, groups, (v, f) => num(v, f, range));
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) fail(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${show(value)}`);
  return value as T;
}

export function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') fail(field, `must be true or false, got ${show(value)}`);
  return value;
}

/** Whole-number epochs in order; `strict` forbids repeats. */
export function milestones(value: unknown, field: string, strict: boolean): number[] {
  if (!Array.isArray(value)) fail(field, `must be a list of whole numbers, got ${show(value)}`);
  return value.map((v, i) => {
    const m = num(v, `${field}[${i}]`, { integer: true });
    const prev = value[i - 1] as number;
    if (i > 0 && (strict ? m <= prev : m < prev)) fail(field, `must be ${strict ? 'increasing' : 'non-decreasing'}, got ${prev} then ${m}`);
    return m;
  });
}

export function fn<T extends (...args: never[]) => unknown>(value: unknown, field: string): T {
  if (typeof value !== 'function') fail(field, `must be a function, got ${show(value)}`);
  return value as T;
}
