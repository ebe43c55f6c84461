/**
 * Each bundler, with no configuration beyond what its docs' quick start shows, bundling the
 * bundler-app fixture (which has the tarball installed) with the repo's own copy of the bundler.
 * Every function writes to <app>/out/<name>/ and returns that folder, with an index.html that
 * loads the bundle (the module page, or classic.html for a classic script), ready to serve.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './fixture-project.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const VITE = join(REPO, 'node_modules', 'vite', 'bin', 'vite.js');

/** A bundler's name and version, for the matrix table. */
export async function bundlerVersion(name: 'esbuild' | 'rollup' | 'webpack' | 'vite' | 'parcel'): Promise<string> {
  const { createRequire } = await import('node:module');
  const pkg = createRequire(import.meta.url)(`${name}/package.json`) as { version: string };
  return `${name} ${pkg.version}`;
}

function outDir(app: string, name: string, page: 'index.html' | 'classic.html' | undefined): string {
  const out = join(app, 'out', name);
  mkdirSync(out, { recursive: true });
  if (page !== undefined) copyFileSync(join(app, page), join(out, 'index.html'));
  return out;
}

/** `esbuild main.js --bundle --format=esm|iife` for the browser (esbuild's default platform). */
export async function esbuildPage(app: string, format: 'esm' | 'iife'): Promise<string> {
  const { build } = await import('esbuild');
  const out = outDir(app, `esbuild-${format}`, format === 'esm' ? 'index.html' : 'classic.html');
  await build({ absWorkingDir: app, entryPoints: ['main.js'], bundle: true, format, outdir: out, logLevel: 'silent' });
  return out;
}

/** `esbuild node-main.mjs --bundle --platform=node --format=cjs`: one CommonJS file for Node. */
export async function esbuildNode(app: string): Promise<string> {
  const { build } = await import('esbuild');
  const file = join(outDir(app, 'esbuild-node', undefined), 'main.cjs');
  await build({ absWorkingDir: app, entryPoints: ['node-main.mjs'], bundle: true, platform: 'node', format: 'cjs', outfile: file, logLevel: 'silent' });
  return file;
}

/** Rollup 4 + @rollup/plugin-node-resolve (browser), one ES output file: the common set-up. */
export async function rollupPage(app: string): Promise<string> {
  const { rollup } = await import('rollup');
  const { nodeResolve } = await import('@rollup/plugin-node-resolve');
  const out = outDir(app, 'rollup', 'index.html');
  const bundle = await rollup({ input: join(app, 'main.js'), plugins: [nodeResolve({ browser: true })], logLevel: 'silent' });
  try {
    await bundle.write({ file: join(out, 'main.js'), format: 'es' });
  } finally {
    await bundle.close();
  }
  return out;
}

/** webpack 5, production mode, target web: `entry` is main.js (import) or main-require.cjs (require). */
export async function webpackPage(app: string, entry: 'main.js' | 'main-require.cjs'): Promise<string> {
  const { default: webpack } = await import('webpack');
  const out = outDir(app, `webpack-${entry.replace(/\W/g, '-')}`, 'classic.html');
  await new Promise<void>((resolve, reject) => {
    webpack({ mode: 'production', context: app, entry: `./${entry}`, output: { path: out, filename: 'main.js' }, target: 'web', devtool: false }, (err, stats) => {
      if (err) reject(err);
      else if (stats?.hasErrors()) reject(new Error(stats.toString({ all: false, errors: true })));
      else resolve();
    });
  });
  return out;
}

/** `bun build main.js --target=browser` (the CLI of Bun.build). */
export async function bunBuildPage(app: string, bun: string): Promise<string> {
  const out = outDir(app, 'bun-build', 'index.html');
  await run(bun, ['build', './main.js', '--target=browser', '--format=esm', `--outdir=${out}`], { cwd: app });
  return out;
}

/** `parcel build index.html`: Parcel builds from the page itself. */
export async function parcelPage(app: string): Promise<string> {
  const out = join(app, 'out', 'parcel');
  const parcel = join(REPO, 'node_modules', 'parcel', 'lib', 'bin.js');
  await run(process.execPath, [parcel, 'build', 'index.html', '--dist-dir', out, '--cache-dir', join(app, 'out', 'parcel-cache'), '--public-url', './', '--no-source-maps', '--log-level', 'warn'], { cwd: app });
  return out;
}

/** `vite build`: the app's dist/ folder. */
export async function viteBuild(app: string): Promise<string> {
  await run(process.execPath, [VITE, 'build', '--logLevel', 'warn'], { cwd: app });
  return join(app, 'dist');
}

/** A port nobody listens on at the moment, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Started {
  origin: string;
  /** Stops the process (the one this module started, by its pid). */
  stop(): Promise<void>;
}

/**
 * Starts `command` and waits until `isUp(origin)` answers true; a process that exits first, or
 * takes more than 60 s, fails with its output.
 */
export async function startServer(command: string, args: string[], cwd: string, port: number, isUp: (origin: string) => Promise<boolean>): Promise<Started> {
  const origin = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited with ${child.exitCode}:\n${output}`);
    if (await isUp(origin).catch(() => false)) return { origin, stop };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`${command} ${args.join(' ')} did not answer on ${origin} within 60 s:\n${output}`);
}

/** `vite` (the dev server) on 127.0.0.1 and a free port, serving the app's index.html. */
export async function viteDev(app: string): Promise<Started> {
  const port = await freePort();
  return startServer(process.execPath, [VITE, '--host', '127.0.0.1', '--port', String(port), '--strictPort', '--logLevel', 'warn'], app, port, async (origin) => (await fetch(origin)).ok);
}
