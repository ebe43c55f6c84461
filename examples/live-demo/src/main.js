/**
 * The page: controls, charts (uPlot) and the digit strip. Training runs in worker.js; the page
 * only appends what each frame brings and redraws, once per animation frame at most.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';

/** Okabe–Ito colours, distinct for the common colour-vision deficiencies; each arm also has its own dash and mark. */
const STYLE = {
  'adadelta-lr1': { color: '#0072B2', band: 'rgba(0,114,178,0.16)', dash: [], mark: '■', short: 'lr 1' },
  'adadelta-lr0.001': { color: '#D55E00', band: 'rgba(213,94,0,0.16)', dash: [8, 4], mark: '▲', short: 'lr .001' },
  tuned: { color: '#009E73', band: 'rgba(0,158,115,0.16)', dash: [2, 3], mark: '●', short: 'yours' },
};

/** The tuned arm's log sliders: the value is 10^(position/perDecade), or 1 - that for rho. */
const SLIDERS = [
  { key: 'lr', label: 'lr', from: -4, to: 1, perDecade: 10 },
  { key: 'rho', label: 'rho', from: -3, to: Math.log10(0.5), perDecade: 10, oneMinus: true },
  { key: 'eps', label: 'eps', from: -10, to: -1, perDecade: 4 },
  { key: 'initialAccDelta', label: 'initialAccDelta', from: -10, to: -1, perDecade: 4, zeroAtStart: true },
];

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const worker = new Worker(`./worker.js?threads=${encodeURIComponent(params.get('threads') ?? 'auto')}`, { type: 'module' });

const state = {
  ready: false,
  running: false,
  step: 0,
  frames: 0,
  build: undefined,
  threads: undefined,
  isolated: undefined,
  tuned: undefined,
  /** Per arm since the last reset: steps, and ms in gradients and in opt.step (what the page reports). */
  totals: [],
  errors: [],
};
let arms = [];
let charts = {};
let data = {};
let digest = new Map();
let nextQuery = 0;
let drawPending = false;

/** What the tests read: the worker's status, a digest of its params, and what each chart holds. */
window.demo = {
  status: state,
  digest() {
    const id = nextQuery++;
    return new Promise((resolve) => {
      digest.set(id, resolve);
      worker.postMessage({ type: 'digest', id });
    });
  },
  charts() {
    return Object.fromEntries(
      Object.entries(charts).map(([name, chart]) => [name, { points: chart.data[0].length, inked: inked(chart) }]),
    );
  },
};

/** Whether the chart's plotting canvas has any pixel drawn. */
function inked(chart) {
  const { width, height } = chart.ctx.canvas;
  const pixels = chart.ctx.getImageData(0, 0, width, height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
  return false;
}

const format = (x) => (x == null ? '' : x === 0 ? '0' : Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? String(+x.toPrecision(3)) : x.toExponential(1).replace('.0e', 'e'));

function sliderValue(s, position) {
  if (s.zeroAtStart && position === 0) return 0;
  const v = 10 ** (s.from + position / s.perDecade);
  return s.oneMinus ? 1 - v : v;
}

function sliderPosition(s, value) {
  if (s.zeroAtStart && value === 0) return 0;
  const v = s.oneMinus ? 1 - value : value;
  return Math.round((Math.log10(v) - s.from) * s.perDecade);
}

function buildSliders(tuned) {
  const box = $('sliders');
  for (const s of SLIDERS) {
    const id = `slider-${s.key}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = s.label;
    const input = document.createElement('input');
    input.type = 'range';
    input.id = id;
    input.min = '0';
    input.max = String(Math.round(Math.abs(s.to - s.from) * s.perDecade));
    input.step = '1';
    const output = document.createElement('output');
    output.htmlFor = id;
    output.id = `${id}-value`;
    if (s.oneMinus) {
      // Further right is a larger rho (a longer memory): positions count down in 1 - rho.
      const max = Number(input.max);
      input.dataset.reversed = 'true';
      input.value = String(max - sliderPosition(s, tuned[s.key]));
      s.read = () => sliderValue(s, max - Number(input.value));
    } else {
      input.value = String(sliderPosition(s, tuned[s.key]));
      s.read = () => sliderValue(s, Number(input.value));
    }
    const render = () => {
      const value = s.read();
      output.textContent = s.key === 'rho' ? String(+value.toPrecision(4)) : format(value);
      input.setAttribute('aria-valuetext', output.textContent);
    };
    render();
    input.addEventListener('input', () => {
      render();
      sendTuning();
    });
    box.append(label, input, output);
  }
}

function sendTuning() {
  const settings = Object.fromEntries(SLIDERS.map((s) => [s.key, s.read()]));
  worker.postMessage({ type: 'tune', settings });
}

function plotWidth(figure) {
  return Math.max(200, figure.querySelector('.plot').clientWidth);
}

const armSeries = (arm, extra = {}) => ({
  label: STYLE[arm.id].short,
  stroke: STYLE[arm.id].color,
  dash: STYLE[arm.id].dash,
  width: 2,
  spanGaps: true,
  points: { show: false },
  ...extra,
});

/** Ticks and grid lines of a log axis: the powers of ten in view, every other one when there are many. */
function decades(u, axisIndex, min, max) {
  const from = Math.ceil(Math.log10(min) - 1e-9);
  const to = Math.floor(Math.log10(max) + 1e-9);
  const every = to - from > 6 ? 2 : 1;
  const out = [];
  for (let e = from; e <= to; e += every) out.push(10 ** e);
  return out;
}

function makeChart(name, series, { yLog = false, xLog = false, yRange, bands, yLabel } = {}) {
  const figure = $(`chart-${name}`);
  const opts = {
    width: plotWidth(figure),
    height: 210,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: { time: false, distr: xLog ? 3 : 1 },
      y: { distr: yLog ? 3 : 1, ...(yRange ? { range: yRange } : {}) },
    },
    axes: [
      { size: 30, ...(xLog ? { splits: decades, values: (u, splits) => splits.map(format) } : {}) },
      { size: 52, label: yLabel, labelSize: 14, ...(yLog ? { splits: decades } : {}), values: (u, splits) => splits.map(format) },
    ],
    series: [{}, ...series],
    bands,
  };
  const initial = [[], ...series.map(() => [])];
  const chart = new uPlot(opts, initial, figure.querySelector('.plot'));
  charts[name] = chart;
  data[name] = initial;
  new ResizeObserver(() => chart.setSize({ width: plotWidth(figure), height: 210 })).observe(figure);
  return chart;
}

function buildCharts(ready) {
  makeChart('loss', arms.map((a) => armSeries(a)), { yLog: true, yLabel: 'loss' });
  makeChart('accuracy', arms.map((a) => armSeries(a)), { yRange: [0, 1], yLabel: 'accuracy' });
  const rateSeries = arms.flatMap((a) => [
    armSeries(a, { width: 0.5, label: `${STYLE[a.id].short} p90` }),
    armSeries(a, { label: `${STYLE[a.id].short} median` }),
    armSeries(a, { width: 0.5, label: `${STYLE[a.id].short} p10` }),
  ]);
  const bands = arms.map((a, i) => ({ series: [1 + 3 * i, 3 + 3 * i], fill: STYLE[a.id].band }));
  makeChart('rate', rateSeries, { yLog: true, bands, yLabel: 'effective lr' });
  makeChart(
    'histogram',
    arms.map((a) => armSeries(a, { spanGaps: false, paths: uPlot.paths.stepped({ align: 0 }) })),
    { xLog: true, yRange: [0, 1], yLabel: 'share' },
  );
  data.histogram[0] = ready.histogramCentres;
  makeChart('stalled', arms.map((a) => armSeries(a)), { yRange: [0, 1], yLabel: 'stalled' });
}

function buildLegend() {
  const list = $('legend');
  for (const arm of arms) {
    const s = STYLE[arm.id];
    const item = document.createElement('li');
    item.innerHTML = `<svg width="34" height="10" aria-hidden="true"><line x1="1" y1="5" x2="33" y2="5" stroke="${s.color}" stroke-width="3" stroke-dasharray="${s.dash.join(' ')}"/></svg>
      <span><span style="color:${s.color}" aria-hidden="true">${s.mark}</span> ${arm.label}</span><span class="rate" id="rate-${arm.id}"></span>`;
    list.append(item);
  }
}

function buildStrip(strip) {
  const box = $('digits');
  strip.forEach((digit, d) => {
    const cell = document.createElement('div');
    cell.className = 'digit';
    const canvas = document.createElement('canvas');
    canvas.width = 28;
    canvas.height = 28;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `a handwritten ${digit.label}`);
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(28, 28);
    for (let p = 0; p < 784; p++) image.data[4 * p + 3] = 255;
    for (let p = 0; p < 784; p++) image.data[4 * p] = image.data[4 * p + 1] = image.data[4 * p + 2] = 255;
    digit.index.forEach((k, j) => {
      const ink = 255 - Math.round(255 * digit.value[j]);
      image.data[4 * k] = image.data[4 * k + 1] = image.data[4 * k + 2] = ink;
    });
    ctx.putImageData(image, 0, 0);
    cell.append(canvas);
    for (const arm of arms) {
      const guess = document.createElement('span');
      guess.className = 'guess';
      guess.id = `guess-${d}-${arm.id}`;
      guess.style.color = STYLE[arm.id].color;
      cell.append(guess);
    }
    box.append(cell);
  });
}

function showPredictions(predictions, strip) {
  arms.forEach((arm, a) => {
    predictions[a].forEach((p, d) => {
      const el = $(`guess-${d}-${arm.id}`);
      const wrong = p !== strip[d].label;
      el.textContent = `${STYLE[arm.id].mark}${p}${wrong ? '✗' : ''}`;
      el.classList.toggle('wrong', wrong);
      el.title = `${arm.label}: ${p}${wrong ? ` (it is a ${strip[d].label})` : ''}`;
    });
  });
}

function append(points) {
  for (const point of points) {
    data.loss[0].push(point.step);
    data.rate[0].push(point.step);
    data.stalled[0].push(point.step);
    const evaluated = point.arms[0].accuracy !== undefined;
    if (evaluated) data.accuracy[0].push(point.step);
    point.arms.forEach((a, i) => {
      const positive = (x) => (x > 0 && Number.isFinite(x) ? x : null);
      data.loss[1 + i].push(positive(a.loss));
      data.rate[1 + 3 * i].push(positive(a.p90));
      data.rate[2 + 3 * i].push(positive(a.median));
      data.rate[3 + 3 * i].push(positive(a.p10));
      data.stalled[1 + i].push(a.stalled);
      if (evaluated) data.accuracy[1 + i].push(a.accuracy);
    });
  }
}

function clearData() {
  for (const name of Object.keys(data)) {
    for (let i = name === 'histogram' ? 1 : 0; i < data[name].length; i++) data[name][i] = [];
  }
}

function redraw() {
  drawPending = false;
  for (const [name, chart] of Object.entries(charts)) chart.setData(data[name]);
}

/** Each arm's time in gradients and in opt.step over the last RATE_FRAMES frames, and since the start. */
const RATE_FRAMES = 40;
let recentTimings = [];

function showRates(frame) {
  if (frame.steps > 0) {
    recentTimings.push({ steps: frame.steps, timings: frame.timings });
    if (recentTimings.length > RATE_FRAMES) recentTimings.shift();
    frame.timings.forEach((t, i) => {
      const total = (state.totals[i] ??= { steps: 0, gradientMs: 0, stepMs: 0 });
      total.steps += frame.steps;
      total.gradientMs += t.gradientMs;
      total.stepMs += t.stepMs;
    });
  }
  arms.forEach((arm, i) => {
    let steps = 0;
    let ms = 0;
    let stepMs = 0;
    for (const r of recentTimings) {
      steps += r.steps;
      ms += r.timings[i].gradientMs + r.timings[i].stepMs;
      stepMs += r.timings[i].stepMs;
    }
    if (ms > 0) $(`rate-${arm.id}`).textContent = `${Math.round(steps / (ms / 1000))} steps/s · opt.step ${((100 * stepMs) / ms).toFixed(1)}%`;
  });
  const rate = frame.running ? `${Math.round(frame.wallStepsPerSecond)} steps/s` : 'paused';
  $('corner').textContent = `kernel ${state.build} · ${state.threads} thread${state.threads === 1 ? '' : 's'}${state.isolated ? ' (cross-origin isolated)' : ' (not isolated)'} · ${rate}`;
}

let ready;
worker.onmessage = ({ data: message }) => {
  switch (message.type) {
    case 'ready': {
      ready = message;
      arms = message.arms;
      Object.assign(state, { build: message.build, threads: message.threads, isolated: message.isolated, tuned: message.tuned });
      buildLegend();
      buildSliders(message.tuned);
      buildCharts(message);
      buildStrip(message.strip);
      for (const id of ['start', 'pause', 'reset']) $(id).disabled = false;
      $('status').textContent = `ready: ${message.run.train} training digits, batch ${message.run.batchSize}`;
      state.ready = true;
      break;
    }
    case 'frame': {
      state.frames++;
      state.step = message.step;
      state.running = message.running;
      state.tuned = message.tuned;
      append(message.points);
      if (message.histograms) message.histograms.forEach((h, i) => (data.histogram[1 + i] = h));
      showPredictions(message.predictions, ready.strip);
      showRates(message);
      $('status').textContent = `step ${message.step}${message.running ? '' : ' (paused)'}`;
      $('start').disabled = message.running;
      $('pause').disabled = !message.running;
      if (!drawPending) {
        drawPending = true;
        requestAnimationFrame(redraw);
      }
      break;
    }
    case 'reset':
      clearData();
      recentTimings = [];
      state.totals = [];
      break;
    case 'digest':
      digest.get(message.id)?.(message);
      digest.delete(message.id);
      break;
    case 'error':
      state.errors.push(message.message);
      $('status').textContent = `error: ${message.message}`;
      console.error(message.message);
      break;
  }
};
worker.onerror = (event) => {
  state.errors.push(event.message);
  console.error(`worker: ${event.message}`);
};

const stopAt = params.get('stopAt');
// ?stopAt=N pauses the first run at step N (the tests use it); Start again runs on.
$('start').addEventListener('click', () =>
  worker.postMessage({ type: 'start', until: stopAt !== null && state.step < Number(stopAt) ? Number(stopAt) : undefined }),
);
$('pause').addEventListener('click', () => worker.postMessage({ type: 'pause' }));
$('reset').addEventListener('click', () => worker.postMessage({ type: 'reset' }));
$('speed').addEventListener('change', (e) => worker.postMessage({ type: 'speed', value: Number(e.target.value) }));
