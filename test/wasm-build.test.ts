/**
 * The shipped wasm kernels (dist/adadelta-{simd,plain,threads}.wasm): the SIMD build really is
 * SIMD and the plain one has no SIMD at all, their imports are the ones ts/wasm/kernel.ts
 * provides, `simd128()` tells the truth, and each exports exactly what the package calls (and
 * what wasm-bindgen adds), nothing for tests. Their layout is not checked here: ts/wasm/layout.ts
 * is generated from the crate (crate/tests/layout.rs).
 */
import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Adadelta } from '../dist/index.js';
import { kernelImports } from '../ts/wasm/imports.js';

const BUILDS = ['simd', 'plain'] as const;
const bytes = (build: string) => readFileSync(new URL(`../dist/adadelta-${build}.wasm`, import.meta.url));

/** The module as text, through binaryen's disassembler (all features on, so SIMD parses). */
function disassemble(build: string): string {
  const module = binaryen.readBinary(bytes(build));
  try {
    module.setFeatures(binaryen.Features.All);
    return module.emitText();
  } finally {
    module.dispose();
  }
}

/** Every SIMD instruction name in wasm text: v128.*, and i8x16/i16x8/i32x4/i64x2/f32x4/f64x2.* */
function simdOps(text: string): Set<string> {
  return new Set(text.match(/\b(?:v128|[if](?:8x16|16x8|32x4|64x2))\.[a-z0-9_]+/g) ?? []);
}

/** The imports ts/wasm/imports.ts's `kernelImports` provides: anything else fails at creation. */
const PROVIDED_IMPORTS = ['__wbindgen_init_externref_table:function'];

interface RawExports {
  memory: WebAssembly.Memory;
  simd128(): number;
  __wbindgen_start(): void;
  __wbindgen_externrefs: WebAssembly.Table;
  [name: string]: unknown;
}

/** Instantiates a kernel directly, with the imports the package gives (ts/wasm/imports.ts). */
async function instantiate(build: string): Promise<RawExports> {
  const module = await WebAssembly.compile(bytes(build));
  const self: { exports?: RawExports } = {};
  const unknownImport = (description: string): never => {
    throw new Error(`unexpected import ${description}`);
  };
  const instance = await WebAssembly.instantiate(module, kernelImports(module, self, undefined, unknownImport));
  self.exports = instance.exports as unknown as RawExports;
  self.exports.__wbindgen_start();
  return self.exports;
}

describe('SIMD opcodes', () => {
  it('the simd build uses f32x4 arithmetic in its kernel', () => {
    const ops = simdOps(disassemble('simd'));
    for (const op of ['f32x4.sqrt', 'f32x4.div', 'f32x4.mul', 'f32x4.add', 'f32x4.sub', 'v128.load', 'v128.store']) {
      expect(ops, op).toContain(op);
    }
  });

  it('the plain build has no SIMD instruction or v128 value, and validates without the SIMD feature', () => {
    const text = disassemble('plain');
    expect([...simdOps(text)]).toEqual([]);
    expect(text).not.toMatch(/\bv128\b/);
    const module = binaryen.readBinary(bytes('plain'));
    module.setFeatures(binaryen.Features.All & ~binaryen.Features.SIMD128);
    expect(module.validate()).toBeTruthy();
    module.dispose();
  });
});

describe.each(BUILDS)('%s build', (build) => {
  it('imports exactly what ts/wasm/kernel.ts provides', async () => {
    const module = await WebAssembly.compile(bytes(build));
    expect(WebAssembly.Module.imports(module).map((i) => `${i.name}:${i.kind}`).sort()).toEqual(PROVIDED_IMPORTS);
    // The package's own loader instantiates it (it throws AdadeltaError on any import it lacks).
    const opt = await Adadelta.create([3], { build });
    expect(opt.build).toBe(build);
    opt.dispose();
  });

  it('simd128() tells which kernel it is', async () => {
    const exports = await instantiate(build);
    expect(exports.simd128()).toBe(build === 'simd' ? 1 : 0);
  });
});

/** What the package calls: ts/wasm/source.ts's REQUIRED_EXPORTS, and the memory and externref
 * table that ts/wasm/kernel.ts reads (the threads build imports its memory instead). */
const CALLED = ['alloc_f32:function', 'step:function', 'step_stats:function', 'grad_norm:function', 'scale_grads:function', 'clamp_grads:function', 'simd128:function', '__wbindgen_start:function', '__wbindgen_externrefs:table'];
/** What wasm-bindgen adds to every build, and to the threads build for its thread-local storage
 * and stacks (linked with --export=__tls_base etc. by scripts/build-wasm.sh). */
const BINDGEN = ['__abort_handler:global', '__instance_terminated:global'];
const EXPECTED_EXPORTS: Record<string, string[]> = {
  simd: [...CALLED, 'memory:memory', ...BINDGEN],
  plain: [...CALLED, 'memory:memory', ...BINDGEN],
  threads: [...CALLED, ...BINDGEN, '__tls_base:global', '__stack_alloc:global', '__wbindgen_thread_destroy:function'],
};

it.each(['simd', 'plain', 'threads'])('the %s build exports exactly what the package calls, and wasm-bindgen\'s own', async (build) => {
  const module = await WebAssembly.compile(bytes(build));
  expect(WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`).sort()).toEqual(EXPECTED_EXPORTS[build]!.sort());
});
