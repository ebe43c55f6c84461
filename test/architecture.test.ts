/**
 * The import rules of docs/architecture.md, checked on the sources: arrows point down, the
 * layers below the optimizer class do not know one another, adapters see only the public API
 * (and the checkpoint codec, which keeps no state of its own), and no module imports a Node built-in statically (the package must bundle for browsers and
 * workerd as it is).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TS = fileURLToPath(new URL('../ts/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : []));
}

/** Each module (path under ts/, posix) and what it imports: ts/ modules as paths, others as written. */
const graph = new Map(
  sources(TS).map((file) => {
    const from = relative(TS, file).split('\\').join('/');
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]!);
    const imports = specifiers.map((s) => (s.startsWith('.') ? posix.normalize(posix.join(posix.dirname(from), s)).replace(/\.js$/, '.ts') : s));
    return [from, imports] as const;
  }),
);

const layer = (module: string) => (module.includes('/') ? module.split('/')[0]! : 'core');

describe('the import rules of docs/architecture.md', () => {
  it('reads every module (the graph is not empty)', () => {
    expect(graph.get('adadelta.ts')).toContain('wasm/kernel.ts');
    expect(graph.get('tfjs/optimizer.ts')).toContain('index.ts');
    expect(graph.size).toBeGreaterThan(20);
  });

  it('arrows point down: only the entry imports the optimizer class, and nothing imports the entry but adapters', () => {
    for (const [module, imports] of graph) {
      if (module !== 'index.ts') expect(imports, module).not.toContain('adadelta.ts');
      if (layer(module) !== 'tfjs') expect(imports, module).not.toContain('index.ts');
    }
  });

  it('wasm/, state/ and threads/ know neither one another nor the layers above them, but threads/ runs the kernel\'s step and imports', () => {
    const above = ['adadelta.ts', 'groups.ts', 'stats.ts', 'index.ts', 'layout.ts', 'params.ts', 'dispose.ts', 'clip.ts'];
    // The worker runs these two by their source text; nothing else of wasm/ is the workers' business.
    const kernelAbi = ['wasm/step.ts', 'wasm/imports.ts', 'wasm/layout.ts'];
    for (const [module, imports] of graph) {
      const own = layer(module);
      if (!['wasm', 'state', 'threads'].includes(own)) continue;
      for (const target of imports.filter((t) => t.endsWith('.ts'))) {
        expect(above, `${module} imports ${target}`).not.toContain(target);
        const theirs = layer(target);
        if (own === 'threads' && kernelAbi.includes(target)) continue;
        if (['wasm', 'state', 'threads', 'tfjs'].includes(theirs)) expect(theirs, `${module} imports ${target}`).toBe(own);
      }
    }
  });

  it('the functions whose source text runs in the workers use nothing from outside', () => {
    // worker-source.ts embeds them with String(fn): an outside name would be undefined there.
    for (const [file, names] of [['threads/worker-main.ts', ['runWorker']], ['wasm/step.ts', ['RANGE_CALLS']], ['wasm/imports.ts', ['kernelImports']]] as const) {
      const values = graph.get(file)!.filter((t) => t.endsWith('.ts'));
      const text = readFileSync(join(TS, file), 'utf8');
      // Type-only imports are erased; any value import would be a name the worker lacks.
      expect(text.match(/^import (?!type )[^;]*;/gm) ?? [], `${file} imports ${values.join(', ')}`).toEqual([]);
      for (const name of names) expect(text).toMatch(new RegExp(`export ((async )?function ${name}\\(|const ${name} =)`));
    }
  });

  it('the tf.js adapter reaches the core only through its public entry and the checkpoint codec', () => {
    // The entry is one copy of the core (its bundle imports it as the package); the codec is
    // pure functions, so the copy its bundle carries holds no class or state of its own.
    const allowed = ['index.ts', 'state/checkpoint.ts'];
    for (const [module, imports] of graph) {
      if (layer(module) !== 'tfjs') continue;
      for (const target of imports.filter((t) => t.endsWith('.ts'))) {
        expect(layer(target) === 'tfjs' || allowed.includes(target), `${module} imports ${target}`).toBe(true);
      }
    }
  });

  it('the schedulers import only errors.ts and one another, and only the entry imports them', () => {
    const modules = [...graph.keys()].filter((m) => layer(m) === 'schedulers');
    expect(modules).toContain('schedulers/base.ts');
    for (const [module, imports] of graph) {
      for (const target of imports.filter((t) => t.endsWith('.ts'))) {
        if (layer(module) === 'schedulers') expect(layer(target) === 'schedulers' || target === 'errors.ts', `${module} imports ${target}`).toBe(true);
        else if (layer(target) === 'schedulers') expect(module, `${module} imports ${target}`).toBe('index.ts');
      }
    }
  });

  it('the safetensors codec knows nothing of Adadelta', () => {
    expect(graph.get('state/safetensors.ts')!.filter((t) => t.endsWith('.ts')).sort()).toEqual(['errors.ts', 'state/json-limits.ts']);
  });

  it("no module imports a Node built-in statically: node-builtin.ts is the one way in", () => {
    const builtin = /^(node:|fs$|path$|os$|url$|worker_threads$|vm$|v8$|module$)/;
    for (const [module, imports] of graph) {
      // The worker's own code is a string that runs in the worker, where bundlers never look.
      if (module === 'threads/worker-source.ts') continue;
      expect(imports.filter((s) => builtin.test(s)), module).toEqual([]);
    }
    const text = readFileSync(join(TS, 'node-builtin.ts'), 'utf8');
    expect(text).toMatch(/getBuiltinModule/);
  });
});
