/**
 * One tarball that works everywhere: `npm pack` the built package, install the tarball into
 * throwaway consumer projects and run each in its real runtime (Node ESM and CJS, tsc, a Vite
 * build and a bundler-free import-map page in headless Chromium). Every runtime runs the same
 * 50-step training loop (fixtures/shared/training-loop.mjs) and must produce the same bytes as
 * a pure-JS float32 reference. Takes a minute or two; needs /usr/bin/chromium (pretest installs it).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserHasSimd, COUNT_WASM_COMPILES, launch, NO_SIMD_ARGS, openFixture, trainInPage } from './browser.js';
import { installFixture, pack, run, type Packed } from './fixture-project.js';
import { toHex, train, type TrainResult } from './fixtures/shared/training-loop.mjs';
import { ReferenceAdadelta } from './reference.js';
import { serve, type StaticServer } from './static-server.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO, 'node_modules', '.bin');
const TARBALL_BUDGET = 150_000;
const WASM_BUDGET = 40_000;

let work: string;
let packed: Packed;
let reference: TrainResult;
/** What a runtime must report: the reference's bytes, from the given build. */
const expected = (build: 'simd' | 'plain') => ({ build, initial: reference.initial, params: reference.params });
const dirs: Record<string, string> = {};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'adadelta-packaging-'));
  packed = await pack(REPO, work);
  reference = await train(ReferenceAdadelta);
  // One at a time: concurrent npm installs contend for the same cache.
  for (const name of ['node-esm', 'node-cjs', 'typescript', 'vite-page', 'importmap-page']) {
    dirs[name] = await installFixture(name, work, packed.tarball);
  }
});

afterAll(() => {
  if (work !== undefined && process.env.KEEP_PACKAGING_FIXTURES === undefined) rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds the ESM and CJS builds, both type flavours and all three kernels, within the size budget', () => {
    const paths = packed.files.map((f) => f.path);
    for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/adadelta-simd.wasm', 'dist/adadelta-plain.wasm', 'dist/adadelta-threads.wasm']) {
      expect(paths).toContain(file);
    }
    const wasm = packed.files.filter((f) => f.path.endsWith('.wasm'));
    console.log(`tarball ${packed.size} bytes (budget ${TARBALL_BUDGET}); ${wasm.map((f) => `${f.path} ${f.size} bytes`).join(', ')} (budget ${WASM_BUDGET} each)`);
    expect(packed.size).toBeLessThan(TARBALL_BUDGET);
    for (const f of wasm) expect(f.size, f.path).toBeLessThan(WASM_BUDGET);
  });

  it('passes publint (warnings count as errors)', async () => {
    const { stdout } = await run(join(BIN, 'publint'), ['run', packed.tarball, '--strict']);
    expect(stdout).toContain('All good');
  });

  it('passes arethetypeswrong (strict profile: node10, node16 from CJS and ESM, bundler; every entry point)', async () => {
    // attw exits non-zero on any problem, which rejects with its report in the message.
    const { stdout } = await run(join(BIN, 'attw'), [packed.tarball, '--format', 'ascii', '--no-color']);
    expect(stdout).toContain('No problems found');
  });
});

describe('the float32 reference', () => {
  it('actually trains: the loop moves every param away from its initial bytes', () => {
    // Guards against a loop that does nothing, which every runtime would "match".
    expect(reference.params).toHaveLength(3);
    reference.params.forEach((hex, i) => expect(hex).not.toBe(reference.initial[i]));
    expect(toHex(new Float32Array([1, -2]))).toBe('0000803f000000c0');
  });
});

async function runNode(fixture: string, entry: string, options: object): Promise<TrainResult & { resolved: string; errorClass: boolean }> {
  const { stdout } = await run(process.execPath, [entry, JSON.stringify(options)], { cwd: dirs[fixture] });
  return JSON.parse(stdout);
}

describe('Node', () => {
  it.each([
    ['ESM (import)', 'node-esm', 'main.mjs', /node_modules\/adadelta-wasm\/dist\/index\.js$/],
    ['CJS (require)', 'node-cjs', 'main.cjs', /node_modules\/adadelta-wasm\/dist\/index\.cjs$/],
  ] as const)('%s: 50 steps equal the float32 reference bit for bit: SIMD, plain, and 2 threads', async (_, fixture, entry, resolved) => {
    const simd = await runNode(fixture, entry, {});
    expect(simd.resolved).toMatch(resolved);
    expect(simd.errorClass).toBe(true);
    expect({ build: simd.build, initial: simd.initial, params: simd.params }).toEqual(expected('simd'));
    const plain = await runNode(fixture, entry, { build: 'plain' });
    expect({ build: plain.build, initial: plain.initial, params: plain.params }).toEqual(expected('plain'));
    const threaded = await runNode(fixture, entry, { threads: 2 });
    expect({ initial: threaded.initial, params: threaded.params, threads: threaded.threads }).toEqual({ initial: reference.initial, params: reference.params, threads: 2 });
  });
});

describe('TypeScript consumers (tsc --strict, skipLibCheck off)', () => {
  /** Runs tsc on a project of the typescript fixture; resolves with its exit code and output. */
  const tsc = (project: string) =>
    run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: dirs.typescript }).then(
      ({ stdout }) => ({ code: 0, output: stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, output: e.stdout }),
    );
  // Two errors that only precise types catch: `any` types would accept both.
  const WRONG = `import { Adadelta } from 'adadelta-wasm';
export async function wrong(): Promise<string> {
  const opt = await Adadelta.create([3], { lr: 'fast' });
  return opt.params[0]!.data;
}
`;

  it.each(['node16', 'bundler'])('moduleResolution %s: the consumer compiles, and a deliberate type error is caught', async (resolution) => {
    const project = `tsconfig.${resolution}.json`;
    const wrongFile = join(dirs.typescript!, 'src', `wrong-${resolution}.ts`);
    try {
      expect(await tsc(project)).toEqual({ code: 0, output: '' });
      writeFileSync(wrongFile, WRONG);
      const { code, output } = await tsc(project);
      expect(code, 'tsc accepted a file with type errors').not.toBe(0);
      const errors = output.split('\n').filter((line) => line.includes('error TS'));
      expect(errors, output).toHaveLength(2);
      expect(errors[0]).toMatch(new RegExp(`wrong-${resolution}\\.ts\\(3,.*error TS2322: Type 'string' is not assignable to type 'number'`));
      expect(errors[1]).toMatch(new RegExp(`wrong-${resolution}\\.ts\\(4,.*error TS2322: Type 'Float32Array.*' is not assignable to type 'string'`));
    } finally {
      rmSync(wrongFile, { force: true });
    }
  });

  // The declarations use `Symbol.dispose`, which lib ES2022 lacks; ts/adadelta.ts declares it
  // globally (as @types/node does), so such a consumer still compiles with skipLibCheck off.
  it('compiles for a consumer whose lib lacks Symbol.dispose (ES2022, node16)', async () => {
    expect(await tsc('tsconfig.es2022-lib.json')).toEqual({ code: 0, output: '' });
  });
});

describe('Chromium', () => {
  let browser: Browser;
  const servers: StaticServer[] = [];
  const served = async (root: string, options?: Parameters<typeof serve>[1]) => {
    const server = await serve(root, options);
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    browser = await launch();
    await run(process.execPath, [join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: dirs['vite-page'] });
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('a Vite build emits all three kernels (simd, plain, threads), and its page trains bit for bit like Node (SIMD, and plain forced)', async () => {
    const dir = dirs['vite-page']!;
    const assets = readdirSync(join(dir, 'dist', 'assets'));
    expect(assets.some((a) => /^adadelta-simd.*\.wasm$/.test(a)), assets.join(', ')).toBe(true);
    expect(assets.some((a) => /^adadelta-plain.*\.wasm$/.test(a)), assets.join(', ')).toBe(true);
    expect(assets.some((a) => /^adadelta-threads.*\.wasm$/.test(a)), assets.join(', ')).toBe(true);

    const server = await served(join(dir, 'dist'));
    const { page, problems } = await openFixture(browser, `${server.origin}/`);
    const simd = await trainInPage(page);
    expect(simd, problems.join('\n')).toEqual(expected('simd'));
    const plain = await trainInPage(page, { build: 'plain' });
    expect(plain, problems.join('\n')).toEqual(expected('plain'));
    expect(server.requested.filter((p) => p.endsWith('.wasm'))).toHaveLength(2);
    await page.close();
  });

  it('a plain HTML page with an import map and no bundler trains bit for bit like Node (SIMD, and plain forced)', async () => {
    const server = await served(dirs['importmap-page']!);
    const { page, problems } = await openFixture(browser, `${server.origin}/index.html`);
    expect(await trainInPage(page), problems.join('\n')).toEqual(expected('simd'));
    expect(await trainInPage(page, { build: 'plain' }), problems.join('\n')).toEqual(expected('plain'));
    expect(server.requested).toContain('/node_modules/adadelta-wasm/dist/index.js');
    expect(server.requested).toContain('/node_modules/adadelta-wasm/dist/adadelta-simd.wasm');
    expect(server.requested).toContain('/node_modules/adadelta-wasm/dist/adadelta-plain.wasm');
    await page.close();
  });

  it("runs under a Content-Security-Policy that allows 'wasm-unsafe-eval', and fails clearly under one that does not", async () => {
    const dist = join(dirs['vite-page']!, 'dist');
    const allowing = await served(dist, { headers: { 'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'" } });
    const allowed = await openFixture(browser, `${allowing.origin}/`);
    expect(await trainInPage(allowed.page), allowed.problems.join('\n')).toEqual(expected('simd'));
    await allowed.page.close();

    const strict = await served(dist, { headers: { 'content-security-policy': "default-src 'self'; script-src 'self'" } });
    const refused = await openFixture(browser, `${strict.origin}/`);
    expect(await trainInPage(refused.page)).toEqual({
      error: expect.stringMatching(/^AdadeltaError: could not load the simd wasm kernel from .*adadelta-simd.*\.wasm: .*(unsafe-eval|Content Security Policy)/),
    });
    await refused.page.close();
  });

  it('compiles by streaming when .wasm is served as application/wasm', async () => {
    const server = await served(dirs['importmap-page']!);
    const { page, problems } = await openFixture(browser, `${server.origin}/index.html`, COUNT_WASM_COMPILES);
    expect(await trainInPage(page), problems.join('\n')).toEqual(expected('simd'));
    expect(await page.evaluate(() => (window as unknown as { wasmCompiles: object }).wasmCompiles)).toEqual({ streaming: 1, bytes: 0 });
    await page.close();
  });

  it('falls back from streaming compilation when .wasm is served with a wrong MIME type', async () => {
    const server = await served(dirs['importmap-page']!, { wasmType: 'application/octet-stream' });
    const { page, problems } = await openFixture(browser, `${server.origin}/index.html`, COUNT_WASM_COMPILES);
    expect(await trainInPage(page), problems.join('\n')).toEqual(expected('simd'));
    expect(await page.evaluate(() => (window as unknown as { wasmCompiles: object }).wasmCompiles)).toEqual({ streaming: 0, bytes: 1 });
    // The fallback is needed: with this MIME type, streaming compilation itself rejects.
    const streamingError = await page.evaluate(async (url) => {
      try {
        await WebAssembly.compileStreaming(fetch(url));
        return 'compiled';
      } catch (e) {
        return (e as Error).name;
      }
    }, `${server.origin}/node_modules/adadelta-wasm/dist/adadelta-simd.wasm`);
    expect(streamingError).toBe('TypeError');
    await page.close();
  });

  it('rejects with an AdadeltaError naming the URL when the .wasm is missing, and retries on the next create()', async () => {
    const server = await served(dirs['importmap-page']!, { missing: /\.wasm$/ });
    const { page } = await openFixture(browser, `${server.origin}/index.html`);
    const url = `${server.origin}/node_modules/adadelta-wasm/dist/adadelta-plain.wasm`;
    expect(await trainInPage(page, { build: 'plain' })).toEqual({ error: `AdadeltaError: could not load the plain wasm kernel from ${url}: HTTP 404` });
    expect(await trainInPage(page, { build: 'plain' })).toEqual({ error: `AdadeltaError: could not load the plain wasm kernel from ${url}: HTTP 404` });
    expect(server.requested.filter((p) => p.endsWith('.wasm'))).toEqual([new URL(url).pathname, new URL(url).pathname]);
    await page.close();
  });

  // step() on the page's main thread, where Atomics.wait is not allowed: it spins; and stepAsync().
  it('steps on 2 threads on a cross-origin-isolated page (COOP/COEP), on 1 without, bit for bit like Node', async () => {
    const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    const isolatedServer = await served(dirs['importmap-page']!, { headers: isolation });
    const isolated = await openFixture(browser, `${isolatedServer.origin}/index.html`);
    expect(await isolated.page.evaluate(() => crossOriginIsolated)).toBe(true);
    const threaded = await trainInPage(isolated.page, { threads: 2 });
    expect(threaded, isolated.problems.join('\n')).toEqual({ ...expected('simd'), build: expect.any(String), threads: 2 });
    const threadedAsync = await trainInPage(isolated.page, { threads: 2 }, { stepAsync: true });
    expect(threadedAsync, isolated.problems.join('\n')).toEqual({ ...expected('simd'), build: expect.any(String), threads: 2 });
    expect(isolatedServer.requested).toContain('/node_modules/adadelta-wasm/dist/adadelta-threads.wasm');
    await isolated.page.close();

    const openServer = await served(dirs['importmap-page']!);
    const open = await openFixture(browser, `${openServer.origin}/index.html`);
    expect(await open.page.evaluate(() => crossOriginIsolated)).toBe(false);
    const single = await trainInPage(open.page, { threads: 2 }, { stepAsync: true });
    expect(single, open.problems.join('\n')).toEqual({ ...expected('simd'), threads: 1 });
    expect(openServer.requested.filter((p) => p.endsWith('.wasm'))).toEqual(['/node_modules/adadelta-wasm/dist/adadelta-simd.wasm']);
    await open.page.close();
  });

  describe('without wasm SIMD', () => {
    let noSimd: Browser;
    beforeAll(async () => {
      noSimd = await launch(NO_SIMD_ARGS);
    });
    afterAll(async () => {
      await noSimd?.close();
    });

    it("picks the plain kernel automatically (and refuses build: 'simd'), bit for bit like Node", async (ctx) => {
      if (await browserHasSimd(noSimd)) {
        // On engines where SSE4.1 is not what gates simd128 (e.g. arm64) the flag does nothing.
        ctx.skip();
      }
      const server = await served(dirs['importmap-page']!);
      const { page, problems } = await openFixture(noSimd, `${server.origin}/index.html`);
      expect(await page.evaluate(() => (window as unknown as { packageHasSimd(): boolean }).packageHasSimd())).toBe(false);
      expect(await trainInPage(page), problems.join('\n')).toEqual(expected('plain'));
      const forced = await trainInPage(page, { build: 'simd' });
      expect(forced).toEqual({ error: expect.stringMatching(/^AdadeltaError: defaults\.build: .*simd128/) });
      expect(server.requested.filter((p) => p.endsWith('.wasm'))).toEqual(['/node_modules/adadelta-wasm/dist/adadelta-plain.wasm']);
      await page.close();
    });
  });
});
