/**
 * Where the kernels come from: the default entry's inlined kernels, the `wasm` option (a URL,
 * a Response, bytes or a compiled module, per build), and `adadelta-wasm/slim` (the files
 * beside the module). Every failure names where it looked and why. This file runs in its own
 * process, so the realm's kernel cache starts empty.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { Adadelta, AdadeltaError } from '../dist/index.js';
import { fileUrl } from '../ts/wasm/bundled-slim.js';

const DIST = new URL('../dist/', import.meta.url);
const wasmFile = (build: string) => new URL(`adadelta-${build}.wasm`, DIST);
const wasmBytes = (build: string) => readFileSync(wasmFile(build));

/** 7 steps over two tensors (one with a SIMD tail); returns the params' bytes. */
async function trained(defaults: Parameters<typeof Adadelta.create>[1] = {}, Optimizer: typeof Adadelta = Adadelta): Promise<number[]> {
  const opt = await Optimizer.create([Float32Array.from({ length: 37 }, (_, i) => Math.sin(i)), 5], { lr: 0.5, ...defaults });
  try {
    for (let t = 0; t < 7; t++) {
      opt.params.forEach((p, k) => p.grad.set(p.data.map((x, i) => x - Math.cos(i + t + k))));
      opt.step();
    }
    return opt.params.flatMap((p) => Array.from(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength)));
  } finally {
    opt.dispose();
  }
}

/** The rejection's message; fails the test if it resolves or rejects with anything but AdadeltaError. */
async function failure(promise: Promise<unknown>): Promise<string> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected an AdadeltaError').toBeInstanceOf(AdadeltaError);
  return (e as Error).message;
}

describe('the wasm option', () => {
  it('takes bytes, a compiled module, a file URL and a Response, each training bit for bit like the inlined kernel', async () => {
    const expected = await trained();
    const plainExpected = await trained({ build: 'plain' });
    expect(await trained({ wasm: { simd: wasmBytes('simd') } })).toEqual(expected);
    expect(await trained({ wasm: { simd: new Uint8Array(wasmBytes('simd')).buffer } })).toEqual(expected);
    expect(await trained({ wasm: { simd: await WebAssembly.compile(wasmBytes('simd')) } })).toEqual(expected);
    expect(await trained({ wasm: { simd: wasmFile('simd') } })).toEqual(expected);
    expect(await trained({ wasm: { simd: new Response(wasmBytes('simd'), { headers: { 'content-type': 'application/wasm' } }) } })).toEqual(expected);
    expect(await trained({ build: 'plain', wasm: { plain: Promise.resolve(new Response(wasmBytes('plain'))) } })).toEqual(plainExpected);
  });

  it('with threads: 2, takes the threads kernel as a module and steps bit for bit like one thread', async () => {
    const expected = await trained();
    const threads = await WebAssembly.compile(wasmBytes('threads'));
    const opt = await Adadelta.create([64], { threads: 2, wasm: { threads } });
    expect(opt.threads).toBe(2);
    opt.dispose();
    expect(await trained({ threads: 2, wasm: { threads } })).toEqual(expected);
  });

  it('compiles a given source once: the same Response, promise or URL serves every create()', async () => {
    const expected = await trained();
    const served = Promise.resolve(new Response(wasmBytes('simd'), { headers: { 'content-type': 'application/wasm' } }));
    const defaults = { wasm: { simd: served } };
    // A Response's body can be read once: a second compilation would fail with "body used".
    expect(await trained(defaults)).toEqual(expected);
    expect(await trained(defaults)).toEqual(expected);
    const compile = vi.spyOn(WebAssembly, 'compile');
    try {
      const url = wasmFile('simd').href;
      await trained({ wasm: { simd: url } });
      await trained({ wasm: { simd: url } });
      expect(compile).toHaveBeenCalledTimes(1);
    } finally {
      compile.mockRestore();
    }
  });

  it('lets createSync run from a given module, with no prepare()', () => {
    // Nothing in this process has compiled the plain kernel through the cache before this
    // test's module is given: createSync takes the module itself.
    const plain = new WebAssembly.Module(wasmBytes('plain'));
    const opt = Adadelta.createSync([8], { build: 'plain', wasm: { plain } });
    expect(opt.build).toBe('plain');
    opt.params[0]!.grad.fill(1);
    opt.step();
    expect(opt.state(0).step).toBe(1);
    opt.dispose();
    expect(() => Adadelta.createSync([8], { wasm: { simd: wasmBytes('simd') } })).toThrow(/createSync cannot compile .*WebAssembly\.Module/);
  });

  it('prepare({ wasm }) makes the given kernel the realm kernel for createSync', async () => {
    await Adadelta.prepare({ build: 'simd', wasm: { simd: wasmFile('simd') } });
    const opt = Adadelta.createSync([8]);
    expect(opt.build).toBe('simd');
    opt.dispose();
  });

  it('says what bytes that are not wasm are, naming the fix for HTML from a dev server', async () => {
    const html = new TextEncoder().encode('<!doctype html><html><body>app</body></html>');
    expect(await failure(Adadelta.create([4], { wasm: { simd: html } }))).toMatch(
      /^could not load the simd wasm kernel given as wasm\.simd \(44 bytes\): the bytes are HTML, not wasm .*index\.html.*Import 'adadelta-wasm'/,
    );
    const served = new Response(html, { headers: { 'content-type': 'text/html' } });
    expect(await failure(Adadelta.create([4], { wasm: { simd: served } }))).toMatch(/the bytes are HTML, not wasm/);
    expect(await failure(Adadelta.create([4], { wasm: { simd: new Uint8Array([1, 2, 3, 4, 5]) } }))).toMatch(/not a wasm module \(it starts with 01 02 03 04, not 00 61 73 6d\)/);
    expect(await failure(Adadelta.create([4], { wasm: { simd: new Uint8Array(0) } }))).toMatch(/the file is empty, not wasm/);
    expect(await failure(Adadelta.create([4], { wasm: { simd: new Response('gone', { status: 404 }) } }))).toMatch(/: HTTP 404$/);
    const missing = new URL('no-such-kernel.wasm', DIST);
    expect(await failure(Adadelta.create([4], { wasm: { simd: missing } }))).toMatch(new RegExp(`^could not load the simd wasm kernel from ${missing.href}: .*ENOENT`));
    expect(await failure(Adadelta.create([4], { wasm: { simd: 'relative/kernel.wasm' } }))).toMatch(/relative\/kernel\.wasm: not an absolute URL/);
    expect(await failure(Adadelta.create([4], { wasm: { simd: Promise.resolve(42) as never } }))).toMatch(/a promised Response\): the promise did not resolve to a Response$/);
  });

  it('refuses a module that is not the build it is given as', async () => {
    const simd = await WebAssembly.compile(wasmBytes('simd'));
    const threads = await WebAssembly.compile(wasmBytes('threads'));
    expect(await failure(Adadelta.create([4], { build: 'plain', wasm: { plain: simd } }))).toMatch(/the plain kernel given is the SIMD one/);
    expect(await failure(Adadelta.create([4], { wasm: { simd: threads } }))).toMatch(/is the threads kernel .* given as the simd kernel/);
    const other = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]); // an empty module
    expect(await failure(Adadelta.create([4], { wasm: { simd: other } }))).toMatch(/not an adadelta-wasm simd kernel of this version: it lacks the exports alloc_f32, /);
  });

  it('validates the option, naming the field, before anything is compiled', async () => {
    expect(await failure(Adadelta.create([4], { wasm: wasmBytes('simd') as never }))).toMatch(/^defaults\.wasm: must be an object of kernel sources per build/);
    expect(await failure(Adadelta.create([4], { wasm: { sims: wasmFile('simd') } as never }))).toMatch(/^defaults\.wasm: unknown build "sims"/);
    expect(await failure(Adadelta.create([4], { wasm: { simd: 42 } as never }))).toMatch(/^defaults\.wasm\.simd: must be a URL/);
    await expect(Adadelta.prepare({ wasm: { plain: null } } as never)).rejects.toThrow(/defaults\.wasm\.plain/);
  });

  it('leaves the realm kernel as it was when a given kernel fails', async () => {
    const expected = await trained();
    await failure(Adadelta.create([4], { wasm: { simd: new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]) } }));
    expect(await trained()).toEqual(expected);
    // A module that compiles but is the other build is refused at its first instance, and
    // must not become the realm's plain kernel.
    const plainExpected = await trained({ build: 'plain' });
    const simd = await WebAssembly.compile(wasmBytes('simd'));
    expect(await failure(Adadelta.create([4], { build: 'plain', wasm: { plain: simd } }))).toMatch(/the plain kernel given is the SIMD one/);
    await expect(Adadelta.prepare({ build: 'plain', wasm: { plain: simd } })).rejects.toThrow(/the plain kernel given is the SIMD one/);
    expect(await trained({ build: 'plain' })).toEqual(plainExpected);
    expect(Adadelta.createSync([4], { build: 'plain' }).build).toBe('plain');
  });
});

describe('adadelta-wasm/slim', () => {
  it('reads the .wasm files beside it (ESM and CJS) and trains bit for bit like the default entry', async () => {
    const expected = await trained();
    const slim = (await import('../dist/slim.js')) as unknown as { Adadelta: typeof Adadelta };
    expect(await trained({}, slim.Adadelta)).toEqual(expected);
    const slimCjs = createRequire(import.meta.url)('../dist/slim.cjs') as { Adadelta: typeof Adadelta };
    expect(await trained({}, slimCjs.Adadelta)).toEqual(expected);
  });

  it('makes the same file URLs as Node for paths with spaces, #, %, ? and non-ASCII characters', () => {
    for (const path of ['/tmp/a b/#c/%d/?e/ünï 中/adadelta-simd.wasm', '/plain/path.wasm', '/x/%20/y']) {
      expect(fileUrl(path).href).toBe(pathToFileURL(path).href);
    }
    expect(fileUrl('C:\\Users\\a b\\k.wasm').href).toBe('file:///C:/Users/a%20b/k.wasm');
  });
});

describe('the default entry', () => {
  it('carries its kernels inline: alone in a folder with no .wasm file, its ESM and CJS builds train bit for bit', async () => {
    const expected = await trained();
    const alone = mkdtempSync(join(tmpdir(), 'adadelta-alone-'));
    try {
      copyFileSync(new URL('index.js', DIST), join(alone, 'index.js'));
      copyFileSync(new URL('index.cjs', DIST), join(alone, 'index.cjs'));
      writeFileSync(join(alone, 'package.json'), '{ "type": "module" }');
      const esm = (await import(pathToFileURL(join(alone, 'index.js')).href)) as { Adadelta: typeof Adadelta };
      expect(await trained({}, esm.Adadelta)).toEqual(expected);
      const cjs = createRequire(import.meta.url)(join(alone, 'index.cjs')) as { Adadelta: typeof Adadelta };
      expect(await trained({}, cjs.Adadelta)).toEqual(expected);
      expect(await trained({ build: 'plain' }, cjs.Adadelta)).toEqual(await trained({ build: 'plain' }));
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });
});
