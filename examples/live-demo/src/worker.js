/**
 * The training worker (a module Web Worker): it runs the session, a slice of steps at a time, and
 * posts what the page draws at most every FRAME_MS. The page's messages (start, pause, reset,
 * speed, tune, digest) are handled between slices, so the optimizers are idle when they change.
 */
import { CLASSES, DIGIT_FILES, splitDigits } from '../../lr-study/mnist-data.mjs';
import { mulberry32 } from '../../lr-study/prng.mjs';
import { RUN, TUNED_DEFAULTS, createSession, histogramCentres } from './session.mjs';

/** A frame this often while training (20 a second), or after every step where a step takes longer. */
const FRAME_MS = 50;
/** The longest run of steps between looks at the page's messages. */
const SLICE_MS = 25;

let session;
let running = false;
let stopAt = Infinity;
let stepsPerSecond = 0; // 0: as fast as it goes
let paceFrom = { time: 0, step: 0 };
let lastFrame = 0;
let points = [];
let histograms = null;
let wall = { time: performance.now(), step: 0 };
let tuned = { ...TUNED_DEFAULTS };
let loop = null;

const post = (message) => self.postMessage(message);

/** Yields to the event loop without setTimeout's 4 ms clamp. */
const channel = new MessageChannel();
const yieldQueue = [];
channel.port1.onmessage = () => yieldQueue.shift()?.();
const yieldNow = () => new Promise((resolve) => {
  yieldQueue.push(resolve);
  channel.port2.postMessage(0);
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function loadDigits() {
  const raw = await Promise.all(
    DIGIT_FILES.map(async (file) => {
      const response = await fetch(new URL(`mnist/${file.split('/').pop()}`, self.location.href));
      if (!response.ok) throw new Error(`could not load the digits (${file}): HTTP ${response.status}`);
      return (await response.json()).data;
    }),
  );
  return splitDigits(raw, RUN, mulberry32(RUN.seed));
}

function frame() {
  const now = performance.now();
  const timings = session.takeTimings();
  const elapsed = now - wall.time;
  post({
    type: 'frame',
    step: session.step,
    /** Steps since the last frame, which `timings` cover. */
    steps: session.step - wall.step,
    running,
    points,
    histograms,
    predictions: session.predictions(),
    timings,
    wallStepsPerSecond: elapsed > 0 ? ((session.step - wall.step) * 1000) / elapsed : 0,
    tuned: session.tunedSettings(),
  });
  points = [];
  histograms = null;
  lastFrame = now;
  wall = { time: now, step: session.step };
}

async function run() {
  while (running) {
    const sliceEnd = performance.now() + SLICE_MS;
    while (running && performance.now() < sliceEnd) {
      if (stepsPerSecond > 0) {
        const due = paceFrom.step + ((performance.now() - paceFrom.time) * stepsPerSecond) / 1000;
        if (session.step >= due) break;
      }
      // The histogram is worked out on the step before a frame is due, and on the last step.
      const histogramDue = histograms === null && (performance.now() - lastFrame >= FRAME_MS / 2 || session.step + 1 >= stopAt);
      const { point, histograms: h } = session.trainStep({ histogram: histogramDue });
      if (point) points.push(point);
      if (h) histograms = h;
      if (session.step >= stopAt) running = false;
      if (performance.now() - lastFrame >= FRAME_MS) break;
    }
    if (!running || performance.now() - lastFrame >= FRAME_MS) frame();
    if (stepsPerSecond > 0 && running) await sleep(Math.min(FRAME_MS, Math.max(1, 500 / stepsPerSecond)));
    else await yieldNow();
  }
  loop = null;
}

function startLoop() {
  if (running) return;
  running = true;
  paceFrom = { time: performance.now(), step: session.step };
  wall = { time: performance.now(), step: session.step };
  loop ??= run();
}

async function stopLoop() {
  running = false;
  await loop;
}

const handlers = {
  start({ until }) {
    stopAt = until ?? Infinity;
    if (session.step < stopAt) startLoop();
  },
  async pause() {
    await stopLoop();
  },
  async reset() {
    const wasRunning = running;
    await stopLoop();
    await session.reset(tuned);
    points = [];
    wall = { time: performance.now(), step: 0 };
    post({ type: 'reset' });
    frame();
    if (wasRunning) startLoop();
  },
  speed({ value }) {
    stepsPerSecond = value;
    paceFrom = { time: performance.now(), step: session.step };
  },
  async tune({ settings }) {
    const restart = settings.initialAccDelta !== tuned.initialAccDelta;
    tuned = { ...settings };
    // initialAccDelta is where E[Δx²] starts: a new value means a new run. The others apply to
    // the next step (no step is under way while a message is handled: steps are synchronous).
    if (restart) await handlers.reset();
    else {
      session.tune(tuned);
      frame();
    }
  },
  async digest({ id }) {
    const digests = await Promise.all(
      session.paramBytes().map(async (bytes) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('')),
    );
    post({ type: 'digest', id, step: session.step, digests });
  },
};

let queue = Promise.resolve();
self.onmessage = (event) => {
  const message = event.data;
  queue = queue
    .then(() => handlers[message.type](message))
    .catch((error) => post({ type: 'error', message: `${error.name}: ${error.message}` }));
};

try {
  const params = new URL(self.location.href).searchParams;
  const threadsParam = params.get('threads') ?? 'auto';
  const threads = threadsParam === 'auto' ? 'auto' : Number(threadsParam);
  const data = await loadDigits();
  session = await createSession(data, { tuned, threads });
  const [first] = session.arms;
  post({
    type: 'ready',
    build: first.optimizer.build,
    threads: first.optimizer.threads,
    isolated: self.crossOriginIsolated === true,
    arms: session.arms.map(({ id, label }) => ({ id, label })),
    strip: session.strip.map(({ index, value, label }) => ({ index, value, label })),
    classes: CLASSES,
    histogramCentres: histogramCentres(),
    run: RUN,
    tuned,
  });
  frame();
} catch (error) {
  post({ type: 'error', message: `${error.name}: ${error.message}` });
}
