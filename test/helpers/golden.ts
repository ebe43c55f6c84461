/**
 * Reads the PyTorch golden vectors committed in test/golden: torch-adadelta.json (a copy of
 * shared/golden) and torch-adadelta-maximize-decay.json (test/interop/golden_cases.py).
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { Adadelta } from '../../dist/index.js';

export interface GoldenGroup {
  sizes: number[];
  lr: number;
  rho: number;
  eps: number;
  weight_decay: number;
  maximize: boolean;
}

export interface GoldenCheckpoint {
  after_step: number;
  [key: string]: unknown;
}

export interface GoldenCase {
  name: string;
  groups: GoldenGroup[];
  steps: number;
  params0: Float32Array[];
  /** grads[i][t]: param i's gradient at step t (0-based). */
  grads: Float32Array[][];
  expected: { step: number; params: Float32Array[]; square_avg: Float32Array[]; acc_delta: Float32Array[] }[];
  checkpoint?: GoldenCheckpoint;
}

/** Base64 of little-endian float32 bytes -> Float32Array (copied, so the Buffer pool's offset is moot). */
export function f32FromBase64(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The shared golden file, and the cases this repo adds: maximize with weight decay. */
export const GOLDEN_FILES = ['torch-adadelta.json', 'torch-adadelta-maximize-decay.json'] as const;

export function loadGolden(file: (typeof GOLDEN_FILES)[number] = GOLDEN_FILES[0]): GoldenCase[] {
  const raw = JSON.parse(readFileSync(new URL(`../golden/${file}`, import.meta.url), 'utf8'));
  return raw.cases.map((c: any) => ({
    ...c,
    params0: c.params0.map(f32FromBase64),
    grads: c.grads.map((perStep: string[]) => perStep.map(f32FromBase64)),
    expected: c.expected.map((e: any) => ({
      step: e.step,
      params: e.params.map(f32FromBase64),
      square_avg: e.square_avg.map(f32FromBase64),
      acc_delta: e.acc_delta.map(f32FromBase64),
    })),
  }));
}

/** Every case of every golden file. */
export function loadAllGolden(): GoldenCase[] {
  return GOLDEN_FILES.flatMap((file) => loadGolden(file));
}

/** The contract's tolerance: |a - e| <= 1e-6 + 1e-5 |e|, element by element. Returns the first miss. */
export function firstMiss(actual: ArrayLike<number>, expected: ArrayLike<number>): string | undefined {
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (!(Math.abs(a - e) <= 1e-6 + 1e-5 * Math.abs(e))) return `[${i}] ${a} vs ${e}`;
  }
  return undefined;
}

/**
 * Steps `opt` through a golden case's gradients from step `from` (0-based) to the end, checking
 * params, square_avg, acc_delta and step against every expected snapshot on the way. Returns
 * how many snapshots were checked.
 */
export function continueGolden(opt: Adadelta, c: GoldenCase, from: number): number {
  const expectedByStep = new Map(c.expected.map((e) => [e.step, e]));
  let checked = 0;
  for (let t = from; t < c.steps; t++) {
    opt.params.forEach((p, i) => p.grad.set(c.grads[i]![t]!));
    opt.step();
    const e = expectedByStep.get(t + 1);
    if (!e) continue;
    opt.params.forEach((p, i) => {
      const s = opt.state(i);
      expect(s.step).toBe(t + 1);
      expect(firstMiss(p.data, e.params[i]!), `params[${i}] after step ${t + 1}`).toBeUndefined();
      expect(firstMiss(s.squareAvg, e.square_avg[i]!), `square_avg[${i}] after step ${t + 1}`).toBeUndefined();
      expect(firstMiss(s.accDelta, e.acc_delta[i]!), `acc_delta[${i}] after step ${t + 1}`).toBeUndefined();
    });
    checked++;
  }
  return checked;
}

/** The clipping applied before one step of a training-loop case (torch's arguments and results). */
export type GoldenClip =
  | { kind: 'norm'; max_norm: number; norm_type: number; total_norm: number; clipped: (Float32Array | null)[] }
  | { kind: 'value'; clip_value: number; clipped: (Float32Array | null)[] };

/** A case of torch-adadelta-training-loop.json (test/interop/golden_training_loop.py). */
export interface TrainingLoopCase extends Omit<GoldenCase, 'expected' | 'checkpoint'> {
  /** has_grad[t][i]: false where torch's param i had `.grad = None` at step t. */
  has_grad: boolean[][];
  /** clip[t]: the clipping applied before step t + 1, or null. */
  clip: (GoldenClip | null)[];
  expected: (GoldenCase['expected'][number] & { state_step: number[]; has_state: boolean[] })[];
}

/** The frozen-param and clipping cases, decoded (norm_type 'inf' becomes Infinity). */
export function loadTrainingLoopGolden(): TrainingLoopCase[] {
  const raw = JSON.parse(readFileSync(new URL('../golden/torch-adadelta-training-loop.json', import.meta.url), 'utf8'));
  const decodeOrNull = (b64: string | null) => (b64 === null ? null : f32FromBase64(b64));
  return raw.cases.map((c: any) => ({
    ...c,
    params0: c.params0.map(f32FromBase64),
    grads: c.grads.map((perStep: string[]) => perStep.map(f32FromBase64)),
    clip: c.clip.map((k: any) =>
      k === null
        ? null
        : {
            ...k,
            ...(k.kind === 'norm' ? { norm_type: k.norm_type === 'inf' ? Infinity : k.norm_type, total_norm: f32FromBase64(k.total_norm)[0] } : {}),
            clipped: k.clipped.map(decodeOrNull),
          },
    ),
    expected: c.expected.map((e: any) => ({
      ...e,
      params: e.params.map(f32FromBase64),
      square_avg: e.square_avg.map(f32FromBase64),
      acc_delta: e.acc_delta.map(f32FromBase64),
    })),
  }));
}
