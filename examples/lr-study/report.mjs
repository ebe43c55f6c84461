/**
 * Turns the study's measurements into its outputs: a per-epoch table (stdout and table.md),
 * results.json with every number, and SVG plots.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart } from './svg-plot.mjs';

/** Five significant digits are plenty for plots and tables, and keep the JSON small. */
const round = (x) => (Number.isFinite(x) ? Number(x.toPrecision(5)) : x);

function roundDeep(value) {
  if (typeof value === 'number') return round(value);
  if (Array.isArray(value)) return value.map(roundDeep);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)]));
  return value;
}

/**
 * JSON that stays readable and small: anything that fits on a line (a sample, an epoch row, a
 * list of losses) goes on one line; only the outer structure is indented.
 */
function compactJson(value, indent = '') {
  const flat = JSON.stringify(value);
  if (flat.length <= 160 || value === null || typeof value !== 'object') return flat;
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return flat;
  const inner = indent + ' ';
  const items = Array.isArray(value)
    ? value.map((v) => inner + compactJson(v, inner))
    : Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${items.join(',\n')}\n${indent}${close}`;
}

/** Two tables, arms by epochs: mean training loss, and test accuracy. */
export function epochTable(results) {
  const ran = results.filter((r) => r.available);
  const epochs = ran[0].epochs.map((e) => e.epoch);
  const header = `| optimizer | ${epochs.map((e) => `epoch ${e}`).join(' | ')} |`;
  const rule = `|---|${epochs.map(() => '---:').join('|')}|`;
  const rows = (cell) => ran.map((r) => `| ${r.label} | ${r.epochs.map(cell).join(' | ')} |`);
  const skipped = results.filter((r) => !r.available).map((r) => `\n_${r.label}: not run. ${r.note}_\n`);
  return [
    '**Training loss** (epoch 0: before training, over the whole training set; then the mean minibatch loss of the epoch)',
    '',
    header,
    rule,
    ...rows((e) => e.trainLoss.toFixed(4)),
    '',
    '**Test accuracy**',
    '',
    header,
    rule,
    ...rows((e) => `${(100 * e.testAccuracy).toFixed(1)}%`),
    ...skipped,
  ].join('\n') + '\n';
}

/** Mean of each `window` consecutive minibatch losses: the raw curve is too noisy to compare. */
function smoothed(losses, window) {
  const points = [];
  for (let end = window; end <= losses.length; end += Math.max(1, window >> 2)) {
    let sum = 0;
    for (let k = end - window; k < end; k++) sum += losses[k];
    points.push([end, sum / window]);
  }
  return points;
}

function plots(results, config) {
  const ran = results.filter((r) => r.available);
  const window = Math.max(5, Math.round(config.stepsPerEpoch / 4));
  const adagrad = ran.find((r) => r.kind === 'adagrad');
  const reference = [];
  if (adagrad) {
    // A 1/sqrt(t) line through Adagrad's rate at step 10: what "decaying like Adagrad" means.
    const anchor = adagrad.samples.find((s) => s.step >= 10) ?? adagrad.samples[0];
    const lastStep = ran[0].losses.length;
    for (const t of [1, lastStep]) reference.push([t, anchor.effectiveLr.median * Math.sqrt(anchor.step / t)]);
  }
  const adadeltas = ran.filter((r) => r.kind === 'adadelta');
  return {
    'loss.svg': lineChart({
      title: `Training loss (mean of ${window} minibatches)`,
      xLabel: 'step',
      yLabel: 'cross-entropy',
      yLog: true,
      series: ran.map((r) => ({ name: r.label, color: r.color, points: smoothed(r.losses, window) })),
    }),
    'effective-lr.svg': lineChart({
      title: 'Median effective learning rate (the factor that multiplies g), steps ≥ 2',
      xLabel: 'step',
      yLabel: 'effective learning rate',
      xLog: true,
      yLog: true,
      series: [
        // From step 2: at step 1 most weights of W1 have g = 0 exactly (pixels dark in the whole
        // batch), where Adagrad's rate is lr/eps = 1e8, a number that moves nothing.
        ...ran.map((r) => ({ name: r.label, color: r.color, points: r.samples.filter((s) => s.step >= 2).map((s) => [s.step, s.effectiveLr.median]) })),
        ...(reference.length ? [{ name: '∝ 1/√t', color: '#000', dashed: true, points: reference }] : []),
      ],
    }),
    'first-steps.svg': lineChart({
      title: `Median |Δp| over weights with g ≠ 0; dashed: lr·√((acc0+eps)/(1−ρ))`,
      xLabel: `step (the first ${config.firstSteps})`,
      yLabel: 'median |Δp|',
      yLog: true,
      series: [
        ...ran.map((r) => ({ name: r.label, color: r.color, points: r.firstSteps.map((s) => [s.step, s.medianAbsUpdate]) })),
        ...adadeltas.map((r) => ({
          name: `cap ${r.short}`,
          color: r.color,
          dashed: true,
          points: [
            [1, r.firstStepCap],
            [config.firstSteps, r.firstStepCap],
          ],
        })),
      ],
    }),
    'stalled.svg': lineChart({
      title: `Fraction of weights with effective learning rate < ${config.stalledBelow}`,
      xLabel: 'step',
      yLabel: 'stalled fraction',
      xLog: true,
      series: ran.map((r) => ({ name: r.label, color: r.color, points: r.samples.map((s) => [s.step, s.stalledFraction]) })),
    }),
  };
}

/** Writes every output file into `outDir` and returns their names. */
export function writeReport(outDir, meta, results) {
  mkdirSync(outDir, { recursive: true });
  const files = {
    'table.md': epochTable(results),
    ...plots(results, meta.config),
    'results.json': compactJson(roundDeep({ ...meta, arms: results })) + '\n',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(outDir, name), text);
  return Object.keys(files);
}
