/**
 * The worker's code, as a string: started with `eval: true` in Node's worker_threads and from
 * a Blob URL in browsers, so there is no extra file for bundlers to find. It instantiates the
 * threads build over the shared memory, then loops: wait for a new generation, step its element
 * range, report. Offsets are CONTROL's in control.ts.
 */
export const WORKER_SOURCE = `
'use strict';
const GENERATION = 0, PENDING = 1, STOP = 2, FAILED = 3, WITH_STATS = 4, STALLED_BELOW = 5;
const isNode = typeof process === 'object' && process.versions != null && process.versions.node != null;
let port;
if (isNode) {
  port = require('node:worker_threads').parentPort;
  port.once('message', start);
} else {
  port = { postMessage: (m) => self.postMessage(m) };
  self.onmessage = (e) => { self.onmessage = null; start(e.data); };
}
async function start(init) {
  try {
    const { module, memory } = init;
    let exports;
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
    loop(exports, memory, init);
  } catch (e) {
    port.postMessage({ error: String(e && e.stack || e) });
  }
}
function loop(x, memory, init) {
  const ctl = new Int32Array(memory.buffer, init.control, 8);
  const bits = new Float32Array(ctl.buffer, init.control + STALLED_BELOW * 4, 1);
  // Not Atomics.load: the first step may have been signalled already, before this line ran.
  let seen = 0;
  for (;;) {
    // No spinning here: a worker spinning while the caller also spins before it sleeps was seen
    // to stop answering after some thousands of steps (Node 20); the caller's spin is enough.
    Atomics.wait(ctl, GENERATION, seen);
    seen = Atomics.load(ctl, GENERATION);
    if (Atomics.load(ctl, STOP) !== 0) return;
    try {
      if (Atomics.load(ctl, WITH_STATS) !== 0) {
        x.step_stats(init.tensors, init.nTensors, init.groups, init.nGroups, init.begin, init.end, init.stats, bits[0]);
      } else {
        x.step(init.tensors, init.nTensors, init.groups, init.nGroups, init.begin, init.end);
      }
    } catch (e) {
      Atomics.store(ctl, FAILED, 1);
    }
    if (Atomics.sub(ctl, PENDING, 1) === 1) Atomics.notify(ctl, PENDING);
  }
}
`;
