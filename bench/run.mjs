#!/usr/bin/env node
/**
 * `npm run bench [-- --quick]`: the comparative Adadelta benchmark. Every implementation is
 * measured in this one process, interleaved, at each size; prints Markdown tables, target
 * verdicts and each peer's deviation from torch's formula, and writes bench/results/latest.json,
 * the same tables as bench/results/latest.md, and bench/results/chart.svg (`--quick` writes
 * latest-quick.* and chart-quick.svg instead). Progress goes to stderr, one line per measurement.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { chartSvg } from './chart.mjs';
import { split, uniform } from './data.mjs';
import { deviations } from './deviation.mjs';
import { HYPER, implementations } from './implementations.mjs';
import { measureInterleaved } from './measure.mjs';
import { createOurs } from './ours.mjs';
import { BYTES_PER_PARAM } from './bandwidth.mjs';
import { adapterTable, deviationTable, detailTable, mainImpls, modelRatioTable, statsOverhead, statsOverheadLine, statsTable, summaryTable, targetLines, targets, trainingLoopSection } from './report.mjs';
import { timeStatsCall } from './stats-call.mjs';
import { initTfjs } from './tfjs.mjs';

const quick = process.argv.includes('--quick');
const progress = (line) => process.stderr.write(line + '\n');

const shape = (key, tensors, extra = {}) => ({ key, label: key, tensors, params: tensors.reduce((a, b) => a + b, 0), ...extra });
const SHAPES = {
  '1e3': shape('1e3', [1e3]),
  '1e4': shape('1e4', [1e4]),
  '1e5': shape('1e5', [1e5]),
  '1e6': shape('1e6', [1e6]),
  '1000x1000': shape('1000x1000', Array(1000).fill(1000), { model: true, boundFrom: '1e6' }),
  '1e7': shape('1e7', [1e7]),
  '5e7': shape('5e7', [5e7]),
};

// Each block's shapes are measured interleaved with each other (the model shares the 1e6 block,
// so their ratio is drift-free). 5e7 comes last: tf.js wasm grows its memory to ~4 GB there.
const PLAN = quick
  ? { blocks: [['1e3', 7], ['1e4', 7], ['1e5', 7], ['1e6', 7, '1000x1000'], ['1e7', 5]], targetMs: 15, warmMs: 30, tfCpuMax: 1e6, tfWasmMax: 1e7, adapterCpuMax: 1e7, adapterWasmMax: 1e7 }
  : { blocks: [['1e3', 21], ['1e4', 21], ['1e5', 21], ['1e6', 15, '1000x1000'], ['1e7', 9], ['5e7', 5]], targetMs: 40, warmMs: 100, tfCpuMax: 1e7, tfWasmMax: 5e7, adapterCpuMax: 5e7, adapterWasmMax: 5e7 };

const collectGarbage = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc');
})();

async function main() {
  const started = performance.now();
  const loadAtStart = os.loadavg().map((x) => +x.toFixed(2));
  const tfWasm = await initTfjs();
  // Big enough that the package does not cap the thread count for a tiny model.
  const probe = await createOurs([4096], HYPER, { build: 'simd', threads: 2 });
  const threadsAvailable = probe !== undefined && probe.threads === 2;
  probe?.dispose();
  progress(`tf.js ${tfWasm.tfjsVersion}: wasm backend loaded ${tfWasm.binary}; ours with 2 threads: ${threadsAvailable ? 'available' : 'not available'}`);

  const impls = implementations(PLAN);
  const results = {};
  const shapes = [];
  for (const [mainKey, reps, ...extra] of PLAN.blocks) {
    const blockShapes = [mainKey, ...extra].map((k) => SHAPES[k]);
    const entries = [];
    for (const s of blockShapes) {
      shapes.push(s);
      results[s.key] = {};
      const inits = split(uniform(s.params, 1, 1), s.tensors);
      const grads = split(uniform(s.params, 0.01, 2), s.tensors);
      for (const impl of impls) {
        progress(`${s.key.padStart(9)}  setting up ${impl.label}`);
        let inst;
        try {
          inst = await impl.create(inits, grads, s.params);
        } catch (e) {
          inst = { skipped: `failed: ${String(e?.message ?? e).slice(0, 120)}` };
        }
        if (inst.skipped) results[s.key][impl.id] = { skipped: inst.skipped };
        else entries.push({ key: s.key, impl, inst, params: s.params });
      }
    }
    const measured = await measureInterleaved(entries, { reps, targetMs: PLAN.targetMs, warmMs: PLAN.warmMs, progress });
    entries.forEach((e, i) => (results[e.key][e.impl.id] = { ...measured[i], reps }));
    for (const e of entries) await e.inst.dispose();
    entries.length = 0;
    collectGarbage();
  }

  progress('deviation from torch.optim.Adadelta (10 steps, float64 reference)');
  const dev = await deviations({ withThreads: threadsAvailable });
  const verdicts = targets(results);
  const statsCall = await timeStatsCall(HYPER, { reps: quick ? 7 : 15, targetMs: PLAN.targetMs });
  const diagnostics = statsOverhead(results, SHAPES['1e6']);
  const diagnosticsLine = statsOverheadLine(diagnostics, statsCall);
  progress(diagnosticsLine);

  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    date: new Date().toISOString(),
    // Other processes skew every figure; the load average tells whether the machine was quiet.
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg().map((x) => +x.toFixed(2)) },
  };
  const command = `npm run bench${quick ? ' -- --quick' : ''}`;
  const tfNote =
    `tf.js ${tfWasm.tfjsVersion}; its wasm backend loaded \`${tfWasm.binary}\` ` +
    `(WASM_HAS_SIMD_SUPPORT=${tfWasm.simd}, WASM_HAS_MULTITHREAD_SUPPORT=${tfWasm.multithread}: tf.js turns threads off in Node; backend threads: ${tfWasm.threadsCount})`;

  const out = [];
  out.push(`## adadelta-wasm benchmark (\`${command}\`)`, '');
  out.push(`${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node} (V8 ${machine.v8}), ${machine.date}; load average ${machine.loadAverage.atStart[0]} at start, ${machine.loadAverage.atEnd[0]} at end.`);
  out.push(`float32, lr=${HYPER.lr}, rho=${HYPER.rho}, eps=${HYPER.eps}; median of interleaved repetitions; ${BYTES_PER_PARAM} bytes/param for the bandwidth bound. ${tfNote}.`, '');
  const main = mainImpls(impls);
  out.push(summaryTable(results, shapes, main), '');
  out.push(detailTable(results, shapes, main), '');
  out.push(modelRatioTable(results, main), '');
  out.push('Diagnostics: the cost of `step({ stats: true })`, and of reading `stats()` once per step as well, against a plain step of the same optimizer:', '');
  out.push(statsTable(results, shapes), '', diagnosticsLine, '');
  out.push("The tf.js adapter (`adadelta-wasm/tfjs`): `optimizer.applyGradients` end to end (gradient `dataSync()`, the kernel, `variable.assign`) beside tf.js's own `tf.train.adadelta`, ns per param, same backend, same variables and gradient tensors:", '');
  out.push(adapterTable(results, shapes), '');
  out.push(...trainingLoopSection(results, impls));
  out.push(`Deviation from torch.optim.Adadelta after ${dev.problem.steps} steps (${dev.problem.params} params, grads uniform in [-1, 1], float64 reference of torch's formula; torch itself moves a param by at most ${dev.torchMaxMove.toFixed(4)}):`, '');
  out.push(deviationTable(dev), '');
  out.push('Targets (issue 4; reported, not asserted):', '', targetLines(verdicts), '');
  const seconds = (performance.now() - started) / 1e3;
  out.push(`(benchmark ran ${seconds.toFixed(0)} s)`);
  process.stdout.write(out.join('\n') + '\n');

  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const json = {
    command,
    machine,
    hyper: HYPER,
    plan: { ...PLAN, quick },
    tfjs: tfWasm,
    threadsAvailable,
    bytesPerParam: BYTES_PER_PARAM,
    sizes: shapes.map(({ key, params, tensors, model }) => ({ key, params, tensors: tensors.length, model: !!model })),
    implementations: impls.map(({ id, label, threads, bound, section, base, target }) => ({ id, label, threads, bound: !!bound, ...(section ? { section, base, target } : {}) })),
    results,
    deviation: dev,
    targets: verdicts.map(({ name, status, detail }) => ({ name, status, detail })),
    // Issue 6: overhead = stats time / plain simd time - 1 at 1e6, target < 0.3.
    diagnosticsOverhead: diagnostics && { ...diagnostics, target: 0.3, status: diagnostics.overhead < 0.3 ? 'PASS' : 'MISS', statsCall },
    seconds,
  };
  // A quick run writes beside the full run's files instead of over them.
  const name = quick ? 'latest-quick' : 'latest';
  writeFileSync(new URL(`${name}.json`, dir), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(new URL(`${name}.md`, dir), out.join('\n') + '\n');
  writeFileSync(new URL(quick ? 'chart-quick.svg' : 'chart.svg', dir), chartSvg(results, shapes, main, `Adadelta step throughput — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`));
  progress(`wrote bench/results/${name}.{json,md} and bench/results/${quick ? 'chart-quick' : 'chart'}.svg (${seconds.toFixed(0)} s)`);
}

main().then(
  () => process.exit(0), // tf.js and worker handles would otherwise keep the process alive
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
