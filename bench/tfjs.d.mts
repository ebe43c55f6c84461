import type { BenchHyper } from './plain-js.mjs';
export interface BenchTfjs {
  activate?(): Promise<boolean>;
  setGrads(arrays: Float32Array[]): void;
  step(): void;
  read(): Float32Array[];
  numTensors(): number;
  dispose(): void;
}
export function initTfjs(): Promise<Record<string, unknown>>;
export function createTfjs(backend: 'cpu' | 'wasm', inits: Float32Array[], hyper: BenchHyper): Promise<BenchTfjs>;
export function createTfjsAdapter(backend: 'cpu' | 'wasm', inits: Float32Array[], hyper: BenchHyper): Promise<BenchTfjs>;
