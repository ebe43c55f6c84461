/**
 * tf.js peers: `tf.train.adadelta` and this package's tf.js adapter on the 'cpu' and 'wasm'
 * backends, from the npm packages.
 * Both backends live in one process; each measurement first makes its backend the current one,
 * so no tensor ever moves between backends.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

let tf;
let wasmInfo;

/** Loads tf.js and both backends; returns what the wasm backend loaded. Chatter goes to stderr. */
export async function initTfjs() {
  if (tf) return wasmInfo;
  // Record which .wasm file Emscripten reads: the backend chooses it from feature flags.
  const fs = require('fs');
  const readFileSync = fs.readFileSync;
  const readWasm = [];
  fs.readFileSync = function (path, ...rest) {
    if (String(path).endsWith('.wasm')) readWasm.push(String(path).split('/').pop());
    return readFileSync.call(this, path, ...rest);
  };
  const log = console.log;
  console.log = (...args) => console.error(...args); // tf.js's "install tfjs-node" banner
  try {
    tf = await import('@tensorflow/tfjs');
    const wasmBackend = await import('@tensorflow/tfjs-backend-wasm');
    const dist = require.resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/]+$/, '');
    wasmBackend.setWasmPaths(dist);
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.js wasm backend failed to initialize');
    wasmInfo = {
      binary: readWasm[0] ?? 'unknown',
      simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      threadsCount: wasmBackend.getThreadsCount(),
      tfjsVersion: tf.version.tfjs,
      wasmBackendVersion: wasmBackend.version_wasm,
    };
    if (!(await tf.setBackend('cpu'))) throw new Error('tf.js cpu backend failed to initialize');
  } finally {
    console.log = log;
    fs.readFileSync = readFileSync;
  }
  return wasmInfo;
}

let counter = 0;

/**
 * An Adadelta optimizer of tf.js on `backend` over variables initialised from `inits`.
 * `step()` applies the gradients set with `setGrads` (pre-made tensors, not timed).
 */
export function createTfjs(backend, inits, hyper) {
  return createOnBackend(backend, inits, async () => tf.train.adadelta(hyper.lr, hyper.rho, hyper.eps));
}

/**
 * This package's tf.js adapter (`adadelta-wasm/tfjs`, built to dist/tfjs.js) on `backend`: the
 * same variables and gradient tensors as `createTfjs`, so `step()` times the adapter's whole
 * `applyGradients` (dataSync of each grad, the kernel, `variable.assign` of the new values).
 */
export function createTfjsAdapter(backend, inits, hyper) {
  return createOnBackend(backend, inits, async (vars) => {
    const { adadeltaOptimizer } = await import('../dist/tfjs.js');
    const optimizer = await adadeltaOptimizer(hyper);
    // Makes every variable's wasm state now, so that no step includes its creation.
    await optimizer.prepare(vars);
    return optimizer;
  });
}

async function createOnBackend(backend, inits, makeOptimizer) {
  await tf.setBackend(backend);
  const id = `${backend}-${counter++}`;
  const vars = inits.map((init, i) => {
    const initial = tf.tensor1d(init);
    const variable = tf.variable(initial, true, `${id}-${i}`);
    initial.dispose(); // the variable holds its own reference to the data
    return variable;
  });
  const optimizer = await makeOptimizer(vars);
  let grads = [];
  const dropGrads = () => grads.forEach((g) => g.tensor.dispose());
  return {
    /** Makes this instance's backend current; call before stepping. */
    activate: () => tf.setBackend(backend),
    setGrads(arrays) {
      dropGrads();
      grads = arrays.map((a, i) => ({ name: vars[i].name, tensor: tf.tensor1d(a) }));
    },
    step: () => optimizer.applyGradients(grads),
    read: () => vars.map((v) => v.dataSync()),
    numTensors: () => tf.memory().numTensors,
    dispose() {
      dropGrads();
      optimizer.dispose();
      vars.forEach((v) => v.dispose());
    },
  };
}
