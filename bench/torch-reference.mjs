/** torch.optim.Adadelta's update evaluated in float64: the yardstick of the deviation table. */

/** `p` after applying every gradient of `gradsByStep` in turn (two square roots, as torch). */
export function torchReference(p0, gradsByStep, { lr, rho, eps }) {
  const p = Float64Array.from(p0);
  const sq = new Float64Array(p.length);
  const acc = new Float64Array(p.length);
  for (const g of gradsByStep) {
    for (let i = 0; i < p.length; i++) {
      sq[i] = sq[i] * rho + (1 - rho) * g[i] * g[i];
      const delta = (Math.sqrt(acc[i] + eps) / Math.sqrt(sq[i] + eps)) * g[i];
      acc[i] = acc[i] * rho + (1 - rho) * delta * delta;
      p[i] -= lr * delta;
    }
  }
  return p;
}
