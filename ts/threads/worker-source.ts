import { CONTROL, PHASE, STATUS } from './control.js';

const phase = (name: (typeof PHASE)[number]): number => PHASE.indexOf(name);

/**
 * The worker's code, as a string: started with `eval: true` in Node's worker_threads and from
 * a Blob URL in browsers, so there is no extra file for bundlers to find. It instantiates the
 * threads build over the shared memory, then loops: wait for a new generation, step its element
 * range, report. Offsets and phases are control.ts's, written into the string.
 */
export const WORKER_SOURCE = `
'use strict';
const SPIN = 20000;
const GENERATION = ${CONTROL.generation}, PENDING = ${CONTROL.pending}, STOP = ${CONTROL.stop}, FAILED = ${CONTROL.failed};
const WITH_STATS = ${CONTROL.withStats}, STALLED_BELOW = ${CONTROL.stalledBelow};
const PHASE_WORD = ${STATUS.phase}, SEEN = ${STATUS.seen}, HEARTBEAT = ${STATUS.heartbeat};
const AWAKE = ${phase('awake, waiting for a step')}, ASLEEP = ${phase('asleep, waiting for a step')}, STEPPING = ${phase('stepping')};
const REPORTING = ${phase('reporting')}, STOPPED = ${phase('stopped')};
const isNode = typeof process === 'object' && process.versions != null && process.versions.node != null;
let port;
if (isNode) {
  // Not require() alone: a worker inherits the process's flags, and under --input-type=module
  // this string runs as an ES module, where require is undefined (and Node before 20.16 has no
  // getBuiltinModule). The port queues the init message until the listener is on.
  const wt = typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:worker_threads')
    : typeof require === 'function' ? require('node:worker_threads') : null;
  const withPort = (m) => { port = m.parentPort; port.once('message', start); };
  if (wt) withPort(wt);
  else import('node:worker_threads').then(withPort);
} else {
  port = { postMessage: (m) => self.postMessage(m) };
  self.onmessage = (e) => { self.onmessage = null; start(e.data); };
}
async function start(init) {
  let exports;
  try {
    const { module, memory } = init;
    const imports = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      let value;
      if (imp.kind === 'memory') value = memory;
      else if (imp.name === '__wbindgen_init_externref_table') value = () => {
        const t = exports.__wbindgen_externrefs;
        t.set(0, undefined); t.set(1024, undefined); t.set(1025, null); t.set(1026, true); t.set(1027, false);
      };
      else throw new Error('unexpected import ' + imp.module + '.' + imp.name);
      (imports[imp.module] = imports[imp.module] || {})[imp.name] = value;
    }
    exports = (await WebAssembly.instantiate(module, imports)).exports;
    exports.__wbindgen_start(init.stackSize);
    port.postMessage({ ready: true });
  } catch (e) {
    port.postMessage({ error: String(e && e.stack || e) });
    return;
  }
  const ctl = new Int32Array(init.memory.buffer, init.control, init.controlWords);
  try {
    loop(exports, ctl, init);
  } finally {
    // When the loop ends by an exception (not by terminate(), which runs no finally), say so
    // where a caller blocked in a step looks: it cannot see this worker's exit event until it
    // returns to its event loop. A terminated worker is found by its stopped heartbeat.
    Atomics.store(ctl, init.status + PHASE_WORD, STOPPED);
    Atomics.notify(ctl, PENDING);
  }
}
function loop(x, ctl, init) {
  const bits = new Float32Array(ctl.buffer, init.control + STALLED_BELOW * 4, 1);
  const status = init.status;
  // Not Atomics.load: the first step may have been signalled already, before this line ran.
  let seen = 0;
  for (;;) {
    // Spin a little before sleeping: a training loop's next step often comes soon, and waking
    // a sleeping thread costs tens of microseconds (more in a VM, where the core halts).
    Atomics.store(ctl, status + PHASE_WORD, AWAKE);
    for (let spin = 0; spin < SPIN && Atomics.load(ctl, GENERATION) === seen; spin++);
    Atomics.store(ctl, status + PHASE_WORD, ASLEEP);
    // Only a new generation ends the wait, never a wake-up alone: the caller publishes a step,
    // then wakes the workers, and if it is descheduled in between, this worker may spin into
    // the step, finish it and sleep again before that wake-up arrives. Trusting it stepped the
    // range twice and drove PENDING below zero (the step then waited 60 s). The 100 ms slices
    // are a second line of defence against a wake-up that never comes.
    // Each slice also beats the heart: a caller waiting on this worker sees it alive.
    while (Atomics.load(ctl, GENERATION) === seen) {
      Atomics.wait(ctl, GENERATION, seen, 100);
      Atomics.add(ctl, status + HEARTBEAT, 1);
    }
    seen = Atomics.load(ctl, GENERATION);
    Atomics.store(ctl, status + SEEN, seen);
    if (Atomics.load(ctl, STOP) !== 0) return;
    Atomics.store(ctl, status + PHASE_WORD, STEPPING);
    Atomics.add(ctl, status + HEARTBEAT, 1);
    try {
      if (Atomics.load(ctl, WITH_STATS) !== 0) {
        x.step_stats(init.tensors, init.nTensors, init.groups, init.nGroups, init.begin, init.end, init.stats, bits[0]);
      } else {
        x.step(init.tensors, init.nTensors, init.groups, init.nGroups, init.begin, init.end);
      }
    } catch (e) {
      Atomics.store(ctl, FAILED, 1);
    }
    Atomics.store(ctl, status + PHASE_WORD, REPORTING);
    Atomics.add(ctl, status + HEARTBEAT, 1);
    if (Atomics.sub(ctl, PENDING, 1) === 1) Atomics.notify(ctl, PENDING);
  }
}
`;
