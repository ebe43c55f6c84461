#!/usr/bin/env node
/**
 * The demo's training session in Node, without the page: steps per second per arm and the share
 * of each training step spent in `opt.step` (the rest is the MLP's forward and backward pass),
 * measured as the page measures them. The page shows the same figures live, beside its legend.
 *
 *   node examples/live-demo/measure.mjs [--threads N|auto] [--steps N]
 */
import { parseArgs } from 'node:util';
import { loadMnist } from '../lr-study/mnist-files.mjs';
import { mulberry32 } from '../lr-study/prng.mjs';
import { RUN, createSession } from './src/session.mjs';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '1' }, steps: { type: 'string', default: '300' } } });
const threads = values.threads === 'auto' ? 'auto' : Number(values.threads);
const steps = Number(values.steps);

const session = await createSession(loadMnist(RUN, mulberry32(RUN.seed)), { threads });
for (let s = 0; s < 20; s++) session.trainStep(); // warm-up
session.takeTimings();
const started = performance.now();
for (let s = 0; s < steps; s++) session.trainStep({ histogram: s % 4 === 0 }); // about as often as the page at 20 frames/s
const seconds = (performance.now() - started) / 1000;
const [first] = session.arms;
console.log(`kernel ${first.optimizer.build}, ${first.optimizer.threads} thread(s), batch ${RUN.batchSize}, ${steps} steps of ${session.arms.length} arms in ${seconds.toFixed(1)} s`);
session.takeTimings().forEach(({ gradientMs, stepMs }, i) => {
  const ms = gradientMs + stepMs;
  console.log(
    `${session.arms[i].label.padEnd(26)} ${(steps / (ms / 1000)).toFixed(0).padStart(5)} steps/s   ` +
      `opt.step ${((1000 * stepMs) / steps).toFixed(0).padStart(5)} µs = ${((100 * stepMs) / ms).toFixed(1)}% of a training step (${(ms / steps).toFixed(1)} ms)`,
  );
});
session.dispose();
