/**
 * One instance of a wasm kernel with its own linear memory. Each optimizer owns one, so that
 * its memory is laid out once and never grows afterwards: views into it stay valid for the
 * optimizer's life whatever other optimizers do.
 */
import { AdadeltaError } from '../errors.js';
import { adoptKernel, compileBuild, compiledBuild, type ResolvedBuild } from './load.js';
import { kernelImports } from './imports.js';
import { checkKernelModule, describeSource, whereFrom, type KernelSources } from './source.js';
import type { RangeExports } from './step.js';

/** The raw exports of crate/src/lib.rs (after wasm-bindgen). Pointers and lengths are u32s. */
export interface KernelExports extends RangeExports {
  /** Exported by the simd and plain builds; the threads build imports a shared memory instead. */
  readonly memory?: WebAssembly.Memory;
  alloc_f32(len: number): number;
  simd128(): number;
  /** Starts an instance; in the threads build, every instance after the first gets a stack of
   * `threadStackSize` bytes (a multiple of 64 KiB) from the shared heap. */
  __wbindgen_start(threadStackSize?: number): void;
  readonly __wbindgen_externrefs: WebAssembly.Table;
}

/** The size of a wasm memory page, in bytes. */
export const PAGE = 65536;
/** wasm32 addresses 4 GiB; one page of it is the kernel's own stack, data and table. */
export const WASM32_MAX_BYTES = 2 ** 32;
/** The same limit in pages, as `WebAssembly.Memory` counts it. */
export const WASM32_MAX_PAGES = WASM32_MAX_BYTES / PAGE;

function unknownImport(description: string): never {
  throw new AdadeltaError(`the wasm kernel imports ${description}, which this loader does not provide`);
}

export class KernelInstance {
  private constructor(
    readonly build: ResolvedBuild | 'threads',
    readonly module: WebAssembly.Module,
    readonly exports: KernelExports,
    readonly memory: WebAssembly.Memory,
  ) {}

  /**
   * Instantiates a build. The threads build needs `sharedMemory`, a shared WebAssembly.Memory
   * that the worker instances import too; this first instance initializes it.
   */
  static async create(build: ResolvedBuild | 'threads', sources: KernelSources, sharedMemory?: WebAssembly.Memory): Promise<KernelInstance> {
    const module = await compileBuild(build, sources);
    const self: { exports?: KernelExports } = {};
    const instance = await WebAssembly.instantiate(module, kernelImports(module, self, sharedMemory, unknownImport)).catch((e: Error) => {
      throw new AdadeltaError(`could not start the ${build} wasm kernel: ${e.message}`);
    });
    return KernelInstance.#started(build, sources, module, instance, self, sharedMemory);
  }

  /**
   * Compiles `build`'s kernel so that `createSync` can run. A kernel given in `sources` is
   * checked by starting one instance of it, which makes it the realm's kernel.
   */
  static async precompile(build: ResolvedBuild, sources: KernelSources): Promise<void> {
    if (sources[build] === undefined) await compileBuild(build);
    else await KernelInstance.create(build, sources);
  }

  /**
   * The same, synchronously, from a module given in `sources` or one that an earlier `create`
   * (or `Adadelta.prepare`) compiled. The module is small, so `new WebAssembly.Instance` is fine
   * on a browser's main thread. Throws AdadeltaError if there is no compiled module yet.
   */
  static createSync(build: ResolvedBuild, sources: KernelSources): KernelInstance {
    const given = sources[build];
    if (given !== undefined && !(given instanceof WebAssembly.Module)) {
      throw new AdadeltaError(`createSync cannot compile ${describeSource(given)}: pass a compiled WebAssembly.Module, or await Adadelta.prepare({ wasm }) once and call createSync without the wasm option`, `defaults.wasm.${build}`);
    }
    const module = given === undefined ? compiledBuild(build) : checkKernelModule(build, given, whereFrom(build, given));
    if (module === undefined) {
      throw new AdadeltaError(`the ${build} wasm kernel is not compiled yet: await Adadelta.prepare() (or any Adadelta.create) once before creating optimizers synchronously`);
    }
    const self: { exports?: KernelExports } = {};
    return KernelInstance.#started(build, sources, module, new WebAssembly.Instance(module, kernelImports(module, self, undefined, unknownImport)), self, undefined);
  }

  /** Starts an instance and checks it is the build asked for; a user-given kernel that passes
   * becomes the realm's kernel for its build. */
  static #started(
    build: ResolvedBuild | 'threads',
    sources: KernelSources,
    module: WebAssembly.Module,
    instance: WebAssembly.Instance,
    self: { exports?: KernelExports },
    sharedMemory: WebAssembly.Memory | undefined,
  ): KernelInstance {
    self.exports = instance.exports as unknown as KernelExports;
    self.exports.__wbindgen_start();
    if (self.exports.simd128() !== (build === 'plain' ? 0 : 1)) {
      throw new AdadeltaError(`the ${build} kernel given is the ${build === 'plain' ? 'SIMD' : 'plain'} one: check the wasm option`);
    }
    const memory = sharedMemory ?? self.exports.memory;
    if (memory === undefined) throw new AdadeltaError(`the ${build} wasm kernel neither exports nor imports a memory`);
    if (sources[build] !== undefined) adoptKernel(build, module);
    return new KernelInstance(build, module, self.exports, memory);
  }

  /**
   * Allocates `len` zeroed 4-byte words and returns the byte address. Throws AdadeltaError
   * naming `what` when the memory cannot grow that far. Any views made before this call are
   * detached if the memory grew, so make views only after the last allocation.
   */
  alloc(len: number, what: string): number {
    const ptr = this.exports.alloc_f32(len) >>> 0;
    if (ptr === 0) {
      throw new AdadeltaError(
        `out of wasm memory allocating ${len * 4} bytes for ${what} (memory holds ${this.memory.buffer.byteLength} bytes; the wasm32 limit is ${WASM32_MAX_BYTES} bytes)`,
      );
    }
    return ptr;
  }

  f32(ptr: number, len: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, len);
  }

  f64(ptr: number, len: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, len);
  }

  u32(ptr: number, len: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, len);
  }

  /**
   * Detaches every view into this instance's memory: growing a non-shared memory, even by 0
   * pages, detaches its old ArrayBuffer. After this, stale views have length 0, so writes
   * through them land nowhere.
   */
  detachViews(): void {
    // A SharedArrayBuffer cannot be detached: the threads build's views stay readable, but they
    // point into this optimizer's own memory, which nothing else uses.
    if (!(typeof SharedArrayBuffer !== 'undefined' && this.memory.buffer instanceof SharedArrayBuffer)) this.memory.grow(0);
  }
}

/** Bytes an allocation of `len` words takes, with the allocator's rounding and header. */
export function allocationBytes(len: number): number {
  return Math.ceil((len * 4) / 16) * 16 + 16;
}

