export function torchReference(
  p0: ArrayLike<number>,
  gradsByStep: ArrayLike<number>[],
  hyper: { lr: number; rho: number; eps: number },
): Float64Array;
