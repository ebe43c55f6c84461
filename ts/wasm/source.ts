/**
 * Kernel sources: every form in which a wasm kernel can reach the loader (a URL, a Response,
 * bytes, or a compiled module), turned into a `WebAssembly.Module`. Each failure is an
 * AdadeltaError that names where the kernel was looked for and, where it can tell, why.
 */
import { AdadeltaError } from '../errors.js';
import { nodeBuiltin } from '../node-builtin.js';

/** The three kernels: SIMD, plain, and SIMD with atomics for the worker pool. */
export type KernelBuild = 'simd' | 'plain' | 'threads';
export const KERNEL_BUILDS: readonly KernelBuild[] = ['simd', 'plain', 'threads'];

/**
 * Where a kernel comes from, for the `wasm` option: a URL (a `URL`, or a string resolved
 * against the page), a `Response` or a promise of one (consumed once), the module's bytes, or a
 * compiled `WebAssembly.Module` (which needs no compilation, so it also works where compiling
 * wasm at run time is forbidden, as in Cloudflare Workers).
 */
export type KernelSource = URL | string | Response | PromiseLike<Response> | ArrayBuffer | ArrayBufferView | WebAssembly.Module;

/** The `wasm` option: a source per build. Builds left out use the kernels the entry carries. */
export type KernelSources = Partial<Record<KernelBuild, KernelSource>>;

function isKernelSource(value: unknown): value is KernelSource {
  return (
    typeof value === 'string' ||
    value instanceof URL ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    value instanceof WebAssembly.Module ||
    (typeof Response === 'function' && value instanceof Response) ||
    (typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function')
  );
}

/** Validates the `wasm` option; throws AdadeltaError naming `field` (for example `defaults.wasm.simd`). */
export function checkKernelSources(value: unknown, field: string): KernelSources {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isKernelSource(value)) {
    throw new AdadeltaError(`must be an object of kernel sources per build, { simd?, plain?, threads? }, each a URL, Response, bytes or WebAssembly.Module`, field);
  }
  const sources: KernelSources = {};
  for (const [key, source] of Object.entries(value)) {
    if (!(KERNEL_BUILDS as readonly string[]).includes(key)) {
      throw new AdadeltaError(`unknown build ${JSON.stringify(key)} (expected one of ${KERNEL_BUILDS.join(', ')})`, field);
    }
    if (source === undefined) continue;
    if (!isKernelSource(source)) {
      throw new AdadeltaError('must be a URL, a Response, an ArrayBuffer or typed array of the .wasm bytes, or a WebAssembly.Module', `${field}.${key}`);
    }
    sources[key as KernelBuild] = source;
  }
  return sources;
}

/** A short name of a source for messages: its URL, or what kind of value it is. */
export function describeSource(source: KernelSource): string {
  if (source instanceof URL) return source.href;
  if (typeof source === 'string') return source;
  if (source instanceof WebAssembly.Module) return 'a WebAssembly.Module';
  if (typeof Response === 'function' && source instanceof Response) return source.url === '' ? 'a Response' : source.url;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return `${source.byteLength} bytes`;
  return 'a promised Response';
}

/** The exports every kernel has; a module without them is not one of ours (or another version's). */
const REQUIRED_EXPORTS = ['alloc_f32', 'step', 'step_stats', 'grad_norm', 'scale_grads', 'clamp_grads', 'simd128', '__wbindgen_start'];

/**
 * Where a kernel came from, as messages say it: `from <url>` for a URL; for other sources given
 * in the wasm option, `given as wasm.simd (…)`; for an entry's own kernel, how it carries it.
 */
export function whereFrom(build: KernelBuild, source: KernelSource, bundledFrom?: string): string {
  if (source instanceof URL || typeof source === 'string') return `from ${describeSource(source)}`;
  return bundledFrom ?? `given as wasm.${build} (${describeSource(source)})`;
}

/** Compiles (or takes) a source as the kernel `build`; `where` is its `whereFrom`. */
export async function compileSource(build: KernelBuild, source: KernelSource, where: string): Promise<WebAssembly.Module> {
  let module: WebAssembly.Module;
  try {
    module = await toModule(source);
  } catch (e) {
    if (e instanceof AdadeltaError) throw e;
    throw new AdadeltaError(`could not load the ${build} wasm kernel ${where}: ${explain(e)}`);
  }
  return checkKernelModule(build, module, where);
}

/** Checks that `module` is this version's `build` kernel, and returns it. */
export function checkKernelModule(build: KernelBuild, module: WebAssembly.Module, where: string): WebAssembly.Module {
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = REQUIRED_EXPORTS.filter((name) => !exported.has(name));
  if (missing.length > 0) {
    throw new AdadeltaError(`the module ${where} is not an adadelta-wasm ${build} kernel of this version: it lacks the export${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  }
  const importsMemory = WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
  if (importsMemory !== (build === 'threads')) {
    throw new AdadeltaError(
      `the module ${where} is ${importsMemory ? 'the threads kernel (it imports a shared memory)' : 'not the threads kernel (it has its own memory)'}, given as the ${build} kernel`,
    );
  }
  return module;
}

async function toModule(source: KernelSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return compileBytes(source);
  if (source instanceof URL || typeof source === 'string') {
    const url = toUrl(source);
    if (url.protocol === 'file:') return compileBytes(await readLocalFile(url));
    return compileResponse(await fetch(url));
  }
  const response: unknown = await source;
  if (!(typeof Response === 'function' && response instanceof Response)) throw new Error('the promise did not resolve to a Response');
  return compileResponse(response);
}

function toUrl(source: URL | string): URL {
  if (source instanceof URL) return source;
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(source, base);
  } catch {
    throw new Error(base === undefined ? 'not an absolute URL (there is no page to resolve a relative one against)' : 'not a valid URL');
  }
}

async function compileResponse(response: Response): Promise<WebAssembly.Module> {
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  // Streaming compilation needs the application/wasm MIME type; many static servers send
  // something else, so compile the bytes then, which also lets us say what they were.
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (typeof WebAssembly.compileStreaming === 'function' && type === 'application/wasm') {
    return WebAssembly.compileStreaming(response);
  }
  return compileBytes(await response.arrayBuffer());
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

function compileBytes(source: ArrayBuffer | ArrayBufferView): Promise<WebAssembly.Module> {
  const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (!WASM_MAGIC.every((b, i) => bytes[i] === b)) throw new Error(notWasm(bytes));
  // A copy into a plain ArrayBuffer where the bytes are a view of a SharedArrayBuffer.
  return WebAssembly.compile(bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice());
}

/** What bytes that are not wasm look like, and what to do about it. */
function notWasm(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().toLowerCase();
  if (text.startsWith('<')) {
    return (
      `the bytes are HTML, not wasm (they start with ${JSON.stringify(text.slice(0, 15))}): the server answered with a page, ` +
      `as dev servers do with index.html for a file they do not have. Import 'adadelta-wasm' (whose kernels are inlined) ` +
      `rather than 'adadelta-wasm/slim', or pass the kernel's URL, bytes or module in the wasm option`
    );
  }
  return bytes.length === 0 ? 'the file is empty, not wasm' : `not a wasm module (it starts with ${head}, not 00 61 73 6d)`;
}

/** A failure's own message, with the cause named where the engine's words are obscure. */
function explain(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (/code generation|disallowed by embedder/i.test(message)) {
    return `${message} (this runtime forbids compiling wasm at run time: pass a compiled WebAssembly.Module, for example one imported from 'adadelta-wasm/adadelta-simd.wasm', in the wasm option)`;
  }
  return message;
}

/** Reads a file: URL in Node (and Deno and Bun). */
async function readLocalFile(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  const fs = (await nodeBuiltin('node:fs/promises')) as { readFile(path: URL): Promise<Uint8Array<ArrayBuffer>> } | undefined;
  if (fs === undefined) throw new Error('file: URLs can be read only where Node\'s fs is (Node, Deno, Bun)');
  return fs.readFile(url);
}
