/**
 * The runtimes scripts/setup-runtimes.sh keeps in its cache folder (Node 20.0.0, 22, 24, Bun,
 * Deno, workerd), read from its manifest. A runtime that is not there comes with the reason, for
 * the test to print when it skips.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type RuntimeName = 'node20' | 'node22' | 'node24' | 'bun' | 'deno' | 'workerd';

export type Runtime = { bin: string; version: string; reason?: undefined } | { reason: string; bin?: undefined; version?: undefined };

/** The same folder as scripts/setup-runtimes.sh's. */
export const RUNTIMES_DIR = process.env.ADADELTA_RUNTIMES ?? join(homedir(), '.cache', 'adadelta-wasm', 'runtimes');

let manifest: Partial<Record<RuntimeName, Runtime>> | undefined;

export function runtime(name: RuntimeName): Runtime {
  const path = join(RUNTIMES_DIR, 'manifest.json');
  if (manifest === undefined) {
    if (!existsSync(path)) return { reason: `${path} is missing: run scripts/setup-runtimes.sh (pretest does)` };
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Partial<Record<RuntimeName, Runtime>>;
  }
  const found = manifest[name];
  if (found === undefined) return { reason: `${name} is not in ${path}` };
  if (found.bin !== undefined && !existsSync(found.bin)) return { reason: `${found.bin} (from ${path}) is missing: run scripts/setup-runtimes.sh` };
  return found;
}
