/**
 * The kernels of `adadelta-wasm/slim`: the `.wasm` files beside the module, fetched (streamed
 * where served as application/wasm) or read from disk. The bundle carries no wasm bytes. The
 * URLs are written as `new URL('…', import.meta.url)` literals, which Vite, webpack 5 and
 * Parcel recognise and emit as assets; other bundlers need the `wasm` option.
 */
import { AdadeltaError } from '../errors.js';
import type { KernelBuild, KernelSource } from './source.js';

export const BUNDLED_FROM = 'beside adadelta-wasm/slim';
export const BUNDLED_BUILDS: readonly KernelBuild[] = ['simd', 'plain', 'threads'];

/** In the CommonJS build, the module's directory: a plain path, free of URL escaping. */
declare const __dirname: string | undefined;

export function bundledKernel(build: KernelBuild): KernelSource {
  const file = `adadelta-${build}.wasm`;
  if (typeof __dirname === 'string' && (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined) {
    return fileUrl(`${__dirname}/${file}`);
  }
  try {
    if (build === 'simd') return new URL('./adadelta-simd.wasm', import.meta.url);
    if (build === 'plain') return new URL('./adadelta-plain.wasm', import.meta.url);
    return new URL('./adadelta-threads.wasm', import.meta.url);
  } catch {
    // import.meta.url is missing where the module was bundled into a script (an IIFE, a
    // CommonJS bundle): there is nothing to find the file beside.
    throw new AdadeltaError(
      `adadelta-wasm/slim cannot locate ${file}: this copy of it has no import.meta.url (it was bundled into a script). Import 'adadelta-wasm', whose kernels are inlined, or pass the kernel in the wasm option`,
    );
  }
}

/** A file: URL for an absolute path, every segment escaped (spaces, #, %, non-ASCII), as
 * Node's pathToFileURL does; Windows drive paths included. */
export function fileUrl(path: string): URL {
  const segments = path.replace(/\\/g, '/').split('/').map(encodeURIComponent);
  const joined = segments.join('/');
  return new URL(`file://${joined.startsWith('/') ? '' : '/'}${joined.replace(/^(\/?[A-Za-z])%3A/, '$1:')}`);
}
