/**
 * The kernels of the default entry point (`adadelta-wasm`): inlined as base64, so that every
 * bundler, dev server and runtime finds them with no configuration and no extra request.
 * tsup's `base64` loader turns each import into the file's base64 text; the `slim` and
 * `workerd` entry points build from the files beside this one instead (tsup.config.ts).
 */
import type { KernelBuild, KernelSource } from './source.js';
import simd from '../../target/wasm/adadelta-simd.wasm';
import plain from '../../target/wasm/adadelta-plain.wasm';
import threads from '../../target/wasm/adadelta-threads.wasm';

/** How this entry point carries its kernels, as messages name it. */
export const BUNDLED_FROM = 'inlined in this bundle';
/** The builds this entry point carries. */
export const BUNDLED_BUILDS: readonly KernelBuild[] = ['simd', 'plain', 'threads'];

const BASE64: Record<KernelBuild, string> = { simd, plain, threads } as Record<KernelBuild, string>;

/** The bytes of `build`'s kernel, decoded on each call (once per realm: load.ts caches the module). */
export function bundledKernel(build: KernelBuild): KernelSource {
  return decodeBase64(BASE64[build]);
}

/**
 * Base64 to bytes with the fastest decoder at hand: `Uint8Array.fromBase64` (newer engines),
 * Node's and Bun's `Buffer`, else `atob`. (Node's `atob` is written in JavaScript and takes
 * several milliseconds for a kernel.)
 */
function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const g = globalThis as { Buffer?: { from(text: string, encoding: 'base64'): Uint8Array } };
  const fromBase64 = (Uint8Array as { fromBase64?: (text: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (typeof fromBase64 === 'function') return fromBase64(text);
  if (typeof g.Buffer?.from === 'function') return new Uint8Array(g.Buffer.from(text, 'base64'));
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
