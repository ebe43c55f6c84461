/**
 * A Node built-in module, or undefined outside Node. Through `process.getBuiltinModule` where
 * it exists (Node 20.16+), else an import with a computed specifier, which bundlers leave alone
 * (Node 20.0-20.15). Never a static import: the package must bundle for browsers as it is.
 */
export async function nodeBuiltin(id: string): Promise<unknown> {
  const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
  if (proc?.versions?.node === undefined) return undefined;
  if (proc.getBuiltinModule !== undefined) return proc.getBuiltinModule(id);
  return import(/* webpackIgnore: true */ /* @vite-ignore */ id);
}
