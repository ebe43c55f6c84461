/**
 * The training loop of one study arm: minibatch SGD-style training of the MLP, with the
 * optimizer's effective learning rate sampled along the way.
 */
import { evaluate, lossAndGradient } from './mlp.mjs';
import { mulberry32, shuffle } from './prng.mjs';

/**
 * Which steps get diagnostics: every one of the first `dense`, then `count` more spaced evenly
 * on a log scale (the rate plots have a log step axis), and the last.
 */
export function sampledSteps(totalSteps, { dense = 20, count = 60 } = {}) {
  const steps = new Set([totalSteps]);
  for (let t = 1; t <= Math.min(dense, totalSteps); t++) steps.add(t);
  for (let i = 1; i <= count; i++) steps.add(Math.round(dense * (totalSteps / dense) ** (i / count)));
  return (step) => steps.has(step);
}

/** Median of |p_new - p_old| over the elements whose gradient was non-zero this step. */
function medianAbsUpdate(before, params) {
  const moved = [];
  params.forEach(({ data, grad }, i) => {
    for (let k = 0; k < data.length; k++) if (grad[k] !== 0) moved.push(Math.abs(data[k] - before[i][k]));
  });
  moved.sort((a, b) => a - b);
  return moved.length ? moved[moved.length >> 1] : 0;
}

/**
 * The minibatches every arm sees, epoch after epoch without end: `train` in a fresh order each
 * epoch, shuffled by a PRNG seeded from `seed`, cut into batches of `batchSize` (the last one of
 * an epoch may be smaller). The study and the live demo both take their batches from here.
 */
export function* minibatches(train, batchSize, seed) {
  const random = mulberry32(seed + 1);
  const order = train.map((_, i) => i);
  const stepsPerEpoch = Math.ceil(train.length / batchSize);
  for (;;) {
    shuffle(order, random);
    for (let b = 0; b < stepsPerEpoch; b++) {
      yield order.slice(b * batchSize, (b + 1) * batchSize).map((i) => train[i]);
    }
  }
}

/**
 * Trains `optimizer` for `config.epochs` epochs and returns everything measured. Every arm gets
 * the same minibatch order, from `config.seed`.
 */
export function train(optimizer, data, config, progress, label) {
  const { params } = optimizer;
  const batches = minibatches(data.train, config.batchSize, config.seed);
  const stepsPerEpoch = Math.ceil(data.train.length / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const isSampled = sampledSteps(totalSteps);

  const start = evaluate(params, data.test);
  const epochs = [{ epoch: 0, trainLoss: evaluate(params, data.train).loss, testLoss: start.loss, testAccuracy: start.accuracy }];
  const losses = [];
  const samples = [];
  const firstSteps = [];
  let step = 0;

  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    let epochLoss = 0;
    for (let b = 0; b < stepsPerEpoch; b++) {
      const batch = batches.next().value;
      for (const p of params) p.grad.fill(0);
      const loss = lossAndGradient(params, batch);
      if (!Number.isFinite(loss)) throw new Error(`${label}: the loss became ${loss} at step ${step + 1}`);
      step++;
      const probeFirstSteps = step <= config.firstSteps;
      const before = probeFirstSteps ? params.map((p) => p.data.slice()) : undefined;
      optimizer.step(isSampled(step));
      if (isSampled(step)) samples.push({ step, ...optimizer.sample() });
      if (before) firstSteps.push({ step, medianAbsUpdate: medianAbsUpdate(before, params) });
      losses.push(loss);
      epochLoss += loss;
      progress.update(step, `${label}  epoch ${epoch}/${config.epochs}  loss ${loss.toFixed(3)}`);
    }
    const test = evaluate(params, data.test);
    epochs.push({ epoch, trainLoss: epochLoss / stepsPerEpoch, testLoss: test.loss, testAccuracy: test.accuracy });
    progress.log(`${label}  epoch ${epoch}/${config.epochs}  train loss ${(epochLoss / stepsPerEpoch).toFixed(4)}  test accuracy ${(100 * test.accuracy).toFixed(1)}%`);
  }
  return { epochs, losses, samples, firstSteps };
}
