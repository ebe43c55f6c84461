export interface BenchHyper {
  lr: number;
  rho: number;
  eps: number;
}
export interface RoundedHyper {
  lr: number;
  rho: number;
  oneMinusRho: number;
  eps: number;
}
export function roundedHyper(h: BenchHyper): RoundedHyper;
export function plainJsStep(p: Float32Array, grad: Float32Array, sq: Float32Array, acc: Float32Array, h: RoundedHyper): void;
export function createPlainJs(
  inits: Float32Array[],
  hyper: BenchHyper,
): { params: { data: Float32Array; grad: Float32Array; sq: Float32Array; acc: Float32Array }[]; step(): void };
