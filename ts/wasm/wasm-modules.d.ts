// `import x from '….wasm'`: a base64 string under tsup's base64 loader (bundled.ts), a
// WebAssembly.Module under workerd (bundled-workerd.ts). Each importer says which.
declare module '*.wasm' {
  const value: unknown;
  export default value;
}
