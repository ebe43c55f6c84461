/**
 * The learning-rate study (examples/lr-study) in its --quick form, on real MNIST digits: it must
 * run, write its outputs, and show the effects the docs quote, as comparisons, never exact numbers.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Quantiles {
  min: number;
  p10: number;
  median: number;
  p90: number;
  max: number;
}
interface Arm {
  id: string;
  label: string;
  kind: 'adadelta' | 'adagrad' | 'sgd';
  available: boolean;
  firstStepCap?: number;
  epochs: { epoch: number; trainLoss: number; testLoss: number; testAccuracy: number }[];
  losses: number[];
  samples: { step: number; effectiveLr: Quantiles; stalledFraction: number; nonFinite?: number }[];
  firstSteps: { step: number; medianAbsUpdate: number }[];
}
interface Results {
  config: { epochs: number; stepsPerEpoch: number };
  arms: Arm[];
}

const root = fileURLToPath(new URL('..', import.meta.url));
const PLOTS = ['loss.svg', 'effective-lr.svg', 'first-steps.svg', 'stalled.svg'];
let out: string;
let stdout: string;
let results: Results;

function arm(id: string): Arm {
  const found = results.arms.find((a) => a.id === id);
  if (!found) throw new Error(`no arm ${id} in results.json`);
  return found;
}

/** The median effective learning rate at the first sample at or after `step`, and at the end. */
function medianRate(a: Arm, step: number): number {
  const sample = a.samples.find((s) => s.step >= step);
  if (!sample) throw new Error(`${a.id} has no sample at or after step ${step}`);
  return sample.effectiveLr.median;
}
const lastRate = (a: Arm) => a.samples[a.samples.length - 1]!.effectiveLr.median;
const last = <T>(list: T[]) => list[list.length - 1]!;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'lr-study-'));
  const run = await promisify(execFile)(process.execPath, ['examples/lr-study/run.mjs', '--quick', '--out', out], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  stdout = run.stdout;
  results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
}, 300_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('the learning-rate study, --quick', () => {
  it('writes the table, the JSON and every plot, and prints the table', () => {
    const table = readFileSync(join(out, 'table.md'), 'utf8');
    for (const a of results.arms) {
      expect(a.available, `${a.id} did not run`).toBe(true);
      expect(table).toContain(`| ${a.label} |`);
      expect(stdout).toContain(`| ${a.label} |`);
      expect(a.epochs.map((e) => e.epoch)).toEqual([...Array(results.config.epochs + 1).keys()]);
      expect(a.losses).toHaveLength(results.config.epochs * results.config.stepsPerEpoch);
    }
    for (const name of PLOTS) {
      const svg = readFileSync(join(out, name), 'utf8');
      expect(svg.startsWith('<svg'), name).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>'), name).toBe(true);
      // One drawn curve per optimizer, at least (the rate and step plots add reference lines).
      expect(svg.match(/<path d="M/g)?.length ?? 0, name).toBeGreaterThanOrEqual(results.arms.length);
    }
  });

  it('trains with Adadelta lr=1.0: the loss falls and the test accuracy leaves chance far behind', () => {
    const a = arm('adadelta-lr1');
    expect(last(a.epochs).trainLoss).toBeLessThan(a.epochs[0]!.trainLoss);
    expect(last(a.epochs).testLoss).toBeLessThan(a.epochs[0]!.testLoss);
    expect(last(a.epochs).testAccuracy).toBeGreaterThan(0.5); // 10 classes: chance is 0.1
  });

  it('ends with a lower loss at lr=1.0 than at the Keras/tf.js lr=0.001', () => {
    expect(last(arm('adadelta-lr1').epochs).testLoss).toBeLessThan(last(arm('adadelta-lr0.001').epochs).testLoss);
    expect(last(arm('adadelta-lr1').epochs).trainLoss).toBeLessThan(last(arm('adadelta-lr0.001').epochs).trainLoss);
  });

  it("Adagrad's effective rate falls over time; Adadelta's does not fall like 1/sqrt(t)", () => {
    const steps = last(results.arms).losses.length;
    const oneOverSqrt = Math.sqrt(10 / steps); // how far a 1/sqrt(t) rate falls from step 10 to the end
    expect(oneOverSqrt).toBeLessThan(0.5);
    const adagrad = lastRate(arm('adagrad')) / medianRate(arm('adagrad'), 10);
    const adadelta = lastRate(arm('adadelta-lr1')) / medianRate(arm('adadelta-lr1'), 10);
    expect(adagrad).toBeLessThan(0.6);
    expect(adadelta).toBeGreaterThan(0.8);
  });

  it('lr scales the effective rate for good: lr=0.001 stays about 1000x below lr=1.0', () => {
    for (const step of [2, 10, results.config.stepsPerEpoch]) {
      expect(medianRate(arm('adadelta-lr0.001'), step)).toBeLessThan(medianRate(arm('adadelta-lr1'), step) / 100);
    }
    expect(lastRate(arm('adadelta-lr0.001'))).toBeLessThan(lastRate(arm('adadelta-lr1')) / 100);
  });

  it('no Adadelta first step exceeds lr*sqrt((acc0+eps)/(1-rho)), and large gradients reach it', () => {
    for (const a of results.arms.filter((x) => x.kind === 'adadelta')) {
      expect(a.firstSteps[0]!.step).toBe(1);
      expect(a.firstSteps[0]!.medianAbsUpdate, a.id).toBeLessThanOrEqual(a.firstStepCap! * (1 + 1e-3));
      expect(a.samples.every((s) => s.nonFinite === 0), a.id).toBe(true);
    }
    // At eps=1e-8 the cap, 3.2e-4, is far below typical |g|, so the median first step sits at it.
    const small = arm('adadelta-eps1e-8');
    expect(small.firstSteps[0]!.medianAbsUpdate).toBeGreaterThan(small.firstStepCap! / 2);
  });
});

describe('where a run writes', () => {
  it('--quick writes to results-quick/, never over the committed full run in results/ that the docs cite', async () => {
    // @ts-expect-error: a plain .mjs module of the example, without type declarations.
    const { studyArgs } = (await import('../examples/lr-study/args.mjs')) as { studyArgs: (argv: string[]) => { out: string } };
    const results = join(root, 'examples', 'lr-study', 'results');
    expect(studyArgs([]).out).toBe(results);
    expect(studyArgs(['--quick']).out).toBe(join(root, 'examples', 'lr-study', 'results-quick'));
    expect(studyArgs(['--quick', '--out', '/tmp/x']).out).toBe('/tmp/x');
    expect(studyArgs(['--out', results]).out).toBe(results);
  });
});
