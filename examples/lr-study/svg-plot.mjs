/**
 * Line charts as hand-written SVG: no dependencies, readable in any browser and on GitHub.
 *   lineChart({ title, xLabel, yLabel, xLog?, yLog?, series: [{ name, color, points, dashed? }] })
 * `points` is a list of [x, y]; on a log axis, points at or below zero are left out.
 */
const WIDTH = 800;
const HEIGHT = 440;
const MARGIN = { left: 78, right: 230, top: 40, bottom: 52 };

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function format(value) {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e4 || magnitude < 1e-2) {
    const exponent = Math.floor(Math.log10(magnitude) + 1e-9);
    const mantissa = value / 10 ** exponent;
    return Math.abs(mantissa - 1) < 1e-9 ? `1e${exponent}` : `${+mantissa.toFixed(1)}e${exponent}`;
  }
  return String(+value.toPrecision(3));
}

/** Ticks for one axis: powers of ten on a log axis, 1-2-5 steps on a linear one. */
function ticks(min, max, log) {
  if (log) {
    const out = [];
    for (let e = Math.ceil(Math.log10(min) - 1e-9); e <= Math.floor(Math.log10(max) + 1e-9); e++) out.push(10 ** e);
    return out;
  }
  const raw = (max - min) / 6;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

/**
 * The data range, widened to whole decades on a log axis (only downwards when `tight`, as for
 * a step axis that should end at the last step) and to a little margin otherwise.
 */
function range(values, log, tight = false) {
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (log) {
    const lo = Math.floor(Math.log10(min) + 1e-9);
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(max) - 1e-9));
    return [10 ** lo, tight ? Math.max(max, 10 ** (lo + 1)) : 10 ** hi];
  }
  if (min === max) [min, max] = [min - 1, max + 1];
  const pad = (max - min) * 0.04;
  return [min > 0 && min - pad < 0 ? 0 : min - pad, max + pad];
}

export function lineChart({ title, xLabel, yLabel, xLog = false, yLog = false, series }) {
  const usable = series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!xLog || x > 0) && (!yLog || y > 0)),
  }));
  const all = usable.flatMap((s) => s.points);
  const [x0, x1] = range(all.map((p) => p[0]), xLog, true);
  const [y0, y1] = range(all.map((p) => p[1]), yLog);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const scale = (v, lo, hi, log) => (log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo));
  const sx = (x) => MARGIN.left + plotW * scale(x, x0, x1, xLog);
  const sy = (y) => MARGIN.top + plotH * (1 - scale(y, y0, y1, yLog));

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="15" font-weight="600">${escape(title)}</text>`,
  ];
  for (const t of ticks(x0, x1, xLog)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" fill="#444">${format(t)}</text>`);
  }
  for (const t of ticks(y0, y1, yLog)) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" dy="4" text-anchor="end" fill="#444">${format(t)}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escape(xLabel)}${xLog ? ' (log)' : ''}</text>`);
  parts.push(
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}${yLog ? ' (log)' : ''}</text>`,
  );
  usable.forEach((s, i) => {
    if (s.points.length > 0) {
      const d = s.points.map(([x, y], k) => `${k ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`).join(' ');
      const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.dashed ? 1.5 : 2}"${dash}/>`);
    }
    const ly = MARGIN.top + 8 + i * 20;
    const lx = MARGIN.left + plotW + 14;
    parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${lx + 28}" y="${ly}" dy="4">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
