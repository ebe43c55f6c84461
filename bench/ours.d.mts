import type { BenchHyper } from './plain-js.mjs';
export interface BenchOurs {
  build: string;
  threads: number;
  params: unknown[];
  activate?(): unknown;
  step(): void;
  setGrads(arrays: Float32Array[]): void;
  read(): Float32Array[];
  dispose(): void;
}
export function createOurs(
  inits: Float32Array[],
  hyper: BenchHyper,
  options: { build: 'plain' | 'simd'; threads?: number; stats?: 'step' | 'read'; clipGradNorm?: number; frozen?: 'half' },
): Promise<BenchOurs | undefined>;
