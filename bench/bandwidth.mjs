/**
 * The machine's memory-bandwidth bound for Adadelta: `bandwidth.wat` (4 arrays read, 3 written,
 * 28 bytes per param, one add per stream) over wasm memory, on one thread or split by element
 * range over two (main thread + one worker sharing the memory). No Adadelta step can move its
 * 28 bytes per param faster than this pass, so its time is the floor for every implementation.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import binaryen from 'binaryen';
import { GEN, DONE, STOP, waitForChange } from './bandwidth-sync.mjs';

export const BYTES_PER_PARAM = 28;
const PAGE = 65536;
const ALIGN = 64;

let compiled;

/** The probe's wasm module, assembled from the text with binaryen once per process. */
export function probeModule() {
  if (compiled === undefined) {
    const text = readFileSync(new URL('./bandwidth.wat', import.meta.url), 'utf8');
    const mod = binaryen.parseText(text);
    mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.Atomics);
    if (!mod.validate()) throw new Error('bench/bandwidth.wat does not validate');
    compiled = new WebAssembly.Module(mod.emitBinary());
    mod.dispose();
  }
  return compiled;
}

const roundUp = (x, to) => Math.ceil(x / to) * to;

/**
 * A probe over `n` params: `{ step(), arrays, dispose() }`. `threads` is 1 or 2; with 2 the
 * elements are split in halves (at a multiple of 8), the worker doing the second.
 */
export async function createBandwidthProbe(n, threads = 1) {
  const padded = roundUp(n, 8);
  // Arrays a multiple of 4 KiB apart would alias in the CPU's store-to-load check and slow the
  // probe below what the memory can do; keep them off that grid.
  let stride = roundUp(padded * 4, ALIGN);
  if (stride % 4096 === 0) stride += 4 * ALIGN;
  const pages = Math.ceil((ALIGN + 4 * stride) / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const { touch } = new WebAssembly.Instance(probeModule(), { env: { memory } }).exports;
  const base = [0, 1, 2, 3].map((k) => ALIGN + k * stride); // param, grad, square_avg, acc_delta
  const arrays = base.map((ptr) => new Float32Array(memory.buffer, ptr, n));

  if (threads === 1) {
    return {
      arrays,
      step: () => touch(base[0], base[1], base[2], base[3], padded * 4),
      dispose: async () => {},
    };
  }
  if (threads !== 2) throw new Error(`bandwidth probe: threads must be 1 or 2, got ${threads}`);

  const half = roundUp(Math.ceil(padded / 2), 8);
  const control = new SharedArrayBuffer(8);
  const ctrl = new Int32Array(control);
  const worker = new Worker(new URL('./bandwidth-worker.mjs', import.meta.url), {
    workerData: { module: probeModule(), memory, control, ptrs: base.map((b) => b + half * 4), bytes: (padded - half) * 4 },
  });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let gen = 0;
  return {
    arrays,
    step() {
      gen++;
      Atomics.store(ctrl, GEN, gen);
      Atomics.notify(ctrl, GEN);
      touch(base[0], base[1], base[2], base[3], half * 4);
      let done = Atomics.load(ctrl, DONE);
      while (done !== gen) done = waitForChange(ctrl, DONE, done);
    },
    async dispose() {
      Atomics.store(ctrl, GEN, STOP);
      Atomics.notify(ctrl, GEN);
      await worker.terminate();
    },
  };
}
