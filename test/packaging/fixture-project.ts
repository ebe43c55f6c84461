/**
 * The package as users get it: `npm pack` of the built package, and temporary consumer projects
 * (copies of fixtures/*) with the tarball installed by npm, outside this repository so nothing
 * resolves through the repo's own node_modules.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
