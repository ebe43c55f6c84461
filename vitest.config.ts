import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Each file gets its own worker; wasm memories of big-memory tests do not pile up.
    pool: 'forks',
  },
});
