/**
 * Every ```js block of README.md runs as written, against the built package: imports of
 * 'adadelta-wasm' (and its subpaths, through package.json's `exports`) are pointed at dist/,
 * the block is written to a temp file and run with node. Output a block claims in a trailing
 * comment on a console.log line (`// w = 3.000, b = -2.000`) must be what it prints, and a
 * resume that claims to be bit-identical to training without stopping
 * (`train(resumed, 1500); // bit-identical to 2000 epochs without stopping`) is compared, byte
 * for byte, with a run that never stopped. ```ts, ```sh and other blocks are not run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  name: string;
  exports: Record<string, { import: { default: string }; require: { default: string } } | string>;
};
const blocks = [...readme.matchAll(/^```js[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)].map((m, i) => {
  const line = readme.slice(0, m.index).split('\n').length;
  return { name: `block ${i + 1} (README.md line ${line})`, code: m[1]! };
});

// Inside the repo's node_modules, so that other packages a block imports (the dev dependencies,
// such as @tensorflow/tfjs) resolve as they would for a user who installed them.
const cacheDir = fileURLToPath(new URL('node_modules/.cache/', root));
mkdirSync(cacheDir, { recursive: true });
const dir = mkdtempSync(join(cacheDir, 'adadelta-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Where `adadelta-wasm[/sub]` resolves for import or require, per package.json `exports`. */
function resolveOwn(specifier: string, kind: 'import' | 'require'): string {
  const sub = '.' + specifier.slice(pkg.name.length);
  const entry = pkg.exports[sub];
  if (entry === undefined) throw new Error(`README imports ${specifier}, which package.json does not export`);
  const target = typeof entry === 'string' ? entry : entry[kind].default;
  const url = new URL(target, root);
  return kind === 'import' ? url.href : fileURLToPath(url);
}

/** The block as a runnable file: ESM unless it only uses require(). */
function runnable(code: string): { file: string; source: string } {
  const commonJs = /\brequire\(/.test(code) && !/^\s*import\b/m.test(code);
  const own = new RegExp(`(['"])(${pkg.name}(?:/[\\w./-]+)?)\\1`, 'g');
  const source = code.replace(own, (_m, _q, specifier: string) => JSON.stringify(resolveOwn(specifier, commonJs ? 'require' : 'import')));
  return { file: commonJs ? 'block.cjs' : 'block.mjs', source };
}

/** `name = number` pairs in a piece of text. */
function pairs(text: string): Map<string, number> {
  return new Map([...text.matchAll(/\b([A-Za-z_$][\w$]*) = (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)/g)].map((m) => [m[1]!, Number(m[2])]));
}

/** What the block says it prints: `name = number` pairs in trailing comments of console.log lines. */
function claims(code: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of code.split('\n')) {
    const m = /console\.log\(.*\/\/(.*)$/.exec(line);
    if (m) for (const [k, v] of pairs(m[1]!)) out.set(k, v);
  }
  return out;
}

/**
 * The block's "bit-identical to N epochs without stopping" claims, each turned into a check
 * inserted after its line: a fresh optimizer made as the block's first one was, trained N epochs
 * with the same function, must have the same param bytes and the same saveState() bytes. It
 * prints `bitIdentical = 1` when they match.
 */
function withResumeChecks(code: string): { code: string; claims: Map<string, number> } {
  const claims = new Map<string, number>();
  const created = /^const (\w+) = await (Adadelta\.create\(.*\));$/m.exec(code);
  const lines = code.split('\n').flatMap((line) => {
    const m = /^(\w+)\((\w+), \d+\); \/\/ bit-identical to (\d+) epochs without stopping$/.exec(line);
    if (!m) return [line];
    if (!created) throw new Error(`a bit-identical claim, but no "const opt = await Adadelta.create(...)" to repeat: ${line}`);
    const [, train, resumed, epochs] = m;
    claims.set('bitIdentical', 1);
    return [
      line,
      `{ const straight = await ${created[2]}; ${train}(straight, ${epochs});`,
      `  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);`,
      `  const bytes = (o) => o.params.map((p) => new Uint8Array(p.data.slice().buffer));`,
      `  const ok = same(straight.saveState(), ${resumed}.saveState()) && bytes(straight).every((b, i) => same(b, bytes(${resumed})[i]));`,
      `  console.log(\`bitIdentical = \${Number(ok)}\`); straight.dispose(); }`,
    ];
  });
  return { code: lines.join('\n'), claims };
}

describe('README', () => {
  it('has js blocks, among them the training loop that claims w = 3, b = -2', () => {
    expect(blocks.length).toBeGreaterThan(0);
    const loop = blocks.find((b) => claims(b.code).has('w'));
    expect(loop, 'a block whose console.log claims w = ...').toBeDefined();
    expect(claims(loop!.code)).toEqual(new Map([['w', 3], ['b', -2]]));
  });

  it('has the checkpoint block, whose resume claims to be bit-identical to 2000 epochs without stopping', () => {
    const resume = blocks.filter((b) => withResumeChecks(b.code).claims.has('bitIdentical'));
    expect(resume).toHaveLength(1);
    expect(claims(resume[0]!.code)).toEqual(new Map([['step', 2000]]));
  });

  it.each(blocks.map((b) => [b.name, b] as const))('%s runs as written with node and prints what it claims', (name, block) => {
    const checked = withResumeChecks(block.code);
    const { file, source } = runnable(checked.code);
    const sub = mkdtempSync(join(dir, 'block-'));
    const path = join(sub, file);
    writeFileSync(path, source);
    const run = spawnSync(process.execPath, [path], { cwd: sub, encoding: 'utf8', timeout: 120_000 });
    expect(run.status, `${name} exited with ${run.status}:\n${run.stderr}`).toBe(0);
    const printed = pairs(run.stdout);
    for (const [key, claimed] of [...claims(block.code), ...checked.claims]) {
      expect(printed.has(key), `${name} prints ${key} (stdout: ${run.stdout})`).toBe(true);
      // Both are the displayed (rounded) values, so they must be equal.
      expect(printed.get(key), `${name}: ${key} printed (stdout: ${run.stdout})`).toBe(claimed);
    }
  });
});
