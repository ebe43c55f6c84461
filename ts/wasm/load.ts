/**
 * Chooses a kernel build and keeps the compiled kernels: once per realm and build. SIMD is
 * chosen with a `WebAssembly.validate` probe (as tfjs-backend-wasm and ruffle do). The bytes
 * come from the entry point's own kernels (./bundled.ts: inlined, next to the module, or
 * imported as wasm modules) unless the user passes a source in the `wasm` option.
 */
import { AdadeltaError } from '../errors.js';
import type { Build } from '../options.js';
import { BUNDLED_BUILDS, BUNDLED_FROM, bundledKernel } from './bundled.js';
import { compileSource, whereFrom, type KernelBuild, type KernelSources } from './source.js';

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

/** Whether a kernel for `build` can be had: given in `sources`, or carried by this entry point. */
export function hasKernel(build: KernelBuild, sources: KernelSources): boolean {
  return sources[build] !== undefined || BUNDLED_BUILDS.includes(build);
}

const compiled = new Map<KernelBuild, Promise<WebAssembly.Module>>();
/** Modules whose compilation has finished: what a synchronous instantiation can use. */
const ready = new Map<KernelBuild, WebAssembly.Module>();

/** The compiled module of a build if its compilation has finished; undefined otherwise. */
export function compiledBuild(build: KernelBuild): WebAssembly.Module | undefined {
  return ready.get(build);
}

/** Modules compiled from sources the user gave, per build and source: a URL string by its text,
 * anything else (a URL, a Response consumed once, bytes, a promise) by identity. */
const givenByText = new Map<string, Promise<WebAssembly.Module>>();
const givenByObject = { simd: new WeakMap(), plain: new WeakMap(), threads: new WeakMap() } as Record<KernelBuild, WeakMap<object, Promise<WebAssembly.Module>>>;

/**
 * The compiled module of a build. Without `sources[build]` it is compiled from the entry's own
 * kernel on first use, then shared by every optimizer. A given source is compiled (or taken, if
 * it is a module) once; once an instance of it has started, `adoptKernel` makes it the realm's
 * kernel for that build.
 */
export function compileBuild(build: KernelBuild, sources: KernelSources = {}): Promise<WebAssembly.Module> {
  const source = sources[build];
  if (source !== undefined) {
    const key = typeof source === 'string' ? `${build} ${source}` : undefined;
    let module = key === undefined ? givenByObject[build].get(source as object) : givenByText.get(key);
    if (module === undefined) {
      module = compileSource(build, source, whereFrom(build, source));
      if (key === undefined) givenByObject[build].set(source as object, module);
      else givenByText.set(key, module);
      // A failed source may be a passing network fault: the next create() tries again.
      module.catch(() => (key === undefined ? givenByObject[build].delete(source as object) : givenByText.delete(key)));
    }
    return module;
  }
  let module = compiled.get(build);
  if (module === undefined) {
    module = BUNDLED_BUILDS.includes(build)
      ? Promise.resolve(build).then(bundledKernel).then((source) => compileSource(build, source, whereFrom(build, source, BUNDLED_FROM)))
      : Promise.reject(new AdadeltaError(`this entry point of adadelta-wasm carries no ${build} kernel; pass one in the wasm option`));
    // A failed load may be a passing network fault: let the next create() try again.
    // Only while it is still the realm's kernel: a kernel adopted meanwhile stays.
    module.then(
      (m) => {
        if (compiled.get(build) === module) ready.set(build, m);
      },
      () => {
        if (compiled.get(build) === module) compiled.delete(build);
      },
    );
    compiled.set(build, module);
  }
  return module;
}

/** Makes a user-given module, verified by a started instance, the realm's kernel for `build`. */
export function adoptKernel(build: KernelBuild, module: WebAssembly.Module): void {
  compiled.set(build, Promise.resolve(module));
  ready.set(build, module);
}
