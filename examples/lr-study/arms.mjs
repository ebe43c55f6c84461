/**
 * The optimizers the study compares. Same data, same initial weights, same minibatch order;
 * only the optimizer changes.
 */
import { adadelta, adagrad, sgd } from './optimizers.mjs';

/** torch's Adadelta defaults; the arms below change one or two things each. */
const RHO = 0.9;
const EPS = 1e-6;

/**
 * The largest first step Adadelta can take, reached when (1-rho)*g^2 >> eps:
 * acc starts at initialAccDelta (0 in torch), so d = sqrt((acc0+eps)/((1-rho)g^2+eps)) * g.
 */
function firstStepCap({ lr, rho = RHO, eps = EPS, initialAccDelta = 0 }) {
  return lr * Math.sqrt((initialAccDelta + eps) / (1 - rho));
}

/**
 * An arm of this package's Adadelta with `options` over torch's defaults. `create(weights, extra)`
 * makes its optimizer; `extra` adds options that change how it runs, not what it computes
 * (the live demo passes `threads`).
 */
export function adadeltaArm(id, label, color, options) {
  return {
    id,
    label,
    short: id.replace('adadelta-', ''),
    color,
    kind: 'adadelta',
    hyper: { rho: RHO, eps: EPS, initialAccDelta: 0, ...options },
    firstStepCap: firstStepCap(options),
    create: (weights, extra) => adadelta(weights, { ...options, ...extra }),
  };
}

export const ARMS = [
  adadeltaArm('adadelta-lr1', 'Adadelta lr=1.0', '#1f77b4', { lr: 1.0 }),
  adadeltaArm('adadelta-lr0.001', 'Adadelta lr=0.001', '#d62728', { lr: 0.001 }),
  adadeltaArm('adadelta-keras', 'Adadelta, Keras defaults', '#8c564b', { lr: 0.001, rho: 0.95, eps: 1e-7 }),
  adadeltaArm('adadelta-eps1e-8', 'Adadelta lr=1, eps=1e-8', '#e377c2', { lr: 1.0, eps: 1e-8 }),
  adadeltaArm('adadelta-eps1e-4', 'Adadelta lr=1, eps=1e-4', '#2ca02c', { lr: 1.0, eps: 1e-4 }),
  adadeltaArm('adadelta-acc1e-5', 'Adadelta lr=1, acc0=1e-5', '#9467bd', { lr: 1.0, initialAccDelta: 1e-5 }),
  {
    id: 'adagrad',
    label: 'Adagrad lr=0.01',
    color: '#ff7f0e',
    kind: 'adagrad',
    hyper: { lr: 0.01, eps: 1e-10 },
    create: async (weights) => adagrad(weights, { lr: 0.01, eps: 1e-10 }),
  },
  {
    id: 'sgd',
    label: 'SGD lr=0.1',
    color: '#7f7f7f',
    kind: 'sgd',
    hyper: { lr: 0.1 },
    create: async (weights) => sgd(weights, { lr: 0.1 }),
  },
];

/** The study's arm with this `id`. */
export function armById(id) {
  const arm = ARMS.find((a) => a.id === id);
  if (arm === undefined) throw new Error(`no arm ${id} in the study`);
  return arm;
}
