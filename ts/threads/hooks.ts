/**
 * Seams for the thread tests, which import this module from source (test/threads.test.ts).
 * The library never sets them; each is one property read where it is consulted.
 */
export const poolHooks: {
  /** Called with each worker the pool starts: lets a test end one as if it had crashed. */
  workerStarted?: (terminate: () => Promise<unknown> | void) => void;
  /** Called between publishing a step and waking the workers: lets a test stand in for a
   * calling thread that the OS deschedules right there. */
  beforeWake?: () => void;
} = {};
