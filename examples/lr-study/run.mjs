#!/usr/bin/env node
/**
 * "Why is my Adadelta learning rate so small?" — a study on real MNIST digits.
 *
 *   node examples/lr-study/run.mjs [--quick] [--out DIR] [--epochs N] [--seed N]
 *
 * Trains the same 784-128-10 MLP, from the same initial weights, with Adadelta at lr=1.0 (torch,
 * the paper), at lr=0.001 (the Keras / tf.js default lr), with all of Keras's defaults (lr=0.001,
 * rho=0.95, eps=1e-7), with a smaller and a larger eps, with a warm-started
 * E[Δx²] (initialAccDelta), with Adagrad and with plain SGD. It prints a per-epoch table on stdout
 * (a progress bar goes to stderr) and writes table.md, results.json and SVG plots to the output
 * directory (default: examples/lr-study/results, or results-quick with --quick).
 */
import { fileURLToPath } from 'node:url';
import { relative, resolve } from 'node:path';
import { studyArgs } from './args.mjs';
import { ARMS } from './arms.mjs';
import { STALLED_BELOW } from './optimizers.mjs';
import { loadMnist } from './mnist-files.mjs';
import { initialWeights } from './mlp.mjs';
import { mulberry32 } from './prng.mjs';
import { progressBar } from './progress.mjs';
import { epochTable, writeReport } from './report.mjs';
import { train } from './train.mjs';

const args = studyArgs(process.argv.slice(2));

const config = {
  ...(args.quick ? { train: 2000, test: 500, epochs: 3 } : { train: 8000, test: 2000, epochs: 5 }),
  batchSize: 32,
  seed: Number(args.seed),
  firstSteps: 50,
  stalledBelow: STALLED_BELOW,
};
if (args.epochs !== undefined) config.epochs = Number(args.epochs);
config.stepsPerEpoch = Math.ceil(config.train / config.batchSize);

const started = Date.now();
const data = loadMnist(config, mulberry32(config.seed));
const weights = initialWeights(mulberry32(config.seed + 2));
process.stderr.write(
  `MNIST: ${data.train.length} train / ${data.test.length} test digits, ${config.epochs} epochs of ${config.stepsPerEpoch} steps (batch ${config.batchSize})\n`,
);

const results = [];
let build;
for (const arm of ARMS) {
  const { create, ...description } = arm;
  const optimizer = await create(weights);
  if (optimizer === null) {
    const note = 'This build of adadelta-wasm does not accept the option it needs (initialAccDelta); rebuild with `npm run build`.';
    process.stderr.write(`${arm.label}: skipped. ${note}\n`);
    results.push({ ...description, available: false, note });
    continue;
  }
  build ??= optimizer.build;
  const t0 = Date.now();
  const progress = progressBar(config.stepsPerEpoch * config.epochs);
  const measured = train(optimizer, data, config, progress, arm.label);
  optimizer.dispose();
  results.push({ ...description, available: true, seconds: (Date.now() - t0) / 1000, ...measured });
}

const command = `node ${relative(process.cwd(), fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim();
const meta = {
  title: 'Why is my Adadelta learning rate so small? MNIST MLP 784-128-10',
  command,
  date: new Date().toISOString(),
  node: process.version,
  kernel: build,
  config,
  seconds: (Date.now() - started) / 1000,
};
const files = writeReport(resolve(args.out), meta, results);
process.stdout.write(`\n${epochTable(results)}\n`);
process.stderr.write(`wrote ${files.join(', ')} to ${resolve(args.out)} in ${meta.seconds.toFixed(0)} s\n`);
