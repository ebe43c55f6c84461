/**
 * The package as users get it: `npm pack` of the built package, and temporary consumer projects
 * (copies of fixtures/*) with the tarball installed by npm, outside this repository so nothing
 * resolves through the repo's own node_modules.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** execFile as a promise; a failure's message carries the command's stdout and stderr. */
export async function run(file: string, args: string[], options: { cwd?: string; maxBuffer?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(file, args, { maxBuffer: 1 << 24, ...options });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    err.message += `\n--- stdout ---\n${err.stdout ?? ''}\n--- stderr ---\n${err.stderr ?? ''}`;
    throw err;
  }
}
const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));
const SHARED = join(FIXTURES, 'shared', 'training-loop.mjs');

export interface Packed {
  tarball: string;
  /** Bytes of the .tgz. */
  size: number;
  files: { path: string; size: number }[];
}

/** Packs the repo (already built by pretest; scripts are skipped so pack does not rebuild). */
export async function pack(repo: string, into: string): Promise<Packed> {
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into], { cwd: repo });
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string; size: number }[] }[];
  const tarball = join(into, info!.filename);
  return { tarball, size: statSync(tarball).size, files: info!.files };
}

/** Fixture sources named `*.template` are stored so the repo's own typecheck skips them. */
function dropTemplateSuffixes(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) dropTemplateSuffixes(path);
    else if (entry.name.endsWith('.template')) renameSync(path, path.slice(0, -'.template'.length));
  }
}

/** Copies fixtures/<name> (plus the shared training loop) to <root>/<name> and installs the tarball there. */
export async function installFixture(name: string, root: string, tarball: string): Promise<string> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  cpSync(SHARED, join(dir, 'training-loop.mjs'));
  dropTemplateSuffixes(dir);
  // The package has no dependencies, so this works offline.
  await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--offline', '--no-package-lock', '--ignore-scripts'], { cwd: dir });
  return dir;
}

/** The file a browser's `import` of the package's `subpath` gets through its "exports" (conditions browser, import, default). */
export function browserExport(packageDir: string, subpath: string): string | undefined {
  const { exports } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { exports?: unknown };
  const pick = (target: unknown): string | undefined => {
    if (typeof target === 'string') return target;
    if (target === null || typeof target !== 'object') return undefined;
    // An object's key order is its conditions' priority.
    for (const [condition, inner] of Object.entries(target)) {
      const found = ['browser', 'import', 'default'].includes(condition) ? pick(inner) : undefined;
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const bySubpath = typeof exports === 'object' && exports !== null && Object.keys(exports).every((k) => k.startsWith('.')) ? (exports as Record<string, unknown>) : { '.': exports };
  return pick(bySubpath[subpath]);
}

/**
 * Writes the import-map fixture's pages from its page.html: index.html maps the package to its
 * default browser entry, slim.html to the `/slim` entry (the default one where there is none).
 * Returns the slim entry's folder in the package (where it fetches its .wasm from), as a URL path.
 */
export function writeImportMapPages(dir: string): string {
  const pkg = join(dir, 'node_modules', 'adadelta-wasm');
  const template = readFileSync(join(dir, 'page.html'), 'utf8');
  const main = browserExport(pkg, '.');
  if (main === undefined) throw new Error(`${pkg}/package.json exports nothing to a browser import`);
  const slim = browserExport(pkg, './slim') ?? main;
  writeFileSync(join(dir, 'index.html'), template.replace('%ENTRY%', main.replace(/^\.\//, '')));
  writeFileSync(join(dir, 'slim.html'), template.replace('%ENTRY%', slim.replace(/^\.\//, '')));
  return `/node_modules/adadelta-wasm/${posix.dirname(slim.replace(/^\.\//, ''))}`;
}
