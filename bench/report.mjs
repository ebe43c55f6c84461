/** Turns measurements into Markdown tables and target verdicts (reported, never asserted). */

export const fmtNs = (ns) => (ns >= 100 ? ns.toFixed(0) : ns >= 10 ? ns.toFixed(1) : ns >= 1 ? ns.toFixed(2) : ns.toFixed(3));
const fmtX = (x) => (x >= 10 ? x.toFixed(0) : x.toFixed(1)) + 'x';
const percent = (r) => (r < 0.01 ? '<1%' : `${(100 * r).toFixed(0)}%`);
const fmtM = (m) => (m >= 100 ? m.toFixed(0) : m >= 10 ? m.toFixed(1) : m.toFixed(2));

/** The cell of `implId` at `shapeKey`, or undefined. */
const cell = (results, shapeKey, implId) => results[shapeKey]?.[implId];
const ns = (results, shapeKey, implId) => cell(results, shapeKey, implId)?.nsPerParam;

/** The rows of the main tables: issue 13's training-loop rows have their own table. */
export const mainImpls = (impls) => impls.filter((impl) => !impl.section);

/** The bandwidth bound for an implementation: the bound with as many threads, same size. */
function boundFor(results, shape, impl) {
  const key = shape.boundFrom ?? shape.key;
  return ns(results, key, impl.threads === 2 ? 'bound-2t' : 'bound-1t');
}

function row(cells) {
  return `| ${cells.join(' | ')} |`;
}

/** Implementations x sizes, ns/param (the layout). */
export function summaryTable(results, shapes, impls) {
  const lines = [row(['ns per param (median)', ...shapes.map((s) => s.label)]), row(['---', ...shapes.map(() => '---:')])];
  for (const impl of impls) {
    const cells = shapes.map((s) => {
      const c = cell(results, s.key, impl.id);
      if (!c) return '';
      if (c.skipped && impl.bound && s.boundFrom) return `(${s.boundFrom})`;
      return c.skipped ? (c.skipped.startsWith('n/a') ? 'n/a' : 'skipped') : fmtNs(c.nsPerParam);
    });
    lines.push(row([impl.label, ...cells]));
  }
  return lines.join('\n');
}

/** Per size and implementation: ns/param, Mparams/s, speed-ups and % of the bound. */
export function detailTable(results, shapes, impls) {
  const lines = [
    row(['size', 'implementation', 'ns/param', 'Mparams/s', 'vs plain JS', 'vs tf.js wasm', '% of bandwidth bound']),
    row(['---', '---', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const shape of shapes) {
    for (const impl of impls) {
      const c = cell(results, shape.key, impl.id);
      if (!c) continue;
      if (c.skipped) {
        if (impl.bound && shape.boundFrom) continue;
        lines.push(row([shape.label, impl.label, c.skipped, '', '', '', '']));
        continue;
      }
      const x = c.nsPerParam;
      const js = ns(results, shape.key, 'plain-js');
      const tfw = ns(results, shape.key, 'tfjs-wasm');
      const bound = boundFor(results, shape, impl);
      lines.push(
        row([
          shape.label,
          impl.label,
          fmtNs(x),
          fmtM(1e3 / x),
          js ? fmtX(js / x) : '–',
          tfw ? fmtX(tfw / x) : '–',
          impl.bound ? '(the bound)' : bound ? percent(bound / x) : '–',
        ]),
      );
    }
  }
  return lines.join('\n');
}

/** The targets, each with PASS / MISS (or n/a when a figure is missing). */
export function targets(results) {
  const out = [];
  const verdict = (name, checks) => {
    // checks: [{ where, value, ok }] or a string reason for n/a
    if (typeof checks === 'string') {
      out.push({ name, status: 'n/a', detail: checks });
      return;
    }
    const ok = checks.every((c) => c.ok);
    out.push({ name, status: ok ? 'PASS' : 'MISS', detail: checks.map((c) => `${c.where}: ${c.value}`).join(', '), checks });
  };
  const ratioChecks = (keys, num, den, min) => {
    const checks = [];
    for (const k of keys) {
      const a = ns(results, k, num);
      const b = ns(results, k, den);
      if (a === undefined || b === undefined) return `not measured at ${k}`;
      checks.push({ where: k, value: `${(a / b).toFixed(2)}x`, ok: a / b >= min, ratio: a / b });
    }
    return checks;
  };
  const mid = ['1e4', '1e5', '1e6', '1e7'];
  verdict('ours simd, 1 thread >= 8x plain JS at 1e4..1e7', ratioChecks(mid, 'plain-js', 'ours-simd', 8));
  verdict('ours simd, 1 thread >= 8x tf.js wasm at 1e4..1e7', ratioChecks(mid, 'tfjs-wasm', 'ours-simd', 8));
  verdict('ours simd, 2 threads >= 1.7x one thread at 1e6', threadsOr(results, () => ratioChecks(['1e6'], 'ours-simd', 'ours-simd-2t', 1.7)));
  const ofBound = (impl, bound) => () => {
    const checks = [];
    for (const k of ['1e7', '5e7']) {
      const a = ns(results, k, impl);
      const b = ns(results, k, bound);
      if (a === undefined || b === undefined) {
        checks.push({ where: k, value: 'not measured', ok: true });
        continue;
      }
      checks.push({ where: k, value: `${((100 * b) / a).toFixed(0)}%`, ok: b / a >= 0.85, ratio: b / a });
    }
    return checks.every((c) => c.ratio === undefined) ? 'not measured at 1e7 or 5e7' : checks;
  };
  verdict('ours simd, 2 threads >= 85% of the 2-thread bandwidth bound at 1e7 and 5e7', threadsOr(results, ofBound('ours-simd-2t', 'bound-2t')));
  verdict('(also) ours simd, 1 thread >= 85% of the 1-thread bandwidth bound at 1e7 and 5e7', ofBound('ours-simd', 'bound-1t')());
  const model = (impl) => () => {
    const a = ns(results, '1000x1000', impl);
    const b = ns(results, '1e6', impl);
    if (a === undefined || b === undefined) return 'not measured';
    return [{ where: '1000x1000 / 1e6', value: `${(a / b).toFixed(3)}x`, ok: a / b <= 1.15, ratio: a / b }];
  };
  verdict('1,000 x 1,000 tensors <= 1.15x one 1e6 tensor (ours simd)', model('ours-simd')());
  verdict('1,000 x 1,000 tensors <= 1.15x one 1e6 tensor (ours simd, 2 threads)', threadsOr(results, model('ours-simd-2t')));
  return out;
}

function threadsOr(results, f) {
  const c = cell(results, '1e6', 'ours-simd-2t');
  if (!c || c.skipped) return c?.skipped ?? 'n/a (threads not available)';
  return f();
}

export function targetLines(verdicts) {
  return verdicts.map((v) => `- ${v.status} ${v.name}: ${v.detail}`).join('\n');
}

/** The model-vs-one-tensor ratio of every implementation measured at both. */
export function modelRatioTable(results, impls) {
  const lines = [row(['implementation', '1,000 x 1,000 vs one 1e6 tensor (time ratio, target <= 1.15x)']), row(['---', '---:'])];
  for (const impl of impls) {
    const a = ns(results, '1000x1000', impl.id);
    const b = ns(results, '1e6', impl.id);
    if (a === undefined || b === undefined) continue;
    lines.push(row([impl.label, `${(a / b).toFixed(3)}x`]));
  }
  return lines.join('\n');
}

/** Deviation from torch's formula after the fixed problem's steps. */
export function deviationTable(dev) {
  const e = (x) => (x === 0 ? '0' : x.toExponential(2));
  const lines = [
    row(['implementation', 'max abs deviation', 'in units of the contract tolerance', 'vs ours simd', 'largest param move']),
    row(['---', '---:', '---:', '---:', '---:']),
  ];
  for (const r of dev.rows) {
    const vs = Number.isFinite(r.vsOurs) ? (r.vsOurs >= 100 ? r.vsOurs.toExponential(1) : r.vsOurs.toFixed(2)) + 'x' : '–';
    lines.push(row([r.label, e(r.maxAbs), r.maxTolerance.toFixed(r.maxTolerance >= 100 ? 0 : 3), vs, r.maxMove.toFixed(4)]));
  }
  return lines.join('\n');
}

/**
 * Issue 6: the cost of diagnostics, as a fraction of a plain SIMD step of the same size:
 * `step({ stats: true })`, and that plus reading `stats()` once per step.
 */
export function statsOverhead(results, { key }) {
  const plain = ns(results, key, 'ours-simd');
  const withStats = ns(results, key, 'ours-simd-stats');
  const withRead = ns(results, key, 'ours-simd-stats-read');
  if (plain === undefined || withStats === undefined) return undefined;
  const out = { key, plainNsPerParam: plain, statsNsPerParam: withStats, overhead: withStats / plain - 1 };
  if (withRead !== undefined) {
    out.statsReadNsPerParam = withRead;
    out.overheadWithRead = withRead / plain - 1;
  }
  return out;
}

const signedPercent = (r) => `${r >= 0 ? '+' : ''}${(100 * r).toFixed(1)}%`;

/** Per size: plain SIMD step, with stats, with stats and one stats() read. */
export function statsTable(results, shapes) {
  const lines = [
    row(['size', "ours 'simd' ns/param", '+ stats ns/param', 'overhead', '+ stats + stats() ns/param', 'overhead']),
    row(['---', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const s of shapes) {
    const o = statsOverhead(results, s);
    if (!o) continue;
    const read = o.statsReadNsPerParam !== undefined;
    lines.push(
      row([
        s.label,
        fmtNs(o.plainNsPerParam),
        fmtNs(o.statsNsPerParam),
        signedPercent(o.overhead),
        read ? fmtNs(o.statsReadNsPerParam) : '–',
        read ? signedPercent(o.overheadWithRead) : '–',
      ]),
    );
  }
  return lines.join('\n');
}

/** The diagnostics line of issue 6, with PASS / MISS against 30% at 1e6; `call`: timeStatsCall's. */
export function statsOverheadLine(o, call) {
  if (!o) return 'Diagnostics overhead at 1e6: not measured';
  const verdict = o.overhead < 0.3 ? 'PASS' : 'MISS';
  const each = call ? `; one stats() call takes ${call.usPerCall.toFixed(1)} µs at any size` : '';
  const read = o.statsReadNsPerParam === undefined ? each : `; reading stats() once per step as well: ${signedPercent(o.overheadWithRead)}${each}`;
  return `Diagnostics overhead at 1e6 (issue 6, target < 30% of a plain step): ${verdict} step({ stats: true }) costs ${signedPercent(o.overhead)} (${fmtNs(o.statsNsPerParam)} vs ${fmtNs(o.plainNsPerParam)} ns/param)${read}`;
}

/** Issue 7: per size, the adapter's end-to-end step beside tf.js's own Adadelta, per backend. */
export function adapterTable(results, shapes) {
  const lines = [
    row(['size', 'tf.js cpu', 'adapter on tf.js cpu', 'speed-up', 'tf.js wasm', 'adapter on tf.js wasm', 'speed-up']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  const show = (c) => (!c ? '–' : c.skipped ? (c.skipped.startsWith('n/a') ? 'n/a' : 'skipped') : fmtNs(c.nsPerParam));
  const speedup = (tf, ours) => (tf && ours ? fmtX(tf / ours) : '–');
  for (const s of shapes) {
    const cells = [s.label];
    for (const backend of ['cpu', 'wasm']) {
      const tf = cell(results, s.key, `tfjs-${backend}`);
      const ours = cell(results, s.key, `adapter-tfjs-${backend}`);
      cells.push(show(tf), show(ours), speedup(tf?.nsPerParam, ours?.nsPerParam));
    }
    lines.push(row(cells));
  }
  return lines.join('\n');
}

/**
 * Issue 13: each training-loop row beside the plain step it is measured against (same threads,
 * same block, interleaved), as a time ratio against its target. '' when the run has none.
 */
export function trainingLoopTable(results, impls) {
  const lines = [row(['row', 'size', 'ns/param', 'plain step ns/param', 'time ratio', 'target', 'verdict']), row(['---', '---', '---:', '---:', '---:', '---:', '---'])];
  for (const impl of impls.filter((i) => i.section === 'training-loop')) {
    for (const [key, byImpl] of Object.entries(results)) {
      const a = byImpl[impl.id];
      const b = byImpl[impl.base];
      if (!a || a.skipped || !b || b.skipped) continue;
      const ratio = a.nsPerParam / b.nsPerParam;
      lines.push(row([impl.label, key, fmtNs(a.nsPerParam), fmtNs(b.nsPerParam), `${ratio.toFixed(2)}x`, `<= ${impl.target}x`, ratio <= impl.target ? 'PASS' : 'MISS']));
    }
  }
  return lines.length > 2 ? lines.join('\n') : '';
}

/** The training-loop section as run.mjs prints it (and readme-figures.mjs renders it): [] without rows. */
export function trainingLoopSection(results, impls) {
  const table = trainingLoopTable(results, impls);
  if (!table) return [];
  return [
    "Training loop (issue 13; reported, not asserted): the fused `step({ clipGradNorm })` (clipping active) against a plain step, and the 1,000 x 1,000 model with every other tensor frozen (`requiresGrad = false`) against all of them stepping:",
    '',
    table,
    '',
  ];
}
