/**
 * The live demo (examples/live-demo), built as `npm run demo` builds it and driven in headless
 * Chromium: it loads cleanly, trains, draws every chart, takes the reader's settings, runs on
 * threads when cross-origin isolated and on one thread when not, and its worker's params after
 * 200 steps are the bits the same session gives in Node. It also writes docs/demo.png, the
 * README's screenshot. No timing is asserted.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from './packaging/browser.js';

interface Served {
  url: string;
  close(): Promise<void>;
}
interface Status {
  ready: boolean;
  running: boolean;
  step: number;
  frames: number;
  build: string;
  threads: number;
  isolated: boolean;
  tuned: { lr: number; rho: number; eps: number; initialAccDelta: number };
  totals: { steps: number; gradientMs: number; stepMs: number }[];
  errors: string[];
}
interface Session {
  step: number;
  trainStep(o?: { histogram?: boolean }): unknown;
  paramBytes(): Uint8Array[];
  dispose(): void;
}
interface DemoWindow {
  demo: {
    status: Status;
    digest(): Promise<{ step: number; digests: string[] }>;
    charts(): Record<string, { points: number; inked: boolean }>;
  };
}

// The example's plain .mjs modules, without type declarations.
const importMjs = (path: string) => import(/* @vite-ignore */ new URL(path, import.meta.url).href) as Promise<Record<string, unknown>>;

const STEPS = 200;
let browser: Browser;
const servers: Served[] = [];

async function serve(isolation: boolean): Promise<Served> {
  const { serveDemo } = (await importMjs('../examples/live-demo/serve.mjs')) as { serveDemo(o: { isolation: boolean }): Promise<Served> };
  const served = await serveDemo({ isolation });
  servers.push(served);
  return served;
}

/** Opens the demo and waits until its worker is ready; `problems` collects page and console errors. */
async function open(url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as DemoWindow).demo?.status.ready || (window as unknown as DemoWindow).demo?.status.errors.length > 0, undefined, { timeout: 60_000 });
  return { page, problems };
}

const status = (page: Page) => page.evaluate(() => ({ ...(window as unknown as DemoWindow).demo.status }));

/** Waits until the worker reports it stopped at `step`. */
async function trainedTo(page: Page, step: number): Promise<Status> {
  await page.waitForFunction((s) => {
    const st = (window as unknown as DemoWindow).demo.status;
    return (st.step >= s && !st.running) || st.errors.length > 0;
  }, step, { timeout: 120_000, polling: 100 });
  return status(page);
}

/** The same session as the page's worker, in Node, `steps` steps: each arm's params' SHA-256. */
async function nodeDigests(steps: number): Promise<string[]> {
  const { loadMnist } = (await importMjs('../examples/lr-study/mnist-files.mjs')) as { loadMnist(sizes: object, random: () => number): unknown };
  const { mulberry32 } = (await importMjs('../examples/lr-study/prng.mjs')) as { mulberry32(seed: number): () => number };
  const { RUN, createSession } = (await importMjs('../examples/live-demo/src/session.mjs')) as {
    RUN: { seed: number };
    createSession(data: unknown, o: object): Promise<Session>;
  };
  const session = await createSession(loadMnist(RUN, mulberry32(RUN.seed)), { threads: 1 });
  try {
    // The page draws a histogram now and then, whenever a frame is due: it must not change a bit.
    for (let s = 0; s < steps; s++) session.trainStep({ histogram: s % 7 === 0 });
    return session.paramBytes().map((bytes) => createHash('sha256').update(bytes).digest('hex'));
  } finally {
    session.dispose();
  }
}

beforeAll(async () => {
  const { buildDemo } = (await importMjs('../examples/live-demo/build.mjs')) as { buildDemo(): Promise<string> };
  await buildDemo();
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
});

describe('the live demo, cross-origin isolated (as `npm run demo` serves it)', () => {
  let page: Page;
  let problems: string[];
  let nodeSide: string[];

  beforeAll(async () => {
    nodeSide = await nodeDigests(STEPS);
    const served = await serve(true);
    ({ page, problems } = await open(`${served.url}?stopAt=${STEPS}&threads=2`));
  }, 120_000);

  it('loads with no console errors, ready to start', async () => {
    const s = await status(page);
    expect(s.errors).toEqual([]);
    expect(s.ready).toBe(true);
    expect(s.step).toBe(0);
    expect(problems).toEqual([]);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  });

  it(`trains ${STEPS} steps on Start, on 2 threads, with the params Node gets from the same session bit for bit`, async () => {
    await page.getByRole('button', { name: 'Start' }).click();
    const s = await trainedTo(page, STEPS);
    expect(s.errors).toEqual([]);
    expect(s.step).toBe(STEPS);
    expect(s.isolated).toBe(true);
    expect(s.threads).toBe(2);
    expect(['simd', 'plain']).toContain(s.build);
    const browserSide = await page.evaluate(() => (window as unknown as DemoWindow).demo.digest());
    expect(browserSide.step).toBe(STEPS);
    expect(browserSide.digests).toEqual(nodeSide);
    expect(new Set(browserSide.digests).size).toBe(3); // three arms that really differ
    // For the record, not asserted: what the page measured over those steps.
    const totals = await page.evaluate(() => (window as unknown as DemoWindow).demo.status.totals);
    console.log(
      `demo, ${s.build} on ${s.threads} threads: ` +
        totals.map((t) => `${Math.round(t.steps / ((t.gradientMs + t.stepMs) / 1000))} steps/s, opt.step ${((100 * t.stepMs) / (t.gradientMs + t.stepMs)).toFixed(1)}%`).join('; '),
    );
  });

  it('has drawn data on every chart, and a guess under every digit', async () => {
    await page.waitForFunction(() => Object.values((window as unknown as DemoWindow).demo.charts()).every((c) => c.points > 0 && c.inked), undefined, { timeout: 10_000 });
    const charts = await page.evaluate(() => (window as unknown as DemoWindow).demo.charts());
    expect(Object.keys(charts).sort()).toEqual(['accuracy', 'histogram', 'loss', 'rate', 'stalled']);
    const guesses = await page.locator('.digit .guess').allTextContents();
    expect(guesses.length).toBe(36);
    for (const g of guesses) expect(g).toMatch(/^.\d✗?$/);
    // The per-arm step rate and the optimizer's share of a step are on the page.
    for (const id of ['adadelta-lr1', 'adadelta-lr0.001', 'tuned']) {
      expect(await page.locator(`#rate-${CSS_ESCAPE(id)}`).textContent()).toMatch(/steps\/s · opt\.step \d+\.\d%/);
    }
  });

  it("passes a slider change to the worker, which applies it to the tuned arm's optimizer", async () => {
    const before = (await status(page)).tuned;
    const slider = page.getByLabel('lr', { exact: true });
    await slider.focus();
    await page.keyboard.press('ArrowLeft'); // one notch down: 10^-0.1
    const shown = Number(await page.locator('#slider-lr-value').textContent());
    expect(shown).toBeCloseTo(10 ** -0.1, 2);
    await page.waitForFunction((lr) => Math.abs((window as unknown as DemoWindow).demo.status.tuned.lr - lr) < 1e-9, 10 ** -0.1, { timeout: 10_000 });
    const after = (await status(page)).tuned;
    expect(after).toEqual({ ...before, lr: expect.closeTo(10 ** -0.1, 12) });
  });

  it('leaves a screenshot for the README (docs/demo.png), still without errors', async () => {
    await page.waitForTimeout(300); // the redraw of the last frame
    writeFileSync(new URL('../docs/demo.png', import.meta.url), await page.screenshot({ fullPage: true }));
    expect((await status(page)).errors).toEqual([]);
    expect(problems).toEqual([]);
  });
});

describe('the live demo without COOP/COEP (serve.mjs --no-isolation)', () => {
  it('trains on one thread', async () => {
    const served = await serve(false);
    const { page, problems } = await open(`${served.url}?stopAt=10&threads=2`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    await page.getByRole('button', { name: 'Start' }).click();
    const s = await trainedTo(page, 10);
    expect(s.errors).toEqual([]);
    expect(s.isolated).toBe(false);
    expect(s.threads).toBe(1);
    expect(s.step).toBe(10);
    expect(problems).toEqual([]);
    await page.close();
  });
});

function CSS_ESCAPE(id: string): string {
  return id.replace(/\./g, '\\.');
}
