/**
 * The worker's code, as a string: started with `eval: true` in Node's worker_threads and from
 * a Blob URL in browsers, so there is no extra file for bundlers to find. The code itself is
 * real TypeScript, embedded by its text: `runWorker` (worker-main.ts) and the helpers it shares
 * with the main thread. Only the bootstrap below, which finds the message port, is written
 * here, and the numbers come from control.ts.
 */
import { kernelImports } from '../wasm/imports.js';
import { OPS, RANGE_CALLS } from '../wasm/step.js';
import { CONTROL, PHASE, SPIN, STATUS } from './control.js';
import { runWorker, type WorkerConstants } from './worker-main.js';

const phase = (name: (typeof PHASE)[number]): number => PHASE.indexOf(name);

const CONSTANTS: WorkerConstants = {
  generation: CONTROL.generation,
  pending: CONTROL.pending,
  stop: CONTROL.stop,
  failed: CONTROL.failed,
  op: CONTROL.op,
  args: CONTROL.args,
  phaseWord: STATUS.phase,
  seen: STATUS.seen,
  heartbeat: STATUS.heartbeat,
  awake: phase('awake, waiting for a step'),
  asleep: phase('asleep, waiting for a step'),
  stepping: phase('stepping'),
  reporting: phase('reporting'),
  stopped: phase('stopped'),
  spin: SPIN,
};

export const WORKER_SOURCE = `'use strict';
const run = (init, post) => (${String(runWorker)})(init, ${JSON.stringify(CONSTANTS)}, post, (${String(kernelImports)}), [${OPS.map((op) => String(RANGE_CALLS[op])).join(', ')}]);
if (typeof process === 'object' && process.versions != null && process.versions.node != null) {
  // Not require() alone: a worker inherits the process's flags, and under --input-type=module
  // this string runs as an ES module, where require is undefined (and Node before 20.16 has no
  // getBuiltinModule). The port queues the init message until the listener is on.
  const wt = typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:worker_threads')
    : typeof require === 'function' ? require('node:worker_threads') : null;
  const withPort = ({ parentPort }) => parentPort.once('message', (init) => run(init, (m) => parentPort.postMessage(m)));
  if (wt) withPort(wt);
  else import('node:worker_threads').then(withPort);
} else {
  self.onmessage = (e) => { self.onmessage = null; run(e.data, (m) => self.postMessage(m)); };
}
`;
