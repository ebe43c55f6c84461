/**
 * Finds, compiles and caches the wasm kernels: once per realm and build. Chooses SIMD with a
 * `WebAssembly.validate` probe (as tfjs-backend-wasm and ruffle do). Works in Node (reads the
 * file next to this module) and in browsers (fetches it relative to this module), with no
 * bundler configuration.
 */
import { AdadeltaError } from '../errors.js';
import type { Build } from '../options.js';

export type ResolvedBuild = 'simd' | 'plain';

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt drop ...)): valid only
// where the engine has wasm SIMD. The same probe as wasm-feature-detect's `simd`.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

let simdSupported: boolean | undefined;

/** Whether this engine runs wasm SIMD (simd128). */
export function hasSimd(): boolean {
  simdSupported ??= WebAssembly.validate(SIMD_PROBE);
  return simdSupported;
}

export function resolveBuild(build: Build): ResolvedBuild {
  if (build === 'auto') return hasSimd() ? 'simd' : 'plain';
  if (build === 'simd' && !hasSimd()) {
    throw new AdadeltaError("this engine lacks wasm SIMD (simd128); use build: 'auto' or 'plain'", 'defaults.build');
  }
  return build;
}

/** The SIMD kernel built with atomics, for a worker pool over one shared memory. */
export type AnyBuild = ResolvedBuild | 'threads';

const compiled = new Map<AnyBuild, Promise<WebAssembly.Module>>();
/** Modules whose compilation has finished: what a synchronous instantiation can use. */
const ready = new Map<AnyBuild, WebAssembly.Module>();

/** The compiled module of a build if its compilation has finished; undefined otherwise. */
export function compiledBuild(build: AnyBuild): WebAssembly.Module | undefined {
  return ready.get(build);
}

/** The compiled module of a build; compiled on first use, then shared by every optimizer. */
export function compileBuild(build: AnyBuild): Promise<WebAssembly.Module> {
  let module = compiled.get(build);
  if (module === undefined) {
    module = compile(build);
    // A failed load may be a passing network fault: let the next create() try again.
    module.then(
      (m) => ready.set(build, m),
      () => compiled.delete(build),
    );
    compiled.set(build, module);
  }
  return module;
}

function wasmUrl(build: AnyBuild): URL {
  // The files sit next to the bundle. Written as literals so that bundlers (Vite, webpack 5,
  // Parcel) see `new URL('…', import.meta.url)` and emit the asset.
  if (build === 'simd') return new URL('./adadelta-simd.wasm', import.meta.url);
  if (build === 'plain') return new URL('./adadelta-plain.wasm', import.meta.url);
  return new URL('./adadelta-threads.wasm', import.meta.url);
}

async function compile(build: AnyBuild): Promise<WebAssembly.Module> {
  const url = wasmUrl(build);
  try {
    if (url.protocol === 'file:') return await WebAssembly.compile(await readLocalFile(url));
    return await compileFetched(url);
  } catch (e) {
    throw new AdadeltaError(`could not load the ${build} wasm kernel from ${url.href}: ${(e as Error).message}`);
  }
}

async function compileFetched(url: URL): Promise<WebAssembly.Module> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  // Streaming compilation needs the application/wasm MIME type; many static servers send
  // something else, so fall back to compiling the bytes rather than failing.
  const type = response.headers.get('content-type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && type.split(';')[0]!.trim() === 'application/wasm') {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

/** Reads a file: URL in Node (and Deno and Bun), without a static import that bundlers see. */
async function readLocalFile(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  type Fs = { readFile(path: URL): Promise<Uint8Array<ArrayBuffer>> };
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  let fs = proc?.getBuiltinModule?.('node:fs/promises') as Fs | undefined;
  if (fs === undefined) {
    // Node < 20.16 has no getBuiltinModule. A computed specifier keeps bundlers from trying to
    // resolve a Node built-in for the browser; this path runs only where file: URLs do.
    const specifier = 'node:fs/promises';
    fs = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as Fs;
  }
  return fs.readFile(url);
}
