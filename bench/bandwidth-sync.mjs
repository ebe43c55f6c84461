/** The handshake between the bandwidth probe's two threads, over one shared Int32Array. */
export const GEN = 0;
export const DONE = 1;
export const STOP = -1;

// Spin briefly before sleeping: a futex wake-up costs tens of microseconds, which would swamp
// the small sizes; spinning for longer would steal a core from the other measurements.
const SPIN_MS = 0.2;

/** Waits until `ctrl[index]` differs from `old` and returns the new value. */
export function waitForChange(ctrl, index, old) {
  const until = performance.now() + SPIN_MS;
  let value;
  while ((value = Atomics.load(ctrl, index)) === old) {
    if (performance.now() > until) Atomics.wait(ctrl, index, old, 50);
  }
  return value;
}
