/**
 * The second thread of the bandwidth probe: runs `touch` over its half of the arrays each time
 * the main thread bumps the generation counter, then reports the generation as done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GEN, DONE, STOP, waitForChange } from './bandwidth-sync.mjs';

const { module, memory, control, ptrs, bytes } = workerData;
const { touch } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctrl = new Int32Array(control);
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  seen = waitForChange(ctrl, GEN, seen);
  if (seen === STOP) break;
  touch(ptrs[0], ptrs[1], ptrs[2], ptrs[3], bytes);
  Atomics.store(ctrl, DONE, seen);
  Atomics.notify(ctrl, DONE);
}
