/** threads: a worker pool over one shared memory gives the same bits as one thread. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { Adadelta, AdadeltaError } from '../dist/index.js';
// The tests of failures the public API cannot cause reach the pool through its seams, so they
// run the library from source, where the seams module is the one the pool reads.
import { Adadelta as SourceAdadelta, AdadeltaError as SourceAdadeltaError } from '../ts/index.js';
import { poolHooks } from '../ts/threads/hooks.js';

/** Creates a source optimizer and returns it with a way to end each of its workers. */
async function withWorkerKillers(length: number, threads: number): Promise<{ opt: SourceAdadelta; kill: (() => Promise<unknown> | void)[] }> {
  const kill: (() => Promise<unknown> | void)[] = [];
  poolHooks.workerStarted = (terminate) => kill.push(terminate);
  try {
    return { opt: await SourceAdadelta.create([length], { threads }), kill };
  } finally {
    delete poolHooks.workerStarted;
  }
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Asks for 2 threads where they cannot run: one thread it must be, and it must step. */
async function expectOneWorkingThread(length: number): Promise<void> {
  const opt = await Adadelta.create([length], { threads: 2 });
  expect(opt.threads).toBe(1);
  opt.params[0]!.grad.fill(1);
  opt.step();
  expect(opt.params[0]!.data[0]).toBeLessThan(0);
  opt.dispose();
}

let seed = 99;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;

const f = Math.fround;

/** The rule README's Threads section states for threads: 'auto': the cores, but no more threads
 * than there are 65,536-element shares (at least one). */
const AUTO_SHARE = 65_536;
const autoThreads = (total: number, cores: number) => Math.max(1, Math.min(cores, Math.ceil(total / AUTO_SHARE)));

describe('threads', () => {
  it('is bit-identical to one thread, across groups, ragged lengths, stats and stepAsync', async () => {
    const sizes = [[3, 70001], [1], [12345, 9]];
    const init = sizes.map((g) => g.map((n) => Float32Array.from({ length: n }, rand)));
    const groups = init.map((params, g) => ({ params, lr: [1, 0.5, 2][g], rho: [0.9, 0.5, 0.99][g], weightDecay: [0, 0.01, 0][g], maximize: g === 2 }));
    const one = await Adadelta.create(groups, { threads: 1 });
    const many = await Adadelta.create(groups, { threads: 3 });
    expect(one.threads).toBe(1);
    expect(many.threads).toBe(3);
    for (let t = 0; t < 6; t++) {
      one.params.forEach((p, i) => {
        const g = Float32Array.from({ length: p.length }, () => rand() * 10 ** (t - 3));
        p.grad.set(g);
        many.params[i]!.grad.set(g);
      });
      const options = { stats: t % 2 === 0, stalledBelow: 1e-3 };
      if (t < 3) {
        one.step(options);
        many.step(options);
      } else {
        await one.stepAsync(options);
        await many.stepAsync(options);
      }
      one.params.forEach((p, i) => {
        expect(bytesOf(many.params[i]!.data)).toEqual(bytesOf(p.data));
        const [a, b] = [one.state(i), many.state(i)];
        expect(bytesOf(b.squareAvg)).toEqual(bytesOf(a.squareAvg));
        expect(bytesOf(b.accDelta)).toEqual(bytesOf(a.accDelta));
        expect(b.step).toBe(a.step);
      });
      if (options.stats) {
        // Counts, extremes and stalled fractions merge exactly across threads; sums to rounding.
        const [a, b] = [one.stats(), many.stats()];
        a.forEach((s, g) => {
          expect(b[g]!.count).toBe(s.count);
          expect(b[g]!.effectiveLr.min).toBe(s.effectiveLr.min);
          expect(b[g]!.effectiveLr.max).toBe(s.effectiveLr.max);
          expect(b[g]!.stalledFraction).toBe(s.stalledFraction);
          expect(b[g]!.nonFinite).toBe(s.nonFinite);
          expect(Math.abs(b[g]!.updateRms / s.updateRms - 1)).toBeLessThan(1e-5);
          // Quantiles merge three histograms. Each thread samples every 64th element of its own
          // range, so the samples differ a little from one thread's: within two bins (25%).
          for (const key of ['p10', 'median', 'p90'] as const) {
            expect(Math.abs(Math.log(b[g]!.effectiveLr[key] / s.effectiveLr[key])), `group ${g} ${key}`).toBeLessThan(Math.log(1.25));
          }
        });
      }
    }
    one.dispose();
    many.dispose();
  });

  // A step publishes its generation, then wakes the workers. If the calling thread is
  // descheduled in between, a spinning worker may take the step, finish it and sleep again
  // before the wake-up arrives: that late wake-up must not make it take the same step twice (it
  // did: the range stepped twice and the step waited 60 s for a count that had gone below zero).
  it('a wake-up that arrives after the worker took its step does not make it step again', async () => {
    const init = Float32Array.from({ length: 8192 }, rand);
    const one = await SourceAdadelta.create([init], { threads: 1 });
    const two = await SourceAdadelta.create([init], { threads: 2 });
    expect(two.threads).toBe(2);
    // The calling thread stalls 2 ms between publishing each step and waking the worker.
    poolHooks.beforeWake = () => {
      for (const until = performance.now() + 2; performance.now() < until; );
    };
    onTestFinished(() => {
      delete poolHooks.beforeWake;
    });
    for (let t = 0; t < 30; t++) {
      const g = Float32Array.from({ length: init.length }, rand);
      one.params[0]!.grad.set(g);
      two.params[0]!.grad.set(g);
      // Back to back, so that the worker still spins when the second step is published.
      two.step();
      two.step();
      one.step();
      one.step();
      expect(bytesOf(two.params[0]!.data)).toEqual(bytesOf(one.params[0]!.data));
    }
    one.dispose();
    two.dispose();
  });

  it("merges the threads' histograms: the quantiles see every thread's range", async () => {
    // Thirds of the elements with g = 0, 10 and 1000 have first-step rates 1, about 3e-4 and
    // about 3e-6. With three threads each range holds one third, and p90, the median and p10
    // each come from a different thread's histogram: dropping any one would move a quantile.
    const n = 3 * 65536;
    const rate = (g: number) => f(Math.sqrt(f(f(1e-6) / f(f(f(f(0.1) * g) * g) + f(1e-6)))));
    for (const threads of [1, 3]) {
      const opt = await Adadelta.create([n], { threads });
      expect(opt.threads).toBe(threads);
      opt.params[0]!.grad.fill(0).fill(10, n / 3).fill(1000, (2 * n) / 3);
      opt.step({ stats: true });
      const { effectiveLr } = opt.stats()[0]!;
      expect([effectiveLr.min, effectiveLr.max]).toEqual([rate(1000), 1]);
      expect(Math.abs(Math.log(effectiveLr.p10 / rate(1000)))).toBeLessThan(Math.log(9 / 8) / 2);
      expect(Math.abs(Math.log(effectiveLr.median / rate(10)))).toBeLessThan(Math.log(9 / 8) / 2);
      expect(effectiveLr.p90).toBe(1);
      opt.dispose();
    }
  });

  it("'auto' uses the cores, but no more threads than 65,536-element shares (faked 2 and 8 cores)", async () => {
    const os = (await import('node:os')).default;
    for (const cores of [2, 8]) {
      const spy = vi.spyOn(os, 'availableParallelism').mockReturnValue(cores);
      try {
        for (const total of [5, AUTO_SHARE, AUTO_SHARE + 1, 1e5, 3 * AUTO_SHARE + 1, 9 * AUTO_SHARE]) {
          const auto = await Adadelta.create([total], { threads: 'auto' });
          expect(auto.threads, `${total} elements, ${cores} cores`).toBe(autoThreads(total, cores));
          auto.dispose();
        }
      } finally {
        spy.mockRestore();
      }
    }
    // Not vacuous: the rule gives different counts for the two machines.
    expect(autoThreads(9 * AUTO_SHARE, 8)).toBe(8);
    expect(autoThreads(9 * AUTO_SHARE, 2)).toBe(2);
    const tiny = await Adadelta.create([5], { threads: 4 });
    expect(tiny.threads).toBe(1);
    tiny.dispose();
  });

  it("'auto' counts the cores on Node before 20.16 (no process.getBuiltinModule), faked 2 and 8", () => {
    // A child process, because the count is read once per process there. It runs as Node 20.0
    // does: no getBuiltinModule, no navigator; only the diagnostic report lists the CPUs.
    for (const cores of [2, 8]) {
      const script = `
        delete process.getBuiltinModule;
        delete globalThis.navigator;
        const getReport = process.report.getReport.bind(process.report);
        process.report.getReport = () => { const r = getReport(); r.header.cpus = r.header.cpus.slice(0, 1).concat(Array(${cores} - 1).fill(r.header.cpus[0])); return r; };
        const { Adadelta } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
        const opt = await Adadelta.create([${9 * AUTO_SHARE}], { threads: 'auto' });
        opt.params[0].grad.fill(1);
        opt.step();
        console.log(JSON.stringify({ threads: opt.threads, p: opt.params[0].data[${9 * AUTO_SHARE - 1}] }));
        opt.dispose();
      `;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout) as { threads: number; p: number };
      expect(out.threads).toBe(cores);
      // The last range, a worker's, stepped.
      expect(out.p).toBeLessThan(0);
    }
  });

  it('a pause of the whole process (SIGSTOP, a frozen container) does not make a live worker look dead', async () => {
    // The caller's range is one tensor of 2e5 elements, the worker's 2e5 tensors of one element:
    // per-tensor work makes the worker's range about 20 times slower, so steps run back to back
    // spend most of their time with the worker running its range (where it cannot beat) and
    // the caller waiting, and that is where each pause lands. On resume the wall clock has
    // jumped 1.5 s, and the step must go on. (Counting silence in wall-clock time failed only
    // where the caller had already looked once within the step, so in steps over 100 ms, which
    // need some 1e8 elements: this guards the pause path, not that exact window.)
    const script = `
      const { Adadelta } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const opt = await Adadelta.create([200_000, ...Array(200_000).fill(1)], { threads: 2 });
      for (const p of opt.params) p.grad.fill(1);
      console.log('ready');
      const until = Date.now() + 7000;
      let steps = 0;
      while (Date.now() < until) { opt.step(); steps++; }
      console.log(JSON.stringify({ threads: opt.threads, steps, ok: opt.state(0).step === steps && opt.state(200_000).step === steps }));
      opt.dispose();
    `;
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    while (!stdout.includes('ready') && child.exitCode === null) await sleep(20);
    for (let pause = 0; pause < 2; pause++) {
      await sleep(400);
      child.kill('SIGSTOP');
      await sleep(1500);
      child.kill('SIGCONT');
    }
    const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout.split('\n')[1]!) as { threads: number; steps: number; ok: boolean };
    expect(result).toEqual({ threads: 2, steps: expect.any(Number), ok: true });
  });

  it('falls back to one thread without SharedArrayBuffer, or with the plain build', async () => {
    const saved = globalThis.SharedArrayBuffer;
    // As on a browser page that is not cross-origin isolated.
    delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer;
    try {
      await expectOneWorkingThread(1000);
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
    const plain = await Adadelta.create([1000], { threads: 2, build: 'plain' });
    expect(plain.threads).toBe(1);
    expect(plain.build).toBe('plain');
    plain.dispose();
  });

  it('rejects a bad thread count', async () => {
    for (const threads of [0, -1, 1.5, NaN, '2', null, 257]) {
      await expect(Adadelta.create([8], { threads: threads as never })).rejects.toThrow(/defaults\.threads/);
    }
  });

  it('keeps a program alive through stepAsync(), and not after it, when the optimizer is never disposed', () => {
    // A child process, because the test runner itself keeps its event loop busy.
    const script = `
      const { Adadelta } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const opt = await Adadelta.create([1e5], { threads: 2 });
      opt.params[0].grad.fill(1);
      opt.step();
      for (let i = 0; i < 50; i++) await opt.stepAsync();
      console.log('stepped', opt.state(0).step, 'times on', opt.threads, 'threads');`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('stepped 51 times on 2 threads');
    // null with a signal if the timeout had to kill it.
    expect(run.status).toBe(0);
  });

  it('dispose() ends the workers', async () => {
    const osThreads = () => readdirSync('/proc/self/task').length;
    // Earlier tests' workers end asynchronously: wait until the count stops falling.
    const settle = async () => {
      let last = osThreads();
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 40));
        const now = osThreads();
        if (now === last) return now;
        last = now;
      }
      return last;
    };
    const before = await settle();
    const opt = await Adadelta.create([1e5], { threads: 3 });
    expect(osThreads()).toBeGreaterThanOrEqual(before + 2);
    opt.dispose();
    for (let i = 0; i < 100 && osThreads() > before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(osThreads()).toBeLessThanOrEqual(before);
    expect(() => opt.step()).toThrow(AdadeltaError);
  });

  it('a worker that dies makes the next step throw AdadeltaError instead of hanging, leaving state as it was', async () => {
    const { opt, kill } = await withWorkerKillers(1e5, 2);
    opt.params[0]!.grad.fill(1);
    opt.step();
    const before = bytesOf(opt.params[0]!.data).slice();
    const stateBefore = opt.state(0);
    await kill[0]!();
    expect(() => opt.step()).toThrow(SourceAdadeltaError);
    expect(() => opt.step()).toThrow(/worker/);
    await expect(opt.stepAsync()).rejects.toThrow(SourceAdadeltaError);
    expect(bytesOf(opt.params[0]!.data)).toEqual(before);
    expect(opt.state(0).step).toBe(stateBefore.step);
    opt.dispose();
  });
});

describe('a worker that dies before a clipping pass', () => {
  // The failed pass read the gradients only; the step refused after it started nothing. The
  // pool's in-step flag stayed set from the failed pass, and the refused step marked the
  // state torn: saveState() then threw on a state no step had touched.
  it('leaves the state whole and saveable: only the pool is broken', async () => {
    const { opt, kill } = await withWorkerKillers(1e5, 2);
    opt.params[0]!.grad.fill(1);
    opt.step();
    const saved = opt.saveState();
    await kill[0]!();
    expect(() => opt.clipGradNorm(1)).toThrow(/worker/);
    expect(() => opt.step()).toThrow(/cannot step any more/);
    expect(opt.saveState()).toEqual(saved);
    expect(opt.state(0).step).toBe(1);
    opt.dispose();
  });
});

describe('a worker that dies behind the optimizer\'s back', () => {
  it('is noticed by a synchronous step from its silent heartbeat, not by the 60 s timeout', async () => {
    const { opt, kill } = await withWorkerKillers(1e5, 2);
    opt.params[0]!.grad.fill(1);
    opt.step();
    const osThreads = () => readdirSync('/proc/self/task').length;
    const alive = osThreads();
    // Not awaited, and no await until the step: the worker's exit event cannot be delivered, as
    // when a resource limit or a crash ends it while the caller is busy. Wait (synchronously)
    // until its OS thread is gone.
    void kill[0]!();
    for (let i = 0; i < 5_000_000 && osThreads() >= alive; i++);
    expect(osThreads()).toBeLessThan(alive);
    // Killed after its first step, it never took the second.
    expect(() => opt.step()).toThrow(/worker 1 is dead: no heartbeat for \d+ ms while [a-z, ]+ \(last took step 1 of 2\)/);
    expect(() => opt.step()).toThrow(/worker thread failed/);
    // The calling thread had stepped its own range: the state says it is torn.
    expect(() => opt.state(0)).toThrow(/incomplete/);
    opt.dispose();
  }, 30_000);
});

describe('dispose() with threads', () => {
  /** Peak RSS (MB) of a child process that creates, steps and disposes optimizers of 1e7 params
   * in turn, one alive at a time, and never calls gc(). */
  const peakRss = (threads: number) => {
    const script = `
      const { Adadelta } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      for (let cycle = 0; cycle < 8; cycle++) {
        const opt = await Adadelta.create([1e7], { threads: ${threads} });
        opt.params[0].grad.fill(1);
        opt.step();
        opt.dispose();
      }
      console.log(Math.round(process.resourceUsage().maxRSS / 1024));
      process.exit(0);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toBe('');
    return Number(run.stdout.trim());
  };

  it('gives the memory back: create/step/dispose cycles peak within 1.5x of one thread\'s', () => {
    // Each optimizer holds 160 MB. Before, every disposed shared memory stayed until some GC
    // that nothing triggered: 8 cycles held all 8 (1.3 GB against one thread's 0.3 GB).
    const [one, two] = [peakRss(1), peakRss(2)];
    expect(two).toBeLessThan(1.5 * one);
  });
});

describe('stepAsync with threads', () => {
  it('refuses other state access until it settles', async () => {
    const opt = await Adadelta.create([1e5], { threads: 2 });
    opt.params[0]!.grad.fill(1);
    const pending = opt.stepAsync();
    expect(() => opt.saveState()).toThrow(/stepAsync/);
    expect(() => opt.step()).toThrow(/stepAsync/);
    expect(() => opt.state(0)).toThrow(AdadeltaError);
    // Workers read the group record during the step: hyperparameters wait too.
    expect(() => {
      opt.paramGroups[0]!.lr = 0.5;
    }).toThrow(/stepAsync/);
    await pending;
    expect(opt.paramGroups[0]!.lr).toBe(1);
    expect(opt.state(0).step).toBe(1);
    opt.dispose();
  });
});

describe('workers that cannot start', () => {
  it('fall back to one thread, as a page without shared memory does', async () => {
    const proc = process as unknown as { getBuiltinModule: (id: string) => unknown };
    const original = proc.getBuiltinModule;
    proc.getBuiltinModule = (id: string) => {
      if (id === 'node:worker_threads') {
        return { Worker: class { constructor() { throw new Error('workers are forbidden here'); } } };
      }
      return original.call(process, id);
    };
    try {
      await expectOneWorkingThread(1e5);
    } finally {
      proc.getBuiltinModule = original;
    }
  });
});
