#!/usr/bin/env node
/**
 * The README's benchmark results and their reading, generated from bench/results/latest.json,
 * so that no figure in the README can differ from the committed run. The README holds them
 * between two markers; `node bench/readme-figures.mjs` rewrites that part in place (run it after
 * `npm run bench`), `--check` only says whether it is current (test/readme-figures.test.ts
 * fails when it is not). The tables are report.mjs's, composed as run.mjs composes
 * latest.md; every number in the reading is computed here from the same results.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { adapterTable, deviationTable, detailTable, fmtNs, mainImpls, modelRatioTable, statsOverhead, statsOverheadLine, statsTable, summaryTable, targetLines, trainingLoopSection } from './report.mjs';

export const BEGIN = '<!-- bench-figures:begin (generated from bench/results/latest.json by `node bench/readme-figures.mjs`; do not edit by hand) -->';
export const END = '<!-- bench-figures:end -->';

const README = new URL('../README.md', import.meta.url);
const LATEST = new URL('./results/latest.json', import.meta.url);

/** The run's sizes as report.mjs wants them: the model takes its bandwidth bound from 1e6. */
function shapesOf(run) {
  return run.sizes.map((s) => ({ ...s, label: s.key, ...(s.model ? { boundFrom: '1e6' } : {}) }));
}

/** The results as latest.md prints them, from the machine line to the run time. */
export function resultsMarkdown(run) {
  const { machine: m, hyper, tfjs } = run;
  const shapes = shapesOf(run);
  const impls = mainImpls(run.implementations);
  const results = run.results;
  const diagnostics = statsOverhead(results, shapes.find((s) => s.key === '1e6'));
  const tfNote =
    `tf.js ${tfjs.tfjsVersion}; its wasm backend loaded \`${tfjs.binary}\` ` +
    `(WASM_HAS_SIMD_SUPPORT=${tfjs.simd}, WASM_HAS_MULTITHREAD_SUPPORT=${tfjs.multithread}: tf.js turns threads off in Node; backend threads: ${tfjs.threadsCount})`;
  const dev = run.deviation;
  return [
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node} (V8 ${m.v8}), ${m.date}; load average ${m.loadAverage.atStart[0]} at start, ${m.loadAverage.atEnd[0]} at end.`,
    `float32, lr=${hyper.lr}, rho=${hyper.rho}, eps=${hyper.eps}; median of interleaved repetitions; ${run.bytesPerParam} bytes/param for the bandwidth bound. ${tfNote}.`,
    '',
    summaryTable(results, shapes, impls),
    '',
    detailTable(results, shapes, impls),
    '',
    modelRatioTable(results, impls),
    '',
    'Diagnostics: the cost of `step({ stats: true })`, and of reading `stats()` once per step as well, against a plain step of the same optimizer:',
    '',
    statsTable(results, shapes),
    '',
    statsOverheadLine(diagnostics, run.diagnosticsOverhead?.statsCall),
    '',
    "The tf.js adapter (`adadelta-wasm/tfjs`): `optimizer.applyGradients` end to end (gradient `dataSync()`, the kernel, `variable.assign`) beside tf.js's own `tf.train.adadelta`, ns per param, same backend, same variables and gradient tensors:",
    '',
    adapterTable(results, shapes),
    '',
    ...trainingLoopSection(results, run.implementations),
    `Deviation from torch.optim.Adadelta after ${dev.problem.steps} steps (${dev.problem.params} params, grads uniform in [-1, 1], float64 reference of torch's formula; torch itself moves a param by at most ${dev.torchMaxMove.toFixed(4)}):`,
    '',
    deviationTable(dev),
    '',
    'Targets (issue 4; reported, not asserted):',
    '',
    targetLines(run.targets),
    '',
    `(benchmark ran ${run.seconds.toFixed(0)} s)`,
  ].join('\n');
}

// Numbers as the reading prints them: ns as the tables do, ratios to two digits.
const x = (r) => (r >= 10 ? r.toFixed(0) : r.toFixed(1));
const x2 = (r) => r.toFixed(2);
const pct = (r) => `${(100 * r).toFixed(0)}%`;
const signedPct = (r) => `${r >= 0 ? '+' : ''}${(100 * r).toFixed(0)}%`;
const span = (values, fmt) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return fmt(lo) === fmt(hi) ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
};

/** A Markdown bullet wrapped at `width` columns, continuation lines indented under its text. */
function wrap(bullet, width) {
  const lines = [];
  let line = '';
  for (const word of bullet.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line].join('\n');
}

/** "Reading the figures": what the tables say, every number computed from `run`. */
export function readingMarkdown(run) {
  const r = run.results;
  const ns = (key, id) => {
    const c = r[key]?.[id];
    return c && !c.skipped ? c.nsPerParam : undefined;
  };
  const has = (key, id) => ns(key, id) !== undefined;
  const mid = ['1e4', '1e5', '1e6', '1e7'].filter((k) => has(k, 'ours-simd'));
  const upTo1e7 = ['1e3', ...mid].filter((k) => has(k, 'ours-simd'));
  const simd = (k) => ns(k, 'ours-simd');
  const out = [];

  const vsJs = mid.filter((k) => has(k, 'plain-js')).map((k) => ns(k, 'plain-js') / simd(k));
  const vsTf = mid.filter((k) => has(k, 'tfjs-wasm')).map((k) => ns(k, 'tfjs-wasm') / simd(k));
  const cacheBound = ['1e3', '1e4', '1e5', '1e6'].filter((k) => has(k, 'bound-1t')).map((k) => ns(k, 'bound-1t'));
  const dramBound = ['1e7', '5e7'].filter((k) => has(k, 'bound-1t'));
  const tfMiss = mid.filter((k) => has(k, 'tfjs-wasm') && ns(k, 'tfjs-wasm') / simd(k) < 8);
  const tfTarget =
    tfMiss.length === 0
      ? 'The issue\'s "8x tf.js wasm" holds at every size from 1e4 to 1e7.'
      : `The issue's "8x tf.js wasm" misses at ${tfMiss
          .map((k) => `${k} (${x2(ns(k, 'tfjs-wasm') / simd(k))}x: tf.js's wasm backend takes ${fmtNs(ns(k, 'tfjs-wasm'))} ns there, and ours would have to take ${fmtNs(ns(k, 'tfjs-wasm') / 8)})`)
          .join(' and ')}.`;
  out.push(
    `- One SIMD thread runs at ${span(upTo1e7.map(simd), fmtNs)} ns per param from 1e3 to 1e7` +
      (has('5e7', 'ours-simd') ? ` (${fmtNs(simd('5e7'))} at 5e7)` : '') +
      `: ${span(vsJs, x2)}x plain JS and ${span(vsTf, x2)}x tf.js's wasm backend from 1e4 to 1e7. ` +
      `The one-thread bandwidth bound is ${span(cacheBound, fmtNs)} ns in cache (1e3 to 1e6)` +
      (dramBound.length ? ` and ${dramBound.map((k) => `${fmtNs(ns(k, 'bound-1t'))} at ${k}`).join(' and ')} from DRAM` : '') +
      ': below 1e7 the step is bound by its arithmetic, not by memory (a division, a square root and about twenty other vector operations per four params). ' +
      'That is why the kernel takes one root of the quotient wherever that is exact enough (see Semantics), decides a vector\'s roots with one integer test, and steps one vector per iteration ' +
      '(with two, V8\'s sixteen vector registers spilled: 5% slower when commit e45ebab measured it). ' +
      tfTarget,
  );

  if (has('1e6', 'ours-simd-2t')) {
    const boundPct = ['1e7', '5e7'].filter((k) => has(k, 'ours-simd-2t') && has(k, 'bound-2t')).map((k) => `${pct(ns(k, 'bound-2t') / ns(k, 'ours-simd-2t'))} at ${k}`);
    out.push(
      `- Two threads: ${x2(simd('1e6') / ns('1e6', 'ours-simd-2t'))}x one thread at 1e6.` +
        (boundPct.length ? ` Against the two-thread bandwidth bound, ${boundPct.join(' and ')} (the target is 85%); the bound probe and the step are measured minutes apart on a shared machine, so this ratio moves from run to run.` : '') +
        ' After a step the workers spin through 20,000 reads of the control word before they sleep, so the next step finds them awake. A worker woken from sleep starts tens of microseconds late, which is why `threads: \'auto\'` still gives each thread at least 65,536 elements.',
    );
  }

  if (has('1000x1000', 'ours-simd')) {
    const two = has('1000x1000', 'ours-simd-2t') && has('1e6', 'ours-simd-2t') ? ` On two threads this run shows ${x2(ns('1000x1000', 'ours-simd-2t') / ns('1e6', 'ours-simd-2t'))}x.` : '';
    out.push(
      `- The 1,000 x 1,000-tensor model costs ${x2(simd('1000x1000') / simd('1e6'))}x one 1e6 tensor: every optimizer lays its params, grads and both averages out in four arenas, so a thousand small tensors stream like one.${two}`,
    );
  }

  const shapes = shapesOf(run);
  const overhead = (k) => statsOverhead(r, { key: k })?.overhead;
  const o = run.diagnosticsOverhead;
  if (o) {
    const band = ['1e4', '1e5', '1e6', '1000x1000', '1e7'].map(overhead).filter((v) => v !== undefined);
    const ends = [];
    if (overhead('5e7') !== undefined) ends.push(`${signedPct(overhead('5e7'))} at 5e7`);
    // 1,000 params at this many ns each: the whole step's time in ns.
    if (overhead('1e3') !== undefined) ends.push(`${signedPct(overhead('1e3'))} at 1e3, where a whole step takes ${(1000 * simd('1e3')).toFixed(0)} ns`);
    out.push(
      `- Diagnostics (\`step({ stats: true })\`) cost ${signedPct(o.overhead)} at 1e6 (${o.status} against issue 6's 30%), ${span(band, signedPct).replace('–', ' to ')} from 1e4 to 1e7 and for the 1,000-tensor model` +
        (ends.length ? `, ${ends.join(' and ')}` : '') +
        '. Every element\'s rate goes into an exact min and max (and, in blocks that have one below the threshold, an exact stalled count), and its update and param into two sums; a histogram samples every 64th rate.' +
        (o.statsCall ? ` One \`stats()\` read takes ${o.statsCall.usPerCall.toFixed(1)} µs: it walks only the histogram bins between the exact min and max.` : ''),
    );
  }

  const adapter = (backend, keys) => keys.filter((k) => has(k, `tfjs-${backend}`) && has(k, `adapter-tfjs-${backend}`)).map((k) => ns(k, `tfjs-${backend}`) / ns(k, `adapter-tfjs-${backend}`));
  const cpu = adapter('cpu', shapes.map((s) => s.key));
  const wasmSmall = adapter('wasm', ['1e3', '1e4', '1e5', '1e6']);
  const wasmBig = ['1e7', '5e7'].filter((k) => adapter('wasm', [k]).length).map((k) => `${x2(adapter('wasm', [k])[0])}x at ${k}`);
  if (cpu.length && wasmSmall.length) {
    const dev = Object.fromEntries(run.deviation.rows.map((row) => [row.id, row.maxAbs]));
    const same = dev['adapter-tfjs-cpu'] === dev['ours-simd'] && dev['adapter-tfjs-wasm'] === dev['ours-simd'];
    out.push(
      `- The tf.js adapter is ${span(cpu, x)}x faster than tf.js's own Adadelta on the cpu backend. On the wasm backend it is ${span(wasmSmall, x)}x faster up to 1e6` +
        (wasmBig.length ? `; from 1e7 up, where both are bound by copying tensors (\`dataSync()\`, \`variable.assign\`), it runs ${wasmBig.join(' and ')} as fast as tf.js's wasm backend` : '') +
        `. Its deviation from PyTorch ${same ? "equals the core's" : `is ${dev['adapter-tfjs-cpu'].toExponential(2)} (the core's: ${dev['ours-simd'].toExponential(2)})`}, where tf.js's own is ${dev['tfjs-wasm'].toFixed(1)} after ${run.deviation.problem.steps} steps: \`tf.train.adadelta\` is SGD with the learning rate, not Adadelta.`,
    );
  }
  const ratio = (key, id, base) => (has(key, id) && has(key, base) ? ns(key, id) / ns(key, base) : undefined);
  const clipAt = (id, base) => ['1e6', '1e7'].filter((k) => ratio(k, id, base) !== undefined).map((k) => `${x2(ratio(k, id, base))}x at ${k}`);
  const [clip1, clip2] = [clipAt('ours-simd-clip', 'ours-simd'), clipAt('ours-simd-2t-clip', 'ours-simd-2t')];
  const [half1, half2] = [ratio('1000x1000', 'ours-simd-half-frozen', 'ours-simd'), ratio('1000x1000', 'ours-simd-2t-half-frozen', 'ours-simd-2t')];
  if (clip1.length || half1 !== undefined) {
    out.push(
      '- Training loop (issue 13):' +
        (clip1.length ? ` the fused \`step({ clipGradNorm })\` costs ${clip1.join(' and ')} a plain step on one thread${clip2.length ? ` (${clip2.join(' and ')} on two)` : ''}, against a target of 1.25x: one extra read pass over the gradients for the norm, and the coefficient applied inside the step.` : '') +
        (half1 !== undefined ? ` The 1,000-tensor model with every other tensor frozen steps in ${x2(half1)}x the time of all of them${half2 !== undefined ? ` (${x2(half2)}x on two threads)` : ''}, against a target of 0.6x: the kernel's tensor table skips a frozen tensor, with no JS per tensor.` : ''),
    );
  }
  out.push('- `bench/results/latest.json` keeps every sample and the load average at the start and end.');
  return out.map((bullet) => wrap(bullet, 96)).join('\n');
}

/** Everything between the README's markers. */
export function figuresSection(run) {
  const m = run.machine;
  return [
    resultsMarkdown(run),
    '',
    `**Reading the figures** (the run above; a shared ${m.cores}-core ${m.cpu} VM):`,
    '',
    readingMarkdown(run),
  ].join('\n');
}

/** The README with its figures section regenerated from `run`. */
export function withFigures(readme, run) {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no "${BEGIN}" ... "${END}" section`);
  return `${readme.slice(0, begin + BEGIN.length)}\n${figuresSection(run)}\n${readme.slice(end)}`;
}

export function latestRun() {
  return JSON.parse(readFileSync(LATEST, 'utf8'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readme = readFileSync(README, 'utf8');
  const updated = withFigures(readme, latestRun());
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      console.error('README.md benchmark figures differ from bench/results/latest.json: run `node bench/readme-figures.mjs`');
      process.exit(1);
    }
    console.log('README.md benchmark figures match bench/results/latest.json');
  } else {
    writeFileSync(README, updated);
    console.log(updated === readme ? 'README.md figures already current' : 'README.md figures regenerated from bench/results/latest.json');
  }
}
