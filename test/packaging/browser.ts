/**
 * Headless Chromium (Debian's, installed by scripts/setup-browser.sh) driven by playwright-core,
 * and the page protocol of the browser fixtures: each page sets `window.ready` and exposes
 * `window.runTraining(options)`, which resolves to the training loop's result.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import type { TrainResult } from './fixtures/shared/training-loop.mjs';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Containers often give /dev/shm only 64 MB, which Chromium outgrows.
  '--disable-dev-shm-usage',
];

/**
 * V8 has no switch for wasm SIMD any more (it shipped), but on x86-64 it only offers simd128
 * with SSE4.1, so turning SSE4.1 off makes `WebAssembly.validate` reject SIMD modules.
 */
export const NO_SIMD_ARGS = ['--js-flags=--no-enable-sse4-1'];

export function launch(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, ...extraArgs] });
}

// The loader's SIMD probe (wasm-feature-detect's): valid only where wasm SIMD is available.
const SIMD_PROBE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11];

/** Whether this browser's engine accepts a wasm SIMD module. */
export async function browserHasSimd(browser: Browser): Promise<boolean> {
  const page = await browser.newPage();
  try {
    return await page.evaluate((bytes) => WebAssembly.validate(new Uint8Array(bytes)), SIMD_PROBE);
  } finally {
    await page.close();
  }
}

/** Counts the page's calls to streaming and byte-array wasm compilation (installed before any script). */
export const COUNT_WASM_COMPILES = `
  window.wasmCompiles = { streaming: 0, bytes: 0 };
  for (const [name, key] of [['compileStreaming', 'streaming'], ['instantiateStreaming', 'streaming'], ['compile', 'bytes'], ['instantiate', 'bytes']]) {
    const original = WebAssembly[name];
    if (typeof original !== 'function') continue;
    WebAssembly[name] = function (...args) {
      if (!(name === 'instantiate' && args[0] instanceof WebAssembly.Module)) window.wasmCompiles[key]++;
      return original.apply(this, args);
    };
  }
`;

export interface OpenedPage {
  page: Page;
  /** Page errors and console errors so far, for failure messages. */
  problems: string[];
}

/** Opens `url` and waits until its fixture script has loaded. */
export async function openFixture(browser: Browser, url: string, initScript?: string): Promise<OpenedPage> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  if (initScript !== undefined) await page.addInitScript(initScript);
  await page.goto(url);
  try {
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 30_000 });
  } catch (e) {
    throw new Error(`${url} did not load: ${(e as Error).message}\n${problems.join('\n')}`);
  }
  return { page, problems };
}

/** Runs the training loop in the page; a rejection comes back as `{ error }`. */
export async function trainInPage(page: Page, options: Record<string, unknown> = {}, how: { stepAsync?: boolean } = {}): Promise<TrainResult | { error: string }> {
  return page.evaluate(
    async ([o, h]) => {
      try {
        return await (window as unknown as { runTraining(o: unknown, h: unknown): Promise<TrainResult> }).runTraining(o, h);
      } catch (e) {
        return { error: `${(e as Error).name}: ${(e as Error).message}` };
      }
    },
    [options, how] as const,
  );
}
