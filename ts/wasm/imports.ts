/**
 * The imports a kernel instance needs. wasm-bindgen's generated JS is a singleton (one
 * module-level instance), but we want an instance per optimizer and per worker, so we
 * instantiate the `_bg.wasm` ourselves and provide the few imports its glue would. Any import
 * we do not know fails loudly at creation; test/wasm-build.test.ts pins the list.
 *
 * Self-contained (no outside names): the workers run this function's source text as it is
 * (threads/worker-source.ts), so the main thread and the workers build their imports alike.
 */
export function kernelImports(
  module: WebAssembly.Module,
  self: { exports?: { readonly __wbindgen_externrefs: WebAssembly.Table } },
  memory: WebAssembly.Memory | undefined,
  unknownImport: (description: string) => never,
): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    let value: WebAssembly.ImportValue;
    if (name === '__wbindgen_init_externref_table' && kind === 'function') {
      // What wasm-bindgen's glue does: reserve the well-known externref slots.
      value = () => {
        const table = self.exports!.__wbindgen_externrefs;
        table.set(0, undefined);
        table.set(1024, undefined);
        table.set(1025, null);
        table.set(1026, true);
        table.set(1027, false);
      };
    } else if (kind === 'memory' && memory !== undefined) {
      // The threads build links with --import-memory: every thread's instance shares one memory.
      value = memory;
    } else {
      unknownImport(`${from}.${name} (${kind})`);
    }
    (imports[from] ??= {})[name] = value;
  }
  return imports;
}
