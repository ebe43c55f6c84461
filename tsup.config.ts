import { copyFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

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

export default defineConfig({
  entry: { index: 'ts/index.ts', tfjs: 'ts/tfjs/index.ts' },
  // An optional peer dependency: only the tfjs entry imports it, and never bundles it.
  external: ['@tensorflow/tfjs-core', 'adadelta-wasm'],
  esbuildPlugins: [tfjsImportsCoreAsPackage],
  format: ['esm', 'cjs'],
  dts: true,
  // No source maps: the tarball leaves them out, and a map comment pointing at nothing is noise.
  sourcemap: false,
  // No clean: tests may be reading dist/ while it is rebuilt. Files are overwritten in place.
  clean: false,
  target: 'es2022',
  platform: 'neutral',
  // Makes `import.meta.url` work in the CJS build, so the .wasm files are found next to it.
  shims: true,
  async onSuccess() {
    for (const build of ['simd', 'plain', 'threads']) {
      copyFileSync(`target/wasm/adadelta-${build}.wasm`, `dist/adadelta-${build}.wasm`);
    }
  },
});
