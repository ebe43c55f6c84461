/** Types for implementations.mjs, for the test that imports it. */
export declare const HYPER: Readonly<{ lr: number; rho: number; eps: number }>;
export declare const CLIP_MAX_NORM: number;
export interface BenchImpl {
  id: string;
  label: string;
  threads: number;
  bound?: boolean;
  section?: 'training-loop';
  base?: string;
  target?: number;
  create(inits: Float32Array[], grads: Float32Array[], total: number): Promise<{ skipped?: string; step?(): void; dispose?(): unknown }>;
}
export declare function implementations(plan: { tfCpuMax: number; tfWasmMax: number; adapterCpuMax: number; adapterWasmMax: number }): BenchImpl[];
