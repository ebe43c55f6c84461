import { copyFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'ts/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // Makes `import.meta.url` work in the CJS build, so the .wasm files are found next to it.
  shims: true,
  async onSuccess() {
    for (const build of ['simd', 'plain']) {
      copyFileSync(`target/wasm/adadelta-${build}.wasm`, `dist/adadelta-${build}.wasm`);
    }
  },
});
