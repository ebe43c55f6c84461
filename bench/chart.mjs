/**
 * A dependency-free SVG line chart: Mparams/s against size, both axes logarithmic (the values
 * span three decades). One line per implementation; the many-tensor model is drawn as hollow
 * markers at 1e6.
 */
const W = 900;
const H = 520;
const M = { left: 70, right: 290, top: 40, bottom: 60 };
const COLORS = {
  'plain-js': '#e69f00',
  'tfjs-cpu': '#999999',
  'tfjs-wasm': '#56b4e9',
  'ours-plain': '#009e73',
  'ours-simd': '#d55e00',
  'ours-simd-2t': '#cc79a7',
  'ours-simd-stats': '#f0e442',
  'ours-simd-stats-read': '#b8a800',
  'adapter-tfjs-cpu': '#666699',
  'adapter-tfjs-wasm': '#0072b2',
  'bound-1t': '#000000',
  'bound-2t': '#555555',
};

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&#39;');

export function chartSvg(results, shapes, impls, title) {
  const line = shapes.filter((s) => !s.model);
  const model = shapes.find((s) => s.model);
  const points = (impl, list) =>
    list.map((s) => ({ s, c: results[s.key]?.[impl.id] })).filter((p) => p.c && !p.c.skipped).map((p) => ({ x: p.s.params, y: 1e3 / p.c.nsPerParam }));
  const all = impls.flatMap((i) => points(i, shapes).map((p) => p.y));
  const yLo = 10 ** Math.floor(Math.log10(Math.min(...all)));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...all)));
  const xLo = Math.min(...line.map((s) => s.params));
  const xHi = Math.max(...line.map((s) => s.params));
  const px = (x) => M.left + ((Math.log10(x) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo))) * (W - M.left - M.right);
  const py = (y) => H - M.bottom - ((Math.log10(y) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * (H - M.top - M.bottom);

  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  // Grid and axes.
  for (let y = yLo; y <= yHi * 1.0001; y *= 10) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 8}" y="${py(y) + 4}" text-anchor="end">${y >= 1 ? y : y.toPrecision(1)}</text>`);
  }
  for (const s of line) {
    out.push(`<line x1="${px(s.params)}" x2="${px(s.params)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`);
    out.push(`<text x="${px(s.params)}" y="${H - M.bottom + 18}" text-anchor="middle">${s.label}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 15}" text-anchor="middle">params (log scale)</text>`);
  out.push(`<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">Mparams/s (log scale, higher is better)</text>`);
  // One line per implementation, then the legend.
  impls.forEach((impl, k) => {
    const color = COLORS[impl.id] ?? '#333';
    const dash = impl.bound ? ' stroke-dasharray="6 4"' : '';
    const pts = points(impl, line);
    const ly = M.top + 10 + k * 22;
    out.push(`<line x1="${W - M.right + 15}" x2="${W - M.right + 45}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"${dash}/>`);
    out.push(`<text x="${W - M.right + 52}" y="${ly + 4}">${esc(impl.label)}${pts.length ? '' : ' (n/a)'}</text>`);
    if (pts.length === 0) return;
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2.5"${dash} points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
    if (model) {
      for (const p of points(impl, [model])) {
        out.push(`<circle cx="${(px(p.x) + 10).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="4" fill="white" stroke="${color}" stroke-width="2"/>`);
      }
    }
  });
  if (model) {
    const ly = M.top + 10 + impls.length * 22 + 8;
    out.push(`<circle cx="${W - M.right + 30}" cy="${ly}" r="4" fill="white" stroke="#333" stroke-width="2"/>`);
    out.push(`<text x="${W - M.right + 52}" y="${ly + 4}">${esc(model.label)} model (at 1e6)</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
