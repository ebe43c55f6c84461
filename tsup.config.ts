import { copyFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

/**
 * The tf.js adapter (ts/tfjs/) imports the core as `../index.js`. In its bundle that import
 * becomes the package's own name, which Node and bundlers resolve through package.json
 * "exports": an app using both entry points then loads ONE copy of the core (one compile
 * cache, one AdadeltaError class), in ESM and CJS alike.
 */
const tfjsImportsCoreAsPackage = {
  name: 'tfjs-imports-core-as-package',
  setup(build: { onResolve(opts: { filter: RegExp }, cb: (args: { importer: string }) => { path: string; external: boolean } | undefined): void }) {
    build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
      /[\\/]ts[\\/]tfjs[\\/]/.test(args.importer) ? { path: 'adadelta-wasm', external: true } : undefined,
    );
  },
};

/**
 * Each entry point carries its kernels its own way; ts/wasm/bundled.ts (inlined base64) is the
 * default, and this swaps in `bundled-<variant>.ts` for the other entries. Their `.wasm`
 * imports stay imports of the files beside the bundle in dist/.
 */
function kernelsFrom(variant: 'slim' | 'workerd') {
  return {
    name: `kernels-from-${variant}`,
    setup(build: { onResolve(opts: { filter: RegExp }, cb: (args: { path: string; resolveDir: string }) => { path: string; external?: boolean }): void }) {
      build.onResolve({ filter: /^\.\/bundled\.js$/ }, (args) => ({ path: `${args.resolveDir}/bundled-${variant}.ts` }));
      build.onResolve({ filter: /^\.\/adadelta-(simd|plain|threads)\.wasm$/ }, (args) => ({ path: args.path, external: true }));
    },
  };
}

const common: Options = {
  // An optional peer dependency: only the tfjs entry imports it, and never bundles it.
  external: ['@tensorflow/tfjs-core', 'adadelta-wasm'],
  format: ['esm', 'cjs'],
  // Members marked `/** @internal */` (a constructor only the optimizer calls, test seams) are
  // left out of the published declarations; test/packaging checks that none is there.
  dts: { compilerOptions: { stripInternal: true } },
  // No source maps: the tarball leaves them out, and a map comment pointing at nothing is noise.
  sourcemap: false,
  // No clean: tests may be reading dist/ while it is rebuilt. Files are overwritten in place.
  clean: false,
  target: 'es2022',
  platform: 'neutral',
};

export default defineConfig([
  {
    ...common,
    // The default entry: kernels inlined as base64 (ts/wasm/bundled.ts).
    entry: { index: 'ts/index.ts' },
    loader: { '.wasm': 'base64' },
    async onSuccess() {
      for (const build of ['simd', 'plain', 'threads']) {
        copyFileSync(`target/wasm/adadelta-${build}.wasm`, `dist/adadelta-${build}.wasm`);
      }
    },
  },
  // `adadelta-wasm/tfjs`, built on its own: built beside the default entry, the two would share
  // chunks (the checkpoint codec, which the adapter imports) under hashed names, and clean: false
  // would leave every old one in dist/ to be packed. Its declarations carry the few core types
  // they use.
  { ...common, entry: { tfjs: 'ts/tfjs/index.ts' }, esbuildPlugins: [tfjsImportsCoreAsPackage] },
  // `adadelta-wasm/slim`: no wasm bytes in the bundle; the .wasm files beside it.
  { ...common, entry: { slim: 'ts/index.ts' }, esbuildPlugins: [kernelsFrom('slim')] },
  // The `workerd` condition (Cloudflare Workers): kernels imported as wasm modules. ESM only,
  // and the types are the default entry's.
  { ...common, entry: { workerd: 'ts/index.ts' }, format: ['esm'], dts: false, esbuildPlugins: [kernelsFrom('workerd')] },
]);
