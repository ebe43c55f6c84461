import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    {
      // Tests that import ts/ from source (to reach internal seams such as ts/threads/hooks.ts)
      // load the kernels as tsup's `base64` loader does for the default entry (ts/wasm/bundled.ts).
      name: 'wasm-as-base64',
      enforce: 'pre',
      load(id) {
        if (!id.endsWith('.wasm')) return undefined;
        return `export default ${JSON.stringify(readFileSync(id).toString('base64'))};`;
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Each file gets its own worker; wasm memories of big-memory tests do not pile up.
    pool: 'forks',
  },
});
