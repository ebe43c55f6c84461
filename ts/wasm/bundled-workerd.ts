/**
 * The kernels of the `workerd` export condition (Cloudflare Workers): imported as wasm
 * modules, which that runtime (and wrangler) compile ahead of time; it forbids compiling wasm
 * from bytes at run time. There are no worker threads there, so no threads kernel.
 */
import { AdadeltaError } from '../errors.js';
import type { KernelBuild, KernelSource } from './source.js';
import simd from './adadelta-simd.wasm';
import plain from './adadelta-plain.wasm';

export const BUNDLED_FROM = 'imported as a wasm module';
export const BUNDLED_BUILDS: readonly KernelBuild[] = ['simd', 'plain'];

export function bundledKernel(build: KernelBuild): KernelSource {
  // Unreachable through load.ts, which asks only for BUNDLED_BUILDS.
  if (build === 'threads') throw new AdadeltaError('workerd has no worker threads, so this entry carries no threads kernel');
  return (build === 'simd' ? simd : plain) as WebAssembly.Module;
}
