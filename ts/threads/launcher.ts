/**
 * Starting one worker thread, in Node (worker_threads, `eval: true`) or a browser (a module-less
 * Web Worker from a Blob URL), behind one small adapter, so the start protocol is written once:
 * post the init message, resolve on `{ ready }`, reject on `{ error }` or an early exit, and
 * after the start report any failure to the pool.
 */
import { AdadeltaError } from '../errors.js';
import { nodeBuiltin } from '../node-builtin.js';
import { WORKER_SOURCE } from './worker-source.js';
import type { WorkerInit } from './worker-main.js';

/** A started worker, as the pool sees it. */
export interface WorkerHandle {
  /** Ends the thread; the promise (Node) settles when it is gone. */
  terminate(): Promise<unknown> | void;
  /** Drops every handler, so the worker no longer holds the pool (and its memory). */
  detach(): void;
}

/** What differs between Node's and the Web's workers. */
interface Platform {
  spawn(): {
    worker: WorkerHandle;
    post(message: unknown): void;
    onMessage(cb: (message: unknown) => void): void;
    /** An error in the worker, or its exit (with an exit code, Node only). */
    onError(cb: (message: string) => void): void;
    onExit(cb: (code: number) => void): void;
    /** Called once the worker answered ready. */
    started(): void;
  };
}

type NodeWorker = {
  postMessage(message: unknown): void;
  on(event: string, cb: (arg: unknown) => void): void;
  removeAllListeners(): void;
  unref(): void;
  terminate(): Promise<number>;
};
type WorkerThreads = { Worker: new (code: string, options: { eval: true }) => NodeWorker };

function nodePlatform(wt: WorkerThreads): Platform {
  return {
    spawn() {
      const worker = new wt.Worker(WORKER_SOURCE, { eval: true });
      return {
        worker: {
          terminate: () => worker.terminate(),
          detach() {
            // A no-op 'error' handler keeps a late error from throwing.
            worker.removeAllListeners();
            worker.on('error', () => {});
          },
        },
        post: (m) => worker.postMessage(m),
        onMessage: (cb) => worker.on('message', cb),
        onError: (cb) => worker.on('error', (e) => cb((e as Error).message)),
        onExit: (cb) => worker.on('exit', (code) => cb(code as number)),
        // A finished program must not wait for its workers (dispose() also ends them). Not
        // before now: the start must keep the process alive, and a listener added after
        // unref() refs the worker's port again.
        started: () => worker.unref(),
      };
    },
  };
}

const webPlatform: Platform = {
  spawn() {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new Worker(url);
    return {
      worker: {
        terminate: () => worker.terminate(),
        detach() {
          worker.onmessage = null;
          worker.onerror = null;
        },
      },
      post: (m) => worker.postMessage(m),
      onMessage: (cb) => {
        worker.onmessage = (e: MessageEvent) => {
          // The script has loaded by the time it answers: the URL can go.
          URL.revokeObjectURL(url);
          cb(e.data);
        };
      },
      onError: (cb) => {
        worker.onerror = (e: ErrorEvent) => cb(e.message);
      },
      onExit: () => {},
      started: () => {},
    };
  },
};

/** The platform's worker launcher: Node's worker_threads where present, else Web Workers. */
export async function workerLauncher(): Promise<(init: WorkerInit, failed: (reason: string) => void) => { worker: WorkerHandle; ready: Promise<void> }> {
  const wt = (await nodeBuiltin('node:worker_threads')) as WorkerThreads | undefined;
  const platform = wt ? nodePlatform(wt) : webPlatform;
  return (init, failed) => {
    const w = platform.spawn();
    let ready = false;
    const started = new Promise<void>((resolve, reject) => {
      w.onMessage((m) => {
        const msg = m as { ready?: boolean; error?: string };
        if (msg.ready) {
          ready = true;
          w.started();
          resolve();
        } else if (msg.error) {
          reject(new AdadeltaError(`a worker could not start: ${msg.error}`, 'threads'));
        }
      });
      w.onError((message) => {
        failed(`worker error: ${message}`);
        if (!ready) reject(new AdadeltaError(`a worker could not start: ${message}`, 'threads'));
      });
      w.onExit((code) => {
        failed(`worker exited with code ${code}`);
        if (!ready) reject(new AdadeltaError(`a worker exited before it started (code ${code})`, 'threads'));
      });
    });
    w.post(init);
    return { worker: w.worker, ready: started };
  };
}
