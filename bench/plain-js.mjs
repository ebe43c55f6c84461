/**
 * The baseline: Adadelta as a JavaScript developer would write it, one fused loop over
 * Float32Arrays. Same formula as the package (torch's, with one sqrt of the quotient), same
 * hyperparameter rounding; the arithmetic runs in float64 and is stored as float32, which is
 * what plain JS does. Weight decay and maximize are off in the benchmark, so they are left out.
 */

/** torch's hyperparameters rounded as a float32 tensor sees them (1 - rho rounded once). */
export function roundedHyper({ lr, rho, eps }) {
  return { lr: Math.fround(lr), rho: Math.fround(rho), oneMinusRho: Math.fround(1 - rho), eps: Math.fround(eps) };
}

/** One Adadelta step over one tensor, in place. */
export function plainJsStep(p, grad, sq, acc, h) {
  const { lr, rho, oneMinusRho, eps } = h;
  for (let i = 0; i < p.length; i++) {
    const g = grad[i];
    const s = sq[i] * rho + oneMinusRho * g * g;
    const d = Math.sqrt((acc[i] + eps) / (s + eps)) * g;
    acc[i] = acc[i] * rho + oneMinusRho * d * d;
    sq[i] = s;
    p[i] -= lr * d;
  }
}

/** An optimizer over several tensors: `{ params: [{ data, grad }], step() }`. */
export function createPlainJs(inits, hyper) {
  const h = roundedHyper(hyper);
  const tensors = inits.map((init) => ({
    data: Float32Array.from(init),
    grad: new Float32Array(init.length),
    sq: new Float32Array(init.length),
    acc: new Float32Array(init.length),
  }));
  return {
    params: tensors,
    step() {
      for (const t of tensors) plainJsStep(t.data, t.grad, t.sq, t.acc, h);
    },
  };
}
