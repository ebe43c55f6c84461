export const BYTES_PER_PARAM: number;
export function probeModule(): WebAssembly.Module;
export function createBandwidthProbe(
  n: number,
  threads?: 1 | 2,
): Promise<{ arrays: Float32Array[]; step(): void; dispose(): Promise<void> }>;
